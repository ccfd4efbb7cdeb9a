"""lr schedulers follow torch's learning-rate sequences."""

import numpy as np
import pytest

import ctorch
from ctorch.optim import lr_scheduler as S


def _sched(lib, name, kwargs, opt_name="SGD", opt_kw=None):
    p = lib.zeros(2, requires_grad=True)
    opt = getattr(lib.optim, opt_name)([p], **(opt_kw or {"lr": 0.1, "momentum": 0.9}))
    mod = lib.optim.lr_scheduler
    if name == "SequentialLR":
        s1 = mod.ConstantLR(opt, factor=0.5, total_iters=2)
        s2 = mod.ExponentialLR(opt, gamma=0.9)
        return opt, mod.SequentialLR(opt, [s1, s2], milestones=[3])
    return opt, getattr(mod, name)(opt, **kwargs)


def _lrs(lib, name, kwargs, steps=25, **kw):
    opt, s = _sched(lib, name, kwargs, **kw)
    out = []
    for _ in range(steps):
        opt.step()
        s.step()
        out.append(s.get_last_lr()[0])
    return out


CASES = [
    ("StepLR", dict(step_size=5, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 12], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95**e)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("LinearLR", dict(start_factor=0.25, total_iters=6)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=10, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.01)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)),
    ("SequentialLR", {}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    ours = _lrs(ctorch, name, kw)
    theirs = _lrs(torch, name, kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_steplr_values_without_torch():
    lrs = _lrs(ctorch, "StepLR", dict(step_size=2, gamma=0.1), steps=5)
    np.testing.assert_allclose(lrs, [0.1, 0.01, 0.01, 0.001, 0.001])


def test_onecycle_cycles_momentum():
    opt, s = _sched(ctorch, "OneCycleLR", dict(max_lr=1.0, total_steps=10))
    moms = []
    for _ in range(9):
        opt.step()
        s.step()
        moms.append(opt.param_groups[0]["momentum"])
    assert min(moms) == pytest.approx(0.85, abs=0.02) and moms[-1] > 0.9


def test_reduce_on_plateau():
    p = ctorch.zeros(1, requires_grad=True)
    opt = ctorch.optim.SGD([p], lr=1.0)
    s = S.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95]:
        s.step(loss)
    assert opt.param_groups[0]["lr"] == 0.5
    assert s.get_last_lr() == [0.5]


def test_state_dict_roundtrip():
    opt, s = _sched(ctorch, "StepLR", dict(step_size=3, gamma=0.5))
    for _ in range(4):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert sd["last_epoch"] == 4 and "optimizer" not in sd
    opt2, s2 = _sched(ctorch, "StepLR", dict(step_size=100, gamma=0.9))
    s2.load_state_dict(sd)
    assert s2.step_size == 3 and s2.last_epoch == 4
