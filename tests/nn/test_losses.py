"""Losses: forward and gradients vs finite differences (float64) and vs torch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch
from ctorch import nn
from ctorch.nn import functional as F

RNG = np.random.default_rng(0)
IDX = RNG.integers(0, 5, size=(6,)).astype(np.int64)
IDX_IGN = IDX.copy()
IDX_IGN[1] = -100
IDX_SP = RNG.integers(0, 4, size=(2, 3, 3)).astype(np.int64)
W5 = RNG.uniform(0.5, 2.0, size=5).astype(np.float32)
PROBS = RNG.dirichlet(np.ones(5), size=6).astype(np.float32)


def _F(lib):
    return ctorch.nn.functional if lib is ctorch else lib.nn.functional


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_indices(reduction, smoothing):
    check_op(
        lambda lib, x, t: _F(lib).cross_entropy(
            x, t, reduction=reduction, label_smoothing=smoothing
        ),
        [(6, 5), IDX],
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_weight_ignore_index(reduction):
    check_op(
        lambda lib, x, t, w: _F(lib).cross_entropy(
            x, t, weight=w, reduction=reduction, label_smoothing=0.2
        ),
        [(6, 5), IDX_IGN, W5],
        grad_inputs=[0],
    )


def test_cross_entropy_spatial_and_unbatched():
    check_op(lambda lib, x, t: _F(lib).cross_entropy(x, t), [(2, 4, 3, 3), IDX_SP])
    check_op(
        lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction="none"), [(2, 4, 3, 3), IDX_SP]
    )
    check_op(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor(2)), [(5,)])


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities(smoothing):
    check_op(
        lambda lib, x, p, w: _F(lib).cross_entropy(x, p, weight=w, label_smoothing=smoothing),
        [(6, 5), PROBS, W5],
        grad_inputs=[0],
    )


def test_cross_entropy_large_uses_kernel_and_matches_numpy():
    x = RNG.standard_normal((256, 100)).astype(np.float32)
    t = RNG.integers(0, 100, 256)
    xt = ctorch.from_numpy(x.copy()).requires_grad_()
    loss = F.cross_entropy(xt, ctorch.from_numpy(t))
    lp = x - x.max(1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(1, keepdims=True))
    np.testing.assert_allclose(loss.item(), -lp[np.arange(256), t].mean(), rtol=1e-5)
    loss.backward()
    g = np.exp(lp)
    g[np.arange(256), t] -= 1
    np.testing.assert_allclose(xt.grad.numpy(), g / 256, atol=1e-6)


def test_cross_entropy_errors():
    with pytest.raises(IndexError):
        F.cross_entropy(ctorch.randn(3, 4), ctorch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(ctorch.randn(3, 4), ctorch.tensor([0, 1]))
    with pytest.raises(ValueError, match="not a valid value"):
        F.cross_entropy(ctorch.randn(3, 4), ctorch.tensor([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    check_op(
        lambda lib, x, t, w: _F(lib).nll_loss(
            _F(lib).log_softmax(x, 1), t, weight=w, reduction=reduction
        ),
        [(6, 5), IDX_IGN, W5],
        grad_inputs=[0],
    )
    check_op(lambda lib, x, t: _F(lib).nll_loss(x, t), [(2, 4, 3, 3), IDX_SP])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(name, reduction):
    check_op(lambda lib, x, y: getattr(_F(lib), name)(x, y, reduction=reduction), [(4, 3), (4, 3)])


def test_smooth_l1_beta_and_huber_delta():
    check_op(lambda lib, x, y: _F(lib).smooth_l1_loss(x, y, beta=0.5), [(5, 3), (5, 3)])
    check_op(lambda lib, x, y: _F(lib).huber_loss(x, y, delta=0.3), [(5, 3), (5, 3)])


def test_mse_broadcast_warns():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ctorch.randn(3, 1), ctorch.randn(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    check_op(
        lambda lib, x, y: _F(lib).binary_cross_entropy(x, y, reduction=reduction),
        [(4, 3), (4, 3)],
        low=0.05,
        high=0.95,
    )
    check_op(
        lambda lib, x, y, w: _F(lib).binary_cross_entropy(x, y, weight=w),
        [(4, 3), (4, 3), (3,)],
        low=0.05,
        high=0.95,
        grad_inputs=[0],
    )


def test_bce_clamps_log():
    x = ctorch.tensor([0.0, 1.0])
    y = ctorch.tensor([1.0, 0.0])
    assert F.binary_cross_entropy(x, y).item() == pytest.approx(100.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(reduction):
    check_op(
        lambda lib, x, y: _F(lib).binary_cross_entropy_with_logits(x, y, reduction=reduction),
        [(4, 3), (4, 3)],
        grad_inputs=[0, 1],
    )
    check_op(
        lambda lib, x, y, pw, w: _F(lib).binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=pw
        ),
        [(4, 3), (4, 3), (3,), (3,)],
        grad_inputs=[0],
        low=0.1,
        high=2.0,
    )


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    tgt = PROBS if not log_target else np.log(PROBS)
    check_op(
        lambda lib, x, t: _F(lib).kl_div(
            _F(lib).log_softmax(x, 1), t, reduction=reduction, log_target=log_target
        ),
        [(6, 5), tgt],
        grad_inputs=[0],
    )


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(ctorch.randn(2, 3), ctorch.rand(2, 3))


def test_margin_and_embedding_losses():
    y = np.array([1.0, -1.0, 1.0, -1.0], np.float32)
    check_op(
        lambda lib, a, b, t: _F(lib).cosine_embedding_loss(a, b, t, margin=0.1),
        [(4, 5), (4, 5), y],
        grad_inputs=[0, 1],
    )
    check_op(
        lambda lib, a, b, t: _F(lib).margin_ranking_loss(a, b, t, margin=0.2),
        [(4,), (4,), y],
        grad_inputs=[0, 1],
    )
    check_op(
        lambda lib, a, p, n: _F(lib).triplet_margin_loss(a, p, n, margin=1.0),
        [(4, 5), (4, 5), (4, 5)],
    )
    check_op(
        lambda lib, a, p, n: _F(lib).triplet_margin_loss(a, p, n, p=1, swap=True, reduction="none"),
        [(4, 5), (4, 5), (4, 5)],
        gradcheck=False,
    )
    check_op(lambda lib, x, t: _F(lib).hinge_embedding_loss(x, t), [(4,), y], grad_inputs=[0])
    check_op(lambda lib, x, t: _F(lib).soft_margin_loss(x, t), [(4,), y], grad_inputs=[0])
    check_op(
        lambda lib, x, t: _F(lib).multilabel_soft_margin_loss(x, t),
        [(4, 3), (np.arange(12) % 2).reshape(4, 3).astype(np.float32)],
        grad_inputs=[0],
    )
    check_op(lambda lib, x, t: _F(lib).poisson_nll_loss(x, t), [(4, 3), (4, 3)], grad_inputs=[0])
    check_op(
        lambda lib, x, t, v: _F(lib).gaussian_nll_loss(x, t, v),
        [(4, 3), (4, 3), (4, 3)],
        grad_inputs=[0, 1],
        low=0.2,
        high=2.0,
    )


def test_legacy_size_average():
    x, y = ctorch.randn(3, 2), ctorch.randn(3, 2)
    with pytest.warns(UserWarning):
        s = F.mse_loss(x, y, size_average=False)
    np.testing.assert_allclose(s.item(), F.mse_loss(x, y, reduction="sum").item(), rtol=1e-6)
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"


MODULE_CASES = [
    ("CrossEntropyLoss", dict(label_smoothing=0.1), "cls"),
    ("NLLLoss", dict(), "logp"),
    ("MSELoss", dict(reduction="sum"), "reg"),
    ("L1Loss", dict(), "reg"),
    ("SmoothL1Loss", dict(beta=0.5), "reg"),
    ("HuberLoss", dict(delta=2.0), "reg"),
    ("BCELoss", dict(), "prob"),
    ("BCEWithLogitsLoss", dict(), "reg"),
    ("KLDivLoss", dict(reduction="batchmean"), "kl"),
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("name,kwargs,kind", MODULE_CASES)
def test_loss_modules_vs_torch(name, kwargs, kind):
    import torch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    if kind == "cls":
        t = IDX
    elif kind == "logp":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
        t = IDX
    elif kind == "prob":
        x = 1 / (1 + np.exp(-x))
        t = rng.uniform(0, 1, (6, 5)).astype(np.float32)
    elif kind == "kl":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
        t = PROBS
    else:
        t = rng.standard_normal((6, 5)).astype(np.float32)
    ours = getattr(nn, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    xc = ctorch.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    lc = ours(xc, ctorch.from_numpy(t.copy()))
    lt = theirs(xt, torch.from_numpy(t.copy()))
    np.testing.assert_allclose(lc.detach().numpy(), lt.detach().numpy(), rtol=1e-5, atol=1e-6)
    lc.backward()
    lt.backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_weighted_loss_buffers_in_state_dict():
    crit = nn.CrossEntropyLoss(weight=ctorch.ones(3))
    assert list(crit.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=ctorch.ones(2)).state_dict()) == ["pos_weight"]
