"""The circular von Mises distribution (torch.distributions.VonMises): log_prob with torch's
polynomial approximation of log I0 / log I1, and Best & Fisher's rejection sampler run in
float64 (values in [-pi, pi))."""

from __future__ import annotations

import math

import ctorch

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


def _eval_poly(y, coef):
    coef = list(coef)
    result = coef.pop()
    while coef:
        result = coef.pop() + y * result
    return result


_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [
    0.39894228,
    0.1328592e-1,
    0.225319e-2,
    -0.157565e-2,
    0.916281e-2,
    -0.2057706e-1,
    0.2635537e-1,
    -0.1647633e-1,
    0.392377e-2,
]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_COEF_LARGE = [
    0.39894228,
    -0.3988024e-1,
    -0.362018e-2,
    0.163801e-2,
    -0.1031555e-1,
    0.2282967e-1,
    -0.2895312e-1,
    0.1787654e-1,
    -0.420059e-2,
]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _log_modified_bessel_fn(x, order: int = 0):
    """log(I_order(x)) for x > 0, order 0 or 1 (torch's approximation, relative error ~1e-7)."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = x / 3.75
    y = y * y
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    y = 3.75 / x
    large = x - 0.5 * x.log() + _eval_poly(y, _COEF_LARGE[order]).log()
    return ctorch.where(x < 3.75, small, large)


def _rejection_sample(loc, concentration, proposal_r, x):
    done = ctorch.zeros(tuple(x.shape), dtype=ctorch.bool, device=loc.device)
    while not bool(done.all()):
        u = ctorch.rand((3,) + tuple(x.shape), dtype=loc.dtype, device=loc.device)
        u1, u2, u3 = u.unbind()
        z = ctorch.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        if bool(accept.any()):
            x = ctorch.where(accept, (u3 - 0.5).sign() * f.acos(), x)
            done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """Circular von Mises with ``loc`` (an angle, any real) and positive ``concentration``.

    ``sample`` uses Best & Fisher's (1979) rejection sampler in float64 (as torch, which does
    so to avoid a hang for tiny concentrations in float32); ``mean`` and ``variance`` are the
    circular ones."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, ctorch.Size(), validate_args)

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * ctorch.cos(value - self.loc)
        return (
            log_prob - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)
        )

    @lazy_property
    def _loc(self) -> ctorch.Tensor:
        return self.loc.to(ctorch.float64)

    @lazy_property
    def _concentration(self) -> ctorch.Tensor:
        return self.concentration.to(ctorch.float64)

    @lazy_property
    def _proposal_r(self) -> ctorch.Tensor:
        kappa = self._concentration
        tau = 1 + (1 + 4 * kappa**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        _proposal_r = (1 + rho**2) / (2 * rho)
        # second order Taylor expansion around 0 for small kappa
        _proposal_r_taylor = 1 / kappa + kappa
        return ctorch.where(kappa < 1e-5, _proposal_r_taylor, _proposal_r)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        with ctorch.no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            x = ctorch.zeros(shape, dtype=ctorch.float64, device=self.loc.device)
            loc = self._loc.detach()
            conc = self._concentration.detach()
            r = self._proposal_r.detach()
            return _rejection_sample(loc, conc, r, x).to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        try:
            return super().expand(batch_shape)
        except NotImplementedError:
            validate_args = self.__dict__.get("_validate_args")
            loc = self.loc.expand(tuple(batch_shape))
            concentration = self.concentration.expand(tuple(batch_shape))
            return type(self)(loc, concentration, validate_args=validate_args)

    @property
    def mean(self) -> ctorch.Tensor:
        """The circular mean."""
        return self.loc

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> ctorch.Tensor:  # type: ignore[override]
        """The circular variance."""
        return (
            1
            - (
                _log_modified_bessel_fn(self.concentration, order=1)
                - _log_modified_bessel_fn(self.concentration, order=0)
            ).exp()
        )
