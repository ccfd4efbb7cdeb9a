"""``ExponentialFamily``: the base of the families whose density is
exp(<t(x), theta> - F(theta) + k(x)) (torch.distributions.ExponentialFamily).  From the
natural parameters theta and the log normaliser F it gives ``entropy`` and, for two members
of one family, the KL divergence, as Bregman divergences computed with autograd."""

from __future__ import annotations

import ctorch

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A family with ``_natural_params``, ``_log_normalizer`` and ``_mean_carrier_measure``
    (E[k(x)]); ``entropy`` is F(theta) - <theta, grad F(theta)> - E[k(x)]."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self) -> ctorch.Tensor:
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ctorch.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients, strict=True):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
