"""Spatial resampling and padding: interpolate/upsample, pad, pixel_shuffle/unshuffle.

``pad`` in constant mode is one Function (a filled buffer and a slice copy; backward is the
slice).  Reflect / replicate / circular padding gather the input along each padded dimension
with ``index_select`` (its backward, an index-add, is autograd's).  ``interpolate`` is
separable: nearest modes gather with ``index_select``; linear, bilinear, bicubic and trilinear
apply one small (out, in) interpolation matrix per spatial dimension with ``matmul``, whose
weights follow torch's source-index rules (align_corners, scale_factor), applied as gathered
taps (``ops/taps.py``, shared with adaptive average pooling); area mode is adaptive average
pooling (``ops/avg_pool.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from .. import _memfmt as MF
from .. import _warnings
from .._backend import contiguous, xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .avg_pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from .indexing import IndexSelect
from .shape import _named, copy_op
from .taps import _apply_taps, _to_like

__all__ = [
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
]

_wrap = Tensor._make


# --------------------------------------------------------------------------- pad
def _pad_slices(shape, pad):
    """Per-dim (src slice, dst slice, out size) for a constant pad (negative pads crop)."""
    nd = len(shape)
    npad = len(pad) // 2
    src, dst, out = [], [], []
    for d in range(nd):
        k = nd - 1 - d  # pairs start from the last dim
        if k < npad:
            lo, hi = int(pad[2 * k]), int(pad[2 * k + 1])
        else:
            lo = hi = 0
        n = shape[d]
        o = n + lo + hi
        if o < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {lo} and {hi} "
                f"resulted in a negative output size, which is invalid. Check "
                f"dimension {d} of your input."
            )
        s0, s1 = max(0, -lo), n - max(0, -hi)
        d0 = max(0, lo)
        src.append(slice(s0, max(s0, s1)))
        dst.append(slice(d0, d0 + max(0, s1 - s0)))
        out.append(o)
    return tuple(src), tuple(dst), tuple(out)


class ConstantPadFn(Function):
    _node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pad, value):
        xa = x._a
        src, dst, out = _pad_slices(xa.shape, pad)
        if xa.flags.c_contiguous:
            y = xp_of(xa).full(out, value, xa.dtype)
        else:  # torch pads a channels-last input into a channels-last result
            y = MF.empty_in_format_of(out, xa.dtype, xa)
            y.fill(value)
        y[dst] = xa[src]
        ctx.sl = (src, dst, xa.shape)
        return _wrap(y)

    @staticmethod
    def backward(ctx, g):
        src, dst, shape = ctx.sl
        if state.enabled:  # double backward: slice, then pad back (both differentiable)
            spec = []
            for s, n in zip(src[::-1], shape[::-1], strict=True):
                spec += [s.start, n - s.stop]
            return ConstantPadFn.apply(g[dst], spec, 0.0), None, None
        ga = g._a
        gx = xp_of(ga).zeros(shape, ga.dtype)
        gx[src] = ga[dst]
        return _wrap(gx), None, None


class _PadGather(IndexSelect):
    """One padded dimension's gather; the last one lays the result out in the input's
    suggested memory format (``ref``), as torch's reflection / replication pads do
    (channels-last in, channels-last out). The rest come as keywords: the node has one
    input, as torch's pad nodes (``next_functions``, a hook's ``grad_inputs``)."""

    @staticmethod
    def forward(ctx, x, *, dim, index, ref=None):
        y = IndexSelect.forward(ctx, x, dim, index)
        if ref is not None:
            y._a = MF.like_input(y._a, ref)
        return y

    @staticmethod
    def backward(ctx, g):
        return (IndexSelect.backward(ctx, g)[0],)


def _gather_index(n, lo, hi, mode):
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(i)
        period = 2 * (n - 1)
        i = np.abs(i) % period
        return np.where(i >= n, period - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return i % n  # circular


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the trailing dimensions: ``pad`` = (left_last, right_last, left_prev, ...)."""
    for i, p in enumerate(pad):
        if not isinstance(p, numbers.Integral) and not (
            isinstance(p, Tensor) and not p.is_floating_point()
        ):
            raise TypeError(
                "pad(): argument 'pad' (position 2) must be tuple of ints, but found element of "
                f"type {type(p).__name__} at pos {i}"
            )
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input._a.ndim
    if len(pad) // 2 > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of "
            f"dimension {nd}"
        )
    if mode == "constant":
        v = 0.0 if value is None else value
        if input._a.dtype.kind in "iub" and isinstance(v, float) and v.is_integer():
            v = int(v)
        return ConstantPadFn.apply(input, pad, v)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    npad = len(pad) // 2
    if nd not in (npad + 1, npad + 2) or npad > 3:
        raise NotImplementedError(  # torch's text
            f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode != "circular" and 0 in input._a.shape[nd - npad - 1 :]:
        raise RuntimeError(
            f"{mode} pad: Expected {npad + 1}D or {npad + 2}D (batch mode) tensor with possibly "
            "0 batch size and other non-zero dimensions for input, but got: "
            f"{list(input.shape)}"
        )
    y = input
    # circular padding is a composite of slices in torch: C order; the others keep the
    # input's channels-last layout
    ref = None if mode == "circular" or input._a.flags.c_contiguous else input._a
    last = max((k for k in range(npad) if pad[2 * k] or pad[2 * k + 1]), default=-1)
    if last < 0:  # nothing to pad: torch still returns a new tensor, never the input
        return input.clone()
    for k in range(npad):
        d = nd - 1 - k
        lo, hi = pad[2 * k], pad[2 * k + 1]
        if lo == 0 and hi == 0:
            continue
        n = y.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding "
                f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                f"{d} of input {list(input.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo < 0 or hi < 0:
            if mode != "circular":
                raise RuntimeError(f"{mode} padding does not support negative padding")
        idx = _gather_index(n, lo, hi, mode)
        it = _wrap(idx.astype(np.int64))
        if type(input._a) is not np.ndarray:
            it = it.to(input.device)
        node = _named(_PadGather, _PAD_NODE[mode].format(npad))
        y = node.apply(y, dim=d, index=it, ref=ref if k == last else None)
    return y


# torch's node names; circular padding is a composite there (CopySlices), a gather here
_PAD_NODE = {
    "reflect": "ReflectionPad{}DBackward0",
    "replicate": "ReplicationPad{}DBackward0",
    "circular": "IndexSelectBackward0",
}
_UPSAMPLE_NODE = {
    "nearest": "UpsampleNearest{}DBackward0",
    "nearest-exact": "UpsampleNearestExact{}DBackward0",
    "linear": "UpsampleLinear1DBackward0",
    "bilinear": "UpsampleBilinear2DBackward0",
    "bicubic": "UpsampleBicubic2DBackward0",
    "trilinear": "UpsampleTrilinear3DBackward0",
}


# --------------------------------------------------------------------------- interpolate
def _src_scale(n_in, n_out, align_corners, scale):
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if scale is not None and scale > 0:
        return 1.0 / scale
    return n_in / n_out


def _nearest_index(n_in, n_out, scale, exact):
    s = _src_scale(n_in, n_out, False, scale)
    o = np.arange(n_out, dtype=np.float64)
    # torch computes these source indices in float32
    o32, s32 = o.astype(np.float32), np.float32(s)
    if exact:
        i = np.floor((o32 + np.float32(0.5)) * s32)
    elif n_out == n_in:
        i = o
    elif n_out == 2 * n_in:
        i = np.floor(o / 2)
    else:
        i = np.floor(o32 * s32)
    return np.minimum(i.astype(np.int64), n_in - 1)


def _cubic_w(t, A=-0.75):
    t = np.abs(t)
    return np.where(
        t <= 1,
        ((A + 2) * t - (A + 3)) * t * t + 1,
        np.where(t < 2, ((A * t - 5 * A) * t + 8 * A) * t - 4 * A, 0.0),
    )


def _interp_taps(n_in, n_out, align_corners, scale, cubic):
    """(idx, w), each (n_out, T): output o = sum_t w[o, t] * x[idx[o, t]] (T = 2 or 4).

    torch's taps exactly, zero weights included (torch multiplies them too, so a NaN
    reaches the outputs whose taps touch it and no others).  A dense (n_out, n_in) matrix
    spread it over whole rows (0 * NaN) and cost O(n_in * n_out).
    """
    s = _src_scale(n_in, n_out, align_corners, scale)
    o = np.arange(n_out, dtype=np.float64)
    src = o * s if align_corners else (o + 0.5) * s - 0.5
    if cubic:
        f = np.floor(src)
        t = src - f
        ks = np.arange(-1, 3)
        idx = np.clip(f.astype(np.int64)[:, None] + ks, 0, n_in - 1)
        return idx, _cubic_w(t[:, None] - ks)
    if not align_corners:
        src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    l1 = src - i0
    return np.stack([i0, i1], 1), np.stack([1.0 - l1, l1], 1)


def _aa_filter(x, cubic):
    x = np.abs(x)
    if not cubic:
        return np.maximum(0.0, 1.0 - x)
    a = -0.5  # torch's antialias bicubic uses Keys' a = -0.5 (PIL), not -0.75
    return np.where(
        x < 1.0,
        ((a + 2) * x - (a + 3)) * x * x + 1,
        np.where(x < 2.0, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0),
    )


def _aa_taps(n_in, n_out, align_corners, scale, cubic):
    """torch's separable antialias filter (``_compute_indices_min_size_weights_aa``):
    support interp_size/2 scaled by the downscale factor, weights normalised per output.
    Taps past an output's window point at index n_in (a zero pad) with weight 0."""
    sc = _src_scale(n_in, n_out, align_corners, scale)
    interp = 4 if cubic else 2
    support = interp * 0.5 * sc if sc >= 1.0 else interp * 0.5
    invscale = 1.0 / sc if sc >= 1.0 else 1.0
    T = int(math.ceil(support)) * 2 + 1
    idx = np.full((n_out, T), n_in, np.int64)
    w = np.zeros((n_out, T), np.float64)
    for i in range(n_out):
        center = sc * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xsize = min(max(min(int(center + support + 0.5), n_in) - xmin, 0), T)
        j = np.arange(xsize)
        wj = _aa_filter((j + xmin - center + 0.5) * invscale, cubic)
        tot = wj.sum()
        if tot != 0.0:
            wj = wj / tot
        idx[i, :xsize] = xmin + j
        w[i, :xsize] = wj
    return idx, w


def _int_size(s) -> bool:
    """An output size torch's interpolate takes: an integer, or an integer tensor."""
    if isinstance(s, Tensor):
        return not s.is_floating_point()
    return isinstance(s, numbers.Integral)


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample the spatial dims of (N, C, *spatial) input, as torch.nn.functional.interpolate.

    Modes: nearest, nearest-exact, linear (3-D), bilinear (4-D), bicubic (4-D),
    trilinear (5-D), area.
    """
    nd = input._a.ndim - 2
    if size is not None:
        sizes = size if isinstance(size, (list, tuple)) else (size,)
        if not all(_int_size(s) for s in sizes):
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(s) for s in sizes]}"
            )
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if nd < 1 or nd > 3:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{nd + 2}D) for the modes: nearest | linear | bilinear | bicubic | "
            f"trilinear | area | nearest-exact (got {mode})"
        )
    if antialias and not (mode in ("bilinear", "bicubic") and nd == 2):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input"
        )
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    else:
        want = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
        if want is None:
            raise NotImplementedError(f"Input Error: unsupported mode {mode!r}")
        if want != nd:
            raise NotImplementedError(
                f"Got {nd + 2}D input, but {mode} mode needs {want + 2}D input"
            )
        if align_corners is None:
            align_corners = False
    in_sz = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out_sz = (
            tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else (int(size),) * nd
        )
        if len(out_sz) != nd:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions,"
                f" but got input with spatial dimensions of {list(in_sz)} and "
                f"output size of {list(out_sz)}. Please provide input tensor in "
                "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                "format."
            )
        scales = (None,) * nd
    elif scale_factor is not None:
        sf = (
            tuple(float(s) for s in scale_factor)
            if isinstance(scale_factor, (tuple, list))
            else (float(scale_factor),) * nd
        )
        if len(sf) != nd:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of {list(in_sz)} "
                f"and scale_factor of shape {list(sf)}."
            )
        if not all(math.isfinite(n * s) for n, s in zip(in_sz, sf, strict=True)):
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        out_sz = tuple(int(math.floor(n * s)) for n, s in zip(in_sz, sf, strict=True))
        scales = (None,) * nd if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode != "area":
        bad = any(n <= 0 for n in in_sz) or any(n <= 0 for n in out_sz)
        if bad:
            names = "DHW"[3 - nd :]
            ins = ", ".join(f"{a}: {n}" for a, n in zip(names, in_sz, strict=True))
            outs = ", ".join(f"{a}: {n}" for a, n in zip(names, out_sz, strict=True))
            sep = " and" if nd == 1 else ""
            raise RuntimeError(
                "Input and output sizes should be greater than 0, but got input "
                f"({ins}){sep} output ({outs})"
            )
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool1d(input, out_sz)
        if nd == 2:
            return adaptive_avg_pool2d(input, out_sz)
        raise NotImplementedError("interpolate: area mode supports 3D and 4D input")
    y = input
    # one node per resampled dim, each with torch's name for the whole op
    node = _UPSAMPLE_NODE.get(mode, "UpsampleBackward0").format(nd)
    if antialias:
        node = node.replace("DBackward0", "DAaBackward0")
    for k in range(nd):
        d = 2 + k
        n_in, n_out = in_sz[k], out_sz[k]
        if mode in ("nearest", "nearest-exact"):
            if n_in == n_out and scales[k] in (None, 1.0):
                continue
            idx = _nearest_index(n_in, n_out, scales[k], mode == "nearest-exact")
            y = _named(IndexSelect, node).apply(y, d, _to_like(idx, input))
            continue
        taps = _aa_taps if antialias else _interp_taps
        idx, w = taps(n_in, n_out, align_corners, scales[k], mode == "bicubic")
        y = _apply_taps(y, d, idx, w, node)
    if input._a.flags.c_contiguous:
        return y.contiguous() if y is not input else y.clone()
    # torch's upsampling kernels keep a channels-last input's format
    fmt = MF.suggest_memory_format(input._a.shape, MF.elem_strides(input._a))
    return y.contiguous(memory_format=fmt) if y is not input else y.clone(memory_format=fmt)


def upsample(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    _upsample_deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def _upsample_deprecated(name: str) -> None:
    _warnings.warn(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."
    )


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    _upsample_deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    _upsample_deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --------------------------------------------------------------------------- pixel shuffle
def _check_3d(op: str, input: Tensor) -> None:
    if input.dim() < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    _check_3d("pixel_shuffle", input)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be "
            f"divisible by the square of upscale_factor, but input.size(-3)={c} "
            f"is not divisible by {r * r}"
        )
    oc = c // (r * r)
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)

    def fwd(a):  # one copy, one node (torch's PixelShuffleBackward0)
        y = a.reshape(*lead, oc, r, r, h, w).transpose(perm)
        # torch: the input's suggested memory format (channels-last stays so)
        return MF.like_input(contiguous(y.reshape(*lead, oc, h * r, w * r)), a)

    return copy_op(input, fwd, lambda g: pixel_unshuffle(g, r), "PixelShuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    _check_3d("pixel_unshuffle", input)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            "pixel_unshuffle expects height and width to be divisible by "
            f"downscale_factor, but got {h} x {w} and {r}"
        )
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)

    def fwd(a):
        y = a.reshape(*lead, c, h // r, r, w // r, r).transpose(perm)
        return MF.like_input(y.reshape(*lead, c * r * r, h // r, w // r), a)

    return copy_op(input, fwd, lambda g: pixel_shuffle(g, r), "PixelUnshuffleBackward0")
