"""Property-based tests (hypothesis): broadcasting arithmetic and basic indexing vs NumPy."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ctorch  # noqa: E402

SETTINGS = settings(max_examples=50, deadline=None)
floats = st.floats(-100, 100, width=32, allow_nan=False)


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
    op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "minimum", "gt", "eq"]),
    data=st.data(),
)
def test_broadcasting_arithmetic(shapes, op, data):
    sa, sb = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float32, sa, elements=floats))
    b = data.draw(hnp.arrays(np.float32, sb, elements=st.floats(0.5, 50, width=32)))
    ref = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "div": np.divide,
        "maximum": np.maximum,
        "minimum": np.minimum,
        "gt": np.greater,
        "eq": np.equal,
    }[op]
    r = getattr(ctorch, op)(ctorch.from_numpy(a), ctorch.from_numpy(b))
    e = ref(a, b)
    assert tuple(r.shape) == shapes.result_shape
    np.testing.assert_allclose(r.numpy(), e, rtol=1e-6)
    # gradients reduce back to the input shapes
    if op in ("add", "mul"):
        ta = ctorch.tensor(a, requires_grad=True)
        tb = ctorch.tensor(b, requires_grad=True)
        getattr(ctorch, op)(ta, tb).sum().backward()
        assert ta.grad.shape == sa and tb.grad.shape == sb
        if op == "add":
            expected = np.ones(shapes.result_shape, np.float32)
            lead = len(shapes.result_shape) - len(sa)
            expected = expected.sum(axis=tuple(range(lead)))
            for i, s in enumerate(sa):
                if s == 1:
                    expected = expected.sum(axis=i, keepdims=True)
            np.testing.assert_allclose(ta.grad.numpy(), expected)


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
    scalar=st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)),
    data=st.data(),
)
def test_scalar_and_reflected(shapes, scalar, data):
    sa = shapes.input_shapes[0]
    a = data.draw(hnp.arrays(np.float32, sa, elements=floats))
    t = ctorch.from_numpy(a)
    np.testing.assert_allclose((t + scalar).numpy(), a + np.float32(scalar), rtol=1e-6)
    np.testing.assert_allclose((scalar - t).numpy(), np.float32(scalar) - a, rtol=1e-6)
    np.testing.assert_allclose((t * scalar).numpy(), a * np.float32(scalar), rtol=1e-6)
    assert (t * scalar).dtype is ctorch.float32


@SETTINGS
@given(
    idx=hnp.basic_indices(shape=(4, 5, 3), allow_newaxis=True, allow_ellipsis=True), data=st.data()
)
def test_basic_indexing(idx, data):
    a = np.arange(60, dtype=np.float32).reshape(4, 5, 3)
    t = ctorch.from_numpy(a.copy())
    parts = idx if isinstance(idx, tuple) else (idx,)
    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
        with pytest.raises(ValueError):  # torch rejects negative steps
            t[idx]
        return
    r = t[idx]
    e = a[idx]
    assert tuple(r.shape) == e.shape
    np.testing.assert_array_equal(r.numpy(), e)
    if e.ndim:
        assert np.shares_memory(r.numpy(), t.numpy()) or e.size == 0
    # setitem through the same index writes the same elements
    b = a.copy()
    b[idx] = -1
    t[idx] = -1
    np.testing.assert_array_equal(t.numpy(), b)
    # gradient of a basic index scatters ones back
    w = ctorch.tensor(a, requires_grad=True)
    w[idx].sum().backward()
    g = np.zeros_like(a)
    g[idx] = 1
    np.testing.assert_array_equal(w.grad.numpy(), g)


@SETTINGS
@given(data=st.data())
def test_advanced_indexing(data):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    rows = data.draw(hnp.arrays(np.int64, st.integers(1, 4), elements=st.integers(-4, 3)))
    mask = data.draw(hnp.arrays(np.bool_, (4, 5)))
    t = ctorch.tensor(a, requires_grad=True)
    r = t[ctorch.from_numpy(rows)]
    np.testing.assert_array_equal(r.detach().numpy(), a[rows])
    m = t[ctorch.from_numpy(mask)]
    np.testing.assert_array_equal(m.detach().numpy(), a[mask])
    (r.sum() + m.sum()).backward()
    g = np.zeros_like(a)
    np.add.at(g, rows, 1)
    g += mask
    np.testing.assert_array_equal(t.grad.numpy(), g)
