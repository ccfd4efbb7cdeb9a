"""ctorch._core.gemm.conv2d_fused_forward/backward: float32 conv2d one image per thread.

Checked against a float64 NumPy reference (im2col in float64, matmul) with a K-scaled
tolerance over strides, padding, dilation, rectangular and 1x1 kernels; bitwise equality
between 1 and 2 threads (dW sums the images in fixed chunks); forward and gx bitwise equal to
the unfused sgemm path; the portable micro-kernel; ValueError on bad sizes; and that
ctorch.nn.functional.conv2d takes the fused path for the benchmark layer and matches torch.
"""

import numpy as np
import pytest
from helpers import threads

import ctorch
from ctorch._core import gemm
from ctorch._geometry import Window2d
from ctorch.ops import conv_gemm, im2col

SIMD = [True, False] if gemm.SGEMM_AVX512 else [False]
EPS = np.finfo(np.float32).eps

# (N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw)
GEOMS = [
    (4, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1),
    (5, 3, 17, 13, 20, 3, 5, 2, 1, 2, 0, 1, 1),
    (4, 16, 9, 9, 24, 1, 1, 1, 1, 0, 0, 1, 1),  # 1x1: no im2col
    (3, 8, 20, 20, 30, 3, 3, 1, 1, 3, 3, 2, 2),
    (6, 7, 11, 12, 50, 2, 4, 3, 2, 1, 2, 1, 3),
    (17, 5, 6, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1),  # more images than chunks
    (2, 4, 5, 5, 3, 5, 5, 1, 1, 0, 0, 1, 1),  # 1x1 output
    (16, 256, 3, 3, 256, 3, 3, 1, 1, 1, 1, 1, 1),  # 2.4 MB weight: dW in 14 chunks, not 16
]


def _out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _ref(x, w, b, gy, geom):
    """float64 forward, gx and gw through a plain NumPy im2col."""
    N, Cc, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw = geom
    oh, ow = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    x64 = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((N, Cc, kh, kw, oh, ow))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x64[
                :,
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ]
    cols = cols.reshape(N, Cc * kh * kw, oh * ow)
    w2 = w.astype(np.float64).reshape(OC, -1)
    y = w2 @ cols + (0 if b is None else b.astype(np.float64)[:, None])
    g3 = gy.astype(np.float64).reshape(N, OC, -1)
    gw = np.einsum("nol,nkl->ok", g3, cols).reshape(w.shape)
    dcols = (w2.T @ g3).reshape(N, Cc, kh, kw, oh, ow)
    gxp = np.zeros_like(x64)
    for i in range(kh):
        for j in range(kw):
            gxp[
                :,
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ] += dcols[:, :, i, j]
    gx = gxp[:, :, ph : ph + H, pw : pw + W]
    bound_y = np.abs(w2) @ np.abs(cols)
    bound_gw = np.einsum("nol,nkl->ok", np.abs(g3), np.abs(cols)).reshape(w.shape)
    return y.reshape(N, OC, oh, ow), gx, gw, bound_y.reshape(N, OC, oh, ow), bound_gw


def _run(x, w, b, gy, geom, simd=True, need_x=True, need_w=True):
    N, Cc, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw = geom
    oh, ow = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    args = (Window2d(N, Cc, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow), OC)
    y = np.full((N, OC, oh, ow), np.nan, np.float32)
    gemm.conv2d_fused_forward(x.ravel(), w.ravel(), b, y.ravel(), *args, simd=simd)
    gx = np.full(x.shape, np.nan, np.float32) if need_x else None
    gw = np.full(w.shape, np.nan, np.float32) if need_w else None
    gemm.conv2d_fused_backward(
        gy.ravel(),
        x.ravel() if need_w else None,
        w.ravel() if need_x else None,
        None if gx is None else gx.ravel(),
        None if gw is None else gw.ravel(),
        *args,
        simd=simd,
    )
    return y, gx, gw


def _data(geom, seed, bias=True):
    N, Cc, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw = geom
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, Cc, H, W)).astype(np.float32)
    w = rng.standard_normal((OC, Cc, kh, kw)).astype(np.float32)
    b = rng.standard_normal(OC).astype(np.float32) if bias else None
    oh, ow = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    gy = rng.standard_normal((N, OC, oh, ow)).astype(np.float32)
    return x, w, b, gy


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("geom", GEOMS)
def test_matches_float64_reference(geom, bias, simd):
    x, w, b, gy = _data(geom, 7, bias)
    y, gx, gw = _run(x, w, b, gy, geom, simd)
    ry, rgx, rgw, by, bgw = _ref(x, w, b, gy, geom)
    K = w[0].size
    L = y.shape[2] * y.shape[3]
    N = x.shape[0]
    assert np.all(np.abs(y - ry) <= 4 * K * EPS * (by + np.abs(ry)) + 1e-6)
    assert np.all(np.abs(gw - rgw) <= 4 * N * L * EPS * bgw + 1e-6)
    # gx: each element sums <= kh*kw*OC products
    tol_x = 4 * w.shape[0] * w[0, 0].size * EPS * (np.abs(rgx).max() + 1) * 4
    np.testing.assert_allclose(gx, rgx, rtol=0, atol=tol_x)


@pytest.mark.parametrize("geom", GEOMS)
def test_bitwise_equal_for_1_and_2_threads(geom):
    x, w, b, gy = _data(geom, 3)
    with threads(1):
        one = _run(x, w, b, gy, geom)
    with threads(2):
        two = _run(x, w, b, gy, geom)
    for a, c in zip(one, two, strict=True):
        assert np.array_equal(a, c)


def test_forward_and_gx_equal_the_unfused_sgemm_path():
    geom = (4, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1)
    x, w, b, gy = _data(geom, 5)
    y, gx, _ = _run(x, w, b, gy, geom)
    N, Cc, H, W, OC, kh, kw = geom[:7]
    K, L = Cc * kh * kw, H * W
    geo = Window2d(N, Cc, H, W, 3, 3, 1, 1, 1, 1, 1, 1, H, W)
    cols = im2col.im2col_array(x, geo)
    yu = np.empty((N, OC, L), np.float32)
    gemm.sgemm(w.reshape(1, OC, K), cols, yu)
    yu += b.reshape(1, OC, 1)
    assert np.array_equal(y.reshape(N, OC, L), yu)
    dc = np.empty((N, K, L), np.float32)
    gemm.sgemm(w.reshape(1, OC, K).swapaxes(1, 2), gy.reshape(N, OC, L), dc)
    gxu = im2col.col2im_array(dc, geo)
    assert np.array_equal(gx, gxu)


def test_only_one_gradient():
    geom = GEOMS[0]
    x, w, b, gy = _data(geom, 9)
    _, gx_all, gw_all = _run(x, w, b, gy, geom)
    _, gx, gw = _run(x, w, b, gy, geom, need_w=False)
    assert gw is None and np.array_equal(gx, gx_all)
    _, gx, gw = _run(x, w, b, gy, geom, need_x=False)
    assert gx is None and np.array_equal(gw, gw_all)


def test_bad_sizes_raise():
    geom = GEOMS[0]
    x, w, b, gy = _data(geom, 1)
    N, Cc, H, W, OC = geom[:5]
    geo = Window2d(N, Cc, H, W, 3, 3, 1, 1, 1, 1, 1, 1, H, W)
    args = (geo, OC)
    y = np.empty((N, OC, H, W), np.float32)
    with pytest.raises(ValueError, match="conv2d_fused_forward: x has"):
        gemm.conv2d_fused_forward(x.ravel()[:-1], w.ravel(), b, y.ravel(), *args)
    with pytest.raises(ValueError, match="conv2d_fused_forward: bias has"):
        gemm.conv2d_fused_forward(x.ravel(), w.ravel(), b[:-1], y.ravel(), *args)
    with pytest.raises(ValueError, match="does not match the geometry"):
        gemm.conv2d_fused_forward(x.ravel(), w.ravel(), b, y.ravel(), geo._replace(ow=W + 1), OC)
    with pytest.raises(ValueError, match="invalid geometry"):
        gemm.conv2d_fused_forward(x.ravel(), w.ravel(), b, y.ravel(), geo._replace(sh=0), OC)
    with pytest.raises(ValueError, match="gw needs x"):
        gemm.conv2d_fused_backward(gy.ravel(), None, w.ravel(), None, w.ravel().copy(), *args)
    with pytest.raises(ValueError, match="gx needs w"):
        gemm.conv2d_fused_backward(gy.ravel(), x.ravel(), None, x.ravel().copy(), None, *args)
    with pytest.raises(ValueError, match="conv2d_fused_backward: gw has"):
        gemm.conv2d_fused_backward(gy.ravel(), x.ravel(), w.ravel(), None, b.copy(), *args)


def test_conv2d_takes_the_fused_path_and_matches_torch():
    torch = pytest.importorskip("torch")
    if not gemm.SGEMM_AVX512:
        pytest.skip("the fused path needs the AVX-512 sgemm kernel")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 32, 12, 12)).astype(np.float32)
    w = (0.1 * rng.standard_normal((64, 32, 3, 3))).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    assert conv_gemm._fused_kernel(x, w, 1, 8, 64, 288, 144) is not None
    assert conv_gemm._fused_kernel(x, w, 2, 8, 64, 288, 144) is None  # groups
    assert conv_gemm._fused_kernel(x[:3], w, 1, 3, 64, 288, 144) is None  # few images
    assert conv_gemm._fused_kernel(x.astype(np.float64), w, 1, 8, 64, 288, 144) is None
    cx, cw, cb = (ctorch.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    cy = ctorch.nn.functional.conv2d(cx, cw, cb, padding=1, stride=(1, 1))
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=1, stride=(1, 1))
    np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    cy.backward(ctorch.tensor(g))
    ty.backward(torch.tensor(g))
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=2e-3)
