"""Differential fuzzing against torch: hypothesis draws an op, shapes, dtypes, layouts and
special values; ctorch and torch run the same call and must agree.

Compared: raised-or-not, result dtype and shape, NaN positions, values (a few ulps), and the
gradients of every floating input. Ops are drawn from the op table (every row with a torch
name) plus a list of reductions and shape ops. Inputs: 0-d to 3-d, size-0 dims, broadcasting
pairs, non-contiguous and negatively strided views, and NaN, +-inf, -0.0, huge and denormal
values mixed into normal ones.

Profiles: ``ci`` (the default here: a bounded number of examples, under a minute) and
``long`` (by hand: ``CTORCH_FUZZ=long python -m pytest tests/test_fuzz_differential.py``).
Where torch is wrong or crashes and ctorch does better, the case is excluded below with the
reason in a comment.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ctorch  # noqa: E402
from ctorch import _table  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("CTORCH_FUZZ", "ci")

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 1e-40, 1.0, -1.0, 0.5]

TABLE_UNARY = [op.public for op in _table.UNARY if op.public and not op.nn_only]
TABLE_BINARY = [op.public for op in _table.BINARY if op.public and not op.nn_only]
REDUCTIONS = ["sum", "mean", "amax", "amin", "prod", "logsumexp", "nansum", "std", "var"]
DIM_OPS = ["softmax", "log_softmax", "cumsum", "cumprod", "flip"]


def _elements(dtype):
    width = 32 if dtype == np.float32 else 64
    normal = st.floats(min_value=-4, max_value=4, width=width)
    special = st.sampled_from([float(np.asarray(v, dtype)) for v in SPECIAL])
    return st.one_of(normal, normal, normal, special)


@st.composite
def arrays(draw, shape, dtype):
    a = draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))
    layout = draw(st.sampled_from(["c", "c", "reversed", "transposed"]))
    if layout == "reversed" and a.ndim >= 1:
        a = np.array(a[::-1], order="C")[::-1]  # same values, negative stride
    elif layout == "transposed" and a.ndim >= 2:
        a = np.ascontiguousarray(a.T).T  # same values, Fortran order
    return a


def _pair(a):
    """The same data as a ctorch and a torch tensor (torch gets its own copy: NumPy views with
    negative strides are not accepted by torch.from_numpy)."""
    return ctorch.from_numpy(a), torch.from_numpy(np.array(a, order="C", copy=True))


def _run(fn, lib_inputs):
    try:
        return fn(*lib_inputs), None
    except Exception as e:  # noqa: BLE001 - raised-or-not is part of the comparison
        return None, e


def _compare(c, t, dtype, what, cond=0.0):
    assert (c is None) == (t is None), what
    if c is None:
        return
    if isinstance(t, torch.Tensor):
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (what, c.dtype, t.dtype)
        assert tuple(c.shape) == tuple(t.shape), (what, c.shape, t.shape)
        cn = c.detach().numpy()
        tn = t.detach().numpy()
        if cn.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(cn), np.isnan(tn), f"{what}: NaN positions")
            tol = 2e-5 if dtype == np.float32 else 1e-11
            fin = np.isfinite(tn)
            np.testing.assert_array_equal(cn[~fin & ~np.isnan(tn)], tn[~fin & ~np.isnan(tn)], what)
            np.testing.assert_allclose(
                cn[fin],
                tn[fin],
                rtol=tol,
                atol=tol * max(1.0, np.abs(tn[fin]).max(initial=0), cond),
                err_msg=what,
            )
        else:
            np.testing.assert_array_equal(cn, tn, what)


def _check(fn, arrs, dtype, what, grad=True, cond=0.0):
    """``cond``: the size of the terms a result is summed from (sum of |x|), when it dwarfs
    the result: [1e30, 1, -1e30] sums to 1 or 0 by summation order alone, in either library
    (torch's lane order happens to pair the two 1e30s), so the tolerance scales with it."""
    cs, ts = zip(*(_pair(a) for a in arrs), strict=True)
    with np.errstate(all="ignore"):
        c, ce = _run(fn(ctorch), cs)
    t, te = _run(fn(torch), ts)
    assert (ce is None) == (te is None), f"{what}: ctorch raised {ce!r}, torch raised {te!r}"
    if ce is not None:
        return
    _compare(c, t, dtype, what, cond)
    if not grad or not isinstance(t, torch.Tensor) or not t.is_floating_point():
        return
    scale = max((float(np.abs(a).max()) for a in arrs if a.size), default=0.0)
    tiny = dtype == np.float32 and t.numel() and float(t.abs().min()) < 1e-30
    if what.startswith("std") and t.numel() and (float(t.abs().min()) < 1e-4 * scale or tiny):
        # a (near-)constant slice: torch's float32 std rounds to a tiny non-zero value whose
        # gradient is pure rounding (x - mean) / std; ctorch accumulates in float64 like torch
        # but gets the exact 0 there and torch's std_backward rule gives gradient 0;
        # a float32 std below 1e-30 (denormal inputs): torch's backward takes 1 / std in
        # float32, inf, and returns [inf, nan] for std([1e-45, 0]); ctorch's float64 path
        # gives the true +-0.7071 (better than torch, so not compared)
        return
    # gradients where everything is finite (NaN gradients at special values are compared by
    # the forward NaN positions and by tests/test_optable.py's special-value checks)
    # (and below 1e6: with huge inputs intermediate products overflow, and inf - inf in a
    # gradient formula gives NaN where another formula's order gives inf)
    if not all((np.abs(a) < 1e6).all() for a in arrs) or not torch.isfinite(t).all():
        return
    cg = [ctorch.from_numpy(np.array(a, order="C", copy=True)).requires_grad_() for a in arrs]
    tg = [torch.from_numpy(np.array(a, order="C", copy=True)).requires_grad_() for a in arrs]
    with np.errstate(all="ignore"):
        cy = fn(ctorch)(*cg)
    ty = fn(torch)(*tg)
    if not ty.requires_grad:
        return
    w = np.random.default_rng(0).standard_normal(tuple(ty.shape)).astype(dtype)
    (cy * ctorch.from_numpy(w)).sum().backward()
    (ty * torch.from_numpy(w)).sum().backward()
    for i, (a, b) in enumerate(zip(cg, tg, strict=True)):
        if b.grad is None:
            continue
        assert a.grad is not None, f"{what}: no ctorch gradient for input {i}"
        _compare(a.grad, b.grad, dtype, f"{what}: gradient of input {i}")


DTYPES = st.sampled_from([np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)

run = settings.get_profile(PROFILE)


@run
@given(data=st.data(), name=st.sampled_from(TABLE_UNARY), dtype=DTYPES, shape=SHAPES)
def test_unary_table_ops(data, name, dtype, shape):
    a = data.draw(arrays(shape, dtype))
    _check(lambda lib: getattr(lib, name), [a], dtype, f"{name}{shape} {np.dtype(dtype)}")


@run
@given(data=st.data(), name=st.sampled_from(TABLE_BINARY), dtype=DTYPES)
def test_binary_table_ops_broadcasting(data, name, dtype):
    s1, s2 = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)
    ).input_shapes
    a = data.draw(arrays(s1, dtype))
    b = data.draw(arrays(s2, dtype))
    _check(lambda lib: getattr(lib, name), [a, b], dtype, f"{name}{s1}x{s2} {np.dtype(dtype)}")


@run
@given(data=st.data(), name=st.sampled_from(REDUCTIONS), dtype=DTYPES, shape=SHAPES)
def test_reductions(data, name, dtype, shape):
    a = data.draw(arrays(shape, dtype))
    nd = len(shape)
    dim = data.draw(st.none() | st.integers(-max(nd, 1), max(nd, 1) - 1)) if nd else None
    keep = data.draw(st.booleans())
    if dim is None:
        fn = lambda lib: lambda x: getattr(lib, name)(x)  # noqa: E731
        if name == "logsumexp":  # torch requires dim for logsumexp
            fn = lambda lib: lambda x: lib.logsumexp(x, dim=tuple(range(x.dim())))  # noqa: E731
    else:
        fn = lambda lib: lambda x: getattr(lib, name)(x, dim, keepdim=keep)  # noqa: E731
    fin = a[np.isfinite(a)]
    big = float(np.abs(fin).max(initial=0.0))
    # the size of the rounding a float result carries: a sum's terms, or for std/var the
    # data's magnitude (std([1e30] * 3) is exactly 0 in ctorch, 9.3e22 in torch's float32)
    cond = {"sum": float(np.abs(fin).sum(dtype=np.float64)), "std": big, "var": big * big}
    cond = cond.get("sum" if name in ("mean", "nansum") else name, 0.0)
    _check(fn, [a], dtype, f"{name}{shape} dim={dim} keepdim={keep} {np.dtype(dtype)}", cond=cond)


@run
@given(data=st.data(), name=st.sampled_from(DIM_OPS), dtype=DTYPES, shape=SHAPES)
def test_dim_ops(data, name, dtype, shape):
    a = data.draw(arrays(shape, dtype))
    nd = len(shape)
    dim = data.draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    if name == "flip":
        fn = lambda lib: lambda x: lib.flip(x, (dim,))  # noqa: E731
    else:
        fn = lambda lib: lambda x: getattr(lib, name)(x, dim)  # noqa: E731
    _check(fn, [a], dtype, f"{name}{shape} dim={dim} {np.dtype(dtype)}")
