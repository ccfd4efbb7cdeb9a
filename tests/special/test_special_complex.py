"""ctorch.special with complex input (issue #13): the few functions torch defines for complex
tensors (exp2, expit, expm1, log1p, sinc, logsumexp) against torch's values and gradients and
complex128 finite differences; the rest raise ``NotImplementedError`` as torch's do instead of
dropping the imaginary part."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(77)


def _c(shape, dt=np.complex128):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dt)


ACCEPTED = [
    ("exp2", lambda lib, x: lib.special.exp2(x)),
    ("expit", lambda lib, x: lib.special.expit(x)),
    ("expm1", lambda lib, x: lib.special.expm1(x)),
    ("log1p", lambda lib, x: lib.special.log1p(x)),
    ("sinc", lambda lib, x: lib.special.sinc(x)),
    ("sinc_method", lambda lib, x: x.sinc()),
    ("logsumexp", lambda lib, x: lib.special.logsumexp(x, 1)),
    ("logsumexp_keepdim", lambda lib, x: lib.logsumexp(x, (0, 1), keepdim=True)),
]


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted_match_torch(case, dt):
    _name, fn = case
    a = _c((3, 4), dt)
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    oc, ot = fn(ctorch, xc), fn(torch, xt)
    assert str(oc.dtype).split(".")[-1] == str(ot.dtype).split(".")[-1]
    tol = 1e-5 if dt == np.complex64 else 1e-12
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    g = _c(tuple(ot.shape), dt)
    oc.backward(ctorch.from_numpy(g.copy()))
    ot.backward(torch.from_numpy(g.copy()))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted_gradcheck(case):
    _name, fn = case
    x = ctorch.from_numpy(_c((2, 3))).requires_grad_()
    assert ctorch.autograd.gradcheck(lambda t: fn(ctorch, t), (x,))


def test_sinc_at_zero_complex():
    a = np.array([0j, 1e-30 + 0j, 0.5 + 0.5j])
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    ctorch.special.sinc(xc).abs().sum().backward()
    torch.special.sinc(xt).abs().sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-12)


UNARY_REFUSED = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "psi", "entr",
    "erfc", "erfcx", "gammaln", "i0", "i0e", "i1", "i1e", "log_ndtr", "logit",
    "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "ndtr", "ndtri", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "spherical_bessel_j0",
]  # fmt: skip
BINARY_REFUSED = [
    "xlogy", "xlog1py", "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
    "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
    "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip
CALLS = (
    [(n, lambda lib, x, n=n: getattr(lib.special, n)(x)) for n in UNARY_REFUSED]
    + [(n, lambda lib, x, n=n: getattr(lib.special, n)(x, x)) for n in BINARY_REFUSED]
    + [
        ("polygamma", lambda lib, x: lib.special.polygamma(1, x)),
        ("multigammaln", lambda lib, x: lib.special.multigammaln(x, 2)),
        ("softmax", lambda lib, x: lib.special.softmax(x, 0)),
        ("log_softmax", lambda lib, x: lib.special.log_softmax(x, 0)),
        ("t_softmax", lambda lib, x: lib.softmax(x, 0)),
        ("t_lgamma", lambda lib, x: lib.lgamma(x)),
        ("t_digamma_method", lambda lib, x: x.digamma()),
    ]
)


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
@pytest.mark.parametrize("case", CALLS, ids=[c[0] for c in CALLS])
def test_refused_like_torch(case, dt):
    _name, fn = case
    a = _c((3,), dt) + 2.0
    with pytest.raises((NotImplementedError, RuntimeError)) as et:
        fn(torch, torch.from_numpy(a.copy()))
    with pytest.raises(type(et.value)) as ec:
        fn(ctorch, ctorch.from_numpy(a.copy()))
    assert "Complex" in str(ec.value)
