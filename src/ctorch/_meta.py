"""The meta device: arrays with a shape, a dtype and strides but no memory (issue #14).

A meta tensor is a plain ``Tensor`` whose array is a :class:`MetaArray` instead of a NumPy or
CuPy array. Nothing on the CPU path tests for it: the places that tell devices apart by the
array's exact type (``_backend.kernels_for``/``xp_of``, ``Tensor.device``, ``_gpu.to_device``)
reach it on their non-NumPy branch, where CuPy would otherwise start.

How ops run on it: ctorch's ops are NumPy code around kernels. A ``MetaArray`` answers NumPy's
protocols (``__array_ufunc__``, ``__array_function__``) and the ndarray methods the ops call,
computing the result's shape, dtype and (for views and elementwise results) strides without
touching data:

* shape rules (this module): elementwise ufuncs with broadcasting and NumPy's promotion (the
  ops have already applied torch's), ufunc reductions and the ``sum``/``mean``/``max``/``var``
  family with ``axis``/``keepdims``, ``matmul``/``dot``/``einsum``/``tensordot``, the creation
  functions, ``concatenate``/``stack``, ``where``/``clip``, and views (``reshape``,
  ``transpose``, basic indexing, ``broadcast_to``, ``squeeze``, ``expand_dims``, ``moveaxis``,
  ``split``...), which run on a *fake* ndarray: the real shape and strides laid over a one-element
  buffer, never read, so NumPy itself works out the view's strides and offset.
* the documented fallback: any other NumPy function runs on zero-strided stand-ins
  (``np.broadcast_to`` of a one-element zero array: no memory for the inputs) and the result
  becomes a meta array of its shape and dtype. It costs the result's memory and the compute,
  transiently; a function whose result depends on values (``nonzero``, ``unique``, boolean
  masks) raises ``NotImplementedError`` instead of returning a shape from zeros.
* kernels: ``kernels_for(meta)`` has none (``has()`` is False), so ops take their NumPy
  fallback; an op that calls a kernel unconditionally raises ``NotImplementedError`` naming
  the kernel and saying it has no meta implementation.
"""

from __future__ import annotations

import math
import operator
import sys
import warnings

import numpy as np

__all__ = [
    "MetaArray",
    "to_meta",
    "NoMetaImpl",
    "meta_kernels",
    "meta_xp",
    "elementwise",
    "is_meta",
]

_ndarray = np.ndarray
_as_strided = np.lib.stride_tricks.as_strided

_ZEROS: dict = {}


def _zero(dt) -> np.ndarray:
    """A shared one-element zero array of dtype ``dt`` (read-only)."""
    z = _ZEROS.get(dt)
    if z is None:
        z = np.zeros(1, dt)
        z.flags.writeable = False
        _ZEROS[dt] = z
    return z


def _c_strides(shape, itemsize: int) -> tuple:
    st = []
    acc = itemsize
    for n in reversed(shape):
        st.append(acc)
        acc *= max(int(n), 1)
    return tuple(reversed(st))


class NoMetaImpl(NotImplementedError, AttributeError):
    """An op or kernel with no meta implementation (an AttributeError too, so a
    ``getattr(kernels, name, None)`` probe takes the op's fallback). The message starts with
    the ctorch function the caller called (``histc: ...``)."""

    def __init__(self, msg: str) -> None:
        op = _entry_op()
        named = op is None or msg.split(":", 1)[0].endswith(op)  # ("linalg.inv: ...")
        super().__init__(msg if named else f"{op}: {msg}")


# frames of ctorch's own machinery, not ops: autograd, and the wrappers that autocast
# (``_autocast.autocast_wrapper``), decorators and dispatch put around public functions
_NOT_OPS = frozenset(
    (
        "forward",
        "backward",
        "apply",
        "autocast_wrapper",
        "wrapper",
        "wrapped",
        "inner",
        "dispatch",
        "checked",
    )
)


def _entry_op() -> str | None:
    """The outermost public ctorch function on the stack above the caller's own code."""
    f = sys._getframe(2)
    name = None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not (mod == "ctorch" or mod.startswith("ctorch.")):
            break
        co = f.f_code.co_name
        if not co.startswith(("_", "<")) and co not in _NOT_OPS:
            name = co
        f = f.f_back
    return name


_COPY_OUT = "Cannot copy out of meta tensor; no data!"
# the user's own moves to the host (their error is torch's plain one)
_MOVES = frozenset(
    ("to", "to_impl", "cpu", "cuda", "copy_", "numpy", "tolist", "type", "pin_memory")
)
_DATA_SHAPE = "{}: the result's shape depends on the data, which meta tensors do not have"
_READS = (
    "{}: reads tensor values, which a meta tensor does not have: this op has no meta implementation"
)


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous")

    def __init__(self, f: np.ndarray) -> None:
        fl = f.flags
        self.c_contiguous = fl.c_contiguous
        self.f_contiguous = fl.f_contiguous

    owndata = True
    writeable = True
    aligned = True

    @property
    def contiguous(self) -> bool:
        return self.c_contiguous

    def __getitem__(self, key: str):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "C": "c_contiguous"}.get(key, key))


class MetaArray:
    """An array of ``shape``/``dtype``/``strides`` with no storage (see the module notes).

    ``_f`` is the fake ndarray that carries the layout: the real shape and byte strides over a
    one-element buffer. It must never be read; only view functions run on it."""

    __slots__ = ("_f", "_off", "_base", "__weakref__")
    __array_priority__ = 2000

    def __init__(self, shape, dtype, strides=None, offset: int = 0) -> None:
        dt = np.dtype(dtype)
        shape = tuple(int(n) for n in shape)
        if strides is None:
            strides = _c_strides(shape, dt.itemsize)
        self._f = _as_strided(_zero(dt), shape, strides, writeable=False)
        self._off = offset
        self._base = None

    @staticmethod
    def _of_fake(f: np.ndarray, off: int = 0) -> MetaArray:
        m = object.__new__(MetaArray)
        m._f = f
        m._off = off
        m._base = None
        return m

    def _view(self, f: np.ndarray) -> MetaArray:
        """A meta view whose fake is ``f`` (a view of ``self._f``): NumPy moved its pointer.
        Its ``base`` is the storage's root (``storage_root``), its offset counted from it."""
        delta = f.__array_interface__["data"][0] - self._f.__array_interface__["data"][0]
        m = MetaArray._of_fake(f, self._off + delta // max(f.itemsize, 1))
        m._base = self._base if self._base is not None else self
        return m

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        return self._f.shape

    @shape.setter
    def shape(self, shape) -> None:
        # NumPy's in-place reshape: AttributeError when the strides allow no view
        f = self._f.view()
        f.shape = shape
        self._f = f

    dtype = property(lambda s: s._f.dtype)
    strides = property(lambda s: s._f.strides)
    ndim = property(lambda s: s._f.ndim)
    size = property(lambda s: s._f.size)
    itemsize = property(lambda s: s._f.itemsize)
    nbytes = property(lambda s: s._f.nbytes)
    flags = property(lambda s: _Flags(s._f))
    base = property(lambda s: s._base)
    device = "meta"  # (CuPy arrays have a device too; ops compare them)
    offset = property(lambda s: s._off)

    @property
    def T(self) -> MetaArray:
        return self._view(self._f.T)

    @property
    def mT(self) -> MetaArray:
        return self._view(np.swapaxes(self._f, -1, -2))

    @property
    def real(self) -> MetaArray:
        if self.dtype.kind != "c":
            return self
        return self._view(self._f.real)

    @real.setter
    def real(self, value) -> None:  # a write: nothing to store (the shapes must broadcast)
        self[...] = value

    @property
    def imag(self) -> MetaArray:
        if self.dtype.kind != "c":
            return MetaArray(self.shape, self.dtype)
        return self._view(self._f.imag)

    @imag.setter
    def imag(self, value) -> None:
        self[...] = value

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    # ------------------------------------------------------------------ no data
    def get(self, *args, **kwargs):
        # a copy to the host: torch's plain error for the user's own moves (``t.cpu()``,
        # ``t.to("cpu")``, ``cpu_t.copy_(t)``); an op that copies its input out to compute on
        # the host names itself (torch: no meta kernel for it, or ctorch has no rule yet)
        op = _entry_op()
        if op is None or op in _MOVES:
            raise NotImplementedError(_COPY_OUT)
        raise NoMetaImpl(f"{op}: {_COPY_OUT} (it reads the values: no meta implementation)")

    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self):
        raise NotImplementedError(_COPY_OUT)

    def __array__(self, dtype=None, copy=None):
        # only an op's own NumPy call reaches here (np.asarray(tensor) raises torch's
        # TypeError in Tensor.__array__ first)
        raise NoMetaImpl(
            "this op converts a meta array to a NumPy array (it needs the values): it has no "
            "meta implementation"
        )

    def __float__(self):
        # an op reading a value (a bounds check, a count, an index): Tensor.item() and
        # float(tensor) raise torch's RuntimeError before reaching here
        raise NoMetaImpl(
            "this op reads tensor values, which a meta tensor does not have: it has no meta "
            "implementation"
        )

    __int__ = __index__ = __complex__ = __float__

    def __bool__(self) -> bool:
        # Only ops' internal value checks reach here (``if (idx < 0).any(): raise ...``,
        # ``if nan.any(): ...``): a meta tensor has no values, so no value is out of range
        # and no NaN is present. ``bool(tensor)`` itself raises torch's error in Tensor.item.
        return False

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __dlpack__(self, *args, **kwargs):
        raise RuntimeError("Cannot export a meta tensor through DLPack: it has no data.")

    # ------------------------------------------------------------------ views
    def __getitem__(self, key):
        if _basic_index(key):
            return self._view(self._f[key])  # (basic indexing: a view, nothing read)
        for k in key if isinstance(key, tuple) else (key,):
            if getattr(k, "dtype", None) == np.bool_ or isinstance(k, (bool, np.bool_)):
                raise NotImplementedError(_DATA_SHAPE.format("boolean mask indexing"))
        return _fallback(operator.getitem, (self, key), {}, "indexing")

    def __setitem__(self, key, value) -> None:
        # a write: nothing to store; the shapes must still agree (NumPy broadcasting rules)
        tgt = self[key]
        vs = getattr(value, "shape", ())
        np.broadcast_shapes(tuple(vs), tuple(tgt.shape))

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        return _reshape(self, shape)

    def view(self, dtype=None, *args, **kwargs):
        if dtype is None or isinstance(dtype, type) and issubclass(dtype, np.ndarray):
            return self._view(self._f.view())
        dt = np.dtype(dtype)
        if dt.itemsize == self.itemsize:
            return self._view(self._f.view(dt))
        # a different item size changes the last dim (contiguous last dim only)
        shape = list(self.shape)
        if shape:
            shape[-1] = shape[-1] * self.itemsize // dt.itemsize
        return MetaArray(shape, dt)

    def transpose(self, *axes):
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], (int, np.integer)):
            axes = tuple(axes[0])
        return self._view(self._f.transpose(*axes))

    def swapaxes(self, a, b):
        return self._view(self._f.swapaxes(a, b))

    def squeeze(self, axis=None):
        return self._view(self._f.squeeze(axis))

    def ravel(self, order="C"):
        return _reshape(self, (-1,))

    def flatten(self, order="C"):
        return MetaArray((self.size,), self.dtype)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return self._view(self._f.diagonal(offset, axis1, axis2))

    def conj(self):
        return MetaArray(self.shape, self.dtype, _out_strides([self], self.shape))

    conjugate = conj

    # ------------------------------------------------------------------ copies and writes
    def copy(self, order="C"):
        return MetaArray(self.shape, self.dtype, _out_strides([self], self.shape, order))

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        dt = np.dtype(dtype)
        if not copy and dt == self.dtype:
            return self
        return MetaArray(self.shape, dt, _out_strides([self], self.shape, order, dt.itemsize))

    def fill(self, value) -> None:
        return None

    def sort(self, *args, **kwargs) -> None:
        return None

    # the reductions and elementwise methods: NumPy's functions of the same names
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        fn = getattr(np, name, None)
        if fn is None or not callable(fn):
            raise AttributeError(f"'MetaArray' object has no attribute {name!r}")

        def method(*args, **kwargs):
            return fn(self, *args, **kwargs)

        return method

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _RULES.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        if func in _DATA_DEPENDENT:
            raise NotImplementedError(_DATA_SHAPE.format(func.__name__))
        if func in _READS_VALUES:
            raise NoMetaImpl(_READS.format(func.__name__))
        return _fallback(func, args, kwargs, func.__name__)


def _ops() -> None:
    """The arithmetic operators of ndarray, as the ufuncs NumPy maps them to."""
    pairs = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "truediv": np.true_divide,
        "floordiv": np.floor_divide,
        "mod": np.remainder,
        "pow": np.power,
        "matmul": np.matmul,
        "and": np.bitwise_and,
        "or": np.bitwise_or,
        "xor": np.bitwise_xor,
        "lshift": np.left_shift,
        "rshift": np.right_shift,
    }
    for name, uf in pairs.items():
        setattr(MetaArray, f"__{name}__", lambda s, o, uf=uf: uf(s, o))
        setattr(MetaArray, f"__r{name}__", lambda s, o, uf=uf: uf(o, s))
        setattr(MetaArray, f"__i{name}__", lambda s, o, uf=uf: uf(s, o, out=s))
    for name, uf in {
        "lt": np.less,
        "le": np.less_equal,
        "gt": np.greater,
        "ge": np.greater_equal,
        "eq": np.equal,
        "ne": np.not_equal,
    }.items():
        setattr(MetaArray, f"__{name}__", lambda s, o, uf=uf: uf(s, o))
    MetaArray.__neg__ = lambda s: np.negative(s)
    MetaArray.__pos__ = lambda s: s
    MetaArray.__abs__ = lambda s: np.absolute(s)
    MetaArray.__invert__ = lambda s: np.invert(s)
    MetaArray.__hash__ = object.__hash__


_ops()


# ---------------------------------------------------------------------- helpers
def to_meta(a) -> MetaArray:
    """The meta array with ``a``'s shape, dtype and strides (NumPy, CuPy or meta)."""
    if type(a) is MetaArray:
        return a
    a_st = getattr(a, "strides", None)
    item = a.dtype.itemsize
    shape = tuple(a.shape)
    if a_st is not None and all(s >= 0 and s % item == 0 for s in a_st):
        from . import _memfmt as MF

        st = tuple(s // item for s in a_st)
        if MF.non_overlapping_and_dense(shape, st):
            return MetaArray(shape, a.dtype, a_st)
    return MetaArray(shape, a.dtype)


def is_meta(*xs) -> bool:
    """Whether any of ``xs`` (arrays, tensors, scalars) is or holds a meta array."""
    return any(type(getattr(x, "_a", x)) is MetaArray for x in xs)


def elementwise(inputs, dtype) -> MetaArray:
    """The meta result of an elementwise op over ``inputs`` (arrays or scalars): their
    broadcast shape and ``dtype``, laid out as torch's TensorIterator lays it out. For the ops
    that compute through SciPy or a value-dependent NumPy expression (torch.special)."""
    arrays = [getattr(x, "_a", x) for x in inputs]
    shape = np.broadcast_shapes(*(tuple(getattr(x, "shape", ())) for x in arrays))
    dt = np.dtype(dtype)
    return MetaArray(shape, dt, _out_strides(arrays, shape, "K", dt.itemsize))


def _standin(x):
    """A zero-strided read-only stand-in for a meta array (no memory); other values as-is."""
    if type(x) is MetaArray:
        return np.broadcast_to(_zero(x.dtype)[0], x.shape)
    if isinstance(x, (list, tuple)) and any(type(e) is MetaArray for e in x):
        return type(x)(_standin(e) for e in x)
    return x


def _wrap_result(r, name: str):
    if isinstance(r, _ndarray):
        return MetaArray(r.shape, r.dtype)
    if isinstance(r, np.generic):
        return MetaArray((), r.dtype)
    if isinstance(r, (tuple, list)):
        return type(r)(_wrap_result(e, name) for e in r)
    if r is None:
        return None
    raise NotImplementedError(
        f"{name}: returns a value computed from the data, which meta tensors do not have"
    )


# the fallback computes on stand-ins of the inputs' sizes: past this many elements it refuses
# (a 10**12-element meta tensor must not try to allocate its result)
_FALLBACK_MAX = 1 << 26


def _fallback(func, args, kwargs, name: str):
    """The documented fallback: ``func`` on zero-strided stand-ins, its result as meta arrays
    (costs the result's memory and compute; shape rules cover the common functions)."""
    n = sum(a.size for a in args if type(a) is MetaArray)
    if n > _FALLBACK_MAX:
        raise NoMetaImpl(
            f"no meta shape rule for NumPy's {name}, and its fallback (running it on zero "
            f"stand-ins) would compute over {n} elements"
        )
    sargs = tuple(_standin(a) for a in args)
    skw = {k: _standin(v) for k, v in kwargs.items() if k != "out"}
    out = kwargs.get("out")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r = func(*sargs, **skw)
        except ValueError as e:
            if "read-only" in str(e):
                raise NoMetaImpl(
                    f"{name}: writes into its input in NumPy and has no meta implementation"
                ) from None
            raise
    res = _wrap_result(r, name)
    if out is not None:
        return out
    return res


def _basic_index(key) -> bool:
    if isinstance(key, tuple):
        return all(_basic_index_1(k) for k in key)
    return _basic_index_1(key)


def _basic_index_1(k) -> bool:
    if k is None or k is Ellipsis or isinstance(k, slice):
        return True
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _norm_shape(shape, size: int, op: str = "reshape") -> tuple:
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        rest = math.prod(n for n in shape if n != -1)
        if rest == 0 or size % rest:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // rest if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def _reshape(m: MetaArray, shape) -> MetaArray:
    shape = _norm_shape(shape, m.size)
    v = m._f.view()
    try:
        v.shape = shape  # a view when the strides allow one (never copies, never reads)
    except (AttributeError, ValueError):
        return MetaArray(shape, m.dtype)
    return m._view(v)


def _out_strides(inputs, shape, order="K", itemsize=None):
    """Byte strides of an elementwise result of ``shape``, laid out as torch's TensorIterator
    lays out its output: the operands' common strides when they all have the same dense
    layout, else the dims ordered by the operands' strides, the first operand that tells two
    dims apart deciding (broadcast dims tell nothing), ties to the smaller dim; C order when
    nothing decides."""
    shape = tuple(shape)
    nd = len(shape)
    ops = [x for x in inputs if type(x) is MetaArray and x.ndim]
    first = ops[0] if ops else None
    item = itemsize if itemsize is not None else (first.itemsize if first is not None else 1)
    if order == "C" or nd == 0 or not ops:
        return _c_strides(shape, item)
    from . import _memfmt as MF  # (it imports _backend, which imports this module)

    sts = MF.broadcast_elem_strides(shape, ops)  # (0 on broadcast dims)
    if all(x.shape == shape for x in ops) and all(st == sts[0] for st in sts):
        if all(v >= 0 for v in sts[0]) and MF.non_overlapping_and_dense(shape, sts[0]):
            return tuple(v * item for v in sts[0])

    return tuple(v * item for v in MF._iter_order_strides(shape, sts))


# ---------------------------------------------------------------------- ufuncs
def _dtype_probe(x):
    """A value standing for ``x`` in a dtype probe: a one-element zero array of a meta or
    NumPy array's dtype; Python scalars as they are (NumPy's weak scalar promotion)."""
    if type(x) is MetaArray or isinstance(x, _ndarray):
        return _zero(x.dtype)
    if isinstance(x, np.generic):
        return x
    return x


def _ufunc(ufunc, method, inputs, kwargs):
    out = kwargs.pop("out", None)
    if out is not None and not isinstance(out, tuple):
        out = (out,)
    for o in out or ():
        if o is not None and type(o) is not MetaArray:
            raise NoMetaImpl(
                f"{ufunc.__name__}: this op writes a meta result into a CPU buffer; it has no "
                "meta implementation"
            )
    kwargs.pop("where", None)
    name = ufunc.__name__
    if method == "__call__":
        if ufunc.signature is not None:
            if ufunc is np.matmul:
                shape = _matmul_shape(inputs[0], inputs[1])
            else:
                return _fallback(ufunc, inputs, kwargs, name)
        else:
            shape = np.broadcast_shapes(*(tuple(getattr(x, "shape", ())) for x in inputs))
        if ufunc is np.matmul and "dtype" not in kwargs:
            # the ops give matmul an output of the inputs' promoted dtype (NumPy's own loop
            # would widen bfloat16 to float32)
            probe = np.empty(0, _res_dtype(*inputs))
        else:
            with np.errstate(all="ignore"):
                probe = ufunc(*(_dtype_probe(x) for x in inputs), **kwargs)
        res = probe if isinstance(probe, tuple) else (probe,)
        outs = []
        for i, r in enumerate(res):
            if out is not None and out[i] is not None:
                o = out[i]
                if tuple(o.shape) != tuple(shape) and ufunc.signature is None:
                    # NumPy: the output must hold the broadcast result
                    np.broadcast_shapes(tuple(o.shape), tuple(shape))
                    if np.broadcast_shapes(tuple(o.shape), tuple(shape)) != tuple(o.shape):
                        raise ValueError(
                            f"non-broadcastable output operand with shape {o.shape} doesn't "
                            f"match the broadcast shape {tuple(shape)}"
                        )
                outs.append(o)
            else:
                dt = np.asarray(r).dtype
                # (a gufunc's result, matmul's, is C-ordered: torch's GEMM outputs are)
                order = "C" if ufunc.signature is not None else "K"
                outs.append(MetaArray(shape, dt, _out_strides(inputs, shape, order, dt.itemsize)))
        return outs[0] if len(outs) == 1 else tuple(outs)
    if method in ("reduce", "accumulate", "reduceat"):
        a = inputs[0]
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        kwargs.pop("initial", None)
        if method == "accumulate":
            dt = getattr(ufunc, method)(_zero(a.dtype), **kwargs).dtype
            r = MetaArray(a.shape, dt)
        elif method == "reduce":
            small = np.broadcast_to(_zero(a.dtype)[0], (1,) * a.ndim)
            with np.errstate(all="ignore"):
                dt = np.asarray(ufunc.reduce(small, axis=axis, **kwargs)).dtype
            r = MetaArray(_reduced_shape(a.shape, axis, keepdims), dt)
        else:
            return _fallback(getattr(ufunc, method), inputs, kwargs, name)
        if out is not None and out[0] is not None:
            return out[0]
        return r
    if method == "at":
        return None
    return _fallback(getattr(ufunc, method), inputs, kwargs, name)


def _reduced_shape(shape, axis, keepdims) -> tuple:
    nd = len(shape)
    if axis is None:
        axes = set(range(nd))
    else:
        if not isinstance(axis, (tuple, list)):
            axis = (axis,)
        axes = set()
        for ax in axis:
            ax = operator.index(ax)
            if not -nd <= ax < max(nd, 1):
                raise np.exceptions.AxisError(ax, nd)
            axes.add(ax % nd if nd else 0)
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _matmul_shape(a, b) -> tuple:
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    va, vb = len(sa) == 1, len(sb) == 1
    ma = (1,) + sa if va else sa
    mb = sb + (1,) if vb else sb
    if ma[-1] != mb[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
            f"signature (n?,k),(k,m?)->(n?,m?) (size {mb[-2]} is different from {ma[-1]})"
        )
    batch = np.broadcast_shapes(ma[:-2], mb[:-2])
    out = batch + (ma[-2], mb[-1])
    if va:
        out = out[:-2] + out[-1:]
    if vb:
        out = out[:-1]
    return out


def _res_dtype(*xs, dtype=None):
    if dtype is not None:
        return np.dtype(dtype)
    return np.result_type(*(_dtype_probe(x) for x in xs))


# ---------------------------------------------------------------------- function rules
def _r_like(fill=False):
    def like(a, *args, dtype=None, order="K", subok=True, shape=None, **kw):
        dt = np.dtype(dtype) if dtype is not None else a.dtype
        shp = tuple(a.shape) if shape is None else tuple(np.atleast_1d(shape))
        st = _out_strides([a], shp, order, dt.itemsize) if shape is None else None
        return MetaArray(shp, dt, st)

    return like


def _r_reduction(func):
    def rule(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if type(a) is not MetaArray:
            return _fallback(func, (a,), dict(axis=axis, dtype=dtype, keepdims=keepdims, **kw), "")
        small = np.broadcast_to(_zero(a.dtype)[0], (1,) * a.ndim)
        kw.pop("initial", None)
        kw.pop("where", None)
        extra = {} if dtype is None else {"dtype": dtype}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            dt = np.asarray(func(small, axis=axis, **extra, **kw)).dtype
        r = MetaArray(_reduced_shape(a.shape, axis, keepdims), dt)
        return out if out is not None else r

    return rule


def _r_arg(func):
    def rule(a, axis=None, out=None, keepdims=False):
        shape = _reduced_shape(a.shape, axis, keepdims)
        return out if out is not None else MetaArray(shape, np.intp)

    return rule


def _r_concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if axis is None:
        arrays = [np.ravel(x) for x in arrays]
        axis = 0
    nd = arrays[0].ndim
    ax = axis % nd if nd else 0
    base = list(arrays[0].shape)
    total = 0
    for x in arrays:
        s = list(x.shape)
        if len(s) != nd or any(s[d] != base[d] for d in range(nd) if d != ax):
            raise ValueError(
                "all the input array dimensions except for the concatenation axis must match "
                f"exactly, but along dimension {next(d for d in range(nd) if d != ax and s[d] != base[d]) if len(s) == nd else 0}"
            )
        total += s[ax]
    base[ax] = total
    r = MetaArray(base, _res_dtype(*arrays, dtype=dtype))
    return out if out is not None else r


def _r_stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    shapes = {tuple(x.shape) for x in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    shp = list(arrays[0].shape)
    ax = axis % (len(shp) + 1)
    shp.insert(ax, len(arrays))
    r = MetaArray(shp, _res_dtype(*arrays, dtype=dtype))
    return out if out is not None else r


def _r_where(cond, x=None, y=None):
    if x is None:
        raise NotImplementedError(_DATA_SHAPE.format("where(condition)"))
    shape = np.broadcast_shapes(*(tuple(getattr(v, "shape", ())) for v in (cond, x, y)))
    dt = _res_dtype(x, y)
    return MetaArray(shape, dt, _out_strides([cond, x, y], shape, "K", dt.itemsize))


def _r_clip(a, a_min=None, a_max=None, out=None, **kw):
    lo = kw.pop("min", a_min)
    hi = kw.pop("max", a_max)
    vals = [v for v in (a, lo, hi) if v is not None]
    shape = np.broadcast_shapes(*(tuple(getattr(v, "shape", ())) for v in vals))
    dt = kw.get("dtype")
    r = MetaArray(shape, dt if dt is not None else _res_dtype(*vals))
    return out if out is not None else r


def _r_copyto(dst, src, casting="same_kind", where=True):
    if type(dst) is not MetaArray:
        raise NotImplementedError(_COPY_OUT)
    np.broadcast_shapes(tuple(getattr(src, "shape", ())), tuple(dst.shape))


def _r_einsum(*operands, out=None, optimize=False, dtype=None, **kw):
    spec = operands[0]
    arrays = operands[1:]
    if not isinstance(spec, str) or "." in spec:
        return _fallback(np.einsum, operands, dict(kw, dtype=dtype), "einsum")
    spec = spec.replace(" ", "")
    ins, _, outs = spec.partition("->")
    terms = ins.split(",")
    sizes: dict = {}
    for t, x in zip(terms, arrays, strict=False):
        if len(t) != x.ndim:
            raise ValueError(f"einsum(): operand has {x.ndim} dims, the term '{t}' {len(t)}")
        for c, n in zip(t, x.shape, strict=True):
            if sizes.get(c, 1) != 1 and n != 1 and sizes[c] != n:
                raise ValueError(f"einsum(): operands do not broadcast on subscript '{c}'")
            sizes[c] = max(sizes.get(c, n), n)
    if not _:
        outs = "".join(sorted(c for c in sizes if ins.count(c) == 1))
    r = MetaArray(tuple(sizes[c] for c in outs), _res_dtype(*arrays, dtype=dtype))
    return out if out is not None else r


def _r_dot(a, b, out=None):
    if a.ndim == 0 or b.ndim == 0:
        return np.multiply(a, b)
    if b.ndim == 1:
        if a.shape[-1] != b.shape[0]:
            raise ValueError("shapes not aligned")
        shape = a.shape[:-1]
    else:
        if a.shape[-1] != b.shape[-2]:
            raise ValueError("shapes not aligned")
        shape = a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    r = MetaArray(shape, _res_dtype(a, b))
    return out if out is not None else r


def _view_rule(func):
    """A NumPy view function run on the fakes (it moves pointers, reads nothing)."""

    def rule(a, *args, **kwargs):
        if type(a) is not MetaArray:
            return _fallback(func, (a, *args), kwargs, func.__name__)
        r = func(a._f, *args, **kwargs)
        if isinstance(r, (list, tuple)):
            return type(r)(a._view(x) for x in r)
        return a._view(r)

    return rule


def _r_broadcast_to(a, shape, subok=False):
    if type(a) is not MetaArray:
        return _fallback(np.broadcast_to, (a, shape), {}, "broadcast_to")
    return a._view(np.broadcast_to(a._f, shape))


def _r_broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(tuple(x.shape) for x in args))
    return tuple(np.broadcast_to(x, shape) for x in args)


def _r_reshape(a, *args, **kwargs):
    shape = kwargs.get("shape", kwargs.get("newshape", args[0] if args else None))
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return _reshape(a, shape)


def _r_ascontig(a, dtype=None, **kw):
    dt = np.dtype(dtype) if dtype is not None else a.dtype
    if a.flags.c_contiguous and dt == a.dtype:
        return a
    return MetaArray(a.shape, dt)


def _r_copy(a, order="K", **kw):
    return a.copy(order)


def _r_ravel(a, order="C"):
    return _reshape(a, (-1,))


def _r_shape(a):
    return tuple(a.shape)


def _r_ndim(a):
    return a.ndim


def _r_size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


def _r_sort_like(func):
    def rule(a, axis=-1, **kw):
        if axis is None:
            return MetaArray((a.size,), a.dtype if func is np.sort else np.intp)
        return MetaArray(a.shape, a.dtype if func is np.sort else np.intp)

    return rule


def _r_may_share(a, b, *args, **kwargs) -> bool:
    return a is b


def _r_repeat(a, repeats, axis=None):
    if type(repeats) is MetaArray and repeats.ndim:
        raise NotImplementedError(_DATA_SHAPE.format("repeat with a tensor of repeats"))
    return _fallback(np.repeat, (a, repeats), {"axis": axis}, "repeat")


def _r_count_nonzero(a, axis=None, *, keepdims=False):
    # the count's shape (NumPy's intp; the op casts to int64), no value read
    return MetaArray(_reduced_shape(a.shape, axis, keepdims), np.intp)


def _r_bincount(x, weights=None, minlength=0):
    # the ops' scatter-adds (max-pool backward...) count into a known length; with none given,
    # the length is the largest value's
    if not minlength:
        raise NotImplementedError(_DATA_SHAPE.format("bincount without minlength"))
    return MetaArray((int(minlength),), np.float64 if weights is not None else np.intp)


_RULES: dict = {
    np.repeat: _r_repeat,
    np.bincount: _r_bincount,
    np.count_nonzero: _r_count_nonzero,
    np.empty_like: _r_like(),
    np.zeros_like: _r_like(),
    np.ones_like: _r_like(),
    np.full_like: lambda a, fill_value, *args, **kw: _r_like()(a, *args, **kw),
    np.concatenate: _r_concatenate,
    np.stack: _r_stack,
    np.where: _r_where,
    np.clip: _r_clip,
    np.copyto: _r_copyto,
    np.einsum: _r_einsum,
    np.dot: _r_dot,
    np.broadcast_to: _r_broadcast_to,
    np.broadcast_arrays: _r_broadcast_arrays,
    np.reshape: _r_reshape,
    np.ascontiguousarray: _r_ascontig,
    np.copy: _r_copy,
    np.ravel: _r_ravel,
    np.shape: _r_shape,
    np.ndim: _r_ndim,
    np.size: _r_size,
    np.sort: _r_sort_like(np.sort),
    np.argsort: _r_sort_like(np.argsort),
    np.shares_memory: _r_may_share,
    np.may_share_memory: _r_may_share,
    np.argmax: _r_arg(np.argmax),
    np.argmin: _r_arg(np.argmin),
}
for _f in (
    np.sum,
    np.prod,
    np.mean,
    np.max,
    np.min,
    np.amax,
    np.amin,
    np.any,
    np.all,
    np.var,
    np.std,
    np.nansum,
    np.nanmean,
    np.nanmax,
    np.nanmin,
    np.nanprod,
    np.nanvar,
    np.nanstd,
    np.median,
    np.nanmedian,
    np.logaddexp.reduce,
):
    _RULES[_f] = _r_reduction(_f)
for _f in (
    np.transpose,
    np.swapaxes,
    np.moveaxis,
    np.squeeze,
    np.expand_dims,
    np.split,
    np.array_split,
    np.diagonal,
    np.atleast_1d,
    np.atleast_2d,
    np.flip,
    np.real,
):
    _RULES[_f] = _view_rule(_f)

# functions whose result's shape comes from values: the stand-ins' zeros would give a wrong one
_DATA_DEPENDENT = {
    np.nonzero,
    np.argwhere,
    np.flatnonzero,
    np.unique,
    np.extract,
    np.compress,
}
# functions answering from the values (a count, a comparison): no meta result to give
_READS_VALUES = {np.array_equal, np.allclose, np.histogram}


class _MetaKernels:
    """``kernels_for(meta)``: no kernels (``has()`` is False and a probe gets None, so an op
    takes its NumPy path); an op calling one outright gets ``NoMetaImpl`` naming it."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NoMetaImpl(
            f"the kernel {name!r} has no meta implementation: this op cannot run on meta "
            "tensors yet"
        )

    def has(self, name: str) -> bool:
        return False


meta_kernels = _MetaKernels()


class _MetaXP:
    """``xp_of(meta)``: NumPy's namespace whose creation functions make meta arrays (every
    other function is NumPy's, which dispatches meta inputs to the rules above)."""

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def empty(shape, dtype=float, order="C", strides=None, **kw):
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        if strides is not None:
            return MetaArray(shape, dtype, strides)
        m = MetaArray(shape, dtype)
        if order == "F":
            return MetaArray(shape, dtype, _c_strides(m.shape[::-1], m.itemsize)[::-1])
        return m

    zeros = ones = empty

    @staticmethod
    def full(shape, fill_value, dtype=None, order="C", **kw):
        if dtype is None:
            dtype = np.asarray(fill_value).dtype
        return _MetaXP.empty(shape, dtype, order)

    @staticmethod
    def asarray(a, dtype=None, order=None, **kw):
        # an op's own constants (a NumPy array of window sizes...) become meta too: device
        # checks between tensors are the ops' (``check_same_device``), not this
        if type(a) is MetaArray:
            return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
        r = np.asarray(a, dtype=dtype)
        return MetaArray(r.shape, r.dtype)

    asanyarray = asarray

    @staticmethod
    def array(a, dtype=None, copy=True, **kw):
        if type(a) is MetaArray:
            return a.astype(dtype if dtype is not None else a.dtype)
        return _MetaXP.asarray(a, dtype)

    @staticmethod
    def ascontiguousarray(a, dtype=None, **kw):
        if type(a) is not MetaArray:
            return _MetaXP.asarray(a, dtype)
        return _r_ascontig(a, dtype)

    @staticmethod
    def asfortranarray(a, dtype=None, **kw):
        m = _MetaXP.asarray(a, dtype)
        return _MetaXP.empty(m.shape, m.dtype, order="F")

    random = None  # set below: meta draws (no values, no generator advanced)

    @staticmethod
    def arange(*args, dtype=None, **kw):
        r = np.arange(*args, dtype=dtype)
        return MetaArray(r.shape, r.dtype)

    class lib:  # noqa: N801 - NumPy's name
        class stride_tricks:  # noqa: N801
            @staticmethod
            def as_strided(a, shape=None, strides=None, **kw):
                f = _as_strided(a._f, shape, strides, writeable=False)
                return a._view(f)

    empty_like = staticmethod(np.empty_like)
    zeros_like = staticmethod(np.zeros_like)
    ones_like = staticmethod(np.ones_like)
    full_like = staticmethod(np.full_like)
    ndarray = MetaArray


meta_xp = _MetaXP()


class _MetaRandom:
    """``meta_xp.random``: NumPy-random-shaped draws that make meta arrays of the size asked."""

    def __getattr__(self, name: str):
        def draw(*args, size=None, dtype=None, **kw):
            if size is None:
                size = args[-1] if args and not isinstance(args[-1], (float, int)) else args
                if name in ("random", "rand", "standard_normal", "randn", "random_sample"):
                    size = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
            if isinstance(size, (int, np.integer)):
                size = (size,)
            dt = dtype if dtype is not None else (np.int64 if "int" in name else np.float64)
            return MetaArray(tuple(size), dt)

        return draw


_MetaXP.random = _MetaRandom()
