"""Tensor creation: tensor/as_tensor/from_numpy, zeros/ones/empty/full/eye/arange/linspace,
random tensors, and the ``*_like`` family."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _dtype as D
from . import _memfmt as MF
from . import _warnings
from ._backend import fp_quiet, xp_of
from ._core._smallops import list_array as _list_array
from ._core._smallops import plain_shape as _plain_shape
from ._device import CPU, as_device, unsupported
from ._meta import MetaArray, to_meta
from ._random import gen_for
from ._tensor import _RG_DTYPE_MSG_FACTORY, Tensor

_wrap = Tensor._make
_F64 = np.dtype(np.float64)
_default_device = [None]


def set_default_device(device) -> None:
    _default_device[0] = None if device is None else as_device(device)


def get_default_device():
    return _default_device[0] or CPU


def _np_dtype(dtype, default=None):
    if dtype is None:
        return D.to_numpy_dtype(default if default is not None else D.get_default_dtype())
    return D.to_numpy_dtype(D._as_dtype(dtype))


def _on_meta(device) -> bool:
    """Whether a factory's result goes to the meta device (``device=`` or the default)."""
    if device is None:
        d = _default_device[0]
        return d is not None and d.type == "meta"
    return as_device(device).type == "meta"


def _meta_tensor(shape, dt, requires_grad=False) -> Tensor:
    """A meta tensor of ``shape``/``dt``: no memory, whatever its size."""
    t = _wrap(MetaArray(shape, dt))
    return _factory_requires_grad(t) if requires_grad else t


def _place(a, device, requires_grad=False, pin_memory=False) -> Tensor:
    dev = as_device(device) if device is not None else _default_device[0]
    if dev is not None and dev.type == "cuda":
        from . import _gpu

        a = _gpu.to_device(a, dev)
    elif dev is not None and dev.type == "meta":
        a = to_meta(a)
    elif dev is not None and dev.type not in ("cpu",):
        raise unsupported(dev.type)
    t = _wrap(a)
    if requires_grad:
        _factory_requires_grad(t)
    return t


def _factory_requires_grad(t: Tensor) -> Tensor:
    """``requires_grad=True`` of a factory function, with torch's factory wording for an
    integer or bool dtype (``requires_grad_`` words it differently)."""
    if t._a.dtype.kind in "biu":
        raise RuntimeError(_RG_DTYPE_MSG_FACTORY)
    return t.requires_grad_(True)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):  # torch takes a 0-d integer tensor as an int, no other
            if s.ndim != 0 or s._a.dtype.kind not in "iu":
                raise TypeError(
                    f"{op}(): argument 'size' (position 1) must be tuple of ints, not Tensor"
                )
            s = int(s.item())
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(
                f"{op}(): argument 'size' must be tuple of ints, but found element of type {type(s).__name__}"
            )
        if s < 0:
            raise RuntimeError(
                f"{op}(): Trying to create tensor with negative dimension {s}: {list(size)}"
            )
        out.append(int(s))
    return tuple(out)


def _infer_np(data, exact: bool = False, target=None):
    """NumPy array for arbitrary Python data with torch's dtype inference (``exact``: keep
    float64/complex128 as parsed, because an explicit dtype follows; ``target``: that
    dtype's NumPy dtype, which lets ints past int64 through for uint64 and floating)."""
    if isinstance(data, Tensor):
        return data._a if type(data._a) is np.ndarray else data._a.get()
    if isinstance(data, np.ndarray):
        # subclasses (np.matrix, np.memmap, masked arrays) as plain arrays of the same data
        return data if type(data) is np.ndarray else data.view(np.ndarray)
    if isinstance(data, (list, tuple)) and _has_typed_leaves(data):
        # torch promotes the dtypes of tensor / NumPy-scalar elements with the Python ones
        dt = _seq_dtype(data)
        lists = _tensors_to_lists(data)
        if dt.is_floating_point or dt.is_complex or dt is D.bool:
            a = np.array(lists)
        else:  # ints parsed straight into the dtype (uint64 past 2**63 would become floats)
            try:
                a = np.array(lists, dtype=D.to_numpy_dtype(dt))
            except (TypeError, ValueError):  # ragged or non-numeric: the error below
                a = np.array(lists, dtype=object)
        if a.dtype == object:
            raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__}")
        return a if exact else a.astype(D.to_numpy_dtype(dt), copy=False)
    a = np.array(data)
    if a.dtype == object or (a.dtype == np.uint64 and not isinstance(data, np.integer)):
        a = _object_data(data, a, target)
    if a.dtype == np.float64 and isinstance(data, (list, tuple)) and a.size:
        with np.errstate(invalid="ignore"):
            big = bool((np.abs(a) >= 2.0**63).any())
        if big:  # NumPy made floats of ints past int64 mixed with others ([2**63, 1])
            a = _object_data(data, a, target)
    if a.dtype.kind in "fV" and a.dtype != np.float64:
        return a
    if exact and a.dtype.kind in "fciubV":
        return a
    # (to the default dtype: values past float32's range become inf silently, as torch's)
    if a.dtype == np.float64 and not isinstance(data, (np.floating,)):
        return fp_quiet(a.astype, D.to_numpy_dtype(D.get_default_dtype()))
    if a.dtype.kind == "c" and not isinstance(data, np.complexfloating):
        return fp_quiet(a.astype, D.to_numpy_dtype(D.get_default_dtype().to_complex()))
    if a.dtype.kind in "iu" and not isinstance(data, (np.integer, np.ndarray)):
        return a.astype(np.int64)
    if a.dtype.kind in "US":
        if isinstance(data, (list, tuple)) and a.ndim == 1:  # torch's words for ['a']
            raise ValueError(f"too many dimensions '{'str' if a.dtype.kind == 'U' else 'bytes'}'")
        raise TypeError(f"new(): invalid data type '{a.dtype.kind == 'U' and 'str' or 'bytes'}'")
    return a


def _leaves(data):
    if isinstance(data, (list, tuple)):
        for x in data:
            yield from _leaves(x)
    else:
        yield data


def _object_data(data, a, target=None):
    """Python data NumPy could only hold as objects (or as uint64, which the int64 cast would
    wrap: tensor([2**63]) was -2**63), as torch takes it: an int beyond int64 overflows
    unless a float in the data (or a floating ``target`` dtype) makes the tensor floating
    (then all become floats), or ``target`` is uint64 (then ints up to 2**64 - 1 are exact);
    any other element has no dtype. Returns the array to use, or raises torch's error."""
    leaves = list(_leaves(data))
    if target is not None and target == np.uint64 and all(type(x) in (int, bool) for x in leaves):
        for x in leaves:  # torch's errors (Python's, converting to unsigned long long)
            if x < 0:
                raise OverflowError("can't convert negative int to unsigned")
            if x >= 2**64:
                raise OverflowError("int too big to convert")
        return np.array(data, dtype=np.uint64)
    floating = target is not None and target.kind in "fc"
    if not floating and not any(isinstance(x, (float, complex)) for x in leaves):
        for x in leaves:
            if type(x) is int and not -(2**63) <= x < 2**63:
                raise ValueError("Overflow when unpacking long long")
    if a.dtype != object:
        return a
    bad = [x for x in leaves if not isinstance(x, (int, float, complex))][:1]
    if not bad and leaves:  # numbers only, ints past uint64 with a float: all floats
        return np.array(
            data, dtype=np.complex128 if any(type(x) is complex for x in leaves) else np.float64
        )
    raise RuntimeError(f"Could not infer dtype of {type(bad[0] if bad else data).__name__}")


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        if any(isinstance(x, Tensor) for x in data):
            return data
        data = data[0]
    return [data]


def _has_typed_leaves(data) -> bool:
    """Whether a sequence holds tensors, NumPy arrays or NumPy scalars (checked on its top level
    and along its first path, which keeps plain nested lists of numbers on the fast path)."""
    typed = (Tensor, np.generic, np.ndarray)
    if any(isinstance(x, typed) for x in data):
        return True
    return any(isinstance(x, typed) for x in _flat_first(data))


def _seq_dtype(data) -> D.dtype:
    """torch's dtype for a (nested) sequence: the promotion of its elements' dtypes, a Python
    bool/int/float/complex counting as bool/int64/default/default complex."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.generic):
        return D.from_numpy_dtype(data.dtype)
    if isinstance(data, np.ndarray):
        return D.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple)):
        out = None
        for x in data:
            d = _seq_dtype(x)
            out = d if out is None else D.promote_types(out, d)
        return out if out is not None else D.get_default_dtype()
    if isinstance(data, bool):
        return D.bool
    if isinstance(data, numbers.Integral):
        return D.int64
    if isinstance(data, complex):
        return D.get_default_dtype().to_complex()
    return D.get_default_dtype()


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    if isinstance(data, np.generic):
        return data.item()
    return data


def tensor(
    data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists, scalars, NumPy arrays, tensors)."""
    if type(data) is list and dtype is None and device is None and _default_device[0] is None:
        a = _list_array(data, D.to_numpy_dtype(D.get_default_dtype()))
        if a is not None:  # a short flat list of Python numbers: one compiled pass
            t = _wrap(a)
            return _factory_requires_grad(t) if requires_grad else t
    if isinstance(data, Tensor):
        _warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor)."
        )
    if (
        isinstance(data, Tensor)
        and type(data._a) is not np.ndarray
        and (device is None or as_device(device).type == "cuda")
    ):
        a = data._a.copy()
        if dtype is not None:
            a = a.astype(_np_dtype(dtype))
        t = _wrap(a)
        return _factory_requires_grad(t) if requires_grad else t
    target = _np_dtype(dtype) if dtype is not None else None
    a = _infer_np(data, exact=dtype is not None, target=target)
    _check_byteorder(a)  # torch refuses a non-native byte order rather than convert it
    if dtype is not None:
        if a.dtype.kind == "c" and target.kind != "c" and not _is_array(data):
            raise TypeError("must be real number, not complex")  # torch, for Python data
        with np.errstate(over="ignore", invalid="ignore"):  # torch rounds to inf silently
            b = a.astype(target)
        if (
            a.dtype != target  # int64 data into int64 fits by construction
            and a.dtype.kind in "iuf"
            and target.kind in "iu"
            and not _is_array(data)
            and not (b == a).all()  # the cheap test: every value survived the cast
        ):
            _check_int_range(a, target)
        a = b
    else:
        a = a.copy()
    if a.dtype.kind not in "biufcV":
        if isinstance(data, np.ndarray):
            D.from_numpy_dtype(a.dtype)  # torch's TypeError for the array's dtype
        raise TypeError(f"tensor(): unsupported data type {a.dtype}")
    D.from_numpy_dtype(a.dtype)  # torch's TypeError for a dtype ctorch lacks (longdouble)
    return _place(np.ascontiguousarray(a) if not a.flags.c_contiguous else a, device, requires_grad)


def _check_int_range(a: np.ndarray, target: np.dtype) -> None:
    """Python numbers going into integer dtype ``target``: torch's overflow errors for values
    outside it (for ints an unsigned dtype also takes negatives down to -max, wrapped, as
    c10's ``overflows`` allows: uint8 -1 is 255; floats must lie in the range, NaN and inf
    never do), where a NumPy cast would wrap silently."""
    if a.dtype.kind == "f":
        if target == np.uint64:
            raise TypeError("an integer is required")  # torch parses uint64 data as ints
        info = np.iinfo(target)
        with np.errstate(invalid="ignore"):  # NaN compares false: out of range
            ok = np.isfinite(a).all() and a.min() >= info.min and a.max() <= info.max
        if not ok:
            raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")
        return
    lo, hi = int(a.min()), int(a.max())
    if target == np.uint64:
        if lo < 0:
            raise OverflowError("can't convert negative int to unsigned")
        return
    info = np.iinfo(target)
    if lo < (-int(info.max) if target.kind == "u" else int(info.min)) or hi > int(info.max):
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _is_array(data) -> bool:
    return isinstance(data, (Tensor, np.ndarray, np.generic))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Share memory with ``data`` when it already has the right dtype and device."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None and D._as_dtype(dtype) is not t.dtype:
            t = t.to(dtype)
        if device is not None and as_device(device) != t.device:
            t = t.to(device)
        return t
    if isinstance(data, np.ndarray):
        _check_byteorder(data)
        t = from_numpy(data) if data.dtype.kind in "biufcV" else tensor(data)
        if dtype is not None and D._as_dtype(dtype) is not t.dtype:
            t = t.to(dtype)
        if device is not None and as_device(device).type != "cpu":
            t = t.to(device)
        return t
    if type(data).__module__.startswith("cupy"):
        t = _wrap(data)
        return t.to(dtype) if dtype is not None else t
    return tensor(data, dtype=dtype, device=device)


def asarray(
    obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool = False
) -> Tensor:
    """``torch.asarray``: ``as_tensor`` (memory shared where dtype and device allow), a copy
    with ``copy=True``, and torch's error with ``copy=False`` where sharing is impossible."""
    if copy:
        if isinstance(obj, Tensor):
            t = obj.detach().clone()
            t = t.to(dtype) if dtype is not None else t
            t = t.to(device) if device is not None else t
        else:
            t = tensor(obj, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and not (
            (isinstance(obj, Tensor) and t._a is obj._a)
            or (isinstance(obj, np.ndarray) and np.shares_memory(t._a, obj))
        ):
            raise ValueError("can't alias tensor from the given object, copy=False")
    return _factory_requires_grad(t) if requires_grad else t


def _check_byteorder(a: np.ndarray) -> None:
    if not a.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion "
            "between byte orders is currently not supported."
        )


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor viewing the same memory as ``ndarray`` (any strides; read-only stays read-only)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _check_byteorder(ndarray)
    D.from_numpy_dtype(ndarray.dtype)  # torch's TypeError for a dtype ctorch lacks
    # an ndarray subclass (np.memmap...) is stored as a base-class view of the same memory
    return _wrap(ndarray if type(ndarray) is np.ndarray else ndarray.view(np.ndarray))


class _Capsule:
    """A legacy DLPack capsule (``to_dlpack``'s result) dressed as a ``__dlpack__`` producer,
    which is what ``numpy.from_dlpack`` takes. Only CPU capsules: a GPU one goes to CuPy."""

    def __init__(self, capsule) -> None:
        self.capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(ext) -> Tensor:
    if isinstance(ext, Tensor):
        return ext
    if type(ext).__name__ == "PyCapsule":  # torch.utils.dlpack.from_dlpack(capsule)
        from ._half import from_dlpack_cpu

        try:
            return _wrap(from_dlpack_cpu(_Capsule(ext)))
        except BufferError:  # not a CPU tensor
            import cupy

            return _wrap(cupy.from_dlpack(ext))
    dev = ext.__dlpack_device__()[0] if hasattr(ext, "__dlpack_device__") else 1
    if dev == 1:  # kDLCPU
        from ._half import from_dlpack_cpu

        return _wrap(from_dlpack_cpu(ext))
    import cupy

    return _wrap(cupy.from_dlpack(ext))


def _pos_zero(v) -> bool:
    """A zero ``v`` without a negative sign on its real or imaginary part."""
    z = complex(v)
    return math.copysign(1.0, z.real) > 0 and math.copysign(1.0, z.imag) > 0


def _filled(size, fill, dtype, device, requires_grad, op, default=None):
    shape = _size(size, op)
    dt = _np_dtype(dtype, default)
    fill = D.checked_int(fill, dt)
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        return _meta_tensor(shape, dt, requires_grad)
    if (
        device is not None
        and as_device(device).type == "cuda"
        or (device is None and _default_device[0] is not None and _default_device[0].type == "cuda")
    ):
        from . import _gpu

        cp = _gpu.cupy()
        with _gpu.on(as_device(device) if device is not None else _default_device[0]):
            a = cp.empty(shape, dt) if fill is None else cp.full(shape, fill, dt)
        t = _wrap(a)
        return _factory_requires_grad(t) if requires_grad else t
    a = (
        np.empty(shape, dt)
        if fill is None
        # (np.zeros only for a zero that is not -0.0: full(s, -0.0) keeps the sign, as torch)
        else (np.zeros(shape, dt) if fill == 0 and _pos_zero(fill) else np.full(shape, fill, dt))
    )
    t = _wrap(a)
    if device is not None and as_device(device).type != "cpu":
        raise unsupported(as_device(device).type)
    return _factory_requires_grad(t) if requires_grad else t


def _size_arg(size: tuple, size_kw, op: str) -> tuple:
    """torch's ``f(*size)`` / ``f(size)`` / ``f(size=...)`` overloads as one ``*size`` tuple."""
    if size_kw is None:
        return size
    if size:
        raise TypeError(f"{op}() got multiple values for argument 'size'")
    if isinstance(size_kw, numbers.Integral) or isinstance(size_kw, Tensor):
        return (size_kw,)
    return (tuple(size_kw),)


def _no_extra(kw: dict, op: str) -> None:
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kw))}'")


def _sized(size: tuple, kw: dict, op: str, accepted: tuple = ()) -> tuple:
    """The ``*size`` of a creation function called with torch's overloads (``size=`` in ``kw``),
    after refusing keywords it does not take (``accepted`` ones are dropped)."""
    size = _size_arg(size, kw.pop("size", None), op)
    for name in accepted:
        kw.pop(name, None)
    _no_extra(kw, op)
    return size


def _constant(op: str, fill, np_fn, accepted: tuple = ()):
    """``zeros``/``ones``/``empty``: a tensor of ``size`` filled with ``fill`` (None: left
    uninitialised); ``np_fn`` (np.zeros...) makes the array of the common CPU call."""

    def create(
        *size,
        out=None,
        dtype=None,
        layout=None,
        device=None,
        requires_grad=False,
        pin_memory=False,
        **kw,
    ):
        if not kw and out is None and device is None and _default_device[0] is None:
            shape = _plain_shape(size)  # the common call: plain sizes on the CPU
            if shape is not None:
                t = _wrap(np_fn(shape, _np_dtype(dtype)))
                return _factory_requires_grad(t) if requires_grad else t
        fmt = kw.pop("memory_format", None) if accepted else None
        size = _sized(size, kw, op, accepted)
        t = _filled(size, fill, dtype, device, requires_grad, op)
        if fmt is not None:
            t = _in_format(t, fmt)
        return _maybe_out(out, t)

    create.__name__ = create.__qualname__ = op
    return create


def _in_format(t, fmt):
    """``empty(..., memory_format=fmt)``: ``t`` (uninitialised) with ``fmt``'s strides."""
    fmt = MF.as_format(fmt)
    if fmt is MF.preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    a = t._a
    st = MF.like_strides(a, fmt)
    if st is None:
        return t
    r = _wrap(MF.strided_empty(a.shape, st, a.dtype, xp_of(a)))
    return r.requires_grad_(True) if t.requires_grad else r


def _laid_out_like(input, memory_format, make):
    """The result of a ``*_like`` creation laid out as ``empty_like(input, memory_format=)``:
    ``make(shape)`` builds it (C order) when that layout is C order, else it builds the
    memory-order shape, whose values (random ones too, as torch's fills walk memory) are
    copied into a tensor with the right strides."""
    a = input._a
    if memory_format is None and MF.plain_c(a):
        return make(a.shape)
    st = MF.like_strides(a, MF.as_format(memory_format))
    if st is None:
        return make(a.shape)
    from .ops._util import dims_outer_to_inner

    perm = dims_outer_to_inner(st)
    t = make(tuple(a.shape[d] for d in perm))
    out = MF.strided_empty(a.shape, st, t._a.dtype, xp_of(t._a))
    out.transpose(perm)[...] = t._a
    r = _wrap(out)
    return r.requires_grad_(True) if t.requires_grad else r


zeros = _constant("zeros", 0, np.zeros)
ones = _constant("ones", 1, np.ones)
empty = _constant("empty", None, np.empty, accepted=("memory_format",))


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(size, Tensor):  # torch: no tensor as the size, not even a 0-d one
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not Tensor")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()  # torch infers the dtype from the Python scalar
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = D.bool
        elif isinstance(fill_value, numbers.Integral):
            dtype = D.int64
        elif isinstance(fill_value, complex):
            dtype = D.get_default_dtype().to_complex()
    elif isinstance(fill_value, complex) and not D._as_dtype(dtype).is_complex:
        raise RuntimeError(
            f"value cannot be converted to type {D._as_dtype(dtype)._name} without overflow"
        )
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _maybe_out(
        out,
        _filled(
            (size,) if isinstance(size, numbers.Integral) else (tuple(size),),
            fill_value,
            dtype,
            device,
            requires_grad,
            "full",
        ),
    )


def _maybe_out(out, t):
    if out is None:
        return t
    out._a = t._a
    out._bump()
    return out


def _like(input, dtype, device):
    dt = dtype if dtype is not None else input.dtype
    dev = device if device is not None else input.device
    return dt, dev


def _like_of(create, fill=None, np_fn=None):
    """``<create>_like(input)``: ``create`` with ``input``'s shape, and its dtype and device
    unless given.  ``fill(t)``, when given, fills a result that is not C-ordered in place
    (torch's normal_ draws such a tensor with its scalar loop, not the vectorised one).
    ``np_fn`` (np.zeros...), when given, makes the array of the common call directly."""

    def like(
        input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None
    ):
        a = input._a
        if memory_format is None and MF.plain_c(a):  # C order in, C order out
            if np_fn is not None and dtype is None and device is None and type(a) is np.ndarray:
                t = _wrap(np_fn(a.shape, a.dtype))  # a CPU input, nothing asked: at once
                return _factory_requires_grad(t) if requires_grad else t
            dt, dev = _like(input, dtype, device)
            return create(a.shape, dtype=dt, device=dev, requires_grad=requires_grad)
        dt, dev = _like(input, dtype, device)
        if fill is not None and MF.like_strides(a, MF.as_format(memory_format)):
            r = empty_like(input, dtype=dt, device=dev, memory_format=memory_format)
            fill(r)
            return _factory_requires_grad(r) if requires_grad else r
        return _laid_out_like(
            input,
            memory_format,
            lambda shape: create(shape, dtype=dt, device=dev, requires_grad=requires_grad),
        )

    like.__name__ = like.__qualname__ = f"{create.__name__}_like"
    return like


zeros_like = _like_of(zeros, np_fn=np.zeros)
ones_like = _like_of(ones, np_fn=np.ones)
empty_like = _like_of(empty, np_fn=np.empty)


def full_like(
    input,
    fill_value,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
):
    dt, dev = _like(input, dtype, device)
    return _laid_out_like(
        input,
        memory_format,
        lambda shape: full(shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad),
    )


def randint_like(
    input,
    low=0,
    high=None,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    memory_format=None,
):
    if high is None:
        low, high = 0, low
    dt, dev = _like(input, dtype, device)
    return _laid_out_like(
        input,
        memory_format,
        lambda shape: randint(low, high, shape, dtype=dt, device=dev),
    )


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        shape = (n, m if m is not None else n)
        return _maybe_out(out, _meta_tensor(shape, _np_dtype(dtype), requires_grad))
    return _maybe_out(
        out,
        _place(np.eye(n, m if m is not None else n, dtype=_np_dtype(dtype)), device, requires_grad),
    )


def _check_range_step(start, end, step) -> None:
    """torch's checks of arange's and range's bounds: a nonzero step that walks from start
    towards end."""
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def arange(
    start=0,
    end=None,
    step=1,
    *,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
):
    if end is None:
        start, end = 0, start
    if (
        type(start) is int
        and type(end) is int
        and type(step) is int
        and step > 0
        and start <= end
        and dtype is None
        and out is None
        and device is None
        and not requires_grad
        and _default_device[0] is None
    ):  # the common arange(n): int64 straight from NumPy
        return _wrap(np.arange(start, end, step, dtype=np.int64))
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    _check_range_step(start, end, step)
    if dtype is None:
        is_float = any(_is_float(v) for v in vals)
        dt = D.to_numpy_dtype(D.get_default_dtype()) if is_float else np.dtype(np.int64)
    else:
        dt = _np_dtype(dtype)
    n = math.ceil((end - start) / step)
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        return _maybe_out(out, _meta_tensor((n,), dt, requires_grad))  # computes nothing
    a = None
    if (dt.kind in "fiu" and any(_is_float(v) for v in vals)) or dt.kind == "f":
        from ._ranges import arange_values  # torch's rounding and integer rules

        a = arange_values(start, end, step, n, dt, _num_threads())
    if a is None:
        a = (
            (start + step * np.arange(n, dtype=np.float64))
            if dt.kind in "fV" or any(_is_float(v) for v in vals)
            else np.arange(start, end, step, dtype=np.int64)
        )
    return _maybe_out(out, _place(a.astype(dt, copy=False), device, requires_grad))


def _num_threads() -> int:
    from ._core._threads import get_num_threads

    return get_num_threads()


def _is_float(v) -> bool:
    return isinstance(v, (float, np.floating))


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    _warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior "
        "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
        "values in [start, end)."
    )
    if end is None:  # torch.range has no one-argument form (arange has)
        raise TypeError('range() missing 1 required positional arguments: "end"')
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    dt = _np_dtype(dtype)
    if dt.kind in "iu":  # torch steps in int64 from the truncated start, end and step
        xs, xe, xst = int(start), int(end), int(step)
        if xst == 0 and step != 0:  # torch 2.13 dies of SIGFPE (integer division by zero)
            raise RuntimeError(
                f"range(): step {step} is 0 in {dt.name} (torch crashes with SIGFPE here)"
            )
        start, end, step = xs, xe, xst
    _check_range_step(start, end, step)
    if dt.kind in "iu":
        q = abs(end - start) // abs(step)  # C's truncating division (same signs here)
        a = start + step * np.arange(q + 1, dtype=np.int64)
    else:
        n = int(math.floor((end - start) / step)) + 1
        a = start + step * np.arange(n, dtype=np.float64)
    return _place(a.astype(dt), device, requires_grad)


def linspace(
    start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False
):
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    if dtype is None and (isinstance(start, complex) or isinstance(end, complex)):
        dtype = D.get_default_dtype().to_complex()  # torch: complex ends, complex result
    dt = _np_dtype(dtype)
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        return _maybe_out(out, _meta_tensor((int(steps),), dt, requires_grad))
    a = None
    if not (isinstance(start, complex) or isinstance(end, complex)):
        from ._ranges import linspace_values  # torch's rounding, bit for bit

        a = linspace_values(start, end, int(steps), dt)
    if a is None:
        a = _linspace64(start, end, int(steps), dt if dt.kind in "fcV" else _F64)
    return _maybe_out(out, _place(a.astype(dt), device, requires_grad))


def _linspace64(start, end, steps: int, dt: np.dtype = _F64) -> np.ndarray:
    """torch's linspace: the first half counts up from ``start``, the second half down from
    ``end`` (so both ends are exact and the values are symmetric), computed in ``dt`` as torch
    computes in the output's floating type."""
    if steps == 1:
        return np.array([start], dtype=dt)
    i = np.arange(steps, dtype=dt)
    s, e = dt.type(start), end
    step = (dt.type(end) - s) / dt.type(steps - 1) if steps > 1 else dt.type(0)
    return np.where(i < steps // 2, s + step * i, dt.type(e) - step * (dt.type(steps - 1) - i))


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    a = np.power(float(base), _linspace64(start, end, int(steps), np.dtype(np.float64)))
    return _place(a.astype(_np_dtype(dtype)), device, requires_grad)


# ------------------------------------------------------------------ random
def _scalar_name_of(dt) -> str:
    """torch's ScalarType name of a NumPy dtype ('Long', 'Float', ...)."""
    from .ops.binary import _scalar_name

    return _scalar_name(dt)


def not_implemented_for(kernel: str, dt) -> NotImplementedError:
    """torch's error for a kernel (named as torch's dispatch names it, e.g.
    ``check_uniform_bounds``) that has no version for ``dt``: ``"kernel" not implemented for
    'Long'``."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name_of(dt)}'")


def float_only(dt, kernel: str) -> None:
    """torch's check of a floating-point draw (``rand``/``uniform_``: ``check_uniform_bounds``,
    ``randn``/``normal_``: ``normal_kernel_cpu``): a floating or complex NumPy dtype ``dt``,
    else ``not_implemented_for(kernel, dt)``."""
    if np.dtype(dt).kind not in "fcV":
        raise not_implemented_for(kernel, dt)


def _rand_dtype(dtype, kernel: str):
    """The NumPy dtype of a floating-point draw's ``dtype=`` argument (``float_only``)."""
    dt = _np_dtype(dtype)
    float_only(dt, kernel)
    return dt


def _real_of(dt):
    return np.float32 if dt == np.complex64 else np.float64


def draw_real_view(dt: np.dtype, shape: tuple, draw):
    """``draw(shape, dtype)`` in ``dt``; a complex dtype is drawn through its real view
    (shape + (2,)), real and imaginary parts alternating, as torch fills it."""
    if dt.kind != "c":
        return draw(shape, dt)
    return draw((*shape, 2), np.dtype(_real_of(dt))).view(dt)[..., 0]


def _random_floats(op: str, normal: bool):
    """``rand``/``randn``: torch's uniform/normal streams (``_random.Generator``); a complex
    dtype draws its real and imaginary parts each alone (``normal``: each N(0, 1/2), so
    E|z|^2 = 1)."""

    def create(
        *size,
        generator=None,
        out=None,
        dtype=None,
        layout=None,
        device=None,
        requires_grad=False,
        pin_memory=False,
        **kw,
    ):
        shape = _size(_sized(size, kw, op), op)
        dt = _rand_dtype(dtype, "normal_kernel_cpu" if normal else "check_uniform_bounds")
        if (device is not None or _default_device[0] is not None) and _on_meta(device):
            return _maybe_out(out, _meta_tensor(shape, dt, requires_grad))  # draws nothing
        g = gen_for(generator)
        if normal:  # a complex dtype's parts are each N(0, 1/2)
            std = math.sqrt(0.5) if dt.kind == "c" else 1.0
            a = draw_real_view(dt, shape, lambda shp, real: g.normal(shp, real, 0.0, std))
        else:
            a = draw_real_view(dt, shape, g.uniform)
        return _maybe_out(out, _place(a, device, requires_grad))

    create.__name__ = create.__qualname__ = op
    return create


rand = _random_floats("rand", normal=False)
randn = _random_floats("randn", normal=True)
rand_like = _like_of(rand)
randn_like = _like_of(randn, fill=lambda t: t.normal_())


def randint(
    low=0,
    high=None,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
):
    if size is None:
        # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        # randint(high, size=...) / randint(high=..., size=...)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint(): missing required argument 'size'")
    for v in (low, high):  # torch parses both bounds as int64
        if isinstance(v, numbers.Integral) and not -(2**63) <= int(v) < 2**63:
            raise ValueError("Overflow when unpacking long long")
    if isinstance(size, numbers.Integral):
        raise TypeError("randint(): argument 'size' must be tuple of ints, not int")
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "randint")
    dt = _np_dtype(dtype, D.int64)
    _check_from_to(int(low), int(high), dt)
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        return _maybe_out(out, _meta_tensor(shape, dt, requires_grad))  # draws nothing
    wide = dt == np.int64 or dt == np.uint64 or dt.kind in "fV"
    a = gen_for(generator).integers(int(low), int(high), shape, wide)
    return _maybe_out(out, _place(a.astype(dt, copy=False), device, requires_grad))


# C's names for the integer types (torch's check_from_to_in_range errors spell them so)
_C_TYPE = {
    "int8": "signed char",
    "uint8": "unsigned char",
    "int16": "short int",
    "uint16": "short unsigned int",
    "int32": "int",
    "uint32": "unsigned int",
    "int64": "long int",
    "uint64": "long unsigned int",
    "bool": "bool",
}


def _check_from_to(low: int, high: int, dt: np.dtype) -> None:
    """torch's range check of randint's [low, high) for an integer dtype ``dt``."""
    if dt.kind not in "biu":
        return
    lo, hi = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {_C_TYPE[dt.name]}")
    if not lo <= high - 1 <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_C_TYPE[dt.name]}")


def randperm(
    n,
    *,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
):
    if int(n) < 0:  # NumPy's permutation(-1) is an empty array
        raise RuntimeError(f"Trying to create tensor with negative dimension {int(n)}: [{int(n)}]")
    if (device is not None or _default_device[0] is not None) and _on_meta(device):
        return _maybe_out(out, _meta_tensor((int(n),), _np_dtype(dtype, D.int64), requires_grad))
    a = gen_for(generator).permutation(int(n)).astype(_np_dtype(dtype, D.int64))
    return _maybe_out(out, _place(a, device, requires_grad))


def normal(
    mean=0.0,
    std=1.0,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
):
    g = gen_for(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._a if isinstance(mean, Tensor) else mean
        s = std._a if isinstance(std, Tensor) else std
        if type(ref._a) is not np.ndarray:
            m = m.get() if hasattr(m, "get") else m
            s = s.get() if hasattr(s, "get") else s
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = ref._a.dtype
        float_only(dt, "normal_kernel_cpu")  # torch: no integer or bool mean/std tensor
        if isinstance(std, Tensor) and bool((std < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if not isinstance(std, Tensor):
            check_std(std)
        # torch: output.normal_(0, 1), then output * std + mean in the output's dtype
        z = g.normal(tuple(shape), dt)
        r = _wrap((z * np.asarray(s, dt) + np.asarray(m, dt)).astype(dt, copy=False))
        return r.to(ref.device) if type(ref._a) is not np.ndarray else r
    check_std(std)
    shape = _size(
        (size,) if isinstance(size, (tuple, list)) else (size,) if size is not None else ((),),
        "normal",
    )
    dt = _rand_dtype(dtype, "normal_kernel_cpu")
    a = g.normal(tuple(shape), dt, float(mean), float(std))
    return _maybe_out(out, _place(a, device, requires_grad))


def check_std(std) -> None:
    """torch's check for normal/normal_ (NaN fails it too)."""
    if isinstance(std, Tensor):
        if not bool((std._a >= 0).all()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")


def check_p(p) -> None:
    """torch's check for bernoulli/bernoulli_ probabilities (NaN fails it too)."""
    if isinstance(p, Tensor) and p._a.ndim:
        if not bool(((p._a >= 0) & (p._a <= 1)).all()):
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                "message be improved?  If so, please report an enhancement request to PyTorch.)"
            )
    elif p is not None and not 0 <= float(p) <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={float(p):g}")


def bernoulli(input, p=None, *, generator=None):
    g = gen_for(generator)
    check_p(input if p is None else p)
    if p is None:
        probs = input._a if type(input._a) is np.ndarray else input._a.get()
        a = g.bernoulli_probs(probs).astype(input._a.dtype)
    else:
        a = g.bernoulli_scalar(input._a.shape, float(p), 1.0, input._a.dtype)
    r = _wrap(a)
    return r if type(input._a) is np.ndarray else r.to(input.device)


def poisson(input, generator=None):
    """torch's ``poisson``: one draw per rate, in order (``_random.Generator.poisson``), in
    the input's dtype; torch's values under a seed."""
    dt = input._a.dtype
    if dt.kind not in "fV":
        raise not_implemented_for("poisson_cpu", dt)
    draws = gen_for(generator).poisson(input.detach().cpu().numpy())
    r = _wrap(draws.astype(dt))
    return r if type(input._a) is np.ndarray else r.to(input.device)


def binomial(count, prob, generator=None):
    """torch's ``binomial``: one draw per (count, prob) pair of the broadcast shape, in order
    (``_random.Generator.binomial``), in their dtype (float32 or float64, the same for both);
    torch's values under a seed."""
    for name, t in (("count", count), ("prob", prob)):
        if not t.is_floating_point():
            raise ValueError(
                f"binomial only supports floating-point dtypes for {name}, got: "
                f"{_scalar_name_of(t._a.dtype)}"
            )
    dt = count._a.dtype
    if dt not in (np.float32, np.float64):
        raise not_implemented_for("binomial_cpu", dt)
    if prob._a.dtype != dt:
        raise RuntimeError(
            f"Found dtype {_scalar_name_of(prob._a.dtype)} but expected {_scalar_name_of(dt)}"
        )
    c, p = count.detach().cpu().numpy(), prob.detach().cpu().numpy()
    for i in range(1, min(c.ndim, p.ndim) + 1):  # torch's infer_size message
        if c.shape[-i] != p.shape[-i] and 1 not in (c.shape[-i], p.shape[-i]):
            raise RuntimeError(
                f"The size of tensor a ({c.shape[-i]}) must match the size of tensor b "
                f"({p.shape[-i]}) at non-singleton dimension {max(c.ndim, p.ndim) - i}"
            )
    c, p = np.broadcast_arrays(c, p)
    r = _wrap(gen_for(generator).binomial(c, p))
    return r if type(count._a) is np.ndarray else r.to(count.device)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """torch's multinomial, draw for draw: one sample or none repeated is the exponential race
    argmax/top-k of p / Exp(1) (torch's fast path); with replacement, each row's cumulative
    distribution (in the probabilities' dtype) searched with one 53-bit uniform per sample."""
    g = gen_for(generator)
    meta = input.is_meta  # the meta device: torch's checks of the shape, nothing drawn
    p = input._a if meta else input.detach().cpu()._a
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind not in "fV":
        from .ops.binary import _scalar_name

        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{_scalar_name(p.dtype)}"
        )
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    squeeze = p.ndim == 1
    p2 = p.reshape(1, -1) if squeeze else p
    n_cat = p2.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if meta:
        return _wrap(MetaArray(p.shape[:-1] + (num_samples,), np.int64))
    work = np.float64 if p2.dtype == np.float64 else np.float32
    pw = p2.astype(work, copy=False)
    if not (np.all(pw < np.inf) and np.all(pw >= 0)):  # NaN fails both
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (pw.sum(axis=1) == 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if num_samples == 1:
        out = g.race_argmax(pw)
    elif not replacement:
        q = g.exponential(pw.shape, np.dtype(work), 1.0)
        r = pw / q
        out = np.argsort(-r, axis=1, kind="stable")[:, :num_samples].astype(np.int64)
    else:
        out = np.empty((pw.shape[0], num_samples), np.int64)
        for i, row in enumerate(pw):
            cum = np.cumsum(row, dtype=work)
            cum = (cum / cum[-1]).astype(work, copy=False)
            u = g._unit(num_samples, np.dtype(np.float64))
            out[i] = np.searchsorted(cum, u, side="left")
    res = _wrap(out[0] if squeeze else out)
    return res if type(input._a) is np.ndarray else res.to(input.device)
