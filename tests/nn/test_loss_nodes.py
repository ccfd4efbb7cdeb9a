"""smooth_l1_loss, huber_loss and binary_cross_entropy_with_logits as one node each
(``ops/loss_pointwise.py``): values, gradients and node names against torch, NaN/inf inputs,
broadcast targets, every reduction, and float64 finite differences (double backward too)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

CASES = [
    ("smooth_l1_loss", {}, "SmoothL1LossBackward0"),
    ("smooth_l1_loss", {"beta": 0.5}, "SmoothL1LossBackward0"),
    ("huber_loss", {}, "HuberLossBackward0"),
    ("huber_loss", {"delta": 0.3}, "HuberLossBackward0"),
    ("binary_cross_entropy_with_logits", {}, "BinaryCrossEntropyWithLogitsBackward0"),
    ("binary_cross_entropy_with_logits", {"weight": 0}, "BinaryCrossEntropyWithLogitsBackward0"),
    (
        "binary_cross_entropy_with_logits",
        {"weight": 0, "pos_weight": 1},
        "BinaryCrossEntropyWithLogitsBackward0",
    ),
]


def _inputs(target_shape):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 4)) * 2
    a[0, :3] = [np.nan, np.inf, 0.5]  # NaN, inf, and a value on the kink of beta = 0.5
    a[1, 0] = -np.inf
    b = rng.random(target_shape)
    extra = [rng.random(4) + 0.5, rng.random(4) + 0.5]
    return a, b, extra


# a broadcast target only for the regression losses (torch requires equal shapes for BCE)
PARITY = [
    (*case, shape)
    for case in CASES
    for shape in ([(3, 4)] if case[0].startswith("binary") else [(3, 4), (4,)])
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, kw, node, target_shape", PARITY)
def test_matches_torch(name, kw, node, reduction, target_shape):
    a, b, extra = _inputs(target_shape)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        t = L.tensor(b, requires_grad=True)
        kws = {k: (L.tensor(extra[v]) if isinstance(v, int) else v) for k, v in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the broadcast-target warning (both warn)
            out = getattr(L.nn.functional, name)(x, t, reduction=reduction, **kws)
        out.backward(L.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))))
        res.append(
            (out.detach().numpy(), x.grad.numpy(), t.grad.numpy(), type(out.grad_fn).__name__)
        )
    (co, cx, ct, cn), (to, tx, tt, tn) = res
    assert cn == tn == node
    np.testing.assert_allclose(co, to, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(cx, tx, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(ct, tt, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, kw, node", CASES)
def test_gradcheck_and_double_backward(name, kw, node, reduction):
    rng = np.random.default_rng(3)
    x = ctorch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    t = ctorch.tensor(rng.random((3, 4)), requires_grad=True)
    ws = [ctorch.tensor(rng.random(4) + 0.5, requires_grad=True) for _ in kw if kw[_] in (0, 1)]
    keys = [k for k in kw if kw[k] in (0, 1)]
    params = {k: v for k, v in kw.items() if k not in keys}

    def f(x, t, *w):
        return getattr(ctorch.nn.functional, name)(
            x, t, reduction=reduction, **params, **dict(zip(keys, w, strict=True))
        )

    # weight and pos_weight get gradients too (torch refuses them; ctorch gives the exact ones)
    assert gradcheck(f, (x, t, *ws))
    assert gradgradcheck(f, (x, t, *ws))


def test_beta_zero_is_l1_and_errors():
    x = ctorch.randn(3, requires_grad=True)
    t = ctorch.randn(3)
    out = ctorch.nn.functional.smooth_l1_loss(x, t, beta=0.0)
    assert type(out.grad_fn).__name__ == "MeanBackward0"  # as torch: the L1 loss
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        ctorch.nn.functional.huber_loss(x, t, reduction="bogus")
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        ctorch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="bogus")
    with pytest.raises(RuntimeError, match="negative values for beta"):
        ctorch.nn.functional.smooth_l1_loss(x, t, beta=-1.0)


def test_second_backward_raises_as_torch():
    for L in (ctorch, torch):
        x = L.randn(4, requires_grad=True)
        loss = L.nn.functional.huber_loss(x, L.zeros(4))
        loss.backward()
        with pytest.raises(RuntimeError, match="second time"):
            loss.backward()
