"""Windows, stft and istft against torch: values, shapes, dtypes, gradients (torch's and
float64 finite differences), round trips and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 64])
def test_windows(name, periodic, n):
    for dt in ("float32", "float64"):
        c = getattr(ctorch, name)(n, periodic, dtype=getattr(ctorch, dt))
        t = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt))
        assert c.dtype is getattr(ctorch, dt) and tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.numpy(), t.numpy(), atol=1e-6, rtol=1e-5)
    assert getattr(ctorch, name)(5).dtype is ctorch.float32


def test_window_params_and_errors():
    np.testing.assert_allclose(
        ctorch.hamming_window(9, False, 0.6, 0.4).numpy(),
        torch.hamming_window(9, False, 0.6, 0.4).numpy(),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        ctorch.kaiser_window(9, True, 5.0).numpy(),
        torch.kaiser_window(9, True, 5.0).numpy(),
        atol=1e-6,
    )
    with pytest.raises(RuntimeError, match="non-negative"):
        ctorch.hann_window(-1)
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.hann_window(4, dtype=ctorch.int64)
    assert ctorch.hann_window(4, requires_grad=True).requires_grad


def _signal(shape, dtype=np.float64, seed=0, cplx=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if cplx:
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype if not cplx else np.complex128)


CASES = [
    {"n_fft": 16},
    {"n_fft": 16, "hop_length": 5, "win_length": 12, "window": "hann_window"},
    {"n_fft": 15, "center": False, "window": "hamming_window"},
    {"n_fft": 16, "normalized": True, "pad_mode": "constant", "window": "blackman_window"},
    {"n_fft": 16, "onesided": False, "window": "kaiser_window"},
    {"n_fft": 8, "hop_length": 3, "pad_mode": "replicate", "window": "bartlett_window"},
    {"n_fft": 10, "hop_length": 4, "win_length": 7, "pad_mode": "circular"},
]


def _run_stft(L, x, case, return_complex=True, grad=True):
    kw = dict(case)
    wn = kw.pop("window", None)
    w = None if wn is None else getattr(L, wn)(kw.get("win_length", kw["n_fft"]), dtype=L.float64)
    t = L.from_numpy(x.copy()).requires_grad_(grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = L.stft(t, window=w, return_complex=return_complex, **kw)
    return t, s, w


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batched", [False, True])
def test_stft_matches_torch(case, batched):
    x = _signal((2, 60) if batched else (60,))
    tc, sc, _ = _run_stft(ctorch, x, case)
    tt, st, _ = _run_stft(torch, x, case)
    assert sc.dtype is ctorch.complex128 and tuple(sc.shape) == tuple(st.shape)
    np.testing.assert_allclose(sc.detach().numpy(), st.detach().numpy(), atol=1e-8)
    g = _signal(tuple(st.shape), seed=1, cplx=True)
    sc.backward(ctorch.from_numpy(g.copy()))
    st.backward(torch.from_numpy(g.copy()))
    np.testing.assert_allclose(tc.grad.numpy(), tt.grad.numpy(), atol=1e-8)


def test_stft_float32_and_real_view():
    x = _signal((50,), np.float32)
    _, sc, _ = _run_stft(ctorch, x, {"n_fft": 8, "window": "hann_window"}, return_complex=False)
    _, st, _ = _run_stft(torch, x, {"n_fft": 8, "window": "hann_window"}, return_complex=False)
    assert tuple(sc.shape) == tuple(st.shape) and sc.shape[-1] == 2
    np.testing.assert_allclose(sc.detach().numpy(), st.detach().numpy(), atol=1e-5)
    c = ctorch.stft(ctorch.from_numpy(x), 8, window=ctorch.hann_window(8), return_complex=True)
    assert c.dtype is ctorch.complex64


def test_stft_complex_input():
    x = _signal((40,), cplx=True)
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError):
            L.stft(L.from_numpy(x.copy()), 8, onesided=True, return_complex=True)
    sc = ctorch.stft(
        ctorch.from_numpy(x.copy()), 8, window=ctorch.hann_window(8, dtype=ctorch.float64)
    )
    st = torch.stft(torch.from_numpy(x.copy()), 8, window=torch.hann_window(8, dtype=torch.float64))
    np.testing.assert_allclose(sc.numpy(), st.numpy(), atol=1e-8)


def test_stft_gradcheck():
    x = ctorch.from_numpy(_signal((20,))).requires_grad_(True)
    w = ctorch.hann_window(8, dtype=ctorch.float64)
    assert ctorch.autograd.gradcheck(
        lambda v: ctorch.stft(v, 8, hop_length=3, window=w, return_complex=True), (x,)
    )
    assert ctorch.autograd.gradcheck(
        lambda v: ctorch.istft(
            ctorch.stft(v, 8, hop_length=3, window=w, return_complex=True),
            8,
            hop_length=3,
            window=w,
            length=20,
        ),
        (x,),
    )


@pytest.mark.parametrize("case", CASES)
def test_istft_matches_torch_and_round_trips(case):
    x = _signal((2, 60))
    kw = {k: v for k, v in case.items() if k not in ("pad_mode",)}
    wn = kw.pop("window", None)
    outs = []
    for L in (ctorch, torch):
        w = (
            None
            if wn is None
            else getattr(L, wn)(kw.get("win_length", kw["n_fft"]), dtype=L.float64)
        )
        t = L.from_numpy(x.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = L.stft(t, window=w, return_complex=True, **kw).detach().requires_grad_(True)
        length = 60 if kw.get("center", True) else None
        try:
            y = L.istft(s, window=w, length=length, **kw)
        except RuntimeError as e:
            outs.append(("error", str(e).split(":")[0]))
            continue
        g = np.random.default_rng(2).standard_normal(tuple(y.shape))
        y.backward(L.from_numpy(g))
        outs.append((y.detach().numpy(), s.grad.resolve_conj().numpy()))
    (yc, gc), (yt, gt) = outs
    if isinstance(yc, str):
        assert yt == "error" and gc == gt
        return
    np.testing.assert_allclose(yc, yt, atol=1e-8)
    np.testing.assert_allclose(gc, gt, atol=1e-8)
    if kw.get("center", True) and wn is not None:
        np.testing.assert_allclose(yc, x, atol=1e-8)  # perfect reconstruction


@pytest.mark.parametrize("length", [None, 50, 70])
def test_istft_length_and_return_complex(length):
    x = _signal((45,), cplx=True)
    res = []
    for L in (ctorch, torch):
        w = L.hann_window(12, dtype=L.float64)
        s = L.stft(L.from_numpy(x.copy()), 12, hop_length=3, window=w, return_complex=True)
        res.append(L.istft(s, 12, hop_length=3, window=w, length=length, return_complex=True))
    assert tuple(res[0].shape) == tuple(res[1].shape) and res[0].dtype is ctorch.complex128
    np.testing.assert_allclose(res[0].numpy(), res[1].numpy(), atol=1e-8)


def test_errors():
    x = ctorch.randn(40)
    with pytest.raises(RuntimeError, match="return_complex"):
        ctorch.stft(x, 8)
    with pytest.raises(RuntimeError, match="win_length"):
        ctorch.stft(x, 8, win_length=9, return_complex=True)
    s = ctorch.stft(x, 8, window=ctorch.hann_window(8), return_complex=True)
    with pytest.raises(RuntimeError, match="NOLA|overlap"):
        ctorch.istft(s, 8, hop_length=8, window=ctorch.hann_window(8, periodic=False), center=False)
    with pytest.raises(RuntimeError, match="complex"):
        ctorch.istft(ctorch.view_as_real(s), 8)
    with pytest.warns(UserWarning, match="return_complex=False"):
        ctorch.stft(x, 8, window=ctorch.hann_window(8), return_complex=False)
    assert x.stft(8, window=ctorch.hann_window(8), return_complex=True).shape == s.shape
