"""GPU launchers of the elementwise family (kernels/elementwise.cu).

Same names and signatures as ``ctorch._core.elementwise`` (docs/kernels.md); arguments are
C-contiguous cupy arrays; every launch goes to the current CuPy stream.  In-place use
(``out`` is ``x``) is allowed: each element is read before it is written, by one thread.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _table
from . import _checks as ck
from ._loader import launch

FAMILY = "elementwise"

# Op codes are the row order of the op table (ctorch/_table/elementwise.def), which the .cu
# source includes too; the BIN_*/UN_* names match the CPU kernels'.
globals().update(_table.code_names())
_N_BIN = len(_table.BINARY)
_N_UN = len(_table.UNARY)
_UNARY_NAMES = tuple(op.NAME for op in _table.UNARY)

#: Unary ops that unary_backward accepts: the rows that save their input or output.
UNARY_GRAD_OPS = frozenset(op.code for op in _table.UNARY if op.has_backward_kernel)


def _binop(kernel: str, op: int) -> None:
    if not 0 <= op < _N_BIN:
        raise ValueError(f"{kernel}: unknown binary op code {op}")


def _unop(kernel: str, op: int) -> None:
    if not 0 <= op < _N_UN:
        raise ValueError(f"{kernel}: unknown unary op code {op}")


def _params(op: int, a: Any, b: Any) -> tuple[float, float]:
    """The op's two parameters; for CLAMP/HARDTANH a None or NaN bound means no bound."""
    if op in (UN_CLAMP, UN_HARDTANH):  # noqa: F821 - from code_names()
        lo = -math.inf if a is None or a != a else float(a)
        hi = math.inf if b is None or b != b else float(b)
        return lo, hi
    return float(a or 0.0), float(b or 0.0)


def binary(op: int, x: Any, y: Any, out: Any) -> None:
    """out[i] = x[i] op y[i]."""
    k = "binary"
    _binop(k, op)
    dt, n = ck.same_size(k, out=out, x=x, y=y)
    launch(FAMILY, "binary_kernel", dt, n, (ck.i32(op), x, y, out, ck.i64(n)))


def binary_scalar(op: int, x: Any, s: float, out: Any, reverse: bool = False) -> None:
    """out[i] = x[i] op s (s op x[i] if reverse)."""
    k = "binary_scalar"
    _binop(k, op)
    dt, n = ck.same_size(k, out=out, x=x)
    launch(
        FAMILY,
        "binary_scalar_kernel",
        dt,
        n,
        (ck.i32(op), x, ck.scalar(dt, s), out, ck.i64(n), ck.i32(bool(reverse))),
    )


def binary_bcast(
    op: int, x: Any, y: Any, out: Any, outer: int, mid: int, inner: int, reverse: bool = False
) -> None:
    """out[i,j,k] = x[i,j,k] op y[j] (y[j] op x[i,j,k] if reverse)."""
    k = "binary_bcast"
    _binop(k, op)
    ck.sizes(k, outer=outer, mid=mid, inner=inner)
    dt = ck.fdtype(k, out, "out")
    n = outer * mid * inner
    ck.arr(k, "out", out, n, dt)
    ck.arr(k, "x", x, n, dt)
    ck.arr(k, "y", y, mid, dt)
    launch(
        FAMILY,
        "binary_bcast_kernel",
        dt,
        n,
        (ck.i32(op), x, y, out, ck.i64(outer), ck.i64(mid), ck.i64(inner), ck.i32(bool(reverse))),
    )


def unary(op: int, x: Any, out: Any, a: float | None = 0.0, b: float | None = 0.0) -> None:
    """out[i] = op(x[i]; a, b).  For CLAMP a None bound (or NaN) means no bound."""
    k = "unary"
    _unop(k, op)
    dt, n = ck.same_size(k, out=out, x=x)
    launch(
        FAMILY,
        "unary_kernel",
        dt,
        n,
        (ck.i32(op), x, out, ck.i64(n), *(ck.scalar(dt, p) for p in _params(op, a, b))),
    )


def unary_backward(
    op: int, gy: Any, x: Any, y: Any, gx: Any, a: float | None = 0.0, b: float | None = 0.0
) -> None:
    """gx = d op / dx * gy, given the input x and the forward output y."""
    k = "unary_backward"
    _unop(k, op)
    if op not in UNARY_GRAD_OPS:
        raise ValueError(f"{k}: op {_UNARY_NAMES[op]} has no backward kernel")
    dt, n = ck.same_size(k, gx=gx, gy=gy, x=x, y=y)
    launch(
        FAMILY,
        "unary_backward_kernel",
        dt,
        n,
        (ck.i32(op), gy, x, y, gx, ck.i64(n), *(ck.scalar(dt, p) for p in _params(op, a, b))),
    )


def where(cond: Any, x: Any, y: Any, out: Any) -> None:
    """out[i] = x[i] if cond[i] else y[i]; cond is uint8 (or bool, same layout)."""
    k = "where"
    dt, n = ck.same_size(k, out=out, x=x, y=y)
    ck.arr(k, "cond", cond, n)
    if cond.dtype.itemsize != 1 or cond.dtype.kind not in "ub":
        raise ValueError(f"where: cond has dtype {cond.dtype}, expected uint8")
    launch(FAMILY, "where_kernel", dt, n, (cond, x, y, out, ck.i64(n)))


def fill(out: Any, value: float) -> None:
    k = "fill"
    dt = ck.fdtype(k, out, "out")
    ck.arr(k, "out", out, None, dt)
    n = out.size
    launch(FAMILY, "fill_kernel", dt, n, (out, ck.scalar(dt, value), ck.i64(n)))


def copy(x: Any, out: Any) -> None:
    k = "copy"
    dt, n = ck.same_size(k, out=out, x=x)
    launch(FAMILY, "copy_kernel", dt, n, (x, out, ck.i64(n)))


def axpy(alpha: float, x: Any, y: Any) -> None:
    """y += alpha * x, in place."""
    k = "axpy"
    dt, n = ck.same_size(k, y=y, x=x)
    launch(FAMILY, "axpy_kernel", dt, n, (ck.scalar(dt, alpha), x, y, ck.i64(n)))


def scale(x: Any, alpha: float, out: Any) -> None:
    """out = x * alpha."""
    k = "scale"
    dt, n = ck.same_size(k, out=out, x=x)
    launch(FAMILY, "scale_kernel", dt, n, (x, ck.scalar(dt, alpha), out, ck.i64(n)))
