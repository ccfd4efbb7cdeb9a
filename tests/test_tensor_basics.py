"""dtypes and promotion, creation functions, attributes and Python protocols, printing."""

import itertools
import math

import numpy as np
import pytest
from helpers import HAS_TORCH, _torch, dtype_name

import ctorch

DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"]


def test_dtype_objects_and_aliases():
    assert ctorch.float is ctorch.float32 and ctorch.double is ctorch.float64
    assert ctorch.long is ctorch.int64 and ctorch.int is ctorch.int32
    assert ctorch.half is ctorch.float16
    assert repr(ctorch.float32) == "ctorch.float32" and str(ctorch.int64) == "ctorch.int64"
    assert ctorch.float32.is_floating_point and not ctorch.int64.is_floating_point
    assert ctorch.int8.is_signed and not ctorch.uint8.is_signed
    assert ctorch.float32.itemsize == 4
    for name in DTYPES:
        dt = getattr(ctorch, name)
        assert ctorch.zeros(2, dtype=dt).dtype is dt
        assert ctorch.zeros(2, dtype=dt).numpy().dtype == np.dtype(name)


def test_default_dtype():
    assert ctorch.get_default_dtype() is ctorch.float32
    ctorch.set_default_dtype(ctorch.float64)
    assert ctorch.tensor([1.5]).dtype is ctorch.float64
    assert ctorch.zeros(2).dtype is ctorch.float64 and ctorch.randn(2).dtype is ctorch.float64
    assert (ctorch.tensor([1, 2]) / 2).dtype is ctorch.float64
    ctorch.set_default_dtype(ctorch.float32)
    assert ctorch.arange(3.0).dtype is ctorch.float32
    with pytest.raises(TypeError):
        ctorch.set_default_dtype(ctorch.int64)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_promotion_table_vs_torch():
    for a, b in itertools.product(DTYPES, repeat=2):
        ct, tt = getattr(ctorch, a), getattr(_torch, b)
        assert dtype_name(ctorch.promote_types(ct, getattr(ctorch, b))) == dtype_name(
            _torch.promote_types(getattr(_torch, a), tt)
        ), (a, b)
        x = ctorch.ones(2, dtype=getattr(ctorch, a))
        y = ctorch.ones(2, dtype=getattr(ctorch, b))
        tx = _torch.ones(2, dtype=getattr(_torch, a))
        ty = _torch.ones(2, dtype=getattr(_torch, b))
        assert dtype_name((x + y).dtype) == dtype_name((tx + ty).dtype), (a, b)
        # 0-d tensors and Python scalars take part only by category
        x0 = ctorch.ones((), dtype=getattr(ctorch, b))
        tx0 = _torch.ones((), dtype=getattr(_torch, b))
        if a != "bool" or b == "bool":
            assert dtype_name((x * x0).dtype) == dtype_name((tx * tx0).dtype), (a, b, "0-d")
    for a in DTYPES:
        x = ctorch.ones(2, dtype=getattr(ctorch, a))
        tx = _torch.ones(2, dtype=getattr(_torch, a))
        for s in [2, 2.5, True]:
            assert dtype_name((x * s).dtype) == dtype_name((tx * s).dtype), (a, s)
            assert dtype_name((s * x).dtype) == dtype_name((s * tx).dtype), (a, s)
        if a != "bool":
            assert dtype_name((x / 2).dtype) == dtype_name((tx / 2).dtype), a
        assert dtype_name(ctorch.result_type(x, 2.5)) == dtype_name(_torch.result_type(tx, 2.5))


def test_tensor_inference():
    assert ctorch.tensor(1).dtype is ctorch.int64
    assert ctorch.tensor(1.0).dtype is ctorch.float32
    assert ctorch.tensor(True).dtype is ctorch.bool
    assert ctorch.tensor([1, 2.0]).dtype is ctorch.float32
    assert ctorch.tensor(np.float64(1.0)).dtype is ctorch.float64
    assert ctorch.tensor(np.array([1, 2], np.int32)).dtype is ctorch.int32
    assert ctorch.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert ctorch.tensor([]).shape == (0,) and ctorch.tensor([]).dtype is ctorch.float32
    assert ctorch.tensor([ctorch.tensor(1.0), ctorch.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert ctorch.tensor(3.5, dtype=ctorch.float64).item() == 3.5
    assert ctorch.tensor([0.1], dtype=ctorch.float64).item() == 0.1
    t = ctorch.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.tensor([1, 2], requires_grad=True)
    a = np.ones(3)
    c = ctorch.tensor(a)
    c[0] = 5
    assert a[0] == 1  # tensor() copies


def test_creation_functions():
    assert ctorch.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert ctorch.zeros((2, 3)).shape == (2, 3) and ctorch.zeros([2]).shape == (2,)
    assert ctorch.ones(2, dtype=ctorch.int64).tolist() == [1, 1]
    assert ctorch.empty(2, 3).shape == (2, 3)
    assert ctorch.zeros(()).shape == () and ctorch.zeros(0).numel() == 0
    f = ctorch.full((2, 2), 7)
    assert f.dtype is ctorch.int64 and f.sum().item() == 28
    assert ctorch.full((2,), 1.5).dtype is ctorch.float32
    assert ctorch.full((2,), True).dtype is ctorch.bool
    assert ctorch.full((2,), 2.0, requires_grad=True).requires_grad
    assert ctorch.eye(3).tolist() == np.eye(3).tolist()
    assert ctorch.eye(2, 3).shape == (2, 3) and ctorch.eye(2, requires_grad=True).requires_grad
    assert ctorch.arange(5).tolist() == [0, 1, 2, 3, 4] and ctorch.arange(5).dtype is ctorch.int64
    assert ctorch.arange(1, 4).tolist() == [1, 2, 3]
    assert ctorch.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ctorch.arange(0, 1, 0.25).dtype is ctorch.float32
    assert ctorch.arange(5, dtype=ctorch.float64).dtype is ctorch.float64
    assert ctorch.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    np.testing.assert_allclose(ctorch.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert ctorch.linspace(0, 1, 5).dtype is ctorch.float32
    assert ctorch.zeros(2, 3).new_zeros(4).shape == (4,)
    x64 = ctorch.zeros(2, dtype=ctorch.float64)
    assert x64.new_ones(3).dtype is ctorch.float64 and x64.new_full((2,), 3).tolist() == [3, 3]
    assert x64.new_empty((1, 2)).shape == (1, 2)
    assert x64.new_tensor([1, 2]).dtype is ctorch.float64
    for like in ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]:
        r = getattr(ctorch, like)(x64)
        assert r.shape == (2,) and r.dtype is ctorch.float64
        assert getattr(ctorch, like)(x64, dtype=ctorch.float32).dtype is ctorch.float32
    assert ctorch.full_like(x64, 4).tolist() == [4.0, 4.0]
    assert ctorch.randint_like(x64, 5).dtype is ctorch.float64


def test_legacy_constructors():
    assert ctorch.Tensor([1, 2]).dtype is ctorch.float32
    assert ctorch.Tensor(2, 3).shape == (2, 3)
    assert ctorch.Tensor().shape == (0,)
    assert ctorch.LongTensor([1, 2]).dtype is ctorch.int64
    assert ctorch.FloatTensor([1]).dtype is ctorch.float32
    assert isinstance(ctorch.Tensor([1.0]), ctorch.Tensor)
    assert isinstance(ctorch.LongTensor([1]), ctorch.Tensor)
    assert ctorch.autograd.Variable(ctorch.ones(2), requires_grad=True).requires_grad


def test_random_creation_and_seeding():
    ctorch.manual_seed(0)
    a = ctorch.randn(3, 4)
    ctorch.manual_seed(0)
    b = ctorch.randn(3, 4)
    assert ctorch.equal(a, b)
    assert ctorch.randn(()).shape == ()
    assert ctorch.randn(2, dtype=ctorch.float64).dtype.itemsize == 8
    assert ctorch.randn(2, 3, requires_grad=True).requires_grad
    r = ctorch.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1
    ri = ctorch.randint(3, 7, (1000,))
    assert ri.dtype is ctorch.int64 and ri.min().item() >= 3 and ri.max().item() <= 6
    assert ctorch.randint(5, (2, 2)).shape == (2, 2)
    assert ctorch.randint(5, (3,), dtype=ctorch.int32).dtype is ctorch.int32
    assert sorted(ctorch.randperm(6).tolist()) == list(range(6))
    n = ctorch.normal(2.0, 3.0, size=(4000,))
    assert abs(n.mean().item() - 2.0) < 0.3 and abs(n.std().item() - 3.0) < 0.3
    nm = ctorch.normal(ctorch.zeros(3), ctorch.ones(3))
    assert nm.shape == (3,)
    g = ctorch.Generator().manual_seed(5)
    x = ctorch.randn(3, generator=g)
    g2 = ctorch.Generator()
    g2.manual_seed(5)
    assert ctorch.equal(x, ctorch.randn(3, generator=g2))
    s = ctorch.seed()
    assert isinstance(s, int) and ctorch.initial_seed() == s
    state = ctorch.get_rng_state()
    u = ctorch.rand(3)
    ctorch.set_rng_state(state)
    assert ctorch.equal(u, ctorch.rand(3))


def test_attributes():
    x = ctorch.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.dtype is ctorch.float32 and x.device == ctorch.device("cpu")
    assert x.device.type == "cpu" and str(x.device) == "cpu"
    assert not x.is_cuda and not x.is_xpu and x.layout == ctorch.strided
    assert x.stride() == (12, 4, 1) and x.transpose(0, 2).stride() == (1, 4, 12)
    assert x.element_size() == 4 and x.is_contiguous() and not x.mT.is_contiguous()
    assert x.mT.shape == (2, 4, 3)
    m = ctorch.zeros(2, 3)
    assert m.T.shape == (3, 2) and m.t().shape == (3, 2) and ctorch.zeros(3).T.shape == (3,)
    assert ctorch.device("cuda:1").index == 1 and ctorch.device("cuda", 0).type == "cuda"
    assert ctorch.device("cpu") == "cpu" or ctorch.device("cpu") == ctorch.device("cpu")
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(ctorch.device("cpu"), ctorch.float64).dtype is ctorch.float64


def test_scalar_protocols():
    t = ctorch.tensor(3.7)
    assert t.item() == pytest.approx(3.7) and float(t) == pytest.approx(3.7) and int(t) == 3
    assert bool(ctorch.tensor(1)) and not bool(ctorch.tensor(0.0))
    assert f"{t:+.2f}" == "+3.70" and f"{ctorch.tensor(2):03d}" == "002"
    assert ["a", "b", "c"][ctorch.tensor(1)] == "b"
    assert list(range(10))[ctorch.tensor(2) : ctorch.tensor(4)] == [2, 3]
    with pytest.raises(TypeError):
        ["a"][ctorch.tensor(0.0)]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ctorch.ones(2))
    with pytest.raises((ValueError, RuntimeError)):
        float(ctorch.ones(2))
    with pytest.raises(TypeError):
        len(ctorch.tensor(1.0))
    assert ctorch.tensor([[1]]).item() == 1
    assert max(ctorch.tensor(2.0), 3.0) == 3.0 and max(ctorch.tensor(4.0), 3.0).item() == 4.0
    assert math.isclose(math.sqrt(ctorch.tensor(4.0)), 2.0)
    assert ctorch.tensor([1.0, 2.0]).tolist() == [1.0, 2.0] and ctorch.tensor(2).tolist() == 2


def test_iteration_and_unpacking():
    x = ctorch.arange(6).reshape(3, 2)
    rows = list(x)
    assert len(rows) == 3 and rows[1].tolist() == [2, 3]
    a, b, c = x
    assert c.tolist() == [4, 5]
    for i, (p, q) in enumerate(x):
        assert p.item() == 2 * i and q.item() == 2 * i + 1
    assert [r.sum().item() for r in x] == [1, 5, 9]
    w = ctorch.ones(2, 2, requires_grad=True)
    s = sum(r.sum() for r in w * 2)
    s.backward()
    assert w.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(TypeError):
        iter(ctorch.tensor(1.0))
    assert 2 in ctorch.tensor([1, 2, 3]) and 5 not in ctorch.tensor([1, 2, 3])


def test_hash_and_containers():
    a, b = ctorch.ones(2), ctorch.ones(2)
    d = {a: 1, b: 2}
    assert len(d) == 2 and d[a] == 1
    assert a in {a} and b not in {a}


def test_clone_detach_data_casts():
    x = ctorch.tensor([1.5, -2.5], requires_grad=True)
    y = x * 2
    c = y.clone()
    assert c.grad_fn is not None and c.grad_fn.name() == "CloneBackward0"
    assert not np.shares_memory(c.detach().numpy(), y.detach().numpy())
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    assert x.data.requires_grad is False and np.shares_memory(x.data.numpy(), x.detach().numpy())
    x.data = ctorch.tensor([0.0, 1.0])
    assert x.tolist() == [0.0, 1.0] and x.requires_grad
    assert x.float() is x or x.float().dtype is ctorch.float32
    z = x.double()
    assert z.dtype is ctorch.float64 and z.grad_fn is not None
    assert x.long().tolist() == [0, 1] and x.long().dtype is ctorch.int64
    assert x.int().dtype is ctorch.int32 and x.bool().tolist() == [False, True]
    assert x.half().dtype is ctorch.float16
    assert x.to(ctorch.float64).dtype is ctorch.float64
    assert x.to(dtype=ctorch.int8).dtype.itemsize == 1
    assert x.type(ctorch.float64).dtype is ctorch.float64
    assert x.type().endswith("FloatTensor")
    assert x.type_as(ctorch.zeros(1, dtype=ctorch.int64)).dtype is ctorch.int64
    z.sum().backward()
    assert x.grad.dtype is ctorch.float32 and x.grad.tolist() == [1.0, 1.0]
    t = ctorch.tensor([-1.7, 2.7]).long()
    assert t.tolist() == [-1, 2]
    dd = x.detach()
    dd.requires_grad_()
    assert dd.requires_grad and not x.detach().requires_grad
    e = (x * 2).detach_()
    assert e.grad_fn is None and not e.requires_grad


# ------------------------------------------------------------------ printing
PRINT_CASES = [
    lambda T: T.tensor([1.0, 2.5, -3.0]),
    lambda T: T.tensor([[1, 2], [3, 4]]),
    lambda T: T.tensor(3.5),
    lambda T: T.tensor(7),
    lambda T: T.tensor([True, False]),
    lambda T: T.tensor([1.0, 2.0], dtype=T.float64),
    lambda T: T.tensor([1, 2], dtype=T.int32),
    lambda T: T.tensor([1.0, 2.0], dtype=T.float16),
    lambda T: T.tensor([1, 2], dtype=T.uint8),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda T: T.tensor([1.0, 2.0], requires_grad=True).sum(),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True).mean(),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True) + 1,
    lambda T: T.tensor([1e-8, 1.0]),
    lambda T: T.tensor([1e10, 1.0]),
    lambda T: T.tensor([0.1, 1000.5]),
    lambda T: T.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    lambda T: T.zeros(0),
    lambda T: T.zeros(2, 0),
    lambda T: T.arange(24.0).reshape(2, 3, 4),
    lambda T: T.arange(2000.0),
    lambda T: T.arange(12).reshape(3, 4) * 1000,
    lambda T: T.tensor([[0.123456789, 12345.6789]]),
    lambda T: T.tensor([-0.0, 0.0]),
    lambda T: T.tensor([1.0, 2.0]).unsqueeze(0).expand(3, 2),
    lambda T: T.tensor([1e-5, 2e-5]),
    lambda T: T.tensor([100.0, 200.0]),
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("i", range(len(PRINT_CASES)))
def test_repr_matches_torch(i):
    c = repr(PRINT_CASES[i](ctorch))
    t = repr(PRINT_CASES[i](_torch)).replace("torch.", "ctorch.")
    assert c == t
    assert str(PRINT_CASES[i](ctorch)) == c


def test_repr_grad_fn_and_printoptions():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(ctorch.tensor([1.0], dtype=ctorch.float64)) == "tensor([1.], dtype=ctorch.float64)"
    assert repr(x.grad_fn) is not None
    ctorch.set_printoptions(precision=2)
    try:
        assert repr(ctorch.tensor([1.23456])) == "tensor([1.23])"
    finally:
        ctorch.set_printoptions(profile="default")
    assert repr(ctorch.tensor([1.23456])) == "tensor([1.2346])"
    ctorch.set_printoptions(linewidth=40)
    try:
        if HAS_TORCH:
            _torch.set_printoptions(linewidth=40)
            try:
                assert repr(ctorch.arange(30.0)) == repr(_torch.arange(30.0))
            finally:
                _torch.set_printoptions(profile="default")
    finally:
        ctorch.set_printoptions(profile="default")
