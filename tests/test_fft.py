"""ctorch.fft against torch.fft: values, dtypes, shapes for every function, norm, n/s/dim;
gradients against torch's and against float64/complex128 finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

NORMS = [None, "backward", "forward", "ortho"]
C2C_1D = ["fft", "ifft"]
R_IN_1D = ["rfft", "ihfft"]
C2R_1D = ["irfft", "hfft"]
ND = ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
TWO_D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2"]
REAL_ONLY = {"rfft", "ihfft", "rfftn", "ihfftn", "rfft2", "ihfft2"}


def _input(name, shape, dt, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if name not in REAL_ONLY and dt.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    if name in REAL_ONLY:
        dt = {"complex64": "float32", "complex128": "float64"}.get(dt, dt)
    return a.astype(dt)


def _np(t):
    return t.detach().resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy()


def _cmp(name, a, kwargs, atol=1e-4):
    c = getattr(ctorch.fft, name)(ctorch.from_numpy(a.copy()), **kwargs)
    t = getattr(torch.fft, name)(torch.from_numpy(a.copy()), **kwargs)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    scale = max(1.0, float(np.abs(_np(t)).max(initial=0)))
    np.testing.assert_allclose(c.numpy(), _np(t), atol=atol * scale, rtol=1e-4)
    return c


def _grad_vs_torch(name, a, kwargs, seed=1):
    c = ctorch.from_numpy(a.copy()).requires_grad_(True)
    t = torch.from_numpy(a.copy()).requires_grad_(True)
    oc = getattr(ctorch.fft, name)(c, **kwargs)
    ot = getattr(torch.fft, name)(t, **kwargs)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(tuple(ot.shape))
    if ot.is_complex():
        g = g + 1j * rng.standard_normal(tuple(ot.shape))
    g = np.asarray(g, dtype=_np(ot).dtype)
    oc.backward(ctorch.from_numpy(g.copy()))
    ot.backward(torch.from_numpy(g.copy()))
    assert c.grad.dtype == c.dtype
    np.testing.assert_allclose(c.grad.numpy(), _np(t.grad), atol=1e-4, rtol=1e-4)


def _gradcheck(name, a, kwargs):
    a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    x = ctorch.from_numpy(a.copy()).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda v: getattr(ctorch.fft, name)(v, **kwargs), (x,))


@pytest.mark.parametrize("name", C2C_1D + R_IN_1D + C2R_1D)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dt", ["float32", "float64", "complex64", "complex128"])
def test_1d_forward(name, norm, dt):
    for n in (None, 5, 8, 12):
        for dim in (-1, 0):
            _cmp(name, _input(name, (7, 6), dt), {"n": n, "dim": dim, "norm": norm})


@pytest.mark.parametrize("name", ND + TWO_D)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dt", ["float32", "complex128"])
def test_nd_forward(name, norm, dt):
    a = _input(name, (3, 4, 5), dt)
    kws = [{}, {"dim": (0, 2)}, {"s": (6, 3)}, {"s": (2, -1), "dim": (2, 0)}]
    if name in ND:
        kws += [{"dim": (1,)}, {"s": (4, 6, 3)}, {"dim": [-1, 0, 1]}]
    for kw in kws:
        _cmp(name, a, {**kw, "norm": norm})


@pytest.mark.parametrize("name", C2C_1D + R_IN_1D + C2R_1D)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 4, 9])
def test_1d_grads(name, norm, n):
    dt = "complex128" if name not in REAL_ONLY else "float64"
    for shape in ((2, 5), (2, 6)):
        a = _input(name, shape, dt, seed=3)
        _grad_vs_torch(name, a, {"n": n, "norm": norm})
        _gradcheck(name, a, {"n": n, "norm": norm})


@pytest.mark.parametrize("name", ["fft", "ifft", "irfft", "hfft"])
def test_grads_of_real_input_to_complex_transforms(name):
    a = _input("rfft", (3, 6), "float64", seed=4)
    _grad_vs_torch(name, a, {"norm": "ortho"})
    _gradcheck(name, a, {})


@pytest.mark.parametrize("name", ND + TWO_D)
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_nd_grads(name, norm):
    dt = "complex128" if name not in REAL_ONLY else "float64"
    a = _input(name, (3, 4, 5), dt, seed=5)
    for kw in ({}, {"s": (5, 3)}, {"dim": (0, 2), "s": (2, 6)}):
        _grad_vs_torch(name, a, {**kw, "norm": norm})
    _gradcheck(name, _input(name, (2, 3, 4), dt, seed=6), {"s": (3, 5), "norm": norm})


def test_double_backward():
    a = _input("fft", (4,), "complex128")
    x = ctorch.from_numpy(a.copy()).requires_grad_(True)
    assert ctorch.autograd.gradgradcheck(lambda v: ctorch.fft.fft(v).abs(), (x,))
    r = ctorch.from_numpy(_input("rfft", (6,), "float64")).requires_grad_(True)
    assert ctorch.autograd.gradgradcheck(lambda v: ctorch.fft.irfft(ctorch.fft.rfft(v) ** 2), (r,))


def test_int_input_and_grad_fn_names():
    assert ctorch.fft.fft(ctorch.arange(4)).dtype is ctorch.complex64
    assert ctorch.fft.rfft(ctorch.arange(4)).dtype is ctorch.complex64
    ctorch.set_default_dtype(ctorch.float64)
    try:
        assert ctorch.fft.fft(ctorch.arange(4)).dtype is ctorch.complex128
    finally:
        ctorch.set_default_dtype(ctorch.float32)
    x = ctorch.randn(4, requires_grad=True)
    assert ctorch.fft.fft(x).grad_fn.name() == "FftR2CBackward0" or "Fft" in (
        ctorch.fft.fft(x).grad_fn.name()
    )
    assert ctorch.fft.rfft(x).grad_fn.name() == "FftR2CBackward0"
    assert ctorch.fft.irfft(ctorch.fft.rfft(x)).grad_fn.name() == "FftC2RBackward0"


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.fft.fft(L.ones(4, dtype=L.float16)),
        lambda L: L.fft.fft(L.tensor(1.0)),
        lambda L: L.fft.fftn(L.ones(2, 2), dim=(0, 0)),
        lambda L: L.fft.fft(L.ones(3), n=0),
        lambda L: L.fft.rfft(L.ones(3, dtype=L.complex64)),
        lambda L: L.fft.fftn(L.ones(2), s=(2, 2)),
        lambda L: L.fft.fft(L.ones(3), norm="bad"),
        lambda L: L.fft.irfft(L.ones(1)),
        lambda L: L.fft.fftn(L.ones(2, 2), s=(2,), dim=(0, 1)),
        lambda L: L.fft.fft(L.ones(2), dim=3),
        lambda L: L.fft.ihfft(L.ones(3, dtype=L.complex64)),
        lambda L: L.fft.fft(L.ones(0)),
    ],
)
def test_errors_like_torch(call):
    with pytest.raises((RuntimeError, IndexError)) as ec:
        call(ctorch)
    with pytest.raises((RuntimeError, IndexError)) as et:
        call(torch)
    assert type(ec.value) is type(et.value)
    assert str(ec.value).split("(")[0].strip() == str(et.value).split("(")[0].strip()


def test_freq_and_shift():
    for n in (1, 4, 5):
        for d in (1.0, 0.1):
            np.testing.assert_allclose(
                ctorch.fft.fftfreq(n, d).numpy(), torch.fft.fftfreq(n, d).numpy()
            )
            np.testing.assert_allclose(
                ctorch.fft.rfftfreq(n, d).numpy(), torch.fft.rfftfreq(n, d).numpy()
            )
    assert ctorch.fft.fftfreq(5).dtype is ctorch.float32
    assert ctorch.fft.fftfreq(5, dtype=ctorch.float64).dtype is ctorch.float64
    a = np.arange(30).reshape(5, 6)
    for dim in (None, 0, 1, (0, 1), -1):
        for f in ("fftshift", "ifftshift"):
            np.testing.assert_array_equal(
                getattr(ctorch.fft, f)(ctorch.from_numpy(a), dim=dim).numpy(),
                getattr(torch.fft, f)(torch.from_numpy(a), dim=dim).numpy(),
            )
    x = ctorch.randn(5, 6, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.fftshift(v, dim=1), (x,))


def test_out_and_threads():
    a = _input("fft", (8, 64), "complex64")
    out = ctorch.empty(0, dtype=ctorch.complex64)
    r = ctorch.fft.fft(ctorch.from_numpy(a), out=out)
    assert r is out and out.shape == (8, 64)
    prev = ctorch.get_num_threads()
    try:
        ctorch.set_num_threads(1)
        one = ctorch.fft.fft(ctorch.from_numpy(a)).numpy()
        ctorch.set_num_threads(2)
        two = ctorch.fft.fft(ctorch.from_numpy(a)).numpy()
    finally:
        ctorch.set_num_threads(prev)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, out.numpy())


@pytest.mark.parametrize("n", [1 << 16, 1 << 17, 3 * 5 * 7 * 1024, 2 * 65537])
@pytest.mark.parametrize("threads", [1, 2])
def test_large_1d_four_step_path(n, threads):
    # single transforms of >= 2^16 points go through the n1 x n2 split (ops/spectral.py);
    # 2 * 65537 has no divisor in [32, sqrt(n)] and takes pocketfft's 1-D path
    prev = ctorch.get_num_threads()
    ctorch.set_num_threads(threads)
    try:
        for dt in ("complex64", "complex128"):
            a = _input("fft", (n,), dt, seed=n % 97)
            for name in ("fft", "ifft"):
                for norm in NORMS:
                    _cmp(name, a, {"norm": norm}, atol=1e-5 if dt == "complex64" else 1e-12)
        _grad_vs_torch("fft", _input("fft", (n,), "complex128"), {"norm": "ortho"})
    finally:
        ctorch.set_num_threads(prev)
