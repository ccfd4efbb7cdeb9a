"""ctorch's own power-of-two FFT kernel (``_core/fft.pyx``, ``_core/_fft_simd.h``).

The kernel against a complex128 NumPy reference over lengths 2 .. 2^20, strip layouts
(the last axis, a middle axis with a strip's lanes or more after it, strips only partly
filled), both directions and dtypes, the four-step split (long transforms and short batches
of them) with and without a caller's scratch; and through ``ctorch.fft`` against torch: every
norm, n/s padding to a power of two, non-last and several dims, non-contiguous inputs, thread
counts (same bits), the cases it refuses (pocketfft then answers), and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch._core import fft as K

RNG = np.random.default_rng(7)


def _cplx(shape, dt):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dt)


def _ref(x, sign, scale=1.0):
    x = x.astype(np.complex128)
    r = np.fft.fft(x, axis=1) if sign < 0 else np.fft.ifft(x, axis=1) * x.shape[1]
    return r * scale


def _check(y, ref, dt):
    # error relative to the largest output: a float32 FFT is good to a few 1e-7 here
    tol = 2e-6 if dt == np.complex64 else 1e-13
    err = np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-30)
    assert err < tol, err


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
@pytest.mark.parametrize(
    "outer,n,inner",
    [
        (1, 2, 1),
        (1, 4, 1),
        (3, 8, 1),
        (17, 16, 1),
        (5, 32, 16),
        (2, 64, 17),
        (1, 128, 40),
        (33, 256, 1),
        (3, 512, 1),
        (1, 1024, 16),
        (20, 2048, 1),
        (2, 2048, 32),
        (3, 64, 8),
    ],
)
@pytest.mark.parametrize("sign", [-1, 1])
def test_strips_against_numpy(dt, outer, n, inner, sign):
    x = _cplx((outer, n, inner), dt)
    keep = x.copy()
    y = np.empty_like(x)
    if dt == np.complex64 and 1 < inner < 16:  # a complex64 strip has 16 lanes, complex128 8
        assert not K.takes(np.dtype(dt), n, inner)
        return
    assert K.takes(np.dtype(dt), n, inner)
    assert K.c2c_axis(x, y, None, outer, n, inner, sign, 0.5, 1)
    _check(y, _ref(x, sign, 0.5), dt)
    np.testing.assert_array_equal(x, keep)  # the input is left alone


@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
@pytest.mark.parametrize(
    "outer,n", [(1, 256), (3, 512), (15, 1024), (1, 4096), (2, 1 << 15), (1, 1 << 17)]
)
@pytest.mark.parametrize("sign", [-1, 1])
def test_four_step_split_against_numpy(dt, outer, n, sign):
    # fewer transforms than a strip holds (from 256 points) and anything past 2048 points
    # are split n = n1 * n2; odd log2 n gives n1 != n2
    x = _cplx((outer, n, 1), dt)
    y = np.empty_like(x)
    assert K.c2c_axis(x, y, None, outer, n, 1, sign, 1.0, 2)
    _check(y, _ref(x, sign), dt)
    work = np.full(n, np.nan, dt)  # a caller's scratch: every value of it is written first
    y2 = np.empty_like(x)
    assert K.c2c_axis(x, y2, work, outer, n, 1, sign, 1.0, 1)
    np.testing.assert_array_equal(y, y2)


def test_one_million_points():
    for dt in (np.complex64, np.complex128):
        x = _cplx((1, 1 << 20, 1), dt)
        y = np.empty_like(x)
        assert K.c2c_axis(x, y, None, 1, 1 << 20, 1, -1, 1.0, 2)
        _check(y, _ref(x, -1), dt)


def test_refusals_and_bad_arguments():
    c64 = np.dtype(np.complex64)
    assert not K.takes(c64, 12, 1)  # not a power of two
    assert not K.takes(c64, 1, 1)
    assert not K.takes(c64, 64, 3)  # 1 < inner < 16 lanes (8 for complex128)
    assert K.takes(np.dtype(np.complex128), 64, 8)
    assert not K.takes(c64, 4096, 16)  # long transforms split along the last axis only
    assert not K.takes(np.dtype(np.float32), 64, 1)
    x = _cplx((2, 64, 3), np.complex64)
    y = np.empty_like(x)
    assert not K.c2c_axis(x, y, None, 2, 64, 3, -1, 1.0, 1)
    assert not K.c2c_axis(x, np.empty(x.shape, np.complex128), None, 2, 64, 3, -1, 1.0, 1)
    x = _cplx((1, 64, 1), np.complex64)
    assert not K.c2c_axis(x, np.empty_like(x), None, 1, 32, 1, -1, 1.0, 1)  # wrong size
    small = np.empty(4, np.complex64)
    assert not K.c2c_axis(x, np.empty_like(x), small, 1, 64, 1, -1, 1.0, 1)  # scratch too small


# ------------------------------------------------------------------ through ctorch.fft
torch = pytest.importorskip("torch")


def _both(name, a, **kw):
    c = getattr(ctorch.fft, name)(ctorch.from_numpy(a.copy()), **kw)
    t = getattr(torch.fft, name)(torch.from_numpy(a.copy()), **kw)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(c.shape) == tuple(t.shape)
    tn = t.resolve_conj().numpy()
    tol = 2e-6 if tn.dtype in (np.complex64, np.float32) else 1e-12
    scale = max(np.abs(tn).max(initial=0.0), 1e-30)
    assert np.abs(c.numpy() - tn).max() / scale < tol
    return c


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
@pytest.mark.parametrize("norm", [None, "backward", "forward", "ortho"])
def test_fft_functions_against_torch(dt, norm):
    a = _cplx((4, 32, 64), dt)
    for name in ("fft", "ifft"):
        for dim in (-1, 1, 0):
            _both(name, a, dim=dim, norm=norm)
        _both(name, a, n=128, norm=norm)  # zero-padded to a power of two
        _both(name, a, n=16, dim=1, norm=norm)  # truncated
    for name in ("fft2", "ifft2", "fftn", "ifftn"):
        _both(name, a, norm=norm)
        _both(name, a, s=(64, 128), norm=norm)
    _both("fftn", a, dim=(0, 2), norm=norm)
    _both("fft", _cplx((1 << 16,), dt), norm=norm)
    _both("ifft", _cplx((3, 1 << 12), dt), norm=norm)


def test_real_and_noncontiguous_inputs_and_refused_layouts():
    a = RNG.standard_normal((64, 32)).astype(np.float32)
    _both("fft", a)  # real input, promoted
    c = _cplx((64, 32), np.complex64)
    ct, tt = ctorch.from_numpy(c).t(), torch.from_numpy(c).t()
    np.testing.assert_allclose(
        ctorch.fft.fft(ct).numpy(), torch.fft.fft(tt).numpy(), rtol=1e-5, atol=1e-4
    )
    # a middle axis with 3 values after it: pocketfft takes it
    _both("fft", _cplx((2, 64, 3), np.complex64), dim=1)
    _both("fftn", _cplx((8, 8, 8), np.complex128))


def test_thread_counts_give_the_same_bits():
    prev = ctorch.get_num_threads()
    try:
        out = []
        inputs = (_cplx((1 << 18,), np.complex64), _cplx((48, 512), np.complex128))
        for t in (1, 2):
            ctorch.set_num_threads(t)
            for a in inputs:
                out.append(ctorch.fft.fft(ctorch.from_numpy(a)).numpy())
        for one, two in zip(out[:2], out[2:], strict=True):
            np.testing.assert_array_equal(one, two)
    finally:
        ctorch.set_num_threads(prev)


def test_gradients_through_the_kernel():
    x = ctorch.from_numpy(_cplx((3, 16), np.complex128)).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.fft(v, dim=0, norm="ortho"), (x,))
    y = ctorch.from_numpy(_cplx((2, 8, 16), np.complex128)).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.ifftn(v, dim=(1, 2)), (y,))
    a = _cplx((256,), np.complex128)
    c = ctorch.from_numpy(a.copy()).requires_grad_(True)
    t = torch.from_numpy(a.copy()).requires_grad_(True)
    ctorch.fft.fft(c).abs().sum().backward()
    torch.fft.fft(t).abs().sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ real transforms
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("outer,n", [(1, 4), (3, 8), (2, 32), (5, 512), (1, 4096), (2, 1 << 16)])
def test_real_transforms_against_numpy(dt, outer, n):
    cdt = np.complex64 if dt == np.float32 else np.complex128
    tol = 2e-6 if dt == np.float32 else 1e-13
    x = RNG.standard_normal((outer, n)).astype(dt)
    y = np.empty((outer, n // 2 + 1), cdt)
    z = np.empty((outer, n // 2), cdt)
    assert K.r2c_last(x, y, z, outer, n, 0.25, 2)
    ref = np.fft.rfft(x.astype(np.float64), axis=1) * 0.25
    assert np.abs(y - ref).max() / np.abs(ref).max() < tol
    # the inverse ignores the imaginary parts of bins 0 and n / 2, as pocketfft and torch do
    h = _cplx((outer, n // 2 + 1), cdt)
    out = np.empty((outer, n), dt)
    assert K.c2r_last(h, out, z, outer, n, 1.0 / n, 1)
    ref = np.fft.irfft(h.astype(np.complex128), n=n, axis=1)
    assert np.abs(out - ref).max() / np.abs(ref).max() < tol


def test_real_transform_refusals():
    x = RNG.standard_normal((2, 12)).astype(np.float32)
    z = np.empty((2, 6), np.complex64)
    assert not K.r2c_last(x, np.empty((2, 7), np.complex64), z, 2, 12, 1.0, 1)  # not 2^k
    x = RNG.standard_normal((2, 16)).astype(np.float32)
    assert not K.r2c_last(x, np.empty((2, 9), np.complex128), z, 2, 16, 1.0, 1)  # dtypes
    assert not K.r2c_last(x, np.empty((2, 8), np.complex64), z, 2, 16, 1.0, 1)  # shape
    assert not K.r2c_last(x, np.empty((2, 9), np.complex64), z[:1], 2, 16, 1.0, 1)  # scratch


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("norm", [None, "forward", "ortho"])
def test_real_fft_functions_against_torch(dt, norm):
    a = RNG.standard_normal((3, 32, 64)).astype(dt)
    cdt = "complex64" if dt == "float32" else "complex128"
    for kw in ({}, {"n": 128}, {"n": 16}, {"dim": 1}):
        _both("rfft", a, norm=norm, **kw)
        _both("ihfft", a, norm=norm, **kw)
    for kw in ({}, {"s": (64, 128)}, {"dim": (0, 2)}, {"dim": (2, 1)}):
        _both("rfft2" if "dim" not in kw or len(kw["dim"]) == 2 else "rfftn", a, norm=norm, **kw)
        _both("rfftn", a, norm=norm, **kw)
    h = _cplx((3, 32, 33), cdt)
    for kw in ({}, {"n": 64}, {"n": 128}):
        _both("irfft", h, norm=norm, **kw)
        _both("hfft", h, norm=norm, **kw)
    for kw in ({}, {"s": (32, 64)}, {"s": (64, 256)}, {"dim": (0, 2), "s": (4, 64)}):
        _both("irfftn", h, norm=norm, **kw)
    _both("irfft2", h, norm=norm)
    _both("rfft", RNG.standard_normal(1 << 18).astype(dt), norm=norm)


def test_real_fft_gradients_through_the_kernel():
    x = ctorch.from_numpy(RNG.standard_normal((3, 16))).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.rfft(v, norm="ortho"), (x,))
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.rfftn(v, dim=(0, 1)), (x,))
    h = ctorch.from_numpy(_cplx((2, 9), np.complex128)).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda v: ctorch.fft.irfft(v, n=16), (h,))


def test_power_of_two_transforms_take_the_kernel():
    # guards against a silent fallback to pocketfft (the values would still pass)
    from ctorch.ops import spectral as S

    c = _cplx((4, 32, 64), np.complex64)
    r = RNG.standard_normal((4, 32, 64))
    assert S._pow2_c2c(c, (0, 1, 2), None, "backward", True) is not None
    assert S._pow2_c2c(c, (2,), (128,), "ortho", False) is not None
    assert S._pow2_r2c(r, (1, 2), None, "forward") is not None
    assert S._pow2_c2r(_cplx((4, 32, 33), np.complex128), (1, 2), (32, 64), "backward") is not None
    # and the cases it leaves to pocketfft
    assert S._pow2_c2c(c, (2,), (96,), "backward", True) is None
    assert S._pow2_c2c(_cplx((4, 8, 3), np.complex64), (1,), None, "backward", True) is None
    assert S._pow2_r2c(r, (2, 1), None, "backward") is None  # r2c along a middle axis
