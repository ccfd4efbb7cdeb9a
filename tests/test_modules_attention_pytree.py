"""torch modules real programs import: nn.attention (SDPBackend/sdpa_kernel, bias, flex
attention), utils._pytree, utils.hooks, utils.dlpack, mps and
distributed.elastic.multiprocessing.errors. Values against torch when it is installed, and
against NumPy / finite differences always."""

from __future__ import annotations

import collections
import importlib
import json
import warnings

import numpy as np
import pytest

import ctorch
import ctorch.nn.functional as F
from ctorch.nn.attention import SDPBackend, _cur_sdpa_kernel_backends, sdpa_kernel
from ctorch.nn.attention import bias as cbias
from ctorch.nn.attention import flex_attention as cfa
from ctorch.utils import _pytree as cpt

try:
    import torch
    import torch.nn.attention.flex_attention as tfa
    import torch.utils._pytree as tpt
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
rng = np.random.default_rng(0)
B, H, L, S, E = 2, 2, 5, 7, 4
Q, K, V = (rng.standard_normal(s) for s in ((B, H, L, E), (B, H, S, E), (B, H, S, E)))


def causal(b, h, q, kv):
    return q >= kv


def dead_first_row(b, h, q, kv):
    return (q > 0) & (kv < 3)


def _reference(q, k, v, mask=None, bias=None, scale=None):
    """NumPy flex attention: rows with nothing to attend give 0 and lse -inf."""
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if bias is not None:
        s = s + bias
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(-1, keepdims=True)
    dead = np.isneginf(m)
    p = np.exp(s - np.where(dead, 0, m))
    den = p.sum(-1, keepdims=True)
    out = np.where(dead, 0, p / np.where(dead, 1, den)) @ v
    lse = np.where(dead, -np.inf, np.log(np.where(dead, 1, den)) + np.where(dead, 0, m))
    return out, lse[..., 0]


def test_flex_attention_block_mask_matches_reference_and_dead_rows_are_zero():
    t = [ctorch.from_numpy(a) for a in (Q, K, V)]
    qi, ki = np.arange(L)[:, None], np.arange(S)[None]
    for mm, dense in ((causal, qi >= ki), (dead_first_row, (qi > 0) & (ki < 3))):
        bm = cfa.create_block_mask(mm, B, H, L, S, BLOCK_SIZE=2)
        out, lse = cfa.flex_attention(*t, block_mask=bm, return_lse=True)
        ro, rl = _reference(Q, K, V, mask=dense)
        np.testing.assert_allclose(out.numpy(), ro, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(np.isneginf(lse.numpy()), np.isneginf(rl))
        fin = np.isfinite(rl)
        np.testing.assert_allclose(lse.numpy()[fin], rl[fin], rtol=1e-12)
    assert out.numpy()[:, :, 0].tolist() == np.zeros((B, H, E)).tolist()


def test_flex_attention_score_mod_gradients_reach_q_and_captured_tensors():
    alpha = ctorch.tensor([0.5, 1.5], dtype=ctorch.float64, requires_grad=True)
    q = ctorch.from_numpy(Q.copy()).requires_grad_()

    def alibi(score, b, h, qi, ki):
        return score - alpha[h] * (qi - ki).abs()

    bm = cfa.create_block_mask(causal, None, None, L, S, BLOCK_SIZE=2)

    def f(q_, a_):
        global_alpha = a_

        def mod(score, b, h, qi, ki):
            return score - global_alpha[h] * (qi - ki).abs()

        return cfa.flex_attention(q_, ctorch.from_numpy(K), ctorch.from_numpy(V), mod, bm)

    assert ctorch.autograd.gradcheck(f, (q, alpha), eps=1e-6, atol=1e-7)
    bias = -np.array([0.5, 1.5])[None, :, None, None] * np.abs(
        np.arange(L)[:, None] - np.arange(S)[None]
    )
    out = cfa.flex_attention(q, ctorch.from_numpy(K), ctorch.from_numpy(V), alibi, bm)
    ro, _ = _reference(Q, K, V, mask=np.arange(L)[:, None] >= np.arange(S)[None], bias=bias)
    np.testing.assert_allclose(out.detach().numpy(), ro, rtol=1e-12)


def test_flex_attention_gqa_scale_and_document_mask():
    kg, vg = rng.standard_normal((B, 1, S, E)), rng.standard_normal((B, 1, S, E))
    out = cfa.flex_attention(
        ctorch.from_numpy(Q), ctorch.from_numpy(kg), ctorch.from_numpy(vg),
        enable_gqa=True, scale=0.3,
    )  # fmt: skip
    ro, _ = _reference(Q, np.repeat(kg, H, 1), np.repeat(vg, H, 1), scale=0.3)
    np.testing.assert_allclose(out.numpy(), ro, rtol=1e-12)
    doc = ctorch.tensor([0, 0, 1, 1, 1, 2, 2])

    def docmask(b, h, q, kv):
        return doc[q] == doc[kv]

    x = rng.standard_normal((1, 1, 7, 4))
    bm = cfa.create_block_mask(docmask, None, None, 7, 7, BLOCK_SIZE=4)
    t = ctorch.from_numpy(x)
    got = cfa.flex_attention(t, t, t, block_mask=bm)
    d = np.array([0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_allclose(got.numpy(), _reference(x, x, x, mask=d[:, None] == d)[0])
    with pytest.raises(ValueError, match="enable_gqa=True"):
        cfa.flex_attention(ctorch.from_numpy(Q), ctorch.from_numpy(kg), ctorch.from_numpy(vg))


def test_mask_combinators_and_create_mask():
    both = cfa.and_masks(causal, lambda b, h, q, kv: kv > 0)
    either = cfa.or_masks(causal, lambda b, h, q, kv: kv == 2)
    assert cfa.create_mask(both, 1, 1, 3, 3).int().tolist() == [[[[0, 0, 0], [0, 1, 0], [0, 1, 1]]]]
    assert cfa.create_mask(either, 1, 1, 3, 3).int().tolist() == [
        [[[1, 0, 1], [1, 1, 1], [1, 1, 1]]]
    ]
    m = cfa.create_mask(lambda s, b, h, q, kv: s.masked_fill(q < kv, float("-inf")), 1, 1, 2, 2)
    assert m.tolist() == [[[[True, False], [True, True]]]]
    assert cfa.create_mask(cfa.noop_mask, None, None, 2, 2).all()


@needs_torch
def test_block_mask_tables_repr_and_outputs_match_torch():
    warnings.simplefilter("ignore")
    ours = cfa.create_block_mask(causal, B, H, L, S, BLOCK_SIZE=2)
    theirs = tfa.create_block_mask(causal, B, H, L, S, device="cpu", BLOCK_SIZE=2)
    for name in ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                 "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices"):  # fmt: skip
        assert getattr(ours, name).tolist() == getattr(theirs, name).tolist(), name
    assert ours.shape == theirs.shape and ours.BLOCK_SIZE == theirs.BLOCK_SIZE
    assert ours.sparsity() == pytest.approx(theirs.sparsity())
    assert ours.to_dense().tolist() == theirs.to_dense().tolist()
    big_o = cfa.create_block_mask(causal, None, None, 256, 256)
    big_t = tfa.create_block_mask(causal, None, None, 256, 256, device="cpu")
    assert repr(big_o) == repr(big_t)
    tq, tk, tv = (torch.from_numpy(a) for a in (Q, K, V))
    cq, ck, cv = (ctorch.from_numpy(a) for a in (Q, K, V))
    for mm in (causal, dead_first_row):
        o_o, l_o = cfa.flex_attention(cq, ck, cv, block_mask=cfa.create_block_mask(
            mm, B, H, L, S, BLOCK_SIZE=2), return_lse=True)  # fmt: skip
        o_t, l_t = tfa.flex_attention(tq, tk, tv, block_mask=tfa.create_block_mask(
            mm, B, H, L, S, device="cpu", BLOCK_SIZE=2), return_lse=True)  # fmt: skip
        np.testing.assert_allclose(o_o.numpy(), o_t.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(l_o.numpy(), l_t.numpy(), rtol=1e-12)


def test_causal_bias_variants_in_sdpa():
    q, k, v = (ctorch.from_numpy(a) for a in (Q, K, V))
    lower = np.tril(np.ones((L, S), bool), S - L)
    upper = np.tril(np.ones((L, S), bool))
    got_l = F.scaled_dot_product_attention(q, k, v, attn_mask=cbias.causal_lower_right(L, S))
    got_u = F.scaled_dot_product_attention(q, k, v, attn_mask=cbias.causal_upper_left(L, S))
    np.testing.assert_allclose(got_l.numpy(), _reference(Q, K, V, mask=lower)[0], rtol=1e-12)
    np.testing.assert_allclose(got_u.numpy(), _reference(Q, K, V, mask=upper)[0], rtol=1e-12)
    with pytest.raises(ValueError, match="should not be used with causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cbias.causal_upper_left(L, S),
                                       is_causal=True)  # fmt: skip
    if torch is not None:
        from torch.nn.attention import bias as tbias

        tq, tk, tv = (torch.from_numpy(a) for a in (Q, K, V))
        exp = torch.nn.functional.scaled_dot_product_attention(
            tq, tk, tv, attn_mask=tbias.causal_lower_right(L, S)
        )
        np.testing.assert_allclose(got_l.numpy(), exp.numpy(), rtol=1e-12)


def test_sdpa_kernel_scopes_the_backend_list_like_torch():
    assert len(_cur_sdpa_kernel_backends()) == 5
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]):
        assert _cur_sdpa_kernel_backends() == [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]
        with sdpa_kernel(SDPBackend.MATH):
            assert _cur_sdpa_kernel_backends() == [SDPBackend.MATH]
        q = ctorch.ones(1, 1, 2, 2)
        assert F.scaled_dot_product_attention(q, q, q).shape == (1, 1, 2, 2)
    assert len(_cur_sdpa_kernel_backends()) == 5
    with pytest.raises(AssertionError, match="SDPBackend"):
        with sdpa_kernel(["math"]):
            pass
    if torch is not None:
        from torch.nn.attention import SDPBackend as TB

        assert {n: int(b) for n, b in TB.__members__.items()} == {
            b.name: int(b) for b in SDPBackend
        }


TREES = [
    {"b": [1, (2, None)], "a": collections.OrderedDict(x=3)},
    [1, None, [2, {"k": (3,)}]],
    5,
    [],
    {},
    collections.deque([1, 2]),
    collections.defaultdict(int, {"a": 1}),
    collections.namedtuple("P", "x y")(1, [2, 3]),
]


@pytest.mark.parametrize("i", range(len(TREES)))
def test_pytree_flatten_unflatten_and_repr(i):
    tree = TREES[i]
    leaves, spec = cpt.tree_flatten(tree)
    assert cpt.tree_unflatten(leaves, spec) == tree
    assert spec.num_leaves == len(leaves)
    doubled = cpt.tree_map(lambda x: x if x is None else x * 2, tree)
    assert cpt.tree_leaves(doubled) == [None if x is None else x * 2 for x in leaves]
    if torch is not None:
        t_leaves, t_spec = tpt.tree_flatten(tree)
        assert leaves == t_leaves
        assert repr(spec) == repr(t_spec)
        assert (spec.num_leaves, spec.num_nodes) == (t_spec.num_leaves, t_spec.num_nodes)
        t_paths = [(tpt.keystr(k), v) for k, v in tpt.tree_flatten_with_path(tree)[0]]
        assert [(cpt.keystr(k), v) for k, v in cpt.tree_flatten_with_path(tree)[0]] == t_paths


def test_pytree_errors_helpers_and_registration():
    spec = cpt.tree_structure([1, 2])
    with pytest.raises(
        ValueError, match="has length 1 but the spec refers to a pytree that holds 2"
    ):
        spec.unflatten([1])
    with pytest.raises(ValueError, match="Node arity mismatch; expected 2, but got 1"):
        cpt.tree_map(lambda a, b: a + b, [1, 2], [10])
    assert cpt.tree_map(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    assert cpt.tree_map_only(int, lambda x: -x, [1, "a", 2.0]) == [-1, "a", 2.0]
    assert cpt.tree_all(lambda x: x > 0, [1, [2]]) and not cpt.tree_any(lambda x: x > 5, [1, [2]])
    assert cpt.tree_leaves([ctorch.ones(2), None], is_leaf=lambda x: x is None)[1] is None

    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    cpt.register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda c, _: Pair(*c),
                             serialized_type_name="tests.Pair")  # fmt: skip
    out = cpt.tree_map(lambda x: x + 1, [Pair(1, 2)])
    assert (out[0].a, out[0].b) == (2, 3)
    with pytest.raises(ValueError, match="already registered"):
        cpt.register_pytree_node(Pair, lambda p: ([], None), lambda c, _: None)
    s = cpt.tree_structure({"a": [1, (2, 3)]})
    assert cpt.treespec_loads(cpt.treespec_dumps(s)) == s
    assert cpt.treespec_pprint(s) == "{'a': [*, (*, *)]}"


def test_hooks_dlpack_mps_and_elastic_record(tmp_path, monkeypatch):
    from ctorch.utils import dlpack, hooks

    m = ctorch.nn.Linear(2, 2)
    h = m.register_forward_hook(lambda *a: None)
    assert isinstance(h, hooks.RemovableHandle)
    h.remove()
    x = ctorch.arange(4.0)
    y = dlpack.from_dlpack(dlpack.to_dlpack(x))
    y[0] = 7
    assert x[0].item() == 7  # zero-copy
    assert dlpack.DLDeviceType.kDLCPU == 1
    mps = importlib.import_module("ctorch.mps")
    assert ctorch.mps is mps and mps.device_count() == 0 and not mps.is_available()
    mps.manual_seed(1)
    with pytest.raises(RuntimeError, match=r"Cannot execute deviceSynchronize\(\) without MPS"):
        mps.synchronize()
    from ctorch.distributed.elastic.multiprocessing.errors import ChildFailedError, record

    err = tmp_path / "err.json"
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(err))

    @record
    def main(fail):
        if fail:
            raise ValueError("boom")
        return 3

    assert main(False) == 3
    with pytest.raises(ValueError, match="boom"):
        main(True)
    assert json.loads(err.read_text())["message"]["message"] == "ValueError: boom"
    with pytest.raises(AssertionError):
        ChildFailedError("x", {})
