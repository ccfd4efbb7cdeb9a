"""``out=`` on the reductions, scans, sorts and products real code passes it to (torch.sum(x,
0, out=buf), torch.max(x, 1, out=(v, i)), ...): the result written into ``out`` (resized when
empty, cast by torch's rules), ``out`` returned (the same return type holding the ``out``
tensors for (values, indices) results), and torch's errors: a result that needs a gradient,
a float result into an integer ``out``. Each case is checked against the function without
``out`` and, when installed, against torch. Also ``repeat_interleave(repeats)`` and
``bucketize`` with a non-tensor boundaries argument, and rot90's layout and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

LIBS = [ctorch] if torch is None else [ctorch, torch]
X = np.array([[3.0, -1.0, 2.0, 5.0], [0.5, 4.0, -2.0, 1.0], [7.0, 0.0, 6.0, -3.0]])

# name -> (call(lib, x, **out_kw), kinds of the outputs: "f" float / "i" int64 / "b" bool)
CASES = {
    "sum": (lambda L, x, **k: L.sum(x, 1, **k), "f"),
    "sum keepdim": (lambda L, x, **k: L.sum(x, 0, keepdim=True, **k), "f"),
    "mean": (lambda L, x, **k: L.mean(x, 0, **k), "f"),
    "prod": (lambda L, x, **k: L.prod(x, 1, **k), "f"),
    "nansum": (lambda L, x, **k: L.nansum(x, 1, **k), "f"),
    "nanmean": (lambda L, x, **k: L.nanmean(x, 1, **k), "f"),
    "amax": (lambda L, x, **k: L.amax(x, 1, **k), "f"),
    "amin": (lambda L, x, **k: L.amin(x, 0, **k), "f"),
    "std": (lambda L, x, **k: L.std(x, 1, **k), "f"),
    "var": (lambda L, x, **k: L.var(x, 0, **k), "f"),
    "norm": (lambda L, x, **k: L.norm(x, 2, 1, **k), "f"),
    "logsumexp": (lambda L, x, **k: L.logsumexp(x, 1, **k), "f"),
    "cumsum": (lambda L, x, **k: L.cumsum(x, 1, **k), "f"),
    "cumprod": (lambda L, x, **k: L.cumprod(x, 0, **k), "f"),
    "argmax": (lambda L, x, **k: L.argmax(x, 1, **k), "i"),
    "argmin": (lambda L, x, **k: L.argmin(x, 0, **k), "i"),
    "all": (lambda L, x, **k: L.all(x > 0, 1, **k), "b"),
    "any": (lambda L, x, **k: L.any(x > 6, 0, **k), "b"),
    "clamp": (lambda L, x, **k: L.clamp(x, -1.0, 4.0, **k), "f"),
    "where": (lambda L, x, **k: L.where(x > 1, x, L.zeros(()).double(), **k), "f"),
    "addmm": (lambda L, x, **k: L.addmm(L.ones(3, 3).double(), x, x.T, **k), "f"),
    "addmv": (lambda L, x, **k: L.addmv(L.ones(3).double(), x, x[0], **k), "f"),
    "baddbmm": (
        lambda L, x, **k: L.baddbmm(L.ones(1, 3, 3).double(), x[None], x.T[None], **k),
        "f",
    ),
    "max dim": (lambda L, x, **k: L.max(x, 1, **k), "fi"),
    "min dim": (lambda L, x, **k: L.min(x, 0, keepdim=True, **k), "fi"),
    "sort": (lambda L, x, **k: L.sort(x, 1, **k), "fi"),
    "topk": (lambda L, x, **k: L.topk(x, 2, **k), "fi"),
    "kthvalue": (lambda L, x, **k: L.kthvalue(x, 2, 1, **k), "fi"),
    "median dim": (lambda L, x, **k: L.median(x, 1, **k), "fi"),
}


def _empty(lib, kind):
    return lib.empty(0, dtype={"f": lib.float64, "i": lib.int64, "b": lib.bool}[kind])


def _np(r):
    return [t.numpy() for t in r] if isinstance(r, tuple) else [r.numpy()]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", list(CASES))
def test_out_is_written_and_returned(lib, name):
    call, kinds = CASES[name]
    x = lib.tensor(X)
    want = call(lib, x)
    outs = tuple(_empty(lib, k) for k in kinds)
    got = call(lib, x, out=outs if len(kinds) > 1 else outs[0])
    if len(kinds) > 1:
        # (torch's type is return_types.<name>_out; ours the function's own return type)
        assert got.values is outs[0] and got.indices is outs[1] and len(got) == len(want) == 2
        assert all(g is o for g, o in zip(got, outs, strict=True))
    else:
        assert got is outs[0]
    for g, w in zip(_np(got), _np(want), strict=True):
        np.testing.assert_array_equal(g, w)
    if lib is ctorch and torch is not None:
        ref = CASES[name][0](torch, torch.tensor(X))
        for g, w in zip(_np(got), _np(ref), strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("lib", LIBS)
def test_out_errors(lib):
    x = lib.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        lib.sum(x, 0, out=lib.empty(4, dtype=lib.float64))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        lib.mean(x.detach(), 0, out=lib.empty(4, dtype=lib.int64))
    o = lib.empty(4, dtype=lib.float32)  # float64 -> float32: a same-kind cast, allowed
    lib.sum(x.detach(), 0, out=o)
    np.testing.assert_allclose(o.numpy(), X.sum(0), rtol=1e-6)


def test_out_tuple_must_match():
    with pytest.raises(TypeError, match="tuple of 2 Tensors"):
        ctorch.max(ctorch.tensor(X), 1, out=ctorch.empty(0))


@pytest.mark.parametrize("lib", LIBS)
def test_repeat_interleave_repeats_only(lib):
    r = lib.repeat_interleave(lib.tensor([1, 0, 3, 2]))
    assert r.tolist() == [0, 2, 2, 2, 3, 3]
    assert lib.repeat_interleave(lib.tensor([], dtype=lib.int64)).tolist() == []
    with pytest.raises(RuntimeError, match="only accept 1D vector"):
        lib.repeat_interleave(lib.tensor(2))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        lib.repeat_interleave(lib.tensor([1, -1]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        lib.repeat_interleave(lib.tensor([1.0, 2.0]))


@pytest.mark.parametrize("lib", LIBS)
def test_bucketize_boundaries_must_be_a_tensor(lib):
    with pytest.raises(TypeError, match="bucketize"):
        lib.bucketize(lib.tensor([1.0, 2.0]), 2)


@pytest.mark.parametrize("k", range(-5, 6))
@pytest.mark.parametrize("dims", [(0, 1), (2, 0), (1, 2), (-1, -2)])
def test_rot90_values_grads_strides(k, dims):
    x = np.arange(24.0).reshape(2, 3, 4)
    g = np.random.default_rng(k + 5).standard_normal(np.rot90(x, k, dims).shape)
    xc = ctorch.tensor(x, requires_grad=True)
    r = ctorch.rot90(xc, k, dims)
    r.backward(ctorch.tensor(g))
    np.testing.assert_array_equal(r.detach().numpy(), np.rot90(x, k, dims))
    np.testing.assert_array_equal(xc.grad.numpy(), np.rot90(g, -k, dims))
    if torch is not None:  # torch: odd turns are a flipped copy's transposed view
        assert r.stride() == torch.rot90(torch.tensor(x), k, dims).stride()


@pytest.mark.parametrize("lib", LIBS)
def test_rot90_errors(lib):
    with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
        lib.rot90(lib.arange(3.0))
    with pytest.raises(RuntimeError, match="expected rotation dims to be different"):
        lib.rot90(lib.ones(2, 2), 1, (0, 0))
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 1"):
        lib.rot90(lib.ones(2, 2), 1, (0,))
    with pytest.raises(IndexError, match="Dimension out of range"):
        lib.rot90(lib.ones(2, 2), 1, (0, 5))
