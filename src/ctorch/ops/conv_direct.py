"""Direct float32 kernels for grouped convolutions with few channels per group (CPU).

Depthwise convolutions (one input channel per group) and groups of a few channels (ResNeXt's
32 groups of 4) make GEMMs with a handful of rows and a short inner size, which run far below
the micro-kernel's speed; ``conv.grouped_conv2d_*`` (``_core/_gconv_f32.h``, AVX-512) compute
them directly over zero-padded planes, 16 output columns by 4 rows per register block.
Results are bitwise identical for any thread count (threads split (image, group) items for
y and gx, groups for gw).  Other cases (float64, no AVX-512, horizontal stride > 2, more than
49 taps, larger groups) keep the depthwise plane loops or the GEMM paths of ``conv_gemm``.
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, cpu_kernels
from .._geometry import Window2d

#: the direct kernels from groups of at most this many (input x output) channels: measured
#: at 1 thread (32 images, 3x3): 4x4 channels 7x7 0.45 ms against the batched GEMM's 0.79;
#: 16x16 channels 14x14 1.5 ms against 0.92 (the GEMM wins from there)
_MAX_GROUP_CHANNELS = 32


def _kernels(xa, wa, geo: Window2d, g: int):
    """The CPU kernels when conv2d with this geometry runs on the direct grouped kernels."""
    if g == 1 or type(xa) is not np.ndarray or xa.dtype != np.float32 or wa.dtype != np.float32:
        return None
    Cg, OCg = geo.C // g, wa.shape[0] // g
    if Cg * OCg > _MAX_GROUP_CHANNELS or geo.sw > 2 or geo.kh * geo.kw > 49:
        return None
    k = cpu_kernels
    if not (k.has("grouped_conv2d_forward") and k.GCONV_AVX512):
        return None
    # the kernels multiply padding zeros (and grad x inserted zeros) by every tap: a
    # non-finite weight would make nan there where torch's float32 kernels skip the padding
    if not np.isfinite(wa).all():
        return None
    return k


def direct_forward(xa, wa, ba, geo: Window2d, g: int):
    """y (N, OC, oh, ow) by the direct kernel, or None when it does not apply."""
    k = _kernels(xa, wa, geo, g)
    if k is None:
        return None
    OC = wa.shape[0]
    y = np.empty((geo.N, OC, geo.oh, geo.ow), np.float32)
    k.grouped_conv2d_forward(
        contiguous(xa).reshape(-1), contiguous(wa).reshape(-1),
        None if ba is None else contiguous(ba), y.reshape(-1), geo, g, OC,
    )  # fmt: skip
    return y


def _dx_applies(geo: Window2d) -> bool:
    """grad x runs as a stride-1 convolution of the zero-inserted gy with the flipped taps:
    that needs padding within the dilated kernel."""
    _, _, _, _, kh, kw, _, _, ph, pw, dh, dw, _, _ = geo
    return ph <= (kh - 1) * dh and pw <= (kw - 1) * dw


def direct_backward(ga, xa, wa, geo: Window2d, g: int, need_x: bool, need_w: bool):
    """(gx, gw, x_left) by the direct kernels, gx/gw None where not needed; ``x_left`` says
    that gx is still to be computed by another path.  None when the kernels do not apply."""
    k = _kernels(ga, wa, geo, g)
    if k is None:
        return None
    OC = wa.shape[0]
    ga = contiguous(ga)
    gx = gw = None
    if need_w:
        gw = np.empty(wa.shape, np.float32)
        k.grouped_conv2d_backward_weight(
            ga.reshape(-1), contiguous(xa).reshape(-1), gw.reshape(-1), geo, g, OC
        )
    x_left = False
    if need_x:
        if _dx_applies(geo):
            gx = np.empty(geo.x_shape, np.float32)
            k.grouped_conv2d_backward_input(
                ga.reshape(-1), contiguous(wa).reshape(-1), gx.reshape(-1), geo, g, OC
            )
        else:
            x_left = True
    return gx, gw, x_left
