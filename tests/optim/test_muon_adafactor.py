"""optim.Muon and optim.Adafactor against torch's, and the 16-bit addmm Muon runs on (one
rounding at the end, as torch)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch


def _train(lib, **kw):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((16, 8)).astype(np.float32)
    w1 = rng.standard_normal((8, 24)).astype(np.float32)
    x = rng.standard_normal((32, 16)).astype(np.float32)
    y = rng.standard_normal((32, 24)).astype(np.float32)
    a, b = lib.nn.Parameter(lib.tensor(w0)), lib.nn.Parameter(lib.tensor(w1))
    opt = lib.optim.Muon([a, b], **kw)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = ((lib.tensor(x) @ a @ b - lib.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, a.detach().numpy(), opt


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.02, weight_decay=0.01),
        dict(lr=0.05, nesterov=False, momentum=0.9, adjust_lr_fn="match_rms_adamw"),
    ],
)
def test_muon_follows_torch(kw):
    import torch

    ours, wa, opt = _train(ctorch, **kw)
    theirs, wt, topt = _train(torch, **kw)
    # the Newton-Schulz iteration runs in bfloat16: the two track each other to ~1e-3
    np.testing.assert_allclose(ours, theirs, rtol=2e-3)
    np.testing.assert_allclose(wa, wt, atol=5e-3)
    assert opt.state_dict()["param_groups"][0].keys() == topt.state_dict()["param_groups"][0].keys()
    assert sorted(opt.state_dict()["state"][0]) == ["momentum_buffer"]


def test_muon_errors():
    w = ctorch.nn.Parameter(ctorch.randn(3, 4))
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        ctorch.optim.Muon([w, ctorch.nn.Parameter(ctorch.randn(4))])
    with pytest.raises(ValueError, match="Learning rate should be >= 0"):
        ctorch.optim.Muon([w], lr=-1.0)
    with pytest.raises(ValueError, match="Adjust learning rate function bogus"):
        ctorch.optim.Muon([w], adjust_lr_fn="bogus")
    c = ctorch.nn.Parameter(ctorch.randn(2, 2, dtype=ctorch.complex64))
    c.grad = ctorch.ones_like(c)
    with pytest.raises(RuntimeError, match="complex"):
        ctorch.optim.Muon([c]).step()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
@pytest.mark.parametrize("fn", ["addmm", "addmv", "baddbmm"])
def test_16_bit_add_products_round_once_like_torch(dt, fn):
    import torch

    rng = np.random.default_rng(1)
    shapes = {
        "addmm": ((8, 8), (8, 16), (16, 8)),
        "addmv": ((8,), (8, 16), (16,)),
        "baddbmm": ((2, 8, 8), (2, 8, 16), (2, 16, 8)),
    }[fn]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    outs = []
    for lib in (torch, ctorch):
        args = [lib.tensor(a).to(getattr(lib, dt)) for a in arrays]
        r = getattr(lib, fn)(*args, beta=-4.775, alpha=2.0315)
        outs.append(r.float().numpy())
    if fn == "addmv":  # torch's 16-bit addmv rounds its intermediate steps; ctorch does not
        np.testing.assert_allclose(outs[1], outs[0], rtol=2e-2, atol=2e-2)
    else:
        np.testing.assert_array_equal(outs[0], outs[1])


def _train_adafactor(lib, **kw):
    rng = np.random.default_rng(0)
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal((16, 8))))
    b = lib.nn.Parameter(lib.tensor(rng.standard_normal(8)))
    c = lib.nn.Parameter(lib.tensor(rng.standard_normal((2, 3, 4))))
    x, y = lib.tensor(rng.standard_normal((32, 16))), lib.tensor(rng.standard_normal((32, 8)))
    opt = lib.optim.Adafactor([w, b, c], **kw)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean() + (c**2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    state = opt.state_dict()["state"]
    return losses, [t.detach().numpy() for t in (w, b, c)], [sorted(state[i]) for i in range(3)]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.05, weight_decay=0.1, d=2.0, eps=(1e-30, 1e-3)),
        dict(maximize=True, beta2_decay=-0.5),
    ],
)
def test_adafactor_matches_torch_in_float64(kw):
    import torch

    ours, ow, okeys = _train_adafactor(ctorch, **kw)
    theirs, tw, tkeys = _train_adafactor(torch, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for a, b in zip(ow, tw, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert okeys == tkeys  # factored row/col statistics for matrices, a variance for vectors


def test_adafactor_errors():
    w = ctorch.nn.Parameter(ctorch.randn(3, 4))
    with pytest.raises(ValueError, match="beta2_decay should be <= 0"):
        ctorch.optim.Adafactor([w], beta2_decay=0.5)
    with pytest.raises(ValueError, match="Clipping threshold d should be >= 1"):
        ctorch.optim.Adafactor([w], d=0.5)
    with pytest.raises(ValueError, match="epsilon1 should be >= 0"):
        ctorch.optim.Adafactor([w], eps=(-1.0, 1e-3))
