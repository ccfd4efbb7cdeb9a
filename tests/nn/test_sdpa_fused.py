"""The fused CPU kernel of F.scaled_dot_product_attention (ops/attention.py, _core/attention.pyx):
forward and all gradients against torch and a NumPy reference, masks, causal with L != S,
rows with nothing visible, float64 finite differences, thread-count determinism, and the
composite fallbacks (dropout, other dtypes, differing batch dims)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
import ctorch.nn.functional as F
from ctorch.ops import attention as A

SHAPES = [  # (B, H, L, S, D, DV): tails of the 4-row blocks, L != S, D != DV, tiny
    (2, 3, 7, 9, 8, 5),
    (1, 2, 16, 16, 32, 32),
    (2, 1, 5, 3, 17, 19),
    (1, 1, 1, 1, 1, 1),
    (1, 2, 33, 70, 16, 24),
]


def _np_sdpa(q, k, v, mask=None, causal=False, scale=None):
    """float64 reference with torch's _safe_softmax (rows with nothing visible give 0)."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -np.inf)
    if mask is not None:
        s = s + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    m = s.max(-1, keepdims=True)
    e = np.where(np.isneginf(m), 0.0, np.exp(s - np.where(np.isneginf(m), 0, m)))
    tot = e.sum(-1, keepdims=True)
    p = np.where(tot > 0, e / np.where(tot > 0, tot, 1), 0.0)
    return p @ v


def _inputs(shape, dt, seed=0):
    B, H, L, S, D, DV = shape
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((B, H, L, D)).astype(dt),
        rng.standard_normal((B, H, S, D)).astype(dt),
        rng.standard_normal((B, H, S, DV)).astype(dt),
    )


def _masks(shape, dt, rng):
    B, H, L, S, _, _ = shape
    full_row = rng.random((L, S)) > 0.3
    full_row[0] = False  # query 0 sees nothing
    return {
        "none": None,
        "float": rng.standard_normal((L, S)).astype(dt),
        "float-bcast": rng.standard_normal((B, 1, 1, S)).astype(dt),
        "bool": rng.random((B, 1, L, S)) > 0.3,
        "bool-empty-row": full_row,
    }


def _run(lib, q, k, v, mask, causal, mask_grad=False, scale=None):
    tq, tk, tv = (lib.tensor(a, requires_grad=True) for a in (q, k, v))
    tm = None
    if mask is not None:
        tm = lib.tensor(mask, requires_grad=mask_grad)
    o = lib.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=tm, is_causal=causal, scale=scale
    )
    g = np.random.default_rng(5).standard_normal(tuple(o.shape)).astype(q.dtype)
    o.backward(lib.tensor(g))
    out = [o.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()]
    if mask_grad:
        out.append(tm.grad.numpy())
    return out, o


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "mask_kind", ["none", "causal", "float", "float-bcast", "bool", "bool-empty-row"]
)
def test_fused_matches_reference_and_torch(dt, shape, mask_kind):
    q, k, v = _inputs(shape, dt)
    causal = mask_kind == "causal"
    mask = None if causal else _masks(shape, dt, np.random.default_rng(1))[mask_kind]
    mask_grad = mask is not None and mask.dtype != bool
    got, o = _run(ctorch, q, k, v, mask, causal, mask_grad)
    assert o.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    tol = dict(rtol=2e-5, atol=2e-5) if dt == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got[0], _np_sdpa(q, k, v, mask, causal), **tol)
    assert got[0].dtype == dt and all(g.dtype == dt for g in got[1:])
    if HAS_TORCH:
        import torch

        want, _ = _run(torch, q, k, v, mask, causal, mask_grad)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("causal", [False, True])
def test_fused_gradcheck_float64(causal):
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s) for s in ((1, 2, 5, 3), (1, 2, 6, 3), (1, 2, 6, 4)))
    m = rng.standard_normal((5, 6))
    ts = [ctorch.tensor(a, requires_grad=True) for a in (q, k, v)]
    if causal:
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
        assert ctorch.autograd.gradcheck(fn, ts)
    else:
        tm = ctorch.tensor(m, requires_grad=True)
        fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
        assert ctorch.autograd.gradcheck(fn, ts + [tm])


def test_fused_is_bitwise_the_same_at_any_thread_count():
    q, k, v = _inputs((3, 4, 37, 41, 16, 16), np.float32, seed=7)
    before = ctorch.get_num_threads()
    try:
        res = []
        for nt in (1, 2, 3):
            ctorch.set_num_threads(nt)
            res.append(_run(ctorch, q, k, v, None, True)[0])
    finally:
        ctorch.set_num_threads(before)
    for other in res[1:]:
        for a, b in zip(res[0], other, strict=True):
            assert np.array_equal(a, b)


def test_fused_nan_propagates_like_torch():
    q, k, v = _inputs((1, 1, 4, 5, 3, 2), np.float32)
    k[0, 0, 2, 1] = np.nan
    got, _ = _run(ctorch, q, k, v, None, False)
    assert np.isnan(got[0]).all()  # every query row sees key 2
    if HAS_TORCH:
        import torch

        want, _ = _run(torch, q, k, v, None, False)
        assert np.array_equal(np.isnan(got[0]), np.isnan(want[0]))


def test_fused_applies_where_expected_and_falls_back_elsewhere():
    q, k, v = (ctorch.tensor(a) for a in _inputs((1, 2, 4, 4, 8, 8), np.float32))
    assert A.fused_sdpa(q, k, v, None, 0.0, False, 0.5) is not None
    assert A.fused_sdpa(q, k, v, None, 0.1, False, 0.5) is None  # dropout: composite path
    assert A.fused_sdpa(q.double(), k, v, None, 0.0, False, 0.5) is None  # mixed dtypes
    assert A.fused_sdpa(q, k[:1, :1], v[:1, :1], None, 0.0, False, 0.5) is None  # bcast batch
    assert A.fused_sdpa(q[:, :, :0], k, v, None, 0.0, False, 0.5) is None  # empty
    # the fallbacks still give the composite path's answers
    r = F.scaled_dot_product_attention(q, k[:1, :1], v[:1, :1])
    np.testing.assert_allclose(
        r.numpy(), _np_sdpa(q.numpy(), k[:1, :1].numpy(), v[:1, :1].numpy()), rtol=1e-5, atol=1e-6
    )
    e = F.scaled_dot_product_attention(q[:, :, :0], k, v)
    assert tuple(e.shape) == (1, 2, 0, 8)


def test_fused_dropout_training_runs_composite():
    ctorch.manual_seed(0)
    q, k, v = (
        ctorch.tensor(a, requires_grad=True) for a in _inputs((1, 1, 6, 6, 4, 4), np.float32)
    )
    o = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    o.sum().backward()
    assert q.grad is not None and np.isfinite(q.grad.numpy()).all()


def test_fused_causal_with_mask_raises_like_torch():
    q, k, v = (ctorch.tensor(a) for a in _inputs((1, 1, 4, 4, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match="attn_mask should not be set"):
        F.scaled_dot_product_attention(
            q, k, v, attn_mask=ctorch.ones(4, 4, dtype=ctorch.bool), is_causal=True
        )


def test_transformer_layer_uses_fused_kernel_and_matches_torch():
    if not HAS_TORCH:
        pytest.skip("needs torch")
    import torch

    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    mine = ctorch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    mine.load_state_dict(
        {k: ctorch.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((2, 7, 16)).astype(np.float32)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(7)
    a = mine(ctorch.tensor(x), src_mask=ctorch.tensor(mask.numpy()), is_causal=True)
    b = ref(torch.tensor(x), src_mask=mask, is_causal=True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "shape",  # ragged tails of the 16-lane vectors and the 4-vector tiles: D, DV, S
    [(2, 2, 37, 41, 16, 16), (1, 3, 70, 130, 33, 17), (1, 1, 9, 64, 64, 80), (1, 2, 5, 7, 3, 2)],
)
@pytest.mark.parametrize("causal", [False, True])
def test_register_tiles_give_the_portable_loops_bits(shape, causal):
    """float32 on an AVX-512 CPU runs the products in larger register tiles
    (_attention_avx512.h); each element is the same FMA chain as in the portable loops, so
    output and gradients are bitwise the same with the tiles turned off."""
    from ctorch._core import attention as K

    q, k, v = _inputs(shape, np.float32, seed=3)
    mask = None if causal else np.random.default_rng(2).standard_normal(shape[2:4])
    mask = None if mask is None else mask.astype(np.float32)
    try:
        K._set_register_tiles(False)
        portable, _ = _run(ctorch, q, k, v, mask, causal, mask_grad=mask is not None)
    finally:
        K._set_register_tiles(True)
    tiled, _ = _run(ctorch, q, k, v, mask, causal, mask_grad=mask is not None)
    for a, b in zip(portable, tiled, strict=True):
        assert np.array_equal(a, b)
    want = _np_sdpa(q, k, v, mask, causal)
    np.testing.assert_allclose(tiled[0], want, rtol=2e-5, atol=2e-6)


def _strided_views(lib, q, k, v, kind):
    """q, k, v (B, H, R, C) as tensors of other layouts with the same values: a
    transformer's transposed (B, T, H, D) views of one split qkv buffer, flipped rows
    (negative stride), expanded heads (stride 0), a non-unit last stride, or 3-D/5-D."""
    B, H = q.shape[:2]
    if kind == "split-transposed":  # nanoGPT: qkv.split(C, 2) -> .view(B, T, H, D) -> .T(1, 2)
        parts = [np.ascontiguousarray(a.transpose(0, 2, 1, 3)) for a in (q, k, v)]
        if q.shape[2] == k.shape[2] and q.shape[3] == k.shape[3] == v.shape[3]:
            B_, T, _, D = parts[0].shape
            buf = lib.tensor(np.concatenate([p.reshape(B_, T, H * D) for p in parts], 2))
            return [c.view(B_, T, H, D).transpose(1, 2) for c in buf.split(H * D, 2)]
        return [lib.tensor(p).transpose(1, 2) for p in parts]
    if kind == "flipped":
        return [lib.tensor(np.ascontiguousarray(a[:, :, ::-1])).flip(2) for a in (q, k, v)]
    if kind == "expanded":  # heads broadcast from one: the values of head 0 everywhere
        return [lib.tensor(a[:, :1]).expand(*a.shape) for a in (q, k, v)]
    if kind == "last-strided":
        return [lib.tensor(np.repeat(a, 2, axis=-1))[..., ::2] for a in (q, k, v)]
    if kind == "3d":
        return [lib.tensor(a.reshape((-1,) + a.shape[2:])) for a in (q, k, v)]
    if kind == "5d":
        return [lib.tensor(a.reshape((1,) + a.shape)) for a in (q, k, v)]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["split-transposed", "flipped", "expanded", "last-strided", "3d", "5d"]
)
@pytest.mark.parametrize(
    "shape", [(2, 3, 7, 7, 8, 8), (1, 2, 33, 70, 16, 24), (2, 4, 64, 64, 32, 32)]
)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_fused_reads_strided_operands_in_place_with_the_same_bits(kind, shape, dt):
    """The kernels read any (B, H, rows, cols) strides with a unit last one (rows gathered,
    K and V transposed per slice in scratch): output and gradients equal, bit for bit,
    those of the same values laid out C-contiguous, and the reference."""
    q, k, v = _inputs(shape, dt, seed=3)
    if kind == "expanded":
        q, k, v = (np.ascontiguousarray(np.broadcast_to(a[:, :1], a.shape)) for a in (q, k, v))
    ref, o_ref = _run(ctorch, q, k, v, None, True)
    tq, tk, tv = (t.detach().requires_grad_() for t in _strided_views(ctorch, q, k, v, kind))
    o = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    g = np.random.default_rng(5).standard_normal(o_ref.shape).astype(dt)
    o.backward(ctorch.tensor(g.reshape(tuple(o.shape))))
    got = [o.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()]
    if kind == "expanded":  # an expanded leaf's grad sums over the broadcast heads
        ref = ref[:1] + [r.sum(1, keepdims=True) for r in ref[1:]]
        got = got[:1] + [x.sum(1, keepdims=True) for x in got[1:]]
    for a, b in zip(ref, got, strict=True):
        b = b.reshape(a.shape)
        assert np.array_equal(a, b) or kind == "expanded"
        np.testing.assert_allclose(a, b, rtol=1e-5 if dt == np.float32 else 1e-12, atol=1e-6)
    np.testing.assert_allclose(
        got[0].reshape(ref[0].shape), _np_sdpa(q, k, v, causal=True), rtol=2e-4, atol=2e-5
    )


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_fused_output_layout_follows_the_query_like_torch():
    """torch's flash kernel lays its output out like the query: for a transposed (B, T, H, D)
    view the output is one too, so ``y.transpose(1, 2).contiguous()`` copies nothing; for a
    contiguous query it is contiguous."""
    import torch

    q, k, v = _inputs((2, 3, 5, 5, 8, 8), np.float32)
    for kind in (None, "split-transposed"):
        res = {}
        for lib in (ctorch, torch):
            if kind is None:
                tq, tk, tv = (lib.tensor(a) for a in (q, k, v))
            else:
                tq, tk, tv = _strided_views(lib, q, k, v, kind)
            o = lib.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
            res[lib.__name__] = (tuple(o.stride()), o.transpose(1, 2).is_contiguous(), o)
        assert res["ctorch"][:2] == res["torch"][:2], (kind, res["ctorch"][:2], res["torch"][:2])
        np.testing.assert_allclose(
            res["ctorch"][2].numpy(), res["torch"][2].numpy(), rtol=1e-5, atol=1e-6
        )


def test_fused_kernel_rejects_a_non_unit_last_stride():
    from ctorch._core import attention

    q = np.zeros((1, 1, 4, 8), np.float32)
    o = np.zeros((1, 1, 4, 16), np.float32)[..., ::2]
    lse = np.zeros((1, 1, 4), np.float32)
    with pytest.raises(ValueError, match="sdpa_forward: .*unit stride"):
        attention.sdpa_forward(q, q, q, None, False, 1.0, o, lse)
