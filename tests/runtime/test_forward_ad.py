"""autograd.forward_ad: dual tensors. Tangents of common ops against float64 central finite
differences (always) and torch's forward AD (when installed); grad-mode, level and error
behaviour as torch."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
import ctorch.autograd.forward_ad as fwAD

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
V = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 5))
IMG = RNG.standard_normal((2, 3, 6, 6))
VIMG = RNG.standard_normal((2, 3, 6, 6))
K = RNG.standard_normal((4, 3, 3, 3))

# name -> (f(lib, x, consts), primal array, tangent array)
CASES = {
    "sin_exp": (lambda L, x: L.sin(x) * L.exp(x), X, V),
    "tanh_sigmoid": (lambda L, x: L.tanh(x) + L.sigmoid(x) ** 2, X, V),
    "log_sqrt": (lambda L, x: L.log(x.abs() + 1) + L.sqrt(x * x + 1), X, V),
    "div_pow_broadcast": (lambda L, x: x / (x[:1] ** 2 + 2) + x.pow(3), X, V),
    "matmul": (lambda L, x: x @ L.from_numpy(W), X, V),
    "linear_relu": (
        lambda L, x: L.nn.functional.relu(L.nn.functional.linear(x, L.from_numpy(W.T.copy()))),
        X,
        V,
    ),
    "softmax": (lambda L, x: L.softmax(x, dim=-1), X, V),
    "log_softmax": (lambda L, x: L.nn.functional.log_softmax(x, dim=0), X, V),
    "layer_norm": (lambda L, x: L.nn.functional.layer_norm(x, (4,)), X, V),
    "gelu_silu": (lambda L, x: L.nn.functional.gelu(x) * L.nn.functional.silu(x), X, V),
    "reductions": (lambda L, x: L.stack([x.sum(), x.mean(), x.norm(), x.amax()]), X, V),
    "logsumexp_var": (lambda L, x: x.logsumexp(1) + x.var(0).sum(), X, V),
    "views_index": (lambda L, x: x.t().reshape(2, 6)[:, ::2] * x.flatten()[3], X, V),
    "cat_where": (lambda L, x: L.cat([L.where(x > 0, x, -2 * x), x[:, :1]], 1), X, V),
    "cumsum_sort": (lambda L, x: x.cumsum(1) + x.sort(dim=1).values, X, V),
    "conv2d": (lambda L, x: L.nn.functional.conv2d(x, L.from_numpy(K), padding=1), IMG, VIMG),
    # losses (scalar: one backward pass; per-sample: the adjoint check catches backward
    # formulas that are not differentiable and computes the rows one by one)
    "cross_entropy": (lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 3, 1])), X, V),
    "nll_none": (
        lambda L, x: L.nn.functional.nll_loss(x, L.tensor([2, 0, 1]), reduction="none"),
        X,
        V,
    ),
    "bce_plus_sin": (
        lambda L, x: (
            L.nn.functional.binary_cross_entropy(
                L.sigmoid(x), L.from_numpy((X > 0).astype(np.float64)), reduction="none"
            )
            + x.sin()
        ),
        X,
        V,
    ),
    "mse_smooth_l1": (
        lambda L, x: (
            L.nn.functional.mse_loss(x, L.zeros_like(x))
            + L.nn.functional.smooth_l1_loss(x, L.ones_like(x), reduction="sum")
        ),
        X,
        V,
    ),
    "round_sign": (lambda L, x: L.round(x * 3) + L.sign(x) * x, X, V),
    "pool_bn": (
        lambda L, x: L.nn.functional.batch_norm(
            L.nn.functional.max_pool2d(x, 2), None, None, training=True
        ),
        IMG,
        VIMG,
    ),
}


def _ours(f, x, v):
    with fwAD.dual_level():
        d = fwAD.make_dual(ctorch.from_numpy(x.copy()), ctorch.from_numpy(v.copy()))
        p, t = fwAD.unpack_dual(f(ctorch, d))
    return p.numpy(), t.numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_matches_finite_differences(name):
    f, x, v = CASES[name]
    p, t = _ours(f, x, v)
    eps = 1e-6
    plus = f(ctorch, ctorch.from_numpy(x + eps * v)).numpy()
    minus = f(ctorch, ctorch.from_numpy(x - eps * v)).numpy()
    np.testing.assert_allclose(p, f(ctorch, ctorch.from_numpy(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(t, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_matches_torch(name):
    if torch is None:
        pytest.skip("torch not installed")
    import torch.autograd.forward_ad as tfwAD

    f, x, v = CASES[name]
    p, t = _ours(f, x, v)
    with tfwAD.dual_level():
        d = tfwAD.make_dual(torch.from_numpy(x.copy()), torch.from_numpy(v.copy()))
        tp, tt = tfwAD.unpack_dual(f(torch, d))
    np.testing.assert_allclose(p, tp.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t, tt.numpy(), rtol=1e-10, atol=1e-12)


def _module_jvp(lib):
    """The way real code uses it: a model's JVP in its inputs, then a loss on the tangent
    backpropagated to the parameters."""
    fw = __import__(lib.__name__ + ".autograd.forward_ad", fromlist=["x"])
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(), lib.nn.Linear(6, 2)).double()
    with lib.no_grad():
        for i, prm in enumerate(model.parameters()):
            prm.copy_(lib.from_numpy(np.cos(np.arange(prm.numel()) + i).reshape(prm.shape)))
    with fw.dual_level():
        d = fw.make_dual(lib.from_numpy(X.copy()), lib.from_numpy(V.copy()))
        primal, tangent = fw.unpack_dual(model(d))
        flags = (primal.requires_grad, tangent.requires_grad)
        (tangent**2).sum().backward()
    grads = [None if prm.grad is None else prm.grad.numpy() for prm in model.parameters()]
    return flags, primal.detach().numpy(), tangent.detach().numpy(), grads


def test_tangent_backpropagates_to_parameters():
    flags, p, t, grads = _module_jvp(ctorch)
    assert flags == (True, True)
    # the tangent does not depend on the last bias (its derivative in x is 0)
    assert grads[3] is None and all(np.abs(g).sum() > 0 for g in grads[:3])
    if torch is not None:
        tflags, tp, tt, tgrads = _module_jvp(torch)
        assert flags == tflags
        np.testing.assert_allclose(p, tp, rtol=1e-12)
        np.testing.assert_allclose(t, tt, rtol=1e-10)
        assert tgrads[3] is None
        for g, tg in zip(grads[:3], tgrads[:3], strict=True):
            np.testing.assert_allclose(g, tg, rtol=1e-9, atol=1e-12)


def test_primal_requiring_grad_gets_gradient_through_dual():
    x = ctorch.from_numpy(X.copy()).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ctorch.from_numpy(V.copy()))
        p, t = fwAD.unpack_dual((d * d).sum())
        assert p.requires_grad and t.requires_grad
        t.backward()  # t = sum(2 x v): d t / d x = 2 v
    np.testing.assert_allclose(x.grad.numpy(), 2 * V)


def test_no_grad_outside_and_level_lifetime():
    x, v = ctorch.from_numpy(X.copy()), ctorch.from_numpy(V.copy())
    with ctorch.no_grad():
        with fwAD.dual_level():
            d = fwAD.make_dual(x, v)
            y = (d * d).sum(1)
            p, t = fwAD.unpack_dual(y)
            assert not p.requires_grad and not t.requires_grad
            np.testing.assert_allclose(t.numpy(), (2 * X * V).sum(1))
            np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(), V)
        assert not ctorch.is_grad_enabled()
    assert fwAD.unpack_dual(y).tangent is None  # the level is gone
    with fwAD.dual_level():
        assert fwAD.unpack_dual(ctorch.ones(2)).tangent is None
        # an output that does not depend on the dual: zero tangent is not None in torch only
        # when it is computed from the dual; here it is a constant
        unused = fwAD.make_dual(ctorch.ones(2), ctorch.ones(2))
        other = ctorch.ones(2, requires_grad=True) * 3
        assert fwAD.unpack_dual(other).tangent is None
        del unused


def test_errors_match_torch():
    x = ctorch.ones(3)
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, ctorch.ones(3))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(x, ctorch.ones(4))
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="floating point"):
            fwAD.make_dual(ctorch.ones(3, dtype=ctorch.int64), ctorch.ones(3))
        d = fwAD.make_dual(x, ctorch.ones(3, dtype=ctorch.float64))
        assert fwAD.unpack_dual(d).tangent.dtype == ctorch.float32
    with pytest.raises(RuntimeError, match="positive number"):
        fwAD.exit_dual_level()


def test_unpacked_dual_is_a_namedtuple():
    with fwAD.dual_level():
        d = fwAD.make_dual(ctorch.ones(2), ctorch.full((2,), 3.0))
        u = fwAD.unpack_dual(d * 2)
        assert isinstance(u, fwAD.UnpackedDualTensor)
        assert u.primal is u[0] and u.tangent is u[1]
        np.testing.assert_array_equal(u.tangent.numpy(), [6.0, 6.0])


def test_large_output_through_twice_differentiable_loss():
    """A large output takes the double-backward route: binary_cross_entropy's backward is
    differentiable (issue #14's loss work), so the per-element tangent is exact."""
    big = np.linspace(-1, 1, 5000)
    with fwAD.dual_level():
        d = fwAD.make_dual(ctorch.from_numpy(big), ctorch.ones(5000, dtype=ctorch.float64))
        y = ctorch.nn.functional.binary_cross_entropy(
            ctorch.sigmoid(d), ctorch.ones(5000, dtype=ctorch.float64), reduction="none"
        )
        per = fwAD.unpack_dual(y).tangent
        t = fwAD.unpack_dual(y.sum()).tangent
    ref = -(1 - 1 / (1 + np.exp(-big)))  # d/dx -log(sigmoid(x))
    np.testing.assert_allclose(per.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(t.item(), ref.sum(), rtol=1e-10)
    if torch is not None:
        with torch.autograd.forward_ad.dual_level():
            dt = torch.autograd.forward_ad.make_dual(
                torch.from_numpy(big), torch.ones(5000, dtype=torch.float64)
            )
            yt = torch.nn.functional.binary_cross_entropy(
                torch.sigmoid(dt), torch.ones(5000, dtype=torch.float64), reduction="none"
            )
            theirs = torch.autograd.forward_ad.unpack_dual(yt).tangent.numpy()
        np.testing.assert_allclose(per.numpy(), theirs, rtol=1e-10)


def test_large_output_through_non_differentiable_backward_raises():
    """cdist's backward is not differentiable (torch refuses forward AD through it too): a
    large output, which needs the double-backward route, raises rather than giving zeros."""
    a = ctorch.from_numpy(np.linspace(-1, 1, 300).reshape(100, 3))
    b = ctorch.from_numpy(np.linspace(0, 2, 150).reshape(50, 3))
    with fwAD.dual_level():
        d = fwAD.make_dual(a, ctorch.ones_like(a))
        y = ctorch.cdist(d, b)
        with pytest.raises(NotImplementedError, match="cdist"):
            fwAD.unpack_dual(y)
