"""GPU launchers of the conv family (kernels/conv.cu): im2col / col2im.

The GEMM between them is not ours: the ops layer multiplies the columns with
``cupy.matmul`` (cuBLAS), as DESIGN.md prescribes.
"""

from __future__ import annotations

from typing import Any

from . import _checks as ck
from ._loader import launch

FAMILY = "conv"


def _geometry(
    k: str,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    oh: int,
    ow: int,
) -> tuple:
    ck.sizes(k, N=N, C=C, H=H, W=W, kh=kh, kw=kw, ph=ph, pw=pw, oh=oh, ow=ow)
    ck.positive(k, sh=sh, sw=sw, dh=dh, dw=dw)
    return tuple(ck.i64(v) for v in (N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))


def im2col(
    x: Any,
    cols: Any,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    oh: int,
    ow: int,
) -> None:
    """cols[n, (c*kh + i)*kw + j, oy*ow + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]
    (0 outside the input)."""
    k = "im2col"
    geo = _geometry(k, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, N * C * H * W, dt)
    n = N * C * kh * kw * oh * ow
    ck.arr(k, "cols", cols, n, dt)
    launch(FAMILY, "im2col_kernel", dt, n, (x, cols) + geo)


def col2im(
    cols: Any,
    x: Any,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    oh: int,
    ow: int,
) -> None:
    """x = adjoint of im2col applied to cols (x is overwritten, as on the CPU, where it is
    zeroed first); deterministic gather, no atomics."""
    k = "col2im"
    geo = _geometry(k, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    dt = ck.fdtype(k, x)
    n = N * C * H * W
    ck.arr(k, "x", x, n, dt)
    ck.arr(k, "cols", cols, N * C * kh * kw * oh * ow, dt)
    launch(FAMILY, "col2im_kernel", dt, n, (cols, x) + geo)
