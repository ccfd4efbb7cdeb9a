"""The batched ("wide") convolution path, the depthwise direct kernels, tap trimming and the
transposed convolution on them (ops/conv_gemm.py, ops/conv_trim.py, _core/conv.pyx, _core/_dwconv.h): forward
vs a NumPy reference and torch, gradients vs float64 finite differences and torch, and the
same bits at 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op, threads
from helpers import ref_conv2d as _ref_conv2d

import ctorch
from ctorch._core import conv as kconv
from ctorch._geometry import Window2d
from ctorch.ops import conv_trim

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return lib.nn.functional


# (N, C, H, W), (OC, k), stride, padding, dilation, groups
CASES = [
    ((1, 3, 1, 1), (5, 3), 1, 1, 1, 1),  # 1x1 output, 3x3 kernel: trimmed to its center
    ((2, 6, 2, 2), (8, 3), 2, 1, 1, 1),  # 2x2 -> 1x1 strided: trimmed rows/cols
    ((3, 5, 4, 4), (7, 3), 1, 1, 1, 1),  # small output, odd channels: wide path
    ((2, 4, 5, 5), (6, 1), 2, 0, 1, 1),  # 1x1 strided downsample
    ((2, 4, 3, 3), (6, 1), 1, 0, 1, 1),  # 1x1 pointwise
    ((1, 4, 6, 5), (4, 3), 1, 1, 1, 4),  # depthwise
    ((2, 3, 7, 6), (6, 3), 2, 1, 1, 3),  # depthwise, multiplier 2, stride 2
    ((2, 4, 7, 7), (4, 3), 1, 2, 2, 4),  # depthwise dilated
    ((2, 6, 5, 6), (9, 3), 1, 1, 1, 3),  # grouped
    ((1, 4, 8, 8), (6, 3), 1, 2, 2, 2),  # grouped dilated
    ((2, 3, 9, 9), (4, 2), 4, 0, 1, 1),  # stride > kernel
    ((2, 2, 6, 6), (3, 5), 3, 2, 1, 1),  # padding, big stride
    ((1, 2, 2, 9), (3, 3), 1, (1, 0), (1, 3), 1),  # asymmetric geometry
]


@pytest.mark.parametrize("xs,wk,s,p,d,g", CASES)
def test_conv2d_shapes_vs_numpy_torch_gradcheck(xs, wk, s, p, d, g):
    OC, k = wk
    ws = (OC, xs[1] // g, k, k)
    st, pd, dl = (s if isinstance(s, tuple) else (s, s)), p, d
    pd = p if isinstance(p, tuple) else (p, p)
    dl = d if isinstance(d, tuple) else (d, d)

    def ref(x, w, b):
        return _ref_conv2d(x, w, b, st, pd, dl, g).astype(x.dtype)

    check_op(
        lambda lib, x, w, b: _F(lib).conv2d(x, w, b, s, p, d, g),
        [xs, ws, (OC,)],
        ref=ref,
        atol=1e-4,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,wk,s,p,d,g", CASES)
def test_conv2d_shapes_dtypes_vs_numpy(dtype, xs, wk, s, p, d, g):
    OC, k = wk
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal((OC, xs[1] // g, k, k)).astype(dtype)
    b = rng.standard_normal(OC).astype(dtype)
    y = _F(ctorch).conv2d(ctorch.tensor(x), ctorch.tensor(w), ctorch.tensor(b), s, p, d, g)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    expect = _ref_conv2d(x, w, b, pair(s), pair(p), pair(d), g)
    assert y.dtype == ctorch.float32 if dtype == np.float32 else ctorch.float64
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_close(y, expect.astype(dtype), atol=tol, rtol=tol)


# (N, Cin, H, W), (OC, k), stride, padding, output_padding, groups, dilation
CONVT_CASES = [
    ((2, 5, 1, 1), (4, 4), 1, 0, 0, 1, 1),  # DCGAN's first layer (1x1 input)
    ((2, 4, 3, 3), (3, 4), 2, 1, 0, 1, 1),  # DCGAN upsampling
    ((1, 4, 3, 5), (6, 3), 2, 1, 1, 2, 1),  # groups, output_padding
    ((2, 3, 4, 4), (2, 3), 1, 1, 1, 1, 2),  # dilation with output_padding
    ((2, 4, 3, 3), (4, 1), 1, 0, 1, 1, 2),  # 1x1 kernel, output_padding (no shortcut)
    ((1, 2, 2, 3), (3, 2), 3, 0, 2, 1, 1),  # stride > kernel
]


@pytest.mark.parametrize("xs,wk,s,p,op,g,d", CONVT_CASES)
def test_conv_transpose2d_shapes(xs, wk, s, p, op, g, d):
    OC, k = wk
    ws = (xs[1], OC // g if OC % g == 0 else OC, k, k)
    check_op(
        lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b, s, p, op, g, d),
        [xs, ws, (ws[1] * g,)],
        atol=1e-4,
    )


def _run(fn_args, nt):
    with threads(nt):
        x, w, b, kw, tr = fn_args
        xt, wt, bt = (ctorch.tensor(a, requires_grad=True) for a in (x, w, b))
        if tr:
            y = _F(ctorch).conv_transpose2d(xt, wt, bt, **kw)
        else:
            y = _F(ctorch).conv2d(xt, wt, bt, **kw)
        gy = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(x.dtype)
        y.backward(ctorch.tensor(gy))
        return [t.detach().numpy().copy() for t in (y, xt.grad, wt.grad, bt.grad)]


BITWISE = [
    # conv2d (N, C, H, W), w shape, kwargs
    ((32, 64, 4, 4), (128, 64, 3, 3), dict(padding=1), False),  # wide
    ((32, 128, 1, 1), (256, 128, 3, 3), dict(padding=1), False),  # trimmed, flipped
    ((16, 32, 14, 14), (32, 1, 3, 3), dict(padding=1, groups=32), False),  # depthwise
    ((16, 32, 14, 14), (32, 8, 3, 3), dict(padding=2, dilation=2, groups=4), False),  # grouped
    ((16, 64, 4, 4), (64, 32, 4, 4), dict(stride=2, padding=1), True),  # convT
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,kw,tr", BITWISE)
def test_same_bits_at_1_and_2_threads(dtype, xs, ws, kw, tr):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[1] * kw.get("groups", 1) if tr else ws[0]).astype(dtype)
    one = _run((x, w, b, kw, tr), 1)
    two = _run((x, w, b, kw, tr), 2)
    for a, c in zip(one, two, strict=True):
        assert a.tobytes() == c.tobytes()


@needs_torch
def test_resnet_stage_shapes_vs_torch():
    import torch

    rng = np.random.default_rng(0)
    for xs, ws, s, p in [
        ((8, 256, 2, 2), (512, 256, 3, 3), 2, 1),
        ((8, 512, 1, 1), (512, 512, 3, 3), 1, 1),
        ((8, 128, 4, 4), (128, 128, 3, 3), 1, 1),
        ((8, 64, 7, 7), (64, 64, 3, 3), 1, 1),
    ]:
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(np.float32)
        res = []
        for lib in (ctorch, torch):
            xt = lib.tensor(x, requires_grad=True)
            wt = lib.tensor(w, requires_grad=True)
            y = _F(lib).conv2d(xt, wt, None, s, p)
            (y * y).sum().backward()
            res.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
        for a, t in zip(*res, strict=True):
            assert_close(a, t, atol=2e-4, rtol=1e-3)


def test_wide_kernels_match_per_image_layout():
    rng = np.random.default_rng(0)
    N, C, H, W, k, s, p, d = 3, 4, 6, 5, 3, 2, 1, 2
    oh = (H + 2 * p - d * (k - 1) - 1) // s + 1
    ow = (W + 2 * p - d * (k - 1) - 1) // s + 1
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((N, C, H, W)).astype(dt)
        geom = Window2d(N, C, H, W, k, k, s, s, p, p, d, d, oh, ow)
        cols = np.empty(N * C * k * k * oh * ow, dt)
        kconv.im2col(x.ravel(), cols, geom)
        wide = np.empty_like(cols)
        kconv.im2col_wide(x.ravel(), wide, geom)
        per = cols.reshape(N, C * k * k, oh * ow).transpose(1, 0, 2).reshape(-1)
        assert np.array_equal(per, wide)
        # col2im_wide is the adjoint of im2col_wide: <im2col(x), c> == <x, col2im(c)>
        c = rng.standard_normal(wide.size).astype(dt)
        back = np.empty(x.size, dt)
        kconv.col2im_wide(c, back, geom)
        assert np.isclose(np.dot(wide, c), np.dot(x.ravel(), back), rtol=1e-4)
        with pytest.raises(ValueError, match="im2col_wide: cols"):
            kconv.im2col_wide(x.ravel(), cols[:-1], geom)
        with pytest.raises(ValueError, match="col2im_wide: x"):
            kconv.col2im_wide(c, back[:-1], geom)


def test_depthwise_kernel_errors():
    x = np.zeros(2 * 3 * 5 * 5, np.float32)
    w = np.zeros(3 * 9, np.float32)
    y = np.zeros(2 * 3 * 5 * 5, np.float32)
    geom = Window2d(2, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5)
    kconv.depthwise_conv2d_forward(x, w, None, y, geom, 1)
    with pytest.raises(ValueError, match="depthwise_conv2d_forward: y"):
        kconv.depthwise_conv2d_forward(x, w, None, y[:-1], geom, 1)
    with pytest.raises(ValueError, match="output size"):
        kconv.depthwise_conv2d_forward(x, w, None, y, geom._replace(ow=4), 1)
    with pytest.raises(ValueError, match="multiplier"):
        kconv.depthwise_conv2d_backward_input(y, w, x, geom, 0)
    with pytest.raises(ValueError, match="depthwise_conv2d_backward_weight: gw"):
        kconv.depthwise_conv2d_backward_weight(y, x, w[:-1], geom, 1)
    with pytest.raises(TypeError, match="depthwise_conv2d_forward: the geometry must be"):
        kconv.depthwise_conv2d_forward(x, w, None, y, tuple(geom)[:-1], 1)


def test_trimmed_geometry():
    # 3x3 kernel, padding 1 on a 1x1 input: only the center tap reads the input
    t = conv_trim._trimmed((2, 3, 1, 1), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1, 1)
    assert t == ((1, 2, 1, 2), (0, 0), (0, 0))
    # every tap live: nothing to trim
    assert conv_trim._trimmed((2, 3, 4, 4), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 4, 4) is None
    # stride 2 on 2x2: the first row/column of taps only reads padding
    t = conv_trim._trimmed((2, 3, 2, 2), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1, 1)
    assert t == ((1, 3, 1, 3), (0, 0), (0, 0))
