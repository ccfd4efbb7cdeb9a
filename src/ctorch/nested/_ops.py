"""The ops nested tensors support (torch's nested rules and error messages), attached to
``NestedTensor`` by ``install``; every other Tensor member becomes a stub raising
``NotImplementedError`` naming the op."""

from __future__ import annotations

import numbers

import numpy as np

from .._subclass import install_stubs
from .._tensor import Tensor
from ._tensor import NestedTensor, unsupported

__all__ = [
    "DISPATCH",
    "install",
    "linear",
    "matmul",
    "bmm",
    "softmax",
    "scaled_dot_product_attention",
]

_NT = NestedTensor


def _is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, bool)) or (
        isinstance(x, Tensor) and not isinstance(x, NestedTensor) and x.dim() == 0
    )


def _shape_str(t) -> str:
    if isinstance(t, NestedTensor):
        if t._lay == "jagged":
            return "(" + ", ".join(str(s) for s in t._jagged_shape()) + ")"
        return "nested"
    return repr(t.shape).replace("ctorch.", "torch.")


# ---------------------------------------------------------------- elementwise
UNARY = (
    "abs",
    "neg",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "sigmoid",
    "relu",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "erf",
    "logical_not",
    "isnan",
    "isinf",
    "bool",
    "int",
    "long",
)


def _unary(name):
    def method(self, *args, **kwargs):
        return self._map_fn(lambda x: getattr(x, name)(*args, **kwargs))

    method.__name__ = name
    return method


def _binary(name, fn):
    """``self <name> other`` for a nested ``self`` (``fn(a, b)`` on dense tensors)."""

    def op(self, other, reverse=False):
        f = (lambda a, b: fn(b, a)) if reverse else fn
        if _is_scalar(other):
            return self._map_fn(lambda x: f(x, other))
        if isinstance(other, NestedTensor):
            if self._lay != other._lay:
                raise RuntimeError(_SIZES_MSG_BIN)
            if self._lay == "jagged":
                if other._j is not self._j or other._ridx != self._ridx:
                    raise RuntimeError(
                        f"cannot call binary pointwise function {name}.Tensor with inputs of "
                        f"shapes {_shape_str(self)} and {_shape_str(other)}"
                    )
                if self._len is None and other._len is None:
                    return self._like(f(self._val, other._val))
                return self._rebuild(
                    [f(a, b) for a, b in zip(self._components(), other._components(), strict=True)]
                )
            a_c, b_c = self._comps, other._comps
            if len(a_c) != len(b_c) or any(
                tuple(x.shape) != tuple(y.shape) for x, y in zip(a_c, b_c, strict=True)
            ):
                raise RuntimeError(
                    f"{name} does not support broadcasting when given a NestedTensor"
                )
            return NestedTensor._strided([f(x, y) for x, y in zip(a_c, b_c, strict=True)])
        if not isinstance(other, Tensor):
            return NotImplemented
        # a dense other
        if self._lay == "strided":
            raise RuntimeError(
                "Expected both self and other to be nested, but got a nested self and "
                "non-nested other"
            )
        nd = self.dim()
        od = other.dim()
        if od < nd - self._ridx:
            # broadcasts over the dims after the ragged one: once on values
            return self._like(f(self._val, other))
        if od == nd and other.shape[0] in (1, self._nbatch()) and other.shape[self._ridx] == 1:
            # (B or 1, ..., 1 at the ragged dim, ...): per component
            comps = self._components()
            return self._rebuild(
                [f(c, other[i if other.shape[0] > 1 else 0]) for i, c in enumerate(comps)]
            )
        raise RuntimeError(
            f"cannot call binary pointwise function {name}.Tensor with inputs of shapes "
            f"torch.Size([{_shape_str(self)[1:-1]}]) and {_shape_str(other)}"
        )

    return op


_SIZES_MSG_BIN = "Internal error: NestedTensorImpl doesn't support sizes. Please file an issue."


# ---------------------------------------------------------------- reductions
def _dims(dim, nd):
    if dim is None:
        return None
    ds = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({d % nd if -nd <= d < nd else _bad_dim(d, nd) for d in ds}))


def _bad_dim(d, nd):
    raise IndexError(
        f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {d})"
    )


def _reduce(name):
    def method(self, dim=None, keepdim=False, *, dtype=None):
        nd = self.dim()
        if self._lay == "strided":
            if name == "mean":
                raise unsupported("mean.dim")
            if dim is None:
                raise unsupported("sum")
            ds = _dims(dim, nd)
            if ds != (nd - 1,):
                raise RuntimeError(
                    "NestedTensor can only be reduced across the last dimension for now got "
                    f"dimension {ds[0]} instead."
                )
            if not keepdim:
                raise RuntimeError("NestedTensor always requires keepdim=True for now.")
            return NestedTensor._strided(
                [getattr(c, name)(-1, keepdim=True, dtype=dtype) for c in self._comps]
            )
        # jagged
        if dim is None:  # everything: a dense 0-d result
            if self._len is None:
                return getattr(self._val, name)(dtype=dtype)
            from ..ops.join import cat

            return getattr(cat([c.reshape(-1) for c in self._components()]), name)(dtype=dtype)
        ds = _dims(dim, nd)
        r = self._ridx
        if 0 in ds and r not in ds:
            raise RuntimeError(
                f"{name}(): reducing along the batch dimension but not the ragged dimension "
                "is not supported for nested tensors"
            )
        if r in ds and ds != (r,):
            raise RuntimeError(
                f"{name}(): reducing along a ragged and non-batch dimension is not supported "
                "for nested tensors"
            )
        if ds == (r,):
            # over the ragged dim: a dense (B, *regular) result
            from ..ops.join import stack

            return stack(
                [getattr(c, name)(r - 1, keepdim=keepdim, dtype=dtype) for c in self._components()]
            )
        vd = tuple(self._values_dim(d) for d in ds)
        out = getattr(self._val, name)(vd, keepdim=keepdim, dtype=dtype)
        new_r = r if keepdim else r - sum(1 for d in ds if d < r)
        return NestedTensor._jagged(out, self._off, self._len, new_r, self._j)

    method.__name__ = name
    return method


# ---------------------------------------------------------------- softmax
def softmax(input, dim=None, _stacklevel=3, dtype=None, log=False):
    nd = input.dim()
    if dim is None:
        raise RuntimeError("softmax(): dim must be given for nested tensors")
    d = dim % nd if -nd <= dim < nd else _bad_dim(dim, nd)
    name = "log_softmax" if log else "softmax"
    if d == 0:
        if input._lay == "strided":
            raise RuntimeError("Cannot apply softmax across nested dimension 0")
        raise RuntimeError(
            f"{name}(): not supported when reducing across the batch dimension for NestedTensor"
        )
    if input._lay == "jagged" and d != input._ridx and input._len is None:
        return input._like(getattr(input._val, name)(input._values_dim(d), dtype=dtype))
    return input._rebuild([getattr(c, name)(d - 1, dtype=dtype) for c in input._components()])


def _softmax_method(self, dim=None, dtype=None):
    return softmax(self, dim, dtype=dtype)


def _log_softmax_method(self, dim=None, dtype=None):
    return softmax(self, dim, dtype=dtype, log=True)


# ---------------------------------------------------------------- matmul / linear
def _check_comp_matmul(i, a, b, op):
    if a.dim() < 1 or b.dim() < 1 or a.shape[-1] != b.shape[-2 if b.dim() > 1 else 0]:
        raise RuntimeError(
            f"{i}-th nested matrices in batch cannot be multiplied "
            f"({'x'.join(map(str, a.shape))} and {'x'.join(map(str, b.shape))})"
        )


def matmul(input, other, *, out=None):
    """``matmul`` with a nested operand (torch's nested rules)."""
    from ..ops.linalg import matmul as dense_matmul

    if out is not None:
        raise unsupported("matmul.out")
    if not isinstance(input, NestedTensor):
        raise RuntimeError(
            "matmul(): a dense left-hand side with a nested right-hand side is not supported"
        )
    if input._lay == "strided":
        if not isinstance(other, NestedTensor):
            raise RuntimeError(
                "Expected both to be nested, but got a nested self and non-nested other"
            )
        if other._lay != "strided" or len(other._comps) != len(input._comps):
            raise RuntimeError("matmul(): nested operands must have the same layout and batch size")
        res = []
        for i, (a, b) in enumerate(zip(input._comps, other._comps, strict=True)):
            _check_comp_matmul(i, a, b, "matmul")
            res.append(dense_matmul(a, b))
        return NestedTensor._strided(res)
    # jagged
    nd = input.dim()
    if not isinstance(other, NestedTensor):
        if other.dim() >= 2 and input._ridx < nd - 1 and other.dim() <= nd - input._ridx:
            # the ragged dim is not one of the matrix dims and the dense operand broadcasts
            # over the dims after it: once on values
            return input._like(dense_matmul(input._val, other))
        raise RuntimeError(
            f"matmul(): not supported between inputs of shapes {_shape_str(input)} and "
            f"{_shape_str(other)}"
        )
    if (
        other._lay == "jagged"
        and other._j is input._j
        and input._ridx < nd - 2
        and other._ridx == input._ridx
    ):
        return input._rebuild(
            [
                dense_matmul(a, b)
                for a, b in zip(input._components(), other._components(), strict=True)
            ]
        )
    raise RuntimeError(
        f"matmul(): not supported between inputs of shapes {_shape_str(input)} and "
        f"{_shape_str(other)}"
    )


def bmm(input, mat2, *, out=None):
    from ..ops.linalg import matmul as dense_matmul

    if out is not None:
        raise unsupported("bmm.out")
    if not isinstance(input, NestedTensor):
        raise RuntimeError("bmm(): a dense batch1 with a nested batch2 is not supported")
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if isinstance(mat2, NestedTensor):
        if input._lay != "strided" or mat2._lay != "strided":
            return matmul(input, mat2)
        res = []
        for i, (a, b) in enumerate(zip(input._comps, mat2._comps, strict=True)):
            _check_comp_matmul(i, a, b, "bmm")
            res.append(dense_matmul(a, b))
        return NestedTensor._strided(res)
    if mat2.shape[0] != input._nbatch():
        raise RuntimeError(f"bmm: batch sizes differ: {input._nbatch()} and {mat2.shape[0]}")
    comps = input._components()
    res = []
    for i, a in enumerate(comps):
        _check_comp_matmul(i, a, mat2[i], "bmm")
        res.append(dense_matmul(a, mat2[i]))
    if input._lay == "jagged" and input._ridx != 1:
        raise RuntimeError(
            f"bmm(): not supported between inputs of shapes {_shape_str(input)} and "
            f"{_shape_str(mat2)}"
        )
    return input._rebuild(res)


def linear(input, weight, bias=None):
    from ..ops.linalg import linear as dense_linear

    if isinstance(weight, NestedTensor) or isinstance(bias, NestedTensor):
        raise unsupported("linear (nested weight)")
    if input._lay == "jagged" and input._ridx != input.dim() - 1:
        return input._like(dense_linear(input._val, weight, bias))
    if input._lay == "jagged":
        raise RuntimeError(
            f"linear(): the ragged dim of input {_shape_str(input)} cannot be the last dim"
        )
    return NestedTensor._strided([dense_linear(c, weight, bias) for c in input._comps])


# ---------------------------------------------------------------- attention
def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
):
    """SDPA on nested ``(B, H, *, D)`` query/key/value (torch's jagged pattern: project,
    ``unflatten(-1, [H, D])``, ``transpose(1, 2)``): per batch entry, the dense SDPA on
    ``(H, j_i, D)``; the output has the query's ragged structure."""
    from ..nn.functional import scaled_dot_product_attention as dense_sdpa

    for n, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, NestedTensor):
            raise RuntimeError(
                f"scaled_dot_product_attention(): expected all inputs to be nested, but {n} is not"
            )
    if attn_mask is not None:
        raise RuntimeError(
            "scaled_dot_product_attention(): attn_mask is not supported for nested tensors"
        )
    if is_causal:  # as torch's nested SDPA (no backend takes it)
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. (Nested tensors for "
            "query / key are not supported when is_causal=True.)"
        )
    if query.dim() != 4:
        raise RuntimeError(
            "scaled_dot_product_attention(): expected nested inputs of 4 dims (B, H, *, D), "
            f"got {query.dim()}"
        )
    lays = {query._lay, key._lay, value._lay}
    if lays == {"jagged"} and query._ridx != 2:
        raise RuntimeError(
            "scaled_dot_product_attention(): expected jagged inputs of shape (B, H, *, D) "
            f"(ragged dim 2; transpose(1, 2) the (B, *, H, D) projections), got "
            f"{_shape_str(query)}"
        )
    qs, ks, vs = query._components(), key._components(), value._components()
    if not (len(qs) == len(ks) == len(vs)):
        raise RuntimeError("scaled_dot_product_attention(): batch sizes of nested inputs differ")
    out = [
        dense_sdpa(q, k, v, None, dropout_p, is_causal, scale, enable_gqa)
        for q, k, v in zip(qs, ks, vs, strict=True)
    ]
    return query._rebuild(out)


# ---------------------------------------------------------------- shape ops
def _transpose(self, dim0, dim1):
    nd = self.dim()
    d0 = dim0 % nd if -nd <= dim0 < nd else _bad_dim(dim0, nd)
    d1 = dim1 % nd if -nd <= dim1 < nd else _bad_dim(dim1, nd)
    if d0 == 0 or d1 == 0:
        if d0 == d1:
            return self
        if self._lay == "strided":
            raise RuntimeError("Nested tensor dimension 0 cannot be transposed")
        raise ValueError("Transpose is not supported on the batch dimension for jagged NT")
    if d0 == d1:
        return self
    if self._lay == "strided":
        return NestedTensor._strided([c.transpose(d0 - 1, d1 - 1) for c in self._comps])
    r = self._ridx
    # logical non-batch dims, then swapped; the values keep the ragged dim first and the
    # regular dims in their new logical order
    logical = list(range(1, nd))
    logical[d0 - 1], logical[d1 - 1] = logical[d1 - 1], logical[d0 - 1]
    new_r = logical.index(r) + 1
    perm = [0] + [self._values_dim(d) for d in logical if d != r]
    vals = self._val if perm == list(range(len(perm))) else self._val.permute(perm)
    return NestedTensor._jagged(vals, self._off, self._len, new_r, self._j)


def _regular_dim(self, dim, op):
    nd = self.dim()
    d = dim % nd if -nd <= dim < nd else _bad_dim(dim, nd)
    if d == 0 or (self._lay == "jagged" and d == self._ridx):
        raise RuntimeError(f"{op}(): not supported for NestedTensor on the batch or ragged dim")
    return d


def _unflatten(self, dim, sizes):
    d = _regular_dim(self, dim, "unflatten")
    if self._lay == "strided":
        return NestedTensor._strided([c.unflatten(d - 1, sizes) for c in self._comps])
    vals = self._val.unflatten(self._values_dim(d), sizes)
    return NestedTensor._jagged(vals, self._off, self._len, self._ridx, self._j)


def _flatten(self, start_dim=0, end_dim=-1):
    nd = self.dim()
    s = start_dim % nd
    e = end_dim % nd
    if s == e:
        return self
    for d in range(s, e + 1):
        _regular_dim(self, d, "flatten")
    if self._lay == "strided":
        return NestedTensor._strided([c.flatten(s - 1, e - 1) for c in self._comps])
    r = self._ridx
    vals = self._val.flatten(self._values_dim(s), self._values_dim(e))
    new_r = r if r < s else r - (e - s)
    return NestedTensor._jagged(vals, self._off, self._len, new_r, self._j)


def _unbind(self, dim=0):
    if dim != 0:
        raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
    return self._components()


def _getitem(self, key):
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        n = self._nbatch()
        if not -n <= key < n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        return self._components()[key % n]
    raise unsupported("index (nested tensors support an int index on dim 0 only)")


def _iter(self):
    return iter(self._components())


def _dropout(self, p=0.5, training=True, inplace=False):
    from ..ops.dropout import dropout as dense_dropout

    if inplace:
        raise unsupported("dropout_")
    return self._map_fn(lambda x: dense_dropout(x, p, training, False))


def _gelu(self, approximate="none"):
    return self._map_fn(lambda x: _f().gelu(x, approximate))


def _silu(self):
    return self._map_fn(lambda x: _f().silu(x))


def nested_unary(x, name, inplace=False):
    if inplace:
        raise unsupported(name + "_")
    if name == "silu":
        return _silu(x)
    return getattr(x, name)()


def _f():
    from ..nn import functional

    return functional


_KEEP = {
    "backward",
    "register_hook",
    "requires_grad",
    "requires_grad_",
    "is_leaf",
    "grad",
    "grad_fn",
    "retain_grad",
    "retains_grad",
    "name",
    "is_nested",
    "is_sparse",
    "is_quantized",
    "is_meta",
    "is_xpu",
    "is_mps",
    "is_inference",
    "data_ptr",
    "output_nr",
}

_DUNDERS = {
    "__setitem__": "index_put_",
    "__bool__": "is_nonzero",
    "__float__": "_local_scalar_dense",
    "__int__": "_local_scalar_dense",
    "__index__": "_local_scalar_dense",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__eq__": "eq",
    "__ne__": "ne",
    "__mod__": "remainder",
    "__floordiv__": "floor_divide",
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "__array__": "numpy",
    "__dlpack__": "to_dlpack",
}


def _stub_method(op: str):
    def stub(self, *args, **kwargs):
        raise unsupported(op)

    stub.__name__ = op
    stub.__doc__ = f"Not supported on nested tensors (raises NotImplementedError naming {op})."
    return stub


def _stub_property(op: str):
    def getter(self):
        raise unsupported(op)

    return property(getter)


def install() -> None:
    """Attach the supported ops to ``NestedTensor`` and stub every other Tensor member."""
    import operator

    NT = NestedTensor
    for name in UNARY:
        setattr(NT, name, _unary(name))
    NT.gelu = _gelu
    NT.silu = _silu
    NT.softmax = _softmax_method
    NT.log_softmax = _log_softmax_method
    NT.sum = _reduce("sum")
    NT.mean = _reduce("mean")
    NT.transpose = _transpose
    NT.unflatten = _unflatten
    NT.flatten = _flatten
    NT.unbind = _unbind
    NT.__getitem__ = _getitem
    NT.__iter__ = _iter
    NT.matmul = lambda self, other: matmul(self, other)
    NT.__matmul__ = NT.matmul
    NT.bmm = lambda self, mat2: bmm(self, mat2)
    NT.dropout = _dropout
    ops = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.truediv,
        "pow": operator.pow,
    }
    for name, fn in ops.items():
        op = _binary(name, fn)

        def fwd(self, other, *, alpha=None, _op=op, _name=name):
            if alpha is not None and alpha != 1:
                if _name not in ("add", "sub"):
                    raise TypeError(f"{_name}() got an unexpected keyword argument 'alpha'")
                other = other * alpha
            return _op(self, other)

        def rev(self, other, _op=op):
            return _op(self, other, reverse=True)

        fwd.__name__ = name
        setattr(NT, name, fwd)
        dname = {"div": "truediv"}.get(name, name)
        setattr(NT, f"__{dname}__", fwd)
        setattr(NT, f"__r{dname}__", rev)
    NT.multiply = NT.mul
    NT.subtract = NT.sub
    NT.divide = NT.div
    NT.true_divide = NT.div
    NT.__neg__ = NT.neg
    NT.__abs__ = NT.abs
    NT.__pos__ = lambda self: self

    install_stubs(NT, _KEEP, _DUNDERS, _stub_method, _stub_property)


def _relu_f(x, inplace=False):
    return nested_unary(x, "relu", inplace)


def _silu_f(x, inplace=False):
    return nested_unary(x, "silu", inplace)


def _gelu_f(x, approximate="none"):
    return _gelu(x, approximate)


def _dropout_f(x, p=0.5, training=True, inplace=False):
    return _dropout(x, p, training, inplace)


def _log_softmax_f(x, dim=None, dtype=None):
    return softmax(x, dim, dtype=dtype, log=True)


def _softmax_f(x, dim=None, dtype=None):
    return softmax(x, dim, dtype=dtype)


# the functional entry points that catch ``NestedInput`` (``_tensor.nested_call``)
DISPATCH = {
    "relu": _relu_f,
    "silu": _silu_f,
    "gelu": _gelu_f,
    "dropout": _dropout_f,
    "softmax": _softmax_f,
    "log_softmax": _log_softmax_f,
    "linear": linear,
    "matmul": matmul,
    "bmm": bmm,
    "scaled_dot_product_attention": scaled_dot_product_attention,
}
