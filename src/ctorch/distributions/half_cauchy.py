from __future__ import annotations

import math

import ctorch

from .cauchy import Cauchy
from .half_normal import _HalfOf
from .transforms import AbsTransform

__all__ = ["HalfCauchy"]


class HalfCauchy(_HalfOf):
    """|X| for X ~ Cauchy(0, scale)."""

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        super().__init__(Cauchy(0, scale, validate_args=False), AbsTransform(), validate_args)

    @property
    def mean(self) -> ctorch.Tensor:
        return ctorch.full(
            tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype,
            device=self.scale.device,
        )  # fmt: skip

    @property
    def variance(self) -> ctorch.Tensor:
        return self.mean
