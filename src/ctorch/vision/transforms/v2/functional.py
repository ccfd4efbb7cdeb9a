"""``transforms.v2.functional``: the v1 functions plus type-aware versions for tv_tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

import ctorch

from ... import tv_tensors

# the v1 functional API under the same names
from .. import (  # noqa: F401
    InterpolationMode,
    _is_pil_image,
    _is_tensor,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    get_dimensions,
    get_image_size,
    normalize,
    pil_to_tensor,
    rgb_to_grayscale,
    to_pil_image,
    to_tensor,
)
from .. import functional as F1
from .._extra import *  # noqa: F403
from ._core import _rewrap, apply_geometry


def get_size(inpt: Any) -> list[int]:
    """[height, width]."""
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return list(inpt.canvas_size)
    _, h, w = F1.get_dimensions(inpt)
    return [h, w]


def to_image(inpt: Any) -> tv_tensors.Image:
    """PIL image, HWC ndarray or tensor -> ``tv_tensors.Image``."""
    if isinstance(inpt, np.ndarray):
        arr = inpt[..., None] if inpt.ndim == 2 else inpt
        return tv_tensors.Image(ctorch.from_numpy(np.ascontiguousarray(np.moveaxis(arr, -1, -3))))
    if _is_pil_image(inpt):
        return tv_tensors.Image(F1.pil_to_tensor(inpt))
    if _is_tensor(inpt):
        return tv_tensors.Image(
            inpt.as_subclass(ctorch.Tensor) if isinstance(inpt, tv_tensors.TVTensor) else inpt
        )
    raise TypeError(f"to_image: expected a PIL image, ndarray or tensor, got {type(inpt).__name__}")


def to_dtype(inpt: Any, dtype: Any = ctorch.float32, scale: bool = False) -> Any:
    """Cast; with ``scale`` map integer ranges to [0, 1] for floats and back."""
    x = inpt.as_subclass(ctorch.Tensor) if isinstance(inpt, tv_tensors.TVTensor) else inpt
    if x.dtype == dtype:
        return inpt
    if not scale:
        return _rewrap(x.to(dtype), inpt)
    src_float, dst_float = x.is_floating_point(), ctorch.empty((), dtype=dtype).is_floating_point()
    if src_float and dst_float:
        out = x.to(dtype)
    elif not src_float and dst_float:
        out = x.to(dtype) / float(np.iinfo(np.dtype(str(x.dtype).split(".")[-1])).max)
    elif src_float and not dst_float:
        mx = float(np.iinfo(np.dtype(str(dtype).split(".")[-1])).max)
        out = (x * (mx + 1.0 - 0.001)).to(dtype)
    else:
        src_max = int(np.iinfo(np.dtype(str(x.dtype).split(".")[-1])).max)
        dst_max = int(np.iinfo(np.dtype(str(dtype).split(".")[-1])).max)
        a = x.numpy().astype(np.int64)
        if dst_max > src_max:
            a = a * (dst_max + 1) // (src_max + 1)
        else:
            a = a // ((src_max + 1) // (dst_max + 1))
        out = ctorch.from_numpy(a).to(dtype)
    return _rewrap(out, inpt)


def horizontal_flip(inpt: Any) -> Any:
    return apply_geometry(inpt, [("hflip",)])


def vertical_flip(inpt: Any) -> Any:
    return apply_geometry(inpt, [("vflip",)])


hflip = horizontal_flip
vflip = vertical_flip


def resize(
    inpt: Any,
    size: Any,
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Any:
    h, w = get_size(inpt)
    nh, nw = F1._compute_resized_output_size((h, w), size, max_size)
    return apply_geometry(
        inpt, [("resize", nh, nw, F1._interpolation(interpolation), bool(antialias))]
    )


def crop(inpt: Any, top: int, left: int, height: int, width: int) -> Any:
    return apply_geometry(inpt, [("crop", top, left, height, width)])


def center_crop(inpt: Any, output_size: Any) -> Any:
    from . import _center_crop_ops

    size = F1._setup_size(output_size, "Please provide only two dimensions (h, w) for size.")
    return apply_geometry(inpt, _center_crop_ops(tuple(get_size(inpt)), size))


def resized_crop(
    inpt: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    size: list[int],
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    antialias: bool | None = True,
) -> Any:
    return apply_geometry(
        inpt,
        [
            ("crop", top, left, height, width),
            ("resize", size[0], size[1], F1._interpolation(interpolation), bool(antialias)),
        ],
    )


def pad(inpt: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    return apply_geometry(inpt, [("pad", *F1._parse_pad(padding), padding_mode)], fill)


def to_pure_tensor(inpt: Any) -> Any:
    return inpt.as_subclass(ctorch.Tensor) if isinstance(inpt, tv_tensors.TVTensor) else inpt


# box-aware geometry (rotate/affine/perspective/elastic move BoundingBoxes; masks use nearest)
from ._geometry import (  # noqa: E402, F401
    affine,
    convert_bounding_box_format,
    elastic,
    elastic_transform,
    five_crop,
    perspective,
    rotate,
    ten_crop,
)
