"""GPU launchers of the pooling family (kernels/pooling.cu)."""

from __future__ import annotations

from typing import Any

from . import _checks as C
from ._loader import launch

FAMILY = "pooling"


def _pos(k: str, **dims: int) -> None:
    for name, v in dims.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{k}: {name}={v!r} must be a positive integer")


def maxpool2d_forward(x: Any, y: Any, idx_i64: Any, N: int, C_: int, H: int, W: int, kh: int,
                      kw: int, sh: int, sw: int, ph: int, pw: int, dh: int, dw: int, oh: int,
                      ow: int) -> None:
    """y = max over each (dilated) window, padding counts as -inf; idx_i64 gets the flat
    in-plane position h*W + w of the max (a NaN wins, as in torch)."""
    k = "maxpool2d_forward"
    C.sizes(k, N=N, C=C_, H=H, W=W, ph=ph, pw=pw, oh=oh, ow=ow)
    _pos(k, kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw)
    dt = C.fdtype(k, x)
    C.arr(k, "x", x, N * C_ * H * W, dt)
    n = N * C_ * oh * ow
    C.arr(k, "y", y, n, dt)
    C.arr(k, "idx", idx_i64, n, C.I64)
    geo = tuple(C.i64(v) for v in (N, C_, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))
    launch(FAMILY, "maxpool2d_forward_kernel", dt, n, (x, y, idx_i64) + geo)


def maxpool2d_backward(gy: Any, idx_i64: Any, gx: Any, NC: int, HW: int, OHW: int) -> None:
    """gx[plane, idx[plane, o]] += gy[plane, o] into a zeroed gx (atomicAdd: with overlapping
    windows the summation order, so the last bits, may vary between runs)."""
    k = "maxpool2d_backward"
    C.sizes(k, NC=NC, HW=HW, OHW=OHW)
    dt = C.fdtype(k, gx, "gx")
    C.arr(k, "gx", gx, NC * HW, dt)
    C.arr(k, "gy", gy, NC * OHW, dt)
    C.arr(k, "idx", idx_i64, NC * OHW, C.I64)
    n = NC * OHW
    launch(FAMILY, "maxpool2d_backward_kernel", dt, n,
           (gy, idx_i64, gx, C.i64(NC), C.i64(HW), C.i64(OHW)))


def _avg_args(k: str, N: int, C_: int, H: int, W: int, kh: int, kw: int, sh: int, sw: int,
              ph: int, pw: int, oh: int, ow: int, count_include_pad: bool,
              divisor_override: int | None) -> tuple:
    C.sizes(k, N=N, C=C_, H=H, W=W, ph=ph, pw=pw, oh=oh, ow=ow)
    _pos(k, kh=kh, kw=kw, sh=sh, sw=sw)
    div = 0 if divisor_override is None else int(divisor_override)
    if div < 0:
        raise ValueError(f"{k}: divisor_override={divisor_override} must be positive")
    return tuple(C.i64(v) for v in (N, C_, H, W, kh, kw, sh, sw, ph, pw, oh, ow)) + (
        C.i32(bool(count_include_pad)), C.i64(div))


def avgpool2d_forward(x: Any, y: Any, N: int, C_: int, H: int, W: int, kh: int, kw: int,
                      sh: int, sw: int, ph: int, pw: int, oh: int, ow: int,
                      count_include_pad: bool = True, divisor_override: int | None = None) -> None:
    """torch.nn.functional.avg_pool2d (divisor_override None or 0: no override)."""
    k = "avgpool2d_forward"
    args = _avg_args(k, N, C_, H, W, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad,
                     divisor_override)
    dt = C.fdtype(k, x)
    C.arr(k, "x", x, N * C_ * H * W, dt)
    n = N * C_ * oh * ow
    C.arr(k, "y", y, n, dt)
    launch(FAMILY, "avgpool2d_forward_kernel", dt, n, (x, y) + args)


def avgpool2d_backward(gy: Any, gx: Any, N: int, C_: int, H: int, W: int, kh: int, kw: int,
                       sh: int, sw: int, ph: int, pw: int, oh: int, ow: int,
                       count_include_pad: bool = True,
                       divisor_override: int | None = None) -> None:
    """Writes (overwrites) gx; deterministic gather over the windows holding each pixel."""
    k = "avgpool2d_backward"
    args = _avg_args(k, N, C_, H, W, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad,
                     divisor_override)
    dt = C.fdtype(k, gx, "gx")
    n = N * C_ * H * W
    C.arr(k, "gx", gx, n, dt)
    C.arr(k, "gy", gy, N * C_ * oh * ow, dt)
    launch(FAMILY, "avgpool2d_backward_kernel", dt, n, (gy, gx) + args)
