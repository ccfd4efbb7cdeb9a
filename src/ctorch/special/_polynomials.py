"""torch.special's orthogonal polynomials ``P_n(x)`` (Chebyshev T/U/V/W and their shifted
forms, Hermite H/He, Laguerre L, Legendre P) by their three-term recurrences, vectorised over
``x`` and ``n`` (both broadcast; ``n`` is truncated to an integer, negative ``n`` gives 0).
Like torch's, these are not differentiable: the results never require grad.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._meta import elementwise, is_meta
from .._tensor import Tensor
from ..ops._util import check_same_device, named
from ..ops.pointwise_extra import _maybe_out
from ._functions import _arr, _binary_dtype, _finish, _wrap, refuse_complex

# name: (P_0 -> P_1 as a function of x, step(k, x, p_{k-1}, p_k) -> p_{k+1}, shifted)
_RULES = {
    "chebyshev_polynomial_t": (lambda x: x, lambda k, x, a, b: 2 * x * b - a),
    "chebyshev_polynomial_u": (lambda x: 2 * x, lambda k, x, a, b: 2 * x * b - a),
    "chebyshev_polynomial_v": (lambda x: 2 * x - 1, lambda k, x, a, b: 2 * x * b - a),
    "chebyshev_polynomial_w": (lambda x: 2 * x + 1, lambda k, x, a, b: 2 * x * b - a),
    "hermite_polynomial_h": (lambda x: 2 * x, lambda k, x, a, b: 2 * x * b - 2 * k * a),
    "hermite_polynomial_he": (lambda x: x, lambda k, x, a, b: x * b - k * a),
    "laguerre_polynomial_l": (
        lambda x: 1 - x,
        lambda k, x, a, b: ((2 * k + 1 - x) * b - k * a) / (k + 1),
    ),
    "legendre_polynomial_p": (
        lambda x: x,
        lambda k, x, a, b: ((2 * k + 1) * x * b - k * a) / (k + 1),
    ),
}


def _evaluate(kind: str, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    p1, step = _RULES[kind]
    x, n = np.broadcast_arrays(x, n)
    with np.errstate(all="ignore"):
        ni = np.where(np.isfinite(n), np.trunc(n), -1).astype(np.int64)
        out = np.zeros(x.shape, x.dtype)
        out[ni == 0] = 1.0
        nmax = int(ni.max()) if ni.size else 0
        if nmax >= 1:
            a = np.ones_like(x)
            b = p1(x).astype(x.dtype)
            out = np.where(ni == 1, b, out)
            for k in range(1, nmax):
                a, b = b, step(k, x, a, b).astype(x.dtype)
                out = np.where(ni == k + 1, b, out)
    return out


def _make(kind: str, shifted: bool):
    base = kind.replace("shifted_", "")

    def fn(input: Any, n: Any, *, out: Tensor | None = None) -> Tensor:
        refuse_complex(kind, input, n)
        dt = _binary_dtype(input, n, kind)
        if is_meta(input, n):  # the meta device: elementwise over (input, n), nothing evaluated
            check_same_device(kind, input, n)
            return _maybe_out(out, _wrap(elementwise((input, n), dt)))
        x = _arr(input, dt)
        if shifted:
            x = 2 * x - 1
        nn = n._a if isinstance(n, Tensor) else np.asarray(n)
        return _maybe_out(out, _finish(_evaluate(base, x, nn.astype(np.float64)), dt))

    return named(fn, kind, f"``torch.special.{kind}(input, n)`` (no gradient, as in torch).")


chebyshev_polynomial_t = _make("chebyshev_polynomial_t", False)
chebyshev_polynomial_u = _make("chebyshev_polynomial_u", False)
chebyshev_polynomial_v = _make("chebyshev_polynomial_v", False)
chebyshev_polynomial_w = _make("chebyshev_polynomial_w", False)
shifted_chebyshev_polynomial_t = _make("shifted_chebyshev_polynomial_t", True)
shifted_chebyshev_polynomial_u = _make("shifted_chebyshev_polynomial_u", True)
shifted_chebyshev_polynomial_v = _make("shifted_chebyshev_polynomial_v", True)
shifted_chebyshev_polynomial_w = _make("shifted_chebyshev_polynomial_w", True)
hermite_polynomial_h = _make("hermite_polynomial_h", False)
hermite_polynomial_he = _make("hermite_polynomial_he", False)
laguerre_polynomial_l = _make("laguerre_polynomial_l", False)
legendre_polynomial_p = _make("legendre_polynomial_p", False)
