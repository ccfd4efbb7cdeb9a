"""NumPy interop: memory sharing, read-only arrays, __array_ufunc__/__array_function__, DLPack."""

import numpy as np
import pytest

import ctorch


def test_from_numpy_shares_both_ways():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ctorch.from_numpy(a)
    assert t.dtype is ctorch.float64
    a[0, 0] = 10
    assert t[0, 0].item() == 10
    t[1, 2] = -1
    assert a[1, 2] == -1
    t.add_(1)
    assert a[0, 0] == 11
    for dt in [np.float32, np.int64, np.int32, np.uint8, np.bool_, np.int8, np.int16, np.float16]:
        assert ctorch.from_numpy(np.zeros(2, dt)).numpy().dtype == dt


def test_from_numpy_non_contiguous_and_negative_strides():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    for a in [base[:, ::2], base.T, base[::-1], base[:, ::-2], base[1:3, 4:1:-1]]:
        t = ctorch.from_numpy(a)
        assert np.shares_memory(t.numpy(), base)
        np.testing.assert_array_equal(t.numpy(), a)
        assert t.shape == a.shape
        np.testing.assert_array_equal((t * 2).numpy(), a * 2)
        np.testing.assert_array_equal(t.sum(0).numpy(), a.sum(0))
        np.testing.assert_array_equal(t.reshape(-1).numpy(), a.reshape(-1))
    t = ctorch.from_numpy(base[::-1])
    t[0, 0] = 100
    assert base[3, 0] == 100


def test_read_only_array_raises_on_inplace():
    a = np.ones(3, np.float32)
    a.flags.writeable = False
    t = ctorch.from_numpy(a)
    assert (t + 1).tolist() == [2.0, 2.0, 2.0]
    for f in [
        lambda: t.add_(1),
        lambda: t.zero_(),
        lambda: t.fill_(2),
        lambda: t.mul_(2),
        lambda: t.__setitem__(0, 5.0),
        lambda: t.copy_(ctorch.zeros(3)),
        lambda: t.clamp_(0, 1),
        lambda: t.exp_(),
    ]:
        with pytest.raises(RuntimeError, match="read-only"):
            f()
    with pytest.raises(RuntimeError, match="read-only"):
        t += 1
    assert a.tolist() == [1.0, 1.0, 1.0]
    c = t.clone()
    c.add_(1)
    assert c.tolist() == [2.0, 2.0, 2.0]


def test_numpy_is_view_and_requires_grad_error():
    t = ctorch.zeros(3)
    n = t.numpy()
    n[0] = 4
    assert t[0].item() == 4
    w = ctorch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        w.numpy()
    assert np.shares_memory(w.detach().numpy(), w.data.numpy())
    assert w.numpy(force=True).shape == (3,)


def test_asarray_zero_copy_and_array_protocol():
    t = ctorch.arange(6.0).reshape(2, 3)
    a = np.asarray(t)
    assert np.shares_memory(a, t.numpy())
    assert np.array(t).tolist() == t.tolist()
    assert not np.shares_memory(np.array(t), t.numpy())
    assert np.array(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(t, dtype=np.float32) is not None
    assert (
        np.transpose(t).shape == (3, 2)
        if not isinstance(np.transpose(t), ctorch.Tensor)
        else np.transpose(t).shape == (3, 2)
    )
    w = ctorch.ones(2, requires_grad=True)
    assert np.asarray(w.detach()).tolist() == [1.0, 1.0]


def test_tensor_copies_as_tensor_shares():
    a = np.ones(3, np.float32)
    assert not np.shares_memory(ctorch.tensor(a).numpy(), a)
    assert np.shares_memory(ctorch.as_tensor(a).numpy(), a)
    assert np.shares_memory(ctorch.asarray(a).numpy(), a)
    assert ctorch.as_tensor(a, dtype=ctorch.float64).dtype is ctorch.float64
    t = ctorch.ones(2)
    assert ctorch.as_tensor(t) is t


def test_array_ufunc_returns_differentiable_tensors():
    x = ctorch.tensor([[0.5, 1.0, 2.0], [1.5, 0.1, 0.3]], requires_grad=True)
    a = np.array([1.0, 2.0, 3.0], np.float32)
    y = np.exp(x)
    assert isinstance(y, ctorch.Tensor) and y.requires_grad
    z = np.add(x, a)
    assert isinstance(z, ctorch.Tensor) and z.requires_grad
    s = np.sum(x, axis=1)
    assert isinstance(s, ctorch.Tensor) and s.shape == (2,)
    c = np.concatenate([x, x * 2])
    assert isinstance(c, ctorch.Tensor) and c.shape == (4, 3)
    m = np.matmul(x, ctorch.ones(3, 2))
    assert isinstance(m, ctorch.Tensor) and m.shape == (2, 2)
    (
        y.sum()
        + z.sum()
        + s.sum()
        + c.sum()
        + m.sum()
        + np.mean(x)
        + np.sqrt(x).sum()
        + np.maximum(x, 1.0).sum()
    ).backward()
    xa = x.detach().numpy()
    tie = np.where(xa > 1.0, 1.0, np.where(xa == 1.0, 0.5, 0.0))  # torch splits ties
    expected = np.exp(xa) + 1 + 1 + 3 + 2 + 1 / 6 + 0.5 / np.sqrt(xa) + tie
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


def test_array_ufunc_values_and_reductions():
    a = np.random.default_rng(0).uniform(0.5, 2, (3, 4)).astype(np.float32)
    t = ctorch.from_numpy(a.copy())
    for uf in [np.exp, np.log, np.sqrt, np.sin, np.tanh, np.abs, np.negative, np.square]:
        r = uf(t)
        assert isinstance(r, ctorch.Tensor)
        np.testing.assert_allclose(r.numpy(), uf(a), rtol=1e-6)
    for uf in [
        np.add,
        np.subtract,
        np.multiply,
        np.divide,
        np.power,
        np.maximum,
        np.minimum,
        np.greater,
        np.equal,
    ]:
        r = uf(t, a[0])
        assert isinstance(r, ctorch.Tensor)
        np.testing.assert_allclose(r.numpy(), uf(a, a[0]), rtol=1e-6)
    np.testing.assert_allclose(np.mean(t, axis=0).numpy(), a.mean(0), rtol=1e-6)
    np.testing.assert_allclose(np.max(t, axis=1).numpy(), a.max(1))
    assert np.argmax(t) == a.argmax()
    np.testing.assert_allclose(np.stack([t, t]).numpy(), np.stack([a, a]))
    np.testing.assert_allclose(np.reshape(t, (4, 3)).numpy(), a.reshape(4, 3))
    np.testing.assert_allclose(np.dot(t, t.T).numpy(), a @ a.T, rtol=1e-5)
    out = np.empty_like(a)
    np.add(t, 1, out=out)
    np.testing.assert_allclose(out, a + 1)
    tout = ctorch.empty(3, 4)
    np.add(t, 1, out=tout)
    np.testing.assert_allclose(tout.numpy(), a + 1)


def test_mixing_tensor_and_ndarray_either_side():
    t = ctorch.ones(2, 3)
    a = np.full((2, 3), 2.0, np.float32)
    for r in [
        t + a,
        a + t,
        t * a,
        a * t,
        a - t,
        t - a,
        a / t,
        t / a,
        a @ t.T,
        t @ a.T,
        t + np.broadcast_to(np.float32(1), (2, 3)),
        a > t,
        t < a,
        a**t,
    ]:
        assert isinstance(r, ctorch.Tensor), type(r)
    assert (a - t).tolist() == [[1.0] * 3] * 2
    assert (a / t).dtype is ctorch.float32
    assert (t + np.ones((2, 3))).dtype is ctorch.float64  # an ndarray is a tensor operand
    w = ctorch.ones(3, requires_grad=True)
    (np.arange(3.0, dtype=np.float32) * w).sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 2.0]


def test_dlpack_with_numpy():
    t = ctorch.arange(6.0).reshape(2, 3)
    assert t.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(t)
    assert np.shares_memory(a, t.numpy())
    b = np.arange(4, dtype=np.int32)
    u = ctorch.from_dlpack(b)
    assert u.dtype is ctorch.int32 and np.shares_memory(u.numpy(), b)
    u[0] = 9
    assert b[0] == 9
    v = ctorch.from_dlpack(t)
    assert np.shares_memory(v.numpy(), t.numpy())


@pytest.mark.parametrize("npdt", [np.uint16, np.uint32, np.uint64])
def test_unsigned_arrays_keep_their_dtype(npdt):
    """uint16/32/64 arrays are ctorch.uint16/32/64 tensors (torch 2.3+): from_numpy and
    as_tensor share the memory, tensor copies; every value survives (uint64 past 2**63 too).
    (Until issue #14 they were widened to int32/int64 and from_numpy refused them.)"""
    a = np.array([0, 7, np.iinfo(npdt).max], npdt)
    want = getattr(ctorch, np.dtype(npdt).name)
    for t in (ctorch.from_numpy(a), ctorch.as_tensor(a)):
        assert t.dtype is want and np.shares_memory(t.numpy(), a)
    c = ctorch.tensor(a)
    assert c.dtype is want and not np.shares_memory(c.numpy(), a)
    assert c.tolist() == [int(v) for v in a]
