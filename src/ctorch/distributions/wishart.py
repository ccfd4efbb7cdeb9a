from __future__ import annotations

import math
from numbers import Number

import ctorch

from .. import _warnings
from . import constraints
from ._special import cholesky, digamma, inverse, lgamma, solve_lower
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .utils import lazy_property, vec_to_tril_matrix

__all__ = ["Wishart"]

_log_2 = math.log(2)


def _mvlgamma(x, p: int):
    """The multivariate log-gamma function log Gamma_p(x) (as torch.mvlgamma)."""
    j = ctorch.arange(p, dtype=x.dtype, device=x.device) / 2
    return p * (p - 1) / 4 * math.log(math.pi) + lgamma(x.unsqueeze(-1) - j).sum(-1)


def _mvdigamma(x, p: int):
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    j = ctorch.arange(p, dtype=x.dtype, device=x.device) / 2
    return digamma(x.unsqueeze(-1) - j.expand(tuple(x.shape) + (-1,))).sum(-1)


def _clamp_above_eps(x):
    return x.clamp(min=ctorch.finfo(x.dtype).eps)


def _logabsdet(value):
    return ctorch.linalg.slogdet(value)[1]


class Wishart(ExponentialFamily):
    """Wishart over positive-definite p x p matrices with ``df`` > p - 1 degrees of freedom and
    exactly one of ``covariance_matrix``, ``precision_matrix`` or ``scale_tril`` (the scale).

    ``rsample`` is the Bartlett decomposition (differentiable in the scale and, through the
    chi-squared draws, in ``df``); a singular draw (possible when p - 1 < df < p) is redrawn
    up to ``max_try_correction`` times, with a warning."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):  # type: ignore[override]
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args: bool | None = None,
    ) -> None:
        if (covariance_matrix is not None) + (scale_tril is not None) + (
            precision_matrix is not None
        ) != 1:
            raise AssertionError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None)
        if param.dim() < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        if isinstance(df, Number):
            batch_shape = ctorch.Size(param.shape[:-2])
            self.df = ctorch.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = ctorch.Size(
                ctorch.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))
            )
            self.df = df.expand(tuple(batch_shape))
        event_shape = ctorch.Size(param.shape[-2:])
        if bool(self.df.le(event_shape[-1] - 1).any()):
            raise ValueError(
                f"Value of df={df} expected to be greater than ndim - 1 = {event_shape[-1] - 1}."
            )
        matrix_shape = tuple(batch_shape) + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(matrix_shape)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(matrix_shape)
        else:
            self.precision_matrix = param.expand(matrix_shape)
        if bool(self.df.lt(event_shape[-1]).any()):
            _warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for "
                "ndim - 1 < df < ndim.",
                UserWarning,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inverse(precision_matrix))
        self._dist_chi2 = self._chi2(self.df, batch_shape)

    def _chi2(self, df, batch_shape) -> Chi2:
        """Chi2(df - i), i = 0..p-1: the squared diagonal of Bartlett's factor."""
        L = self._unbroadcasted_scale_tril
        offsets = ctorch.arange(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return Chi2(df=df.unsqueeze(-1) - offsets.expand(tuple(batch_shape) + (-1,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = ctorch.Size(batch_shape)
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(tuple(batch_shape))
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(Wishart, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(new.df, batch_shape)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape) + tuple(self._event_shape)

    @lazy_property
    def scale_tril(self) -> ctorch.Tensor:  # type: ignore[override]
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> ctorch.Tensor:  # type: ignore[override]
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> ctorch.Tensor:  # type: ignore[override]
        L = self._unbroadcasted_scale_tril
        eye = ctorch.eye(self._event_shape[-1], dtype=L.dtype, device=L.device)
        Linv = solve_lower(L, eye.expand(tuple(L.shape)))
        return (Linv.mT @ Linv).expand(self._matrix_shape())

    def _df_matrix(self):
        return self.df.view(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> ctorch.Tensor:
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self) -> ctorch.Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ctorch.where(factor <= 0, ctorch.full_like(factor, math.nan), factor)
        return factor.view(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> ctorch.Tensor:
        V = self.covariance_matrix
        diag_V = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V.pow(2) + diag_V.unsqueeze(-1) * diag_V.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=ctorch.Size()):
        p = self._event_shape[-1]
        diag = _clamp_above_eps(self._dist_chi2.rsample(sample_shape).sqrt())
        L = self._unbroadcasted_scale_tril
        off = ctorch.randn(
            tuple(sample_shape) + tuple(self._batch_shape) + (p * (p - 1) // 2,),
            dtype=L.dtype,
            device=L.device,
        )
        noise = ctorch.diag_embed(diag) + vec_to_tril_matrix(off, diag=-1)
        chol = L @ noise
        return chol @ chol.mT

    def rsample(self, sample_shape=ctorch.Size(), max_try_correction=None) -> ctorch.Tensor:
        """Bartlett-decomposition draws; singular ones (which would make ``log_prob`` -inf)
        are redrawn up to ``max_try_correction`` (default 10) times, with a warning."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = ctorch.Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        # torch 2.13 computes is_singular = support.check(sample) without the "~", so it warns
        # "Singular sample detected." and redraws every *valid* sample (its seeded draws differ
        # from ctorch's for that reason); ctorch redraws only the singular ones.
        is_singular = ~self.support.check(sample)
        if bool(is_singular.any()):
            _warnings.warn("Singular sample detected.", UserWarning)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(sample_shape)
                sample = ctorch.where(is_singular.unsqueeze(-1).unsqueeze(-1), sample_new, sample)
                is_singular = ~self.support.check(sample)
                if not bool(is_singular.any()):
                    break
        return sample

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        # tr(inv(L L^T) @ value) = tr(inv(L) @ value @ inv(L)^T)
        Linv_v = solve_lower(L, value)
        quad = solve_lower(L, Linv_v.mT).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * (p * _log_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
            - _mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * _logabsdet(value)
            - quad / 2
        )

    def entropy(self) -> ctorch.Tensor:
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return (
            (p + 1) * (p * _log_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
            + _mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self):
        nu = self.df
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-_logabsdet(-2 * x) + _log_2 * p) + _mvlgamma(
            y + (p + 1) / 2, p
        )
