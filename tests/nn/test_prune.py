"""ctorch.nn.utils.prune against torch: masks (the random ones under the same seed), the
weight_orig / weight_mask reparametrization, the forward pre-hook, iterative pruning through a
PruningContainer, global pruning, remove, is_pruned, state_dict keys and errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ctorch
import ctorch.nn.utils.prune as cprune

torch = pytest.importorskip("torch")
import torch.nn.utils.prune as tprune  # noqa: E402


def _pair_modules(kind="conv"):
    rng = np.random.default_rng(3)
    if kind == "conv":
        w = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
        b = rng.standard_normal(6).astype(np.float32)
        tm, cm = torch.nn.Conv2d(3, 6, 3), ctorch.nn.Conv2d(3, 6, 3)
    else:
        w = rng.standard_normal((5, 7)).astype(np.float32)
        b = rng.standard_normal(5).astype(np.float32)
        tm, cm = torch.nn.Linear(7, 5), ctorch.nn.Linear(7, 5)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
        tm.bias.copy_(torch.tensor(b))
    with ctorch.no_grad():
        cm.weight.copy_(ctorch.tensor(w))
        cm.bias.copy_(ctorch.tensor(b))
    return tm, cm


def _same(cm, tm, names=("weight",)):
    assert list(cm.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(cm.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    for n in names:
        np.testing.assert_array_equal(
            getattr(cm, n).detach().numpy(), getattr(tm, n).detach().numpy()
        )
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in cm.named_buffers()] == [n for n, _ in tm.named_buffers()]


# each case: a function applied to (prune module, nn module); random ones are seeded the same
CASES = {
    "identity": lambda P, m: P.identity(m, "weight"),
    "l1_int": lambda P, m: P.l1_unstructured(m, "weight", amount=10),
    "l1_frac": lambda P, m: P.l1_unstructured(m, "weight", amount=0.3),
    "l1_bias": lambda P, m: P.l1_unstructured(m, "bias", amount=2),
    "random_unstructured": lambda P, m: P.random_unstructured(m, "weight", amount=0.4),
    "random_structured": lambda P, m: P.random_structured(m, "weight", amount=2, dim=0),
    "random_structured_frac_last": lambda P, m: P.random_structured(
        m, "weight", amount=0.5, dim=-1
    ),
    "ln_structured_l2": lambda P, m: P.ln_structured(m, "weight", amount=0.5, n=2, dim=0),
    "ln_structured_l1_dim1": lambda P, m: P.ln_structured(m, "weight", amount=1, n=1, dim=1),
    "ln_structured_inf": lambda P, m: P.ln_structured(m, "weight", amount=2, n=float("inf"), dim=0),
    "zero_amount": lambda P, m: P.random_unstructured(m, "weight", amount=0),
    # iterative: the second method works on what the first kept (PruningContainer)
    "iter_l1_l1": lambda P, m: (
        P.l1_unstructured(m, "weight", 0.2),
        P.l1_unstructured(m, "weight", 0.2),
    ),
    "iter_ln_l1": lambda P, m: (
        P.ln_structured(m, "weight", 0.34, 2, 0),
        P.l1_unstructured(m, "weight", 5),
    ),
    "iter_random_ln": lambda P, m: (
        P.random_unstructured(m, "weight", 0.3),
        P.ln_structured(m, "weight", 1, 1, 0),
        P.random_structured(m, "weight", 1, 1),
    ),
}


@pytest.mark.parametrize("kind", ["conv", "linear"])
@pytest.mark.parametrize("case", list(CASES))
def test_masks_and_state_match_torch(case, kind):
    tm, cm = _pair_modules(kind)
    torch.manual_seed(7)
    ctorch.manual_seed(7)
    CASES[case](tprune, tm)
    CASES[case](cprune, cm)
    name = "bias" if case == "l1_bias" else "weight"
    _same(cm, tm, (name,))
    assert cprune.is_pruned(cm) and tprune.is_pruned(tm)
    # forward: the pre-hook recomputes weight from weight_orig * weight_mask
    with torch.no_grad():
        getattr(tm, name + "_orig").mul_(2)
    with ctorch.no_grad():
        getattr(cm, name + "_orig").mul_(2)
    x = (
        np.random.default_rng(0)
        .standard_normal((2, 3, 5, 5) if kind == "conv" else (2, 7))
        .astype(np.float32)
    )
    np.testing.assert_allclose(
        cm(ctorch.tensor(x)).detach().numpy(),
        tm(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    _same(cm, tm, (name,))
    # remove: the pruned values become the parameter again
    tprune.remove(tm, name)
    cprune.remove(cm, name)
    _same(cm, tm, (name,))
    assert isinstance(getattr(cm, name), ctorch.nn.Parameter)
    assert not cprune.is_pruned(cm)


def test_hook_and_container_structure():
    _, cm = _pair_modules("linear")
    m1 = cprune.L1Unstructured.apply(cm, "weight", amount=3)
    assert isinstance(m1, cprune.L1Unstructured) and m1._tensor_name == "weight"
    hooks = [h for h in cm._forward_pre_hooks.values() if isinstance(h, cprune.BasePruningMethod)]
    assert hooks == [m1]
    assert "weight" not in cm._parameters and "weight_orig" in cm._parameters
    assert "weight_mask" in cm._buffers and cm.weight_mask.dtype == ctorch.float32
    c = cprune.RandomStructured.apply(cm, "weight", amount=1, dim=0)
    assert isinstance(c, cprune.PruningContainer) and len(c) == 2 and c[0] is m1
    assert [type(m) for m in c] == [cprune.L1Unstructured, cprune.RandomStructured]
    assert (
        len([h for h in cm._forward_pre_hooks.values() if isinstance(h, cprune.BasePruningMethod)])
        == 1
    )
    cprune.identity(cm, "weight")
    assert len(c) == 3  # the existing container grows
    # gradient reaches weight_orig through the mask only
    cm(ctorch.ones(1, 7)).sum().backward()
    g = cm.weight_orig.grad.numpy()
    assert np.all(g[cm.weight_mask.numpy() == 0] == 0)
    # as in torch, the pruned ``weight`` is a non-leaf: the module cannot be deep-copied
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(cm)


def test_importance_scores_and_custom_mask_match_torch():
    tm, cm = _pair_modules("conv")
    scores = np.random.default_rng(5).random((6, 3, 3, 3)).astype(np.float32)
    tprune.l1_unstructured(tm, "weight", 20, importance_scores=torch.tensor(scores))
    cprune.l1_unstructured(cm, "weight", 20, importance_scores=ctorch.tensor(scores))
    tprune.ln_structured(tm, "weight", 2, 2, 0, importance_scores=torch.tensor(scores))
    cprune.ln_structured(cm, "weight", 2, 2, 0, importance_scores=ctorch.tensor(scores))
    mask = (np.arange(6) % 2).astype(np.float32)
    tprune.custom_from_mask(tm, "bias", torch.tensor(mask))
    cprune.custom_from_mask(cm, "bias", ctorch.tensor(mask))
    _same(cm, tm, ("weight", "bias"))


def test_global_unstructured_matches_torch():
    tms, cms = zip(*(_pair_modules(k) for k in ("conv", "linear", "linear")), strict=True)
    tprune.l1_unstructured(tms[1], "weight", 4)
    cprune.l1_unstructured(cms[1], "weight", 4)
    tparams = [(tms[0], "weight"), (tms[1], "weight"), (tms[2], "bias")]
    cparams = [(cms[0], "weight"), (cms[1], "weight"), (cms[2], "bias")]
    tprune.global_unstructured(tparams, pruning_method=tprune.L1Unstructured, amount=0.4)
    cprune.global_unstructured(cparams, pruning_method=cprune.L1Unstructured, amount=0.4)
    for t, c in zip(tms, cms, strict=True):
        _same(c, t, ())
    torch.manual_seed(11)
    ctorch.manual_seed(11)
    tprune.global_unstructured(tparams, tprune.RandomUnstructured, amount=15)
    cprune.global_unstructured(cparams, cprune.RandomUnstructured, amount=15)
    for t, c in zip(tms, cms, strict=True):
        _same(c, t, ())


def test_prune_method_on_a_tensor():
    t = np.array([[0.5, -2.0, 0.1], [3.0, -0.2, 1.0]], np.float32)
    out = cprune.L1Unstructured(amount=2).prune(ctorch.tensor(t))
    ref = tprune.L1Unstructured(amount=2).prune(torch.tensor(t))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_errors_match_torch():
    _, cm = _pair_modules("linear")
    tm = torch.nn.Linear(7, 5)
    cases = [
        (lambda P, m: P.l1_unstructured(m, "weight", amount=1.5), ValueError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount=-1), ValueError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount="a"), TypeError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount=36), ValueError),
        (lambda P, m: P.ln_structured(m, "bias", amount=1, n=2, dim=0), ValueError),
        (lambda P, m: P.ln_structured(m, "weight", amount=1, n=2, dim=2), IndexError),
        (lambda P, m: P.remove(m, "weight"), ValueError),
        (lambda P, m: P.global_unstructured(5, P.L1Unstructured, amount=1), TypeError),
        (
            lambda P, m: P.global_unstructured([(m, "weight")], P.LnStructured, amount=1, n=1),
            TypeError,
        ),
    ]
    for fn, exc in cases:
        with pytest.raises(exc) as te:
            fn(tprune, tm)
        with pytest.raises(exc) as ce:
            fn(cprune, cm)
        assert str(ce.value).replace("ctorch.", "torch.") == str(te.value)
        # a failed prune leaves the module as it was
        assert "weight" in cm._parameters and "weight_orig" not in cm._parameters
    with pytest.raises(
        ValueError, match=r"amount=36 should be smaller than the number of parameters to prune=35"
    ):
        cprune.l1_unstructured(cm, "weight", amount=36)
    with pytest.raises(
        ValueError, match="Structured pruning can only be applied to multidimensional tensors"
    ):
        cprune.random_structured(cm, "bias", amount=1, dim=0)


def test_all_names():
    assert set(cprune.__all__) <= set(dir(cprune))
    for name in (
        "BasePruningMethod",
        "PruningContainer",
        "Identity",
        "RandomUnstructured",
        "L1Unstructured",
        "RandomStructured",
        "LnStructured",
        "CustomFromMask",
        "identity",
        "random_unstructured",
        "l1_unstructured",
        "random_structured",
        "ln_structured",
        "global_unstructured",
        "custom_from_mask",
        "remove",
        "is_pruned",
    ):
        assert hasattr(cprune, name) and hasattr(tprune, name)
    assert ctorch.nn.utils.prune is cprune
