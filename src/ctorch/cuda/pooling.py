"""GPU launchers of the pooling family (kernels/pooling.cu)."""

from __future__ import annotations

from typing import Any

from .._geometry import Window2d
from . import _checks as ck
from ._loader import launch

FAMILY = "pooling"


def maxpool2d_forward(x: Any, y: Any, idx: Any, geo: Window2d) -> None:
    """y = max over each (dilated) window, padding counts as -inf; idx gets the flat
    in-plane position h*W + w of the max (a NaN wins, as in torch)."""
    k = "maxpool2d_forward"
    args = ck.window(k, geo)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, geo.x_size, dt)
    n = geo.y_size
    ck.arr(k, "y", y, n, dt)
    ck.arr(k, "idx", idx, n, ck.I64)
    launch(FAMILY, "maxpool2d_forward_kernel", dt, n, (x, y, idx) + args)


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
    k: str, geo: Window2d, count_include_pad: bool, divisor_override: int | None
) -> tuple:
    args = ck.window(k, geo, dilated=False)
    div = 0 if divisor_override is None else int(divisor_override)
    if div < 0:
        raise ValueError(f"{k}: divisor_override={divisor_override} must be positive")
    return args + (ck.i32(bool(count_include_pad)), ck.i64(div))


def avgpool2d_forward(
    x: Any,
    y: Any,
    geo: Window2d,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> None:
    """torch.nn.functional.avg_pool2d (divisor_override None or 0: no override; the
    geometry's dilation must be 1)."""
    k = "avgpool2d_forward"
    args = _avg_args(k, geo, count_include_pad, divisor_override)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, geo.x_size, dt)
    n = geo.y_size
    ck.arr(k, "y", y, n, dt)
    launch(FAMILY, "avgpool2d_forward_kernel", dt, n, (x, y) + args)


def avgpool2d_backward(
    gy: Any,
    gx: Any,
    geo: Window2d,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> None:
    """Writes (overwrites) gx; deterministic gather over the windows holding each pixel."""
    k = "avgpool2d_backward"
    args = _avg_args(k, geo, count_include_pad, divisor_override)
    dt = ck.fdtype(k, gx, "gx")
    n = geo.x_size
    ck.arr(k, "gx", gx, n, dt)
    ck.arr(k, "gy", gy, geo.y_size, dt)
    launch(FAMILY, "avgpool2d_backward_kernel", dt, n, (gy, gx) + args)
