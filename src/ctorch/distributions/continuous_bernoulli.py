from __future__ import annotations

import math
from numbers import Number

import ctorch
import ctorch.nn.functional as F

from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli on [0, 1] (Loaiza-Ganem & Cunningham, 2019), given ``probs``
    in (0, 1) or real ``logits`` (not both); ``probs`` is not a probability here.  Near
    probs = 1/2 (``lims``) the normaliser, mean, variance and cdf use Taylor expansions, as
    torch's do; ``rsample`` is the inverse cdf of a uniform draw."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(
        self, probs=None, logits=None, lims=(0.499, 0.501), validate_args: bool | None = None
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            # validate 'probs' here if necessary as it is later clamped for numerical stability
            # close to 0 and 1, later on; otherwise the clamped 'probs' would always pass
            if validate_args is not None:
                if not bool(self.arg_constraints["probs"].check(self.probs).all()):
                    raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = ctorch.Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = ctorch.Size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(tuple(batch_shape))
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(tuple(batch_shape))
            new._param = new.logits
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    def _outside_unstable_region(self):
        return ctorch.le(self.probs, self._lims[0]) | ctorch.gt(self.probs, self._lims[1])

    def _cut_probs(self):
        return ctorch.where(
            self._outside_unstable_region(),
            self.probs,
            self._lims[0] * ctorch.ones_like(self.probs),
        )

    def _cont_bern_log_norm(self):
        """The log normalising constant as a function of ``probs``."""
        cut_probs = self._cut_probs()
        cut_probs_below_half = ctorch.where(
            ctorch.le(cut_probs, 0.5), cut_probs, ctorch.zeros_like(cut_probs)
        )
        cut_probs_above_half = ctorch.where(
            ctorch.ge(cut_probs, 0.5), cut_probs, ctorch.ones_like(cut_probs)
        )
        log_norm = ctorch.log(
            ctorch.abs(ctorch.log1p(-cut_probs) - ctorch.log(cut_probs))
        ) - ctorch.where(
            ctorch.le(cut_probs, 0.5),
            ctorch.log1p(-2.0 * cut_probs_below_half),
            ctorch.log(2.0 * cut_probs_above_half - 1.0),
        )
        x = ctorch.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ctorch.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> ctorch.Tensor:
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (
            ctorch.log1p(-cut_probs) - ctorch.log(cut_probs)
        )
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * ctorch.pow(x, 2)) * x
        return ctorch.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> ctorch.Tensor:
        return ctorch.sqrt(self.variance)

    @property
    def variance(self) -> ctorch.Tensor:
        cut_probs = self._cut_probs()
        vars = cut_probs * (cut_probs - 1.0) / ctorch.pow(1.0 - 2.0 * cut_probs, 2) + 1.0 / (
            ctorch.pow(ctorch.log1p(-cut_probs) - ctorch.log(cut_probs), 2)
        )
        x = ctorch.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ctorch.where(self._outside_unstable_region(), vars, taylor)

    @lazy_property
    def logits(self) -> ctorch.Tensor:  # type: ignore[override]
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> ctorch.Tensor:  # type: ignore[override]
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> ctorch.Size:
        return self._param.size()

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        u = ctorch.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        with ctorch.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        u = ctorch.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -BCE-with-logits(logits, value) = value * logits - softplus(logits)
        return value * logits - F.softplus(logits) + self._cont_bern_log_norm()

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (
            ctorch.pow(cut_probs, value) * ctorch.pow(1.0 - cut_probs, 1.0 - value)
            + cut_probs
            - 1.0
        ) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = ctorch.where(self._outside_unstable_region(), cdfs, value)
        return ctorch.where(
            ctorch.le(value, 0.0),
            ctorch.zeros_like(value),
            ctorch.where(ctorch.ge(value, 1.0), ctorch.ones_like(value), unbounded_cdfs),
        )

    def icdf(self, value) -> ctorch.Tensor:
        cut_probs = self._cut_probs()
        return ctorch.where(
            self._outside_unstable_region(),
            (ctorch.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0)) - ctorch.log1p(-cut_probs))
            / (ctorch.log(cut_probs) - ctorch.log1p(-cut_probs)),
            value,
        )

    def entropy(self) -> ctorch.Tensor:
        log_probs0 = ctorch.log1p(-self.probs)
        log_probs1 = ctorch.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """The log normalising constant as a function of the natural parameter."""
        out_unst_reg = ctorch.le(x, self._lims[0] - 0.5) | ctorch.gt(x, self._lims[1] - 0.5)
        cut_nat_params = ctorch.where(out_unst_reg, x, (self._lims[0] - 0.5) * ctorch.ones_like(x))
        log_norm = ctorch.log(ctorch.abs(ctorch.expm1(cut_nat_params))) - ctorch.log(
            ctorch.abs(cut_nat_params)
        )
        taylor = 0.5 * x + ctorch.pow(x, 2) / 24.0 - ctorch.pow(x, 4) / 2880.0
        return ctorch.where(out_unst_reg, log_norm, taylor)
