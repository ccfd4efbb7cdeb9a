"""float16 and bfloat16: the "compute in float32, round once" rule for ops without 16-bit kernels.

torch's CPU runs a half/bfloat16 op by loading 16-bit values, computing in float32 and rounding
the result once to the storage dtype. ctorch's 16-bit kernels (``_core``) do the same in
registers; an op that has none goes through :func:`float32_compute`, which wraps a
``Function``'s ``forward``/``backward``: 16-bit tensor arguments are widened to float32, the
original code runs, float32 results are rounded back to the 16-bit dtype, and gradients come
back in each input's dtype. The wrapper costs one dtype test per call when no argument is
16-bit.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from ._tensor import Tensor

F16 = np.dtype(np.float16)
BF16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.dtype(np.float32)
HALF = (F16, BF16)

_wrap = Tensor._make


def is_half(dt) -> bool:
    """True for the NumPy dtypes of float16 and bfloat16."""
    return dt == F16 or dt == BF16


U16 = np.dtype(np.uint16)
_ND = np.ndarray


def hkernel(name: str, *arrays, min_size: int = 0):
    """``(kernel, kind)`` of the 16-bit CPU kernel ``name`` for NumPy arrays all of one 16-bit
    dtype and C-contiguous with at least ``min_size`` elements, else ``(None, 0)``. Kernels
    take the arrays as ``a.view(numpy.uint16)``; kind 0 is float16, 1 bfloat16."""
    a0 = arrays[0]
    if type(a0) is not _ND or a0.size < min_size:
        return None, 0
    dt = a0.dtype
    for a in arrays:
        if type(a) is not _ND or a.dtype != dt or not a.flags.c_contiguous:
            return None, 0
    k = half_kernels()
    return (getattr(k, name, None) if k is not None else None), (1 if dt == BF16 else 0)


_HK: list = []


def half_kernels():
    """``ctorch._core.half`` (the 16-bit CPU kernels), imported on first use: programs that
    never touch a 16-bit tensor do not load it (nor map its library)."""
    if not _HK:
        try:
            from ._core import half as k
        except ImportError:  # pragma: no cover - a build without the module
            k = None
        _HK.append(k)
    return _HK[0]


def u16(a):
    """The flat uint16 view of a contiguous 16-bit array (what the kernels take)."""
    return a.reshape(-1).view(U16)


def _conv_kernels():
    return half_kernels()


def convert(a, to):
    """``a.astype(to)`` through the SIMD conversion kernels when one side is float32 and the
    other float16/bfloat16 (NumPy's own float16 and ml_dtypes' casts are scalar loops)."""
    k = _conv_kernels() if type(a) is _ND and a.size >= 64 else None
    if k is not None:
        src = a.dtype
        to = np.dtype(to)
        if src == F32 and (to == F16 or to == BF16):
            a = np.ascontiguousarray(a)
            out = np.empty(a.shape, to)
            k.narrow(1 if to == BF16 else 0, a.reshape(-1), u16(out))
            return out
        if to == F32 and (src == F16 or src == BF16):
            a = np.ascontiguousarray(a)
            out = np.empty(a.shape, F32)
            k.widen(1 if src == BF16 else 0, u16(a), out.reshape(-1))
            return out
    if a.dtype == BF16 and np.dtype(to).kind in "iu":
        # through float32, as torch's (and NumPy's float) casts: ml_dtypes' own bfloat16 ->
        # integer cast saturates (-1.0 -> uint8 0, 300.0 -> int8 0; torch: 255 and 44)
        a = a.astype(F32)
    return a.astype(to)


def _dense(a) -> bool:
    # never touch the array of a non-dense tensor (a sparse tensor's array access raises)
    return isinstance(a, Tensor) and not a.is_sparse


def _half_of(args):
    """The 16-bit dtype of the first floating dense tensor argument, else None."""
    for a in args:
        # exact-type test first: it is on every op's path (float32_compute's forward)
        if type(a) is Tensor or _dense(a):
            dt = a._a.dtype
            if dt.kind in "fV":
                return dt if dt.itemsize == 2 and (dt == F16 or dt == BF16) else None
    return None


def _widen(a, hd):
    if _dense(a) and a._a.dtype == hd:
        return _wrap(convert(a._a, F32))
    if type(a) is np.ndarray and a.dtype == hd:  # raw arrays (batch norm's statistics)
        return convert(a, F32)
    if isinstance(a, np.dtype) and a == hd:  # a result dtype worked out before apply
        return F32
    if isinstance(a, (list, tuple)) and a and _dense(a[0]):
        return type(a)(_widen(v, hd) for v in a)
    return a


def _narrow(o, hd):
    if _dense(o) and o._a.dtype == F32:
        return _wrap(convert(o._a, hd))
    if isinstance(o, tuple):
        return (
            type(o)(*(_narrow(v, hd) for v in o))
            if hasattr(o, "_fields")
            else tuple(_narrow(v, hd) for v in o)
        )
    return o


def float32_compute(cls):
    """Make ``Function`` subclass ``cls`` run 16-bit inputs in float32 (rounded once).
    ``cls._half_native(*args)``, when defined and true, runs the original code on the 16-bit
    arguments (the op has a fused 16-bit kernel for them)."""
    if getattr(cls, "_half_wrapped", False):
        return cls
    fwd = cls.forward
    bwd = cls.backward

    native = getattr(cls, "_half_native", None)

    def forward(ctx, *args, **kwargs):
        hd = _half_of(args)
        if hd is None or (native is not None and native(*args)):
            return fwd(ctx, *args, **kwargs)
        ctx._half = (hd, tuple(a._a.dtype if _dense(a) else None for a in args))
        wide = tuple(_widen(a, hd) for a in args)
        out = fwd(ctx, *wide, **kwargs)
        narrow = _narrow(out, hd)
        to_save = getattr(ctx, "_to_save", ())
        if to_save:
            # keep the 16-bit tensors for backward, not their float32 copies (backward
            # widens them again): saved activations stay half the size
            swap = {id(w): a for w, a in zip(wide, args, strict=True) if w is not a}
            outs, nouts = (out, narrow) if isinstance(out, tuple) else ((out,), (narrow,))
            swap.update({id(o): n for o, n in zip(outs, nouts, strict=True) if o is not n})
            ctx._to_save = tuple(swap.get(id(t), t) for t in to_save)
        return narrow

    def backward(ctx, *grads):
        h = getattr(ctx, "_half", None)
        if h is None:
            return bwd(ctx, *grads)
        hd, in_dts = h
        grads = tuple(g.float() if _dense(g) and g._a.dtype == hd else g for g in grads)
        saved = getattr(ctx, "_saved", None)
        if saved:
            ctx._saved = tuple(None if v is None else _WidenSaved(v, hd) for v in saved)
            try:
                r = bwd(ctx, *grads)
            finally:
                ctx._saved = saved
        else:
            r = bwd(ctx, *grads)
        single = not isinstance(r, tuple)
        rs = (r,) if single else r
        out = tuple(
            g.to(_DT[dt]) if _dense(g) and dt is not None and g._a.dtype != dt else g
            for g, dt in zip(rs, in_dts + (None,) * (len(rs) - len(in_dts)), strict=False)
        )
        return out[0] if single else out

    cls.forward = staticmethod(forward)
    cls.backward = staticmethod(backward)
    cls._half_wrapped = True
    return cls


class _WidenSaved:
    """A saved tensor that unpacks as float32 when it was stored as 16-bit."""

    __slots__ = ("s", "hd")

    def __init__(self, s, hd) -> None:
        self.s, self.hd = s, hd

    def unpack(self, node):
        t = self.s.unpack(node)
        if t is not None and _dense(t) and t._a.dtype == self.hd:
            w = _wrap(convert(t._a, F32))
            if t.requires_grad and node is not None:  # double backward: stay differentiable
                w = t.float()
            return w
        return t


class _DtMap(dict):
    def __missing__(self, npdt):
        from . import _dtype

        d = self[npdt] = _dtype.from_numpy_dtype(npdt)
        return d


_DT = _DtMap()


def _install() -> None:
    """Wrap the Functions whose forward has no 16-bit path of its own."""
    from .linalg import _misc as _linalg_misc
    from .ops import (
        avg_pool,
        conv,
        einsum,
        embedding_bag,
        loss,
        max_pool,
        normalization,
        pointwise_extra,
        products,
        reduction,
        scan,
        softmax,
    )

    for cls in (
        loss.CrossEntropy,
        loss.NLLLoss,
        loss.BinaryCrossEntropy,
        loss.MSELoss,
        einsum.Einsum,
        softmax.Softmax,
        reduction.Sum,
        reduction.Mean,
        reduction.Prod,
        normalization.BatchNormFn,
        normalization.LayerNormFn,
        avg_pool.AvgPool2dFn,
        avg_pool._AvgPoolGradFn,
        max_pool.MaxPool2dFn,  # exact in any dtype: float32 only for the kernels
        max_pool._MaxPoolGradFn,
        scan.Cumsum,
        conv.Conv2dFn,  # 16-bit CPU arrays run natively, chunked (ops/conv_half.py)
        conv.ConvTranspose2dFn,
        products.Cdist,
        pointwise_extra.Lerp,
        pointwise_extra.Erfinv,
        embedding_bag._SegmentSum,
        _linalg_misc.VectorNorm,  # torch.norm and linalg.vector_norm
    ):
        float32_compute(cls)


class finfo:
    """``torch.finfo``: machine limits of a floating dtype (float32 by default)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type=None) -> None:  # noqa: A002
        from . import _dtype as D

        dt = D.get_default_dtype() if type is None else D._as_dtype(type)
        if not (dt.is_floating_point or dt.is_complex):
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'"
            )
        dt = dt.to_real()
        fi = ml_dtypes.finfo(D.to_numpy_dtype(dt))
        self.bits = int(fi.bits)
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = 10.0 ** -int(fi.precision)
        self.dtype = dt._name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)


class iinfo:
    """``torch.iinfo``: the limits of an integer dtype (``bits``, ``min``, ``max``, ``dtype``)."""

    __slots__ = ("bits", "min", "max", "dtype")

    def __init__(self, type) -> None:  # noqa: A002
        from . import _display
        from . import _dtype as D

        dt = D._as_dtype(type)
        if dt._name == "bool":
            raise TypeError(f"{_display.prefix}bool is not supported by torch.iinfo")
        if dt.is_floating_point or dt.is_complex:
            raise TypeError(
                "torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'"
            )
        ii = np.iinfo(D.to_numpy_dtype(dt))
        self.bits = int(ii.bits)
        self.min = int(ii.min)
        self.max = int(ii.max)
        self.dtype = dt._name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"  # torch's %g

    def __eq__(self, other) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)


# ------------------------------------------------------------------ DLPack for bfloat16
# NumPy's DLPack exchange knows no bfloat16 (kDLBfloat, code 4): a bfloat16 array travels as
# its uint16 view with the type code in the capsule rewritten (both capsule layouts: the
# legacy "dltensor" DLManagedTensor and the versioned one of DLPack >= 1.0).
_kDLUInt, _kDLBfloat = 1, 4


def _dtype_code_addr(capsule):
    import ctypes

    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    name = get_name(capsule)
    base = get_ptr(capsule, name)
    # DLTensor: data (8), device (8), ndim (4), then dtype {code u8, bits u8, lanes u16};
    # the versioned struct puts version (8), manager_ctx (8), deleter (8), flags (8) first
    off = 20 if name == b"dltensor" else 32 + 20
    return ctypes.cast(base + off, ctypes.POINTER(ctypes.c_uint8))


def bf16_dlpack(a, *args, **kwargs):
    """``__dlpack__`` of a bfloat16 NumPy array."""
    cap = a.view(np.uint16).__dlpack__(*args, **kwargs)
    p = _dtype_code_addr(cap)
    if p[0] == _kDLUInt:
        p[0] = _kDLBfloat
    return cap


class _Bf16AsUInt16:
    """Shows a bfloat16 DLPack producer to ``numpy.from_dlpack`` as uint16."""

    def __init__(self, ext) -> None:
        self._ext = ext

    def __dlpack_device__(self):
        return self._ext.__dlpack_device__()

    def __dlpack__(self, *args, **kwargs):
        cap = self._ext.__dlpack__(*args, **kwargs)
        p = _dtype_code_addr(cap)
        if p[0] == _kDLBfloat:
            p[0] = _kDLUInt
            self.was_bf16 = True
        return cap


def from_dlpack_cpu(ext):
    """``numpy.from_dlpack`` that also takes bfloat16 producers (as an ml_dtypes array)."""
    try:
        return np.from_dlpack(ext)
    except (BufferError, TypeError, ValueError, RuntimeError):
        shim = _Bf16AsUInt16(ext)
        a = np.from_dlpack(shim)
        return a.view(BF16) if getattr(shim, "was_bf16", False) else a
