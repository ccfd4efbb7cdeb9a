"""What the location-scale families share: Normal, Laplace and Cauchy take a real ``loc`` and
a positive ``scale`` broadcast together; their mode (and, but for Cauchy, mean) is ``loc``,
as is MultivariateNormal's."""

from __future__ import annotations

import ctorch

from . import constraints
from .distribution import Distribution


class _CentredAtLoc:
    """``mean`` and ``mode`` are the location parameter ``loc``."""

    loc: ctorch.Tensor

    @property
    def mean(self) -> ctorch.Tensor:
        return self.loc

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc


class _LocScale(_CentredAtLoc, Distribution):
    """A real-valued family with ``loc`` and a positive ``scale`` (each class keeps its own
    ``expand``, so that a subclass with another ``__init__`` is refused as torch refuses it)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self._init_broadcast(validate_args, loc=loc, scale=scale)
