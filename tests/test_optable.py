"""Every row of the op table (ctorch/_table/elementwise.def), tested from the table itself.

For each row with a torch name: the public function, its aliases, the Tensor method, the
in-place variant and ``out=`` exist and agree; forward against torch (when installed) at sizes
below and above the kernel threshold; gradients by float64 finite differences and against
torch; ``grad_fn`` named as torch names it; double backward through the row's backward
expression. A new row is covered as soon as it is added; only an op whose inputs need a
special domain adds a line to ``DOMAIN`` below.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch
from ctorch import _table
from ctorch._backend import KERNEL_MIN

if HAS_TORCH:
    import torch

# (low, high) of the inputs where the default (-2, 2) leaves the domain or hits a kink
DOMAIN = {
    "log": (0.1, 3.0),
    "log1p": (-0.5, 3.0),
    "log2": (0.1, 3.0),
    "log10": (0.1, 3.0),
    "sqrt": (0.1, 3.0),
    "rsqrt": (0.1, 3.0),
    "reciprocal": (0.5, 3.0),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atanh": (-0.9, 0.9),
    "acosh": (1.2, 4.0),
    "tan": (-1.2, 1.2),
    "pow": (0.5, 2.0),
    "div": (0.5, 2.0),
    "xlogy": (0.1, 3.0),
}
# rows whose gradient is zero almost everywhere (finite differences are meaningless at jumps)
PIECEWISE_CONSTANT = {"sign", "floor", "ceil", "round", "trunc"}

PUBLIC = [op for op in (*_table.UNARY, *_table.BINARY) if op.public and not op.nn_only]
IDS = [op.public for op in PUBLIC]


def _call(lib, op, *xs):
    return getattr(lib, op.public)(*xs)


@pytest.mark.parametrize("op", PUBLIC, ids=IDS)
@pytest.mark.parametrize("n", [7, KERNEL_MIN + 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_gradients(op, n, dtype):
    low, high = DOMAIN.get(op.public, (-2.0, 2.0))
    shapes = [(n,)] * (1 if op.kind == "unary" else 2)
    smooth = op.public not in PIECEWISE_CONSTANT
    check_op(
        lambda lib, *xs: _call(lib, op, *xs),
        shapes,
        dtype=dtype,
        low=low,
        high=high,
        grad=smooth,
        gradcheck=smooth and n < 100,  # finite differences on the small size only
        atol=1e-5 if dtype == np.float32 else 1e-12,
        rtol=2e-5 if dtype == np.float32 else 1e-12,
    )


@pytest.mark.parametrize("op", PUBLIC, ids=IDS)
def test_method_inplace_out_and_aliases(op):
    low, high = DOMAIN.get(op.public, (-2.0, 2.0))
    rng = np.random.default_rng(1)
    xs = [ctorch.tensor(rng.uniform(low, high, 11)) for _ in range(1 if op.kind == "unary" else 2)]
    want = _call(ctorch, op, *xs)
    for name in (op.public, *op.aliases):
        np.testing.assert_array_equal(getattr(ctorch, name)(*xs).numpy(), want.numpy(), name)
        np.testing.assert_array_equal(getattr(xs[0], name)(*xs[1:]).numpy(), want.numpy(), name)
        x0 = xs[0].clone()
        r = getattr(x0, name + "_")(*xs[1:])
        assert r is x0, f"{name}_ returns self"
        np.testing.assert_array_equal(x0.numpy(), want.numpy(), name + "_")
    if op.public not in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "round"):
        out = ctorch.empty(11, dtype=ctorch.float64)
        r = getattr(ctorch, op.public)(*xs, out=out)
        assert r is out
        np.testing.assert_array_equal(out.numpy(), want.numpy())
    if op.ufunc:
        r = getattr(np, op.ufunc)(*xs)  # __array_ufunc__ maps the row's ufunc to the op
        assert isinstance(r, ctorch.Tensor)
        np.testing.assert_allclose(r.numpy(), want.numpy(), rtol=1e-15, atol=0)


@pytest.mark.skipif(not HAS_TORCH, reason="grad_fn names are torch's")
@pytest.mark.parametrize("op", [op for op in PUBLIC if not op.custom], ids=lambda o: o.public)
def test_grad_fn_name_matches_torch(op):
    n = 1 if op.kind == "unary" else 2
    c = _call(ctorch, op, *[ctorch.tensor([0.5, 0.7], requires_grad=True) for _ in range(n)])
    t = _call(torch, op, *[torch.tensor([0.5, 0.7], requires_grad=True) for _ in range(n)])
    assert c.grad_fn.name() == t.grad_fn.name()


@pytest.mark.skipif(not HAS_TORCH, reason="compares with torch")
@pytest.mark.parametrize(
    "op", [op for op in PUBLIC if op.public not in PIECEWISE_CONSTANT], ids=lambda o: o.public
)
def test_double_backward_matches_torch(op):
    """The row's backward expression runs on tensors, so create_graph differentiates it."""
    low, high = DOMAIN.get(op.public, (-2.0, 2.0))
    rng = np.random.default_rng(2)
    arrs = [rng.uniform(low, high, 9) for _ in range(1 if op.kind == "unary" else 2)]
    grads = []
    for lib in (ctorch, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrs]
        y = _call(lib, op, *xs)
        (g,) = lib.autograd.grad(y.sum(), xs[0], create_graph=True)
        gg = None
        if g.requires_grad:  # a gradient constant in x (neg, add) has no graph
            (gg,) = lib.autograd.grad((g * g).sum(), xs[0], allow_unused=True)
        to_np = (
            (lambda t: t.detach().numpy(force=True))
            if lib is torch
            else (lambda t: t.detach().numpy())
        )
        grads.append((to_np(g), None if gg is None else to_np(gg)))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10, atol=1e-12)
    c2, t2 = grads[0][1], grads[1][1]
    if c2 is None or t2 is None:  # one library kept a graph whose derivative is zero
        assert not np.any(c2 if c2 is not None else 0) and not np.any(t2 if t2 is not None else 0)
    else:
        np.testing.assert_allclose(c2, t2, rtol=1e-8, atol=1e-10)


@pytest.mark.skipif(not HAS_TORCH, reason="compares with torch")
@pytest.mark.parametrize("op", PUBLIC, ids=IDS)
def test_special_values_match_torch(op):
    """NaN, +-inf, +-0 and huge values: same values (and NaN positions) as torch."""
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 0.5, -0.5, 1.0, -1.0])
    if op.kind == "unary":
        args = [vals]
    else:
        a, b = np.meshgrid(vals, vals)
        args = [a.ravel(), b.ravel()]
    for dt in (np.float32, np.float64):
        c = _call(ctorch, op, *[ctorch.tensor(a.astype(dt)) for a in args]).numpy()
        t = _call(torch, op, *[torch.tensor(a.astype(dt)) for a in args]).numpy()
        np.testing.assert_array_equal(np.isnan(c), np.isnan(t), f"{op.public} NaN positions")
        # values agree to a few ulps at the inputs' scale (1): cancellation near 0 (logaddexp
        # of -1 and -1) leaves torch and ctorch a rounding apart there
        tol = 4e-7 if dt == np.float32 else 1e-15
        np.testing.assert_allclose(c, t, rtol=tol, atol=tol)


def test_table_is_consistent():
    """Codes are the row order; names are unique; every alias resolves."""
    for rows in (_table.UNARY, _table.BINARY):
        assert [op.code for op in rows] == list(range(len(rows)))
        assert len({op.name for op in rows}) == len(rows)
    from ctorch._core import elementwise as E

    for name, code in _table.code_names().items():
        assert getattr(E, name) == code
