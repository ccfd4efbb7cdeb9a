"""Shared test helpers: one lambda, run on ctorch and (when installed) on torch.

``check_op(fn, inputs)`` calls ``fn(lib, *tensors)`` with ``lib`` = ``ctorch`` and, when torch
is importable, ``lib`` = ``torch``: because the APIs match, the same lambda tests both. It checks

* forward: shape, dtype and values against torch (or against ``ref``, a NumPy function
  of the same inputs, which runs without torch);
* backward: float64 central finite differences through ``ctorch.autograd.gradcheck`` (always),
  and the input gradients against torch's for the same upstream gradient (when installed).
"""

from __future__ import annotations

import contextlib

import numpy as np

import ctorch

try:  # torch is a test-only extra
    import torch as _torch
except ImportError:  # pragma: no cover - depends on the environment
    _torch = None

HAS_TORCH = _torch is not None


def torch_or_skip():
    """For tests that only make sense against torch (the parity branch)."""
    import pytest

    return pytest.importorskip("torch")


def lib_by_name(name: str):
    """The module a ``lib`` parameter names: ctorch, or torch (the test skips without it)."""
    if name == "torch":
        return torch_or_skip()
    import ctorch

    return ctorch


def _gen(spec, rng, low, high, dtype):
    if isinstance(spec, tuple):
        a = rng.uniform(low, high, size=spec)
        return a.astype(dtype)
    return np.asarray(spec)


def _lib_tensor(lib, a, requires_grad):
    if lib is ctorch:
        t = ctorch.from_numpy(np.array(a, copy=True))
    else:
        t = lib.from_numpy(np.array(a, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _np(t):
    if isinstance(t, ctorch.Tensor):
        return t.detach().numpy()
    if HAS_TORCH and isinstance(t, _torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def dtype_name(dt) -> str:
    """'float32' for ctorch.float32 and torch.float32 alike."""
    return str(dt).split(".")[-1]


def assert_close(actual, expected, atol=1e-5, rtol=1e-4, check_dtype=True, msg=""):
    """Compare a ctorch result (Tensor / tuple / scalar) with a torch or NumPy one."""
    if isinstance(actual, (tuple, list)):
        expected = _as_tuple(expected)
        assert len(actual) == len(expected), msg
        for a, e in zip(actual, expected, strict=True):
            assert_close(a, e, atol, rtol, check_dtype, msg)
        return
    if isinstance(actual, ctorch.Tensor):
        if HAS_TORCH and isinstance(expected, _torch.Tensor):
            assert tuple(actual.shape) == tuple(expected.shape), (msg, actual.shape, expected.shape)
            if check_dtype:
                assert dtype_name(actual.dtype) == dtype_name(expected.dtype), (
                    msg,
                    actual.dtype,
                    expected.dtype,
                )
        e = _np(expected)
        a = _np(actual)
        assert a.shape == e.shape, (msg, a.shape, e.shape)
        if check_dtype and isinstance(expected, np.ndarray):
            assert a.dtype == e.dtype, (msg, a.dtype, e.dtype)
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(a, e.astype(a.dtype), atol=atol, rtol=rtol, err_msg=msg)
        else:
            np.testing.assert_array_equal(a, e, err_msg=msg)
        return
    np.testing.assert_allclose(np.asarray(actual), _np(expected), atol=atol, rtol=rtol, err_msg=msg)


def check_op(
    fn,
    inputs,
    *,
    ref=None,
    dtype=np.float32,
    low=-2.0,
    high=2.0,
    grad=True,
    grad_inputs=None,
    atol=1e-5,
    rtol=1e-4,
    grad_atol=1e-4,
    grad_rtol=1e-3,
    gradcheck=True,
    check_dtype=True,
    seed=0,
):
    """Run ``fn(lib, *inputs)`` on ctorch and compare (see module doc).

    ``inputs``: shapes (tuples, filled uniformly in [low, high)) or values (arrays, lists,
    scalars used as given). ``grad_inputs``: indices of the inputs to differentiate (default:
    every floating input made from a shape). Returns the ctorch forward result.
    """
    rng = np.random.default_rng(seed)
    arrays = [_gen(s, rng, low, high, dtype) for s in inputs]
    if grad_inputs is None:
        grad_inputs = [
            i
            for i, (s, a) in enumerate(zip(inputs, arrays, strict=True))
            if isinstance(s, tuple) and a.dtype.kind == "f"
        ]
    if not grad:
        grad_inputs = []

    def make(lib, rg, cast=None):
        out = []
        for i, a in enumerate(arrays):
            if cast is not None and a.dtype.kind == "f":
                a = a.astype(cast)
            out.append(_lib_tensor(lib, a, rg and i in grad_inputs))
        return out

    xs = make(ctorch, False)
    got = fn(ctorch, *xs)
    if ref is not None:
        expected = ref(*[a.copy() for a in arrays])
        assert_close(got, expected, atol, rtol, check_dtype=check_dtype, msg="forward vs NumPy")
    if HAS_TORCH:
        ts = make(_torch, False)
        assert_close(
            got, fn(_torch, *ts), atol, rtol, check_dtype=check_dtype, msg="forward vs torch"
        )
    if not grad_inputs:
        return got

    # float64 finite differences on ctorch
    if gradcheck:
        xs64 = make(ctorch, True, cast=np.float64)

        def f64(*args):
            r = fn(ctorch, *args)
            return tuple(
                o for o in _as_tuple(r) if isinstance(o, ctorch.Tensor) and o.is_floating_point()
            )

        assert ctorch.autograd.gradcheck(f64, tuple(xs64), eps=1e-6, atol=1e-5, rtol=1e-3)

    # gradients against torch, same upstream gradient
    if HAS_TORCH:
        xs = make(ctorch, True)
        ts = make(_torch, True)
        outs_c = [o for o in _as_tuple(fn(ctorch, *xs)) if o.is_floating_point()]
        outs_t = [o for o in _as_tuple(fn(_torch, *ts)) if o.is_floating_point()]
        if not outs_c:  # integer/bool results (argsort, nonzero): nothing to differentiate
            return got
        gys = [rng.standard_normal(tuple(o.shape)).astype(_np(o).dtype) for o in outs_c]
        loss_c = sum((o * ctorch.from_numpy(g)).sum() for o, g in zip(outs_c, gys, strict=True))
        loss_t = sum((o * _torch.from_numpy(g)).sum() for o, g in zip(outs_t, gys, strict=False))
        loss_c.backward()
        loss_t.backward()
        for i in grad_inputs:
            gc, gt = xs[i].grad, ts[i].grad
            if gt is None:
                assert gc is None or not np.any(_np(gc)), f"input {i}: torch grad is None"
                continue
            assert gc is not None, f"input {i}: ctorch grad is None"
            assert_close(gc, gt, grad_atol, grad_rtol, msg=f"grad of input {i} vs torch")
    return got


def t_and_np(shape, dtype=np.float32, seed=0, low=-2.0, high=2.0):
    """A ctorch tensor and an independent NumPy copy of the same values."""
    a = np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)
    return ctorch.tensor(a), a


@contextlib.contextmanager
def threads(n: int):
    """Run the block with ctorch's kernels on ``n`` OpenMP threads, then restore the count."""
    from ctorch._core import _threads

    old = _threads.get_num_threads()
    _threads.set_num_threads(n)
    try:
        yield
    finally:
        _threads.set_num_threads(old)


def ref_conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct NumPy conv2d (float64 sums over the taps): the reference of the conv kernel tests."""
    N, C, H, W = x.shape
    OC, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, OC, oh, ow))
    OCg = OC // groups
    for o in range(OC):
        gi = o // OCg
        for c in range(Cg):
            for ki in range(kh):
                for kj in range(kw):
                    patch = xp[
                        :,
                        gi * Cg + c,
                        ki * dh : ki * dh + sh * (oh - 1) + 1 : sh,
                        kj * dw : kj * dw + sw * (ow - 1) + 1 : sw,
                    ]
                    y[:, o] += w[o, c, ki, kj] * patch
    if b is not None:
        y += b.reshape(1, OC, 1, 1)
    return y


def as_numpy(t):
    """A ctorch/torch tensor (detached) or anything array-like as a NumPy array."""
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def same_result(c, t):
    """ctorch's result ``c`` and torch's ``t``: same shape, same dtype name, same values
    (NaN equal, 1e-6 tolerance)."""
    c, t = as_numpy(c), as_numpy(t)
    assert c.shape == t.shape
    assert str(c.dtype) == str(t.dtype)
    np.testing.assert_allclose(c, t, rtol=1e-6, atol=1e-6, equal_nan=True)
