"""RAdam, NAdam, Adamax, ASGD, Rprop, SparseAdam, CyclicLR and the optimizer hooks, against
torch.optim: same initial parameters and gradients, 20 steps."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch import optim

torch = pytest.importorskip("torch")

CASES = [
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
]


def _data(dtype, n=257, steps=20, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(steps)]
    # some exact zeros and repeated signs exercise Rprop's branches
    grads[3][:20] = 0
    for g in grads[5:9]:
        g[20:60] = np.abs(g[20:60])
    return p0, grads


def _run(lib, name, kw, p0, grads):
    p = lib.tensor(p0.copy(), requires_grad=True)
    opt = getattr(lib.optim, name)([p], **kw)
    traj = []
    for g in grads:
        p.grad = lib.tensor(g)
        opt.step()
        traj.append(p.detach().numpy().copy())
    return np.stack(traj), opt


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(name, kw, dtype):
    p0, grads = _data(dtype)
    ours, opt = _run(ctorch, name, kw, p0, grads)
    theirs, topt = _run(torch, name, kw, p0, grads)
    assert ours.dtype == theirs.dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    # same state keys, and the state dict loads into torch's optimizer
    sd = opt.state_dict()
    tsd = topt.state_dict()
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    assert sd["param_groups"][0].keys() == tsd["param_groups"][0].keys()


@pytest.mark.parametrize("name,kw", CASES[::3])
def test_state_dict_round_trip_continues_identically(name, kw):
    # float32: loading casts floating state to the parameter's dtype (torch too), which for
    # float64 parameters would widen ASGD's eta/mu and NAdam's mu_product mid-run
    p0, grads = _data(np.float32)
    full, _ = _run(ctorch, name, kw, p0, grads)
    p = ctorch.tensor(p0.copy(), requires_grad=True)
    opt = getattr(optim, name)([p], **kw)
    for g in grads[:10]:
        p.grad = ctorch.tensor(g)
        opt.step()
    sd = opt.state_dict()
    q = ctorch.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = getattr(optim, name)([q], **kw)
    opt2.load_state_dict(sd)
    for g in grads[10:]:
        q.grad = ctorch.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(q.detach().numpy(), full[-1])


def test_param_groups_and_no_grad_params():
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(5)
    ga = rng.standard_normal((3, 4))

    def run(lib):
        a = lib.tensor(a0.copy(), requires_grad=True)
        b = lib.tensor(b0.copy(), requires_grad=True)
        opt = lib.optim.NAdam([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)
        for _ in range(3):
            a.grad = lib.tensor(ga)
            opt.step()
        return a.detach().numpy(), b.detach().numpy()

    (a1, b1), (a2, b2) = run(ctorch), run(torch)
    np.testing.assert_allclose(a1, a2, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(b1, b0)
    np.testing.assert_array_equal(b2, b0)


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(lr=-1.0), "Invalid learning rate"),
        (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
        (dict(eps=-1.0), "Invalid epsilon value"),
    ],
)
def test_invalid_arguments(kw, msg):
    p = ctorch.zeros(2, requires_grad=True)
    for cls in (optim.RAdam, optim.NAdam, optim.Adamax):
        with pytest.raises(ValueError, match=msg):
            cls([p], **kw)
    with pytest.raises(ValueError, match="Invalid eta values"):
        optim.Rprop([p], etas=(1.5, 1.2))


def test_sparse_adam_rejects_dense_gradients_like_torch():
    for lib in (ctorch, torch):
        emb = lib.nn.Embedding(10, 3, sparse=lib is torch)
        opt = lib.optim.SparseAdam(list(emb.parameters()), lr=0.1)
        assert opt.defaults["betas"] == (0.9, 0.999)
        emb(lib.tensor([1, 2])).sum().backward()
        if lib is torch:
            opt.step()  # sparse gradient: fine
            emb.weight.grad = emb.weight.grad.to_dense()
        with pytest.raises(RuntimeError, match="does not support dense gradients"):
            opt.step()
        with pytest.raises(ValueError, match="Invalid epsilon"):
            lib.optim.SparseAdam(list(emb.parameters()), eps=0.0)


# ------------------------------------------------------------------------- hooks
def test_step_pre_and_post_hooks_order_and_removal():
    p = ctorch.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt, a, k)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt, a, k)))
    p.grad = ctorch.ones(3)
    opt.step()
    assert calls == [("pre", True, (), {}), ("post", True, (), {})]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(calls) == 2


def test_step_hook_runs_once_for_subclass_calling_super():
    class MyAdam(optim.AdamW):
        def step(self, closure=None):
            return super().step(closure)

    p = ctorch.ones(3, requires_grad=True)
    opt = MyAdam([p])
    n = []
    opt.register_step_pre_hook(lambda *a: n.append("pre"))
    opt.register_step_post_hook(lambda *a: n.append("post"))
    p.grad = ctorch.ones(3)
    opt.step()
    assert n == ["pre", "post"]


def test_step_pre_hook_can_replace_arguments_and_global_hooks():
    from ctorch.optim.optimizer import (
        register_optimizer_step_post_hook,
        register_optimizer_step_pre_hook,
    )

    p = ctorch.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ctorch.ones(1)
    seen = []

    def closure():
        seen.append("closure")
        return ctorch.tensor(3.0)

    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": closure}))
    g1 = register_optimizer_step_pre_hook(lambda o, a, k: seen.append("gpre"))
    g2 = register_optimizer_step_post_hook(lambda o, a, k: seen.append(("gpost", k)))
    try:
        loss = opt.step()
    finally:
        g1.remove()
        g2.remove()
    assert float(loss) == 3.0
    assert seen == ["gpre", "closure", ("gpost", {"closure": closure})]
    opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_state_dict_hooks_match_torch():
    def run(lib):
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        log = []
        opt.register_state_dict_pre_hook(lambda o: log.append("pre"))

        def post(o, sd):
            log.append("post")
            sd["extra"] = 1
            return sd

        opt.register_state_dict_post_hook(post)
        opt.register_state_dict_post_hook(lambda o, sd: log.append("first"), prepend=True)

        def lpre(o, sd):
            log.append(("lpre", sd.get("extra")))
            sd = dict(sd)
            sd["param_groups"] = [dict(sd["param_groups"][0], lr=0.5)]
            return sd

        opt.register_load_state_dict_pre_hook(lpre)
        opt.register_load_state_dict_post_hook(
            lambda o: log.append(("lpost", o.param_groups[0]["lr"]))
        )
        p.grad = lib.ones(2)
        opt.step()
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        return log, sd["extra"], opt.param_groups[0]["lr"]

    assert run(ctorch) == run(torch)


# ------------------------------------------------------------------------- CyclicLR
CYCLIC = [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9),
    dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=2, scale_fn=lambda x: 0.5**x),
    dict(
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=2,
        scale_fn=lambda x: 1 / (1 + x),
        scale_mode="iterations",
        base_momentum=0.5,
        max_momentum=0.95,
    ),
]


@pytest.mark.parametrize("kw", CYCLIC)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_cycliclr_matches_torch(kw, opt_name):
    def run(lib):
        a = lib.zeros(2, requires_grad=True)
        b = lib.zeros(2, requires_grad=True)
        okw = {"momentum": 0.9} if opt_name == "SGD" else {}
        opt = getattr(lib.optim, opt_name)([{"params": [a]}, {"params": [b]}], lr=1.0, **okw)
        sch = lib.optim.lr_scheduler.CyclicLR(opt, **kw)
        lrs, moms = [], []
        for _ in range(25):
            opt.step()
            sch.step()
            lrs.append(sch.get_last_lr())
            g = opt.param_groups[0]
            moms.append(g["momentum"] if opt_name == "SGD" else g["betas"][0])
        return np.array(lrs), np.array(moms), sch.state_dict()

    l1, m1, sd1 = run(ctorch)
    l2, m2, sd2 = run(torch)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(m1, m2, rtol=1e-12)
    assert set(sd1) >= {"base_lrs", "max_lrs", "last_epoch", "total_size", "step_ratio"}
    assert "_scale_fn_ref" not in sd1


def test_cycliclr_state_dict_resumes_and_errors():
    p = ctorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    sch = optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, step_size_up=3, mode="triangular2")
    for _ in range(5):
        sch.step()
    sd = sch.state_dict()
    opt2 = optim.SGD([p], lr=1.0, momentum=0.9)
    sch2 = optim.lr_scheduler.CyclicLR(opt2, 0.1, 1.0, step_size_up=3)
    sch2.load_state_dict(sd)
    sch.step()
    sch2.step()
    assert sch.get_last_lr() == sch2.get_last_lr()
    with pytest.raises(ValueError, match="mode is invalid"):
        optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, mode="nope")
    with pytest.raises(ValueError, match="momentum or beta1"):
        optim.lr_scheduler.CyclicLR(optim.Adagrad([p]), 0.1, 1.0)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_prefilled_singleton_step_state_like_a3c_shared_adam(name: str) -> None:
    """A3C's SharedAdam fills the state itself with ``step = zeros(1)`` (a shape-(1,)
    tensor, which torch accepts) before the first step; the counter is updated in place."""
    results = []
    for L in (torch, ctorch):
        p = L.nn.Parameter(L.tensor([1.0, -2.0, 3.0]))
        opt = getattr(L.optim, name)([p], lr=0.1)
        st = opt.state[p]
        step = st["step"] = L.zeros(1)
        if name == "RMSprop":
            st["square_avg"] = L.zeros_like(p.data)
        else:
            st["exp_avg"] = L.zeros_like(p.data)
            st["exp_avg_sq"] = L.zeros_like(p.data)
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        assert opt.state[p]["step"] is step and step.tolist() == [3.0]
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
