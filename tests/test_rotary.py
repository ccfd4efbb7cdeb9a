"""Rotary position embeddings as LLaMA writes them (``view_as_complex`` of the float
activations in pairs, ``polar`` frequencies, a complex multiply, ``view_as_real``,
``flatten``), forward and backward against torch with the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


def precompute_freqs_cis(L, dim: int, end: int, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (L.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = L.arange(end, device=freqs.device)
    freqs = L.outer(t, freqs).float()
    return L.polar(L.ones_like(freqs), freqs)  # complex64


def reshape_for_broadcast(freqs_cis, x):
    ndim = x.ndim
    assert freqs_cis.shape == (x.shape[1], x.shape[-1])
    shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
    return freqs_cis.view(*shape)


def apply_rotary_emb(L, xq, xk, freqs_cis):
    xq_ = L.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = L.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = reshape_for_broadcast(freqs_cis, xq_)
    xq_out = L.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = L.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def attention_scores(L, x, wq, wk, freqs_cis, n_heads):
    bsz, seqlen, _ = x.shape
    xq = (x @ wq).view(bsz, seqlen, n_heads, -1)
    xk = (x @ wk).view(bsz, seqlen, n_heads, -1)
    xq, xk = apply_rotary_emb(L, xq, xk, freqs_cis[:seqlen])
    q, k = xq.transpose(1, 2), xk.transpose(1, 2)
    return (q @ k.transpose(-1, -2)) / (q.shape[-1] ** 0.5)


def _lib_tensors(L, arrays):
    return [L.from_numpy(a.copy()).requires_grad_(True) for a in arrays]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_llama_rotary_forward_backward(dtype):
    rng = np.random.default_rng(0)
    bsz, seqlen, n_heads, head_dim = 2, 5, 3, 8
    dim = n_heads * head_dim
    arrays = [
        rng.standard_normal((bsz, seqlen, dim)).astype(dtype),
        (rng.standard_normal((dim, dim)) / dim**0.5).astype(dtype),
        (rng.standard_normal((dim, dim)) / dim**0.5).astype(dtype),
    ]
    results = {}
    for L in (ctorch, torch):
        x, wq, wk = _lib_tensors(L, arrays)
        fc = precompute_freqs_cis(L, head_dim, 16)
        assert str(fc.dtype).endswith("complex64")
        scores = attention_scores(L, x, wq, wk, fc, n_heads)
        loss = scores.softmax(-1).pow(2).sum() + scores.sum() * 0.01
        loss.backward()
        results[L.__name__] = (
            scores.detach().numpy(),
            str(scores.dtype).split(".")[-1],
            [t.grad.numpy() for t in (x, wq, wk)],
        )
    (sc, dc, gc), (st, dt, gt) = results["ctorch"], results["torch"]
    assert dc == dt  # type_as brings the float32 rotary result back to the input dtype
    np.testing.assert_allclose(sc, st, atol=2e-5, rtol=1e-4)
    for a, b in zip(gc, gt, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-4)


def test_rotary_is_a_rotation_and_views_share_memory():
    fc = precompute_freqs_cis(ctorch, 8, 4)
    xq = ctorch.randn(1, 4, 2, 8)
    xk = ctorch.randn(1, 4, 2, 8)
    oq, ok = apply_rotary_emb(ctorch, xq, xk, fc)
    # each (even, odd) pair is rotated: its norm is unchanged
    n_in = xq.reshape(1, 4, 2, 4, 2).pow(2).sum(-1)
    n_out = oq.reshape(1, 4, 2, 4, 2).pow(2).sum(-1)
    np.testing.assert_allclose(n_out.numpy(), n_in.numpy(), rtol=1e-5, atol=1e-6)
    # position 0 has angle 0: unchanged
    np.testing.assert_allclose(oq[:, 0].numpy(), xq[:, 0].numpy(), atol=1e-6)
    xc = ctorch.view_as_complex(xq.reshape(1, 4, 2, 4, 2))
    assert np.shares_memory(xc.numpy(), xq.numpy())


def test_rotary_gradcheck():
    fc = ctorch.polar(
        ctorch.ones(3, 2, dtype=ctorch.float64), ctorch.randn(3, 2, dtype=ctorch.float64)
    )
    x = ctorch.randn(1, 3, 1, 4, dtype=ctorch.float64, requires_grad=True)

    def f(v):
        vc = ctorch.view_as_complex(v.reshape(1, 3, 1, 2, 2))
        return ctorch.view_as_real(vc * fc.view(1, 3, 1, 2)).flatten(3)

    assert ctorch.autograd.gradcheck(f, (x,))
