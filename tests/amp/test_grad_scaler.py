"""GradScaler against torch's: the scale / growth-tracker / skipped-step sequence of a run with
injected inf and NaN gradients, with every optimizer; unscale_ before clip_grad_norm_; the
state dict, pickling, errors; and a bfloat16-autocast MLP training run tracking torch's."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

OPTIMIZERS = {
    "SGD": {"lr": 0.1, "momentum": 0.9},
    "Adam": {"lr": 0.01},
    "AdamW": {"lr": 0.01},
    "RMSprop": {"lr": 0.01},
    "Adagrad": {"lr": 0.1},
    "Adadelta": {"lr": 1.0},
    "Adamax": {"lr": 0.01},
    "NAdam": {"lr": 0.01},
    "RAdam": {"lr": 0.01},
    "Rprop": {"lr": 0.01},
    "ASGD": {"lr": 0.01},
}


def _mlp(L, seed=0):
    rng = np.random.default_rng(seed)
    m = L.nn.Sequential(L.nn.Linear(6, 16), L.nn.ReLU(), L.nn.Linear(16, 3))
    with L.no_grad():
        for p in m.parameters():
            a = rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)
            p.copy_(L.tensor(a) if L is ctorch else torch.from_numpy(a))
    return m


def _batches(n, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)) for _ in range(n)
    ]


def _run(L, opt_name, kw, steps, inject, clip=None):
    m = _mlp(L)
    opt = getattr(L.optim, opt_name)(m.parameters(), **kw)
    scaler = L.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=3)
    trace = []
    for i, (x, y) in enumerate(_batches(steps)):
        xt = L.tensor(x) if L is ctorch else torch.from_numpy(x)
        yt = L.tensor(y) if L is ctorch else torch.from_numpy(y)
        opt.zero_grad()
        loss = L.nn.functional.cross_entropy(m(xt), yt)
        scaler.scale(loss).backward()
        if i in inject:
            p = next(iter(m.parameters()))
            p.grad[0, 0] = inject[i]
        if clip is not None:
            scaler.unscale_(opt)
            L.nn.utils.clip_grad_norm_(m.parameters(), clip)
        before = [p.detach().clone() for p in m.parameters()]
        scaler.step(opt)
        stepped = any(
            not L.equal(a, p.detach()) for a, p in zip(before, m.parameters(), strict=True)
        )
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), stepped))
    return trace, [p.detach().float().numpy().copy() for p in m.parameters()]


@pytest.mark.parametrize("clip", [None, 1.0])
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_skip_update_sequence_matches_torch(opt_name, clip):
    inject = {2: float("inf"), 3: float("nan"), 8: float("-inf")}
    ct, cp = _run(ctorch, opt_name, OPTIMIZERS[opt_name], 12, inject, clip)
    tt, tp = _run(torch, opt_name, OPTIMIZERS[opt_name], 12, inject, clip)
    assert ct == tt
    assert [s for *_, s in ct].count(False) == 3
    for a, b in zip(cp, tp, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_scale_growth_hits_inf_and_stays_finite():
    s = ctorch.amp.GradScaler("cpu", init_scale=2.0**126, growth_interval=1)
    t = torch.amp.GradScaler("cpu", init_scale=2.0**126, growth_interval=1)
    for sc in (s, t):
        lib = ctorch if sc is s else torch
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.0)
        for _ in range(4):
            opt.zero_grad()
            sc.scale((w * 1e-38).sum()).backward()
            sc.step(opt)
            sc.update()
    assert s.get_scale() == t.get_scale() and s._get_growth_tracker() == t._get_growth_tracker()


def test_state_dict_roundtrip_and_pickle():
    s = ctorch.amp.GradScaler(
        "cpu", init_scale=1024.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=7
    )
    t = torch.amp.GradScaler(
        "cpu", init_scale=1024.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=7
    )
    assert s.state_dict() == t.state_dict()
    w = ctorch.ones(2, requires_grad=True)
    opt = ctorch.optim.SGD([w], lr=0.1)
    s.scale(w.sum()).backward()
    s.step(opt)
    s.update()
    sd = s.state_dict()
    assert sd["_growth_tracker"] == 1 and sd["scale"] == 1024.0
    s2 = ctorch.amp.GradScaler("cpu")
    s2.load_state_dict(sd)
    assert s2.state_dict() == sd
    s3 = pickle.loads(pickle.dumps(s))
    assert s3.state_dict() == sd
    t.load_state_dict(sd)
    assert t.state_dict() == sd
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        ctorch.amp.GradScaler("cpu").load_state_dict({})


def test_errors_and_stages():
    s = ctorch.amp.GradScaler("cpu")
    w = ctorch.ones(2, requires_grad=True)
    opt = ctorch.optim.SGD([w], lr=0.1)
    with pytest.raises(AssertionError, match="_scale is None"):
        s.unscale_(opt)
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        s.unscale_(opt)
    with pytest.raises(AssertionError, match="pickled"):
        pickle.dumps(s)
    s.update()
    with pytest.raises(RuntimeError, match="Closure"):
        s.step(opt, closure=lambda: 0)
    h = ctorch.ones(2, dtype=ctorch.float16, requires_grad=True)
    opt16 = ctorch.optim.SGD([h], lr=0.1)
    s.scale(h.float().sum()).backward()
    with pytest.raises(ValueError, match="FP16 gradients"):
        s.step(opt16)
    with pytest.raises(AssertionError, match="growth factor"):
        ctorch.amp.GradScaler("cpu", growth_factor=1.0)


def test_disabled_and_cuda_fallback():
    s = ctorch.amp.GradScaler("cpu", enabled=False)
    x = ctorch.ones(2)
    assert s.scale(x) is x and s.get_scale() == 1.0 and s.state_dict() == {}
    if not ctorch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            g = ctorch.amp.GradScaler()
        assert not g.is_enabled()
        with pytest.warns(FutureWarning):
            ctorch.cuda.amp.GradScaler()


def test_update_with_new_scale():
    s = ctorch.amp.GradScaler("cpu")
    w = ctorch.ones(2, requires_grad=True)
    opt = ctorch.optim.SGD([w], lr=0.1)
    s.scale(w.sum()).backward()
    s.step(opt)
    s.update(512.0)
    assert s.get_scale() == 512.0
    s.scale(w.sum()).backward()
    s.step(opt)
    s.update(ctorch.tensor([8.0]))
    assert s.get_scale() == 8.0
    outs = s.scale([ctorch.ones(1), (ctorch.ones(1),)])
    assert outs[0].item() == 8.0 and outs[1][0].item() == 8.0


def _train_bf16(L, steps=25):
    m = _mlp(L)
    opt = L.optim.SGD(m.parameters(), lr=0.2)
    losses = []
    for x, y in _batches(steps, seed=4):
        xt = L.tensor(x) if L is ctorch else torch.from_numpy(x)
        yt = L.tensor(y) if L is ctorch else torch.from_numpy(y)
        opt.zero_grad()
        with L.autocast("cpu", dtype=L.bfloat16):
            out = m(xt)
            loss = L.nn.functional.cross_entropy(out, yt)
        assert out.dtype is L.bfloat16 and loss.dtype is L.float32
        loss.backward()
        assert all(p.grad.dtype is L.float32 for p in m.parameters())
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def test_bf16_autocast_mlp_training_tracks_torch():
    c = _train_bf16(ctorch)
    t = _train_bf16(torch)
    assert c[-5:].mean() < c[:5].mean()  # it learns
    # bfloat16 has 8 bits of mantissa: losses agree to a few bf16 ulps of drift
    np.testing.assert_allclose(c, t, rtol=3e-2, atol=3e-2)


def _lenet(L, seed=0):
    rng = np.random.default_rng(seed)
    m = L.nn.Sequential(
        L.nn.Conv2d(1, 4, 5, padding=2),
        L.nn.ReLU(),
        L.nn.MaxPool2d(2),
        L.nn.Conv2d(4, 8, 5),
        L.nn.ReLU(),
        L.nn.MaxPool2d(2),
        L.nn.Flatten(),
        L.nn.Linear(8 * 5 * 5, 32),
        L.nn.ReLU(),
        L.nn.Linear(32, 10),
    )
    with L.no_grad():
        for p in m.parameters():
            a = rng.uniform(-0.2, 0.2, tuple(p.shape)).astype(np.float32)
            p.copy_(L.tensor(a) if L is ctorch else torch.from_numpy(a))
    return m


def _train_cnn(L, steps=15):
    rng = np.random.default_rng(7)
    m = _lenet(L)
    opt = L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 16)
        xt = L.tensor(x) if L is ctorch else torch.from_numpy(x)
        yt = L.tensor(y) if L is ctorch else torch.from_numpy(y)
        opt.zero_grad()
        with L.autocast("cpu", dtype=L.bfloat16):
            out = m(xt)
            loss = L.nn.functional.cross_entropy(out, yt)
        assert out.dtype is L.bfloat16
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def test_bf16_autocast_cnn_training_tracks_torch():
    c = _train_cnn(ctorch)
    t = _train_cnn(torch)
    np.testing.assert_allclose(c, t, rtol=3e-2, atol=3e-2)
