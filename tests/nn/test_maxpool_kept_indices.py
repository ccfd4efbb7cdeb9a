"""Max pooling keeps its argmax indices for backward as int32 (half the memory of int64;
the CNN's first pooling layer's indices are as large as its bfloat16 activation), and its
gradients, double backward and returned indices are torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dt", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_kept_indices_are_int32_and_gradients_match_torch(dt, kw):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 11, 9)).astype(np.float32)
    x = ctorch.from_numpy(a).to(getattr(ctorch, dt)).requires_grad_()
    tx = torch.from_numpy(a).to(getattr(torch, dt)).requires_grad_()
    y = ctorch.nn.functional.max_pool2d(x, **kw)
    ty = torch.nn.functional.max_pool2d(tx, **kw)
    assert y.grad_fn.idx.dtype == np.int32
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(ctorch.from_numpy(g).to(x.dtype))
    ty.backward(torch.from_numpy(g).to(tx.dtype))
    want = tx.grad.float().numpy()
    if dt == "bfloat16" and "stride" in kw:  # overlapping windows: torch adds in bf16
        np.testing.assert_allclose(x.grad.float().numpy(), want, rtol=1e-2, atol=1e-2)
    else:
        np.testing.assert_array_equal(x.grad.float().numpy(), want)


def test_double_backward_through_int32_indices():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 6, 6))
    out = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = L.nn.functional.max_pool2d(x, 2)
        (gx,) = L.autograd.grad((y**2).sum(), x, create_graph=True)
        (ggx,) = L.autograd.grad((gx**2).sum(), x)
        out.append(ggx.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_returned_indices_stay_int64():
    x = ctorch.randn(2, 3, 8, 8, requires_grad=True)
    y, i = ctorch.nn.functional.max_pool2d(x, 2, return_indices=True)
    assert i.dtype == ctorch.int64
    y.sum().backward()
    assert x.grad.sum().item() == 2 * 3 * 16
