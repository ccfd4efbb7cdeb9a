"""``default_collate`` / ``default_convert``: turn lists of samples into batches of tensors."""

from __future__ import annotations

import collections.abc
import numbers
import re
from typing import Any

import numpy as np

__all__ = ["default_collate", "default_convert"]

_np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _is_tensor(obj: Any) -> bool:
    import ctorch

    return isinstance(obj, ctorch.Tensor)


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays (recursively, inside mappings and sequences) to tensors.

    Used as the ``collate_fn`` when automatic batching is off (``batch_size=None``).
    """
    import ctorch

    if isinstance(data, ctorch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return ctorch.as_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return ctorch.as_tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})  # type: ignore[call-arg]
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])  # type: ignore[call-arg]
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _stack_tensors(batch: Any) -> Any:
    """``ctorch.stack(batch)``; CPU tensors that need no gradient are stacked by NumPy in one
    call, which is many times faster than going through the autograd op for a large batch."""
    import ctorch

    if not any(t.requires_grad for t in batch):
        try:
            arrays = [t.numpy() for t in batch]
        except (TypeError, RuntimeError):  # a GPU tensor: let ctorch.stack handle it
            pass
        else:
            first = arrays[0]
            if all(a.shape == first.shape and a.dtype == first.dtype for a in arrays):
                return ctorch.from_numpy(np.stack(arrays))
    return ctorch.stack(list(batch), 0)


def default_collate(batch: Any) -> Any:
    """Collate a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    Tensors are stacked along a new first dimension; NumPy arrays and NumPy scalars become
    stacked tensors; Python floats a float64 tensor, ints an int64 tensor, bools a bool tensor;
    strings and bytes stay a list; mappings collate per key; namedtuples per field; other
    sequences are transposed and collated per position (tuples come back as lists, as in torch).
    """
    import ctorch

    elem = batch[0]
    if isinstance(elem, ctorch.Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if _np_str_obj_array_pattern.search(elem.dtype.str) is not None:
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        return ctorch.stack([ctorch.as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in "OSU":
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        return ctorch.as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return ctorch.tensor(list(batch), dtype=ctorch.bool)
    if isinstance(elem, float):
        return ctorch.tensor(list(batch), dtype=ctorch.float64)
    if isinstance(elem, int):
        return ctorch.tensor(list(batch), dtype=ctorch.int64)
    if isinstance(elem, numbers.Number):
        return ctorch.tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)  # type: ignore[call-arg]
        except TypeError:
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch, strict=False)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch, strict=False))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return type(elem)([default_collate(samples) for samples in transposed])  # type: ignore[call-arg]
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(type(elem)))
