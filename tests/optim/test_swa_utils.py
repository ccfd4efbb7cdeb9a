"""ctorch.optim.swa_utils against torch: AveragedModel (SWA, EMA via avg_fn and multi_avg_fn,
use_buffers, n_averaged, deep copy), SWALR's lr sequence, update_bn, argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.optim import swa_utils

torch = pytest.importorskip("torch")


def _net(lib, seed=0):
    lib.manual_seed(seed)
    return lib.nn.Sequential(
        lib.nn.Linear(4, 6), lib.nn.BatchNorm1d(6), lib.nn.ReLU(), lib.nn.Linear(6, 2)
    )


def _copy_weights(src_t, dst_c):
    dst_c.load_state_dict(
        {k: ctorch.tensor(v.detach().numpy()) for k, v in src_t.state_dict().items()}
    )


def _train_steps(lib, model, xs, make_avg, steps=5):
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    avg = make_avg(model)
    for i in range(steps):
        x = lib.tensor(xs[i])
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        avg.update_parameters(model)
    return avg


def _state(avg):
    return {k: v.detach().numpy().copy() for k, v in avg.state_dict().items()}


@pytest.mark.parametrize(
    "kind", ["swa", "ema_multi", "ema_avg", "swa_avg", "ema_multi_buffers", "swa_buffers"]
)
def test_averaged_model_matches_torch(kind):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((8, 4)).astype(np.float32) for _ in range(5)]

    def make(lib):
        su = lib.optim.swa_utils
        return {
            "swa": lambda m: su.AveragedModel(m),
            "ema_multi": lambda m: su.AveragedModel(m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
            "ema_avg": lambda m: su.AveragedModel(m, avg_fn=su.get_ema_avg_fn(0.8)),
            "swa_avg": lambda m: su.AveragedModel(m, avg_fn=su.get_swa_avg_fn()),
            "ema_multi_buffers": lambda m: su.AveragedModel(
                m, multi_avg_fn=su.get_ema_multi_avg_fn(0.7), use_buffers=True
            ),
            "swa_buffers": lambda m: su.AveragedModel(m, use_buffers=True),
        }[kind]

    tm = _net(torch)
    cm = _net(ctorch)
    _copy_weights(tm, cm)
    ta = _train_steps(torch, tm, xs, make(torch))
    ca = _train_steps(ctorch, cm, xs, make(ctorch))
    ts, cs = _state(ta), _state(ca)
    assert list(ts) == list(cs)  # module.* keys then n_averaged, as torch's
    for k in ts:
        assert cs[k].dtype == ts[k].dtype, k
        np.testing.assert_allclose(cs[k], ts[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert int(ca.n_averaged) == 5 and ca.n_averaged.dtype == ctorch.int64
    # forward passes through to the averaged copy
    x = rng.standard_normal((3, 4)).astype(np.float32)
    ta.eval()
    ca.eval()
    np.testing.assert_allclose(
        ca(ctorch.tensor(x)).detach().numpy(),
        ta(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_averaged_model_is_a_deep_copy_and_first_update_copies():
    m = _net(ctorch)
    avg = swa_utils.AveragedModel(m)
    assert avg.module is not m
    assert avg.module[0].weight is not m[0].weight
    with ctorch.no_grad():
        m[0].weight.add_(1.0)
    assert not np.allclose(avg.module[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    avg.update_parameters(m)  # n_averaged == 0: a plain copy
    np.testing.assert_array_equal(
        avg.module[0].weight.detach().numpy(), m[0].weight.detach().numpy()
    )
    # the averaged model's parameters are Parameters of the AveragedModel (an optimizer can see them)
    assert len(list(avg.parameters())) == len(list(m.parameters()))


def test_swa_average_of_integer_buffers():
    """use_buffers=True averages num_batches_tracked (int64) too, as torch's foreach path does."""
    tm, cm = _net(torch), _net(ctorch)
    _copy_weights(tm, cm)
    ta = torch.optim.swa_utils.AveragedModel(tm, use_buffers=True)
    ca = swa_utils.AveragedModel(cm, use_buffers=True)
    for step in range(3):
        for m in (tm, cm):
            m[1].num_batches_tracked += 3 * step + 1
        ta.update_parameters(tm)
        ca.update_parameters(cm)
    assert int(ca.module[1].num_batches_tracked) == int(ta.module[1].num_batches_tracked)


def test_errors_match_torch():
    m = _net(ctorch)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(
            m, avg_fn=swa_utils.get_swa_avg_fn(), multi_avg_fn=swa_utils.get_swa_multi_avg_fn()
        )
    for fn in (swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn):
        with pytest.raises(
            ValueError,
            match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range.",
        ):
            fn(1.5)
    opt = ctorch.optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(
        ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"
    ):
        swa_utils.SWALR(opt, swa_lr=0.05, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=-1)
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got 2.0"):
        swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2.0)
    with pytest.raises(
        ValueError, match="swa_lr must have the same length as optimizer.param_groups"
    ):
        swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])


def _swalr_lrs(lib, strategy, epochs, swa_lr, steps=14):
    ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = lib.optim.SGD([{"params": [ps[0]], "lr": 0.5}, {"params": [ps[1]], "lr": 0.2}], lr=0.1)
    sched = lib.optim.swa_utils.SWALR(
        opt, swa_lr=swa_lr, anneal_epochs=epochs, anneal_strategy=strategy
    )
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, [g["swa_lr"] for g in opt.param_groups], sched


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("epochs", [0, 1, 5])
@pytest.mark.parametrize("swa_lr", [0.05, [0.05, 0.01]])
def test_swalr_matches_torch(strategy, epochs, swa_lr):
    c, c_swa, cs = _swalr_lrs(ctorch, strategy, epochs, swa_lr)
    t, t_swa, ts = _swalr_lrs(torch, strategy, epochs, swa_lr)
    np.testing.assert_allclose(np.array(c), np.array(t), rtol=1e-12)
    assert c_swa == t_swa
    keys = {"anneal_epochs", "_anneal_strategy", "base_lrs", "last_epoch", "_step_count"}
    assert keys <= set(cs.state_dict()) and keys <= set(ts.state_dict())
    assert "anneal_func" not in cs.state_dict() and "optimizer" not in cs.state_dict()


def test_swalr_state_dict_round_trip():
    _, _, s = _swalr_lrs(ctorch, "linear", 4, 0.05, steps=2)
    sd = s.state_dict()
    _, _, s2 = _swalr_lrs(ctorch, "cos", 4, 0.05, steps=0)
    s2.load_state_dict(sd)
    assert s2._anneal_strategy == "linear" and s2.anneal_func is s2._linear_anneal


def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 4)).astype(np.float32) * (i + 1) for i in range(4)]
    tm, cm = _net(torch), _net(ctorch)
    _copy_weights(tm, cm)
    for m in (tm, cm):
        m.eval()
        m[1].momentum = 0.3
    # a loader of (x, y) tuples: update_bn feeds the first element
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], tm)
    swa_utils.update_bn([(ctorch.tensor(b), 0) for b in batches], cm)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(
            getattr(cm[1], name).numpy(), getattr(tm[1], name).numpy(), rtol=1e-5, atol=1e-6
        )
    assert not cm.training and cm[1].momentum == 0.3  # mode and momentum restored
    # the cumulative average of the batch variances: not what momentum=0.3 would give
    assert np.allclose(
        cm[1].running_mean.numpy(),
        np.mean(
            [
                (b @ cm[0].weight.detach().numpy().T + cm[0].bias.detach().numpy()).mean(0)
                for b in batches
            ],
            0,
        ),
        atol=1e-5,
    )


def test_update_bn_without_batchnorm_is_a_no_op():
    m = ctorch.nn.Linear(2, 2)
    swa_utils.update_bn([ctorch.ones(1, 2)], m)  # returns before touching the loader


def test_importable_as_torch_code_does():
    from ctorch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn  # noqa: F401

    assert ctorch.optim.swa_utils is swa_utils
    assert set(swa_utils.__all__) == set(torch.optim.swa_utils.__all__)
