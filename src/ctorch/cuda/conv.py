"""GPU launchers of the conv family (kernels/conv.cu): im2col / col2im.

The GEMM between them is not ours: the ops layer multiplies the columns with
``cupy.matmul`` (cuBLAS), as DESIGN.md prescribes.  The window geometry arrives as one
``ctorch._geometry.Window2d`` (as on the CPU) and is unpacked into the kernels' scalars.
"""

from __future__ import annotations

from typing import Any

from .._geometry import Window2d
from . import _checks as ck
from ._loader import launch

FAMILY = "conv"


def im2col(x: Any, cols: Any, geo: Window2d) -> None:
    """cols[n, (c*kh + i)*kw + j, oy*ow + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]
    (0 outside the input)."""
    k = "im2col"
    args = ck.window(k, geo)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, geo.x_size, dt)
    n = geo.cols_size
    ck.arr(k, "cols", cols, n, dt)
    launch(FAMILY, "im2col_kernel", dt, n, (x, cols) + args)


def col2im(cols: Any, x: Any, geo: Window2d) -> None:
    """x = adjoint of im2col applied to cols (x is overwritten, as on the CPU, where it is
    zeroed first); deterministic gather, no atomics."""
    k = "col2im"
    args = ck.window(k, geo)
    dt = ck.fdtype(k, x)
    n = geo.x_size
    ck.arr(k, "x", x, n, dt)
    ck.arr(k, "cols", cols, geo.cols_size, dt)
    launch(FAMILY, "col2im_kernel", dt, n, (cols, x) + args)
