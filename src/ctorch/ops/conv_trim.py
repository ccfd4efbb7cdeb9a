"""Convolution without the kernel taps that only ever read padding.

A 3x3 kernel with padding 1 on a 1x1 output reads its centre only; ``_trimmed`` gives the
geometry of the same convolution on the live taps (9x fewer multiply-adds there), and
``conv_gemm`` runs that one instead.
"""

from __future__ import annotations

import numpy as np

from .im2col import _out_size


class _ShapeOnly:
    """Shape-only stand-in for an operand whose value a backward does not need."""

    def __init__(self, shape) -> None:
        self.shape = tuple(shape)


def _live_taps(n, k, s, p, d, o):
    """(first, end, crop) of the kernel taps along one dim that read the input for some
    output (the others only ever read padding), and how many leading input rows the trimmed
    kernel skips; None when every tap is live."""

    def is_live(t):  # some output i in [0, o) with 0 <= i*s - p + t*d < n
        i = max(0, -((t * d - p) // s))  # the first i with i*s - p + t*d >= 0
        return i < o and i * s - p + t * d < n

    if k == 1 or (is_live(0) and is_live(k - 1)):
        return None
    live = [t for t in range(k) if is_live(t)]
    if not live:
        return None
    a, b = live[0], live[-1] + 1
    p2 = p - a * d
    return a, b, max(0, -p2)


def _trimmed(xa_shape, wa_shape, stride, padding, dilation, oh, ow):
    """Geometry of the same convolution without the taps that only read padding (a 3x3
    kernel with padding 1 on a 1x1 output reads its center only: 9x fewer multiply-adds),
    or None.  Returns (tap slices, input crop (rows, cols), new padding)."""
    _, _, H, W = xa_shape
    _, _, kh, kw = wa_shape
    th = _live_taps(H, kh, stride[0], padding[0], dilation[0], oh)
    tw = _live_taps(W, kw, stride[1], padding[1], dilation[1], ow)
    if th is None and tw is None:
        return None
    th = th or (0, kh, 0)
    tw = tw or (0, kw, 0)
    ph = max(0, padding[0] - th[0] * dilation[0])
    pw = max(0, padding[1] - tw[0] * dilation[1])
    # the trimmed geometry must give the same output size (padding is symmetric in it)
    if (
        _out_size(H - th[2], th[1] - th[0], stride[0], ph, dilation[0]) != oh
        or _out_size(W - tw[2], tw[1] - tw[0], stride[1], pw, dilation[1]) != ow
    ):
        return None
    return (th[0], th[1], tw[0], tw[1]), (th[2], tw[2]), (ph, pw)


def _taps(kw, a, b, c, d):
    return (np.arange(a, b)[:, None] * kw + np.arange(c, d)[None, :]).ravel()


def _untrimmed_weight_grad(gw, shape, a, b, c, d):
    """The full (OC, Cg, kh, kw) weight gradient: gw (of the taps [a, b) x [c, d)) in place,
    zeros elsewhere; one fancy-index store over the flattened taps (0.24 ms against 0.89 ms
    for the 4-D slice assignment on 512x256x3x3)."""
    OC, Cg, kh, kw = shape
    full = np.zeros((OC * Cg, kh * kw), gw.dtype)
    full[:, _taps(kw, a, b, c, d)] = gw.reshape(OC * Cg, (b - a) * (d - c))
    return full.reshape(shape)


def _trimmed_weight(wa, a, b, c, d):
    """wa[:, :, a:b, c:d] as a C-contiguous array, gathered with one ``take`` over the
    flattened taps (NumPy's copy of the 4-D slice moves runs of b-a floats: 512x256x3x3 ->
    2x2 took 0.83 ms against 0.23 ms; a fancy index gives a transposed layout, copied again
    later)."""
    kh, kw = wa.shape[2:]
    flat = wa.reshape(wa.shape[0] * wa.shape[1], kh * kw).take(_taps(kw, a, b, c, d), axis=1)
    return flat.reshape(wa.shape[0], wa.shape[1], b - a, d - c)
