"""ctorch.uint16 / uint32 / uint64 as real dtypes (issue #14; torch's "shell" unsigned dtypes).

Where torch 2.13 computes on them (casts, indexing, cat, sort, mul, sum -> int64, cumsum,
save/load, DLPack) ctorch must give torch's dtype and values: those checks run torch live and
skip without it. Where torch raises NotImplementedError (``+``, ``<``, ``max``, ``neg``,
``//``, ...) ctorch computes through NumPy with wrap-around, as for uint8; those checks compare
with NumPy and need no torch. Cross-dtype promotion follows torch's RuntimeError
(docs/compat.md, "uint16, uint32, uint64")."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

UINTS = ["uint16", "uint32", "uint64"]
_NP = {"uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64}
# every other dtype ctorch has (the promotion table is checked against torch for each)
_OTHER = [d._name for d in ctorch._dtype._ALL if d._name not in UINTS]


def _vals(name):
    """Values with the dtype's maximum (wrap-around shows) and small ones."""
    return np.array([1, 2, int(np.iinfo(_NP[name]).max), 7, 0, 65535], _NP[name])


def _pair(L, name):
    a = L.tensor(_vals(name))
    b = L.tensor(np.array([3, 4, 5, 6, 9, 1], _NP[name]))
    return a, b


def _plain(r):
    if isinstance(r, tuple):
        return tuple(_plain(x) for x in r)
    if hasattr(r, "dtype") and hasattr(r, "tolist"):
        return (str(r.dtype).split(".")[-1], r.tolist())
    if hasattr(r, "is_signed"):  # a dtype
        return str(r).split(".")[-1]
    return r


# --------------------------------------------------------------------------------------------
# the dtype objects
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UINTS)
def test_dtype_object(name):
    dt = getattr(ctorch, name)
    assert isinstance(dt, ctorch.dtype) and repr(dt) == f"ctorch.{name}"
    assert not dt.is_signed and not dt.is_floating_point and not dt.is_complex
    assert dt.itemsize == np.dtype(_NP[name]).itemsize
    assert pickle.loads(pickle.dumps(dt)) is dt and copy.deepcopy(dt) is dt
    assert ctorch.iinfo(dt).max == np.iinfo(_NP[name]).max and ctorch.iinfo(dt).min == 0
    assert dt is not ctorch.int32 and dt is not ctorch.int64  # no longer aliases
    assert ctorch.tensor([1], dtype=name).dtype is dt  # by name, as torch
    if torch is not None:
        tdt = getattr(torch, name)
        assert (dt.is_signed, dt.itemsize) == (tdt.is_signed, tdt.itemsize)
        assert repr(ctorch.iinfo(dt)) == repr(torch.iinfo(tdt))
        assert ctorch.iinfo(dt).bits == torch.iinfo(tdt).bits


# --------------------------------------------------------------------------------------------
# NumPy interop: zero-copy, dtypes kept
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UINTS)
def test_from_numpy_shares_memory(name):
    a = _vals(name)
    t = ctorch.from_numpy(a)
    assert t.dtype is getattr(ctorch, name)
    a[0] = 42  # written through the ndarray, seen by the tensor
    assert t[0].item() == 42
    t[1] = 43  # and the other way
    assert a[1] == 43
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    assert np.asarray(t).dtype == _NP[name] and np.shares_memory(np.asarray(t), a)
    assert ctorch.as_tensor(a).dtype is t.dtype and np.shares_memory(ctorch.as_tensor(a).numpy(), a)
    m = a.reshape(2, 3)[:, ::2]  # strided views too
    assert ctorch.from_numpy(m).tolist() == m.tolist()


@pytest.mark.parametrize("name", UINTS)
def test_tensor_copies_and_keeps_the_dtype(name):
    a = _vals(name)
    t = ctorch.tensor(a)
    assert t.dtype is getattr(ctorch, name) and not np.shares_memory(t.numpy(), a)
    assert t.tolist() == [int(v) for v in a] and all(type(v) is int for v in t.tolist())
    assert ctorch.tensor(_NP[name](7)).dtype is t.dtype  # a NumPy scalar
    assert ctorch.tensor([_NP[name](7), _NP[name](8)]).dtype is t.dtype
    top = int(np.iinfo(_NP[name]).max)
    assert ctorch.tensor([top], dtype=getattr(ctorch, name)).item() == top


def test_uint64_holds_values_past_int64():
    big = 2**64 - 1
    t = ctorch.tensor([big, 2**63, 0], dtype=ctorch.uint64)
    assert t.tolist() == [big, 2**63, 0] and t.max().item() == big
    assert ctorch.from_numpy(np.array([big], np.uint64)).item() == big
    assert ctorch.tensor(2**63, dtype=ctorch.uint64).item() == 2**63
    # NumPy scalars in a list: parsed as uint64, not through float64 (torch 2.13 raises here)
    assert ctorch.tensor([np.uint64(big), np.uint64(1)]).tolist() == [big, 1]
    with pytest.raises(OverflowError, match="negative int to unsigned"):
        ctorch.tensor([-1], dtype=ctorch.uint64)
    with pytest.raises(OverflowError, match="int too big"):
        ctorch.tensor([2**64], dtype=ctorch.uint64)
    # an explicit floating dtype takes any int (as torch), no uint64 needed
    assert ctorch.tensor([2**64], dtype=ctorch.float64).item() == 2.0**64


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor([70000], dtype=L.uint16),  # out of range
        lambda L: L.tensor([-65536], dtype=L.uint16),
        lambda L: L.tensor([300], dtype=L.uint8),
        lambda L: L.tensor([-129], dtype=L.int8),
        lambda L: L.tensor([2**40], dtype=L.uint32),
        lambda L: L.tensor([2**64], dtype=L.uint64),
        lambda L: L.tensor([-1], dtype=L.uint64),
        lambda L: L.tensor([70000.0], dtype=L.uint16),  # floats: in range or an error
        lambda L: L.tensor([-0.5], dtype=L.uint32),
        lambda L: L.tensor([float("nan")], dtype=L.int32),
        lambda L: L.tensor([1.5], dtype=L.uint64),
    ],
)
def test_python_numbers_out_of_range_raise_as_torch(fn):
    with pytest.raises((RuntimeError, OverflowError, TypeError)) as ce:
        fn(ctorch)
    if torch is not None:
        with pytest.raises(type(ce.value)) as te:
            fn(torch)
        assert str(te.value) == str(ce.value)


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor([-1, -65535], dtype=L.uint16),  # unsigned: -max..-1 wrap (c10)
        lambda L: L.tensor([-1], dtype=L.uint32),
        lambda L: L.tensor([4294967295], dtype=L.uint32),
        lambda L: L.tensor([1.7, 65535.0], dtype=L.uint16),  # floats in range are cast
        lambda L: L.tensor(np.array([70000]), dtype=L.uint16),  # arrays are cast (wrap)
    ],
)
@needs_torch
def test_tensor_conversions_match_torch(fn):
    assert _plain(fn(ctorch)) == _plain(fn(torch))


def test_unsupported_numpy_dtype_raises_torchs_type_error():
    for a in (np.array([1], np.longdouble), np.array(["a"])):
        for f in (ctorch.from_numpy, ctorch.as_tensor, ctorch.tensor):
            with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy"):
                f(a)
    with pytest.raises(TypeError, match="uint64, uint32, uint16, uint8, and bool"):
        ctorch.from_numpy(np.array([1], np.longdouble))


# --------------------------------------------------------------------------------------------
# where torch computes: its dtype and values
# --------------------------------------------------------------------------------------------

_TORCH_WORKS = {
    "mul": lambda L, a, b: a * b,
    "mul_scalar": lambda L, a, b: a * 2,
    "mul_neg_scalar": lambda L, a, b: a * -1,
    "mul_big_scalar": lambda L, a, b: a * 70000,
    "rmul": lambda L, a, b: 3 * a,
    "mul_0d_int64": lambda L, a, b: a * L.tensor(2),
    "mul_0d_float": lambda L, a, b: a * L.tensor(2.0),
    "mul_float_scalar": lambda L, a, b: a * 2.5,
    "mul_complex_scalar": lambda L, a, b: a * 1j,
    "mul_float_tensor": lambda L, a, b: a * b.float(),
    "imul": lambda L, a, b: a.clone().mul_(b),
    "div": lambda L, a, b: a / b,
    "eq": lambda L, a, b: a == b,
    "ne_scalar": lambda L, a, b: a != 7,
    "eq_neg_scalar": lambda L, a, b: a == -1,
    "and": lambda L, a, b: a & b,
    "or": lambda L, a, b: a | b,
    "xor": lambda L, a, b: a ^ b,
    "sum": lambda L, a, b: a.sum(),
    "sum_dim": lambda L, a, b: a.reshape(2, 3).sum(1, keepdim=True),
    "nansum": lambda L, a, b: a.nansum(),
    "prod": lambda L, a, b: b.prod(),
    "mean_float": lambda L, a, b: a.mean(dtype=L.float64),
    "cumsum": lambda L, a, b: a.cumsum(0),
    "cumprod": lambda L, a, b: b.cumprod(0),
    "sort": lambda L, a, b: a.sort(),
    "sort_desc": lambda L, a, b: a.sort(descending=True).values,
    "argsort": lambda L, a, b: a.argsort(),
    "unique": lambda L, a, b: L.unique(a),
    "cat": lambda L, a, b: L.cat([a, b]),
    "stack": lambda L, a, b: L.stack([a, b]),
    "where": lambda L, a, b: L.where(a == b, a, b),
    "masked_select": lambda L, a, b: a[a == 1],
    "slice": lambda L, a, b: a[1:4],
    "index_long": lambda L, a, b: a[L.tensor([3, 0])],
    "item": lambda L, a, b: a[2].item(),
    "tolist": lambda L, a, b: a.tolist(),
    "float": lambda L, a, b: a.float(),
    "double": lambda L, a, b: a.double(),
    "half": lambda L, a, b: a.half(),
    "bfloat16": lambda L, a, b: a.bfloat16(),
    "long": lambda L, a, b: a.long(),
    "to_uint8": lambda L, a, b: a.to(L.uint8),
    "to_bool": lambda L, a, b: a.bool(),
    "to_complex": lambda L, a, b: a.to(L.complex64),
    "from_int64": lambda L, a, b: L.tensor([-1, 70000, 5]).to(a.dtype),
    "from_float": lambda L, a, b: L.tensor([0.0, 70000.5, 3.7]).to(a.dtype),
    "type_str": lambda L, a, b: a.type(),
    "type_to": lambda L, a, b: L.tensor([1.0, 2.0]).type(a.dtype),
    "view_signed": lambda L, a, b: a.view({2: L.int16, 4: L.int32, 8: L.int64}[a.element_size()]),
    "reshape_t": lambda L, a, b: a.reshape(2, 3).t().contiguous(),
    "roll": lambda L, a, b: a.roll(1),
    "repeat": lambda L, a, b: a.repeat(2),
    "expand": lambda L, a, b: a[:1].expand(3),
    "diag": lambda L, a, b: b[:3].diag(),
    "nan_to_num": lambda L, a, b: a.nan_to_num(),
    "floor": lambda L, a, b: a.floor(),
    "sqrt": lambda L, a, b: b.sqrt(),
    "any_all": lambda L, a, b: (a.any(), a.all()),
    "fill": lambda L, a, b: a.clone().fill_(9),
    "fill_neg": lambda L, a, b: L.full((2,), -1, dtype=a.dtype),
    "zeros": lambda L, a, b: L.zeros(2, 2, dtype=a.dtype),
    "ones_like": lambda L, a, b: L.ones_like(a),
    "full_like": lambda L, a, b: L.full_like(a, 3),
    "new_tensor": lambda L, a, b: a.new_tensor([1, 2]),
    "new_full": lambda L, a, b: a.new_full((2,), 3),
    "empty": lambda L, a, b: L.empty(3, dtype=a.dtype).dtype,
    "randint_dtype": lambda L, a, b: L.randint(0, 10, (3,), dtype=a.dtype).dtype,
    "copy_from_float": lambda L, a, b: L.zeros(3, dtype=a.dtype).copy_(L.tensor([1.0, 2, 3])),
    "copy_into_float": lambda L, a, b: L.zeros(6).copy_(a),
    "equal": lambda L, a, b: (L.equal(a, b), L.equal(a, a.clone())),
    "allclose": lambda L, a, b: L.allclose(a, a),
    "result_type_int": lambda L, a, b: L.result_type(a, 1),
    "result_type_float": lambda L, a, b: L.result_type(a, 1.0),
    "result_type_0d": lambda L, a, b: L.result_type(a, L.tensor(1, dtype=L.int32)),
    "result_type_0d_complex": lambda L, a, b: L.result_type(a, L.tensor(1j)),
    "result_type_int_dim_u_0d": lambda L, a, b: L.result_type(L.tensor([1]), a[0]),
    "can_cast": lambda L, a, b: (L.can_cast(a.dtype, L.int32), L.can_cast(L.float32, a.dtype)),
    "repr": lambda L, a, b: repr(a).replace("ctorch.", "torch."),
    "repr_0d": lambda L, a, b: repr(a[2]).replace("ctorch.", "torch."),
    "repr_empty": lambda L, a, b: repr(a[:0]).replace("ctorch.", "torch."),
    "repr_long": lambda L, a, b: repr(L.arange(1500).to(a.dtype)).replace("ctorch.", "torch."),
}


@needs_torch
@pytest.mark.parametrize("name", UINTS)
@pytest.mark.parametrize("case", list(_TORCH_WORKS))
def test_matches_torch_where_torch_computes(case, name):
    fn = _TORCH_WORKS[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = _plain(fn(torch, *_pair(torch, name)))
        c = _plain(fn(ctorch, *_pair(ctorch, name)))
    assert c == t


# --------------------------------------------------------------------------------------------
# where torch raises NotImplementedError: NumPy's wrap-around values
# --------------------------------------------------------------------------------------------

_BEYOND_TORCH = {
    "add": (lambda L, a, b: a + b, lambda a, b: a + b),
    "add_scalar": (lambda L, a, b: a + 1, lambda a, b: a + a.dtype.type(1)),
    "sub": (lambda L, a, b: a - b, lambda a, b: a - b),
    "rsub": (lambda L, a, b: 10 - a, lambda a, b: a.dtype.type(10) - a),
    "iadd": (lambda L, a, b: a.clone().add_(b), lambda a, b: a + b),
    "neg": (lambda L, a, b: -a, lambda a, b: (0 - a).astype(a.dtype)),
    "floordiv": (lambda L, a, b: a // b, lambda a, b: a // b),
    "remainder": (lambda L, a, b: a % b, lambda a, b: a % b),
    "pow2": (lambda L, a, b: a**2, lambda a, b: a * a),
    "lt": (lambda L, a, b: a < b, lambda a, b: a < b),
    "ge_scalar": (lambda L, a, b: a >= 7, lambda a, b: a >= 7),
    "gt_neg": (lambda L, a, b: a > -1, lambda a, b: a > np.iinfo(a.dtype).max),  # -1 wraps
    "maximum": (lambda L, a, b: L.maximum(a, b), np.maximum),
    "max": (lambda L, a, b: a.max(), lambda a, b: a.max()),
    "min": (lambda L, a, b: a.min(), lambda a, b: a.min()),
    "argmax": (lambda L, a, b: a.argmax(), lambda a, b: np.int64(a.argmax())),
    "clamp": (lambda L, a, b: a.clamp(2, 7), lambda a, b: np.clip(a, 2, 7)),
    "abs": (lambda L, a, b: a.abs(), lambda a, b: a),
    "bitwise_not": (lambda L, a, b: ~a, np.invert),
    "lshift": (lambda L, a, b: a << 1, lambda a, b: a << a.dtype.type(1)),
    "rshift": (lambda L, a, b: a >> 1, lambda a, b: a >> a.dtype.type(1)),
    "flip": (lambda L, a, b: a.flip(0), lambda a, b: a[::-1]),
    "gather": (lambda L, a, b: a.gather(0, L.tensor([2, 0])), lambda a, b: a[[2, 0]]),
    "sum_same_dtype": (lambda L, a, b: a.sum(dtype=a.dtype), lambda a, b: a.sum(dtype=a.dtype)),
    "dot": (lambda L, a, b: L.dot(a, b), lambda a, b: np.dot(a, b)),
    "matmul": (
        lambda L, a, b: a.reshape(2, 3) @ b.reshape(3, 2),
        lambda a, b: a.reshape(2, 3) @ b.reshape(3, 2),
    ),
    "trace": (
        lambda L, a, b: a[:4].reshape(2, 2).trace(),  # int64, as sum (and torch's int trace)
        lambda a, b: np.int64(int(a[0]) + int(a[3])),
    ),
    "arange": (
        lambda L, a, b: L.arange(5, dtype=a.dtype),
        lambda a, b: np.arange(5, dtype=a.dtype),
    ),
    "sort_desc_stable": (
        lambda L, a, b: L.cat([a, a]).sort(descending=True, stable=True).indices,
        lambda a, b: np.argsort(~np.concatenate([a, a]), kind="stable"),
    ),
    "topk": (lambda L, a, b: a.topk(2).values, lambda a, b: np.sort(a)[::-1][:2]),
}


@pytest.mark.parametrize("name", UINTS)
@pytest.mark.parametrize("case", list(_BEYOND_TORCH))
def test_computes_with_numpy_where_torch_raises(case, name):
    fn, ref = _BEYOND_TORCH[case]
    a, b = _vals(name), np.array([3, 4, 5, 6, 9, 1], _NP[name])
    with np.errstate(over="ignore"):
        want = np.asarray(ref(a, b))
    r = fn(ctorch, ctorch.tensor(a), ctorch.tensor(b))
    assert r.numpy().dtype == want.dtype and r.tolist() == want.tolist()
    if torch is not None and case != "sort_desc_stable":  # torch refuses: why ctorch computes
        with pytest.raises((NotImplementedError, RuntimeError)):
            fn(torch, *_pair(torch, name))


@pytest.mark.parametrize("name", UINTS)
def test_large_tensors_take_the_numpy_path(name):
    """Above the kernels' size threshold the float-only kernels must not be chosen."""
    a = (np.arange(40000) % 1000).astype(_NP[name])
    t = ctorch.from_numpy(a)
    assert (t + t).tolist() == (a + a).tolist()
    assert (t * 3).tolist() == (a * 3).tolist()
    assert t.sum().item() == int(a.astype(np.int64).sum()) and t.sum().dtype is ctorch.int64
    assert t.max().item() == 999 and (t.float() / 2).dtype is ctorch.float32
    assert t.reshape(200, 200).t().contiguous().tolist() == a.reshape(200, 200).T.tolist()


# --------------------------------------------------------------------------------------------
# promotion: torch's RuntimeError across dtypes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UINTS)
def test_promote_types_every_pair(name):
    u = getattr(ctorch, name)
    for other in _OTHER + UINTS:
        o = getattr(ctorch, other)
        for x, y in ((u, o), (o, u)):
            try:
                got = ctorch.promote_types(x, y)
            except RuntimeError as e:
                got = str(e)
                assert "Promotion for uint16, uint32, uint64 types is not supported" in got
            if x is y:
                assert got is u
            elif o.is_floating_point:
                assert got is o  # the float wins
            else:
                assert isinstance(got, str)  # refused
            if torch is not None:
                try:
                    want = torch.promote_types(
                        getattr(torch, str(x)[7:]), getattr(torch, str(y)[7:])
                    )
                    want = str(want).split(".")[-1]
                except RuntimeError as e:
                    want = str(e)
                assert (got if isinstance(got, str) else str(got)[7:]) == want


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.tensor([1, 2], dtype=L.uint16) * L.tensor([1, 2], dtype=L.int32),
        lambda L: L.tensor([1, 2], dtype=L.uint16) == L.tensor([1, 2]),
        lambda L: L.tensor([1, 2], dtype=L.uint32) * L.tensor([True, False]),
        lambda L: L.tensor([True, False]) * L.tensor(3, dtype=L.uint16),
        lambda L: L.tensor(3, dtype=L.uint16) * L.tensor(3, dtype=L.int32),
        lambda L: L.cat([L.tensor([1], dtype=L.uint64), L.tensor([1], dtype=L.uint8)]),
        lambda L: L.tensor([1], dtype=L.uint16) * L.tensor([1], dtype=L.uint32),
    ],
)
def test_cross_dtype_ops_raise_torchs_promotion_error(fn):
    with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64") as ce:
        fn(ctorch)
    if torch is not None:
        with pytest.raises(RuntimeError) as te:
            fn(torch)
        assert str(te.value) == str(ce.value)


def test_inplace_float_into_uint_raises():
    t = ctorch.tensor([1, 2], dtype=ctorch.uint16)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        t.mul_(2.5)


# --------------------------------------------------------------------------------------------
# creation, random, indexing, autograd
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UINTS)
def test_creation_functions(name):
    dt = getattr(ctorch, name)
    for t in (
        ctorch.zeros(2, dtype=dt),
        ctorch.ones(2, dtype=dt),
        ctorch.full((2,), 5, dtype=dt),
        ctorch.empty(2, dtype=dt),
        ctorch.arange(2, dtype=dt),
        ctorch.randint(0, 9, (2,), dtype=dt),
        ctorch.tensor([1, 2]).to(dt),
        ctorch.tensor([1, 2]).to(dtype=dt),
        ctorch.zeros(2).type(dt),
        ctorch.tensor([1, 2]).type(f"torch.UInt{name[4:]}Tensor"),
    ):
        assert t.dtype is dt and t.numpy().dtype == _NP[name] and t.shape == (2,)
    r = ctorch.randint(3, 9, (500,), dtype=dt)
    assert 3 <= r.min().item() and r.max().item() < 9


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.randint(0, 70000, (2,), dtype=L.uint16),
        lambda L: L.randint(-1, 5, (2,), dtype=L.uint32),
        lambda L: L.randint(-1, 5, (2,), dtype=L.uint64),
        lambda L: L.randint(0, 2**40, (2,), dtype=L.int16),
        lambda L: L.randint(0, 2**64, (2,), dtype=L.uint64),
    ],
)
def test_randint_bounds_errors(fn):
    with pytest.raises((RuntimeError, ValueError)) as ce:
        fn(ctorch)
    if torch is not None:
        with pytest.raises(type(ce.value)) as te:
            fn(torch)
        assert str(te.value) == str(ce.value)


def test_random_fills():
    ctorch.manual_seed(0)
    r = ctorch.empty(2000, dtype=ctorch.uint64).random_()
    assert r.dtype is ctorch.uint64 and r.max().item() > 2**63  # the whole 64-bit range
    r = ctorch.empty(2000, dtype=ctorch.uint16).random_()
    assert r.max().item() <= 65535 and r.max().item() > 60000
    r = ctorch.empty(200, dtype=ctorch.uint32).random_(5)  # torch's random_(to)
    assert r.max().item() <= 4


@needs_torch
def test_random_to_matches_torch():
    """``random_(to)``: one argument is the upper bound (it was read as ``from``)."""
    out = []
    for L in (torch, ctorch):
        L.manual_seed(0)
        out.append(
            (
                L.empty(5, dtype=L.int16).random_(5).tolist(),
                L.empty(5, dtype=L.int64).random_(7).tolist(),
                L.empty(5).random_(9).tolist(),
            )
        )
    assert out[0] == out[1]


@pytest.mark.parametrize("name", UINTS)
def test_uint_index_tensors_are_refused_as_torch(name):
    x = ctorch.arange(5)
    i = ctorch.tensor([1, 3], dtype=getattr(ctorch, name))
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[i]
    assert x[i.long()].tolist() == [1, 3]
    assert x[i[0]].item() == 1  # a 0-d tensor indexes as an int (torch too)
    with pytest.raises(RuntimeError, match=f"CPUUInt{name[4:]}Type"):
        ctorch.nn.functional.embedding(i, ctorch.ones(5, 2))
    if torch is not None:
        with pytest.raises(IndexError):
            torch.arange(5)[torch.tensor([1, 3], dtype=getattr(torch, name))]


@pytest.mark.parametrize("name", UINTS)
def test_autograd_integer_rules(name):
    dt = getattr(ctorch, name)
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.tensor([1, 2], dtype=dt).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.tensor([1, 2], dtype=dt, requires_grad=True)
    w = ctorch.ones(3, requires_grad=True)
    u = ctorch.tensor([1, 2, 7], dtype=dt)
    (w * u).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 7.0] and not u.requires_grad


# --------------------------------------------------------------------------------------------
# serialization and DLPack with torch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UINTS)
def test_save_load_round_trip(name):
    a = ctorch.from_numpy(_vals(name).reshape(2, 3))
    buf = io.BytesIO()
    ctorch.save({"a": a, "v": a[:, ::2]}, buf)
    buf.seek(0)
    out = ctorch.load(buf)
    assert out["a"].dtype is a.dtype and out["a"].tolist() == a.tolist()
    assert out["v"].tolist() == a[:, ::2].tolist()
    assert np.shares_memory(out["a"].numpy(), out["v"].numpy())  # one storage


@needs_torch
@pytest.mark.parametrize("name", UINTS)
def test_save_load_with_torch(name):
    vals = _vals(name).reshape(2, 3)
    # ctorch -> torch (weights_only: torch's safe loader accepts what ctorch writes)
    buf = io.BytesIO()
    ctorch.save({"a": ctorch.from_numpy(vals), "v": ctorch.from_numpy(vals)[1:]}, buf)
    buf.seek(0)
    t = torch.load(buf, weights_only=True)
    assert t["a"].dtype is getattr(torch, name) and t["a"].tolist() == vals.tolist()
    assert t["v"].untyped_storage().data_ptr() == t["a"].untyped_storage().data_ptr()
    # torch -> ctorch, both file formats
    for kw in ({}, {"_use_new_zipfile_serialization": False}):
        buf = io.BytesIO()
        torch.save({"a": torch.from_numpy(vals.copy())}, buf, **kw)
        buf.seek(0)
        c = ctorch.load(buf)
        assert c["a"].dtype is getattr(ctorch, name) and c["a"].tolist() == vals.tolist()


@needs_torch
@pytest.mark.parametrize("name", UINTS)
def test_dlpack_both_ways(name):
    t = torch.from_numpy(_vals(name))
    c = ctorch.from_dlpack(t)
    assert c.dtype is getattr(ctorch, name)
    c[0] = 9
    assert t[0].item() == 9  # shared
    back = torch.from_dlpack(c)
    assert back.dtype is t.dtype and back.tolist() == t.tolist()
    assert np.from_dlpack(c).dtype == _NP[name]


# --------------------------------------------------------------------------------------------
# nn.functional: torch's refusals, and ctorch's integer paths
# --------------------------------------------------------------------------------------------


def _int_input_cases():
    from nn.test_int_inputs import CASES, _run

    return CASES, _run


@needs_torch
@pytest.mark.parametrize("name", ["uint16", "uint64"])
def test_nn_functional_integer_inputs(name):
    """Every case of tests/nn/test_int_inputs.py: where torch refuses, ctorch raises an error
    of the same class or computes as for the other integer dtypes (then the values are
    torch's on int64 input, cast); where torch computes, the same dtype and values."""
    cases, run = _int_input_cases()
    computed = 0
    for case, (shape, fn) in cases.items():
        a = np.random.default_rng(abs(hash(case)) % 2**32).integers(0, 4, shape).astype(name)
        tr, te = run(torch, fn, a)
        cr, ce = run(ctorch, fn, a)
        if te is None:
            assert ce is None, (case, ce)
            assert str(cr.dtype).split(".")[-1] == str(tr.dtype).split(".")[-1], case
            c, t = cr.numpy().astype(float), tr.numpy().astype(float)
            np.testing.assert_allclose(c, t, rtol=1e-5, atol=1e-6, err_msg=case)
        elif ce is not None:
            assert isinstance(ce, type(te)) or isinstance(ce, RuntimeError), (case, ce, te)
            assert type(ce) is not KeyError and "not inexact" not in str(ce), case
        elif isinstance(te, NotImplementedError) and not case.startswith(("rrelu", "gumbel")):
            computed += 1
            ref, re_ = run(torch, fn, a.astype(np.int64))
            if re_ is None and ref.dtype == torch.int64:
                np.testing.assert_array_equal(cr.numpy(), ref.numpy().astype(name), case)
    assert computed > 20  # pooling, padding, shuffles, relu, conv...
