"""What the distributions over binary trials (Bernoulli, Binomial, Geometric) share.

Each is given either ``probs`` or ``logits`` of a success; the other is derived on first use.
"""

from __future__ import annotations

import ctorch

from .utils import lazy_property, logits_to_probs, probs_to_logits


class BinaryTrialParams:
    """Mixin: ``probs`` and ``logits`` (binary), each computed lazily from the other."""

    def _set_probs_or_logits(self, probs, logits, total_count=None):
        """Set exactly one of ``probs``/``logits`` (broadcast, with ``total_count`` when
        given, as that dtype); returns the one given (the batch shape's source)."""
        from .utils import broadcast_all

        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        if total_count is None:
            (param,) = broadcast_all(value)
        else:
            count, param = broadcast_all(total_count, value)
            self.total_count = count.type_as(param)
        setattr(self, name, param)
        return param

    @lazy_property
    def logits(self) -> ctorch.Tensor:  # type: ignore[override]
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> ctorch.Tensor:  # type: ignore[override]
        return logits_to_probs(self.logits, is_binary=True)

    def _expand_probs_or_logits(self, cls: type, new, batch_shape, *, track_param: bool):
        """The end of ``expand``: expands the given one of probs/logits into ``new`` (and
        ``new._param`` with ``track_param``), initialises ``new`` as ``cls`` without validation."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                if track_param:
                    new._param = getattr(new, name)
        super(cls, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new
