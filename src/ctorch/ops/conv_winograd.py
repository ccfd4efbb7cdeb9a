"""3x3 convolutions (stride 1, padding 1) by Winograd's F(2x2, 3x3) on the CPU.

ResNet's 3x3 stride-1 convolutions on small planes (7x7, 4x4, 2x2 at 28x28 inputs) spend
most of their time in the GEMM, which already runs near the micro-kernel's speed; F(2x2, 3x3)
does 16 multiplies per 2x2 output tile where the direct product does 36, so the 16 GEMMs of
``gemm.winograd_conv3x3`` (``_core/_winograd_f32.h``) do 2.25x fewer flops (1.7x on 7x7
planes, whose tiles overhang by a row and a column), and the transforms run on 16 images per
vector.  The input gradient of such a convolution is the same convolution of gy with the
flipped, transposed weight, so it takes the same kernel; the weight gradient is the gradient
of the Winograd forward (the output transform's adjoint on gy, 16 GEMMs over all tiles and
images, G^T dU G).  Results are bitwise identical for any thread count; they differ from the direct
products by a few float32 ulps (the transforms' roundings), as torch's own Winograd paths do.
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous
from .._backend import sgemm_kernels as _sgemm_kernel
from .._geometry import Window2d
from .conv_scratch import _scratch

#: where the kernel is used: at least this many input and output channels (GEMM sizes where
#: sgemm runs well) ...
_MIN_CHANNELS = 16
#: ... and fewer output pixels per image than this (the batched "wide" path's range, where it
#: was measured: 7x7 1.5x, 4x4 2.1x, 2x2 1.6x faster than im2col + GEMM at 1 thread)
_MAX_PIXELS = 256
#: Larger planes, up to _MAX_PIXELS_WIDE pixels, where the channels are many enough for the
#: 16 GEMMs to outweigh the transforms' memory traffic: min(C, OC) per group of at least
#: _WIDE_CHANNELS[0] on 16x16 planes and _WIDE_CHANNELS[1] up to 32x32. Measured at 1 thread
#: on an AMD EPYC (Zen 5), forward / forward+backward against im2col + GEMM: N=32, 16x16
#: planes, 64 ch 1.19x / 1.48x, 48->64 1.27x / 1.26x, 128 1.20x / 1.46x; 28x28 64 ch 1.21x /
#: 1.28x, 128 1.55x / 1.62x; 32x32 64 ch 1.25x / 1.24x, 128 1.27x / 1.54x. Slower: 32x32
#: with 32 channels (0.85x / 0.92x) and 56x56 planes with 64 (0.89x / 0.96x).
_MAX_PIXELS_WIDE = 1024
_WIDE_CHANNELS = (32, 64)
#: The kernel's scratch holds every tile of the batch, ~10x the input (N=32, 64 channels,
#: 32x32: 77 MB forward, 85 MB weight gradient); above this many bytes the im2col + GEMM path
#: (an L2-sized buffer per thread) runs instead.
_MAX_WORK_BYTES = 256 << 20


def _kernels(xa, wa, geo: Window2d, g: int):
    """The CPU kernels when conv2d with this geometry runs on Winograd F(2x2, 3x3)."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    if (kh, kw, sh, sw, ph, pw, dh, dw) != (3, 3, 1, 1, 1, 1, 1, 1):
        return None
    OC = wa.shape[0]
    Np = (N + 15) // 16 * 16
    ch, px = min(C, OC) // g, H * W
    if px >= _MAX_PIXELS:
        if px > _MAX_PIXELS_WIDE or ch < _WIDE_CHANNELS[px > _MAX_PIXELS]:
            return None
    if ch < _MIN_CHANNELS or 4 * N < 3 * Np:
        return None  # (images are padded to 16 per vector: at most a quarter of lanes idle)
    # (wa is a _ShapeOnly in a backward that needs only the weight's gradient: x decides)
    k = _sgemm_kernel(xa, wa if hasattr(wa, "dtype") else xa)
    if k is None or not k.has("winograd_conv3x3"):
        return None
    try:  # (past the kernel's own size limit, 2**29, it raises: the GEMM path then)
        sizes = [
            k.winograd_work_size(N, a, H, W, b, wg) for a, b in ((C, OC), (OC, C)) for wg in (0, 1)
        ]
    except ValueError:
        return None
    if 4 * max(sizes) > _MAX_WORK_BYTES:  # (forward, input gradient: channels swapped, wgrad)
        return None
    return k


def winograd_applies(a, wa, geo: Window2d, g: int) -> bool:
    """Whether conv2d (and its gradients) with this geometry run on Winograd F(2x2, 3x3)."""
    return _kernels(a, wa, geo, g) is not None


def _run(k, xa, wa, ba, N, C, H, W, OC, g, flip=False):
    y = np.empty((N, OC, H, W), np.float32)
    work = _scratch(3, (k.winograd_work_size(N, C, H, W, OC),), np.float32, xa)
    k.winograd_conv3x3(
        contiguous(xa).reshape(-1), contiguous(wa).reshape(-1),
        None if ba is None else contiguous(ba), y.reshape(-1), N, C, H, W, OC, work, flip, g,
    )  # fmt: skip
    return y


def winograd_forward(xa, wa, ba, geo: Window2d, g: int):
    """y (N, OC, H, W) by Winograd F(2x2, 3x3), or None when it does not apply."""
    k = _kernels(xa, wa, geo, g)
    if k is None:
        return None
    N, C, H, W = geo.x_shape
    return _run(k, xa, wa, ba, N, C, H, W, wa.shape[0], g)


def winograd_input_grad(ga, wa, geo: Window2d, g: int):
    """gx (N, C, H, W) of the stride-1, padding-1 3x3 conv2d: conv2d(gy, w^T rotated by 180
    degrees, padding 1) by the same kernel; None when it does not apply."""
    k = _kernels(ga, wa, geo, g)
    if k is None:
        return None
    N, C, H, W = geo.x_shape
    # the kernel flips and transposes w itself (a NumPy copy of the reversed view cost ~1 ms
    # for 256x256 channels)
    return _run(k, ga, wa, None, N, wa.shape[0], H, W, C, g, flip=True)


def winograd_weight_grad(ga, xa, wa, geo: Window2d, g: int):
    """gw (OC, C/g, 3, 3) of the stride-1, padding-1 3x3 conv2d, the gradient of the Winograd
    forward (16 GEMMs summing all tiles and images); None when the kernel does not apply."""
    k = _kernels(ga, wa, geo, g)
    if k is None:
        return None
    N, C, H, W = geo.x_shape
    OC = wa.shape[0]
    gw = np.empty((OC, C // g, 3, 3), np.float32)
    work = _scratch(3, (k.winograd_work_size(N, C, H, W, OC, True),), np.float32, ga)
    k.winograd_conv3x3_wgrad(
        contiguous(xa).reshape(-1), contiguous(ga).reshape(-1), gw.reshape(-1), N, C, H, W, OC,
        work, g,
    )  # fmt: skip
    return gw
