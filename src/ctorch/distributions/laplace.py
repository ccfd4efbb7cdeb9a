from __future__ import annotations

import ctorch

from ._loc_scale import _LocScale

__all__ = ["Laplace"]


class Laplace(_LocScale):
    """Laplace distribution with location ``loc`` and scale ``scale``."""

    @property
    def variance(self) -> ctorch.Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> ctorch.Tensor:
        return (2**0.5) * self.scale

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Laplace, ("loc", "scale"), batch_shape, _instance)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = self._extended_shape(sample_shape)
        finfo = ctorch.finfo(self.loc.dtype)
        u = ctorch.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        u = u * (2.0 - finfo.eps) + (finfo.eps - 1)  # uniform on [eps - 1, 1)
        return self.loc - self.scale * u.sign() * ctorch.log1p(-u.abs())

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -ctorch.log(2 * self.scale) - ctorch.abs(value - self.loc) / self.scale

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * ctorch.expm1(
            -(value - self.loc).abs() / self.scale
        )

    def icdf(self, value) -> ctorch.Tensor:
        term = value - 0.5
        return self.loc - self.scale * (term).sign() * ctorch.log1p(-2 * term.abs())

    def entropy(self) -> ctorch.Tensor:
        return 1 + ctorch.log(2 * self.scale)
