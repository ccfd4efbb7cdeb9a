"""dtype and device conversion (differentiable), and the legacy type names."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import _memfmt as MF
from .. import _warnings
from .._backend import fp_quiet, xp_of
from .._device import as_device, unsupported
from .._device import device as _device_cls
from .._half import convert
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state

_wrap = Tensor._make

_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
    "int8": "CharTensor",
    "int16": "ShortTensor",
    "int32": "IntTensor",
    "int64": "LongTensor",
    "uint8": "ByteTensor",
    "uint16": "UInt16Tensor",
    "uint32": "UInt32Tensor",
    "uint64": "UInt64Tensor",
    "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def _same_layout(a, want) -> bool:
    """``a`` laid out with the element strides ``want`` (None: C order); size-1 dims' strides
    do not matter."""
    if want is None:
        return bool(a.flags.c_contiguous)
    got = MF.elem_strides(a)
    return all(g == w for g, w, n in zip(got, want, a.shape, strict=True) if n > 1)


def _convert_array(a, dt, dev, copy, fmt=None):
    """``a`` in dtype ``dt`` on ``dev`` (a copy when ``copy``), laid out as torch's ``_to_copy``
    lays it out: ``preserve_format`` keeps a dense input's strides (a non-dense one's dim
    order), another format gives that format's strides."""
    if fmt is None and MF.plain_c(a):
        return _convert_raw(a, dt, dev, copy)  # the common case: C order in, C order out
    fmt = MF.as_format(fmt)
    if fmt is MF.preserve_format:
        out = _convert_raw(a, dt, dev, copy)
        if out is a or (a.flags.c_contiguous and 1 not in a.shape):
            return out
        want = MF.like_strides(a, fmt)
        if want is None and out.flags.c_contiguous or MF.elem_strides(out) == want:
            return out  # torch keeps even a size-1 dim's stride: compared exactly
    else:
        want = MF.like_strides(a, fmt)  # raises for channels_last on a tensor not 4-D
        out = _convert_raw(a, dt, dev, copy)
        if out is a:
            return MF.copy_as(a, fmt)
        if _same_layout(out, want):
            return out
    r = MF.strided_empty(out.shape, want, out.dtype, xp_of(out))
    r[...] = out
    return r


def _convert_raw(a, dt, dev, copy):
    from .. import _gpu

    if dt is not None:
        npdt = D.to_numpy_dtype(dt)
        if a.dtype != npdt:
            if a.dtype.kind == "c" and npdt.kind != "c":
                _warnings.warn("Casting complex values to real discards the imaginary part")
                a = a.real
            with np.errstate(over="ignore", invalid="ignore"):  # torch casts silently
                a = convert(a, npdt)
            copy = False
    if dev is not None:
        is_cpu = type(a) is np.ndarray
        if dev.type == "cpu" and not is_cpu:
            a = a.get()
            copy = False
        elif dev.type == "cuda" or dev.type == "meta":
            b = _gpu.to_device(a, dev)
            if b is not a:
                copy = False
            a = b
        elif dev.type != "cpu":
            raise unsupported(dev.type)
    if copy:
        a = MF.copy_as(a, MF.preserve_format)
    return a


class ToCopy(Function):
    _node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dt, dev, copy, fmt):
        ctx.src_dt = x.dtype
        ctx.src_dev = x.device
        return _wrap(_convert_array(x._a, dt, dev, copy, fmt))

    @staticmethod
    def backward(ctx, g):
        if g._a.dtype.kind == "c" and not ctx.src_dt.is_complex:
            g = g.real  # real -> complex cast: the real input gets the real part
        return to_impl(g, ctx.src_dt, ctx.src_dev, False), None, None, None, None


def to_impl(x: Tensor, dt, dev, copy: bool, fmt=None) -> Tensor:
    """``x.to(dt, dev, copy=copy, memory_format=fmt)``: ``x`` itself when nothing changes
    (torch's ``to_will_alias``: same dtype and device, no copy, and ``fmt`` preserve or the
    tensor's suggested format)."""
    a = x._a
    relayout = False
    if fmt is not None and not copy and MF.as_format(fmt) is not MF.preserve_format:
        fmt = MF.as_format(fmt)
        if fmt is MF.suggest_memory_format(a.shape, MF.elem_strides(a)):
            fmt = MF.preserve_format
        else:
            relayout = True
    same_dt = dt is None or D.to_numpy_dtype(dt) == a.dtype
    same_dev = (
        dev is None or dev == x.device or (dev.type == "cuda" and dev.index is None and x.is_cuda)
    )
    if same_dt and same_dev and not copy and not relayout:
        return x
    if state.enabled and x._rg and (dt is None or dt.is_floating_point or dt.is_complex):
        return ToCopy.apply(x, dt, dev, copy, fmt)
    return _wrap(_convert_array(a, dt, dev, copy, fmt))


_FLOAT_TARGETS = (np.dtype(np.float32), np.dtype(np.float64))
_PLAIN = (
    *_FLOAT_TARGETS,
    *(np.dtype(t) for t in (np.int64, np.int32, np.int16, np.int8, np.uint8)),
)


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device[, dtype])``, ``to(other)``, with ``non_blocking``/``copy``."""
    if not kwargs and len(args) == 1 and type(args[0]) is D.dtype:
        # x.to(float32/float64) of a plain C-ordered CPU float/int tensor, nothing to record:
        # one astype (the cast _convert_raw makes), no argument parsing or layout rules
        a = self._a
        if (
            type(a) is np.ndarray
            and a.dtype in _PLAIN
            and not (state.enabled and self._rg)
            and MF.plain_c(a)
        ):
            npdt = D.to_numpy_dtype(args[0])
            if npdt == a.dtype:
                return self
            if npdt in _FLOAT_TARGETS:  # (overflow to inf silently, as torch casts)
                return _wrap(fp_quiet(a.astype, npdt))
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    fmt = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    rest = []
    for a in args:
        if isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, D.dtype):
            dt = a
        elif isinstance(a, (str, _device_cls, int)) and not isinstance(a, bool):
            if isinstance(a, str) and a.replace("torch.", "") in D._BY_NAME:
                dt = D._as_dtype(a)
            else:
                dev = a
        elif isinstance(a, bool):
            rest.append(a)  # non_blocking, copy positional
        elif a is None:
            continue
        else:
            try:
                dt = D._as_dtype(a)
            except TypeError:
                raise TypeError(
                    f"to() received an invalid combination of arguments: {args!r}"
                ) from None
    if len(rest) >= 2:
        copy = rest[1]
    if dt is not None:
        dt = D._as_dtype(dt)
    if dev is not None:
        dev = as_device(dev)
    return to_impl(self, dt, dev, copy, fmt)


def type_(self: Tensor, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        name = _TYPE_NAMES.get(self.dtype._name, "Tensor")
        where = "cuda." if self.is_cuda else "meta." if self.is_meta else ""
        return f"torch.{where}{name}"
    if isinstance(dtype, str):
        s = D.dtype_name(dtype)
        dev = None
        if s.startswith("cuda."):
            s = s[5:]
            dev = as_device("cuda")
        if s in _BY_TYPE_NAME:
            return to_impl(self, D._BY_NAME[_BY_TYPE_NAME[s]], dev, False)
        return to_impl(self, D._as_dtype(s), dev, False)
    if isinstance(dtype, type) and hasattr(dtype, "_legacy_dtype"):
        return to_impl(self, dtype._legacy_dtype, None, False)
    return to_impl(self, D._as_dtype(dtype), None, False)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to_impl(self, other.dtype, other.device, False)
