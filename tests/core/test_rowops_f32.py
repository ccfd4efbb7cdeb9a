"""The float32 row kernels of _rowops_f32.h (softmax, log_softmax and their backward through
reduction.pyx; layer norm forward/backward through normalization.pyx): vs float64 NumPy
references and torch, special values, odd lengths, and the same bits at 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, threads

import ctorch
from ctorch._core import normalization as NK
from ctorch._core import reduction as R

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")

SHAPES = [(1, 1), (3, 5), (7, 16), (5, 17), (300, 128), (33, 1000), (2, 4097)]


def _softmax64(x, log):
    x = x.astype(np.float64)
    z = x - x.max(1, keepdims=True)
    lse = np.log(np.exp(z).sum(1, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@pytest.mark.parametrize("m,n", SHAPES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows_vs_float64(m, n, log):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((m, n)) * 4).astype(np.float32)
    out = np.empty_like(x)
    (R.log_softmax_lastdim if log else R.softmax_lastdim)(x.ravel(), out.ravel(), m, n)
    np.testing.assert_allclose(out, _softmax64(x, log), rtol=2e-6 * np.sqrt(n) + 1e-6, atol=1e-6)
    gy = rng.standard_normal((m, n)).astype(np.float32)
    gx = np.empty_like(x)
    y64 = _softmax64(x, log)
    g64 = gy.astype(np.float64)
    if log:
        R.log_softmax_backward_lastdim(gy.ravel(), out.ravel(), gx.ravel(), m, n)
        expect = g64 - np.exp(y64) * g64.sum(1, keepdims=True)
    else:
        R.softmax_backward_lastdim(gy.ravel(), out.ravel(), gx.ravel(), m, n)
        expect = y64 * (g64 - (g64 * y64).sum(1, keepdims=True))
    np.testing.assert_allclose(gx, expect, rtol=1e-4, atol=1e-5 * np.sqrt(n))


@needs_torch
@pytest.mark.parametrize("log", [False, True])
def test_softmax_special_values_like_torch(log):
    import torch

    x = np.array(
        [
            [1.0, np.nan, 2.0, 0.5] * 5,
            [np.inf, 1.0, 2.0, 3.0] * 5,
            [-np.inf] * 20,
            [-np.inf, 0.0, 1.0, -np.inf] * 5,
            [1e30, -1e30, 0.0, 88.0] * 5,
            [-200.0, -100.0, 0.0, 1.0] * 5,
        ],
        np.float32,
    )
    x = np.repeat(x, 60, axis=0)  # above the kernel's size threshold
    fn = "log_softmax" if log else "softmax"
    got = getattr(ctorch.nn.functional, fn)(ctorch.tensor(x), -1).numpy()
    want = getattr(torch, fn)(torch.from_numpy(x), -1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _bits_12(fn):
    with threads(1):
        a = fn()
    with threads(2):
        b = fn()
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("n", [128, 1000])
def test_softmax_same_bits_1_2_threads(n):
    m = 400_000 // n
    x = np.random.default_rng(0).standard_normal((m, n)).astype(np.float32)
    gy = np.random.default_rng(1).standard_normal((m, n)).astype(np.float32)

    def run():
        res = []
        for fwd, bwd in (
            (R.softmax_lastdim, R.softmax_backward_lastdim),
            (R.log_softmax_lastdim, R.log_softmax_backward_lastdim),
        ):
            y = np.empty_like(x)
            fwd(x.ravel(), y.ravel(), m, n)
            gx = np.empty_like(x)
            bwd(gy.ravel(), y.ravel(), gx.ravel(), m, n)
            res += [y, gx]
        return res

    assert _bits_12(run)


def _ln64(x, w, b, eps):
    x = x.astype(np.float64)
    mu = x.mean(1, keepdims=True)
    r = 1 / np.sqrt(((x - mu) ** 2).mean(1, keepdims=True) + eps)
    y = (x - mu) * r
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, mu[:, 0], r[:, 0]


@pytest.mark.parametrize(
    "M,D", [(1, 1), (3, 7), (5, 16), (40, 33), (300, 128), (17, 1024), (600, 1024)]
)
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
def test_layernorm_f32_vs_float64(M, D, affine):
    rng = np.random.default_rng(D)
    x = (rng.standard_normal((M, D)) * 3 + 5).astype(np.float32)
    w = rng.standard_normal(D).astype(np.float32) if affine[0] else None
    b = rng.standard_normal(D).astype(np.float32) if affine[1] else None
    y = np.empty_like(x)
    mean = np.empty(M, np.float32)
    rstd = np.empty(M, np.float32)
    NK.layernorm_forward(x.ravel(), w, b, y.ravel(), mean, rstd, M, D, 1e-5)
    y64, mu, r = _ln64(x, w, b, 1e-5)
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mean, mu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rstd, r, rtol=1e-4)
    gy = rng.standard_normal((M, D)).astype(np.float32)
    gx = np.empty_like(x)
    gw = np.empty(D, np.float32)
    gb = np.empty(D, np.float32)
    NK.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, gx.ravel(), gw, gb, M, D)
    g64 = gy.astype(np.float64)
    xhat = (x.astype(np.float64) - mu[:, None]) * r[:, None]
    gh = g64 if w is None else g64 * w
    egx = (gh - gh.mean(1, keepdims=True) - xhat * (gh * xhat).mean(1, keepdims=True)) * r[:, None]
    np.testing.assert_allclose(gx, egx, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gw, (g64 * xhat).sum(0), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(gb, g64.sum(0), rtol=1e-4, atol=1e-3)
    # gx alone / gw alone give the same values as all three together
    gx2 = np.empty_like(x)
    NK.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, gx2.ravel(), None, None, M, D)
    assert gx2.tobytes() == gx.tobytes()
    gw2 = np.empty(D, np.float32)
    NK.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, None, gw2, None, M, D)
    assert gw2.tobytes() == gw.tobytes()


@pytest.mark.parametrize("M,D", [(2000, 128), (700, 1024)])
def test_layernorm_same_bits_1_2_threads(M, D):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((M, D)).astype(np.float32)
    w = rng.standard_normal(D).astype(np.float32)
    b = rng.standard_normal(D).astype(np.float32)
    gy = rng.standard_normal((M, D)).astype(np.float32)

    def run():
        y = np.empty_like(x)
        mean = np.empty(M, np.float32)
        rstd = np.empty(M, np.float32)
        NK.layernorm_forward(x.ravel(), w, b, y.ravel(), mean, rstd, M, D, 1e-5)
        gx = np.empty_like(x)
        gw = np.empty(D, np.float32)
        gb = np.empty(D, np.float32)
        NK.layernorm_backward(gy.ravel(), x.ravel(), mean, rstd, w, gx.ravel(), gw, gb, M, D)
        return [y, mean, rstd, gx, gw, gb]

    assert _bits_12(run)


@needs_torch
def test_layer_norm_op_vs_torch_transformer_shape():
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((12 * 64, 128)).astype(np.float32)
    w = rng.standard_normal(128).astype(np.float32)
    b = rng.standard_normal(128).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    res = []
    for lib in (ctorch, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.layer_norm(xt, (128,), wt, bt)
        y.backward(lib.tensor(gy))
        res.append([t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)])
    for a, t in zip(*res, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=2e-4)
