"""conv2d whose kernel covers the whole unpadded input (ops/conv_full.py): three plain
products instead of im2col. Forward and gradients against the NumPy reference, torch and
float64 finite differences; the path is checked to be the one taken."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, ref_conv2d, threads

import ctorch
import ctorch.nn.functional as F
from ctorch.ops import conv_full

CASES = [
    # (N, C, H, W, OC, stride, dilation, bias)
    (16, 512, 4, 4, 1, 1, 1, False),  # DCGAN's last discriminator layer
    (3, 8, 3, 5, 70, 1, 1, True),  # more output channels than images, kh != kw
    (1, 4, 2, 2, 3, 2, 1, True),  # stride does not matter for a 1x1 output
    (5, 6, 1, 1, 4, 1, 3, True),  # a 1x1 kernel on a 1x1 input, any dilation
    (64, 20, 7, 7, 10, 1, 1, True),  # a classifier head
]


@pytest.fixture
def spy(monkeypatch):
    calls = []
    orig_f, orig_b = conv_full.full_forward, conv_full.full_backward
    import ctorch.ops.conv_gemm as cg

    def f(*a):
        calls.append("f")
        return orig_f(*a)

    def b(*a):
        calls.append("b")
        return orig_b(*a)

    monkeypatch.setattr(cg, "full_forward", f)
    monkeypatch.setattr(cg, "full_backward", b)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:5])))
def test_full_window_conv_matches_reference_and_torch(case, dtype, spy):
    N, C, H, W, OC, s, d, has_b = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((OC, C, H, W)).astype(dtype)
    b = rng.standard_normal(OC).astype(dtype) if has_b else None
    gy = rng.standard_normal((N, OC, 1, 1)).astype(dtype)
    xt = ctorch.tensor(x, requires_grad=True)
    wt = ctorch.tensor(w, requires_grad=True)
    bt = ctorch.tensor(b, requires_grad=True) if has_b else None
    y = F.conv2d(xt, wt, bt, stride=s, dilation=d)
    y.backward(ctorch.tensor(gy))
    assert spy == ["f", "b"]
    tol = 2e-4 if dtype == np.float32 else 1e-10
    ref = ref_conv2d(x, w, b, (s, s), (0, 0), (d, d), 1)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=tol, atol=tol * np.sqrt(C * H * W))
    g2 = gy.reshape(N, OC).astype(np.float64)
    np.testing.assert_allclose(
        xt.grad.numpy(), (g2 @ w.reshape(OC, -1)).reshape(x.shape), rtol=tol, atol=tol * 10
    )
    np.testing.assert_allclose(
        wt.grad.numpy(), (g2.T @ x.reshape(N, -1)).reshape(w.shape), rtol=tol, atol=tol * 10
    )
    if has_b:
        np.testing.assert_allclose(bt.grad.numpy(), g2.sum(0), rtol=tol, atol=tol * 10)
    if HAS_TORCH:
        import torch

        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True) if has_b else None
        ty = torch.nn.functional.conv2d(tx, tw, tb, stride=s, dilation=d)
        ty.backward(torch.tensor(gy))
        assert y.grad_fn.name() == ty.grad_fn.name()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), rtol=tol, atol=tol * 10)


def test_full_window_gradcheck_and_double_backward(spy):
    x = ctorch.randn(3, 2, 3, 2, dtype=ctorch.float64, requires_grad=True)
    w = ctorch.randn(4, 2, 3, 2, dtype=ctorch.float64, requires_grad=True)
    b = ctorch.randn(4, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(F.conv2d, (x, w, b))
    assert ctorch.autograd.gradgradcheck(F.conv2d, (x, w, b))
    assert "f" in spy and "b" in spy


def test_full_window_bits_do_not_depend_on_threads():
    rng = np.random.default_rng(1)
    x = ctorch.tensor(rng.standard_normal((16, 512, 4, 4)).astype(np.float32), requires_grad=True)
    w = ctorch.tensor(rng.standard_normal((8, 512, 4, 4)).astype(np.float32), requires_grad=True)
    out = []
    for n in (1, 2):
        with threads(n):
            x.grad = w.grad = None
            y = F.conv2d(x, w)
            y.sum().backward()
            out.append((y.detach().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()))
    for a, b in zip(out[0], out[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_full_window_edges():
    # an empty batch, nan and inf propagate as in a product
    w = ctorch.randn(2, 3, 2, 2)
    y = F.conv2d(ctorch.zeros(0, 3, 2, 2), w)
    assert tuple(y.shape) == (0, 2, 1, 1)
    x = ctorch.randn(2, 3, 2, 2)
    x[0, 0, 0, 0] = float("nan")
    y = F.conv2d(x, w)
    assert np.isnan(y[0].numpy()).all() and np.isfinite(y[1].numpy()).all()
    # padding, groups or a smaller kernel take the other paths (same answers)
    assert not conv_full.full_window((2, 3, 2, 2), x._a, w._a, (1, 1), (1, 1), 1)
    assert not conv_full.full_window((2, 4, 2, 2), x._a, w._a, (0, 0), (1, 1), 2)
    assert not conv_full.full_window((2, 3, 3, 2), x._a, w._a, (0, 0), (1, 1), 1)


@pytest.mark.parametrize(
    "stride,padding,output_padding,dilation,bias",
    [(2, 1, 0, 1, False), (2, 1, 1, 1, True), (1, 0, 0, 2, True), (3, 2, 2, 1, False)],
)
def test_conv_transpose_on_conv_fused_kernels(
    monkeypatch, stride, padding, output_padding, dilation, bias
):
    """conv_transpose2d through conv2d's per-image fused kernels (conv_gemm._convT_as_conv:
    its forward is conv2d's input gradient, its input gradient conv2d's forward, its weight
    gradient conv2d's with x and gy exchanged) against the wide path and torch."""
    import ctorch.ops.conv_gemm as cg

    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 32, 16, 16)).astype(np.float32)
    w = rng.standard_normal((32, 8, 4, 4)).astype(np.float32) * 0.1
    b = rng.standard_normal(8).astype(np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    assert cg._convT_as_conv(x, 1, 4, 32, 8 * 16, 16 * 16, weight_grad=True)

    def run():
        ts = [ctorch.tensor(a, requires_grad=True) for a in (x, w)]
        bt = ctorch.tensor(b, requires_grad=True) if bias else None
        y = F.conv_transpose2d(ts[0], ts[1], bt, **kw)
        gy = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(ctorch.tensor(gy))
        return [y.detach().numpy()] + [t.grad.numpy() for t in ts] + (
            [bt.grad.numpy()] if bias else []
        ), gy

    fused, gy = run()
    monkeypatch.setattr(cg, "_convT_as_conv", lambda *a, **k: False)
    wide, _ = run()
    for a, c in zip(fused, wide, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)
    if HAS_TORCH:
        import torch

        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True) if bias else None
        ty = torch.nn.functional.conv_transpose2d(tx, tw, tb, **kw)
        ty.backward(torch.tensor(gy))
        ref = [ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()] + (
            [tb.grad.numpy()] if bias else []
        )
        for a, c in zip(fused, ref, strict=True):
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-3)


def test_forward_and_input_grad_per_image_from_64_pixels(monkeypatch):
    """Where no weight gradient is computed (conv2d's forward, its input gradient alone, and
    so conv_transpose2d's forward), float32 conv runs the per-image fused kernels from 64
    output pixels per image (conv_wide._WIDE_MAX_L_NO_DW), the weight gradient still from
    256 (in between, a backward wanting both takes the weight gradient wide and the input
    gradient per image).  Both paths make every element the same FMA chain and fold the
    columns in the same order: bitwise equal to the wide path."""
    import ctorch.ops.conv_gemm as cg
    import ctorch.ops.conv_wide as cw

    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 32, 16, 16)).astype(np.float32)  # k4 s2 p1: 8x8 = 64 pixels
    w = (rng.standard_normal((64, 32, 4, 4)) * 0.1).astype(np.float32)
    wt = (rng.standard_normal((64, 32, 4, 4)) * 0.1).astype(np.float32)
    xt = rng.standard_normal((8, 64, 8, 8)).astype(np.float32)  # convT 8x8 -> 16x16
    assert not cw._use_wide(x, 1, 8, 64, 512, 64, weight_grad=False)
    assert cw._use_wide(x, 1, 8, 64, 512, 64, weight_grad=True)
    assert cg._fused_kernel(x, w, 1, 8, 64, 512, 64) is not None  # the per-image kernels

    gy = rng.standard_normal((8, 64, 8, 8)).astype(np.float32)

    def run():
        tx = ctorch.tensor(x, requires_grad=True)
        y = F.conv2d(tx, ctorch.tensor(w), None, 2, 1)  # the weight needs no gradient
        y.backward(ctorch.tensor(gy))
        yt = F.conv_transpose2d(ctorch.tensor(xt), ctorch.tensor(wt), None, 2, 1)
        # both gradients: the weight's on the wide path, the input's per image
        tx2, tw2 = ctorch.tensor(x, requires_grad=True), ctorch.tensor(w, requires_grad=True)
        F.conv2d(tx2, tw2, None, 2, 1).backward(ctorch.tensor(gy))
        return [y.detach().numpy(), tx.grad.numpy(), yt.numpy(), tx2.grad.numpy(), tw2.grad.numpy()]

    fused = run()
    monkeypatch.setattr(cw, "_WIDE_MAX_L_NO_DW", 256)  # everything below 256 pixels wide
    wide = run()
    for a, c in zip(fused, wide, strict=True):
        np.testing.assert_array_equal(a, c)
    if HAS_TORCH:
        import torch

        want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, 2, 1)
        np.testing.assert_allclose(fused[0], want.numpy(), rtol=1e-4, atol=1e-4)
