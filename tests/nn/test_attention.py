"""Attention: scaled_dot_product_attention, MultiheadAttention, Transformer layers vs torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch
from ctorch import nn
from ctorch.nn import functional as F

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return ctorch.nn.functional if lib is ctorch else lib.nn.functional


def _sdpa_np(q, k, v, mask=None, causal=False, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / math.sqrt(q.shape[-1]))
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


def test_sdpa_basic_and_scale():
    check_op(
        lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v),
        [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)],
        ref=lambda q, k, v: _sdpa_np(q, k, v),
    )
    check_op(
        lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v, scale=0.3),
        [(3, 4, 8), (3, 6, 8), (3, 6, 5)],
        ref=lambda q, k, v: _sdpa_np(q, k, v, scale=0.3),
    )


def test_sdpa_causal_and_masks():
    check_op(
        lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v, is_causal=True),
        [(2, 5, 4), (2, 5, 4), (2, 5, 4)],
        ref=lambda q, k, v: _sdpa_np(q, k, v, causal=True),
    )
    bmask = np.random.default_rng(0).uniform(size=(4, 6)) > 0.3
    bmask[:, 0] = True
    check_op(
        lambda lib, q, k, v, m: _F(lib).scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(2, 4, 3), (2, 6, 3), (2, 6, 3), bmask],
        grad_inputs=[0, 1, 2],
        ref=lambda q, k, v, m: _sdpa_np(q, k, v, mask=m),
    )
    fmask = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    check_op(
        lambda lib, q, k, v, m: _F(lib).scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(2, 4, 3), (2, 6, 3), (2, 6, 3), fmask],
        grad_inputs=[0, 1, 2],
    )
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(
            ctorch.randn(2, 2),
            ctorch.randn(2, 2),
            ctorch.randn(2, 2),
            attn_mask=ctorch.ones(2, 2),
            is_causal=True,
        )


def _copy(ours, theirs):
    ours.load_state_dict(
        {k: ctorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    )


MHA_CASES = [
    dict(),
    dict(batch_first=True),
    dict(bias=False),
    dict(kdim=5, vdim=7),
    dict(add_bias_kv=True, add_zero_attn=True),
]


@needs_torch
@pytest.mark.parametrize("kw", MHA_CASES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", [False, True])
def test_mha_vs_torch(kw, need_weights, masks):
    import torch

    E, H, L, S, B = 8, 2, 4, 6, 3
    ours, theirs = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs)
    rng = np.random.default_rng(0)
    bf = kw.get("batch_first", False)

    def mk(n, d):
        return rng.standard_normal((B, n, d) if bf else (n, B, d)).astype(np.float32)

    q, k, v = mk(L, E), mk(S, kw.get("kdim", E)), mk(S, kw.get("vdim", E))
    extra_c, extra_t = {}, {}
    if masks:
        am = rng.uniform(size=(L, S)) > 0.7
        kpm = np.zeros((B, S), bool)
        kpm[0, -2:] = True
        extra_c = dict(attn_mask=ctorch.from_numpy(am), key_padding_mask=ctorch.from_numpy(kpm))
        extra_t = dict(attn_mask=torch.from_numpy(am), key_padding_mask=torch.from_numpy(kpm))
    qc, kc, vc = (ctorch.from_numpy(a.copy()).requires_grad_() for a in (q, k, v))
    qt, kt, vt = (torch.from_numpy(a.copy()).requires_grad_() for a in (q, k, v))
    oc, wc = ours(qc, kc, vc, need_weights=need_weights, **extra_c)
    ot, wt = theirs(qt, kt, vt, need_weights=need_weights, **extra_t)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-4, atol=1e-5)
    if need_weights:
        np.testing.assert_allclose(wc.detach().numpy(), wt.detach().numpy(), rtol=1e-4, atol=1e-5)
    else:
        assert wc is None and wt is None
    oc.sum().backward()
    ot.sum().backward()
    for a, b in ((qc, qt), (kc, kt), (vc, vt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tp[n].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=n
        )


def test_mha_self_attention_unbatched_and_average():
    m = nn.MultiheadAttention(6, 3)
    x = ctorch.randn(5, 6)
    out, w = m(x, x, x)
    assert out.shape == (5, 6) and w.shape == (5, 5)
    out, w = m(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), average_attn_weights=False)
    assert w.shape == (1, 3, 5, 5)
    np.testing.assert_allclose(w.sum(-1).detach().numpy(), 1.0, rtol=1e-5)


def test_mha_gradcheck_float64():
    m = nn.MultiheadAttention(4, 2).double()
    x = ctorch.randn(3, 2, 4, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda x: m(x, x, x)[0], (x,))


def _transformer_or_skip():
    try:
        from ctorch.nn.modules.normalization import LayerNorm  # noqa: F401
    except ImportError:
        pytest.skip("nn.LayerNorm (nn/modules/normalization.py) not available yet")


@needs_torch
@pytest.mark.parametrize(
    "kw", [dict(), dict(norm_first=True, batch_first=True), dict(activation="gelu")]
)
def test_transformer_encoder_vs_torch(kw):
    _transformer_or_skip()
    import torch

    layer_c = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)
    ours = nn.TransformerEncoder(layer_c, 2, enable_nested_tensor=False)
    theirs = torch.nn.TransformerEncoder(layer_t, 2, enable_nested_tensor=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _copy(ours, theirs)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5 if kw.get("batch_first") else 3)
    cmask = nn.Transformer.generate_square_subsequent_mask(mask.shape[0])
    np.testing.assert_array_equal(cmask.numpy(), mask.numpy())
    xc = ctorch.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    yc, yt = ours(xc, mask=cmask), theirs(xt, mask=mask)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)


@needs_torch
def test_full_transformer_vs_torch():
    _transformer_or_skip()
    import torch

    kw = dict(
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=16,
        dropout=0.0,
    )
    ours, theirs = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs)
    rng = np.random.default_rng(0)
    src = rng.standard_normal((5, 2, 8)).astype(np.float32)
    tgt = rng.standard_normal((4, 2, 8)).astype(np.float32)
    yc = ours(
        ctorch.from_numpy(src),
        ctorch.from_numpy(tgt),
        tgt_mask=nn.Transformer.generate_square_subsequent_mask(4),
    )
    yt = theirs(
        torch.from_numpy(src),
        torch.from_numpy(tgt),
        tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4),
    )
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
