"""GPU launchers of the nnmisc family (kernels/nnmisc.cu): embedding backward, dropout.

Besides the contract's ``dropout_mask(u_rand, ...)`` (randoms supplied by the caller), the
GPU side has a counter-based generator (Philox4x32-10 keyed by (seed, offset), seeded by
``ctorch.cuda.manual_seed``): ``uniform_`` fills an array and ``dropout_mask_rng`` fuses the
draw with the mask, so dropout needs no buffer of randoms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks as ck
from ._loader import launch

FAMILY = "nnmisc"


def _cupy() -> Any:
    from . import require_cupy

    return require_cupy("a CUDA embedding kernel")


def _check_embedding_backward(k: str, gy: Any, idx: Any, gw: Any, n_idx: int, D: int) -> Any:
    """The float dtype of an embedding backward's arrays, checked: gy (n_idx, D) and gw of
    it, idx n_idx int64."""
    ck.sizes(k, n_idx=n_idx, D=D)
    dt = ck.fdtype(k, gw, "gw")
    ck.arr(k, "gy", gy, n_idx * D, dt)
    ck.arr(k, "idx", idx, n_idx, ck.I64)
    ck.arr(k, "gw", gw, None, dt)
    return dt


def embedding_backward(
    gy: Any, idx: Any, gw: Any, n_idx: int, D: int, padding_idx: int = -1
) -> None:
    """gw (V, D), zeroed here first (like the CPU kernel), += gy[i] at row idx[i] for each
    of the n_idx rows of gy (n_idx, D).  Deterministic: indices are stably sorted
    (cupy.argsort) and each run of equal indices is summed in its original order.  Rows
    equal to padding_idx (negative: none) and indices outside [0, V) are skipped (the CPU
    kernel raises IndexError for those; checking here would need a host sync)."""
    k = "embedding_backward"
    dt = _check_embedding_backward(k, gy, idx, gw, n_idx, D)
    if D == 0 or gw.size % D:
        if D == 0 and gw.size == 0:
            return
        raise ValueError(f"{k}: gw has {gw.size} elements, not a multiple of D={D}")
    V = gw.size // D
    launch("elementwise", "fill_kernel", dt, gw.size, (gw, ck.scalar(dt, 0), ck.i64(gw.size)))
    if n_idx == 0:
        return
    cp = _cupy()
    order = cp.argsort(idx)  # stable
    sorted_idx = cp.ascontiguousarray(idx[order])
    pad = -1 if padding_idx is None else int(padding_idx)
    launch(
        FAMILY,
        "embedding_backward_sorted_kernel",
        dt,
        n_idx * D,
        (gy, sorted_idx, order, gw, ck.i64(n_idx), ck.i64(D), ck.i64(V), ck.i64(pad)),
    )


def embedding_backward_atomic(
    gy: Any, idx: Any, gw: Any, n_idx: int, D: int, padding_idx: int = -1
) -> None:
    """embedding_backward with atomicAdd (no sort; not bitwise reproducible when an index
    repeats).  GPU only."""
    k = "embedding_backward_atomic"
    dt = _check_embedding_backward(k, gy, idx, gw, n_idx, D)
    if D == 0:
        return
    if gw.size % D:
        raise ValueError(f"{k}: gw has {gw.size} elements, not a multiple of D={D}")
    pad = -1 if padding_idx is None else int(padding_idx)
    launch("elementwise", "fill_kernel", dt, gw.size, (gw, ck.scalar(dt, 0), ck.i64(gw.size)))
    launch(
        FAMILY,
        "embedding_backward_atomic_kernel",
        dt,
        n_idx * D,
        (gy, idx, gw, ck.i64(n_idx), ck.i64(D), ck.i64(gw.size // D), ck.i64(pad)),
    )


def dropout_mask(u_rand: Any, mask_out: Any, p: float, scale: float) -> None:
    """mask = (u >= p) * scale."""
    k = "dropout_mask"
    dt, n = ck.same_size(k, mask_out=mask_out, u_rand=u_rand)
    launch(
        FAMILY,
        "dropout_mask_kernel",
        dt,
        n,
        (u_rand, mask_out, ck.i64(n), ck.scalar(dt, p), ck.scalar(dt, scale)),
    )


def uniform_(out: Any, seed: int | None = None, offset: int | None = None) -> None:
    """Fill out with uniform [0, 1) numbers from Philox(seed, offset + i).

    With seed/offset None, draws from the current device's generator (advancing it)."""
    k = "uniform_"
    dt = ck.fdtype(k, out, "out")
    ck.arr(k, "out", out, None, dt)
    n = out.size
    seed, offset = _state(n, seed, offset)
    launch(FAMILY, "uniform_kernel", dt, n, (out, ck.i64(n), seed, offset))


def dropout_mask_rng(
    mask_out: Any, p: float, scale: float, seed: int | None = None, offset: int | None = None
) -> None:
    """mask = (uniform >= p) * scale with the uniforms drawn in-kernel (fused dropout_mask)."""
    k = "dropout_mask_rng"
    dt = ck.fdtype(k, mask_out, "mask_out")
    ck.arr(k, "mask_out", mask_out, None, dt)
    n = mask_out.size
    seed, offset = _state(n, seed, offset)
    launch(
        FAMILY,
        "dropout_mask_philox_kernel",
        dt,
        n,
        (mask_out, ck.i64(n), ck.scalar(dt, p), ck.scalar(dt, scale), seed, offset),
    )


def _state(n: int, seed: int | None, offset: int | None) -> tuple[np.uint64, np.uint64]:
    if seed is None:
        from . import _philox_state

        s, o = _philox_state(n)
        seed = s
        offset = o if offset is None else offset
    mask = 0xFFFFFFFFFFFFFFFF
    return np.uint64(int(seed) & mask), np.uint64(int(offset or 0) & mask)
