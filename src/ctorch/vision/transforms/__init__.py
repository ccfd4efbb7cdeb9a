"""Image transforms with torchvision's API (``torchvision.transforms``).

Inputs are PIL images, NumPy arrays (H x W x C, or H x W) and ctorch tensors (..., C, H, W),
as torchvision accepts them; the output has the input's kind. PIL images go through Pillow's
own operations (as torchvision does, so results match it); arrays and tensors go through
NumPy, and tensors are wrapped back with ``ctorch.from_numpy``. Random transforms draw from
ctorch's global generator (``ctorch.rand``, ``ctorch.randint``, ``ctorch.randperm``), so
``ctorch.manual_seed`` reproduces them. Pillow is imported only when a PIL image is handled
or produced.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import numpy as np

from ... import _warnings

__all__ = [
    "InterpolationMode",
    "Compose",
    "ToTensor",
    "PILToTensor",
    "ToPILImage",
    "ConvertImageDtype",
    "Normalize",
    "Resize",
    "CenterCrop",
    "RandomCrop",
    "RandomResizedCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomRotation",
    "ColorJitter",
    "Grayscale",
    "RandomGrayscale",
    "Pad",
    "Lambda",
    "RandomApply",
    "RandomChoice",
    "RandomOrder",
]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's integer resampling constants, accepted (with a warning) like torchvision does.
_PIL_CODE_TO_MODE = {
    0: InterpolationMode.NEAREST,
    2: InterpolationMode.BILINEAR,
    3: InterpolationMode.BICUBIC,
    4: InterpolationMode.BOX,
    5: InterpolationMode.HAMMING,
    1: InterpolationMode.LANCZOS,
}
_MODE_TO_PIL_CODE = {v: k for k, v in _PIL_CODE_TO_MODE.items()}
_MODE_TO_PIL_CODE[InterpolationMode.NEAREST_EXACT] = 0


def _check_fill(fill: Any) -> Any:
    """The ``fill`` of RandomRotation/RandomPerspective: None is 0, else a sequence or number."""
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _interpolation(mode: InterpolationMode | int) -> InterpolationMode:
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int) and mode in _PIL_CODE_TO_MODE:
        _warnings.warn(
            "Argument 'interpolation' of type int is deprecated. Please, use InterpolationMode "
            "enum."
        )
        return _PIL_CODE_TO_MODE[mode]
    if isinstance(mode, str):
        return InterpolationMode(mode)
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding int")


# ------------------------------------------------------------------------------------------------
# image kinds
# ------------------------------------------------------------------------------------------------
def _is_pil_image(img: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(img, image_module.Image)


def _is_tensor(img: Any) -> bool:
    ctorch = sys.modules.get("ctorch")
    return ctorch is not None and isinstance(img, ctorch.Tensor)


def _tensor_array(t: Any) -> np.ndarray:
    if getattr(t, "requires_grad", False):
        t = t.detach()
    return np.asarray(t.numpy())


def _wrap(arr: np.ndarray) -> Any:
    import ctorch

    return ctorch.from_numpy(np.ascontiguousarray(arr))


class _ArrayImage:
    """A tensor or NumPy image viewed as a NumPy array with channels at axis -3 (or 2-D)."""

    def __init__(self, img: Any) -> None:
        if _is_tensor(img):
            self.kind = "tensor"
            arr = _tensor_array(img)
            if arr.ndim < 2:
                raise TypeError(f"Tensor is not a torch image: expected >= 2 dims, got {arr.ndim}")
            self.arr = arr
        elif isinstance(img, np.ndarray):
            self.kind = "numpy"
            if img.ndim == 2:
                self.arr = img
            elif img.ndim == 3:
                self.arr = np.moveaxis(img, -1, -3)  # HWC -> CHW
            else:
                raise TypeError(f"pic should be 2 or 3 dimensional. Got {img.ndim} dimensions.")
        else:
            raise TypeError(f"Unexpected type {type(img)}: expected a PIL image, ndarray or tensor")

    def out(self, arr: np.ndarray) -> Any:
        if self.kind == "tensor":
            return _wrap(arr)
        if arr.ndim == 3:
            arr = np.moveaxis(arr, -3, -1)
        return np.ascontiguousarray(arr)


def get_dimensions(img: Any) -> list[int]:
    """[channels, height, width] of a PIL image, tensor (..., C, H, W) or HWC array."""
    if _is_pil_image(img):
        return [len(img.getbands()), img.height, img.width]
    if isinstance(img, np.ndarray) and not _is_tensor(img):
        h, w = img.shape[:2]
        return [1 if img.ndim == 2 else img.shape[2], h, w]
    shape = tuple(img.shape)
    channels = 1 if len(shape) == 2 else shape[-3]
    return [channels, shape[-2], shape[-1]]


def get_image_size(img: Any) -> list[int]:
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def _setup_size(size: Any, error_msg: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return int(size[0]), int(size[1])


def _uniform(low: float, high: float) -> float:
    import ctorch

    return low + (high - low) * float(ctorch.rand(1).item())


def _randint(low: int, high: int) -> int:
    import ctorch

    return int(ctorch.randint(low, high, (1,)).item())


def _as_float_list(value: Any) -> Any:
    """mean/std given as numbers, sequences, NumPy arrays or ctorch tensors -> NumPy."""
    if _is_tensor(value):
        return _tensor_array(value)
    if isinstance(value, (list, tuple)):
        return [float(_tensor_array(v)) if _is_tensor(v) else v for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# functional helpers (torchvision.transforms.functional equivalents, kept private-ish)
# ------------------------------------------------------------------------------------------------
def to_tensor(pic: Any) -> Any:
    """PIL image or HWC ndarray -> float32 CHW tensor in [0, 1] (uint8 inputs are divided)."""
    if _is_pil_image(pic):
        mode_to_nptype = {"I": np.int32, "I;16": np.int16, "I;16B": np.int16, "F": np.float32}
        arr = np.array(pic, dtype=mode_to_nptype.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    arr = np.ascontiguousarray(arr.transpose((2, 0, 1)))
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / np.float32(255)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.float32)
    return _wrap(arr)


def pil_to_tensor(pic: Any) -> Any:
    """PIL image -> CHW tensor of the image's own dtype, no scaling."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return _wrap(arr.transpose((2, 0, 1)))


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """CHW tensor or HWC ndarray -> PIL image (floats are scaled by 255 unless mode 'F')."""
    from PIL import Image

    if _is_tensor(pic):
        arr = _tensor_array(pic)
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if arr.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-3]} channels.")
        if arr.dtype.kind in "fV" and mode != "F":
            # torch's mul(255).byte(): truncation, wrapping out-of-range values like a C cast
            arr = (arr * 255).astype(np.int64).astype(np.uint8)
        npimg = np.transpose(arr, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim == 2:
            pic = pic[:, :, None]
        elif pic.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
        npimg = pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")

    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
        expected_mode = {
            np.dtype(np.uint8): "L",
            np.dtype(np.int16): "I;16",
            np.dtype(np.uint16): "I;16",
            np.dtype(np.int32): "I",
            np.dtype(np.float32): "F",
        }.get(npimg.dtype)
        if mode is not None and mode != expected_mode:
            raise ValueError(
                f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be "
                f"{expected_mode}"
            )
        mode = expected_mode
    else:
        permitted = {2: ["LA"], 4: ["RGBA", "CMYK", "RGBX"], 3: ["RGB", "YCbCr", "HSV"]}[
            npimg.shape[2]
        ]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {npimg.shape[2]}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    npimg = np.ascontiguousarray(npimg)
    if mode == "I;16":
        npimg = npimg.astype("<u2")
        return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.tobytes())
    img = Image.fromarray(npimg)
    if img.mode != mode:
        img = Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.tobytes())
    return img


def normalize(tensor: Any, mean: Any, std: Any, inplace: bool = False) -> Any:
    """(tensor - mean) / std per channel, for a float tensor image (..., C, H, W)."""
    if not _is_tensor(tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    arr = _tensor_array(tensor)
    if arr.dtype.kind not in "fV":
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if arr.ndim < 3:
        raise ValueError(
            "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
            f"{tuple(arr.shape)}"
        )
    m = np.asarray(_as_float_list(mean), dtype=arr.dtype)
    s = np.asarray(_as_float_list(std), dtype=arr.dtype)
    if (s == 0).any():
        raise ValueError(
            f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
            "zero."
        )
    if m.ndim == 1:
        m = m.reshape(-1, 1, 1)
    if s.ndim == 1:
        s = s.reshape(-1, 1, 1)
    if inplace:
        np.subtract(arr, m, out=arr)
        np.divide(arr, s, out=arr)
        return tensor
    return _wrap(((arr - m) / s).astype(arr.dtype, copy=False))


# -- resampling ----------------------------------------------------------------------------------
def _bilinear_filter(x: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(x), 0.0, None)


def _bicubic_filter(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    x = np.abs(x)
    out = np.zeros_like(x)
    m1 = x < 1.0
    m2 = (x >= 1.0) & (x < 2.0)
    out[m1] = ((a + 2.0) * x[m1] - (a + 3.0)) * x[m1] * x[m1] + 1.0
    out[m2] = (((x[m2] - 5.0) * x[m2] + 8.0) * x[m2] - 4.0) * a
    return out


def _box_filter(x: np.ndarray) -> np.ndarray:
    return ((x >= -0.5) & (x < 0.5)).astype(np.float64)


_FILTERS: dict[InterpolationMode, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    InterpolationMode.BILINEAR: (_bilinear_filter, 1.0),
    InterpolationMode.BICUBIC: (_bicubic_filter, 2.0),
    InterpolationMode.BOX: (_box_filter, 0.5),
}


def _resample_weights(
    in_size: int, out_size: int, mode: InterpolationMode, antialias: bool
) -> np.ndarray:
    """Dense (out_size, in_size) weights: Pillow's separable resampling (antialiased when
    downscaling), or plain half-pixel interpolation when ``antialias`` is off."""
    filt, support = _FILTERS[mode]
    scale = in_size / out_size
    filterscale = max(scale, 1.0) if antialias else 1.0
    support = support * filterscale
    centers = (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    xmin = np.maximum((centers - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((centers + support + 0.5).astype(np.int64), in_size)
    src = np.arange(in_size, dtype=np.float64)
    w = filt((src[None, :] - centers[:, None] + 0.5) / filterscale)
    window = (src[None, :] >= xmin[:, None]) & (src[None, :] < xmax[:, None])
    w = np.where(window, w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return w / total


def _resize_array(
    arr: np.ndarray, size: tuple[int, int], mode: InterpolationMode, antialias: bool
) -> np.ndarray:
    out_h, out_w = size
    in_h, in_w = arr.shape[-2:]
    if (in_h, in_w) == (out_h, out_w):
        return arr.copy()
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        offset = 0.5 if mode == InterpolationMode.NEAREST_EXACT else 0.0
        rows = np.minimum(
            np.floor((np.arange(out_h) + offset) * (in_h / out_h)).astype(np.int64), in_h - 1
        )
        cols = np.minimum(
            np.floor((np.arange(out_w) + offset) * (in_w / out_w)).astype(np.int64), in_w - 1
        )
        return arr[..., rows, :][..., cols]
    if mode not in _FILTERS:
        raise NotImplementedError(f"{mode.value} interpolation is only supported for PIL images")
    x = arr.astype(np.float64)
    if out_h != in_h:
        wh = _resample_weights(in_h, out_h, mode, antialias)
        x = np.einsum("oh,...hw->...ow", wh, x)
    if out_w != in_w:
        ww = _resample_weights(in_w, out_w, mode, antialias)
        x = np.einsum("ow,...hw->...ho", ww, x)
    if arr.dtype.kind in "ui":
        info = np.iinfo(arr.dtype)
        x = np.clip(np.round(x), info.min, info.max)
    return x.astype(arr.dtype)


def _compute_resized_output_size(
    image_size: tuple[int, int], size: Any, max_size: int | None = None
) -> list[int]:
    h, w = image_size
    if isinstance(size, int) or (isinstance(size, Sequence) and len(size) == 1):
        requested = size if isinstance(size, int) else size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for "
                    f"the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return [new_h, new_w]
    if max_size is not None:
        raise ValueError(
            "max_size should only be passed if size specifies the length of the smaller edge, "
            "i.e. size should be an int or a sequence of length 1 in torchscript mode."
        )
    return [int(size[0]), int(size[1])]


def resize(
    img: Any,
    size: Any,
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Any:
    interpolation = _interpolation(interpolation)
    _, h, w = get_dimensions(img)
    out_h, out_w = _compute_resized_output_size((h, w), size, max_size)
    if _is_pil_image(img):
        return img.resize((out_w, out_h), _MODE_TO_PIL_CODE[interpolation])
    image = _ArrayImage(img)
    return image.out(_resize_array(image.arr, (out_h, out_w), interpolation, bool(antialias)))


# -- geometry ------------------------------------------------------------------------------------
def _parse_pad(padding: Any) -> tuple[int, int, int, int]:
    """-> (left, top, right, bottom)"""
    if isinstance(padding, numbers.Number):
        p = int(padding)  # type: ignore[call-overload]
        return p, p, p, p
    padding = list(padding)
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(
        f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
    )


def _fill_for_pil(fill: Any, img: Any) -> Any:
    if fill is None:
        fill = 0
    bands = len(img.getbands())
    if isinstance(fill, numbers.Number):
        if bands > 1:
            fill = tuple([fill] * bands)
        elif img.mode not in ("F",):
            fill = int(fill)  # type: ignore[call-overload]
    elif isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill[0] if bands == 1 else tuple(fill) * bands
        else:
            fill = tuple(fill)
    if img.mode != "F" and isinstance(fill, tuple):
        fill = tuple(int(f) for f in fill)
    return fill


_NP_PAD_MODES = {
    "constant": "constant",
    "edge": "edge",
    "reflect": "reflect",
    "symmetric": "symmetric",
}


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    if padding_mode not in _NP_PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_pad(padding)
    if _is_pil_image(img):
        from PIL import Image, ImageOps

        if padding_mode == "constant":
            return ImageOps.expand(
                img, border=(left, top, right, bottom), fill=_fill_for_pil(fill, img)
            )
        arr = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
        padded = np.pad(arr, widths, mode=_NP_PAD_MODES[padding_mode])
        out = Image.fromarray(padded)
        if out.mode != img.mode:
            out = Image.frombytes(img.mode, (out.width, out.height), padded.tobytes())
        return out
    image = _ArrayImage(img)
    arr = image.arr
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        if isinstance(fill, (list, tuple)) and arr.ndim >= 3:
            channels = [
                np.pad(arr[..., c : c + 1, :, :], widths, constant_values=fill[c % len(fill)])
                for c in range(arr.shape[-3])
            ]
            return image.out(np.concatenate(channels, axis=-3))
        value = 0 if fill is None else fill
        return image.out(np.pad(arr, widths, mode="constant", constant_values=value))
    return image.out(np.pad(arr, widths, mode=_NP_PAD_MODES[padding_mode]))


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """Crop; regions outside the image are filled with zeros (as torchvision does)."""
    if _is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    image = _ArrayImage(img)
    arr = image.arr
    h, w = arr.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pad_lrtb = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        widths = [(0, 0)] * (arr.ndim - 2) + [
            (pad_lrtb[1], pad_lrtb[3]),
            (pad_lrtb[0], pad_lrtb[2]),
        ]
        arr = np.pad(arr, widths)
        top, left = top + pad_lrtb[1], left + pad_lrtb[0]
    return image.out(arr[..., top : top + height, left : left + width])


def center_crop(img: Any, output_size: Any) -> Any:
    crop_height, crop_width = _setup_size(
        output_size, "Please provide only two dimensions (h, w) for size."
    )
    _, image_height, image_width = get_dimensions(img)
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(
    img: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    size: Any,
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    antialias: bool | None = True,
) -> Any:
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img: Any) -> Any:
    if _is_pil_image(img):
        from PIL import Image

        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = _ArrayImage(img)
    return image.out(image.arr[..., ::-1])


def vflip(img: Any) -> Any:
    if _is_pil_image(img):
        from PIL import Image

        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    image = _ArrayImage(img)
    return image.out(image.arr[..., ::-1, :])


def _rotation_matrix(
    angle: float, w: int, h: int, center: Sequence[float] | None, expand: bool
) -> tuple[list[float], int, int]:
    """Pillow's inverse affine matrix for ``Image.rotate`` (output -> input coordinates)."""
    angle = angle % 360.0
    if center is None:
        cx, cy = w / 2.0, h / 2.0
    else:
        cx, cy = float(center[0]), float(center[1])
    rad = -math.radians(angle)
    matrix = [
        round(math.cos(rad), 15),
        round(math.sin(rad), 15),
        0.0,
        round(-math.sin(rad), 15),
        round(math.cos(rad), 15),
        0.0,
    ]

    def transform(x: float, y: float, m: list[float]) -> tuple[float, float]:
        a, b, c, d, e, f = m
        return a * x + b * y + c, d * x + e * y + f

    matrix[2], matrix[5] = transform(-cx, -cy, matrix)
    matrix[2] += cx
    matrix[5] += cy
    nw, nh = w, h
    if expand:
        xx, yy = [], []
        for x, y in ((0, 0), (w, 0), (w, h), (0, h)):
            tx, ty = transform(x, y, matrix)
            xx.append(tx)
            yy.append(ty)
        nw = math.ceil(max(xx)) - math.floor(min(xx))
        nh = math.ceil(max(yy)) - math.floor(min(yy))
        matrix[2], matrix[5] = transform(-(nw - w) / 2.0, -(nh - h) / 2.0, matrix)
    return matrix, nw, nh


def _cast_back(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        out = np.clip(np.round(out), info.min, info.max)
    return out.astype(dtype)


def _fill_array(fill: Any, lead: tuple, check: bool = False) -> np.ndarray:
    """``fill`` (None: 0) as a float64 array broadcasting over an image of leading shape
    ``lead`` + (H, W): one value for all channels, or one per channel (``check``: exactly one
    per channel, torchvision's error otherwise; else extra values are ignored)."""
    fill_arr = np.zeros(lead + (1, 1), dtype=np.float64)
    if fill is not None:
        fv = np.asarray(fill, dtype=np.float64).reshape(-1)
        if fv.size == 1 or not lead:
            fill_arr[...] = fv[0]
        else:
            if check and fv.size != lead[-1]:
                raise ValueError(
                    "The number of elements in 'fill' does not match the number of channels of "
                    f"the image ({fv.size} != {lead[-1]})"
                )
            fill_arr[...] = fv.reshape((-1, 1, 1))[: lead[-1]]
    return fill_arr


def _affine_points(inv: Sequence[float], h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The input coordinates ``(sx, sy)`` that the affine ``inv`` (``a, b, c, d, e, f``: ``sx =
    a x + b y + c``, ``sy = d x + e y + f``) maps each pixel centre ``(x + 0.5, y + 0.5)`` of
    an ``h`` x ``w`` output to (Pillow's convention), for ``_sample_points``."""
    ys, xs = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    a, b, c, d, e, f = inv
    return a * xs + b * ys + c, d * xs + e * ys + f


def _sample_points(
    arr: np.ndarray, sx: np.ndarray, sy: np.ndarray, mode: Any, fill_arr: np.ndarray
) -> np.ndarray:
    """``arr[..., H, W]`` sampled at the continuous input coordinates ``(sx, sy)`` (pixel ``i``
    spans ``[i, i + 1)``), in ``arr``'s dtype: nearest, or bilinear (the four neighbours
    clamped to the border), as Pillow; ``fill_arr`` (``_fill_array``) where the point is outside
    the image.  The sampler of rotate, affine, perspective and elastic_transform; any other
    ``mode`` (an InterpolationMode) raises torchvision's ValueError for tensor input."""
    if mode not in (
        InterpolationMode.NEAREST,
        InterpolationMode.NEAREST_EXACT,
        InterpolationMode.BILINEAR,
    ):
        raise ValueError(f"Interpolation mode '{mode.value}' is unsupported with Tensor input")
    bilinear = mode == InterpolationMode.BILINEAR
    h, w = arr.shape[-2:]
    src = arr.astype(np.float64)
    if bilinear:
        fx, fy = sx - 0.5, sy - 0.5
        x0, y0 = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
        ax, ay = fx - x0, fy - y0
        out = np.zeros(arr.shape[:-2] + sx.shape, dtype=np.float64)
        for dy, wy in ((0, 1 - ay), (1, ay)):
            for dx, wx in ((0, 1 - ax), (1, ax)):
                out += src[..., np.clip(y0 + dy, 0, h - 1), np.clip(x0 + dx, 0, w - 1)] * (wx * wy)
    else:
        ix, iy = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
        out = src[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)]
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    return _cast_back(np.where(inside, out, fill_arr), arr.dtype)


def _rotate_array(
    arr: np.ndarray,
    angle: float,
    mode: InterpolationMode,
    expand: bool,
    center: Sequence[float] | None,
    fill: Any,
) -> np.ndarray:
    h, w = arr.shape[-2:]
    inv, nw, nh = _rotation_matrix(angle, w, h, center, expand)
    sx, sy = _affine_points(inv, nh, nw)
    return _sample_points(arr, sx, sy, mode, _fill_array(fill, arr.shape[:-2]))


def rotate(
    img: Any,
    angle: float,
    interpolation: InterpolationMode = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[float] | None = None,
    fill: Any = None,
) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees around ``center`` (default: the middle)."""
    interpolation = _interpolation(interpolation)
    if _is_pil_image(img):
        return img.rotate(
            angle,
            resample=_MODE_TO_PIL_CODE[interpolation],
            expand=expand,
            center=center,
            fillcolor=_fill_for_pil(fill, img),
        )
    image = _ArrayImage(img)
    return image.out(_rotate_array(image.arr, angle, interpolation, expand, center, fill))


# -- colour --------------------------------------------------------------------------------------
def _max_value(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1.0


def _blend(img1: np.ndarray, img2: np.ndarray | float, ratio: float) -> np.ndarray:
    bound = _max_value(img1.dtype)
    out = ratio * img1.astype(np.float64) + (1.0 - ratio) * np.asarray(img2, dtype=np.float64)
    out = np.clip(out, 0, bound)
    return out.astype(img1.dtype)


def _gray(arr: np.ndarray) -> np.ndarray:
    r, g, b = arr[..., 0, :, :], arr[..., 1, :, :], arr[..., 2, :, :]
    l_img = 0.2989 * r.astype(np.float64) + 0.587 * g + 0.114 * b
    return l_img.astype(arr.dtype)[..., None, :, :]


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil_image(img):
        from PIL import Image

        gray = img.convert("L")
        if num_output_channels == 3:
            arr = np.asarray(gray, dtype=np.uint8)
            gray = Image.fromarray(np.ascontiguousarray(np.dstack([arr, arr, arr])))
        return gray
    image = _ArrayImage(img)
    arr = image.arr
    if arr.ndim == 2 or arr.shape[-3] == 1:
        base = arr if arr.ndim > 2 else arr[None]
        gray = base.copy()
    elif arr.shape[-3] == 3:
        gray = _gray(arr)
    else:
        raise TypeError(
            f"Input image tensor permitted channel values are [1, 3], but found {arr.shape[-3]}"
        )
    if num_output_channels == 3:
        gray = np.concatenate([gray, gray, gray], axis=-3)
    return image.out(gray)


def _pil_enhance(img: Any, factor: float, name: str, enhancer: str) -> Any:
    """The start the ``adjust_*`` functions with a factor share: torchvision's check that
    ``factor`` (named ``name``) is non-negative, then a PIL image adjusted by Pillow's
    ``ImageEnhance.<enhancer>``; None for a tensor or array, which the caller adjusts."""
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")
    if not _is_pil_image(img):
        return None
    from PIL import ImageEnhance

    return getattr(ImageEnhance, enhancer)(img).enhance(factor)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    pil = _pil_enhance(img, brightness_factor, "brightness_factor", "Brightness")
    if pil is not None:
        return pil
    image = _ArrayImage(img)
    return image.out(_blend(image.arr, 0.0, brightness_factor))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    pil = _pil_enhance(img, contrast_factor, "contrast_factor", "Contrast")
    if pil is not None:
        return pil
    image = _ArrayImage(img)
    arr = image.arr
    if arr.ndim >= 3 and arr.shape[-3] == 3:
        gray = _gray(arr).astype(np.float64)
    else:
        gray = arr.astype(np.float64)
    mean = gray.mean(axis=(-3, -2, -1) if gray.ndim >= 3 else (-2, -1), keepdims=True)
    return image.out(_blend(arr, mean, contrast_factor))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    pil = _pil_enhance(img, saturation_factor, "saturation_factor", "Color")
    if pil is not None:
        return pil
    image = _ArrayImage(img)
    arr = image.arr
    if arr.ndim < 3 or arr.shape[-3] == 1:
        return image.out(arr.copy())
    return image.out(_blend(arr, _gray(arr), saturation_factor))


def _rgb2hsv(img: np.ndarray) -> np.ndarray:
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc = np.max(img, axis=-3)
    minc = np.min(img, axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = hr + hg + hb
    h = np.fmod((h / 6.0 + 1.0), 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img: np.ndarray) -> np.ndarray:
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack((r, g, b), axis=-3)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil_image(img):
        from PIL import Image

        input_mode = img.mode
        if input_mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h = ((np_h.astype(np.int64) + int(hue_factor * 255)) % 256).astype(np.uint8)
        h = Image.fromarray(np_h)
        return Image.merge("HSV", (h, s, v)).convert(input_mode)
    image = _ArrayImage(img)
    arr = image.arr
    if arr.ndim < 3 or arr.shape[-3] == 1:
        return image.out(arr.copy())
    orig_dtype = arr.dtype
    x = arr.astype(np.float64)
    if orig_dtype == np.uint8:
        x = x / 255.0
    hsv = _rgb2hsv(x)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + hue_factor, 1.0)
    hsv[..., 0, :, :] = np.where(hsv[..., 0, :, :] < 0, hsv[..., 0, :, :] + 1.0, hsv[..., 0, :, :])
    out = _hsv2rgb(hsv)
    if orig_dtype == np.uint8:
        out = out * 255.0
    return image.out(out.astype(orig_dtype))


# ------------------------------------------------------------------------------------------------
# transform classes
# ------------------------------------------------------------------------------------------------
class _Transform:
    """Base: ``__call__`` runs ``forward``, like torchvision's nn.Module-based transforms."""

    def forward(self, img: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


def _container_repr(container: Any, *head: str) -> str:
    """torchvision's repr of a container of transforms: its class name, then ``head`` and
    each of its ``transforms``, one a line, indented."""
    body = "".join(f"\n    {line}" for line in (*head, *container.transforms))
    return f"{type(container).__name__}({body}\n)"


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _container_repr(self)


class ToTensor:
    """PIL image / HWC ndarray (uint8 in [0, 255]) -> float32 CHW tensor in [0, 1]."""

    def __call__(self, pic: Any) -> Any:
        return to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> CHW tensor with the image's dtype, without scaling."""

    def __call__(self, pic: Any) -> Any:
        return pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """CHW tensor or HWC ndarray -> PIL image."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + "("
        if self.mode is not None:
            format_string += f"mode={self.mode}"
        format_string += ")"
        return format_string


class ConvertImageDtype(_Transform):
    """Convert a tensor image's dtype, rescaling values (uint8 [0, 255] <-> float [0, 1])."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, image: Any) -> Any:
        import ctorch

        arr = _tensor_array(image)
        target = np.dtype(ctorch.empty(0, dtype=self.dtype).numpy().dtype)
        if arr.dtype == target:
            return image
        if arr.dtype.kind in "fV":
            if target.kind in "fV":
                return _wrap(arr.astype(target))
            eps = 1e-3
            max_val = float(np.iinfo(target).max)
            return _wrap((arr * (max_val + 1.0 - eps)).astype(target))
        in_max = float(np.iinfo(arr.dtype).max)
        if target.kind in "fV":
            return _wrap(arr.astype(target) / target.type(in_max))
        out_max = float(np.iinfo(target).max)
        if in_max > out_max:
            factor = int((in_max + 1) // (out_max + 1))
            return _wrap((arr // factor).astype(target))
        factor = int((out_max + 1) // (in_max + 1))
        return _wrap(arr.astype(target) * factor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dtype={self.dtype})"


class Normalize(_Transform):
    """Per-channel ``(x - mean) / std`` for float tensor images; ``inplace`` edits the input."""

    def __init__(self, mean: Any, std: Any, inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor: Any) -> Any:
        return normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Resize(_Transform):
    """Resize to ``size`` (h, w), or match the smaller edge to an int ``size`` (keeping aspect)."""

    def __init__(
        self,
        size: int | Sequence[int],
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        max_size: int | None = None,
        antialias: bool | None = True,
    ) -> None:
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def forward(self, img: Any) -> Any:
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        detail = (
            f"(size={self.size}, interpolation={self.interpolation.value}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )
        return f"{self.__class__.__name__}{detail}"


class CenterCrop(_Transform):
    """Crop the centre (zero-padding first if the image is smaller than ``size``)."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size."
        )

    def forward(self, img: Any) -> Any:
        return center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class RandomCrop(_Transform):
    """Crop at a random position, after optional ``padding`` / ``pad_if_needed``."""

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        _, h, w = get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        if w == tw and h == th:
            return 0, 0, h, w
        i = _randint(0, h - th + 1)
        j = _randint(0, w - tw + 1)
        return i, j, th, tw

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: Any = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size."
        )
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


def _resized_crop_box(
    height: int, width: int, scale: Sequence[float], ratio: Sequence[float]
) -> tuple[int, int, int, int]:
    """torchvision's random-resized-crop box (i, j, h, w) of a height x width image: up to 10
    draws of an area fraction in ``scale`` and a log-uniform aspect ratio in ``ratio``, else
    the central crop clamped to ``ratio`` (shared by v1 ``get_params`` and v2)."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * _uniform(scale[0], scale[1])
        aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = _randint(0, height - h + 1)
            j = _randint(0, width - w + 1)
            return i, j, h, w
    # Fallback to central crop
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w = width
        h = height
    i = (height - h) // 2
    j = (width - w) // 2
    return i, j, h, w


class RandomResizedCrop(_Transform):
    """Crop a random area (``scale``) with a random aspect ratio (``ratio``), resize to ``size``."""

    def __init__(
        self,
        size: int | Sequence[int],
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size."
        )
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            _warnings.warn("Scale and ratio should be of kind (min, max)")
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(
        img: Any, scale: Sequence[float], ratio: Sequence[float]
    ) -> tuple[int, int, int, int]:
        _, height, width = get_dimensions(img)
        return _resized_crop_box(height, width, scale, ratio)

    def forward(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return resized_crop(img, i, j, h, w, self.size, self.interpolation, self.antialias)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + f"(size={self.size}"
        format_string += f", scale={tuple(round(s, 4) for s in self.scale)}"
        format_string += f", ratio={tuple(round(r, 4) for r in self.ratio)}"
        format_string += f", interpolation={self.interpolation.value}"
        format_string += f", antialias={self.antialias})"
        return format_string


class _RandomOp(_Transform):
    """``_op(img)`` with probability ``p`` (one uniform draw per call), else ``img``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def _op(self, img: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def forward(self, img: Any) -> Any:
        import ctorch

        if float(ctorch.rand(1).item()) < self.p:
            return self._op(img)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomOp):
    """Flip left-right with probability ``p``."""

    def _op(self, img: Any) -> Any:
        return hflip(img)


class RandomVerticalFlip(_RandomOp):
    """Flip top-bottom with probability ``p``."""

    def _op(self, img: Any) -> Any:
        return vflip(img)


def _setup_angle(x: Any, name: str) -> list[float]:
    if isinstance(x, numbers.Number):
        if x < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]  # type: ignore[operator]
    elif not isinstance(x, Sequence) or len(x) != 2:
        raise ValueError(f"If {name} is a sequence its length should be one of (2,).")
    return [float(d) for d in x]


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means [-d, d])."""

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
        expand: bool = False,
        center: Sequence[float] | None = None,
        fill: Any = 0,
    ) -> None:
        self.degrees = _setup_angle(degrees, name="degrees")
        self.interpolation = _interpolation(interpolation)
        self.expand = expand
        self.center = center
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees: list[float]) -> float:
        return _uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + f"(degrees={self.degrees}"
        format_string += f", interpolation={self.interpolation.value}"
        format_string += f", expand={self.expand}"
        if self.center is not None:
            format_string += f", center={self.center}"
        if self.fill is not None:
            format_string += f", fill={self.fill}"
        format_string += ")"
        return format_string


class ColorJitter(_Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order."""

    def __init__(
        self,
        brightness: float | Sequence[float] = 0,
        contrast: float | Sequence[float] = 0,
        saturation: float | Sequence[float] = 0,
        hue: float | Sequence[float] = 0,
    ) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(
            hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False
        )

    @staticmethod
    def _check_input(
        value: Any,
        name: str,
        center: float = 1,
        bound: tuple[float, float] = (0, float("inf")),
        clip_first_on_zero: bool = True,
    ) -> Any:
        if isinstance(value, numbers.Number):
            if value < 0:  # type: ignore[operator]
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]  # type: ignore[arg-type]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(
        brightness: Any, contrast: Any, saturation: Any, hue: Any
    ) -> tuple[list[int], float | None, float | None, float | None, float | None]:
        import ctorch

        fn_idx = ctorch.randperm(4).tolist()
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def forward(self, img: Any) -> Any:
        fn_idx, b, c, s, h = self.get_params(
            self.brightness, self.contrast, self.saturation, self.hue
        )
        for fn_id in fn_idx:
            if fn_id == 0 and b is not None:
                img = adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = adjust_hue(img, h)
        return img

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class Grayscale(_Transform):
    """Convert to grayscale with 1 or 3 output channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def forward(self, img: Any) -> Any:
        return rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(_Transform):
    """Convert to grayscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def forward(self, img: Any) -> Any:
        import ctorch

        num_output_channels = get_dimensions(img)[0]
        if float(ctorch.rand(1).item()) < self.p:
            return rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class Pad(_Transform):
    """Pad the borders: ``padding`` int, (lr, tb) or (l, t, r, b)."""

    def __init__(
        self, padding: int | Sequence[int], fill: Any = 0, padding_mode: str = "constant"
    ) -> None:
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(
                "Padding must be an int or a 1, 2, or 4 element tuple, not a "
                f"{len(padding)} element tuple"
            )
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img: Any) -> Any:
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, "
            f"padding_mode={self.padding_mode})"
        )


class Lambda:
    """Apply a user function."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class RandomApply(_Transform):
    """Apply the list of transforms with probability ``p``."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms = transforms
        self.p = p

    def forward(self, img: Any) -> Any:
        import ctorch

        if self.p < float(ctorch.rand(1).item()):
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _container_repr(self, f"p={self.p}")


class RandomChoice(_Transform):
    """Apply one transform picked at random (optionally weighted by ``p``)."""

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        if p is not None and len(p) != len(transforms):
            raise ValueError(
                f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}"
            )
        self.transforms = transforms
        total = sum(p) if p is not None else len(transforms)
        self.p = [w / total for w in p] if p is not None else [1.0 / total] * len(transforms)

    def forward(self, *inputs: Any) -> Any:
        import ctorch

        idx = int(ctorch.multinomial(ctorch.tensor(self.p), 1).item())
        t = self.transforms[idx]
        return t(*inputs)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}(transforms={self.transforms}, p={self.p})"


class RandomOrder(_Transform):
    """Apply the transforms in a random order."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def forward(self, img: Any) -> Any:
        import ctorch

        for i in ctorch.randperm(len(self.transforms)).tolist():
            img = self.transforms[i](img)
        return img

    def __repr__(self) -> str:
        return _container_repr(self)


# ``torchvision.transforms.functional``: the functions above (to_tensor, normalize, resize, crop,
# center_crop, hflip, rotate, pad, adjust_*, ...) under that name, so that
# ``import ctorch.vision.transforms.functional as F`` works without a separate module.
functional = sys.modules[__name__]
sys.modules[__name__ + ".functional"] = functional

# The rest of torchvision's v1 transforms (GaussianBlur, RandomAffine, RandomErasing, ...) live in
# ``_extra``; imported last because they build on the helpers above.
from ._extra import *  # noqa: E402, F403
from ._extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
from ._autoaugment import *  # noqa: E402, F403
from ._autoaugment import __all__ as _autoaugment_all  # noqa: E402

__all__ += _autoaugment_all
from ._geometry_extra import *  # noqa: E402, F403
from ._geometry_extra import __all__ as _geometry_extra_all  # noqa: E402

__all__ += _geometry_extra_all
