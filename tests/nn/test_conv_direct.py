"""The direct float32 grouped conv2d kernels (ops/conv_direct.py, _core/_gconv_f32.h):
depthwise and few-channel groups, forward and gradients vs a NumPy reference and torch,
float64 finite differences on the same geometries, the paths they hand back to (padding
beyond the kernel, non-finite weights), the kernels' own checks, and the same bits at 1 and 2
threads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op, threads
from helpers import ref_conv2d as _ref_conv2d

import ctorch
from ctorch._core import conv as kconv
from ctorch._geometry import Window2d
from ctorch.ops import conv_direct

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
needs_kernel = pytest.mark.skipif(not kconv.GCONV_AVX512, reason="no AVX-512 on this CPU")


def _F(lib):
    return lib.nn.functional


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


# (N, C, H, W), (OC, kh, kw), stride, padding, dilation, groups: all on the direct kernels
CASES = [
    ((2, 4, 9, 10), (4, 3, 3), 1, 1, 1, 4),  # depthwise
    ((2, 3, 11, 7), (6, 3, 3), 2, 1, 1, 3),  # depthwise, multiplier 2, stride 2
    ((1, 4, 13, 35), (4, 3, 3), 2, 1, 1, 4),  # stride 2, rows over 16 outputs wide
    ((2, 4, 9, 9), (4, 3, 3), 1, 2, 2, 4),  # depthwise dilated
    ((2, 8, 7, 7), (8, 3, 3), 1, 1, 1, 2),  # groups of 4 channels (ResNeXt-like)
    ((2, 6, 8, 9), (9, 3, 3), (2, 1), 1, 1, 3),  # groups of 2 -> 3, vertical stride only
    ((1, 4, 6, 20), (4, 2, 5), (1, 2), (1, 2), (2, 1), 2),  # asymmetric kernel and geometry
    ((2, 4, 5, 5), (8, 1, 1), 1, 0, 1, 4),  # 1x1 depthwise, multiplier 2
    ((1, 2, 12, 12), (2, 7, 7), 2, 3, 1, 2),  # 7x7 stride 2
    ((2, 3, 17, 3), (3, 3, 1), (3, 1), (1, 0), 1, 3),  # vertical stride 3, one column
]


def _case(xs, wk, g):
    OC, kh, kw = wk
    return (OC, xs[1] // g, kh, kw)


@needs_kernel
@pytest.mark.parametrize("xs,wk,s,p,d,g", CASES)
def test_cases_take_the_direct_kernels(xs, wk, s, p, d, g):
    geo = Window2d.make(xs[0], xs[1], xs[2], xs[3], wk[1:], _pair(s), _pair(p), _pair(d))
    w = np.ones(_case(xs, wk, g), np.float32)
    assert conv_direct._kernels(np.ones(xs, np.float32), w, geo, g) is not None
    w.flat[0] = np.inf
    assert conv_direct._kernels(np.ones(xs, np.float32), w, geo, g) is None


@pytest.mark.parametrize("xs,wk,s,p,d,g", CASES)
def test_direct_vs_numpy_torch_gradcheck(xs, wk, s, p, d, g):
    ws = _case(xs, wk, g)

    def ref(x, w, b):
        return _ref_conv2d(x, w, b, _pair(s), _pair(p), _pair(d), g).astype(x.dtype)

    check_op(
        lambda lib, x, w, b: _F(lib).conv2d(x, w, b, s, p, d, g),
        [xs, ws, (ws[0],)],
        ref=ref,
        atol=1e-4,
    )


@needs_torch
@pytest.mark.parametrize(
    "xs,ws,s,p,d,g",
    [
        ((4, 16, 28, 28), (16, 1, 3, 3), 1, 1, 1, 16),
        ((4, 32, 14, 14), (32, 1, 3, 3), 2, 1, 1, 32),
        ((4, 32, 7, 7), (32, 4, 3, 3), 1, 1, 1, 8),
        ((3, 6, 15, 40), (12, 1, 5, 5), 2, 2, 1, 6),
    ],
)
def test_benchmark_like_shapes_vs_torch(xs, ws, s, p, d, g):
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    res = []
    for lib in (ctorch, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = _F(lib).conv2d(xt, wt, bt, s, p, d, g)
        (y * y).sum().backward()
        res.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()))
    for a, t in zip(*res, strict=True):
        assert_close(a, t, atol=2e-4, rtol=1e-3)


def _grads(x, w, b, kw, nt=1):
    with threads(nt):
        xt, wt, bt = (ctorch.tensor(a, requires_grad=True) for a in (x, w, b))
        y = _F(ctorch).conv2d(xt, wt, bt, **kw)
        gy = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(ctorch.tensor(gy))
        return [t.detach().numpy().copy() for t in (y, xt.grad, wt.grad, bt.grad)]


@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((16, 32, 14, 14), (32, 1, 3, 3), dict(padding=1, groups=32)),
        ((16, 32, 15, 15), (64, 1, 3, 3), dict(stride=2, padding=1, groups=32)),
        ((16, 32, 7, 7), (32, 4, 3, 3), dict(padding=1, groups=8)),
        ((8, 16, 12, 12), (16, 2, 3, 3), dict(padding=2, dilation=2, groups=8)),
    ],
)
def test_same_bits_at_1_and_2_threads(xs, ws, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    one = _grads(x, w, b, kw, 1)
    two = _grads(x, w, b, kw, 2)
    for a, c in zip(one, two, strict=True):
        assert a.tobytes() == c.tobytes()


def test_padding_beyond_the_kernel_hands_grad_x_back():
    # padding 3 > (3-1)*1: the direct grad x does not apply, the depthwise loops take it
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    y, gx, gw, gb = _grads(x, w, b, dict(padding=3, groups=4))
    ref = _ref_conv2d(x, w, b, (1, 1), (3, 3), (1, 1), 4)
    assert_close(y, ref.astype(np.float32), atol=1e-4)
    x64 = ctorch.tensor(x.astype(np.float64), requires_grad=True)
    w64 = ctorch.tensor(w.astype(np.float64), requires_grad=True)
    y64 = _F(ctorch).conv2d(x64, w64, None, padding=3, groups=4)
    gy = np.random.default_rng(3).standard_normal(tuple(y64.shape))
    y64.backward(ctorch.tensor(gy))
    assert_close(gx, x64.grad.numpy().astype(np.float32), atol=1e-4)
    assert_close(gw, w64.grad.numpy().astype(np.float32), atol=1e-4)


@needs_torch
def test_nonfinite_weights_match_torch():
    # an inf/nan weight leaves the direct kernels (inf * a padding zero would be nan where
    # torch's float32 kernels skip the padding)
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    w[1, 0, 0, 0] = np.inf
    w[2, 0, 1, 1] = np.nan
    gy = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    res = []
    for lib in (ctorch, torch):
        xt, wt = (lib.tensor(a, requires_grad=True) for a in (x, w))
        y = _F(lib).conv2d(xt, wt, None, 2, 1, 1, 4)
        y.backward(lib.tensor(gy))
        res.append((y.detach().numpy(), xt.grad.numpy()))
    for a, t in zip(*res, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-4)


@needs_kernel
def test_kernel_errors():
    geo = Window2d(2, 4, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5)
    x = np.zeros(2 * 4 * 25, np.float32)
    w = np.zeros(4 * 2 * 9, np.float32)
    y = np.zeros(2 * 4 * 25, np.float32)
    kconv.grouped_conv2d_forward(x, w, None, y, geo, 2, 4)
    with pytest.raises(ValueError, match="grouped_conv2d_forward: y"):
        kconv.grouped_conv2d_forward(x, w, None, y[:-1], geo, 2, 4)
    with pytest.raises(ValueError, match="grouped_conv2d_forward: groups=3"):
        kconv.grouped_conv2d_forward(x, w, None, y, geo, 3, 4)
    with pytest.raises(ValueError, match="output size"):
        kconv.grouped_conv2d_forward(x, w, None, y, geo._replace(ow=4), 2, 4)
    with pytest.raises(ValueError, match="stride 3"):
        kconv.grouped_conv2d_forward(x, w, None, y, geo._replace(sw=3, ow=2), 2, 4)
    with pytest.raises(ValueError, match="grouped_conv2d_forward: bias"):
        kconv.grouped_conv2d_forward(x, w, np.zeros(3, np.float32), y, geo, 2, 4)
    with pytest.raises(ValueError, match="padding"):
        kconv.grouped_conv2d_backward_input(y, w, x, geo._replace(ph=3, oh=9), 2, 4)
    with pytest.raises(ValueError, match="grouped_conv2d_backward_weight: gw"):
        kconv.grouped_conv2d_backward_weight(y, x, w[:-1], geo, 2, 4)
    with pytest.raises(ValueError, match="taps"):
        big = Window2d(1, 2, 9, 9, 8, 8, 1, 1, 0, 0, 1, 1, 2, 2)
        kconv.grouped_conv2d_forward(
            np.zeros(162, np.float32), np.zeros(128, np.float32), None,
            np.zeros(8, np.float32), big, 2, 2,
        )  # fmt: skip
    with pytest.raises(TypeError, match="grouped_conv2d_forward: the geometry must be"):
        kconv.grouped_conv2d_forward(x, w, None, y, tuple(geo)[:-1], 2, 4)


@needs_kernel
def test_empty_planes():
    # no output rows: grad x is zeros, gw zeros; no images: nothing written, no error
    geo = Window2d(0, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5)
    kconv.grouped_conv2d_forward(
        np.zeros(0, np.float32), np.ones(18, np.float32), None, np.zeros(0, np.float32),
        geo, 2, 2,
    )  # fmt: skip
    gw = np.full(18, 7.0, np.float32)
    kconv.grouped_conv2d_backward_weight(
        np.zeros(0, np.float32), np.zeros(0, np.float32), gw, geo, 2, 2
    )
    assert not gw.any()
