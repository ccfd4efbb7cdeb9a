from __future__ import annotations

import math

import ctorch

from . import constraints
from .distribution import Distribution

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Generalized Pareto with ``loc``, positive ``scale`` and real ``concentration`` (xi):
    Exponential when xi = 0, Pareto-like when xi > 0, bounded above by loc - scale / xi when
    xi < 0 (the support depends on the parameters)."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None) -> None:
        self._init_broadcast(validate_args, loc=loc, scale=scale, concentration=concentration)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(
            GeneralizedPareto, ("loc", "scale", "concentration"), batch_shape, _instance
        )

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        u = ctorch.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe_concentration(self):
        eq_zero = ctorch.isclose(self.concentration, ctorch.zeros_like(self.concentration))
        safe = ctorch.where(eq_zero, ctorch.ones_like(self.concentration), self.concentration)
        return eq_zero, safe

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ctorch.ones_like(z)
        where_nonzero = ctorch.where(y == 0, y, y * ctorch.log1p(safe_conc * z))
        return -self.scale.log() - ctorch.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ctorch.log1p(safe_conc * z) / safe_conc
        return ctorch.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value) -> ctorch.Tensor:
        return ctorch.log1p(-ctorch.exp(self.log_survival_function(value)))

    def cdf(self, value) -> ctorch.Tensor:
        return ctorch.exp(self.log_cdf(value))

    def icdf(self, value) -> ctorch.Tensor:
        eq_zero, safe_conc = self._safe_concentration()
        logu = ctorch.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ctorch.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return ctorch.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self) -> ctorch.Tensor:
        valid = self.concentration < 1
        safe_conc = ctorch.where(valid, self.concentration, 0.5)
        result = self.loc + self.scale / (1 - safe_conc)
        return ctorch.where(valid, result, math.nan)

    @property
    def variance(self) -> ctorch.Tensor:
        valid = self.concentration < 0.5
        safe_conc = ctorch.where(valid, self.concentration, 0.25)
        result = self.scale**2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ctorch.where(valid, result, math.nan)

    def entropy(self) -> ctorch.Tensor:
        ans = ctorch.log(self.scale) + self.concentration + 1
        return ans.expand(tuple(self._batch_shape))

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ctorch.where(
            self.concentration < 0, lower - self.scale / self.concentration, math.inf
        )
        return constraints.interval(lower, upper)
