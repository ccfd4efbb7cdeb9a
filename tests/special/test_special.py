"""ctorch.special against torch.special: values and dtypes on a grid (float32/float64,
integer inputs), special values (0, -0, +-inf, NaN, poles), gradients (float64 finite
differences and torch's), the top-level aliases and Tensor methods."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)

# name: (domain low, high)
UNARY = {
    "airy_ai": (-5, 3),
    "bessel_j0": (-8, 8),
    "bessel_j1": (-8, 8),
    "bessel_y0": (0.1, 8),
    "bessel_y1": (0.1, 8),
    "digamma": (-3.3, 4),
    "psi": (0.1, 4),
    "entr": (0.01, 3),
    "erf": (-3, 3),
    "erfc": (-3, 3),
    "erfcx": (-3, 8),
    "erfinv": (-0.99, 0.99),
    "exp2": (-3, 3),
    "expit": (-5, 5),
    "expm1": (-3, 3),
    "gammaln": (-3.3, 6),
    "i0": (-5, 5),
    "i0e": (-5, 5),
    "i1": (-5, 5),
    "i1e": (-5, 5),
    "log1p": (-0.9, 3),
    "log_ndtr": (-10, 5),
    "logit": (0.01, 0.99),
    "modified_bessel_i0": (-5, 5),
    "modified_bessel_i1": (-5, 5),
    "modified_bessel_k0": (0.1, 5),
    "modified_bessel_k1": (0.1, 5),
    "ndtr": (-4, 4),
    "ndtri": (0.01, 0.99),
    "scaled_modified_bessel_k0": (0.1, 5),
    "scaled_modified_bessel_k1": (0.1, 5),
    "sinc": (-3, 3),
    "spherical_bessel_j0": (-8, 8),
}
# torch defines no gradient for these (their results do not require grad)
NO_GRAD = {
    "airy_ai",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "spherical_bessel_j0",
}
# torch's double-precision Bessel and Airy functions use single-precision-grade Cephes
# approximations (~1e-7 relative); SciPy's are accurate to double precision
LOOSE64 = {n: 1e-5 for n in ("airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1")}
SPECIAL_VALUES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.5, 0.5, math.inf, -math.inf, math.nan, 1e-30, 30.0]
# values where torch 2.13 itself returns something other than the function's limit (bugs or
# documented quirks); ctorch returns SciPy's (mathematically right) value there
TORCH_QUIRKS = {
    ("airy_ai", math.inf),  # torch: nan, Ai(inf) = 0
    ("bessel_j0", math.inf),  # torch: nan, limit 0
    ("bessel_j0", -math.inf),
    ("bessel_j1", math.inf),
    ("bessel_j1", -math.inf),
    ("i1", math.inf),  # torch: nan, limit inf
    ("i1", -math.inf),
    ("modified_bessel_i1", math.inf),
    ("modified_bessel_i1", -math.inf),
    ("i0", -math.inf),
    ("modified_bessel_i0", -math.inf),
    ("modified_bessel_i0", math.inf),
    ("airy_ai", -math.inf),
    ("digamma", -1.0),  # pole
    ("psi", -1.0),
    ("digamma", -2.5),
    ("psi", -2.5),
}


def _t(lib, a, rg=False):
    t = lib.from_numpy(np.array(a, copy=True))
    return t.requires_grad_() if rg else t


def _fn(lib, name):
    return getattr(lib.special, name)


def _close(c, t, tol):
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (c.dtype, t.dtype)
    np.testing.assert_allclose(
        c.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol, equal_nan=True
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_match_torch(name, dtype):
    lo, hi = UNARY[name]
    a = RNG.uniform(lo, hi, size=(3, 17)).astype(dtype)
    tol = 2e-5 if dtype == np.float32 else LOOSE64.get(name, 1e-10)
    _close(_fn(ctorch, name)(_t(ctorch, a)), _fn(torch, name)(_t(torch, a)), tol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values_match_torch(name):
    vals = [v for v in SPECIAL_VALUES if (name, v) not in TORCH_QUIRKS]
    a = np.array(vals, dtype=np.float64)
    c = _fn(ctorch, name)(_t(ctorch, a)).numpy()
    t = _fn(torch, name)(_t(torch, a)).numpy()
    np.testing.assert_allclose(c, t, rtol=LOOSE64.get(name, 1e-9), atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in ("logit", "ndtri")))
def test_integer_input_gives_default_dtype(name):
    a = np.array([1, 2, 3], dtype=np.int64)
    _close(_fn(ctorch, name)(_t(ctorch, a)), _fn(torch, name)(_t(torch, a)), 2e-5)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in NO_GRAD))
def test_unary_gradients(name):
    lo, hi = UNARY[name]
    a = RNG.uniform(lo, hi, size=(2, 5))
    x = _t(ctorch, a, rg=True)
    assert ctorch.autograd.gradcheck(_fn(ctorch, name), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    xc, xt = _t(ctorch, a, rg=True), _t(torch, a, rg=True)
    g = RNG.standard_normal(a.shape)
    (_fn(ctorch, name)(xc) * ctorch.from_numpy(g)).sum().backward()
    (_fn(torch, name)(xt) * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(NO_GRAD))
def test_no_gradient_functions_do_not_require_grad(name):
    x = ctorch.tensor([0.5, 1.5], dtype=ctorch.float64, requires_grad=True)
    assert not _fn(ctorch, name)(x).requires_grad
    assert not _fn(torch, name)(torch.tensor([0.5, 1.5], requires_grad=True)).requires_grad


def test_gradient_at_zero_matches_torch():
    for name in ("i1", "i1e", "sinc", "i0e"):
        xc = ctorch.tensor([0.0], dtype=ctorch.float64, requires_grad=True)
        xt = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
        _fn(ctorch, name)(xc).sum().backward()
        _fn(torch, name)(xt).sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), err_msg=name)


def test_double_backward_digamma_polygamma():
    x = ctorch.tensor([0.7, 2.5], dtype=ctorch.float64, requires_grad=True)
    xt = torch.tensor([0.7, 2.5], dtype=torch.float64, requires_grad=True)
    for lib, v in ((ctorch, x), (torch, xt)):
        (g,) = lib.autograd.grad(lib.special.gammaln(v).sum(), v, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), v)
        v.gg = gg
    np.testing.assert_allclose(x.gg.numpy(), xt.gg.numpy(), rtol=1e-8)


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_polygamma(n):
    a = RNG.uniform(0.2, 4, size=7)
    _close(
        ctorch.special.polygamma(n, _t(ctorch, a)), torch.special.polygamma(n, _t(torch, a)), 1e-9
    )
    x = _t(ctorch, a, rg=True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.special.polygamma(n, v), (x,), atol=1e-4)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_multigammaln(p):
    a = RNG.uniform(1.6, 5, size=7)
    _close(
        ctorch.special.multigammaln(_t(ctorch, a), p),
        torch.special.multigammaln(_t(torch, a), p),
        1e-10,
    )
    x = _t(ctorch, a, rg=True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.special.multigammaln(v, p), (x,))
    # below (p - 1) / 2 torch 2.13 no longer raises: sum log|Gamma|, inf at the poles
    low = np.array([0.1, 0.5, -1.0])
    _close(
        ctorch.special.multigammaln(_t(ctorch, low), p),
        torch.special.multigammaln(_t(torch, low), p),
        1e-10,
    )


BINARY = {
    # name: (domain of x, domain of y, differentiable inputs)
    "xlogy": ((-2, 2), (0.1, 3), (0, 1)),
    "xlog1py": ((-2, 2), (-0.9, 3), (0, 1)),
    "zeta": ((1.1, 5), (0.2, 3), (1,)),
    "gammainc": ((0.2, 4), (0.1, 5), (1,)),
    "gammaincc": ((0.2, 4), (0.1, 5), (1,)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_match_torch(name, dtype):
    (xl, xh), (yl, yh), _ = BINARY[name]
    x = RNG.uniform(xl, xh, size=(3, 4)).astype(dtype)
    y = RNG.uniform(yl, yh, size=(4,)).astype(dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    f = _fn(ctorch, name)
    ft = _fn(torch, name)
    _close(f(_t(ctorch, x), _t(ctorch, y)), ft(_t(torch, x), _t(torch, y)), tol)
    if name.startswith("gammainc"):  # torch takes no Python scalars there
        return
    # Python scalars on either side keep the tensor's dtype
    _close(f(_t(ctorch, x), 1.5), ft(_t(torch, x), 1.5), tol)
    _close(f(2.5, _t(ctorch, y)), ft(2.5, _t(torch, y)), tol)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients(name):
    (xl, xh), (yl, yh), diff = BINARY[name]
    x = RNG.uniform(xl, xh, size=(3, 4))
    y = RNG.uniform(yl, yh, size=(4,))
    xs = [_t(ctorch, x, rg=0 in diff), _t(ctorch, y, rg=1 in diff)]
    f = _fn(ctorch, name)
    assert ctorch.autograd.gradcheck(f, tuple(xs), eps=1e-6, atol=1e-5, rtol=1e-3)
    xc = [_t(ctorch, x, rg=0 in diff), _t(ctorch, y, rg=1 in diff)]
    xt = [_t(torch, x, rg=0 in diff), _t(torch, y, rg=1 in diff)]
    f(*xc).sum().backward()
    _fn(torch, name)(*xt).sum().backward()
    for a, b in zip(xc, xt, strict=True):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_non_differentiable_inputs_raise_as_torch():
    for name, what in (("zeta", "zeta"), ("gammainc", "igamma: input")):
        x = ctorch.tensor([2.0, 3.0], dtype=ctorch.float64, requires_grad=True)
        y = _fn(ctorch, name)(x, ctorch.tensor([1.0, 2.0], dtype=ctorch.float64))
        with pytest.raises(RuntimeError, match=f"the derivative for '{what}' is not implemented"):
            y.sum().backward()


def test_xlogy_special_values_match_torch():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, math.nan, 0.0])
    y = np.array([0.0, -1.0, math.nan, 0.0, math.inf, 1.0, math.inf])
    for name in ("xlogy", "xlog1py"):
        c = _fn(ctorch, name)(_t(ctorch, x), _t(ctorch, y)).numpy()
        t = _fn(torch, name)(_t(torch, x), _t(torch, y)).numpy()
        np.testing.assert_allclose(c, t, equal_nan=True, err_msg=name)
    xc = _t(ctorch, np.array([0.0, 0.0, 1.0]), rg=True)
    xt = _t(torch, np.array([0.0, 0.0, 1.0]), rg=True)
    yv = np.array([0.0, -1.0, 2.0])
    ctorch.special.xlogy(xc, _t(ctorch, yv)).sum().backward()
    torch.special.xlogy(xt, _t(torch, yv)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy())


POLYS = [
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", POLYS)
def test_polynomials_match_torch(name, dtype):
    x = np.concatenate([RNG.uniform(-1.5, 1.5, size=12), [1.0, -1.0, 0.0, 2.0]]).astype(dtype)
    n = np.array([-1, 0, 1, 2, 3, 5, 6, 7, 2, 4, 3, 1, 3, 4, 5, 6], dtype=np.int64)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    f, ft = _fn(ctorch, name), _fn(torch, name)
    _close(f(_t(ctorch, x), _t(ctorch, n)), ft(_t(torch, x), _t(torch, n)), tol)
    _close(f(_t(ctorch, x), 3), ft(_t(torch, x), 3), tol)
    _close(f(_t(ctorch, x), 2.7), ft(_t(torch, x), 2.7), tol)


def test_aliases_and_methods():
    special = ctorch.special
    assert special.psi is special.digamma
    names = {n for n in dir(torch.special) if not n.startswith("_")} - {
        "Tensor",
        "common_args",
        "multi_dim_common",
        "torch",
    }
    assert names <= set(dir(special))
    a = np.array([0.3, 1.7, 2.2])
    c, t = _t(ctorch, a), _t(torch, a)
    pairs = [
        (ctorch.digamma(c), torch.digamma(t)),
        (ctorch.lgamma(c), torch.lgamma(t)),
        (ctorch.polygamma(2, c), torch.polygamma(2, t)),
        (ctorch.erfc(c), torch.erfc(t)),
        (ctorch.i0(c), torch.i0(t)),
        (ctorch.sinc(c), torch.sinc(t)),
        (ctorch.xlogy(c, c), torch.xlogy(t, t)),
        (ctorch.mvlgamma(c + 1, 2), torch.mvlgamma(t + 1, 2)),
        (ctorch.igamma(c, c), torch.igamma(t, t)),
        (ctorch.igammac(c, c), torch.igammac(t, t)),
        (c.digamma(), t.digamma()),
        (c.lgamma(), t.lgamma()),
        (c.polygamma(1), t.polygamma(1)),
        (c.erfc(), t.erfc()),
        (c.i0(), t.i0()),
        (c.sinc(), t.sinc()),
        (c.xlogy(2.0), t.xlogy(2.0)),
        ((c + 1).mvlgamma(2), (t + 1).mvlgamma(2)),
        (c.igamma(c), t.igamma(t)),
        (c.igammac(c), t.igammac(t)),
    ]
    for x, y in pairs:
        _close(x, y, 1e-8)
    for name in ("digamma_", "lgamma_", "erfc_", "i0_", "sinc_"):
        c2, t2 = _t(ctorch, a), _t(torch, a)
        getattr(c2, name)()
        getattr(t2, name)()
        _close(c2, t2, 1e-8)
    c2, t2 = _t(ctorch, a), _t(torch, a)
    c2.polygamma_(1)
    t2.polygamma_(1)
    _close(c2, t2, 1e-8)
    c2, t2 = _t(ctorch, a), _t(torch, a)
    c2.xlogy_(3.0)
    t2.xlogy_(3.0)
    _close(c2, t2, 1e-8)


def test_wrapped_existing_ops_and_out():
    a = RNG.uniform(-2, 2, size=(3, 4))
    c, t = _t(ctorch, a), _t(torch, a)
    _close(ctorch.special.softmax(c, 1), torch.special.softmax(t, 1), 1e-12)
    _close(ctorch.special.log_softmax(c, 0), torch.special.log_softmax(t, 0), 1e-12)
    _close(ctorch.special.logsumexp(c, 1), torch.special.logsumexp(t, 1), 1e-12)
    _close(ctorch.special.round(c), torch.special.round(t), 0)
    _close(
        ctorch.special.logit(c.sigmoid(), eps=0.1), torch.special.logit(t.sigmoid(), eps=0.1), 1e-12
    )
    out = ctorch.empty(3, 4, dtype=ctorch.float64)
    r = ctorch.special.erfcx(c, out=out)
    assert r is out
    _close(out, torch.special.erfcx(t), 1e-12)


def test_empty_and_zero_dim():
    for name in ("digamma", "i1e", "bessel_j0", "ndtri"):
        e = _fn(ctorch, name)(ctorch.zeros(0, 3))
        assert tuple(e.shape) == (0, 3)
        z = _fn(ctorch, name)(ctorch.tensor(0.5))
        _close(z, _fn(torch, name)(torch.tensor(0.5)), 1e-6)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values_match_torch(name):
    v = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, math.inf, -math.inf, math.nan]
    x = np.repeat(v, len(v))
    y = np.tile(v, len(v))
    c = _fn(ctorch, name)(_t(ctorch, x), _t(ctorch, y)).numpy()
    t = _fn(torch, name)(_t(torch, x), _t(torch, y)).numpy()
    np.testing.assert_allclose(c, t, rtol=1e-9, atol=0, equal_nan=True)
