"""Convolution with the whole batch side by side ("wide" columns), on CPU arrays.

With small outputs (ResNet's later stages at 28x28 inputs: 4x4, 2x2, 1x1) one GEMM per image
has only oh*ow columns (the 48-wide micro-panels run mostly empty) and the weight gradient
sums N products of inner size oh*ow.  Here the columns of all images sit side by side,
cols (C*kh*kw, N*oh*ow), so that the forward, dW and dcols are each ONE GEMM per group:

  forward  Yt (OC, N*L) = W (OC, K) @ cols;        y = Yt as (N, OC, L) (+ bias)
  dW       dW (OC, K)  = gyt (OC, N*L) @ cols^T     (gyt: gy as (OC, N*L))
  dx       dcols       = W^T @ gyt;                 gx = col2im(dcols)

Every element is one fixed chain over the GEMM's K blocks (sgemm never splits K over
threads), so the results are bitwise identical for any thread count.  Used on the CPU for
float32 where the per-image fused kernels do not pay (small oh*ow, groups) and for float64.
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, float_kernels
from .._backend import sgemm_kernels as _sgemm_kernel
from .._geometry import Window2d
from .conv_scratch import _scratch
from .im2col import _is_1x1, _window, col2im_array, im2col_array

#: float32, groups 1: the fused per-image kernels (``conv_gemm._fused_kernel``) from this
#: many images
_FUSED_MIN_BATCH = 4

#: float32, groups 1: the fused per-image kernels from this many output pixels per image
#: where the weight gradient is computed (per image its products have an inner size of only
#: oh*ow; the wide path sums the batch in one product)
_WIDE_MAX_L = 256

#: ... and from this many for the forward and the input gradient alone (one W @ cols
#: product per image, oh*ow columns wide): there the wide path's whole-batch columns (8 MB
#: for DCGAN's 128->256 16->8 at batch 16) make round trips through memory that the
#: per-image L2-sized buffer does not (that layer at 1 thread: forward 0.65 -> 0.83x torch,
#: the transposed 256->128 8->16: 0.76 -> 0.96x)
_WIDE_MAX_L_NO_DW = 64


#: float32, groups 1, 1x1 kernels: the per-image kernels from this many output pixels per
#: image (no columns to build there; the wide path's two transposes cost more: pointwise
#: 64->128 14x14 0.61 -> 0.47 ms, 1x1 stride 2 7->4 0.11 -> 0.07 ms; 4x4 -> 2x2 stays wide)
_WIDE_MAX_L_1X1 = 16


def _use_wide(xa, g, N, OC, K, L, k1x1=False, weight_grad=True):
    """Whether conv2d on this CPU array takes the batched ("wide") path; ``weight_grad``:
    whether the call computes the weight gradient (False: the forward, or the input
    gradient alone)."""
    if type(xa) is not np.ndarray or xa.dtype not in (np.float32, np.float64):
        return False
    if xa.dtype == np.float64 or g > 1:
        return True
    if k1x1:
        limit = _WIDE_MAX_L_1X1
    else:
        limit = _WIDE_MAX_L if weight_grad else _WIDE_MAX_L_NO_DW
    return L < limit or N < _FUSED_MIN_BATCH


#: float32 products from this many multiply-adds go to ctorch's sgemm, never to OpenBLAS
_SGEMM_MIN_MACS = 1 << 16


def _sgemm_serves(M, K, N, batch):
    """Whether a float32 CPU product (M, K) @ (K, N), ``batch`` times, goes to ctorch's
    sgemm rather than NumPy's OpenBLAS: all but the tiniest.

    At 1 thread sgemm was 1.2-1.8x faster from M, N >= 4 down to K = 8 (64x48 @ 48x1024
    x16: 0.45 against 0.83 ms); OpenBLAS wins only on 1-3 rows (1x16 @ 16x8192: 4.7 against
    20 us).  But OpenBLAS's threads spin for 50-200 ms after a threaded call and take the
    second core from the next OpenMP kernel: DCGAN's step at 2 threads ran in 263 ms with
    two such small products per discriminator pass, 164 ms with OpenBLAS kept to 1 thread.
    So a product big enough for OpenBLAS to thread (its gemv threshold is ~9k elements)
    stays with sgemm even where OpenBLAS alone would be faster; a shape-only rule, so the
    bits never depend on the thread count."""
    return M * K * N * batch >= _SGEMM_MIN_MACS or (M >= 4 and N >= 4 and K >= 8)


def _mm(a, b, out):
    """out[i] = a[i] @ b[i] for 3-D arrays (a or b of batch 1 broadcast): ctorch's sgemm for
    float32 (any strides, deterministic) where it serves (``_sgemm_serves``), else NumPy's
    matmul."""
    k = _sgemm_kernel(a, b)
    if k is not None and _sgemm_serves(out.shape[1], a.shape[2], out.shape[2], out.shape[0]):
        k.sgemm(a, b, out)
    else:
        np.matmul(a, b, out=out)
    return out


def _to_wide(a, N, C, L, slot):
    """a (N, C, L) as (C, N*L): a view when L == 1 (a strided operand), else a copy into a
    scratch buffer."""
    if L == 1:
        return a.reshape(N, C).T
    out = _scratch(slot, (C, N, L), a.dtype, a)
    np.copyto(out, a.reshape(N, C, L).transpose(1, 0, 2))
    return out.reshape(C, N * L)


def _from_wide(t, N, C, L, bias=None):
    """t (C, N*L) as a fresh (N, C, L) array (+ bias[c])."""
    y = np.empty((N, C, L), t.dtype)
    src = t.reshape(C, N, L).transpose(1, 0, 2)
    if bias is None:
        np.copyto(y, src)
    else:
        np.add(src, bias.reshape(1, C, 1), out=y)
    return y


def _wide_cols(xa, geo: Window2d, slot=0):
    """cols (C*kh*kw, N*oh*ow) of x (N, C, H, W), the images side by side; x itself (wide)
    for a 1x1/stride-1/unpadded kernel."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    L = oh * ow
    xa = contiguous(xa)
    if _is_1x1(kh, kw, sh, sw, ph, pw) and (H, W) == (oh, ow):
        return _to_wide(xa, N, C, L, slot)
    K = C * kh * kw
    out = _scratch(slot, (K, N * L), xa.dtype, xa)
    if kh == kw == 1 and ph == pw == 0:
        # a strided 1x1 kernel: one NumPy strided copy (the per-plane kernel spent its time in
        # per-plane overhead there: 128x4x4 -> 2x2 40 -> 23 us, 256x2x2 -> 1x1 60 -> 8 us)
        sub = xa[:, :, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]
        np.copyto(out.reshape(C, N, oh, ow), sub.transpose(1, 0, 2, 3))
        return out
    k = float_kernels(xa, "im2col_wide")
    if k is not None:
        k.im2col_wide(xa.reshape(-1), out.reshape(-1), geo)
        return out
    c3 = im2col_array(xa, geo)
    np.copyto(out.reshape(K, N, L), c3.transpose(1, 0, 2))
    return out


def _wide_col2im(dcols, geo: Window2d):
    """x (N, C, H, W) = the adjoint of _wide_cols applied to dcols (C*kh*kw, N*oh*ow)."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    L = oh * ow
    if _is_1x1(kh, kw, sh, sw, ph, pw) and (H, W) == (oh, ow):
        return _from_wide(dcols, N, C, L).reshape(N, C, H, W)
    if kh == kw == 1 and ph == pw == 0:  # a strided 1x1 kernel: its adjoint copy
        x = np.zeros((N, C, H, W), dcols.dtype)
        sub = x[:, :, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]
        sub[...] = dcols.reshape(C, N, oh, ow).transpose(1, 0, 2, 3)
        return x
    x = np.empty((N, C, H, W), dcols.dtype)
    dcols = contiguous(dcols)
    k = float_kernels(dcols, "col2im_wide")
    if k is not None:
        k.col2im_wide(dcols.reshape(-1), x.reshape(-1), geo)
        return x
    K = C * kh * kw
    c3 = np.ascontiguousarray(dcols.reshape(K, N, L).transpose(1, 0, 2))
    return col2im_array(c3, geo, out=x)


#: the forward computes (cols^T @ W^T) instead of (W @ cols) up to this many columns (N*L):
#: the weight is then the GEMM's B operand, packed with in-register transposes; as A it was
#: packed with gathers that cost several times the product itself (512x4608 weight, 32
#: columns: 8.2 ms against 1.4 ms)
_FLIP_MAX_NL = 512


def _wide_forward(xa, wa, ba, geo: Window2d, g):
    N, oh, ow = geo.N, geo.oh, geo.ow
    OC, Cg, kh, kw = wa.shape
    K, L, OCg = Cg * kh * kw, oh * ow, OC // g
    NL = N * L
    cols = _wide_cols(xa, geo).reshape(g, K, NL)
    w3 = contiguous(wa).reshape(g, OCg, K)
    bias = None if ba is None else contiguous(ba)
    if NL <= _FLIP_MAX_NL and xa.dtype == np.float32:
        y2 = _scratch(2, (g, NL, OCg), xa.dtype, xa)
        _mm(cols.swapaxes(-1, -2), w3.swapaxes(-1, -2), y2)
        y = np.empty((N, OC, L), xa.dtype)
        src = y2.reshape(g, N, L, OCg).transpose(1, 0, 3, 2).reshape(N, OC, L)
        if bias is None:
            np.copyto(y, src)
        else:
            np.add(src, bias.reshape(1, OC, 1), out=y)
        return y.reshape(N, OC, oh, ow)
    yt = _scratch(2, (g, OCg, NL), xa.dtype, xa)
    _mm(w3, cols, yt)
    return _from_wide(yt.reshape(OC, NL), N, OC, L, bias).reshape(N, OC, oh, ow)


def _wide_backward(ga, xa, wa, geo: Window2d, g, need_x, need_w):
    N, C, oh, ow = geo.N, geo.C, geo.oh, geo.ow
    OC, Cg, kh, kw = wa.shape
    K, L, OCg = Cg * kh * kw, oh * ow, OC // g
    gyt = _to_wide(contiguous(ga), N, OC, L, 2).reshape(g, OCg, N * L)
    gx = gw = None
    if need_w:
        cols = _wide_cols(xa, geo)
        gw = np.empty((g, OCg, K), ga.dtype)
        _mm(gyt, cols.reshape(g, K, N * L).swapaxes(-1, -2), gw)
        gw = gw.reshape(OC, Cg, kh, kw)
    if need_x:
        # dcols reuses the columns' buffer (slot 0: dW is done with them): one cols-sized
        # buffer instead of two in cache (32x64x7x7 3x3: dx+dW min 2.0 ms but median 11-15
        # ms with two 3.6 MB buffers on the loaded VM)
        dcols = _scratch(0, (g, K, N * L), ga.dtype, ga)
        _mm(contiguous(wa).reshape(g, OCg, K).swapaxes(-1, -2), gyt, dcols)
        gx = _wide_col2im(dcols.reshape(C * kh * kw, N * L), geo)
    return gx, gw


def _convT_wide_forward(xa, wa, ba, stride, padding, g, dilation, Ho, Wo):
    N, Cin, H, W = xa.shape
    _, OCg, kh, kw = wa.shape
    Cing, OC, K, L = Cin // g, OCg * g, OCg * kh * kw, H * W
    geo = _window((N, OC, Ho, Wo), wa.shape, stride, padding, dilation, (H, W))
    xt = _to_wide(contiguous(xa), N, Cin, L, 2).reshape(g, Cing, N * L)
    cols = _scratch(1, (g, K, N * L), xa.dtype, xa)
    _mm(contiguous(wa).reshape(g, Cing, K).swapaxes(-1, -2), xt, cols)
    y = _wide_col2im(cols.reshape(OC * kh * kw, N * L), geo)
    if ba is not None:
        y.reshape(N, OC, Ho * Wo)[...] += contiguous(ba).reshape(1, OC, 1)
    return y


def _convT_wide_backward(ga, xa, wa, stride, padding, g, dilation, need_x, need_w):
    N, Cin, H, W = xa.shape
    _, OCg, kh, kw = wa.shape
    Ho, Wo = ga.shape[2], ga.shape[3]
    Cing, OC, K, L = Cin // g, OCg * g, OCg * kh * kw, H * W
    geo = _window((N, OC, Ho, Wo), wa.shape, stride, padding, dilation, (H, W))
    cols = _wide_cols(ga, geo).reshape(g, K, N * L)
    gx = gw = None
    if need_x:
        gxt = _scratch(1, (g, Cing, N * L), ga.dtype, ga)
        _mm(contiguous(wa).reshape(g, Cing, K), cols, gxt)
        gx = _from_wide(gxt.reshape(Cin, N * L), N, Cin, L).reshape(N, Cin, H, W)
    if need_w:
        xt = _to_wide(contiguous(xa), N, Cin, L, 2).reshape(g, Cing, N * L)
        gw = np.empty((g, Cing, K), ga.dtype)
        _mm(xt, cols.swapaxes(-1, -2), gw)
        gw = gw.reshape(Cin, OCg, kh, kw)
    return gx, gw
