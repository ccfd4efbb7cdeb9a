"""The rest of torchvision's v1 transforms: GaussianBlur, RandomAffine, RandomErasing,
RandomInvert, RandomPosterize, RandomSolarize, RandomAdjustSharpness, RandomAutocontrast,
RandomEqualize and their functional forms. Tensors and arrays go through NumPy (torchvision's
tensor algorithms); PIL images through Pillow's ImageOps/ImageEnhance where torchvision does so,
else through the array path and back."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import _warnings
from . import (
    _MODE_TO_PIL_CODE,
    InterpolationMode,
    _affine_points,
    _ArrayImage,
    _cast_back,
    _fill_array,
    _fill_for_pil,
    _interpolation,
    _is_pil_image,
    _is_tensor,
    _pil_enhance,
    _randint,
    _RandomOp,
    _sample_points,
    _setup_angle,
    _tensor_array,
    _Transform,
    _uniform,
    _wrap,
    get_dimensions,
)

__all__ = [
    "GaussianBlur",
    "RandomAffine",
    "RandomErasing",
    "RandomInvert",
    "RandomPosterize",
    "RandomSolarize",
    "RandomAdjustSharpness",
    "RandomAutocontrast",
    "RandomEqualize",
    "gaussian_blur",
    "affine",
    "erase",
    "invert",
    "posterize",
    "solarize",
    "adjust_sharpness",
    "autocontrast",
    "equalize",
]


def _pil_roundtrip(img: Any, fn: Any) -> Any:
    """Run an array function on a PIL image (as torchvision does through tensors)."""
    from PIL import Image

    arr = np.asarray(img)
    chw = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    out = fn(chw)
    out = out[0] if arr.ndim == 2 else np.moveaxis(out, 0, -1)
    return Image.fromarray(np.ascontiguousarray(out.astype(arr.dtype)), mode=img.mode)


def _apply(img: Any, fn: Any) -> Any:
    if _is_pil_image(img):
        return _pil_roundtrip(img, fn)
    image = _ArrayImage(img)
    return image.out(fn(image.arr))


def _bound(dtype: np.dtype) -> float:
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


# -- blur ----------------------------------------------------------------------------------------
def _gaussian_kernel1d(ksize: int, sigma: float) -> np.ndarray:
    half = (ksize - 1) * 0.5
    x = np.linspace(-half, half, ksize)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def _blur_array(arr: np.ndarray, kernel_size: list[int], sigma: list[float]) -> np.ndarray:
    kx, ky = kernel_size
    wx, wy = _gaussian_kernel1d(kx, sigma[0]), _gaussian_kernel1d(ky, sigma[1])
    src = arr.astype(np.float64)
    pad = [(0, 0)] * (src.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    p = np.pad(src, pad, mode="reflect")
    h, w = arr.shape[-2:]
    tmp = sum(wy[i] * p[..., i : i + h, :] for i in range(ky))
    out = sum(wx[j] * tmp[..., :, j : j + w] for j in range(kx))
    return _cast_back(out, arr.dtype)


def gaussian_blur(img: Any, kernel_size: int | list[int], sigma: Any = None) -> Any:
    """Gaussian blur with a separable ``kernel_size`` kernel (odd sizes), reflect padding."""
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    kernel_size = list(kernel_size)
    if len(kernel_size) == 1:
        kernel_size = [kernel_size[0], kernel_size[0]]
    if len(kernel_size) != 2:
        raise ValueError(
            f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}"
        )
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(
                f"kernel_size should have odd and positive integers. Got {kernel_size}"
            )
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    sigma = [float(s) for s in sigma]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    return _apply(img, lambda a: _blur_array(a, kernel_size, sigma))


class GaussianBlur(_Transform):
    """Blur with a Gaussian whose sigma is drawn uniformly from ``sigma`` (a range)."""

    def __init__(self, kernel_size: int | Sequence[int], sigma: Any = (0.1, 2.0)) -> None:
        if isinstance(kernel_size, numbers.Number):
            kernel_size = (int(kernel_size), int(kernel_size))  # type: ignore[call-overload]
        self.kernel_size = tuple(kernel_size)  # type: ignore[arg-type]
        if len(self.kernel_size) != 2:
            raise ValueError("Kernel size should be a tuple/list of two integers")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:  # type: ignore[operator]
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))  # type: ignore[arg-type]
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return _uniform(sigma_min, sigma_max)

    def forward(self, img: Any) -> Any:
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


# -- affine --------------------------------------------------------------------------------------
def _get_inverse_affine_matrix(
    center: list[float], angle: float, translate: list[float], scale: float, shear: list[float]
) -> list[float]:
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    matrix = [x / scale for x in matrix]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def _warp_array(
    arr: np.ndarray, inv: list[float], mode: InterpolationMode, fill: Any
) -> np.ndarray:
    """Sample ``arr`` at ``inv @ (x + 0.5, y + 0.5)`` for each output pixel (Pillow's
    convention), nearest or bilinear, ``fill`` outside."""
    sx, sy = _affine_points(inv, *arr.shape[-2:])
    return _sample_points(arr, sx, sy, mode, _fill_array(fill, arr.shape[:-2]))


def affine(
    img: Any,
    angle: float,
    translate: list[int],
    scale: float,
    shear: float | list[float],
    interpolation: InterpolationMode = InterpolationMode.NEAREST,
    fill: Any = None,
    center: list[int] | None = None,
) -> Any:
    """Rotate by ``angle`` degrees, translate, scale and shear, keeping the image size."""
    interpolation = _interpolation(interpolation)
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]  # type: ignore[arg-type]
    shear = list(shear)  # type: ignore[arg-type]
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if len(translate) != 2:
        raise ValueError(f"Argument translate should be a sequence of length 2, got {translate}")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    _, h, w = get_dimensions(img)
    c = [w * 0.5, h * 0.5] if center is None else [float(v) for v in center]
    inv = _get_inverse_affine_matrix(c, -angle, [float(t) for t in translate], scale, shear)
    return _transform(img, "AFFINE", inv, interpolation, fill, _warp_array)


def _transform(img: Any, pil_method: str, coeffs, interpolation, fill, warp_array) -> Any:
    """``img`` mapped through the coefficients ``coeffs`` of an affine or perspective
    transform: PIL's ``Image.transform`` (``pil_method`` "AFFINE" or "PERSPECTIVE") for a PIL
    image, else ``warp_array(array, coeffs, interpolation, fill)`` on the tensor's array."""
    if _is_pil_image(img):
        from PIL import Image

        return img.transform(
            img.size,
            getattr(Image, pil_method),
            coeffs,
            _MODE_TO_PIL_CODE[interpolation],
            fillcolor=_fill_for_pil(fill, img),
        )
    return _apply(img, lambda a: warp_array(a, coeffs, interpolation, fill))


class RandomAffine(_Transform):
    """Random affine transformation keeping the centre (torchvision's parameters)."""

    def __init__(
        self,
        degrees: Any,
        translate: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        shear: Any = None,
        interpolation: InterpolationMode = InterpolationMode.NEAREST,
        fill: Any = 0,
        center: Sequence[int] | None = None,
    ) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        if translate is not None:
            for t in translate:
                if not (0.0 <= t <= 1.0):
                    raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            for s in scale:
                if s <= 0:
                    raise ValueError("scale values should be positive")
        self.scale = scale
        if shear is not None:
            if isinstance(shear, numbers.Number):
                if shear < 0:  # type: ignore[operator]
                    raise ValueError("If shear is a single number, it must be positive.")
                shear = [-float(shear), float(shear)]  # type: ignore[arg-type]
            elif len(shear) == 2:
                shear = [float(shear[0]), float(shear[1])]
            elif len(shear) == 4:
                shear = [float(s) for s in shear]
            else:
                raise ValueError("shear should be a number or a sequence of 2 or 4 numbers")
        self.shear = shear
        self.interpolation = _interpolation(interpolation)
        self.fill = fill
        self.center = center

    @staticmethod
    def get_params(
        degrees: list[float],
        translate: Sequence[float] | None,
        scale_ranges: Sequence[float] | None,
        shears: list[float] | None,
        img_size: list[int],
    ) -> tuple[float, tuple[int, int], float, tuple[float, float]]:
        angle = _uniform(float(degrees[0]), float(degrees[1]))
        if translate is not None:
            max_dx = float(translate[0] * img_size[0])
            max_dy = float(translate[1] * img_size[1])
            tx = int(round(_uniform(-max_dx, max_dx)))
            ty = int(round(_uniform(-max_dy, max_dy)))
            translations = (tx, ty)
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img: Any) -> Any:
        _, h, w = get_dimensions(img)
        ret = self.get_params(self.degrees, self.translate, self.scale, self.shear, [w, h])
        return affine(
            img, *ret, interpolation=self.interpolation, fill=self.fill, center=self.center
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(degrees={self.degrees}, translate={self.translate}, "
            f"scale={self.scale}, shear={self.shear}, interpolation={self.interpolation.value})"
        )


# -- erasing -------------------------------------------------------------------------------------
def erase(img: Any, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Any:
    """Set ``img[..., i:i+h, j:j+w]`` to ``v`` (a tensor image)."""
    if not _is_tensor(img):
        raise TypeError(f"img should be a Tensor image. Got {type(img)}")
    if not inplace:
        img = img.clone()
    img[..., i : i + h, j : j + w] = v
    return img


class RandomErasing(_Transform):
    """Erase a random rectangle of a tensor image (Zhong et al. 2017)."""

    def __init__(
        self,
        p: float = 0.5,
        scale: Sequence[float] = (0.02, 0.33),
        ratio: Sequence[float] = (0.3, 3.3),
        value: Any = 0,
        inplace: bool = False,
    ) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings_msg = "Scale and ratio should be of kind (min, max)"

            _warnings.warn(warnings_msg)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(
        img: Any, scale: Sequence[float], ratio: Sequence[float], value: list[float] | None = None
    ) -> tuple[int, int, int, int, Any]:
        import ctorch

        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = ctorch.randn(img_c, h, w).to(img.dtype)
            else:
                v = ctorch.tensor(value)[:, None, None].to(img.dtype)
            i = _randint(0, img_h - h + 1)
            j = _randint(0, img_w - w + 1)
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img

    def forward(self, img: Any) -> Any:
        import ctorch

        if float(ctorch.rand(1).item()) < self.p:
            value: Any
            if isinstance(self.value, (int, float)):
                value = [float(self.value)]
            elif isinstance(self.value, str):
                value = None
            else:
                value = [float(v) for v in self.value]
            if value is not None and len(value) not in (1, img.shape[-3]):
                raise ValueError(
                    "If value is a sequence, it should have either a single value or "
                    f"{img.shape[-3]} (number of input channels)"
                )
            x, y, h, w, v = self.get_params(img, self.scale, self.ratio, value)
            return erase(img, x, y, h, w, v, self.inplace)
        return img

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
            f"value={self.value}, inplace={self.inplace})"
        )


# -- colour ops ----------------------------------------------------------------------------------
def invert(img: Any) -> Any:
    if _is_pil_image(img):
        from PIL import ImageOps

        return ImageOps.invert(img)
    return _apply(img, lambda a: (_bound(a.dtype) - a).astype(a.dtype))


def posterize(img: Any, bits: int) -> Any:
    if not (0 <= bits <= 8):
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if _is_pil_image(img):
        from PIL import ImageOps

        return ImageOps.posterize(img, bits)

    def f(a: np.ndarray) -> np.ndarray:
        if a.dtype != np.uint8:
            raise TypeError(f"Only torch.uint8 image tensors are supported, but found {a.dtype}")
        mask = -int(2 ** (8 - bits))
        return a & np.uint8(mask & 0xFF)

    return _apply(img, f)


def solarize(img: Any, threshold: float) -> Any:
    if _is_pil_image(img):
        from PIL import ImageOps

        return ImageOps.solarize(img, threshold)

    def f(a: np.ndarray) -> np.ndarray:
        if threshold > _bound(a.dtype):
            raise TypeError("Threshold should be less than bound of img.")
        return np.where(a >= threshold, (_bound(a.dtype) - a).astype(a.dtype), a)

    return _apply(img, f)


def _blend(a: np.ndarray, b: np.ndarray, ratio: float) -> np.ndarray:
    out = ratio * a.astype(np.float64) + (1.0 - ratio) * b.astype(np.float64)
    out = np.clip(out, 0, _bound(a.dtype))
    return _cast_back(out, a.dtype)


def adjust_sharpness(img: Any, sharpness_factor: float) -> Any:
    pil = _pil_enhance(img, sharpness_factor, "sharpness_factor", "Sharpness")
    if pil is not None:
        return pil

    def f(a: np.ndarray) -> np.ndarray:
        h, w = a.shape[-2:]
        if h <= 2 or w <= 2:
            return a
        k = np.ones((3, 3)) / 13.0
        k[1, 1] = 5.0 / 13.0
        src = a.astype(np.float64)
        blurred = sum(
            k[i, j] * src[..., i : i + h - 2, j : j + w - 2] for i in range(3) for j in range(3)
        )
        if a.dtype.kind in "ui":
            blurred = np.round(blurred)
        degenerate = src.copy()
        degenerate[..., 1:-1, 1:-1] = blurred
        return _blend(a, degenerate, sharpness_factor)

    return _apply(img, f)


def autocontrast(img: Any) -> Any:
    if _is_pil_image(img):
        from PIL import ImageOps

        return ImageOps.autocontrast(img)

    def f(a: np.ndarray) -> np.ndarray:
        bound = _bound(a.dtype)
        src = a.astype(np.float64)
        lo = src.min(axis=(-2, -1), keepdims=True)
        hi = src.max(axis=(-2, -1), keepdims=True)
        with np.errstate(divide="ignore"):
            scale = bound / (hi - lo)
        eq = ~np.isfinite(scale)
        lo = np.where(eq, 0.0, lo)
        scale = np.where(eq, 1.0, scale)
        out = np.clip((src - lo) * scale, 0, bound)
        return out.astype(a.dtype) if a.dtype.kind == "f" else np.floor(out).astype(a.dtype)

    return _apply(img, f)


def _equalize_channel(ch: np.ndarray) -> np.ndarray:
    hist = np.bincount(ch.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return ch
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
    return lut[ch].astype(np.uint8)


def equalize(img: Any) -> Any:
    if _is_pil_image(img):
        from PIL import ImageOps

        return ImageOps.equalize(img)

    def f(a: np.ndarray) -> np.ndarray:
        if a.dtype != np.uint8:
            raise TypeError(f"Only torch.uint8 image tensors are supported, but found {a.dtype}")
        flat = a.reshape((-1,) + a.shape[-2:])
        return np.stack([_equalize_channel(c) for c in flat]).reshape(a.shape)

    return _apply(img, f)


class RandomInvert(_RandomOp):
    def _op(self, img: Any) -> Any:
        return invert(img)


class RandomAutocontrast(_RandomOp):
    def _op(self, img: Any) -> Any:
        return autocontrast(img)


class RandomEqualize(_RandomOp):
    def _op(self, img: Any) -> Any:
        return equalize(img)


class RandomPosterize(_RandomOp):
    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p)
        self.bits = bits

    def _op(self, img: Any) -> Any:
        return posterize(img, self.bits)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(bits={self.bits},p={self.p})"


class RandomSolarize(_RandomOp):
    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.threshold = threshold

    def _op(self, img: Any) -> Any:
        return solarize(img, self.threshold)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(threshold={self.threshold},p={self.p})"


class RandomAdjustSharpness(_RandomOp):
    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _op(self, img: Any) -> Any:
        return adjust_sharpness(img, self.sharpness_factor)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(sharpness_factor={self.sharpness_factor},p={self.p})"


_ = (_tensor_array, _wrap)  # re-exported helpers used by v2


# -- multi-crop ----------------------------------------------------------------------------------
def five_crop(img: Any, size: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The four corner crops and the centre crop (top-left, top-right, bottom-left,
    bottom-right, centre)."""
    from . import _setup_size, center_crop, crop

    if isinstance(size, numbers.Number):
        size = (int(size), int(size))  # type: ignore[call-overload]
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    ch, cw = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
    _, h, w = get_dimensions(img)
    if cw > w or ch > h:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(h, w)}")
    tl = crop(img, 0, 0, ch, cw)
    tr = crop(img, 0, w - cw, ch, cw)
    bl = crop(img, h - ch, 0, ch, cw)
    br = crop(img, h - ch, w - cw, ch, cw)
    return tl, tr, bl, br, center_crop(img, [ch, cw])


def ten_crop(img: Any, size: Any, vertical_flip: bool = False) -> tuple[Any, ...]:
    """``five_crop`` of the image and of its flipped version (horizontal unless
    ``vertical_flip``)."""
    from . import hflip, vflip

    first = five_crop(img, size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first + five_crop(flipped, size)


class FiveCrop(_Transform):
    def __init__(self, size: Any) -> None:
        from . import _setup_size

        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def forward(self, img: Any) -> Any:
        return five_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class TenCrop(_Transform):
    def __init__(self, size: Any, vertical_flip: bool = False) -> None:
        from . import _setup_size

        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.vertical_flip = vertical_flip

    def forward(self, img: Any) -> Any:
        return ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, vertical_flip={self.vertical_flip})"


__all__ += ["FiveCrop", "TenCrop", "five_crop", "ten_crop"]
