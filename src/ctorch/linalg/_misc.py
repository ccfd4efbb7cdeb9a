"""Norms and products: ``vector_norm``, ``matrix_norm``, ``norm``, ``cond``, ``matrix_exp``,
``matrix_power``, ``multi_dot``, ``cross``, ``vander``, ``vecdot``, ``diagonal``, ``matmul``.

``vector_norm`` and ``matrix_exp`` are ``Function``s (torch's zero-norm gradient; the
block-matrix exponential backward); the rest are compositions of differentiable ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._core._smallops import moments_small as _moments_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ..ops import join as J
from ..ops import linalg as OL
from ..ops import products as PR
from ..ops import rearrange as RA
from ..ops._util import dims_tuple
from . import _common as C

_wrap = Tensor._make


def _cast_dtype(op: str, x: Tensor, dtype: Any) -> Tensor:
    a = x._a
    if dtype is not None:
        nd = D.to_numpy_dtype(dtype)
        if a.dtype.kind == "c" and np.dtype(nd).kind != "c":
            raise RuntimeError(
                f"{op}: dtype should be complex for complex inputs, but got {C.scalar_name(nd)}"
            )
        if a.dtype.kind in "fc" and np.dtype(nd).kind in "fc" and np.dtype(nd) != a.dtype:
            if np.dtype(nd).itemsize < a.dtype.itemsize:
                raise RuntimeError(
                    f"{op}: dtype should be at least as precise as input's dtype, got "
                    f"{C.scalar_name(nd)} and {C.scalar_name(a.dtype)}"
                )
        return x.to(dtype)
    if a.dtype.kind not in "fc" and a.dtype.name != "bfloat16":  # 16-bit: float32 inside
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got "
            f"{C.scalar_name(a.dtype)}"
        )
    return x


# ------------------------------------------------------------------ vector_norm
class VectorNorm(Function):
    _node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        a = x._a
        if a.dtype.kind == "c":  # the norm of |x| (real, of the matching precision)
            a = np.abs(a)
        ax = dims if dims else None
        absa = np.abs(a) if ord != 2 else None
        with np.errstate(all="ignore"):
            if a.ndim == 0:
                ax = None
            if ord == 2:
                r = np.sqrt(_sumsq(a, ax))
            elif ord == math.inf:
                r = absa.max(axis=ax, keepdims=True) if absa.size else _empty_red(absa, ax, 0)
            elif ord == -math.inf:
                r = absa.min(axis=ax, keepdims=True)
            elif ord == 0:
                r = np.sum(a != 0, axis=ax, keepdims=True).astype(a.dtype)
            elif ord == 1:
                r = np.sum(absa, axis=ax, keepdims=True)
            else:
                r = np.sum(absa**ord, axis=ax, keepdims=True) ** (1.0 / ord)
        r = xp_of(r).asarray(r, dtype=a.dtype)  # (a NumPy scalar or array; meta on meta)
        ctx.save_for_backward(x, _wrap(r))
        ctx.ord = ord
        ctx.dims = dims
        ctx.keepdim_shape = r.shape
        if not keepdim:
            r = r.reshape([s for i, s in enumerate(r.shape) if i not in (dims or range(a.ndim))])
        return _wrap(r)

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        p = ctx.ord
        g = g.reshape(ctx.keepdim_shape)
        if grad_state.enabled and p not in (0, 1, math.inf, -math.inf):
            n = VectorNorm.apply(x, p, ctx.dims, True)  # create_graph: n depends on x
        if p == 0:
            return x * 0.0, None, None, None
        if p == 1:
            return _sign(x) * g, None, None, None
        if p in (math.inf, -math.inf):
            xa = x.abs()
            mask = ((xa == n) | xa.isnan()).to(n.dtype)
            return (
                _sign(x) * (g / mask.sum(dim=_all_dims(mask, n), keepdim=True)) * mask,
                (None),
                None,
                None,
            )
        zero = n == 0
        if p == 2:
            scale = (g / n).masked_fill(zero, 0.0)
            return x * scale, None, None, None
        scale = (g / n.pow(p - 1)).masked_fill(zero, 0.0)
        xs = x * x.abs().pow(p - 2)
        if p < 2:
            xs = xs.masked_fill(x == 0, 0.0)
        return xs * scale, None, None, None


def _sign(x: Tensor) -> Tensor:
    """sign(x), x / |x| (``sgn``) for complex x."""
    return x.sgn() if C.is_complex(x) else x.sign()


def _sumsq(a: np.ndarray, ax) -> np.ndarray:
    """sum(a * a) over ``ax`` with keepdims, in one BLAS/einsum pass when the reduced axes are
    the trailing ones (no |a| and a*a temporaries: 4x faster on 512x512)."""
    nd = a.ndim
    axes = tuple(range(nd)) if ax is None else tuple(ax)
    if a.size and axes == tuple(range(nd - len(axes), nd)):
        # math.prod and a sliced shape: np.prod and a per-axis generator cost ~5 us a call
        head = a.shape[: nd - len(axes)]
        kshape = head + (1,) * len(axes)
        lead = math.prod(head)
        x = a.reshape(lead, -1)
        if lead == 1 and type(x) is np.ndarray:
            r = np.array([np.dot(x[0], x[0])])
        elif hasattr(np, "vecdot"):  # NumPy >= 2: a BLAS dot per row
            r = np.vecdot(x, x)
        else:
            r = np.einsum("ij,ij->i", x, x)
        return r.reshape(kshape)
    return np.sum(a * a, axis=axes, keepdims=True)


def _empty_red(a, ax, fill):
    return np.full(np.sum(a, axis=ax, keepdims=True).shape, fill, a.dtype)


def _all_dims(mask: Tensor, n: Tensor) -> tuple:
    return tuple(i for i, (s, t) in enumerate(zip(mask.shape, n.shape, strict=True)) if t == 1)


def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out=None,
) -> Tensor:
    """p-norm of ``x`` over ``dim`` (all elements by default): sum(|x|^p)^(1/p), max/min |x|
    for +-inf, the count of non-zeros for 0."""
    op = "linalg.vector_norm"
    if (
        ord == 2
        and dtype is None
        and out is None
        and not (grad_state.enabled and x._rg)
        and _fn_mod._autocast is None
    ):  # a small 2-norm with nothing to record: one compiled pass (_smallops.moments_small)
        r = _moments_small(x._a, dims_tuple(dim, x._a.ndim, op), 2, 0.0, keepdim)
        if r is not None:
            return _wrap(r)
    if isinstance(ord, str):
        raise RuntimeError(f"{op}: ord must be a number, got {ord!r}")
    if x._a.dtype.kind not in "fc" and x._a.dtype.name != "bfloat16":
        x = _cast_dtype(op, x, None)  # torch checks the input before any dtype= cast
    x = _cast_dtype(op, x, dtype)
    ndim = x.ndim
    dims = dims_tuple(dim, ndim, op) if dim is not None else tuple(range(ndim))
    if ord < 0 or ord == math.inf:
        for d in dims:
            if x.shape[d] == 0:
                raise RuntimeError(
                    f"{op} cannot compute the {ord} norm on an empty tensor because the "
                    "operation does not have an identity"
                )
    return C.copy_out(out, VectorNorm.apply(x, float(ord), dims, keepdim))


# ------------------------------------------------------------------ matrix_norm / norm / cond
def _amax0(t: Tensor, dim: int, keepdim: bool) -> Tensor:
    """amax of non-negative values, 0 over an empty extent (torch's positive-order matrix
    norms of an empty matrix are 0; the negative orders keep amin's error, as torch)."""
    if t.shape[dim] == 0:
        shape = list(t.shape)
        if keepdim:
            shape[dim] = 1
        else:
            del shape[dim % t.ndim]
        return t.new_zeros(tuple(shape))
    return t.amax(dim, keepdim=keepdim)


def matrix_norm(
    A: Tensor,
    ord: Any = "fro",
    dim: tuple = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out=None,
) -> Tensor:
    """Frobenius, nuclear, 1/-1, inf/-inf and 2/-2 (spectral) matrix norms over ``dim``."""
    op = "linalg.matrix_norm"
    A = _cast_dtype(op, A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (d % A.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        r = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord == "nuc" or ord in (2, -2):
        B = A.movedim((d0, d1), (-2, -1))
        from ._decomp import svdvals

        s = svdvals(B)
        if ord == "nuc":
            r = s.sum(-1)
        else:
            r = _amax0(s, -1, False) if ord == 2 else s.amin(-1)
        if keepdim:
            r = r.unsqueeze(-1).unsqueeze(-1).movedim((-2, -1), (d0, d1))
    elif ord in (1, -1, math.inf, -math.inf):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(sum_dim, keepdim=True)
        r = _amax0(s, red_dim, True) if ord > 0 else s.amin(red_dim, keepdim=True)
        if not keepdim:
            r = r.squeeze((d0, d1))
    else:
        raise RuntimeError(
            f"{op}: Order {ord} not supported. Supported: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2"
        )
    return C.copy_out(out, r)


def norm(
    A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype=None, out=None
) -> Tensor:
    """``vector_norm`` or ``matrix_norm`` by torch's rule (a 2-tuple ``dim`` or a 2-D input with
    an ``ord`` means a matrix norm)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(
            A, "fro" if ord is None else ord, dim or (-2, -1), keepdim, dtype=dtype, out=out
        )
    if isinstance(ord, str):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be "
            f"1D or 2D. Got {A.ndim}D."
        )
    if ord is not None and dim is None and A.ndim != 1:
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
            f"Got {A.ndim}D."
        )
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def cond(A: Tensor, p: Any = None, *, out=None) -> Tensor:
    """Condition number ``norm(A, p) * norm(inv(A), p)`` (``s_max / s_min`` for 2/None)."""
    op = "linalg.cond"
    C.check_matrix(op, A._a)
    C.check_float(op, A._a)
    from ._decomp import svdvals
    from ._solve import inv_ex

    if p is None or p in (2, -2):
        s = svdvals(A)
        if s.shape[-1] == 0:
            return C.copy_out(out, _wrap(np.zeros(A.shape[:-2], C.real_dtype(A._a.dtype))))
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return C.copy_out(out, r)
    C.check_matrix(op, A._a, square=True)
    Ainv, info = inv_ex(A)
    r = matrix_norm(A, p) * matrix_norm(Ainv, p)
    if info._a.any():
        r = r.masked_fill(_wrap(info._a != 0), math.inf)
    return C.copy_out(out, r)


# ------------------------------------------------------------------ matrix_exp / power
class MatrixExp(Function):
    _node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, A):
        expm = C.scipy_linalg().expm
        a = C.check_square_float("linalg.matrix_exp", A)
        if C.is_meta(a):
            ctx.save_for_backward(A)
            return C.meta(a.shape, a.dtype)
        if a.size == 0:
            r = np.zeros(a.shape, a.dtype)
        elif a.shape[-1] == 1:
            r = np.exp(a)
        else:
            r = np.asarray(expm(a), dtype=a.dtype)
        ctx.save_for_backward(A)
        return _wrap(r)

    @staticmethod
    def backward(ctx, g):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        # d exp(A)^H-adjoint: the top-right block of exp([[A^H, G], [0, A^H]])
        At = C.mH(A)
        top = J.cat([At, g], -1)
        bottom = J.cat([A * 0.0, At], -1)
        big = matrix_exp(J.cat([top, bottom], -2))
        return big[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential (scipy.linalg.expm: Pade with scaling and squaring)."""
    return MatrixExp.apply(A)


def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """``A^n`` by repeated squaring (``inv(A)^-n`` for negative n, identity for 0)."""
    op = "linalg.matrix_power"
    C.check_matrix(op, A._a, square=True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"{op}(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0 and C.is_meta(A):  # (the identity's shape and dtype, on meta: was a CPU eye)
        return C.copy_out(out, C.meta(A.shape, A._a.dtype))
    if n == 0:
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._a.dtype), A._a.shape).copy()
        return C.copy_out(out, _wrap(eye))
    if n < 0:
        C.check_float(op, A._a)
        from ._solve import inv

        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return C.copy_out(out, result)


# ------------------------------------------------------------------ products
def multi_dot(tensors, *, out=None) -> Tensor:
    """Product of a chain of matrices in the cheapest order (first/last may be vectors)."""
    op = "multi_dot"
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"{op}(): expected at least 2 tensors but got {len(ts)}")
    first_vec = ts[0].ndim == 1
    last_vec = ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(
                f"{op}(): tensor {i} must be 2D but got {t.ndim}D"
                if 0 < i < len(ts) - 1
                else f"{op}(): the {'first' if i == 0 else 'last'} argument must be 1D or 2D but "
                f"got {t.ndim}D"
            )
        if i and ts[i - 1].shape[1] != t.shape[0]:
            raise RuntimeError(
                f"{op}(): tensors {i - 1} and {i} with shapes {tuple(ts[i - 1].shape)} and "
                f"{tuple(t.shape)} cannot be multiplied"
            )
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    n = len(ts)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def prod(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return OL.matmul(prod(i, k), prod(k + 1, j))

    r = prod(0, n - 1)
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return C.copy_out(out, r)


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the last), inputs broadcast."""
    return PR.cross(input, other, dim, out=out)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Vandermonde matrix with increasing powers: ``x[..., i, j] = x[..., i]^j``."""
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dimension.")
    n = x.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError("N must be greater than 1.")
    if n == 0:
        return x.new_zeros(tuple(x.shape) + (0,))
    ones = x.new_ones(tuple(x.shape) + (1,))
    if n == 1:
        return ones
    xs = x.unsqueeze(-1).expand(*x.shape, n - 1)
    return J.cat([ones, xs], -1).cumprod(-1)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Dot product of vectors along ``dim`` (inputs broadcast); x is conjugated (torch)."""
    if x._a.dtype != y._a.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{C.scalar_name(x._a.dtype)} and y of type {C.scalar_name(y._a.dtype)} instead"
        )
    return C.copy_out(out, (C.cj(x) * y).sum(dim))


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.diagonal`` with the last two dims as default."""
    return RA.diagonal(A, offset, dim1, dim2)


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Alias of ``torch.matmul``."""
    return OL.matmul(input, other, out=out)
