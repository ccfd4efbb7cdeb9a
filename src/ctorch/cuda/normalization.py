"""GPU launchers of the normalization family (kernels/normalization.cu)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks as ck
from ._loader import get_function, launch, max_blocks
from .reduction import _row_threads

FAMILY = "normalization"
_LN_CHUNK = 256  # must match LN_CHUNK in normalization.cu


def _cupy() -> Any:
    from . import require_cupy

    return require_cupy("a CUDA normalization kernel")


def _opt(a: Any, dummy: Any) -> tuple[Any, np.int32]:
    """(pointer argument, has flag) for an optional array."""
    return (dummy, ck.i32(0)) if a is None else (a, ck.i32(1))


def _blocks(k: str, name: str, dt: Any, nblocks: int, per_block: int, args: tuple) -> None:
    if nblocks <= 0:
        return
    fn = get_function(FAMILY, name, dt)
    fn((min(nblocks, max_blocks()),), (_row_threads(per_block),), args)


def batchnorm_stats(x: Any, mean: Any, invstd: Any, N: int, C: int, HW: int, eps: float) -> None:
    """Per-channel mean and 1/sqrt(biased var + eps) over N and HW (x is (N, C, HW))."""
    k = "batchnorm_stats"
    ck.sizes(k, N=N, C=C, HW=HW)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, N * C * HW, dt)
    ck.arr(k, "mean", mean, C, dt)
    ck.arr(k, "invstd", invstd, C, dt)
    if N * HW == 0 and C:
        raise ValueError(f"batchnorm_stats: no elements per channel (N={N}, HW={HW})")
    _blocks(
        k,
        "batchnorm_stats_kernel",
        dt,
        C,
        N * HW,
        (x, mean, invstd, ck.i64(N), ck.i64(C), ck.i64(HW), np.float64(eps)),
    )


def batchnorm_apply(
    x: Any, mean: Any, invstd: Any, weight: Any, bias: Any, y: Any, N: int, C: int, HW: int
) -> None:
    """y = (x - mean[c]) * invstd[c] * weight[c] + bias[c] (weight/bias may be None)."""
    k = "batchnorm_apply"
    ck.sizes(k, N=N, C=C, HW=HW)
    dt = ck.fdtype(k, x)
    n = N * C * HW
    ck.arr(k, "x", x, n, dt)
    ck.arr(k, "y", y, n, dt)
    ck.arr(k, "mean", mean, C, dt)
    ck.arr(k, "invstd", invstd, C, dt)
    ck.opt(k, "weight", weight, C, dt)
    ck.opt(k, "bias", bias, C, dt)
    launch(
        FAMILY,
        "batchnorm_apply_kernel",
        dt,
        n,
        (x, mean, invstd)
        + _opt(weight, mean)
        + _opt(bias, mean)
        + (y, ck.i64(N), ck.i64(C), ck.i64(HW)),
    )


def batchnorm_backward(
    gy: Any,
    x: Any,
    mean: Any,
    invstd: Any,
    weight: Any,
    gx: Any,
    gw: Any,
    gb: Any,
    N: int,
    C: int,
    HW: int,
    training: bool,
) -> None:
    """gb = sum gy, gw = sum gy*xhat per channel; gx = w*invstd*(gy - mean(gy) -
    xhat*mean(gy*xhat)) when training, else w*invstd*gy.  weight, gx, gw, gb may be None."""
    k = "batchnorm_backward"
    ck.sizes(k, N=N, C=C, HW=HW)
    dt = ck.fdtype(k, x)
    n = N * C * HW
    ck.arr(k, "gy", gy, n, dt)
    ck.arr(k, "x", x, n, dt)
    ck.arr(k, "mean", mean, C, dt)
    ck.arr(k, "invstd", invstd, C, dt)
    ck.opt(k, "weight", weight, C, dt)
    ck.opt(k, "gx", gx, n, dt)
    ck.opt(k, "gw", gw, C, dt)
    ck.opt(k, "gb", gb, C, dt)
    _blocks(
        k,
        "batchnorm_backward_kernel",
        dt,
        C,
        N * HW,
        (gy, x, mean, invstd)
        + _opt(weight, mean)
        + _opt(gx, x)
        + _opt(gw, mean)
        + _opt(gb, mean)
        + (ck.i64(N), ck.i64(C), ck.i64(HW), ck.i32(bool(training))),
    )


def layernorm_forward(
    x: Any, weight: Any, bias: Any, y: Any, mean: Any, rstd: Any, M: int, D: int, eps: float
) -> None:
    """Per row of x (M, D): y = (x - mean) * rstd * weight + bias; saves mean and rstd."""
    k = "layernorm_forward"
    ck.sizes(k, M=M, D=D)
    dt = ck.fdtype(k, x)
    ck.arr(k, "x", x, M * D, dt)
    ck.arr(k, "y", y, M * D, dt)
    ck.arr(k, "mean", mean, M, dt)
    ck.arr(k, "rstd", rstd, M, dt)
    ck.opt(k, "weight", weight, D, dt)
    ck.opt(k, "bias", bias, D, dt)
    if D == 0 and M:
        raise ValueError(f"layernorm_forward: empty rows (M={M}, D=0)")
    _blocks(
        k,
        "layernorm_forward_kernel",
        dt,
        M,
        D,
        (x,)
        + _opt(weight, x)
        + _opt(bias, x)
        + (y, mean, rstd, ck.i64(M), ck.i64(D), np.float64(eps)),
    )


def layernorm_backward(
    gy: Any, x: Any, mean: Any, rstd: Any, weight: Any, gx: Any, gw: Any, gb: Any, M: int, D: int
) -> None:
    """gx (may be None) per row; gw = sum_rows gy*xhat and gb = sum_rows gy (each may be
    None), reduced over fixed chunks of 256 rows then over chunks: deterministic."""
    k = "layernorm_backward"
    ck.sizes(k, M=M, D=D)
    dt = ck.fdtype(k, x)
    ck.arr(k, "gy", gy, M * D, dt)
    ck.arr(k, "x", x, M * D, dt)
    ck.arr(k, "mean", mean, M, dt)
    ck.arr(k, "rstd", rstd, M, dt)
    ck.opt(k, "weight", weight, D, dt)
    ck.opt(k, "gx", gx, M * D, dt)
    ck.opt(k, "gw", gw, D, dt)
    ck.opt(k, "gb", gb, D, dt)
    if gx is not None:
        _blocks(
            k,
            "layernorm_backward_gx_kernel",
            dt,
            M,
            D,
            (gy, x, mean, rstd) + _opt(weight, x) + (gx, ck.i64(M), ck.i64(D)),
        )
    if (gw is None and gb is None) or D == 0:
        return
    cp = _cupy()
    chunks = max(1, (M + _LN_CHUNK - 1) // _LN_CHUNK)
    pw = cp.zeros((chunks, D), dtype=np.float64)
    pb = cp.zeros((chunks, D), dtype=np.float64)
    tiles = (D + 31) // 32 * chunks
    if M:
        get_function(FAMILY, "layernorm_backward_params_partial", dt)(
            (min(tiles, max_blocks()),), (32, 8), (gy, x, mean, rstd, pw, pb, ck.i64(M), ck.i64(D))
        )
    launch(
        FAMILY,
        "layernorm_backward_params_final",
        dt,
        D,
        (pw, pb) + _opt(gw, x) + _opt(gb, x) + (ck.i64(chunks), ck.i64(D)),
    )
