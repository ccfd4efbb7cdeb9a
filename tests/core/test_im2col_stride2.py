"""im2col / im2col_wide at horizontal stride 2 and on planes of at most 16 outputs (the
whole batch's patches gathered 16 lanes at a time) (the AVX-512 two-loads-and-permute rows of
_core/_conv_f32.h, outputs 4 to 64 wide and kernels above 1x1; the others keep the scalar
loop) and col2im /
col2im_wide at stride 2 (gathered per row of x): the same values as a NumPy reference
(col2im: the same bits, the taps added in (ki, kj) order from zero), padding, dilation,
kernels wider than the stride, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from ctorch._core import conv as kconv
from ctorch._geometry import Window2d


def _ref_im2col(x, geo):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph + sh * oh), (pw, pw + sw * ow)))
    out = np.empty((N, C, kh, kw, oh, ow), x.dtype)
    for ki in range(kh):
        for kj in range(kw):
            out[:, :, ki, kj] = xp[
                :, :, ki * dh : ki * dh + sh * (oh - 1) + 1 : sh,
                kj * dw : kj * dw + sw * (ow - 1) + 1 : sw,
            ]  # fmt: skip
    return out.reshape(N, C * kh * kw, oh * ow)


CASES = [
    ((4, 8, 7, 7), 3, 2, 1, 1),  # ResNet downsampling 3x3
    ((2, 3, 28, 28), 7, 2, 3, 1),  # ResNet's first layer
    ((2, 3, 9, 40), 3, 2, 1, 1),  # 20 outputs: two chunks
    ((2, 2, 11, 70), 3, 2, 0, 2),  # 33 outputs, dilated
    ((3, 2, 5, 5), 1, 2, 0, 1),  # 1x1 downsample
    ((2, 3, 6, 33), 4, 2, 1, 1),  # even kernel
    ((1, 1, 3, 2), 3, 2, 1, 1),  # one output column
    ((1, 2, 4, 140), 3, 2, 1, 1),  # 70 outputs: the scalar im2col rows
    ((5, 3, 4, 4), 3, 2, 1, 1),  # im2col_wide gathers 4 images of 4 outputs, then 1
    ((3, 2, 3, 3), 2, 1, 0, 1),  # stride 1, 2x2 outputs (gathered too)
    ((17, 2, 2, 2), 3, 2, 1, 1),  # one output: 16 images per gather
    ((2, 3, 33, 37), 3, 2, 1, 1),  # col2im gathered per row (33+ wide)
    ((1, 2, 40, 64), 5, 2, 2, 2),  # dilated, 5x5
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,k,s,p,d", CASES)
def test_im2col_stride2_matches_reference(dtype, xs, k, s, p, d):
    N, C, H, W = xs
    oh = (H + 2 * p - d * (k - 1) - 1) // s + 1
    ow = (W + 2 * p - d * (k - 1) - 1) // s + 1
    geo = Window2d(N, C, H, W, k, k, s, s, p, p, d, d, oh, ow)
    x = np.random.default_rng(0).standard_normal(xs).astype(dtype)
    ref = _ref_im2col(x, geo)
    cols = np.full(ref.size, np.nan, dtype)
    kconv.im2col(x.reshape(-1), cols, geo)
    assert np.array_equal(cols, ref.reshape(-1))
    wide = np.full(ref.size, np.nan, dtype)
    kconv.im2col_wide(x.reshape(-1), wide, geo)
    assert np.array_equal(wide, ref.transpose(1, 0, 2).reshape(-1))


def _ref_col2im(cols, geo):
    """x = sum of the patches, each tap's slice added in (ki, kj) order onto zeros."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    xp = np.zeros((N, C, H + 2 * ph + sh * oh + dh * kh, W + 2 * pw + sw * ow + dw * kw),
                  cols.dtype)  # fmt: skip
    c6 = cols.reshape(N, C, kh, kw, oh, ow)
    for ki in range(kh):
        for kj in range(kw):
            xp[
                :, :, ki * dh : ki * dh + sh * (oh - 1) + 1 : sh,
                kj * dw : kj * dw + sw * (ow - 1) + 1 : sw,
            ] += c6[:, :, ki, kj]  # fmt: skip
    return xp[:, :, ph : ph + H, pw : pw + W]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,k,s,p,d", CASES + [((2, 4, 32, 32), 4, 2, 1, 1)])
def test_col2im_stride2_same_bits_as_reference(dtype, xs, k, s, p, d):
    N, C, H, W = xs
    oh = (H + 2 * p - d * (k - 1) - 1) // s + 1
    ow = (W + 2 * p - d * (k - 1) - 1) // s + 1
    geo = Window2d(N, C, H, W, k, k, s, s, p, p, d, d, oh, ow)
    cols = np.random.default_rng(1).standard_normal((N, C * k * k, oh * ow)).astype(dtype)
    cols[0, 0, 0] = -0.0
    ref = _ref_col2im(cols, geo)
    x = np.full(N * C * H * W, np.nan, dtype)
    kconv.col2im(cols.reshape(-1), x, geo)
    assert x.tobytes() == np.ascontiguousarray(ref).tobytes()
    xw = np.full(N * C * H * W, np.nan, dtype)
    kconv.col2im_wide(np.ascontiguousarray(cols.transpose(1, 0, 2)).reshape(-1), xw, geo)
    assert xw.tobytes() == np.ascontiguousarray(ref).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_1x1_wide_path_vs_torch(dtype):
    # the wide path's NumPy strided copies for 1x1 kernels: conv2d (ResNet's downsampling)
    # and conv_transpose2d with output_padding (the adjoint copy into a taller plane)
    torch = pytest.importorskip("torch")
    import ctorch

    rng = np.random.default_rng(0)
    for xs, ws, kw, tr in [
        ((4, 6, 5, 5), (8, 6, 1, 1), dict(stride=2), False),
        ((4, 6, 4, 7), (8, 6, 1, 1), dict(stride=(2, 3)), False),
        ((3, 6, 3, 3), (6, 5, 1, 1), dict(stride=2, output_padding=1), True),
    ]:
        x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
        res = []
        for lib in (ctorch, torch):
            xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
            F = lib.nn.functional
            y = F.conv_transpose2d(xt, wt, **kw) if tr else F.conv2d(xt, wt, **kw)
            (y * y).sum().backward()
            res.append([a.detach().numpy() for a in (y, xt.grad, wt.grad)])
        for a, t in zip(*res, strict=True):
            np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-4)
