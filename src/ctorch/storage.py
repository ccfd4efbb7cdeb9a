"""``torch.UntypedStorage`` / ``torch.TypedStorage`` as views of a tensor's memory
(``Tensor.untyped_storage()``, ``Tensor.storage()``).

A ctorch tensor wraps one array; its storage is the array at the root of that array's
``.base`` chain (the memory every view of it shares). The storage objects answer what programs
ask of a storage: ``data_ptr()`` and ``nbytes()`` (Hugging Face's ``id_tensor_storage`` tells
tied weights apart with them), ``size()``, ``element_size()``, ``is_shared()``, ``device``,
``tolist()``, indexing. A storage is a new Python object per call, as in torch; two tensors
share memory when their ``data_ptr()`` agree. Moving a storage into shared memory goes through
the tensor (``Tensor.share_memory_()``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["TypedStorage", "UntypedStorage"]


def _root(a: Any) -> Any:
    while isinstance(getattr(a, "base", None), type(a)):
        a = a.base
    return a


def _ptr(a: Any) -> int:
    if isinstance(a, np.ndarray):
        return a.__array_interface__["data"][0]
    return int(a.data.ptr)  # CuPy


class _StorageBase:
    def __init__(self, root: Any, device: Any) -> None:
        self._root = root
        self._device = device

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_sparse(self) -> bool:
        return False

    def data_ptr(self) -> int:
        return _ptr(self._root)

    def nbytes(self) -> int:
        return int(self._root.nbytes)

    def is_shared(self) -> bool:
        if self.is_cuda:
            return True
        import sys

        shared = sys.modules.get("ctorch._shared")
        return shared is not None and shared._buffer_of(self._root) is not None

    def share_memory_(self):
        if self.is_shared():
            return self
        raise RuntimeError(
            "ctorch: a storage moves to shared memory through its tensor: call "
            "Tensor.share_memory_() (or Module.share_memory()) instead"
        )

    def is_pinned(self, device: Any = "cuda") -> bool:
        return False

    def pin_memory(self, device: Any = "cuda"):
        return self

    def resizable(self) -> bool:
        return False

    def _bytes(self) -> np.ndarray:
        r = self._root
        a = r if isinstance(r, np.ndarray) else r.get()
        return np.frombuffer(np.ascontiguousarray(a).tobytes(), np.uint8)


class UntypedStorage(_StorageBase):
    """The bytes under a tensor (``Tensor.untyped_storage()``)."""

    @property
    def dtype(self):
        from . import _dtype

        return _dtype.uint8

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        return 1

    def tolist(self) -> list[int]:
        return self._bytes().tolist()

    def __getitem__(self, i: Any) -> Any:
        return self._bytes()[i].tolist()

    def untyped(self) -> UntypedStorage:
        return self

    def __repr__(self) -> str:
        return (
            f" {' '.join(str(v) for v in self._bytes()[:16].tolist())}"
            f"{' ...' if self.nbytes() > 16 else ''}\n"
            f"[torch.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"
        )


_TYPED_WARNED = [False]


def _warn_typed() -> None:
    if _TYPED_WARNED[0]:
        return
    _TYPED_WARNED[0] = True
    warnings.warn(
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will "
        "be the only storage class. This should only matter to you if you are using storages "
        "directly.  To access UntypedStorage directly, use tensor.untyped_storage() instead "
        "of tensor.storage()",
        UserWarning,
        stacklevel=3,
    )


class TypedStorage(_StorageBase):
    """The elements under a tensor (``Tensor.storage()``, deprecated in torch)."""

    def __init__(self, root: Any, device: Any, dtype: Any) -> None:
        super().__init__(root, device)
        self._dtype = dtype

    @property
    def dtype(self):
        return self._dtype

    def element_size(self) -> int:
        return int(self._root.dtype.itemsize)

    def size(self) -> int:
        return self.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def _elements(self) -> np.ndarray:
        return self._bytes().view(self._root.dtype)

    def tolist(self) -> list:
        return self._elements().tolist()

    def __getitem__(self, i: Any) -> Any:
        return self._elements()[i].tolist()

    def untyped(self) -> UntypedStorage:
        return UntypedStorage(self._root, self._device)

    _untyped_storage = property(untyped)

    def __repr__(self) -> str:
        n = self.size()
        head = " ".join(str(v) for v in self._elements()[:16].tolist())
        return (
            f" {head}{' ...' if n > 16 else ''}\n"
            f"[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of size {n}]"
        )


def untyped_storage(t: Any) -> UntypedStorage:
    return UntypedStorage(_root(t._a), t.device)


def typed_storage(t: Any) -> TypedStorage:
    _warn_typed()
    return TypedStorage(_root(t._a), t.device, t.dtype)
