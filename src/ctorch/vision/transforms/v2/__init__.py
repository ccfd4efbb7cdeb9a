"""ctorch.vision.transforms.v2: torchvision's v2 transforms API.

Transforms take any sample structure (``t(img)``, ``t(img, target_dict)``, ``t((img, boxes,
mask))``) and transform images (PIL, ``tv_tensors.Image`` or a plain tensor), and, for the
geometric ones (flips, resize, crops, pad), ``tv_tensors.BoundingBoxes`` and ``tv_tensors.Mask``
consistently. Colour transforms touch only images. Rotation, affine, perspective and elastic
transforms (``_geometry``) move images, masks (nearest) and bounding boxes (enclosing box of the
transformed corners, clamped to the canvas).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import ctorch

from ... import tv_tensors
from .. import (
    InterpolationMode,
    _compute_resized_output_size,
    _container_repr,
    _interpolation,
    _is_pil_image,
    _is_tensor,
    _parse_pad,
    _randint,
    _resized_crop_box,
    _setup_angle,
    _setup_size,
    _uniform,
)
from .. import functional as F1
from ._core import (
    Transform,
    _GeometryTransform,
    _image_flags,
    _ImageOnly,
    _rewrap,
    _v1_wrapper,
    apply_geometry,
    is_pure_tensor,
    query_size,
)

__all__ = [
    "Transform",
    "InterpolationMode",
    "Compose",
    "RandomApply",
    "RandomChoice",
    "RandomOrder",
    "Lambda",
    "Identity",
    "ToImage",
    "ToDtype",
    "ToPureTensor",
    "PILToTensor",
    "ToPILImage",
    "ToTensor",
    "ConvertImageDtype",
    "Normalize",
    "Resize",
    "CenterCrop",
    "RandomCrop",
    "RandomResizedCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "Pad",
    "ColorJitter",
    "Grayscale",
    "RandomGrayscale",
    "GaussianBlur",
    "RandomErasing",
    "RandomInvert",
    "RandomPosterize",
    "RandomSolarize",
    "RandomAdjustSharpness",
    "RandomAutocontrast",
    "RandomEqualize",
    "AutoAugment",
    "AutoAugmentPolicy",
    "RandAugment",
    "TrivialAugmentWide",
    "ClampBoundingBoxes",
    "ConvertBoundingBoxFormat",
    "SanitizeBoundingBoxes",
    "functional",
]


# ----------------------------------------------------------------------------------- containers
class Compose(Transform):
    def __init__(self, transforms: Sequence[Callable]) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        needs_unpack = len(inputs) > 1
        for t in self.transforms:
            outputs = t(*inputs)
            inputs = outputs if needs_unpack else (outputs,)
        return outputs

    def __repr__(self) -> str:
        return _container_repr(self)


class RandomApply(Transform):
    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        if not isinstance(transforms, (Sequence,)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.transforms = transforms
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        if float(ctorch.rand(1).item()) >= self.p:
            return sample
        for t in self.transforms:
            sample = t(sample)
        return sample

    def extra_repr(self) -> str:
        return f"transforms={list(self.transforms)}, p={self.p}"


class RandomChoice(Transform):
    def __init__(self, transforms: Sequence[Callable], p: list[float] | None = None) -> None:
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(
                f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}"
            )
        self.transforms = transforms
        total = sum(p)
        self.p = [prob / total for prob in p]

    def forward(self, *inputs: Any) -> Any:
        idx = int(ctorch.multinomial(ctorch.tensor(self.p), 1).item())
        return self.transforms[idx](*inputs)


class RandomOrder(Transform):
    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        for i in ctorch.randperm(len(self.transforms)).tolist():
            sample = self.transforms[i](sample)
        return sample


class Lambda(Transform):
    """Apply ``lambd`` to the leaves of the given ``types`` (default: every leaf)."""

    def __init__(self, lambd: Callable[[Any], Any], *types: type) -> None:
        self.lambd = lambd
        self.types = types or (object,)

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [isinstance(x, self.types) for x in flat]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.lambd(inpt)

    def extra_repr(self) -> str:
        return f"{getattr(self.lambd, '__name__', repr(self.lambd))}"


class Identity(Transform):
    def forward(self, *inputs: Any) -> Any:
        return inputs if len(inputs) > 1 else inputs[0]


# ---------------------------------------------------------------------------------- conversions
class ToImage(_ImageOnly):
    """PIL image, ndarray (HWC) or tensor -> ``tv_tensors.Image``."""

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        flags = _image_flags(flat)
        return [f or isinstance(x, np.ndarray) for x, f in zip(flat, flags, strict=True)]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return functional.to_image(inpt)


class ToPureTensor(Transform):
    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [isinstance(x, tv_tensors.TVTensor) for x in flat]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return inpt.as_subclass(ctorch.Tensor)


class PILToTensor(_ImageOnly):
    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [_is_pil_image(x) for x in flat]

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        return F1.pil_to_tensor(img)


class ToTensor(_ImageOnly):
    """Deprecated in torchvision: ToImage() + ToDtype(float32, scale=True)."""

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [_is_pil_image(x) or isinstance(x, np.ndarray) for x in flat]

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        return F1.to_tensor(img)


class ToPILImage(_ImageOnly):
    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        flags = _image_flags(flat)
        return [f or isinstance(x, np.ndarray) for x, f in zip(flat, flags, strict=True)]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if _is_pil_image(inpt):
            return inpt
        if isinstance(inpt, tv_tensors.TVTensor):
            inpt = inpt.as_subclass(ctorch.Tensor)
        return F1.to_pil_image(inpt, self.mode)


class ToDtype(Transform):
    """Convert images (or, with a dict, each tv_tensor type) to ``dtype``; ``scale=True`` also
    rescales values between integer and float ranges."""

    def __init__(self, dtype: Any, scale: bool = False) -> None:
        self.dtype = dtype
        self.scale = scale

    def _dtype_for(self, x: Any, is_img: bool) -> Any:
        if isinstance(self.dtype, dict):
            for cls in type(x).__mro__:
                if cls in self.dtype:
                    return self.dtype[cls]
            if is_img and is_pure_tensor(x) and ctorch.Tensor in self.dtype:
                return self.dtype[ctorch.Tensor]
            return self.dtype.get("others")
        return self.dtype if is_img else None

    def forward(self, *inputs: Any) -> Any:
        from ._core import _flatten, _unflatten

        sample = inputs if len(inputs) > 1 else inputs[0]
        flat: list[Any] = []
        spec = _flatten(sample, flat)
        flags = _image_flags(flat)
        outs = []
        for x, f in zip(flat, flags, strict=True):
            dt = self._dtype_for(x, f) if _is_tensor(x) else None
            if dt is None:
                outs.append(x)
            else:
                scale = self.scale and (f or isinstance(x, tv_tensors.Video))
                outs.append(functional.to_dtype(x, dt, scale=scale))
        return _unflatten(spec, iter(outs))

    def extra_repr(self) -> str:
        return f"dtype={self.dtype}, scale={self.scale}"


class ConvertImageDtype(ToDtype):
    def __init__(self, dtype: Any = ctorch.float32) -> None:
        super().__init__(dtype, scale=True)


class Normalize(_ImageOnly):
    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        if _is_pil_image(img):
            raise TypeError("Normalize: PIL images are not supported; convert to a tensor first")
        return F1.normalize(
            img.as_subclass(ctorch.Tensor) if isinstance(img, tv_tensors.TVTensor) else img,
            self.mean,
            self.std,
            self.inplace,
        )

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}, inplace={self.inplace}"


# ------------------------------------------------------------------------------------ geometry
class RandomHorizontalFlip(_GeometryTransform):
    def __init__(self, p: float = 0.5) -> None:
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        return [("hflip",)] if float(ctorch.rand(1).item()) < self.p else []

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        return [("vflip",)] if float(ctorch.rand(1).item()) < self.p else []


class Resize(_GeometryTransform):
    def __init__(
        self,
        size: int | Sequence[int] | None,
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        max_size: int | None = None,
        antialias: bool | None = True,
    ) -> None:
        if isinstance(size, int):
            size = [size]
        elif size is not None:
            size = list(size)
            if len(size) not in (1, 2):
                raise ValueError(f"size can be an int or a sequence of length 1 or 2, got {size}")
        self.size = size
        self.interpolation = _interpolation(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        if self.size is None:
            h, w = size
            s = self.max_size / max(h, w)  # type: ignore[operator]
            nh, nw = int(h * s), int(w * s)
        else:
            nh, nw = _compute_resized_output_size(size, self.size, self.max_size)
        return [("resize", nh, nw, self.interpolation, bool(self.antialias))]

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, interpolation={self.interpolation}, max_size={self.max_size}, "
            f"antialias={self.antialias}"
        )


def _center_crop_ops(size: tuple[int, int], out: tuple[int, int]) -> list[tuple]:
    h, w = size
    ch, cw = out
    ops: list[tuple] = []
    if ch > h or cw > w:
        pl, pt = (cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0
        pr, pb = (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0
        ops.append(("pad", pl, pt, pr, pb, "constant"))
        h, w = h + pt + pb, w + pl + pr
        if h == ch and w == cw:
            return ops
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    ops.append(("crop", top, left, ch, cw))
    return ops


class CenterCrop(_GeometryTransform):
    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        return _center_crop_ops(size, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class Pad(_GeometryTransform):
    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        return [("pad", *_parse_pad(self.padding), self.padding_mode)]

    def extra_repr(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


class RandomCrop(_GeometryTransform):
    def __init__(
        self,
        size: int | Sequence[int],
        padding: Any = None,
        pad_if_needed: bool = False,
        fill: Any = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        h, w = size
        ops: list[tuple] = []
        left = top = right = bottom = 0
        if self.padding is not None:
            left, top, right, bottom = _parse_pad(self.padding)
        th, tw = self.size
        if self.pad_if_needed:
            ph = max(th - (h + top + bottom), 0)
            pw = max(tw - (w + left + right), 0)
            left, right, top, bottom = left + pw, right + pw, top + ph, bottom + ph
        if left or top or right or bottom:
            ops.append(("pad", left, top, right, bottom, self.padding_mode))
        h, w = h + top + bottom, w + left + right
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        i = _randint(0, h - th + 1) if h > th else 0
        j = _randint(0, w - tw + 1) if w > tw else 0
        ops.append(("crop", i, j, th, tw))
        return ops

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomResizedCrop(_GeometryTransform):
    def __init__(
        self,
        size: int | Sequence[int],
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        self.scale = scale
        self.ratio = ratio
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        i, j, h, w = _resized_crop_box(size[0], size[1], self.scale, self.ratio)
        return [
            ("crop", i, j, h, w),
            ("resize", self.size[0], self.size[1], self.interpolation, bool(self.antialias)),
        ]

    def extra_repr(self) -> str:
        return f"size={self.size}, scale={self.scale}, ratio={self.ratio}"


# ------------------------------------------------------------------------------ colour (v1 ops)
ColorJitter = _v1_wrapper(F1.ColorJitter, "Randomly change brightness, contrast, saturation, hue.")
Grayscale = _v1_wrapper(F1.Grayscale, "Convert images to grayscale.")
RandomGrayscale = _v1_wrapper(F1.RandomGrayscale, "Grayscale with probability p.")
GaussianBlur = _v1_wrapper(F1.GaussianBlur, "Gaussian blur with a random sigma.")
RandomErasing = _v1_wrapper(F1.RandomErasing, "Erase a random rectangle (tensor images).")
RandomInvert = _v1_wrapper(F1.RandomInvert, "Invert colours with probability p.")
RandomPosterize = _v1_wrapper(F1.RandomPosterize, "Posterize with probability p.")
RandomSolarize = _v1_wrapper(F1.RandomSolarize, "Solarize with probability p.")
RandomAdjustSharpness = _v1_wrapper(F1.RandomAdjustSharpness, "Sharpen with probability p.")
RandomAutocontrast = _v1_wrapper(F1.RandomAutocontrast, "Autocontrast with probability p.")
RandomEqualize = _v1_wrapper(F1.RandomEqualize, "Equalize with probability p.")
AutoAugment = _v1_wrapper(F1.AutoAugment, "AutoAugment (ImageNet policy).")
RandAugment = _v1_wrapper(F1.RandAugment, "RandAugment.")
TrivialAugmentWide = _v1_wrapper(F1.TrivialAugmentWide, "TrivialAugment Wide.")
AutoAugmentPolicy = F1.AutoAugmentPolicy


# --------------------------------------------------------------------------------- boxes only
class ClampBoundingBoxes(Transform):
    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [isinstance(x, tv_tensors.BoundingBoxes) for x in flat]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return apply_geometry(inpt, [("crop", 0, 0, *inpt.canvas_size)])


class ConvertBoundingBoxFormat(Transform):
    def __init__(self, format: str | tv_tensors.BoundingBoxFormat) -> None:
        if isinstance(format, str):
            format = tv_tensors.BoundingBoxFormat[format.upper()]
        self.format = format

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [isinstance(x, tv_tensors.BoundingBoxes) for x in flat]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        from ._core import _boxes_back, _boxes_xyxy

        like = tv_tensors.BoundingBoxes._wrap(
            inpt, format=self.format, canvas_size=inpt.canvas_size
        )
        out = _boxes_back(_boxes_xyxy(inpt), like, inpt.canvas_size)
        return out


class SanitizeBoundingBoxes(Transform):
    """Drop boxes smaller than ``min_size`` (and the matching entries of ``labels_getter``'s
    tensor, default ``sample[1]["labels"]``)."""

    def __init__(
        self, min_size: float = 1.0, min_area: float = 1.0, labels_getter: Any = "default"
    ) -> None:
        self.min_size = min_size
        self.min_area = min_area
        self.labels_getter = labels_getter

    def forward(self, *inputs: Any) -> Any:
        from ._core import _boxes_xyxy

        sample = inputs if len(inputs) > 1 else inputs[0]
        target = None
        if isinstance(sample, (tuple, list)) and len(sample) == 2 and isinstance(sample[1], dict):
            target = sample[1]
        elif isinstance(sample, dict):
            target = sample
        if target is None:
            raise ValueError("SanitizeBoundingBoxes: expected (image, target_dict) or a dict")
        key = next(k for k, v in target.items() if isinstance(v, tv_tensors.BoundingBoxes))
        boxes = target[key]
        a = _boxes_xyxy(boxes)
        ws, hs = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
        valid = (ws >= self.min_size) & (hs >= self.min_size) & (ws * hs >= self.min_area)
        valid &= (a[:, 0] < boxes.canvas_size[1]) & (a[:, 1] < boxes.canvas_size[0])
        valid &= (a[:, 2] > 0) & (a[:, 3] > 0)
        idx = ctorch.from_numpy(np.nonzero(valid)[0])
        new = dict(target)
        n = boxes.shape[0]
        for k, v in target.items():
            if (
                _is_tensor(v)
                and v.dim() >= 1
                and v.shape[0] == n
                and (k == key or k == "labels" or isinstance(v, tv_tensors.Mask))
            ):
                new[k] = _rewrap(
                    v.as_subclass(ctorch.Tensor)[idx]
                    if isinstance(v, tv_tensors.TVTensor)
                    else v[idx],
                    v,
                )
        if target is sample:
            return new
        return (sample[0], new) if isinstance(sample, tuple) else [sample[0], new]


# box-aware geometry (RandomRotation, RandomAffine, RandomPerspective, ...) and the detection
# transforms; mixing and photometric extras
from ._geometry import *  # noqa: E402, F403
from ._geometry import __all__ as _geometry_all  # noqa: E402

__all__ += [n for n in _geometry_all if n not in __all__]
from ._augment import *  # noqa: E402, F403
from ._augment import __all__ as _augment_all  # noqa: E402

__all__ += [n for n in _augment_all if n not in __all__]

from . import functional  # noqa: E402

_ = (numbers, is_pure_tensor)
