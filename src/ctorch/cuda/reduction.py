"""GPU launchers of the reduction family (kernels/reduction.cu).

Same names and signatures as ``ctorch._core.reduction`` (docs/kernels.md), with one
difference in return types, so that no call forces a device-to-host sync:
``sum_all`` returns a 0-d float64 cupy array, and ``max_all``/``min_all`` return a pair of
0-d cupy arrays (value in x's dtype, int64 index).  ``float(r)``/``int(i)`` work on both
backends' results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks as ck
from ._loader import get_function, launch, max_blocks

FAMILY = "reduction"
_COL_BLOCK = (32, 8)  # must match COL_X, COL_Y in reduction.cu
_SUM_ALL_MAX_PARTS = 1024
_SUM_ALL_PER_BLOCK = 2048  # elements per partial (fixed: results do not depend on the device)


def _cupy() -> Any:
    from . import require_cupy

    return require_cupy("a CUDA reduction")


def _row_threads(n: int) -> int:
    """Block size for one-block-per-row kernels: a multiple of 32, up to 512."""
    for t in (32, 64, 128, 256):
        if n <= t:
            return t
    return 256 if n <= 4096 else 512


def _rows(name: str, dt: Any, rows: int, n: int, args: tuple) -> None:
    if rows <= 0:
        return
    fn = get_function(FAMILY, name, dt)
    fn((min(rows, max_blocks()),), (_row_threads(n),), args)


def _cols(name: str, dt: Any, outer: int, inner: int, args: tuple) -> None:
    tiles = (inner + _COL_BLOCK[0] - 1) // _COL_BLOCK[0] * outer
    if tiles <= 0:
        return
    fn = get_function(FAMILY, name, dt)
    fn((min(tiles, max_blocks()),), _COL_BLOCK, args)


def _parts(n: int) -> int:
    return max(1, min(_SUM_ALL_MAX_PARTS, (n + _SUM_ALL_PER_BLOCK - 1) // _SUM_ALL_PER_BLOCK))


def sum_all(x: Any) -> Any:
    """Sum of all elements, accumulated in float64 with a fixed blocking.

    Returns a 0-d float64 cupy array (no host sync).
    """
    k = "sum_all"
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, None, dt)
    cp = _cupy()
    n = x.size
    out = cp.zeros((), dtype=np.float64)
    if n == 0:
        return out
    parts = _parts(n)
    partial = cp.empty(parts, dtype=np.float64)
    get_function(FAMILY, "sum_all_partial", dt)((parts,), (256,), (x, ck.i64(n), partial))
    get_function(FAMILY, "sum_all_final", dt)((1,), (1024,), (partial, ck.i64(parts), out))
    return out


def _axis_checks(
    k: str, x: Any, outs: list[tuple[str, Any, Any]], outer: int, mid: int, inner: int
) -> np.dtype:
    ck.sizes(k, outer=outer, mid=mid, inner=inner)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, outer * mid * inner, dt)
    for name, a, adt in outs:
        ck.arr(k, name, a, outer * inner, dt if adt is None else adt)
    return dt


def sum_axis(x: Any, out: Any, outer: int, mid: int, inner: int) -> None:
    """out[o, k] = sum_j x[o, j, k] (float64 accumulation)."""
    dt = _axis_checks("sum_axis", x, [("out", out, None)], outer, mid, inner)
    if inner == 1:
        _rows("sum_row_kernel", dt, outer, mid, (x, out, ck.i64(outer), ck.i64(mid)))
    else:
        _cols(
            "sum_col_kernel", dt, outer, inner, (x, out, ck.i64(outer), ck.i64(mid), ck.i64(inner))
        )


def _argext(
    k: str, x: Any, vals: Any, idx: Any, outer: int, mid: int, inner: int, is_max: int
) -> None:
    dt = _axis_checks(k, x, [("vals", vals, None), ("idx", idx, ck.I64)], outer, mid, inner)
    if mid == 0 and outer * inner > 0:
        raise ValueError(f"{k}: cannot reduce an empty axis (mid=0)")
    if inner == 1:
        _rows(
            "argext_row_kernel",
            dt,
            outer,
            mid,
            (x, vals, idx, ck.i64(outer), ck.i64(mid), ck.i32(is_max)),
        )
    else:
        _cols(
            "argext_col_kernel",
            dt,
            outer,
            inner,
            (x, vals, idx, ck.i64(outer), ck.i64(mid), ck.i64(inner), ck.i32(is_max)),
        )


def max_axis(x: Any, vals: Any, idx: Any, outer: int, mid: int, inner: int) -> None:
    """Max over mid and the first index of it; a NaN wins (torch semantics)."""
    _argext("max_axis", x, vals, idx, outer, mid, inner, 1)


def min_axis(x: Any, vals: Any, idx: Any, outer: int, mid: int, inner: int) -> None:
    """Min over mid and the first index of it; a NaN wins (torch semantics)."""
    _argext("min_axis", x, vals, idx, outer, mid, inner, 0)


def _argext_all(k: str, x: Any, is_max: int) -> tuple[Any, Any]:
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, None, dt)
    n = x.size
    if n == 0:
        raise ValueError(f"{k}: empty input")
    cp = _cupy()
    parts = _parts(n)
    pv = cp.empty(parts, dtype=dt)
    pi = cp.empty(parts, dtype=np.int64)
    val = cp.empty((), dtype=dt)
    idx = cp.empty((), dtype=np.int64)
    get_function(FAMILY, "argext_all_partial", dt)(
        (parts,), (256,), (x, ck.i64(n), pv, pi, ck.i32(is_max))
    )
    get_function(FAMILY, "argext_all_final", dt)(
        (1,), (1024,), (pv, pi, ck.i64(parts), val, idx, ck.i32(is_max))
    )
    return val, idx


def max_all(x: Any) -> tuple[Any, Any]:
    """(max value, its first flat index) as 0-d cupy arrays; a NaN wins."""
    return _argext_all("max_all", x, 1)


def min_all(x: Any) -> tuple[Any, Any]:
    """(min value, its first flat index) as 0-d cupy arrays; a NaN wins."""
    return _argext_all("min_all", x, 0)


def var_axis(x: Any, out: Any, outer: int, mid: int, inner: int, correction: float) -> None:
    """Two-pass variance over mid, divided by max(0, mid - correction)."""
    dt = _axis_checks("var_axis", x, [("out", out, None)], outer, mid, inner)
    corr = np.float64(correction)
    if inner == 1:
        _rows("var_row_kernel", dt, outer, mid, (x, out, ck.i64(outer), ck.i64(mid), corr))
    else:
        _cols(
            "var_col_kernel",
            dt,
            outer,
            inner,
            (x, out, ck.i64(outer), ck.i64(mid), ck.i64(inner), corr),
        )


def _row_op(k: str, x: Any, out: Any, m: int, n: int, mode: int, out_per_row: bool) -> None:
    ck.sizes(k, m=m, n=n)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, m * n, dt)
    ck.arr(k, "out", out, m if out_per_row else m * n, dt)
    if n == 0:
        if out_per_row and m:  # logsumexp of an empty row is -inf
            launch("elementwise", "fill_kernel", dt, m, (out, ck.scalar(dt, -np.inf), ck.i64(m)))
        return
    _rows("softmax_row_kernel", dt, m, n, (x, out, ck.i64(m), ck.i64(n), ck.i32(mode)))


def softmax_lastdim(x: Any, out: Any, m: int, n: int) -> None:
    _row_op("softmax_lastdim", x, out, m, n, 0, False)


def log_softmax_lastdim(x: Any, out: Any, m: int, n: int) -> None:
    _row_op("log_softmax_lastdim", x, out, m, n, 1, False)


def logsumexp_lastdim(x: Any, out: Any, m: int, n: int) -> None:
    """out[i] = log(sum_j exp(x[i, j])) (max-shifted)."""
    _row_op("logsumexp_lastdim", x, out, m, n, 2, True)


def _row_bwd(k: str, gy: Any, y: Any, gx: Any, m: int, n: int, mode: int) -> None:
    ck.sizes(k, m=m, n=n)
    dt = ck.fdtype(k, gx, "gx")
    for name, a in (("gy", gy), ("y", y), ("gx", gx)):
        ck.arr(k, name, a, m * n, dt)
    if n == 0:
        return
    _rows("softmax_backward_row_kernel", dt, m, n, (gy, y, gx, ck.i64(m), ck.i64(n), ck.i32(mode)))


def softmax_backward_lastdim(gy: Any, y: Any, gx: Any, m: int, n: int) -> None:
    """gx = y * (gy - sum(gy * y)) per row."""
    _row_bwd("softmax_backward_lastdim", gy, y, gx, m, n, 0)


def log_softmax_backward_lastdim(gy: Any, y: Any, gx: Any, m: int, n: int) -> None:
    """gx = gy - exp(y) * sum(gy) per row (y is the log_softmax output)."""
    _row_bwd("log_softmax_backward_lastdim", gy, y, gx, m, n, 1)
