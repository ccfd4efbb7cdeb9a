"""maximum/minimum/fmax/fmin on ties of signed zeros, NaN, and out=.

ctorch keeps one rule on a tie (+0.0 against -0.0): the first operand, on every path (the
SIMD kernel, the small-tensor and broadcast paths, 16-bit dtypes, out=, autograd). torch's
fmax/fmin do the same for float16/32/64; its maximum/minimum do it in the scalar loop (small
tensors and tails) while its AVX lanes return the second operand, so the sign there depends on
the element's position, and its bfloat16 fmax returns the second: there we differ on purpose.
"""

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity cases skip
    torch = None

FNS = ["maximum", "minimum", "fmax", "fmin"]
DTYPES = ["float16", "bfloat16", "float32", "float64"]


def _zeros(n, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, -0.0, 0.0)


def _signs(t):
    return np.signbit(t.detach().float().numpy())


@pytest.mark.parametrize("fn", FNS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 3, 40, 5000])
@pytest.mark.parametrize("form", ["same", "bcast", "zero_dim", "method", "out", "grad"])
def test_tie_keeps_first_operand(fn, dtype, n, form):
    dt = getattr(ctorch, dtype)
    a = ctorch.tensor(_zeros(n, n), dtype=dt)
    b = ctorch.tensor(_zeros(n, n + 1), dtype=dt)
    if form == "bcast":
        a = ctorch.tensor(np.repeat(_zeros(n, n)[:, None], 3, 1), dtype=dt)
        b = ctorch.tensor(np.array([[-0.0, 0.0, -0.0]]), dtype=dt)
    elif form == "zero_dim":
        b = ctorch.tensor(-0.0 if n % 2 else 0.0, dtype=dt)
    for x, y in ((a, b), (b, a)):
        if form == "method":
            r = getattr(x, fn)(y)
        elif form == "out":
            r = ctorch.empty(0, dtype=dt)
            assert getattr(ctorch, fn)(x, y, out=r) is r
        elif form == "grad":
            x = x.clone().requires_grad_()
            r = getattr(ctorch, fn)(x, y)
            assert r.requires_grad
        else:
            r = getattr(ctorch, fn)(x, y)
        want = np.broadcast_to(_signs(x), tuple(r.shape))
        np.testing.assert_array_equal(_signs(r), want)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("fn", FNS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_ties_match_torch_where_torch_has_one_rule(fn, dtype):
    # torch's scalar loop: tensors shorter than one vector; fmax/fmin: every length
    lengths = [1, 2, 3, 5] + ([40, 1000] if fn in ("fmax", "fmin") else [])
    for n in lengths:
        a, b = _zeros(n, 7 * n), _zeros(n, 7 * n + 1)
        for p, q in ((a, b), (b, a)):
            got = getattr(ctorch, fn)(
                ctorch.tensor(p, dtype=getattr(ctorch, dtype)),
                ctorch.tensor(q, dtype=getattr(ctorch, dtype)),
            )
            ref = getattr(torch, fn)(
                torch.tensor(p, dtype=getattr(torch, dtype)),
                torch.tensor(q, dtype=getattr(torch, dtype)),
            )
            np.testing.assert_array_equal(_signs(got), np.signbit(ref.float().numpy()))


@pytest.mark.parametrize("n", [4, 4000])
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_rules(n, dtype):
    nan = float("nan")
    a = np.array([nan, 1.0, 2.0, nan] * (n // 4))
    b = np.array([1.0, nan, 1.0, nan] * (n // 4))
    dt = getattr(ctorch, dtype)
    x, y = ctorch.tensor(a, dtype=dt), ctorch.tensor(b, dtype=dt)
    both = np.isnan(a) | np.isnan(b)
    for fn, ref in (("maximum", np.maximum), ("minimum", np.minimum)):
        r = getattr(ctorch, fn)(x, y).float().numpy()
        assert np.isnan(r[both]).all()
        np.testing.assert_array_equal(r[~both], ref(a, b)[~both])
    for fn, ref in (("fmax", np.fmax), ("fmin", np.fmin)):
        r = getattr(ctorch, fn)(x, y).float().numpy()
        np.testing.assert_array_equal(r, ref(a, b).astype(np.float32))
    if torch is not None:
        tx, ty = (
            torch.tensor(a, dtype=getattr(torch, dtype)),
            torch.tensor(b, dtype=getattr(torch, dtype)),
        )
        for fn in FNS:
            np.testing.assert_array_equal(
                getattr(ctorch, fn)(x, y).float().numpy(),
                getattr(torch, fn)(tx, ty).float().numpy(),
            )


def test_out_errors_as_torch():
    a, b = ctorch.tensor([0.0, 1.0]), ctorch.tensor([1.0, 0.0])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ctorch.maximum(a, b, out=ctorch.empty(2, dtype=ctorch.int64))
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        ctorch.fmin(a.requires_grad_(), b, out=ctorch.empty(2))
    o = ctorch.empty(2)
    ctorch.minimum(ctorch.tensor([3, 1]), ctorch.tensor([2.5, 4.0]), out=o)
    np.testing.assert_array_equal(o.numpy(), [2.5, 1.0])
