"""ctorch.vision.tv_tensors: tensors that say what they hold (``torchvision.tv_tensors``).

``Image``, ``Mask`` and ``BoundingBoxes`` (with ``format`` and ``canvas_size``) are ctorch Tensor
subclasses sharing the array of the data they wrap. ``transforms.v2`` uses the type to decide how
to transform each part of a sample (boxes move with flips, crops, pads and resizes). As in
torchvision, the result of an ordinary tensor operation on them is a plain Tensor; ``wrap`` puts
it back into the class of a reference.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

import ctorch
from ctorch._torch_function import _disabled_torch_function_impl

__all__ = ["TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat", "wrap"]

Tensor = ctorch.Tensor


def _as_tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool | None = None
) -> Tensor:
    if isinstance(data, Tensor):
        t = data
    else:
        t = ctorch.as_tensor(np.asarray(data) if not isinstance(data, (list, tuple)) else data)
    if dtype is not None or device is not None:
        t = t.to(
            dtype=dtype if dtype is not None else t.dtype,
            device=device if device is not None else t.device,
        )
    if requires_grad is not None:
        t = t.detach().requires_grad_(requires_grad)
    return t


class TVTensor(Tensor):
    """Base of the tv_tensors: a Tensor that shares the array of ``data``."""

    # ops return plain Tensors, as torchvision's for all but a few ops (see the module note)
    __torch_function__ = _disabled_torch_function_impl

    @classmethod
    def _wrap(cls, t: Tensor, **attrs: Any) -> Any:
        out = object.__new__(cls)
        Tensor._init_slots(out)
        out._a = t._a
        out._vref = t._vref
        if t.requires_grad:
            out.requires_grad_(True)
        out.__dict__.update(attrs)
        return out

    def as_subclass(self, cls: type) -> Any:  # plain tensor view of the same data
        return Tensor._make(self._a) if cls is Tensor else cls._wrap(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({Tensor._make(self._a)!r}{self._extra_repr()})"

    __str__ = __repr__

    def _extra_repr(self) -> str:
        return ""


class Image(TVTensor):
    """An image ``[..., C, H, W]``; a PIL image becomes its uint8 CHW tensor."""

    def __new__(
        cls, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool | None = None
    ) -> Image:
        from ..transforms import _is_pil_image, pil_to_tensor

        if _is_pil_image(data):
            data = pil_to_tensor(data)
        t = _as_tensor(data, dtype, device, requires_grad)
        if t.dim() < 2:
            raise ValueError(f"Image: expected at least 2 dimensions, got {list(t.shape)}")
        if t.dim() == 2:
            t = t.unsqueeze(0)
        return cls._wrap(t)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class Video(Image):
    """A video ``[..., T, C, H, W]``."""


class Mask(TVTensor):
    """A segmentation or detection mask ``[..., H, W]``."""

    def __new__(
        cls, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool | None = None
    ) -> Mask:
        from ..transforms import _is_pil_image

        if _is_pil_image(data):
            data = np.asarray(data)
        return cls._wrap(_as_tensor(data, dtype, device, requires_grad))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class BoundingBoxFormat(Enum):
    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"


class BoundingBoxes(TVTensor):
    """Boxes ``[N, 4]`` in ``format`` on an image of ``canvas_size = (height, width)``."""

    format: BoundingBoxFormat
    canvas_size: tuple[int, int]

    def __new__(
        cls,
        data: Any,
        *,
        format: BoundingBoxFormat | str,
        canvas_size: tuple[int, int],
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool | None = None,
    ) -> BoundingBoxes:
        t = _as_tensor(data, dtype, device, requires_grad)
        if t.dim() == 1:
            t = t.unsqueeze(0)
        if t.dim() != 2 or t.shape[-1] != 4:
            raise ValueError(f"BoundingBoxes: expected shape [N, 4], got {list(t.shape)}")
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        return cls._wrap(t, format=format, canvas_size=tuple(int(s) for s in canvas_size))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def _extra_repr(self) -> str:
        return f", format={self.format}, canvas_size={self.canvas_size}"


def wrap(wrappee: Tensor, *, like: TVTensor, **kwargs: Any) -> Any:
    """Wrap a plain tensor into the class of ``like`` (boxes keep ``like``'s metadata unless
    given in ``kwargs``)."""
    if isinstance(like, BoundingBoxes):
        return BoundingBoxes._wrap(
            wrappee,
            format=kwargs.get("format", like.format),
            canvas_size=tuple(kwargs.get("canvas_size", like.canvas_size)),
        )
    return type(like)._wrap(wrappee)
