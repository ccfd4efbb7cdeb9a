"""Winograd F(2x2, 3x3) for 3x3 stride-1 padding-1 convolutions (groups too) (ops/conv_winograd.py,
_core/_winograd_f32.h): forward and input gradient vs a float64 reference (ctorch's float64
path, the same op on the GEMM kernels) and torch, the weight gradient alongside, the shapes
that take it, the kernel's own checks, and the same bits at 1 and 2 threads.  (float64
finite differences: Winograd is a float32-only kernel; the float64 gradients it is compared
with are gradchecked in tests/nn/test_conv_shapes.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, threads

import ctorch
from ctorch._core import gemm as kgemm
from ctorch._geometry import Window2d
from ctorch.ops import conv_winograd

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
needs_kernel = pytest.mark.skipif(not kgemm.SGEMM_AVX512, reason="no AVX-512 on this CPU")

# (N, C, H, W), OC, groups: all take the Winograd kernel (odd sizes: tiles overhanging the
# plane)
SHAPES = [
    ((16, 16, 7, 7), 16, 1),
    ((16, 16, 4, 5), 24, 1),
    ((24, 17, 3, 6), 16, 1),  # 24 images: 32 lanes, 8 idle
    ((32, 32, 2, 2), 48, 1),
    ((16, 16, 1, 9), 16, 1),  # one row: the kernel's rows above and below read padding only
    ((16, 24, 15, 16), 16, 1),
    ((16, 64, 6, 5), 64, 4),  # groups of 16 channels
    ((16, 32, 3, 7), 48, 2),  # groups of 16 -> 24
    ((16, 32, 16, 16), 32, 1),  # 256 pixels: 32+ channels
    ((16, 64, 17, 18), 64, 1),  # 306 pixels (up to 1024): 64+ channels
]


def _geo(xs):
    N, C, H, W = xs
    return Window2d(N, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, H, W)


def _data(xs, OC, dtype=np.float32, seed=0, g=1):
    rng = np.random.default_rng(seed)
    Cg = xs[1] // g
    x = rng.standard_normal(xs).astype(dtype)
    w = (rng.standard_normal((OC, Cg, 3, 3)) / np.sqrt(9 * Cg)).astype(dtype)
    b = rng.standard_normal(OC).astype(dtype)
    return x, w, b


def _grads(x, w, b, nt=1, g=1):
    with threads(nt):
        xt, wt, bt = (ctorch.tensor(a, requires_grad=True) for a in (x, w, b))
        y = ctorch.nn.functional.conv2d(xt, wt, bt, 1, 1, 1, g)
        gy = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(x.dtype)
        y.backward(ctorch.tensor(gy))
        return [t.detach().numpy().copy() for t in (y, xt.grad, wt.grad, bt.grad)]


@needs_kernel
@pytest.mark.parametrize("xs,OC,g", SHAPES)
def test_shapes_take_winograd(xs, OC, g):
    x, w, _ = _data(xs, OC, g=g)
    assert conv_winograd._kernels(x, w, _geo(xs), g) is not None


@pytest.mark.parametrize("xs", [(16, 16, 7, 7), (16, 64, 16, 16)])
def test_weight_grad_alone(xs):
    # x without a gradient: the backward keeps only w's shape (a _ShapeOnly), which picked
    # the kernels (AttributeError); the weight gradient against the GEMM path's float64
    x, w, b = _data(xs, xs[1])
    got, ref = [], []
    for dt, out in ((np.float32, got), (np.float64, ref)):
        xt = ctorch.tensor(x.astype(dt))
        wt = ctorch.tensor(w.astype(dt), requires_grad=True)
        y = ctorch.nn.functional.conv2d(xt, wt, None, 1, 1)
        y.backward(ctorch.ones_like(y))
        out.append(wt.grad.numpy())
    np.testing.assert_allclose(got[0], ref[0], rtol=0, atol=2e-5 * float(np.abs(ref[0]).max()))


@needs_kernel
def test_scratch_cap(monkeypatch):
    # the kernel's scratch holds every tile of the batch: past the cap, the GEMM path
    x, w, _ = _data((16, 64, 17, 18), 64)
    geo = _geo(x.shape)
    assert conv_winograd._kernels(x, w, geo, 1) is not None
    need = 4 * kgemm.winograd_work_size(16, 64, 17, 18, 64, True)
    monkeypatch.setattr(conv_winograd, "_MAX_WORK_BYTES", need - 1)
    assert conv_winograd._kernels(x, w, geo, 1) is None
    big = Window2d(256, 512, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32, 32)  # (~10 GB of scratch)
    monkeypatch.undo()
    assert conv_winograd._kernels(x, np.zeros((512, 512, 3, 3), np.float32), big, 1) is None


def test_shapes_that_do_not():
    x, w, _ = _data((8, 16, 7, 7), 16)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None  # 8 of 16 lanes
    x, w, _ = _data((16, 8, 7, 7), 16)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None  # 8 channels
    x, w, _ = _data((16, 16, 16, 16), 16)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None  # 256 pixels, 16 channels
    x, w, _ = _data((16, 32, 20, 20), 32)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None  # 400 pixels, 32 channels
    x, w, _ = _data((16, 64, 33, 32), 64)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None  # past 1024 pixels
    x, w, _ = _data((16, 128, 16, 16), 128, g=8)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 8) is None  # 16 channels a group
    x, w, _ = _data((16, 16, 7, 7), 16, np.float64)
    assert conv_winograd._kernels(x, w, _geo(x.shape), 1) is None
    geo = Window2d(16, 16, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4)
    x, w, _ = _data((16, 16, 7, 7), 16)
    assert conv_winograd._kernels(x, w, geo, 1) is None  # stride 2


@pytest.mark.parametrize("xs,OC,g", SHAPES)
def test_forward_and_grads_vs_float64(xs, OC, g):
    x, w, b = _data(xs, OC, g=g)
    got = _grads(x, w, b, g=g)
    ref = _grads(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), g=g)
    for name, a, r in zip(("y", "gx", "gw", "gb"), got, ref, strict=True):
        scale = max(1.0, float(np.abs(r).max()))
        np.testing.assert_allclose(a, r, rtol=0, atol=2e-5 * scale, err_msg=name)


@needs_torch
@pytest.mark.parametrize("xs,OC,g", SHAPES[:4] + SHAPES[6:])
def test_vs_torch(xs, OC, g):
    import torch

    x, w, b = _data(xs, OC, seed=1, g=g)
    res = []
    for lib in (ctorch, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.conv2d(xt, wt, bt, padding=1, groups=g)
        (y * y).sum().backward()
        res.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()))
    for a, t in zip(*res, strict=True):  # (atol scaled: gw reaches ~1e3 on 64 channels)
        assert_close(a, t, atol=2e-4 * max(1.0, float(np.abs(t).max())), rtol=1e-3)


@pytest.mark.parametrize(
    "xs,OC,g", [((32, 64, 7, 7), 64, 1), ((16, 32, 4, 4), 32, 1), ((32, 64, 14, 14), 64, 4)]
)
def test_same_bits_at_1_and_2_threads(xs, OC, g):
    x, w, b = _data(xs, OC, g=g)
    one = _grads(x, w, b, 1, g)
    two = _grads(x, w, b, 2, g)
    for a, c in zip(one, two, strict=True):
        assert a.tobytes() == c.tobytes()


def test_special_values_propagate():
    # an inf input spreads nan/inf over its 3x3 neighbourhood only, as in the direct product
    x, w, b = _data((16, 16, 6, 6), 16)
    x[3, 2, 2, 2] = np.inf
    y = ctorch.nn.functional.conv2d(ctorch.tensor(x), ctorch.tensor(w), ctorch.tensor(b), 1, 1)
    ya = y.numpy()
    bad = ~np.isfinite(ya)
    assert bad[3, :, 1:4, 1:4].all()
    bad[3, :, 1:4, 1:4] = False
    assert not bad.any()


@needs_kernel
def test_kernel_checks():
    N, C, H, W, OC = 16, 16, 4, 4, 16
    x, w, b = _data((N, C, H, W), OC)
    y = np.empty(N * OC * H * W, np.float32)
    n = kgemm.winograd_work_size(N, C, H, W, OC)
    kgemm.winograd_conv3x3(x.ravel(), w.ravel(), b, y, N, C, H, W, OC, np.empty(n, np.float32))
    with pytest.raises(ValueError, match="winograd_conv3x3: work has"):
        kgemm.winograd_conv3x3(x.ravel(), w.ravel(), b, y, N, C, H, W, OC,
                               np.empty(n - 1, np.float32))  # fmt: skip
    with pytest.raises(ValueError, match="winograd_conv3x3: y has"):
        kgemm.winograd_conv3x3(x.ravel(), w.ravel(), b, y[:-1], N, C, H, W, OC,
                               np.empty(n, np.float32))  # fmt: skip
    with pytest.raises(ValueError, match="sizes must be positive"):
        kgemm.winograd_work_size(0, C, H, W, OC)
    with pytest.raises(ValueError, match="above 2"):
        kgemm.winograd_work_size(1 << 20, 1 << 10, 4, 4, 16)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        kgemm.winograd_conv3x3(x.ravel(), w.ravel(), b, y, N, C, H, W, OC,
                               np.empty(n, np.float32), False, 3)  # fmt: skip
