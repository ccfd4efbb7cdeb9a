"""Matrices built from other tensors: ``addr``, ``addbmm``, ``block_diag``, ``vander``,
``tril_indices``/``triu_indices``, ``renorm`` and ``pdist``.

Each is composed of differentiable ops (outer products, one GEMM, ``cat``, ``cumprod``,
``cdist``), so autograd comes from those; the code here is torch's checks and shapes.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import with_out

_wrap = Tensor._make


def _check_int_scalars(op: str, input: Tensor, beta, alpha) -> None:
    if input._a.dtype.kind in "biu":
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float) or (isinstance(v, complex)):
                raise RuntimeError(
                    f"{op}: for integral input tensors, argument {name} must not be a floating "
                    f"point number (got {v})"
                )


def scaled_sum(op: str, input: Tensor, r: Tensor, beta, alpha) -> Tensor:
    """``beta * input + alpha * r`` as torch's addmm family: ``input`` broadcast to ``r``'s
    shape, and ignored (NaN included) when ``beta`` is 0."""
    _check_int_scalars(op, input, beta, alpha)
    dt = D.result_type(input, r)
    inp = input.expand(r._a.shape)
    if r.dtype != dt:
        r = r.to(dt)
    if alpha != 1:
        r = r * alpha
    if beta == 0:
        return r
    return r + (inp if beta == 1 else inp * beta)


def _check_1d(op: str, name: str, t: Tensor) -> None:
    if t._a.ndim != 1:
        raise RuntimeError(f"{op}: Expected 1-D argument {name}, but got {t._a.ndim}-D")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addr``: ``beta * input + alpha * outer(vec1, vec2)``."""
    _check_1d("addr", "vec1", vec1)
    _check_1d("addr", "vec2", vec2)
    r = scaled_sum("addr", input, vec1.reshape(-1, 1) * vec2.reshape(1, -1), beta, alpha)
    return with_out(r, out)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``torch.addbmm``: ``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (one GEMM over
    the batch laid side by side)."""
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t._a.ndim != 3:
            raise RuntimeError(f"addbmm: {name} must be a 3D tensor, got {t._a.ndim}D")
    (b, n, m), (b2, m2, p) = batch1._a.shape, batch2._a.shape
    if b != b2:
        raise RuntimeError(
            f"addbmm: batch1 and batch2 must have same number of batches, got {b} and {b2}"
        )
    if m != m2:
        raise RuntimeError(f"addbmm: Incompatible matrix sizes for bmm ({n}x{m} and {m2}x{p})")
    lhs = batch1.transpose(0, 1).reshape(n, b * m)
    r = lhs @ batch2.reshape(b * m, p)
    r = scaled_sum("addbmm", input, r, beta, alpha)
    return with_out(r, out)


def block_diag(*tensors: Tensor) -> Tensor:
    """``torch.block_diag``: the inputs (0-d, 1-d as one row, or 2-d) along the diagonal."""
    from .join import cat

    blocks = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"block_diag(): argument 'tensors' must be tuple of Tensors, not {type(t).__name__}"
            )
        if t._a.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                f"Input {i} has {t._a.ndim} dimensions"
            )
        blocks.append(t.reshape(1, -1) if t._a.ndim < 2 else t)
    if not blocks:
        return _wrap(np.zeros((1, 0), D.to_numpy_dtype(D.get_default_dtype())))
    dt = D.result_type(*blocks)
    width = sum(t._a.shape[1] for t in blocks)
    rows, left = [], 0
    for t in blocks:
        h, w = t._a.shape
        xp = xp_of(t._a)
        npdt = D.to_numpy_dtype(dt)
        pad_l = _wrap(xp.zeros((h, left), npdt))
        pad_r = _wrap(xp.zeros((h, width - left - w), npdt))
        rows.append(cat([pad_l, t.to(dt), pad_r], 1))
        left += w
    return cat(rows, 0)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """``torch.vander``: columns ``x ** (N-1) ... x ** 0`` (``increasing`` reverses), computed
    as torch does, a running product (integers stay exact, in int64)."""
    from .join import cat

    if x._a.ndim != 1:
        raise RuntimeError("vander: x must be a one-dimensional tensor.")
    n = x._a.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("vander: N must be non-negative.")
    dt = D.result_type(x, _wrap(np.zeros((), np.int64)))  # torch promotes with Long
    xp = xp_of(x._a)
    ones = _wrap(xp.ones((x._a.shape[0], min(n, 1)), D.to_numpy_dtype(dt)))
    if n <= 1:
        return ones
    xs = x.to(dt).reshape(-1, 1).expand(x._a.shape[0], n - 1)
    r = cat([ones, xs], 1).cumprod(1)
    return r if increasing else r.flip(1)


def _tri_indices(name: str, row: int, col: int, offset: int, dtype, device) -> Tensor:
    for arg, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name}: {arg} must be non-negative, got{v}")
    dt = D.int64 if dtype is None else dtype
    npdt = D.to_numpy_dtype(dt)
    if npdt.kind not in "iu":
        raise NotImplementedError(f"\"{name}\" not implemented for '{dt}'")
    # NumPy's tril/triu over a row x col grid, read out row by row (torch's order)
    mask = (np.tri if name == "tril_indices" else _triu_mask)(row, col, offset)
    r = _wrap(np.stack(np.nonzero(mask)).astype(npdt).reshape(2, -1))
    return r if device is None else r.to(device)


def _triu_mask(row, col, offset):
    return ~np.tri(row, col, offset - 1, dtype=bool)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None
) -> Tensor:
    """``torch.tril_indices``: the (row, col) coordinates of the lower triangle, 2 x N."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None
) -> Tensor:
    """``torch.triu_indices``: the (row, col) coordinates of the upper triangle, 2 x N."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


class _Pdist2(Function):
    """Euclidean pdist. float64 rows: exact differences of the row pairs. float32/16-bit rows:
    one float64 Gram matrix, ``|xi - xj|^2 = |xi|^2 + |xj|^2 - 2 xi.xj``, whose cancellation
    error (relative 0.5e-16 |x|^2 / d^2) stays below the float32 rounding of torch's direct
    differences (6e-8 |x| / d) for d > 1e-9 |x|. Backward: ``W = g / d`` (0 where d is 0,
    torch's subgradient), symmetric, ``gx = rowsum(W) x - W x``; like torch, no double
    backward (``_pdist_backward`` is not differentiable there)."""

    _node_name = "PdistBackward0"

    @staticmethod
    def forward(ctx, x, rows, cols):
        a = x._a
        xp = xp_of(a)
        if a.dtype == np.float64:
            diff = a[rows] - a[cols]
            d = xp.sqrt((diff * diff).sum(1))
        else:
            a64 = a.astype(np.float64)
            sq = (a64 * a64).sum(1)
            d2 = sq[rows] + sq[cols] - 2.0 * (a64 @ a64.T)[rows, cols]
            d = xp.sqrt(xp.maximum(d2, 0.0)).astype(a.dtype)
        out = _wrap(d)
        ctx.save_for_backward(x, out)
        ctx.rc = (rows, cols)
        return out

    @staticmethod
    def backward(ctx, g):
        from ..autograd.grad_mode import no_grad
        from ..autograd.grad_mode import state as grad_state
        from .compare import where
        from .double_backward import refuse
        from .subscript import index_put

        x, d = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: torch has no double backward for pdist
            with no_grad():
                gx = _Pdist2.backward(ctx, g)[0]
            return (
                refuse("the derivative for '_pdist_backward' is not implemented.", gx, x, g),
                None,
                None,
            )
        rows, cols = (_wrap(i) for i in ctx.rc)
        n = x._a.shape[0]
        w = where(d > 0, g / where(d > 0, d, 1.0), 0.0)
        W = index_put(g.new_zeros((n, n)), (rows, cols), w)
        W = W + W.t()
        return W.sum(1, keepdim=True) * x - W @ x, None, None


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """``torch.pdist``: the upper triangle (row by row) of ``cdist(input, input, p)``."""
    from .products import cdist

    if input._a.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._a.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input._a.shape[0]
    iu = triu_indices(n, n, 1, device=input.device)
    if p == 2:
        return _Pdist2.apply(input, iu._a[0], iu._a[1])
    d = cdist(input, input, p, "donot_use_mm_for_euclid_dist")
    return d[iu[0], iu[1]]
