"""torch names real code reaches for that ctorch lacked (issue #14, session 20).

Tensor: ``set_`` (share another tensor's or a storage's memory), ``record_stream`` (a CPU
no-op; CUDA tensors accept the stream), ``resize_as`` (autograd's shape-only resize),
``output_nr``, ``is_set_to``, ``storage_type``, ``const_data_ptr``, the ``is_xla``/``is_ipu``/...
device flags and the removed ``volatile`` flag.

Top level: ``OutOfMemoryError`` (also ``ctorch.cuda.OutOfMemoryError``), ``set_flush_denormal``,
``to_dlpack``, the ``has_*`` build flags, ``compiled_with_cxx11_abi``, ``init_num_threads``,
``is_anomaly_check_nan_enabled``/``set_anomaly_enabled`` and ``as_strided_``.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor

__all__ = [
    "OutOfMemoryError",
    "as_strided_",
    "compiled_with_cxx11_abi",
    "has_lapack",
    "has_mkl",
    "has_openmp",
    "has_spectral",
    "init_num_threads",
    "is_anomaly_check_nan_enabled",
    "set_anomaly_enabled",
    "set_flush_denormal",
    "to_dlpack",
]


class OutOfMemoryError(RuntimeError):
    """``torch.OutOfMemoryError`` (``torch.cuda.OutOfMemoryError`` is the same class), so
    ``except torch.cuda.OutOfMemoryError`` in a program resolves. ctorch does not raise it
    yet: a failed CuPy allocation raises CuPy's own OutOfMemoryError."""


# build flags torch reports (the deprecated module attributes): ctorch links LAPACK through
# NumPy/SciPy, runs OpenMP kernels and has FFTs; it has no MKL
has_lapack = True
has_mkl = False
has_openmp = True
has_spectral = True


def compiled_with_cxx11_abi() -> bool:
    """torch's build question for C++ extensions: ctorch's extensions are built with the
    compiler's default (new) C++11 ABI."""
    return True


def init_num_threads() -> None:
    """torch initialises its intra-op pool per thread; ctorch's pool needs no setup."""


def set_flush_denormal(mode: bool) -> bool:
    """``torch.set_flush_denormal``: torch sets the CPU's flush-to-zero/denormals-are-zero bits
    and returns True where that is supported. ctorch's kernels run under NumPy, which owns the
    floating-point state, so ctorch cannot switch it: returns False (torch's "not supported"
    answer) and changes nothing."""
    builtins.bool(mode)
    return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """``torch.set_anomaly_enabled``: anomaly detection on or off for good (the state
    ``set_detect_anomaly`` sets for its block)."""
    from ..autograd.grad_mode import state

    state.anomaly = builtins.bool(enabled)
    state.anomaly_check_nan = builtins.bool(check_nan)


def is_anomaly_check_nan_enabled() -> bool:
    from ..autograd.grad_mode import state

    return builtins.bool(state.anomaly_check_nan)


def to_dlpack(tensor: Tensor):
    """``torch.to_dlpack``: a DLPack capsule of the tensor (``ctorch.utils.dlpack``)."""
    from ..utils.dlpack import to_dlpack as _to

    return _to(tensor)


def as_strided_(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    return input.as_strided_(size, stride, storage_offset)


# ------------------------------------------------------------------ Tensor members
def _set_(self: Tensor, source=None, storage_offset: int = 0, size=None, stride=None) -> Tensor:
    """``Tensor.set_``: make ``self`` use ``source``'s memory: another tensor (its sizes and
    strides too), a storage viewed at ``storage_offset`` with ``size``/``stride`` (in elements),
    or nothing (an empty tensor). The tensor keeps its own version counter, as torch's."""
    from ..autograd import inplace as IP
    from ..autograd.grad_mode import state
    from ..storage import _StorageBase

    IP.check_writable(self, "set_")
    if state.enabled and self._rg and self.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    a = self._a
    if source is None:
        new = xp_of(a).empty(0, a.dtype)
    elif isinstance(source, Tensor):
        if source._a.dtype != a.dtype:
            raise RuntimeError(
                f"Could not set tensor of type {self.dtype} to a tensor of type {source.dtype}"
            )
        if size is not None:
            return _set_(self, source.untyped_storage(), storage_offset, size, stride)
        new = source._a
    elif isinstance(source, _StorageBase):
        root = source._root
        if not root.flags.c_contiguous:
            raise RuntimeError("set_: the storage's memory is not contiguous")
        flat = root.reshape(-1).view(np.uint8).view(a.dtype)
        size = tuple(int(s) for s in (size if size is not None else (flat.size - storage_offset,)))
        if stride is None:
            stride, acc = [], 1
            for s in reversed(size):
                stride.append(acc)
                acc *= max(s, 1)
            stride = stride[::-1]
        stride = tuple(int(s) for s in stride)
        need = storage_offset + (
            1 + builtins.sum((n - 1) * s for n, s in zip(size, stride, strict=True))
            if all(size)
            else 0
        )
        if storage_offset < 0 or need > flat.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                f"{storage_offset} need {need} elements, but the storage holds {flat.size}"
            )
        step = flat.itemsize
        new = xp_of(flat).lib.stride_tricks.as_strided(
            flat[storage_offset:],
            size,
            tuple(s * step for s in stride),
        )
    else:
        raise TypeError(
            f"set_(): argument 'source' must be Tensor or Storage, not {type(source).__name__}"
        )
    self._a = new
    self._vref[0] += 1
    return self


def _is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """True when both tensors use the same memory with the same sizes and strides."""
    from ..storage import _ptr

    a, b = self._a, tensor._a
    return (
        a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype and _ptr(a) == _ptr(b)
    )


def _record_stream(self: Tensor, stream) -> None:
    """``Tensor.record_stream``: mark memory as used by ``stream`` so the caching allocator
    does not reuse it early. CPU tensors have no streams: torch raises for them."""
    if self.device.type != "cuda":
        raise RuntimeError("unknown parameter type")
    # CuPy's memory pool frees on the stream that allocated; ctorch keeps the array alive as
    # long as the tensor is, so there is nothing to record


def _resize_as(self: Tensor, tensor: Tensor) -> Tensor:
    """``Tensor.resize_as`` (autograd's deprecated Resize): the shape of ``tensor`` with the
    same number of elements, differentiable."""
    n_self, n_new = self.numel(), tensor.numel()
    if n_self != n_new:
        shape = "x".join(str(s) for s in self.shape)
        new = "x".join(str(s) for s in tensor.shape)
        raise RuntimeError(
            f"requested resize to {new} ({n_new} elements in total), but the given tensor has a "
            f"size of {shape} ({n_self} elements). autograd's resize can only change the shape "
            "of a given tensor, while preserving the number of elements. "
        )
    return self.reshape(tensor.shape)


def _storage_type(self: Tensor):
    """torch returns its legacy per-dtype class (``torch.FloatStorage``); ctorch has one typed
    storage class, ``TypedStorage``."""
    from ..storage import TypedStorage

    return TypedStorage


def _volatile(self: Tensor) -> bool:
    warnings.warn(
        "volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2
    )
    return False


_FALSE_FLAGS = ("is_xla", "is_ipu", "is_maia", "is_mtia", "is_vulkan", "is_mkldnn")


def attach(T: type) -> None:
    T.set_ = _set_
    T.is_set_to = _is_set_to
    T.record_stream = _record_stream
    T.resize_as = _resize_as
    T.storage_type = _storage_type
    T.const_data_ptr = lambda self: self.data_ptr()
    T.output_nr = property(lambda self: self._output_nr, doc="The output index in grad_fn.")
    T.volatile = property(_volatile)
    for name in _FALSE_FLAGS:
        setattr(T, name, property(lambda self: False))
