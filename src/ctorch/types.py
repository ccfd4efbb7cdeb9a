"""``ctorch.types`` (torch.types): the type aliases annotations in real code import
(``Number``, ``Device``, ``_size``, ``_dtype`` ...)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any, TypeAlias, Union

from ._device import device as _device
from ._dtype import dtype as _dtype
from ._size import Size
from ._tensor import Tensor
from .storage import UntypedStorage as Storage

__all__ = [
    "Device",
    "FileLike",
    "Number",
    "Size",
    "Storage",
    "Tensor",
    "_TensorOrTensors",
    "_bool",
    "_complex",
    "_device",
    "_dtype",
    "_float",
    "_int",
    "_size",
    "_str",
]

_bool = bool
_complex = complex
_float = float
_int = int
_str = str
_size: TypeAlias = Union[Size, list[int], tuple[int, ...]]  # noqa: UP007
_TensorOrTensors: TypeAlias = Union[Tensor, Sequence[Tensor]]  # noqa: UP007
Number: TypeAlias = Union[int, float, bool]  # noqa: UP007
_Number = (int, float, bool)
Device: TypeAlias = Union[_device, str, int, None]  # noqa: UP007
FileLike: TypeAlias = Union[str, os.PathLike, IO[bytes]]  # noqa: UP007
PySymType: TypeAlias = Any
py_sym_types = ()
