"""torch's top-level names for special functions (``torch.digamma``, ``torch.lgamma``...) and
the Tensor methods with their in-place forms (``t.digamma()``, ``t.lgamma_()``...)."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..ops.pointwise_extra import _inplace
from ._functions import (
    digamma,
    erfc,
    gammainc,
    gammaincc,
    gammaln,
    i0,
    multigammaln,
    polygamma,
    sinc,
    xlogy,
)

lgamma = gammaln
igamma = gammainc
igammac = gammaincc


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """``torch.mvlgamma``: ``special.multigammaln``."""
    return multigammaln(input, p, out=out)


__all__ = [
    "digamma",
    "erfc",
    "i0",
    "igamma",
    "igammac",
    "lgamma",
    "mvlgamma",
    "polygamma",
    "sinc",
    "xlogy",
]

_UNARY = {"digamma": digamma, "lgamma": gammaln, "erfc": erfc, "i0": i0, "sinc": sinc}
_BINARY = {"xlogy": xlogy, "igamma": gammainc, "igammac": gammaincc}


def _method_unary(fn):
    def method(self: Tensor) -> Tensor:
        return fn(self)

    return method


def _method_binary(fn):
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(self, other)

    return method


def _inplace_unary(name, fn):
    def method(self: Tensor) -> Tensor:
        return _inplace(self, name, lambda: fn(self))

    return method


def _inplace_binary(name, fn):
    def method(self: Tensor, other: Any) -> Tensor:
        return _inplace(self, name, lambda: fn(self, other), other)

    return method


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


def _polygamma_(self: Tensor, n: int) -> Tensor:
    return _inplace(self, "polygamma_", lambda: polygamma(n, self))


def _mvlgamma_method(self: Tensor, p: int) -> Tensor:
    return multigammaln(self, p)


def _mvlgamma_(self: Tensor, p: int) -> Tensor:
    return _inplace(self, "mvlgamma_", lambda: multigammaln(self, p))


def attach(T: type) -> None:
    for name, fn in _UNARY.items():
        setattr(T, name, _method_unary(fn))
        setattr(T, name + "_", _inplace_unary(name + "_", fn))
    for name, fn in _BINARY.items():
        setattr(T, name, _method_binary(fn))
        setattr(T, name + "_", _inplace_binary(name + "_", fn))
    T.polygamma = _polygamma_method
    T.polygamma_ = _polygamma_
    T.mvlgamma = _mvlgamma_method
    T.mvlgamma_ = _mvlgamma_
