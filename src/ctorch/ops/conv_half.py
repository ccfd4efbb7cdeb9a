"""16-bit (bfloat16, float16) convolution on the CPU: the float32 kernels a batch chunk at a time.

conv2d and conv_transpose2d of 16-bit CPU arrays (issue #12) run the float32 array layer
(``conv_gemm``: fused per-image AVX-512 kernels, Winograd, depthwise, the wide path, ...) on
chunks of the batch: a chunk of 16-bit images is widened into a float32 scratch buffer reused
for every chunk (the SIMD conversion kernel), the float32 conv runs on it, and its float32
result is rounded once into the chunk's rows of the 16-bit output. Backward does the same with
the output gradient (and x where dW is wanted); the input gradient is narrowed chunk by chunk,
dW and db are summed over the chunks in float32 and rounded once at the end. The weight and
bias (small) are widened once per call.

So each value is rounded once from a float32 accumulation, and the chunk size is a function of
the shapes only (``_HALF_CONV_CHUNK`` elements of input plus output per chunk, at least
``_FUSED_MIN_BATCH`` images so the per-image fused kernels still apply): the bits do not depend
on the thread count.

Why not im2col in bfloat16 + ``bgemm`` (AVX-512 BF16 dot products): on the benchmark layer
(N=64, 32->64, 3x3, pad 1, 32x32; this 2-core AVX-512 BF16 machine, no AMX) the bgemm products
alone, without any im2col, took 44 ms at 1 thread (64 per-image (64x288)@(288x1024) products;
75 ms as one (64x288)@(288x65536) product) against 33 ms for the whole chunked float32 forward
(which takes the float32 Winograd/fused kernels). And bgemm rounds its output to bfloat16, so
dW (a sum over the batch) rounded once would need a whole-batch bfloat16 column matrix (9x the
input for a 3x3 kernel): more memory than the whole-tensor widening this replaces. float16 has
no 16-bit dot product on this CPU at all. Chunk size: 2^17..2^20 float32 elements ran within
the timing noise on three layers; below ~2^18 a small-output layer (128->128, 8x8) slowed
down (its batched "wide" GEMM got too few images); 2^19 keeps the peak near the smallest.
"""

from __future__ import annotations

import numpy as np

from .._half import BF16, F16, F32, half_kernels, u16
from .conv_trim import _ShapeOnly
from .conv_wide import _FUSED_MIN_BATCH

#: float32 elements of one chunk's input plus output (2 MiB; measured in docs/kernels.md)
_HALF_CONV_CHUNK = 1 << 19


#: False sends 16-bit CPU convolutions back to the whole-tensor widening of ``float32_compute``
#: (tools/bench_conv_half.py's before/after comparison, and the peak-memory test)
NATIVE = [True]


def is_half_cpu(a) -> bool:
    """True for a float16/bfloat16 NumPy array (the CPU 16-bit conv path)."""
    return type(a) is np.ndarray and (a.dtype == BF16 or a.dtype == F16) and NATIVE[0]


def _per_chunk(in_item: int, out_item: int) -> int:
    """Images per chunk: ``_HALF_CONV_CHUNK`` float32 elements of input and output, at least
    ``_FUSED_MIN_BATCH`` (a shape-only rule: the same chunks for any thread count)."""
    return max(_FUSED_MIN_BATCH, _HALF_CONV_CHUNK // max(1, in_item + out_item))


def _chunks(n: int, per: int):
    return [slice(s, min(s + per, n)) for s in range(0, n, per)]


def _widen(a):
    """A float32 copy of a small 16-bit array (weight, bias), or None."""
    if a is None or isinstance(a, _ShapeOnly):
        return a
    out = np.empty(a.shape, F32)
    _conv(a.dtype).widen(_kind(a.dtype), u16(np.ascontiguousarray(a)), out.reshape(-1))
    return out


def _kind(dt) -> int:
    return 1 if dt == BF16 else 0


def _conv(dt):
    k = half_kernels()
    if k is None:  # pragma: no cover - a build without the 16-bit module
        raise RuntimeError(f"conv2d: {dt} on the CPU needs ctorch._core.half")
    return k


class _Scratch:
    """float32 scratch for a chunk of a 16-bit batch, reused over the chunks of one call."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = None

    def widen(self, a):
        """``a`` (a contiguous 16-bit chunk) widened into the scratch, as a float32 view."""
        n = a.size
        if self.buf is None or self.buf.size < n:
            self.buf = np.empty(n, F32)
        out = self.buf[:n]
        _conv(a.dtype).widen(_kind(a.dtype), u16(a), out)
        return out.reshape(a.shape)


def _narrow_into(dst, src) -> None:
    """Round float32 ``src`` once into the contiguous 16-bit ``dst`` (same shape)."""
    src = np.ascontiguousarray(src, F32)
    _conv(dst.dtype).narrow(_kind(dst.dtype), src.reshape(-1), u16(dst))


def half_forward(fwd, xa, wa, ba, out_tail, *geom):
    """``fwd(x32, w32, b32, *geom)`` (a float32 forward of the array layer) over chunks of the
    16-bit batch ``xa``; ``out_tail`` the output's shape past the batch dim."""
    hd = xa.dtype
    xa = np.ascontiguousarray(xa)
    N = xa.shape[0]
    y = np.empty((N, *out_tail), hd)
    if y.size == 0:
        return y
    w32, b32 = _widen(wa), _widen(ba)
    per = _per_chunk(xa[0].size, y[0].size)
    sx = _Scratch()
    for sl in _chunks(N, per):
        _narrow_into(y[sl], fwd(sx.widen(xa[sl]), w32, b32, *geom))
    return y


def half_backward(bwd, ga, xa, wa, geom, need_x, need_w, need_b):
    """``bwd(g32, x32, w32, *geom, need_x, need_w, need_b)`` (a float32 backward of the array
    layer returning (gx, gw, gb)) over chunks of the 16-bit batch: gx narrowed chunk by chunk,
    gw and gb summed over the chunks in float32 and rounded once."""
    hd = ga.dtype
    ga = np.ascontiguousarray(ga)
    N = ga.shape[0]
    xshape = tuple(xa.shape)
    shape_only = isinstance(xa, _ShapeOnly)
    if not shape_only:
        xa = np.ascontiguousarray(xa)
    if N == 0 or ga.size == 0:
        # an empty batch or output: the float32 code on whole widened (empty or all-zero
        # gradient) arrays, its results in the 16-bit dtype
        gx, gw, gb = bwd(_widen(ga), _widen(xa), _widen(wa), *geom, need_x, need_w, need_b)
        return _narrowed(gx, hd), _narrowed(gw, hd), _narrowed(gb, hd)
    w32 = _widen(wa) if need_x else _ShapeOnly(wa.shape)
    per = _per_chunk(int(np.prod(xshape[1:])), ga[0].size)
    gx = np.empty(xshape, hd) if need_x else None
    sg, sx = _Scratch(), _Scratch()
    gw = gb = None
    for sl in _chunks(N, per):
        n = sl.stop - sl.start
        gc = sg.widen(ga[sl])
        if need_w and not shape_only:
            xc = sx.widen(xa[sl])
        else:
            xc = _ShapeOnly((n, *xshape[1:]))
        gxc, gwc, gbc = bwd(gc, xc, w32, *geom, need_x, need_w, need_b)
        if need_x:
            _narrow_into(gx[sl], gxc)
        if need_w:
            gw = np.array(gwc, F32) if gw is None else _add(gw, gwc)
        if need_b:
            gb = np.array(gbc, F32) if gb is None else _add(gb, gbc)
    return gx, _narrowed(gw, hd), _narrowed(gb, hd)


def _add(acc, part):
    acc += part
    return acc


def _narrowed(a, hd):
    if a is None:
        return None
    out = np.empty(a.shape, hd)
    _narrow_into(out, a)
    return out
