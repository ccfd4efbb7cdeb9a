"""CPU kernels of the nn families (conv, pooling, normalization, loss, nnmisc).

Each kernel is checked against a NumPy reference (float64 maths), against torch's functional
ops where torch is installed, for float32/float64, odd sizes, sizes below and above the
threading threshold, bitwise equality between 1 and 2 threads, and ValueError on bad lengths.
"""

import numpy as np
import pytest
from helpers import threads

from ctorch._core import conv, loss, nnmisc, normalization, pooling
from ctorch._geometry import Window2d

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def run_1_and_2(fn):
    """Run fn() (returning a tuple of arrays) with 1 and 2 threads; assert bitwise equal."""
    with threads(1):
        a = fn()
    with threads(2):
        b = fn()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    return a


def rnd(rng, shape, dtype, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


def torch_or_skip():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- conv


def out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def im2col_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph + sh * oh + dh * kh, W + 2 * pw + sw * ow + dw * kw), x.dtype)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    cols = np.empty((N, C, kh, kw, oh, ow), x.dtype)
    for ki in range(kh):
        for kj in range(kw):
            y0, x0 = ki * dh, kj * dw
            cols[:, :, ki, kj] = xp[:, :, y0 : y0 + sh * oh : sh, x0 : x0 + sw * ow : sw]
    return cols.reshape(N, C * kh * kw, oh * ow)


def col2im_ref(cols, shape, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    N, C, H, W = shape
    xp = np.zeros((N, C, H + 2 * ph + sh * oh + dh * kh, W + 2 * pw + sw * ow + dw * kw))
    c6 = cols.reshape(N, C, kh, kw, oh, ow).astype(np.float64)
    for ki in range(kh):
        for kj in range(kw):
            y0, x0 = ki * dh, kj * dw
            xp[:, :, y0 : y0 + sh * oh : sh, x0 : x0 + sw * ow : sw] += c6[:, :, ki, kj]
    return xp[:, :, ph : ph + H, pw : pw + W]


CONV_GEOMS = [
    # N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw
    (2, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1),
    (1, 2, 8, 5, 2, 3, 2, 1, 0, 1, 1, 1),
    (3, 1, 11, 10, 3, 2, 2, 3, 1, 0, 2, 1),
    (2, 4, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1),
    (1, 1, 3, 3, 5, 5, 1, 1, 2, 2, 1, 1),
    (2, 2, 5, 7, 3, 3, 3, 2, 2, 3, 1, 2),
    (4, 8, 33, 31, 3, 3, 1, 1, 1, 1, 1, 1),  # above the threading threshold
    (3, 5, 29, 30, 5, 3, 2, 2, 2, 1, 1, 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", CONV_GEOMS)
def test_im2col_col2im(dtype, geom):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw = geom
    oh, ow = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    rng = np.random.default_rng(0)
    x = rnd(rng, (N, C, H, W), dtype)
    args = Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)

    def fwd():
        cols = np.full(N * C * kh * kw * oh * ow, np.nan, dtype)
        conv.im2col(x.ravel(), cols, args)
        return (cols,)

    (cols,) = run_1_and_2(fwd)
    ref = im2col_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    np.testing.assert_array_equal(cols.reshape(ref.shape), ref)

    g = rnd(rng, (N, C * kh * kw, oh * ow), dtype)

    def bwd():
        gx = np.full(N * C * H * W, np.nan, dtype)  # the kernel zeroes it
        conv.col2im(g.ravel(), gx, args)
        return (gx,)

    (gx,) = run_1_and_2(bwd)
    ref = col2im_ref(g, (N, C, H, W), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    np.testing.assert_allclose(gx.reshape(ref.shape), ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_via_im2col_matches_torch(dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    N, C, H, W, OC, k, s, p, d = 2, 3, 10, 9, 4, 3, 2, 1, 2
    oh, ow = out_size(H, k, s, p, d), out_size(W, k, s, p, d)
    x = rnd(rng, (N, C, H, W), dtype)
    w = rnd(rng, (OC, C, k, k), dtype)
    cols = np.empty((N, C * k * k, oh * ow), dtype)
    conv.im2col(x.ravel(), cols.ravel(), Window2d(N, C, H, W, k, k, s, s, p, p, d, d, oh, ow))
    y = np.matmul(w.reshape(OC, -1), cols).reshape(N, OC, oh, ow)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, torch.tensor(w), stride=s, padding=p, dilation=d)
    np.testing.assert_allclose(
        y,
        yt.detach().numpy(),
        rtol=1e-4 if dtype == np.float32 else 1e-10,
        atol=1e-4 if dtype == np.float32 else 1e-10,
    )
    gy = rnd(rng, yt.shape, dtype)
    yt.backward(torch.tensor(gy))
    gcols = np.matmul(w.reshape(OC, -1).T, gy.reshape(N, OC, -1))
    gx = np.empty(N * C * H * W, dtype)
    conv.col2im(gcols.ravel(), gx, Window2d(N, C, H, W, k, k, s, s, p, p, d, d, oh, ow))
    np.testing.assert_allclose(
        gx.reshape(x.shape),
        xt.grad.numpy(),
        rtol=1e-4 if dtype == np.float32 else 1e-10,
        atol=1e-4 if dtype == np.float32 else 1e-10,
    )


def test_conv_length_checks():
    x = np.zeros(2 * 3 * 5 * 5, np.float32)
    cols = np.zeros(2 * 27 * 9, np.float32)
    args = Window2d(2, 3, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, 3, 3)
    conv.im2col(x, cols, args)
    with pytest.raises(ValueError, match="im2col: cols"):
        conv.im2col(x, cols[:-1], args)
    with pytest.raises(ValueError, match="im2col: x"):
        conv.im2col(x[:-1], cols, args)
    with pytest.raises(ValueError, match="col2im: x"):
        conv.col2im(cols, x[:-1], args)
    with pytest.raises(ValueError, match="col2im"):
        conv.col2im(cols, x, args._replace(sh=0))
    with pytest.raises(TypeError, match="im2col: the geometry must be"):
        conv.im2col(x, cols, tuple(args)[:-1])


# --------------------------------------------------------------------------- pooling


def pool_out(n, k, s, p, d, ceil):
    eff = d * (k - 1) + 1
    num = n + 2 * p - eff
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def windows(xpad, kh, kw, sh, sw, dh, dw, oh, ow):
    out = []
    for ki in range(kh):
        for kj in range(kw):
            y0, x0 = ki * dh, kj * dw
            out.append(xpad[..., y0 : y0 + sh * oh : sh, x0 : x0 + sw * ow : sw])
    return np.stack(out)


def maxpool_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    N, C, H, W = x.shape
    big = (H + 2 * ph + sh * oh + dh * kh, W + 2 * pw + sw * ow + dw * kw)
    xp = np.full((N, C) + big, -np.inf)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    pos = np.full(big, -1, np.int64)
    pos[ph : ph + H, pw : pw + W] = np.arange(H * W).reshape(H, W)
    win = windows(xp, kh, kw, sh, sw, dh, dw, oh, ow)
    pw_ = windows(pos, kh, kw, sh, sw, dh, dw, oh, ow)
    k = np.argmax(win, axis=0)
    y = np.take_along_axis(win, k[None], 0)[0]
    idx = np.take_along_axis(np.broadcast_to(pw_[:, None, None], win.shape), k[None], 0)[0]
    return y, idx


def avgpool_ref(x, kh, kw, sh, sw, ph, pw, oh, ow, include_pad, div_override):
    N, C, H, W = x.shape
    big = (H + 2 * ph + sh * oh + kh, W + 2 * pw + sw * ow + kw)
    xp = np.zeros((N, C) + big)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    inner = np.zeros(big)
    inner[ph : ph + H, pw : pw + W] = 1
    padded = np.zeros(big)
    padded[: H + 2 * ph, : W + 2 * pw] = 1
    s = windows(xp, kh, kw, sh, sw, 1, 1, oh, ow).sum(0)
    cnt_in = windows(inner, kh, kw, sh, sw, 1, 1, oh, ow).sum(0)
    cnt_pad = windows(padded, kh, kw, sh, sw, 1, 1, oh, ow).sum(0)
    if div_override:
        div = np.full_like(cnt_in, div_override)
    else:
        div = cnt_pad if include_pad else cnt_in
    return s / div


POOL_GEOMS = [
    # N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil
    (2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, False),
    (1, 2, 9, 7, 2, 2, 2, 2, 0, 0, 1, 1, False),
    (2, 2, 9, 7, 2, 2, 2, 2, 0, 0, 1, 1, True),
    (2, 3, 7, 10, 3, 3, 2, 2, 1, 1, 1, 1, False),
    (1, 3, 10, 11, 3, 2, 2, 3, 1, 1, 1, 1, True),
    (2, 2, 12, 9, 3, 3, 1, 2, 1, 0, 2, 1, False),
    (3, 4, 11, 12, 3, 3, 3, 3, 1, 1, 1, 1, True),
    (8, 16, 34, 33, 2, 2, 2, 2, 0, 0, 1, 1, False),  # above the threading threshold
    (2, 3, 6, 38, 2, 2, 2, 2, 0, 0, 1, 1, False),  # 2x2 fast path: one vector + a 3-lane tail
    (1, 2, 5, 71, 2, 2, 2, 2, 0, 0, 1, 1, False),  # two vectors + tail, odd width and height
    (4, 16, 31, 30, 3, 3, 2, 2, 1, 1, 1, 1, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", POOL_GEOMS)
def test_maxpool2d(dtype, geom):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil = geom
    oh, ow = pool_out(H, kh, sh, ph, dh, ceil), pool_out(W, kw, sw, pw, dw, ceil)
    rng = np.random.default_rng(2)
    x = rnd(rng, (N, C, H, W), dtype)
    args = Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)

    def fwd():
        y = np.empty(N * C * oh * ow, dtype)
        idx = np.empty(N * C * oh * ow, np.int64)
        pooling.maxpool2d_forward(x.ravel(), y, idx, args)
        return y, idx

    y, idx = run_1_and_2(fwd)
    yr, ir = maxpool_ref(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    np.testing.assert_array_equal(y.reshape(yr.shape), yr.astype(dtype))
    np.testing.assert_array_equal(idx.reshape(ir.shape), ir)

    gy = rnd(rng, (N, C, oh, ow), dtype)

    def bwd():
        gx = np.full(N * C * H * W, np.nan, dtype)
        pooling.maxpool2d_backward(gy.ravel(), idx, gx, N * C, H * W, oh * ow)
        return (gx,)

    (gx,) = run_1_and_2(bwd)
    ref = np.zeros((N * C, H * W))
    for nc in range(N * C):
        np.add.at(ref[nc], idx.reshape(N * C, -1)[nc], gy.reshape(N * C, -1)[nc])
    np.testing.assert_allclose(gx.reshape(ref.shape), ref, **TOL[dtype])

    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(
        xt, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode=ceil, return_indices=True
    )
    np.testing.assert_array_equal(y.reshape(yt.shape), yt.detach().numpy())
    np.testing.assert_array_equal(idx.reshape(it.shape), it.numpy())
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(gx.reshape(x.shape), xt.grad.numpy(), **TOL[dtype])


def test_maxpool2d_nan_and_ties_like_torch():
    torch = torch_or_skip()
    x = np.array(
        [
            [1.0, 1.0, 2.0, np.nan],
            [np.nan, 0.0, 2.0, 5.0],
            [3.0, 3.0, np.nan, np.nan],
            [3.0, 3.0, -1.0, 7.0],
        ],
        np.float32,
    )[None, None]
    for k, s, p in [(2, 2, 0), (3, 1, 1), (2, 1, 0)]:
        oh = pool_out(4, k, s, p, 1, False)
        y = np.empty(oh * oh, np.float32)
        idx = np.empty(oh * oh, np.int64)
        pooling.maxpool2d_forward(
            x.ravel(), y, idx, Window2d(1, 1, 4, 4, k, k, s, s, p, p, 1, 1, oh, oh)
        )
        yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
        np.testing.assert_array_equal(y.reshape(yt.shape), yt.numpy())
        np.testing.assert_array_equal(idx.reshape(it.shape), it.numpy())


@pytest.mark.parametrize("W", [4, 30, 33, 64])
def test_maxpool2d_2x2_nan_and_ties_like_torch(W):
    """The vectorised 2x2/stride-2 path on data full of ties and NaNs, at 1 and 2 threads."""
    torch = torch_or_skip()
    rng = np.random.default_rng(W)
    x = rng.integers(0, 3, (3, 5, 6, W)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    N, C, H = x.shape[:3]
    oh, ow = H // 2, W // 2

    def fwd():
        y = np.empty(N * C * oh * ow, np.float32)
        idx = np.empty(N * C * oh * ow, np.int64)
        pooling.maxpool2d_forward(
            x.ravel(), y, idx, Window2d(N, C, H, W, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow)
        )
        return y, idx

    y, idx = run_1_and_2(fwd)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    np.testing.assert_array_equal(y.reshape(yt.shape), yt.numpy())
    np.testing.assert_array_equal(idx.reshape(it.shape), it.numpy())


AVG_CASES = [
    # N, C, H, W, kh, kw, sh, sw, ph, pw, ceil, include_pad, divisor_override
    (2, 3, 8, 8, 2, 2, 2, 2, 0, 0, False, True, 0),
    (2, 3, 7, 9, 3, 3, 2, 2, 1, 1, False, True, 0),
    (2, 3, 7, 9, 3, 3, 2, 2, 1, 1, False, False, 0),
    (1, 2, 10, 11, 3, 2, 2, 3, 1, 1, True, True, 0),
    (1, 2, 10, 11, 3, 2, 2, 3, 1, 1, True, False, 0),
    (2, 2, 9, 9, 3, 3, 2, 2, 1, 1, True, True, 5),
    (1, 1, 5, 6, 4, 4, 3, 3, 2, 2, True, True, 0),
    (8, 16, 33, 34, 3, 3, 2, 2, 1, 1, True, False, 0),  # above the threading threshold
    (8, 16, 33, 34, 2, 2, 2, 2, 0, 0, False, True, 0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avgpool2d(dtype, case):
    N, C, H, W, kh, kw, sh, sw, ph, pw, ceil, inc, dov = case
    oh, ow = pool_out(H, kh, sh, ph, 1, ceil), pool_out(W, kw, sw, pw, 1, ceil)
    rng = np.random.default_rng(3)
    x = rnd(rng, (N, C, H, W), dtype)
    args = (Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow), inc, dov)

    def fwd():
        y = np.empty(N * C * oh * ow, dtype)
        pooling.avgpool2d_forward(x.ravel(), y, *args)
        return (y,)

    (y,) = run_1_and_2(fwd)
    ref = avgpool_ref(x, kh, kw, sh, sw, ph, pw, oh, ow, inc, dov)
    np.testing.assert_allclose(y.reshape(ref.shape), ref, **TOL[dtype])

    gy = rnd(rng, (N, C, oh, ow), dtype)

    def bwd():
        gx = np.full(N * C * H * W, np.nan, dtype)
        pooling.avgpool2d_backward(gy.ravel(), gx, *args)
        return (gx,)

    (gx,) = run_1_and_2(bwd)
    # adjoint check against the reference forward: <avg(x), gy> == <x, gx>
    e = np.zeros(N * C * H * W)
    rng2 = np.random.default_rng(4)
    for _ in range(3):
        e = rng2.standard_normal((N, C, H, W))
        lhs = np.sum(avgpool_ref(e, kh, kw, sh, sw, ph, pw, oh, ow, inc, dov) * gy)
        rhs = np.sum(e * gx.reshape(e.shape).astype(np.float64))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-4 if dtype == np.float32 else 1e-10)

    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(
        xt,
        (kh, kw),
        (sh, sw),
        (ph, pw),
        ceil_mode=ceil,
        count_include_pad=inc,
        divisor_override=dov or None,
    )
    np.testing.assert_allclose(y.reshape(yt.shape), yt.detach().numpy(), **TOL[dtype])
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(gx.reshape(x.shape), xt.grad.numpy(), **TOL[dtype])


def test_pooling_checks():
    x = np.zeros(2 * 3 * 4 * 4, np.float32)
    y = np.zeros(2 * 3 * 2 * 2, np.float32)
    idx = np.zeros(2 * 3 * 2 * 2, np.int64)
    g = Window2d(2, 3, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    pooling.maxpool2d_forward(x, y, idx, g)
    with pytest.raises(ValueError, match="maxpool2d_forward: y"):
        pooling.maxpool2d_forward(x, y[:-1], idx, g)
    with pytest.raises(ValueError, match="maxpool2d_forward: idx"):
        pooling.maxpool2d_forward(x, y, idx[1:], g)
    with pytest.raises(ValueError, match="maxpool2d_forward: padding"):
        pooling.maxpool2d_forward(x, y, idx, g._replace(ph=2))
    with pytest.raises(ValueError, match="maxpool2d_backward: gx"):
        pooling.maxpool2d_backward(y, idx, x[:-1], 6, 16, 4)
    bad = idx.copy()
    bad[3] = 16
    with pytest.raises(IndexError, match="maxpool2d_backward"):
        pooling.maxpool2d_backward(y, bad, x.copy(), 6, 16, 4)
    ga = (g, True, 0)
    y2 = np.empty_like(y)
    pooling.avgpool2d_forward(x, y, *ga)
    pooling.avgpool2d_forward(x, y2, *ga[:-1], None)  # None == no override, like the GPU
    np.testing.assert_array_equal(y, y2)
    with pytest.raises(ValueError, match="avgpool2d_forward: divisor_override"):
        pooling.avgpool2d_forward(x, y, *ga[:-1], -1)
    with pytest.raises(ValueError, match="avgpool2d_forward: y"):
        pooling.avgpool2d_forward(x, y[:-1], *ga)
    with pytest.raises(ValueError, match="avgpool2d_backward: gx"):
        pooling.avgpool2d_backward(y, x[:-1], *ga)
    with pytest.raises(ValueError, match="avgpool2d_forward: dilation"):
        pooling.avgpool2d_forward(x, y, g._replace(dw=2), True, 0)


# --------------------------------------------------------------------------- batch norm


BN_SHAPES = [(3, 5, 7), (1, 1, 1), (2, 3, 1), (4, 16, 33 * 31), (64, 3, 17)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_training(dtype, shape, affine):
    N, C, HW = shape
    rng = np.random.default_rng(5)
    x = rnd(rng, (N, C, HW), dtype, 2.0, 3.0)
    w = rnd(rng, C, dtype) if affine else None
    b = rnd(rng, C, dtype) if affine else None
    gy = rnd(rng, (N, C, HW), dtype)
    eps = 1e-5

    def fwd():
        mean = np.empty(C, dtype)
        inv = np.empty(C, dtype)
        normalization.batchnorm_stats(x.ravel(), mean, inv, N, C, HW, eps)
        y = np.empty(N * C * HW, dtype)
        normalization.batchnorm_apply(x.ravel(), mean, inv, w, b, y, N, C, HW)
        gx = np.empty(N * C * HW, dtype)
        gw = np.empty(C, dtype)
        gb = np.empty(C, dtype)
        normalization.batchnorm_backward(
            gy.ravel(), x.ravel(), mean, inv, w, gx, gw, gb, N, C, HW, True
        )
        return mean, inv, y, gx, gw, gb

    mean, inv, y, gx, gw, gb = run_1_and_2(fwd)
    x64 = x.astype(np.float64)
    m = x64.mean(axis=(0, 2))
    v = x64.var(axis=(0, 2))
    iv = 1 / np.sqrt(v + eps)
    np.testing.assert_allclose(mean, m, **TOL[dtype])
    np.testing.assert_allclose(inv, iv, **TOL[dtype])
    xh = (x64 - m[:, None]) * iv[:, None]
    w64 = np.ones(C) if w is None else w.astype(np.float64)
    b64 = np.zeros(C) if b is None else b.astype(np.float64)
    yr = xh * w64[:, None] + b64[:, None]
    np.testing.assert_allclose(y.reshape(yr.shape), yr, **TOL[dtype])
    g64 = gy.astype(np.float64)
    M = N * HW
    gbr = g64.sum(axis=(0, 2))
    gwr = (g64 * xh).sum(axis=(0, 2))
    gxr = (w64 * iv)[:, None] * (g64 - gbr[:, None] / M - xh * gwr[:, None] / M)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(gx.reshape(gxr.shape), gxr, **tol)
    np.testing.assert_allclose(gw, gwr, **tol)
    np.testing.assert_allclose(gb, gbr, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_eval_and_none_outputs(dtype):
    N, C, HW = 4, 6, 37
    rng = np.random.default_rng(6)
    x = rnd(rng, (N, C, HW), dtype)
    gy = rnd(rng, (N, C, HW), dtype)
    rm = rnd(rng, C, dtype)
    rv = np.abs(rnd(rng, C, dtype)) + 0.5
    inv = (1 / np.sqrt(rv.astype(np.float64) + 1e-5)).astype(dtype)
    w = rnd(rng, C, dtype)
    gx = np.empty(N * C * HW, dtype)
    gw = np.empty(C, dtype)
    gb = np.empty(C, dtype)
    normalization.batchnorm_backward(gy.ravel(), x.ravel(), rm, inv, w, gx, gw, gb, N, C, HW, False)
    g64 = gy.astype(np.float64)
    np.testing.assert_allclose(gx.reshape(x.shape), g64 * (inv * w)[:, None], **TOL[dtype])
    xh = (x.astype(np.float64) - rm[:, None]) * inv[:, None]
    np.testing.assert_allclose(gw, (g64 * xh).sum((0, 2)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gb, g64.sum((0, 2)), rtol=1e-5, atol=1e-5)
    gx2 = np.empty_like(gx)
    normalization.batchnorm_backward(
        gy.ravel(), x.ravel(), rm, inv, w, gx2, None, None, N, C, HW, False
    )
    np.testing.assert_array_equal(gx, gx2)
    gw2 = np.empty_like(gw)
    normalization.batchnorm_backward(
        gy.ravel(), x.ravel(), rm, inv, None, None, gw2, None, N, C, HW, True
    )
    np.testing.assert_array_equal(gw, gw2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_matches_torch(dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(7)
    N, C, H, W = 5, 7, 6, 5
    x = rnd(rng, (N, C, H, W), dtype, 1.5, -2.0)
    w, b = rnd(rng, C, dtype), rnd(rng, C, dtype)
    gy = rnd(rng, x.shape, dtype)
    mean, inv = np.empty(C, dtype), np.empty(C, dtype)
    normalization.batchnorm_stats(x.ravel(), mean, inv, N, C, H * W, 1e-5)
    y = np.empty(x.size, dtype)
    normalization.batchnorm_apply(x.ravel(), mean, inv, w, b, y, N, C, H * W)
    gx, gw, gb = np.empty(x.size, dtype), np.empty(C, dtype), np.empty(C, dtype)
    normalization.batchnorm_backward(
        gy.ravel(), x.ravel(), mean, inv, w, gx, gw, gb, N, C, H * W, True
    )
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    yt.backward(torch.tensor(gy))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(y.reshape(x.shape), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(gx.reshape(x.shape), xt.grad.numpy(), **tol)
    np.testing.assert_allclose(gw, wt.grad.numpy(), **tol)
    np.testing.assert_allclose(gb, bt.grad.numpy(), **tol)


def test_batchnorm_length_checks():
    x = np.zeros(24, np.float32)
    c = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="batchnorm_stats: x"):
        normalization.batchnorm_stats(x[:-1], c, c.copy(), 2, 3, 4, 1e-5)
    with pytest.raises(ValueError, match="batchnorm_stats: mean"):
        normalization.batchnorm_stats(x, c[:2], c, 2, 3, 4, 1e-5)
    with pytest.raises(ValueError, match="batchnorm_apply: weight"):
        normalization.batchnorm_apply(x, c, c, c[:2], None, x.copy(), 2, 3, 4)
    with pytest.raises(ValueError, match="batchnorm_apply: y"):
        normalization.batchnorm_apply(x, c, c, None, None, x[:-1].copy(), 2, 3, 4)
    with pytest.raises(ValueError, match="batchnorm_backward: gx"):
        normalization.batchnorm_backward(
            x, x, c, c, None, x[:-2].copy(), c.copy(), c.copy(), 2, 3, 4, True
        )
    with pytest.raises(ValueError, match="batchnorm_backward: gb"):
        normalization.batchnorm_backward(x, x, c, c, None, None, None, c[:1].copy(), 2, 3, 4, True)


# --------------------------------------------------------------------------- layer norm


LN_SHAPES = [(1, 1), (3, 7), (37, 129), (5, 1000), (300, 257), (1000, 64)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(dtype, shape, affine):
    M, D = shape
    rng = np.random.default_rng(8)
    x = rnd(rng, (M, D), dtype, 3.0, 1.0)
    w = rnd(rng, D, dtype) if affine else None
    b = rnd(rng, D, dtype) if affine else None
    gy = rnd(rng, (M, D), dtype)
    eps = 1e-5

    def run():
        y = np.empty(M * D, dtype)
        mean = np.empty(M, dtype)
        rstd = np.empty(M, dtype)
        normalization.layernorm_forward(x.ravel(), w, b, y, mean, rstd, M, D, eps)
        gx = np.empty(M * D, dtype)
        gw = np.empty(D, dtype)
        gb = np.empty(D, dtype)
        normalization.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, gx, gw, gb, M, D)
        return y, mean, rstd, gx, gw, gb

    y, mean, rstd, gx, gw, gb = run_1_and_2(run)
    x64 = x.astype(np.float64)
    m = x64.mean(1)
    rs = 1 / np.sqrt(x64.var(1) + eps)
    np.testing.assert_allclose(mean, m, **TOL[dtype])
    np.testing.assert_allclose(rstd, rs, **TOL[dtype])
    xh = (x64 - m[:, None]) * rs[:, None]
    w64 = np.ones(D) if w is None else w.astype(np.float64)
    b64 = np.zeros(D) if b is None else b.astype(np.float64)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(y.reshape(M, D), xh * w64 + b64, **tol)
    g = gy.astype(np.float64) * w64
    gxr = rs[:, None] * (g - g.mean(1, keepdims=True) - xh * (g * xh).mean(1, keepdims=True))
    np.testing.assert_allclose(gx.reshape(M, D), gxr, **tol)
    np.testing.assert_allclose(gw, (gy.astype(np.float64) * xh).sum(0), **tol)
    np.testing.assert_allclose(gb, gy.astype(np.float64).sum(0), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_matches_torch(dtype):
    torch = torch_or_skip()
    rng = np.random.default_rng(9)
    M, D = 23, 77
    x = rnd(rng, (M, D), dtype, 2.0, 0.5)
    w, b = rnd(rng, D, dtype), rnd(rng, D, dtype)
    gy = rnd(rng, (M, D), dtype)
    y, mean, rstd = np.empty(M * D, dtype), np.empty(M, dtype), np.empty(M, dtype)
    normalization.layernorm_forward(x.ravel(), w, b, y, mean, rstd, M, D, 1e-5)
    gx, gw, gb = np.empty(M * D, dtype), np.empty(D, dtype), np.empty(D, dtype)
    normalization.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, gx, gw, gb, M, D)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.layer_norm(xt, (D,), wt, bt, 1e-5)
    yt.backward(torch.tensor(gy))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(y.reshape(M, D), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(gx.reshape(M, D), xt.grad.numpy(), **tol)
    np.testing.assert_allclose(gw, wt.grad.numpy(), **tol)
    np.testing.assert_allclose(gb, bt.grad.numpy(), **tol)


def test_layernorm_partial_outputs_and_checks():
    rng = np.random.default_rng(10)
    M, D = 9, 5
    x = rnd(rng, (M, D), np.float64).ravel()
    gy = rnd(rng, (M, D), np.float64).ravel()
    y, mean, rstd = np.empty(M * D), np.empty(M), np.empty(M)
    normalization.layernorm_forward(x, None, None, y, mean, rstd, M, D, 1e-5)
    gb = np.empty(D)
    normalization.layernorm_backward(gy, x, mean, rstd, None, None, None, gb, M, D)
    np.testing.assert_allclose(gb, gy.reshape(M, D).sum(0), rtol=1e-12)
    with pytest.raises(ValueError, match="layernorm_forward: x"):
        normalization.layernorm_forward(x[:-1], None, None, y, mean, rstd, M, D, 1e-5)
    with pytest.raises(ValueError, match="layernorm_forward: rstd"):
        normalization.layernorm_forward(x, None, None, y, mean, rstd[:-1], M, D, 1e-5)
    with pytest.raises(ValueError, match="layernorm_forward: weight"):
        normalization.layernorm_forward(x, np.ones(D + 1), None, y, mean, rstd, M, D, 1e-5)
    with pytest.raises(ValueError, match="layernorm_backward: gw"):
        normalization.layernorm_backward(gy, x, mean, rstd, None, None, np.empty(D - 1), None, M, D)


# --------------------------------------------------------------------------- cross entropy


def ce_ref(x, t, w, ignore, eps):
    M, C = x.shape
    x = x.astype(np.float64)
    m = x.max(1, keepdims=True)
    lp = x - m - np.log(np.exp(x - m).sum(1, keepdims=True))
    w = np.ones(C) if w is None else w.astype(np.float64)
    valid = t != ignore
    ts = np.where(valid, t, 0)
    nll = -w[ts] * lp[np.arange(M), ts]
    smooth = -(lp * w).sum(1)
    loss = np.where(valid, (1 - eps) * nll + eps / C * smooth, 0.0)
    p = np.exp(lp)
    onehot = np.zeros((M, C))
    onehot[np.arange(M), ts] = 1
    g = (1 - eps) * w[ts][:, None] * (p - onehot) + eps / C * (p * w.sum() - w)
    g = np.where(valid[:, None], g, 0.0)
    return lp, loss, g


CE_CASES = [
    # M, C, weighted, ignore_index, label_smoothing
    (1, 1, False, -100, 0.0),
    (7, 5, False, -100, 0.0),
    (9, 13, True, 2, 0.0),
    (9, 13, False, 2, 0.1),
    (11, 10, True, -100, 0.25),
    (8, 17, True, 3, 0.3),
    (300, 1000, False, -100, 0.0),  # above the threading threshold
    (257, 301, True, 5, 0.2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy(dtype, case):
    M, C, weighted, ignore, eps = case
    rng = np.random.default_rng(11)
    x = rnd(rng, (M, C), dtype, 4.0)
    t = rng.integers(0, C, M).astype(np.int64)
    if ignore >= 0 and M > 2:
        t[:: max(M // 4, 1)] = ignore
    w = (rng.random(C) + 0.5).astype(dtype) if weighted else None
    grow = rnd(rng, M, dtype)

    def run():
        lp = np.empty(M * C, dtype)
        lr = np.empty(M, dtype)
        loss.cross_entropy_forward(x.ravel(), t, w, lp, lr, M, C, ignore, eps)
        gx = np.empty(M * C, dtype)
        loss.cross_entropy_backward(lp, t, w, grow, gx, M, C, ignore, eps)
        return lp, lr, gx

    lp, lr, gx = run_1_and_2(run)
    lpr, lossr, gr = ce_ref(x, t, w, ignore, eps)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(lp.reshape(M, C), lpr, **tol)
    np.testing.assert_allclose(lr, lossr, **tol)
    np.testing.assert_allclose(gx.reshape(M, C), gr * grow[:, None].astype(np.float64), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,eps", [(False, 0.0), (True, 0.0), (False, 0.15), (True, 0.2)])
def test_cross_entropy_matches_torch(dtype, reduction, weighted, eps):
    torch = torch_or_skip()
    rng = np.random.default_rng(12)
    M, C, ignore = 19, 11, 4
    x = rnd(rng, (M, C), dtype, 3.0)
    t = rng.integers(0, C, M).astype(np.int64)
    t[::5] = ignore
    w = (rng.random(C) + 0.5).astype(dtype) if weighted else None
    lp = np.empty(M * C, dtype)
    lr = np.empty(M, dtype)
    loss.cross_entropy_forward(x.ravel(), t, w, lp, lr, M, C, ignore, eps)
    valid = t != ignore
    if reduction == "mean":
        denom = w[t[valid]].astype(np.float64).sum() if weighted else valid.sum()
        out = lr.astype(np.float64).sum() / denom
        grow = np.full(M, 1.0 / denom, dtype)
    elif reduction == "sum":
        out = lr.astype(np.float64).sum()
        grow = np.ones(M, dtype)
    else:
        out = lr
        grow = rnd(rng, M, dtype)
    gx = np.empty(M * C, dtype)
    loss.cross_entropy_backward(lp, t, w, grow, gx, M, C, ignore, eps)
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(
        xt,
        torch.tensor(t),
        weight=None if w is None else torch.tensor(w),
        ignore_index=ignore,
        reduction=reduction,
        label_smoothing=eps,
    )
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(out, lt.detach().numpy(), **tol)
    lt.backward(torch.tensor(grow) if reduction == "none" else None)
    np.testing.assert_allclose(gx.reshape(M, C), xt.grad.numpy(), **tol)


def test_cross_entropy_extremes_and_checks():
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0]], np.float32)
    t = np.array([2, 0], np.int64)
    lp = np.empty(6, np.float32)
    lr = np.empty(2, np.float32)
    loss.cross_entropy_forward(x.ravel(), t, None, lp, lr, 2, 3, -100, 0.0)
    np.testing.assert_allclose(lr, [2000.0, np.inf])
    gx = np.empty(6, np.float32)
    loss.cross_entropy_backward(lp, t, None, np.ones(2, np.float32), gx, 2, 3, -100, 0.0)
    assert np.all(np.isfinite(gx))
    with pytest.raises(ValueError, match="cross_entropy_forward: logits"):
        loss.cross_entropy_forward(x.ravel()[:-1], t, None, lp, lr, 2, 3, -100, 0.0)
    with pytest.raises(ValueError, match="cross_entropy_forward: weight"):
        loss.cross_entropy_forward(x.ravel(), t, np.ones(2, np.float32), lp, lr, 2, 3, -100, 0.0)
    with pytest.raises(ValueError, match="cross_entropy_backward: grow"):
        loss.cross_entropy_backward(lp, t, None, np.ones(1, np.float32), gx, 2, 3, -100, 0.0)
    with pytest.raises(IndexError, match="out of bounds"):
        loss.cross_entropy_forward(x.ravel(), np.array([3, 0]), None, lp, lr, 2, 3, -100, 0.0)
    with pytest.raises(IndexError, match="out of bounds"):
        loss.cross_entropy_backward(
            lp, np.array([0, -1]), None, np.ones(2, np.float32), gx, 2, 3, -100, 0.0
        )


# --------------------------------------------------------------------------- nnmisc


EMB_CASES = [
    (7, 5, 3, -1),
    (50, 10, 1, 3),
    (100, 20, 200, 0),
    (1000, 300, 50, 7),
    (4000, 50, 16, -1),
    (33, 2, 1000, -1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", EMB_CASES)
def test_embedding_backward(dtype, case):
    n_idx, V, D, pad = case
    rng = np.random.default_rng(13)
    idx = rng.integers(0, V, n_idx).astype(np.int64)
    gy = rnd(rng, (n_idx, D), dtype)

    def run():
        gw = np.full(V * D, np.nan, dtype)
        nnmisc.embedding_backward(gy.ravel(), idx, gw, n_idx, D, pad)
        return (gw,)

    (gw,) = run_1_and_2(run)
    ref = np.zeros((V, D))
    keep = idx != pad
    np.add.at(ref, idx[keep], gy[keep].astype(np.float64))
    np.testing.assert_allclose(gw.reshape(V, D), ref, **TOL[dtype])
    torch = pytest.importorskip("torch")
    wt = torch.zeros(
        V, D, dtype=torch.float64 if dtype == np.float64 else torch.float32, requires_grad=True
    )
    torch.nn.functional.embedding(
        torch.tensor(idx), wt, padding_idx=None if pad < 0 else pad
    ).backward(torch.tensor(gy))
    np.testing.assert_allclose(gw.reshape(V, D), wt.grad.numpy(), **TOL[dtype])


def test_embedding_checks():
    gy = np.zeros((4, 3), np.float32).ravel()
    idx = np.array([0, 1, 2, 1], np.int64)
    gw = np.zeros(9, np.float32)
    nnmisc.embedding_backward(gy, idx, gw, 4, 3, -1)
    nnmisc.embedding_backward(gy, idx, gw, 4, 3, None)
    nnmisc.embedding_backward(gy, idx, gw, 4, 3)
    with pytest.raises(ValueError, match="embedding_backward: gy"):
        nnmisc.embedding_backward(gy[:-1], idx, gw, 4, 3, -1)
    with pytest.raises(ValueError, match="embedding_backward: idx"):
        nnmisc.embedding_backward(gy, idx[:3], gw, 4, 3, -1)
    with pytest.raises(ValueError, match="embedding_backward: gw"):
        nnmisc.embedding_backward(gy, idx, gw[:-1], 4, 3, -1)
    with pytest.raises(IndexError, match="embedding_backward"):
        nnmisc.embedding_backward(gy, np.array([0, 3, 1, 1]), gw, 4, 3, -1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 17, 100003])
def test_dropout_mask(dtype, n):
    rng = np.random.default_rng(14)
    u = rng.random(n).astype(dtype)
    p = 0.3
    scale = 1 / (1 - p)

    def run():
        m = np.full(n, np.nan, dtype)
        nnmisc.dropout_mask(u, m, p, scale)
        return (m,)

    (m,) = run_1_and_2(run)
    np.testing.assert_array_equal(m, np.where(u >= dtype(p), dtype(scale), dtype(0)))
    with pytest.raises(ValueError, match="dropout_mask: mask_out"):
        nnmisc.dropout_mask(u, np.empty(n + 1, dtype), p, scale)
