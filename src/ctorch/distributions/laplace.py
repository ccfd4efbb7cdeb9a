from __future__ import annotations

from numbers import Number

import ctorch

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace distribution with location ``loc`` and scale ``scale``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    @property
    def mean(self) -> ctorch.Tensor:
        return self.loc

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc

    @property
    def variance(self) -> ctorch.Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> ctorch.Tensor:
        return (2**0.5) * self.scale

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = ctorch.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Laplace, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        super(Laplace, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

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
