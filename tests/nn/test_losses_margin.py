"""multi_margin_loss, multilabel_margin_loss, triplet_margin_with_distance_loss, ctc_loss
(nn/_margin_losses.py) and their modules: forward and gradients vs torch, float64
finite differences, torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_op

import ctorch
from ctorch import nn

torch = pytest.importorskip("torch")

RED = ["mean", "sum", "none"]
T6 = np.array([0, 3, 1, 4, 4, 2], np.int64)
W5 = np.array([0.5, 1.0, 2.0, 0.7, 1.5], np.float32)
ML = np.array(
    [[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 2, 3], [4, 4, -1, 0, 0]], np.int64
)  # listed classes up to the first -1 (row 2 lists none, row 3 repeats 4)


def _F(lib):
    return lib.nn.functional


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(reduction, p):
    check_op(
        lambda lib, x, t: _F(lib).multi_margin_loss(x, t, p=p, margin=0.8, reduction=reduction),
        [(6, 5), T6],
        grad_inputs=[0],
    )
    check_op(
        lambda lib, x, t, w: _F(lib).multi_margin_loss(x, t, p=p, weight=w, reduction=reduction),
        [(6, 5), T6, W5],
        grad_inputs=[0],
    )


def test_multi_margin_loss_1d_and_errors():
    for r in RED:
        check_op(
            lambda lib, x, t, r=r: _F(lib).multi_margin_loss(x, t, reduction=r),
            [(5,), np.array(3, np.int64)],
            grad_inputs=[0],
        )
    x = ctorch.randn(3, 4)
    with pytest.raises(RuntimeError, match="target out of range"):
        ctorch.nn.functional.multi_margin_loss(x, ctorch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        ctorch.nn.functional.multi_margin_loss(x, ctorch.tensor([0, 1, 1]), p=3)
    with pytest.raises(RuntimeError, match="Expected target size \\[3\\], but got \\[2\\]"):
        ctorch.nn.functional.multi_margin_loss(x, ctorch.tensor([0, 1]))


@pytest.mark.parametrize("reduction", RED)
def test_multilabel_margin_loss(reduction):
    check_op(
        lambda lib, x, t: _F(lib).multilabel_margin_loss(x, t, reduction=reduction),
        [(4, 5), ML],
        grad_inputs=[0],
    )
    check_op(
        lambda lib, x, t: _F(lib).multilabel_margin_loss(x, t, reduction=reduction),
        [(5,), ML[0]],
        grad_inputs=[0],
    )
    with pytest.raises(RuntimeError, match="out of range"):
        ctorch.nn.functional.multilabel_margin_loss(ctorch.randn(1, 3), ctorch.tensor([[0, 5, -1]]))


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction, swap):
    check_op(
        lambda lib, a, p, n: _F(lib).triplet_margin_with_distance_loss(
            a, p, n, margin=1.5, swap=swap, reduction=reduction
        ),
        [(4, 3)] * 3,
    )
    check_op(
        lambda lib, a, p, n: _F(lib).triplet_margin_with_distance_loss(
            a,
            p,
            n,
            distance_function=lambda u, v: 1 - _F(lib).cosine_similarity(u, v),
            margin=0.7,
            swap=swap,
            reduction=reduction,
        ),
        [(4, 3)] * 3,
    )
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)


def _ctc_inputs(rng):
    x = rng.standard_normal((6, 3, 5))
    return x


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("layout", ["padded", "concat"])
def test_ctc_loss_matches_torch(reduction, layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 5))
    padded = np.array([[1, 2, 2], [3, 1, 0], [4, 0, 0]], np.int64)
    il, tl = [6, 5, 6], [3, 2, 1]
    tg = padded if layout == "padded" else np.array([1, 2, 2, 3, 1, 4], np.int64)
    res = {}
    for lib in (torch, ctorch):
        xt = lib.from_numpy(x.copy()).requires_grad_(True)
        loss = _F(lib).ctc_loss(
            xt.log_softmax(2), lib.from_numpy(tg.copy()), il, tl, reduction=reduction
        )
        (g,) = lib.autograd.grad(loss.sum(), xt)
        res[lib.__name__] = (loss.detach().numpy(), g.numpy())
    np.testing.assert_allclose(res["ctorch"][0], res["torch"][0], rtol=1e-10)
    np.testing.assert_allclose(res["ctorch"][1], res["torch"][1], rtol=1e-8, atol=1e-12)


def test_ctc_loss_gradcheck_unbatched_module_and_infinity():
    rng = np.random.default_rng(1)
    x = ctorch.from_numpy(rng.standard_normal((4, 4))).requires_grad_(True)
    tg = ctorch.tensor([1, 3])
    assert ctorch.autograd.gradcheck(
        lambda a: nn.CTCLoss(blank=0)(a.log_softmax(1), tg, (4,), (2,)), (x,)
    )
    ref = torch.nn.CTCLoss()(
        torch.from_numpy(x.detach().numpy()).log_softmax(1), torch.tensor([1, 3]), (4,), (2,)
    )
    out = nn.CTCLoss()(x.log_softmax(1), tg, (4,), (2,))
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-10)
    # a target longer than the input: torch's inf, zeroed by zero_infinity
    lp = ctorch.from_numpy(rng.standard_normal((2, 1, 4))).log_softmax(2)
    long_t = ctorch.tensor([[1, 2, 3]])
    assert ctorch.isinf(ctorch.nn.functional.ctc_loss(lp, long_t, [2], [3], reduction="sum"))
    z = ctorch.nn.functional.ctc_loss(lp, long_t, [2], [3], reduction="sum", zero_infinity=True)
    assert float(z) == 0.0


def test_modules_match_functional():
    rng = np.random.default_rng(2)
    x = ctorch.from_numpy(rng.standard_normal((6, 5)))
    t = ctorch.from_numpy(T6)
    w = ctorch.from_numpy(W5.astype(np.float64))
    for red in RED:
        tm = torch.nn.MultiMarginLoss(
            p=2, margin=0.5, weight=torch.from_numpy(W5.astype(np.float64)), reduction=red
        )
        cm = nn.MultiMarginLoss(p=2, margin=0.5, weight=w, reduction=red)
        np.testing.assert_allclose(
            cm(x, t).numpy(), tm(torch.from_numpy(x.numpy()), torch.from_numpy(T6)).numpy()
        )
        xm = ctorch.from_numpy(rng.standard_normal((4, 5)))
        np.testing.assert_allclose(
            nn.MultiLabelMarginLoss(reduction=red)(xm, ctorch.from_numpy(ML)).numpy(),
            torch.nn.MultiLabelMarginLoss(reduction=red)(
                torch.from_numpy(xm.numpy()), torch.from_numpy(ML)
            ).numpy(),
        )
    assert "weight" in dict(nn.MultiMarginLoss(weight=w).named_buffers())
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)


LOSSES = [
    ("multi_margin_loss", "MultiMarginLoss"),
    ("multilabel_margin_loss", "MultiLabelMarginLoss"),
    ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss"),
    ("margin_ranking_loss", "MarginRankingLoss"),
    ("hinge_embedding_loss", "HingeEmbeddingLoss"),
    ("cosine_embedding_loss", "CosineEmbeddingLoss"),
    ("triplet_margin_loss", "TripletMarginLoss"),
    ("triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss"),
    ("soft_margin_loss", "SoftMarginLoss"),
    ("gaussian_nll_loss", "GaussianNLLLoss"),
    ("ctc_loss", "CTCLoss"),
]


def _params(fn):
    import inspect

    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(("fname", "mname"), LOSSES)
def test_signatures_match_torch(fname, mname):
    assert _params(getattr(ctorch.nn.functional, fname)) == _params(
        getattr(torch.nn.functional, fname)
    )
    assert [n for n, *_ in _params(getattr(nn, mname).__init__)] == [
        n for n, *_ in _params(getattr(torch.nn, mname).__init__)
    ]
