"""Small helpers shared by the op families."""

from __future__ import annotations

import math

import numpy as np

from .. import _display
from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim

_wrap = Tensor._make
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
from .._backend import KERNEL_MIN  # noqa: E402,F401 - below this, NumPy beats a kernel call
from .._backend import contiguous as _contiguous  # noqa: E402


def dims_outer_to_inner(strides) -> list[int]:
    """The dims from outermost to innermost in memory: by decreasing |stride|, ties in
    logical order (``Tensor.dim_order``; the order torch's TensorIterator walks a tensor)."""
    return sorted(range(len(strides)), key=lambda d: (-abs(strides[d]), d))


def make_contiguous(a) -> Tensor:
    """``Tensor._make`` of a result torch allocates contiguous whatever the input's layout
    (reductions over a dim, scans, softmax, cat/stack, masked_fill...): NumPy keeps a permuted
    input's memory order, and a later ``.view`` would then fail where torch's succeeds."""
    a = _contiguous(a)
    if 1 in a.shape and a.ndim > 1:
        a = _c_strides(a)
    return Tensor._make(a)


def _c_strides(a):
    """A C-contiguous ``a`` with exactly C order's strides, size-1 dims included (NumPy
    leaves a kept reduced dim with the input's stride; torch's results have
    ``stride[d] = stride[d + 1] * size[d + 1]``): a view, no copy."""
    want, st = a.itemsize, []
    for n in a.shape[::-1]:
        st.append(want)
        want *= max(n, 1)
    st = tuple(st[::-1])
    if st == a.strides or a.size == 0:
        return a
    from .._backend import xp_of

    return xp_of(a).lib.stride_tricks.as_strided(a, a.shape, st)


def named(fn, name: str, doc: str | None = None):
    """``fn``, a function or class that a factory made, as the public ``name``: its
    ``__name__`` and ``__qualname__`` (reprs, and pickling by qualified name, find it there),
    and ``doc`` as its docstring when given."""
    fn.__name__ = fn.__qualname__ = name
    if doc is not None:
        fn.__doc__ = doc
    return fn


def node_variants(base, **node_names):
    """Subclasses of the autograd Function ``base`` that differ from it only in the name torch
    gives their graph node (``grad_fn``): one per ``name=node_name``, in ``base``'s module."""
    return tuple(
        type(base)(name, (base,), {"_node_name": node, "__module__": base.__module__})
        for name, node in node_names.items()
    )


def conj_if_complex(v):
    """conj of a complex tensor (differentiable, ``conj_physical``) or Python complex; real
    ones are returned as they are, so real formulas stay bitwise what they were (torch's
    backward formulas use conj of the other operands)."""
    if isinstance(v, Tensor):
        if v._a.dtype.kind != "c":
            return v
        from .complex import conj_physical

        return conj_physical(v)
    return v.conjugate() if isinstance(v, complex) else v


# torch's ScalarType names by NumPy dtype name (as torch's error messages spell dtypes)
SCALAR_TYPE_NAMES = D.SCALAR_TYPE_NAMES


def wrap_dim(dim, ndim, op=""):
    return _wrap_dim(dim, ndim, op)


_ALL_AXES = tuple(tuple(range(n)) for n in range(8))  # dims_tuple(None, n), made once


def dims_tuple(dim, ndim, op=""):
    """Normalize an int / tuple / list / None ``dim`` into a sorted tuple of axes."""
    if dim is None:
        return _ALL_AXES[ndim] if ndim < 8 else tuple(range(ndim))
    if ndim == 0:
        # a 0-d tensor reduces over "dim 0" / "dim -1" as over no dim at all (torch)
        for d in dim if isinstance(dim, (tuple, list)) else (dim,):
            _wrap_dim(d, ndim, op)
        return ()
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim))
        out = tuple(sorted({_wrap_dim(d, ndim, op) for d in dim}))
        if len(out) != len(dim):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return out
    return (_wrap_dim(dim, ndim, op),)


def check_same_device(op, *ts):
    first = None
    for t in ts:
        if isinstance(t, Tensor):
            tp = type(t._a)
            if first is None:
                first = t
            elif type(first._a) is not tp or (
                tp is not np.ndarray and t._a.device != first._a.device
            ):
                if first.is_meta or t.is_meta:
                    _meta_mismatch(first, t)
                    continue
                raise RuntimeError(
                    f"{op}: Expected all tensors to be on the same device, but found at least "
                    f"two devices, {first.device} and {t.device}!"
                )


def _meta_mismatch(first: Tensor, t: Tensor) -> None:
    """torch 2.13 with a meta tensor and a tensor of another device: a 0-d CPU tensor is a
    scalar that goes with any device; anything else is its error, naming the unexpected
    device and the expected one (the first tensor's)."""
    for x in (first, t):
        if type(x._a) is np.ndarray and x._a.ndim == 0:
            return
    raise RuntimeError(f"Tensor on device {t.device} is not on the expected device {first.device}!")


def as_tensor_arg(x, like: Tensor | None = None, op: str = "") -> Tensor:
    """Turn a scalar / ndarray / list operand into a Tensor (on ``like``'s device)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple)):
        a = np.asarray(x)
        if a.dtype == np.float64 and not isinstance(x, np.ndarray):
            a = a.astype(D.to_numpy_dtype(D.get_default_dtype()))
        t = _wrap(a)
        if like is not None and type(like._a) is not np.ndarray:
            t = t.to(like.device)
        return t
    if type(x).__module__.startswith("cupy"):
        return _wrap(x)
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")


def sum_to_shape(g: Tensor, shape) -> Tensor:
    """Reduce a broadcast gradient back to ``shape`` (differentiable)."""
    shape = tuple(shape)
    gs = g._a.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gs[i + lead] != 1:
            axes.append(i + lead)
    if axes:
        g = g.sum(dim=tuple(axes), keepdim=True)
    if lead:
        g = g.reshape(shape)
    elif g._a.shape != shape:
        g = g.reshape(shape)
    return g


def float_dtype_for(a) -> np.dtype:
    """Integer/bool inputs of float-valued ops compute in the default dtype."""
    if a.dtype.kind in "fcV":
        return a.dtype
    return D.to_numpy_dtype(D.get_default_dtype())


_RETURN_TYPES: dict = {}


def return_type(name: str, fields=("values", "indices")):
    """torch.return_types-style namedtuple class (``ctorch.return_types.max(values=..., ...)``)."""
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        import collections

        base = collections.namedtuple(name, fields)

        def __repr__(self):
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
            return f"{_display.prefix}return_types.{name}(\n{body})"

        cls = type(
            name,
            (base,),
            {"__slots__": (), "__repr__": __repr__, "__module__": "ctorch.return_types"},
        )
        _RETURN_TYPES[name] = cls
    return cls


def check_out_grad(out: Tensor, r: Tensor) -> None:
    """torch's refusal of ``out=`` where autograd would have to record the write: the result
    (an argument) or ``out`` itself requires grad while grad mode is on (ctorch wrote the
    values and dropped the graph)."""
    from ..autograd.grad_mode import state

    if state.enabled and (r._rg or out._rg):
        node = type(r.grad_fn).__name__ if r.grad_fn is not None else "a leaf"
        raise RuntimeError(
            "functions with out=... arguments don't support automatic differentiation, but one "
            f"of the arguments requires grad ({node})."
        )


def check_out_meta(out: Tensor, r: Tensor) -> None:
    """torch's refusal of ``out=`` across the meta device (a meta result into a CPU ``out``,
    or the reverse): its copy's error, instead of a data-access error or a silent no-op."""
    if out.is_meta != r.is_meta:
        raise RuntimeError(
            f"Attempting to copy from device {r.device} to device {out.device}, but "
            "cross-device copies are not allowed!"
        )


def with_out(r, out):
    """``r``, or ``r`` written into ``out=`` (torch's cast and resize rules, ``binary._out``);
    a (values, indices) result into an ``out`` tuple of as many tensors, returned as the
    same return type holding them (torch.max(x, 0, out=(v, i)))."""
    if out is None:
        return r
    from .binary import _out  # binary imports this module

    if isinstance(r, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(r):
            raise TypeError(
                f"argument 'out' must be tuple of {len(r)} Tensors, not {type(out).__name__}"
            )
        return type(r)(*(_out(o, x) for o, x in zip(out, r, strict=True)))
    return _out(out, r)


def _omi(shape, axes):
    """(outer, mid, inner) when ``axes`` is one contiguous run of dims, else None."""
    if not axes:
        return None
    i, j = axes[0], axes[-1] + 1
    if list(axes) != list(range(i, j)):
        return None
    outer = math.prod(shape[:i])
    mid = math.prod(shape[i:j])
    inner = math.prod(shape[j:])
    return outer, mid, inner


def _expand_grad(g, shape, axes, keepdim):
    if not keepdim and axes:
        gshape = list(shape)
        for ax in axes:
            gshape[ax] = 1
        g = g.reshape(gshape)
    return g.expand(shape)
