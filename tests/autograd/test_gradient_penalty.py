"""Second-order training paths vs torch (issues #14, #15): WGAN-GP gradient penalty on an MLP
and a conv critic, and Hessians of cross_entropy (autograd.functional / func)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1)
    )


def _conv(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(4, 4, 3, stride=2),
        nn.SiLU(),
        nn.Flatten(),
        nn.LayerNorm(16),
        nn.Linear(16, 1),
    )


def _copy_params(src, dst):
    for (n1, p1), (n2, p2) in zip(src.named_parameters(), dst.named_parameters(), strict=True):
        assert n1 == n2
        with ctorch.no_grad():
            p2.copy_(ctorch.from_numpy(p1.detach().numpy().copy()))


def _gp_step(lib, critic, real, fake, eps, lam=10.0):
    real, fake = lib.from_numpy(real.copy()), lib.from_numpy(fake.copy())
    e = lib.from_numpy(eps.copy())
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
    (g,) = lib.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    gp = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + lam * gp
    critic.zero_grad()
    loss.backward()
    return float(loss.detach()), {
        n: p.grad.detach().numpy().copy() for n, p in critic.named_parameters()
    }


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_wgan_gp_parameter_gradients_match_torch(kind):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    make = _mlp if kind == "mlp" else _conv
    tc = make(torch).double()
    cc = make(ctorch).double()
    _copy_params(tc, cc)
    shape = (5, 6) if kind == "mlp" else (3, 2, 5, 5)
    eshape = (5, 1) if kind == "mlp" else (3, 1, 1, 1)
    topt = torch.optim.SGD(tc.parameters(), lr=0.05)
    copt = ctorch.optim.SGD(cc.parameters(), lr=0.05)
    for _ in range(3):  # a few training steps: the parameters stay in lockstep
        real, fake = rng.standard_normal(shape), rng.standard_normal(shape)
        eps = rng.uniform(size=eshape)
        tl, tg = _gp_step(torch, tc, real, fake, eps)
        cl, cg = _gp_step(ctorch, cc, real, fake, eps)
        assert cl == pytest.approx(tl, rel=1e-10)
        assert tg.keys() == cg.keys()
        for n in tg:
            np.testing.assert_allclose(cg[n], tg[n], rtol=1e-8, atol=1e-12, err_msg=n)
        topt.step()
        copt.step()


def _ce_inputs(rng):
    return rng.standard_normal((3, 4)), np.array([0, 3, 1], np.int64)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_hessian_of_cross_entropy_matches_torch(reduction, smoothing):
    x, t = _ce_inputs(np.random.default_rng(1))
    w = np.array([0.5, 1.0, 2.0, 0.7])

    def run(lib):
        tt, ww = lib.from_numpy(t.copy()), lib.from_numpy(w.copy())

        def f(a):
            return lib.nn.functional.cross_entropy(
                a, tt, weight=ww, reduction=reduction, label_smoothing=smoothing
            )

        return lib.autograd.functional.hessian(f, lib.from_numpy(x.copy())).numpy()

    h_t, h_c = run(torch), run(ctorch)
    assert h_c.shape == (3, 4, 3, 4)
    np.testing.assert_allclose(h_c, h_t, rtol=1e-9, atol=1e-12)
    assert np.abs(h_c).max() > 1e-3  # not the zero Hessian of a constant gradient


def test_func_hessian_and_hvp_of_cross_entropy_match_torch():
    x, t = _ce_inputs(np.random.default_rng(2))
    v = np.random.default_rng(3).standard_normal(x.shape)
    res = {}
    for lib in (torch, ctorch):
        tt = lib.from_numpy(t.copy())

        def f(a, lib=lib, tt=tt):
            return lib.nn.functional.cross_entropy(a, tt)

        xa, va = lib.from_numpy(x.copy()), lib.from_numpy(v.copy())
        h = lib.func.hessian(f)(xa)
        _, hv = lib.autograd.functional.hvp(f, xa, va)
        res[lib.__name__] = (h.detach().numpy(), hv.detach().numpy())
    for a, b in zip(res["ctorch"], res["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


_FWD_CASES = {
    "cross_entropy": lambda lib, a: lib.nn.functional.cross_entropy(
        a, lib.tensor([0, 3, 1]), label_smoothing=0.1
    ),
    "nll_loss": lambda lib, a: lib.nn.functional.nll_loss(a, lib.tensor([0, 3, 1])),
    "mse_loss": lambda lib, a: lib.nn.functional.mse_loss(
        a, lib.full((3, 4), 0.5, dtype=lib.float64)
    ),
    "binary_cross_entropy": lambda lib, a: lib.nn.functional.binary_cross_entropy(
        a.sigmoid(), lib.full((3, 4), 0.3, dtype=lib.float64)
    ),
    "sdpa": lambda lib, a: lib.nn.functional.scaled_dot_product_attention(
        a[None], a[None] * 0.5, a[None].flip(-1)
    ),
}


@pytest.mark.parametrize("name", sorted(_FWD_CASES))
def test_forward_ad_and_jacfwd_through_fixed_ops_match_torch(name):
    """forward AD (ctorch computes JVPs through double vjp) and jacfwd(grad) of the ops whose
    backward used to be a constant under create_graph."""
    fn = _FWD_CASES[name]
    x = np.random.default_rng(4).standard_normal((3, 4))
    v = np.random.default_rng(5).standard_normal((3, 4))
    res = {}
    for lib in (torch, ctorch):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            d = fwAD.make_dual(lib.from_numpy(x.copy()), lib.from_numpy(v.copy()))
            tangent = fwAD.unpack_dual(fn(lib, d)).tangent.detach().numpy().copy()
        xa = lib.from_numpy(x.copy())
        if lib is ctorch:
            jac = ctorch.func.jacfwd(ctorch.func.grad(lambda a: fn(ctorch, a).sum()))(xa)
        else:  # torch's jacfwd(grad(mse_loss)) trips over its ZeroTensors: same Hessian
            jac = torch.autograd.functional.hessian(lambda a: fn(torch, a).sum(), xa)
        res[lib.__name__] = (tangent, jac.detach().numpy())
    for a, b in zip(res["ctorch"], res["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _maml_meta_grads(lib, params_np, xs, ys, xq, yq):
    """One MAML outer step: two inner SGD steps with create_graph (cross_entropy), then the
    query loss's gradient w.r.t. the initial parameters."""
    F = lib.nn.functional
    params = [lib.from_numpy(p.copy()).requires_grad_(True) for p in params_np]

    def net(ps, x):
        w1, b1, w2, b2 = ps
        return F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)

    fast = params
    for _ in range(2):
        loss = F.cross_entropy(net(fast, lib.from_numpy(xs)), lib.from_numpy(ys))
        grads = lib.autograd.grad(loss, fast, create_graph=True)
        fast = [p - 0.4 * g for p, g in zip(fast, grads, strict=True)]
    q = F.cross_entropy(net(fast, lib.from_numpy(xq)), lib.from_numpy(yq), label_smoothing=0.1)
    q = q + 0.1 * F.mse_loss(
        net(fast, lib.from_numpy(xq)).softmax(1), lib.full((6, 3), 1 / 3.0, dtype=lib.float64)
    )
    return float(q.detach()), [g.numpy() for g in lib.autograd.grad(q, params)]


def test_maml_meta_gradients_match_torch():
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(s) * 0.5 for s in ((8, 4), (8,), (3, 8), (3,))]
    xs, xq = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    ys, yq = rng.integers(0, 3, 6), rng.integers(0, 3, 6)
    tq, tg = _maml_meta_grads(torch, params, xs, ys, xq, yq)
    cq, cg = _maml_meta_grads(ctorch, params, xs, ys, xq, yq)
    assert cq == pytest.approx(tq, rel=1e-12)
    for a, b in zip(cg, tg, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
