"""GPU launchers of the pooling family (kernels/pooling.cu)."""

from __future__ import annotations

from typing import Any

from . import _checks as ck
from ._loader import launch

FAMILY = "pooling"


def maxpool2d_forward(
    x: Any,
    y: Any,
    idx: Any,
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
    """y = max over each (dilated) window, padding counts as -inf; idx gets the flat
    in-plane position h*W + w of the max (a NaN wins, as in torch)."""
    k = "maxpool2d_forward"
    ck.sizes(k, N=N, C=C, H=H, W=W, ph=ph, pw=pw, oh=oh, ow=ow)
    ck.positive(k, kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, N * C * H * W, dt)
    n = N * C * oh * ow
    ck.arr(k, "y", y, n, dt)
    ck.arr(k, "idx", idx, n, ck.I64)
    geo = tuple(ck.i64(v) for v in (N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))
    launch(FAMILY, "maxpool2d_forward_kernel", dt, n, (x, y, idx) + geo)


def maxpool2d_backward(gy: Any, idx: Any, gx: Any, NC: int, HW: int, OHW: int) -> None:
    """gx (zeroed here first, like the CPU kernel) += gy scattered at idx per plane.

    atomicAdd: with overlapping windows the summation order, so the last bits, may vary
    between runs.  An index outside [0, HW) is not checked (that would need a host sync)."""
    k = "maxpool2d_backward"
    ck.sizes(k, NC=NC, HW=HW, OHW=OHW)
    dt = ck.fdtype(k, gx, "gx")
    ck.arr(k, "gx", gx, NC * HW, dt)
    ck.arr(k, "gy", gy, NC * OHW, dt)
    ck.arr(k, "idx", idx, NC * OHW, ck.I64)
    launch("elementwise", "fill_kernel", dt, gx.size, (gx, ck.scalar(dt, 0), ck.i64(gx.size)))
    n = NC * OHW
    launch(
        FAMILY,
        "maxpool2d_backward_kernel",
        dt,
        n,
        (gy, idx, gx, ck.i64(NC), ck.i64(HW), ck.i64(OHW)),
    )


def _avg_args(
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
    oh: int,
    ow: int,
    count_include_pad: bool,
    divisor_override: int | None,
) -> tuple:
    ck.sizes(k, N=N, C=C, H=H, W=W, ph=ph, pw=pw, oh=oh, ow=ow)
    ck.positive(k, kh=kh, kw=kw, sh=sh, sw=sw)
    div = 0 if divisor_override is None else int(divisor_override)
    if div < 0:
        raise ValueError(f"{k}: divisor_override={divisor_override} must be positive")
    return tuple(ck.i64(v) for v in (N, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow)) + (
        ck.i32(bool(count_include_pad)),
        ck.i64(div),
    )


def avgpool2d_forward(
    x: Any,
    y: Any,
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
    oh: int,
    ow: int,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> None:
    """torch.nn.functional.avg_pool2d (divisor_override None or 0: no override)."""
    k = "avgpool2d_forward"
    args = _avg_args(
        k, N, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad, divisor_override
    )
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, N * C * H * W, dt)
    n = N * C * oh * ow
    ck.arr(k, "y", y, n, dt)
    launch(FAMILY, "avgpool2d_forward_kernel", dt, n, (x, y) + args)


def avgpool2d_backward(
    gy: Any,
    gx: Any,
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
    oh: int,
    ow: int,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> None:
    """Writes (overwrites) gx; deterministic gather over the windows holding each pixel."""
    k = "avgpool2d_backward"
    args = _avg_args(
        k, N, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow, count_include_pad, divisor_override
    )
    dt = ck.fdtype(k, gx, "gx")
    n = N * C * H * W
    ck.arr(k, "gx", gx, n, dt)
    ck.arr(k, "gy", gy, N * C * oh * ow, dt)
    launch(FAMILY, "avgpool2d_backward_kernel", dt, n, (gy, gx) + args)
