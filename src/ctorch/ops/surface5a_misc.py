"""torch names added for issue #14 (group 1, part 3): predicates (``is_same_size``, ``is_neg``,
``is_inference``, ``is_signed``, ``is_distributed``, ``Tensor.is_nonzero``) and constructors
(``scalar_tensor``, ``empty_strided``, ``frombuffer``, ``Tensor.new``, ``new_empty_strided``),
``split_with_sizes`` and the ``unsafe_`` split family."""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from .. import _dtype as D
from .. import _warnings
from .._tensor import Tensor

_wrap = Tensor._make


def _need_tensor(name: str, arg: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


# --------------------------------------------------------------------------- predicates


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """``torch.is_same_size``: whether the two shapes are equal."""
    _need_tensor("is_same_size", "input", input)
    _need_tensor("is_same_size", "other", other)
    return tuple(input.shape) == tuple(other.shape)


def is_neg(input: Tensor) -> bool:
    """``torch.is_neg``: ctorch has no lazy negation bit, so always False."""
    _need_tensor("is_neg", "input", input)
    return False


def is_inference(input: Tensor) -> bool:
    """``torch.is_inference``: whether ``input`` is an inference tensor (allocated in
    inference mode, or a view of one)."""
    from ..autograd.grad_mode import INFERENCE_VERSION

    _need_tensor("is_inference", "input", input)
    return input._vref is INFERENCE_VERSION


def is_signed(input: Tensor) -> bool:
    """``torch.is_signed``: whether the dtype is signed (floats and signed integers)."""
    _need_tensor("is_signed", "input", input)
    return input.is_signed()


def is_distributed(input: Tensor) -> bool:
    """``torch.is_distributed``: always False (no distributed tensors)."""
    _need_tensor("is_distributed", "input", input)
    return False


def _is_nonzero_method(self: Tensor) -> bool:
    from .. import is_nonzero

    return is_nonzero(self)


# --------------------------------------------------------------------------- constructors


def scalar_tensor(
    s,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """``torch.scalar_tensor``: a 0-d tensor holding ``s`` in ``dtype`` (default: the default
    float dtype, whatever the Python type of ``s``)."""
    from .. import tensor

    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' must be Number, not {type(s).__name__}")
    dt = D.get_default_dtype() if dtype is None else dtype
    if isinstance(s, complex) and not D.to_numpy_dtype(D._as_dtype(dt)).kind == "c":
        raise RuntimeError(
            f"scalar_tensor(): value {s} cannot be converted to type "
            f"{str(dt).split('.')[-1]} without overflow"
        )
    return tensor(s, dtype=dt, device=device, requires_grad=requires_grad)


def _check_sizes_strides(name, size, stride):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"{name}(): dimensionality of sizes ({len(size)}) must match dimensionality of "
            f"strides ({len(stride)})"
        )
    for s in size:
        if s < 0:
            raise RuntimeError(
                f"{name}(): Trying to create tensor with negative dimension {s}: {list(size)}"
            )
    if any(st < 0 for st in stride):
        raise RuntimeError(
            f"{name}(): Storage size calculation overflowed with sizes={list(size)} and "
            f"strides={list(stride)}"
        )
    return size, stride


def empty_strided(
    size,
    stride,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """``torch.empty_strided``: an uninitialized (here: zero-filled) tensor with the given
    size and strides, over a storage just large enough for them."""
    from .. import empty
    from .strided import as_strided

    size, stride = _check_sizes_strides("empty_strided", size, stride)
    need = (builtins.sum((s - 1) * st for s, st in zip(size, stride, strict=True)) + 1) * all(size)
    buf = empty(need, dtype=dtype, device=device)
    buf._a[...] = 0
    r = as_strided(buf, size, stride, 0).detach()
    if requires_grad:
        r.requires_grad_(True)
    return r


def _new_empty_strided(
    self: Tensor,
    size,
    stride,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """``Tensor.new_empty_strided``: ``empty_strided`` with ``self``'s dtype and device by default."""
    return empty_strided(
        size,
        stride,
        dtype=self.dtype if dtype is None else dtype,
        device=self.device if device is None else device,
        requires_grad=requires_grad,
    )


def frombuffer(
    buffer,
    *,
    dtype,
    count: int = -1,
    offset: int = 0,
    requires_grad: bool = False,
) -> Tensor:
    """``torch.frombuffer``: a 1-D tensor over the memory of a Python buffer (shared, not
    copied: writes through either show in the other)."""
    npdt = D.to_numpy_dtype(D._as_dtype(dtype))
    mv = memoryview(buffer)
    length = mv.nbytes
    isz = npdt.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
            f"({length} bytes) minus 1"
        )
    if count < 0:
        if (length - offset) % isz:
            raise ValueError(
                f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be "
                f"a multiple of element size ({isz})"
            )
        count = (length - offset) // isz
    elif offset + count * isz > length:
        raise ValueError(
            f"requested buffer length ({count} * {isz} bytes) after offset ({offset} bytes) "
            f"must not be greater than actual buffer length ({length} bytes)"
        )
    if mv.readonly:
        _warnings.warn(
            "The given buffer is not writable, and PyTorch does not support non-writable "
            "tensors. This means you can write to the underlying (supposedly non-writable) "
            "buffer using the tensor. You may want to copy the buffer to protect its data or "
            "make it writable before converting it to a tensor.",
            UserWarning,
        )
    arr = np.frombuffer(mv.cast("B"), dtype=npdt, count=count, offset=offset)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _new(self: Tensor, *args, device=None) -> Tensor:
    """``Tensor.new``, the legacy constructor: ``new()`` (empty), ``new(*sizes)`` or
    ``new(Size)`` (uninitialized), ``new(sequence)`` (data in ``self``'s dtype) or
    ``new(tensor)`` (that tensor, which must have ``self``'s dtype)."""
    from .. import empty, tensor
    from .._size import Size

    dev = self.device if device is None else device
    if not args:
        return empty(0, dtype=self.dtype, device=dev)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a.dtype != self.dtype:
                raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got {a.dtype}")
            return a.detach()
        if isinstance(a, Size):
            return empty(*a, dtype=self.dtype, device=dev)
        if isinstance(a, (list, tuple, np.ndarray)):
            return tensor(a, dtype=self.dtype, device=dev)
        if not isinstance(a, numbers.Integral):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
    if not all(isinstance(s, numbers.Integral) for s in args):
        raise TypeError(
            f"new() received an invalid combination of arguments - got "
            f"({', '.join(type(s).__name__ for s in args)})"
        )
    return empty(*args, dtype=self.dtype, device=dev)


# --------------------------------------------------------------------------- splits


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``torch.split_with_sizes``: pieces of the given sizes along ``dim`` (they must sum to
    the dimension's size)."""
    _need_tensor("split_with_sizes", "input", input)
    from ._util import wrap_dim

    ax = wrap_dim(dim, input.dim(), "split_with_sizes")
    sizes = [int(s) for s in split_sizes]
    n = input.shape[ax]
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={sizes}"
        )
    if builtins.sum(sizes) != n:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at"
            f" dimension {ax}), but got split_sizes={sizes}"
        )
    return tuple(input.split(sizes, ax))


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``torch.unsafe_split_with_sizes``: ``split_with_sizes`` (ctorch's views need no
    unsafe variant)."""
    return split_with_sizes(input, split_sizes, dim)


def unsafe_split(input: Tensor, split_size, dim: int = 0) -> tuple:
    """``torch.unsafe_split``: ``split``."""
    _need_tensor("unsafe_split", "input", input)
    return tuple(input.split(split_size, dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``torch.unsafe_chunk``: ``chunk``."""
    _need_tensor("unsafe_chunk", "input", input)
    return tuple(input.chunk(chunks, dim))


__all__ = [
    "empty_strided",
    "frombuffer",
    "is_distributed",
    "is_inference",
    "is_neg",
    "is_same_size",
    "is_signed",
    "scalar_tensor",
    "split_with_sizes",
    "unsafe_chunk",
    "unsafe_split",
    "unsafe_split_with_sizes",
]

METHODS = {
    "is_same_size": is_same_size,
    "is_neg": is_neg,
    "is_inference": is_inference,
    "is_distributed": is_distributed,
    "is_nonzero": _is_nonzero_method,
    "split_with_sizes": split_with_sizes,
    "unsafe_split_with_sizes": unsafe_split_with_sizes,
    "unsafe_split": unsafe_split,
    "unsafe_chunk": unsafe_chunk,
    "new": _new,
    "new_empty_strided": _new_empty_strided,
}
