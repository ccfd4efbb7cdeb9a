"""Batched float32 products on ctorch's sgemm (ops/mm_arrays._bmm_sgemm): bmm and >= 3-D matmul
vs float64 NumPy and torch (forward and gradients, transposed views, 4-D batches), the
NumPy fallback below the size limits, and the same bits at 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op, threads

import ctorch
from ctorch.ops import mm_arrays

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((48, 64, 64), (48, 64, 64)),
        ((12, 128, 96), (12, 96, 40)),
        ((2, 3, 64, 16), (2, 3, 16, 64)),  # attention scores (B, H, T, d) @ (B, H, d, T)
        ((5, 33, 70), (5, 70, 35)),  # odd sizes, ragged tiles
    ],
)
def test_batched_matmul_sgemm_vs_numpy_torch(sa, sb):
    a = mm_arrays._bmm_sgemm(np.ones(sa, np.float32), np.ones(sb, np.float32))
    assert a is not None  # these shapes take the sgemm path
    check_op(
        lambda lib, x, y: x @ y,
        [sa, sb],
        ref=lambda x, y: (x.astype(np.float64) @ y.astype(np.float64)).astype(np.float32),
        atol=1e-4,
        grad_atol=1e-3,
        gradcheck=False,  # float64 never takes the float32 sgemm path; torch checks the grads
    )


def test_transposed_views_and_fallbacks():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 64, 48)).astype(np.float32)
    b = rng.standard_normal((8, 40, 64)).astype(np.float32)
    at = a.transpose(0, 2, 1)  # (8, 48, 64), strided
    bt = b.transpose(0, 2, 1)  # (8, 64, 40)
    r = mm_arrays._bmm_sgemm(at, bt)
    np.testing.assert_allclose(r, at.astype(np.float64) @ bt, rtol=1e-5, atol=1e-4)
    # broadcast batch, tiny products, float64 and negative strides go to NumPy
    assert mm_arrays._bmm_sgemm(a[:1], rng.standard_normal((8, 48, 40)).astype(np.float32)) is None
    assert mm_arrays._bmm_sgemm(a[:, :8], b[:, :, :8].transpose(0, 2, 1)[:, :48]) is None
    assert mm_arrays._bmm_sgemm(a[:, ::-1], bt[:, :48]) is None
    got = (ctorch.tensor(a[:, ::-1].copy()) @ ctorch.tensor(bt[:, :48].copy())).numpy()
    np.testing.assert_allclose(got, a[:, ::-1] @ bt[:, :48], rtol=1e-5, atol=1e-4)


def test_bmm_same_bits_1_and_2_threads():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((12, 128, 128)).astype(np.float32)
    b = rng.standard_normal((12, 128, 128)).astype(np.float32)
    g = rng.standard_normal((12, 128, 128)).astype(np.float32)

    def run():
        x, y = ctorch.tensor(a, requires_grad=True), ctorch.tensor(b, requires_grad=True)
        z = ctorch.bmm(x, y)
        z.backward(ctorch.tensor(g))
        return [t.detach().numpy().copy() for t in (z, x.grad, y.grad)]

    with threads(1):
        one = run()
    with threads(2):
        two = run()
    for p, q in zip(one, two, strict=True):
        assert p.tobytes() == q.tobytes()
