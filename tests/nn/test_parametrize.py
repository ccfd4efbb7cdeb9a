"""nn.utils.parametrize / parametrizations (weight_norm, spectral_norm, orthogonal), the legacy
weight_norm/spectral_norm hooks and utils.checkpoint, against torch where it applies."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch
import ctorch.nn as nn
from ctorch.nn.utils import parametrizations as P
from ctorch.nn.utils import parametrize
from ctorch.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _twin_linear(n_in=5, n_out=4, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    mc = nn.Linear(n_in, n_out).double()
    mt = torch.nn.Linear(n_in, n_out).double()
    mc.weight.data = ctorch.tensor(w)
    mc.bias.data = ctorch.tensor(b)
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(w))
        mt.bias.copy_(torch.tensor(b))
    return mc, mt


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


class TSymmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


def test_register_parametrization_state_dict_forward_and_grad_match_torch():
    mc, mt = _twin_linear(4, 4)
    parametrize.register_parametrization(mc, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(mt, "weight", TSymmetric())
    assert type(mc).__name__ == type(mt).__name__ == "ParametrizedLinear"
    assert isinstance(mc, nn.Linear)
    assert sorted(mc.state_dict()) == sorted(mt.state_dict())
    np.testing.assert_allclose(_np(mc.weight), _np(mt.weight))
    np.testing.assert_allclose(_np(mc.weight), _np(mc.weight).T)
    x = np.random.default_rng(1).standard_normal((3, 4))
    mc(ctorch.tensor(x)).sum().backward()
    mt(torch.tensor(x)).sum().backward()
    orig_c = mc.parametrizations.weight.original
    orig_t = mt.parametrizations.weight.original
    np.testing.assert_allclose(_np(orig_c.grad), orig_t.grad.numpy(), rtol=1e-12)
    # the original is still the module's parameter: an optimizer sees it
    assert any(p is orig_c for p in mc.parameters())
    assert parametrize.is_parametrized(mc) and parametrize.is_parametrized(mc, "weight")
    assert not parametrize.is_parametrized(mc, "bias")
    assert parametrize.type_before_parametrizations(mc) is nn.Linear
    # assignment goes through right_inverse
    a = np.arange(16.0).reshape(4, 4)
    mc.weight = ctorch.tensor(a + a.T)
    np.testing.assert_allclose(_np(mc.weight), a + a.T)


def test_parametrization_chain_cached_and_remove():
    calls = []

    class Scale(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 2

    m = nn.Linear(3, 3)
    w0 = _np(m.weight).copy()
    parametrize.register_parametrization(m, "weight", Scale(), unsafe=True)
    parametrize.register_parametrization(m, "weight", Scale(), unsafe=True)
    np.testing.assert_allclose(_np(m.weight), 4 * w0, rtol=1e-6)
    calls.clear()
    with parametrize.cached():
        a, b = m.weight, m.weight
    assert a is b
    assert len(calls) == 2  # one evaluation of the 2-long chain, then the cache
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(_np(m.weight), 4 * w0, rtol=1e-6)
    m2 = nn.Linear(3, 3)
    w2 = _np(m2.weight).copy()
    parametrize.register_parametrization(m2, "weight", Scale(), unsafe=True)
    parametrize.remove_parametrizations(m2, "weight", leave_parametrized=False)
    np.testing.assert_allclose(_np(m2.weight), w2)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(m2, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(m2, "nope", Scale())


def test_register_checks_shape_unless_unsafe():
    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Shrink(), unsafe=True)
    assert m.weight.shape == (1, 3)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    mc, mt = _twin_linear()
    P.weight_norm(mc, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(mt, dim=dim)
    sc, st = mc.state_dict(), mt.state_dict()
    assert sorted(sc) == sorted(st)
    for k in sc:
        np.testing.assert_allclose(_np(sc[k]), st[k].numpy(), rtol=1e-12, err_msg=k)
    x = np.random.default_rng(2).standard_normal((2, 5))
    yc, yt = mc(ctorch.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(_np(yc), yt.detach().numpy(), rtol=1e-12)
    (yc**2).sum().backward()
    (yt**2).sum().backward()
    for k in ("original0", "original1"):
        gc = getattr(mc.parametrizations.weight, k).grad
        gt = getattr(mt.parametrizations.weight, k).grad
        np.testing.assert_allclose(_np(gc), gt.numpy(), rtol=1e-10, err_msg=k)


def test_weight_norm_loads_legacy_state_dict_and_conv():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        legacy = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3))
    sd = {k: ctorch.tensor(v.detach().numpy()) for k, v in legacy.state_dict().items()}
    mc = P.weight_norm(nn.Conv2d(2, 3, 3))
    mc.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(
        _np(mc(ctorch.tensor(x))), legacy(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
def test_spectral_norm_matches_torch(kind):
    rng = np.random.default_rng(3)
    if kind == "linear":
        mc, mt = _twin_linear(6, 4)
        x = rng.standard_normal((2, 6))
    else:
        shape = (3, 2, 3, 3) if kind == "conv" else (2, 3, 3, 3)
        w = rng.standard_normal(shape)
        cls = "Conv2d" if kind == "conv" else "ConvTranspose2d"
        mc = getattr(nn, cls)(shape[1] if kind == "conv" else 2, 3, 3).double()
        mt = getattr(torch.nn, cls)(shape[1] if kind == "conv" else 2, 3, 3).double()
        mc.weight.data = ctorch.tensor(w)
        with torch.no_grad():
            mt.weight.copy_(torch.tensor(w))
            mt.bias.copy_(torch.tensor(_np(mc.bias)))
        x = rng.standard_normal((1, 2, 5, 5))
    P.spectral_norm(mc)
    torch.nn.utils.parametrizations.spectral_norm(mt)
    assert sorted(mc.state_dict()) == sorted(mt.state_dict())
    # same power-iteration start (random in both libraries)
    pc, pt = mc.parametrizations.weight[0], mt.parametrizations.weight[0]
    pc._u.copy_(ctorch.tensor(pt._u.numpy()))
    pc._v.copy_(ctorch.tensor(pt._v.numpy()))
    for train in (True, True, False):
        mc.train(train)
        mt.train(train)
        yc, yt = mc(ctorch.tensor(x)), mt(torch.tensor(x))
        np.testing.assert_allclose(_np(yc), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(pc._u), pt._u.numpy(), rtol=1e-10)
    (yc**2).sum().backward()
    (yt**2).sum().backward()
    np.testing.assert_allclose(
        _np(mc.parametrizations.weight.original.grad),
        mt.parametrizations.weight.original.grad.numpy(),
        rtol=1e-8,
        atol=1e-12,
    )
    # the parametrized weight's largest singular value is ~1
    w = _np(mc.weight)
    w = w if kind != "convT" else np.moveaxis(w, 1, 0)
    assert abs(np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0] - 1) < 0.2


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_is_orthogonal_and_trains(shape, omap):
    ctorch.manual_seed(0)
    m = nn.Linear(shape[1], shape[0]).double()
    P.orthogonal(m, orthogonal_map=omap)
    assert sorted(m.state_dict()) == [
        "bias",
        "parametrizations.weight.0.base",
        "parametrizations.weight.original",
    ]
    tm = torch.nn.utils.parametrizations.orthogonal(
        torch.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap
    )
    assert sorted(m.state_dict()) == sorted(tm.state_dict())
    np.testing.assert_allclose(
        _np(m.parametrizations.weight.original),
        tm.parametrizations.weight.original.detach().numpy(),
    )

    def check():
        w = _np(m.weight)
        g = w @ w.T if shape[0] <= shape[1] else w.T @ w
        np.testing.assert_allclose(g, np.eye(min(shape)), atol=1e-9)

    check()
    opt = ctorch.optim.SGD(m.parameters(), lr=0.1)
    w_before = _np(m.weight).copy()
    for _ in range(3):
        opt.zero_grad()
        m(ctorch.randn(7, shape[1], dtype=ctorch.float64)).pow(2).sum().backward()
        opt.step()
    check()
    assert not np.allclose(_np(m.weight), w_before)
    # assigning an orthogonal matrix sets it exactly
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((max(shape), min(shape))))[0]
    q = q if shape[0] >= shape[1] else q.T
    m.weight = ctorch.tensor(q)
    np.testing.assert_allclose(_np(m.weight), q, atol=1e-9)


def test_legacy_weight_norm_and_spectral_norm_match_torch():
    mc, mt = _twin_linear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(mc)
        torch.nn.utils.weight_norm(mt)
    assert sorted(mc.state_dict()) == sorted(mt.state_dict()) == ["bias", "weight_g", "weight_v"]
    x = np.random.default_rng(4).standard_normal((2, 5))
    yc, yt = mc(ctorch.tensor(x)), mt(torch.tensor(x))
    np.testing.assert_allclose(_np(yc), yt.detach().numpy(), rtol=1e-12)
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(_np(mc.weight_g.grad), mt.weight_g.grad.numpy(), rtol=1e-10)
    nn.utils.remove_weight_norm(mc)
    assert sorted(mc.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(mc(ctorch.tensor(x))), yt.detach().numpy(), rtol=1e-12)

    mc, mt = _twin_linear()
    nn.utils.spectral_norm(mc)
    torch.nn.utils.spectral_norm(mt)
    assert sorted(mc.state_dict()) == sorted(mt.state_dict())
    mc.weight_u.copy_(ctorch.tensor(mt.weight_u.numpy()))
    mc.weight_v.copy_(ctorch.tensor(mt.weight_v.numpy()))
    for _ in range(2):
        yc, yt = mc(ctorch.tensor(x)), mt(torch.tensor(x))
        np.testing.assert_allclose(_np(yc), yt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(mc.weight_u), mt.weight_u.numpy(), rtol=1e-10)
    nn.utils.remove_spectral_norm(mc)
    assert sorted(mc.state_dict()) == ["bias", "weight"]


# ------------------------------------------------------------------------------ checkpoint
def _model():
    ctorch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 16), nn.Dropout(0.3), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)
    )


def _grads(m):
    return [_np(p.grad).copy() for p in m.parameters()]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_recomputes_with_same_rng_and_gradients(use_reentrant):
    m = _model()
    x = ctorch.randn(4, 6, requires_grad=True)
    ctorch.manual_seed(11)
    y_ref = m(x)
    y_ref.pow(2).sum().backward()
    g_ref, gx_ref = _grads(m), _np(x.grad).copy()
    m.zero_grad()
    x.grad = None
    calls = []
    ctorch.manual_seed(11)

    def fn(t):
        calls.append(1)
        return m(t)

    y = checkpoint(fn, x, use_reentrant=use_reentrant)
    np.testing.assert_array_equal(_np(y), _np(y_ref))  # same dropout mask
    n_fwd = len(calls)
    y.pow(2).sum().backward()
    assert len(calls) == n_fwd + 1  # recomputed once in backward
    for a, b in zip(_grads(m), g_ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(x.grad), gx_ref, rtol=1e-6, atol=1e-7)


def test_checkpoint_no_grad_input_kwargs_and_autograd_grad():
    m = _model()
    x = ctorch.randn(4, 6)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
        y = checkpoint(m, x, use_reentrant=True)
    assert not y.requires_grad  # as torch: nothing to differentiate through
    y = checkpoint(m, x, use_reentrant=False)
    y.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    g = ctorch.autograd.grad(checkpoint(m, x, use_reentrant=False).sum(), [m[0].weight])
    assert g[0].shape == m[0].weight.shape

    def fn(a, scale=1.0):
        return m(a) * scale

    m.zero_grad()
    checkpoint(fn, x, use_reentrant=False, scale=2.0).sum().backward()
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        checkpoint(fn, x, use_reentrant=True, scale=2.0)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        checkpoint(m, x.requires_grad_(True))


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential_matches_plain_run(use_reentrant):
    m = _model()
    m.eval()
    x = ctorch.randn(5, 6, requires_grad=True)
    m(x).sum().backward()
    g_ref = _grads(m)
    m.zero_grad()
    y = checkpoint_sequential(m, 3, x, use_reentrant=use_reentrant)
    y.sum().backward()
    for a, b in zip(_grads(m), g_ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_checkpoint_under_no_grad_builds_no_graph():
    m = _model()
    x = ctorch.randn(2, 6, requires_grad=True)
    for ur in (True, False):
        with ctorch.no_grad():
            y = checkpoint(m, x, use_reentrant=ur)
        assert not y.requires_grad and y.grad_fn is None


def test_checkpoint_importable_like_torch():
    import ctorch.utils.checkpoint as cp

    assert ctorch.utils.checkpoint.checkpoint is cp.checkpoint


def test_transfer_parametrizations_and_params_matches_torch():
    def run(lib):
        pz = lib.nn.utils.parametrize
        a = lib.nn.Linear(4, 3).double()
        lib.nn.utils.parametrizations.weight_norm(a)
        b = lib.nn.Linear(4, 3).double()
        pz.transfer_parametrizations_and_params(a, b)
        return a, b

    (ac, bc), (at, bt) = run(ctorch), run(torch)
    assert sorted(bc.state_dict()) == sorted(bt.state_dict())
    np.testing.assert_array_equal(_np(bc.weight), _np(ac.weight))
    assert bc.parametrizations.weight[0] is ac.parametrizations.weight[0]
    # the originals are shared with the source module, as torch
    for k in ("original0", "original1"):
        assert getattr(at.parametrizations.weight, k) is getattr(bt.parametrizations.weight, k)
        assert getattr(ac.parametrizations.weight, k) is getattr(bc.parametrizations.weight, k)
    assert bc.bias is not ac.bias


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
@pytest.mark.parametrize("omap", ["householder", "matrix_exp", "cayley"])
def test_orthogonal_maps_match_torch_given_the_same_base(shape, omap):
    mc = P.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap)
    mt = torch.nn.utils.parametrizations.orthogonal(
        torch.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap
    )
    # the completion of a non-square base is random in both libraries: share torch's
    mc.parametrizations.weight[0].base = ctorch.tensor(
        mt.parametrizations.weight[0].base.detach().numpy()
    )
    X = np.random.default_rng(0).standard_normal(shape) * 0.3
    r = np.arange(min(shape))
    X[r, r] = np.sign(X[r, r]) * 1.2  # householder reads the diagonal's signs
    mc.parametrizations.weight.original.data = ctorch.tensor(X)
    with torch.no_grad():
        mt.parametrizations.weight.original.copy_(torch.tensor(X))
    wc, wt = mc.weight, mt.weight
    np.testing.assert_allclose(_np(wc), wt.detach().numpy(), atol=1e-12)
    (wc**3).sum().backward()
    (wt**3).sum().backward()
    np.testing.assert_allclose(
        _np(mc.parametrizations.weight.original.grad),
        mt.parametrizations.weight.original.grad.numpy(),
        atol=1e-12,
    )


def test_orthogonal_default_map_and_unsupported():
    m = P.orthogonal(nn.Linear(3, 5))
    assert m.parametrizations.weight[0].orthogonal_map == "householder"
    assert P.orthogonal(nn.Linear(4, 4)).parametrizations.weight[0].orthogonal_map == "matrix_exp"
    with pytest.raises(NotImplementedError, match="geqrf"):
        P.orthogonal(nn.Linear(3, 5), orthogonal_map="householder", use_trivialization=False)
    with pytest.raises(ValueError, match="Expected a matrix"):
        P.orthogonal(nn.Linear(3, 5), name="bias")
