"""torchvision's remaining v1 geometry and mixing transforms: RandomPerspective (``perspective``,
``_get_perspective_coeffs``), ElasticTransform (``elastic_transform``), AugMix and
LinearTransformation.

Tensors and arrays are warped in NumPy with the sampling convention of ctorch's ``affine``/``rotate``
(output pixel centres ``(x + 0.5, y + 0.5)`` mapped back to input coordinates, ``fill`` where the
centre lands outside); PIL images go through ``Image.transform`` as torchvision does."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import (
    InterpolationMode,
    _check_fill,
    _fill_array,
    _interpolation,
    _is_pil_image,
    _is_tensor,
    _randint,
    _sample_points,
    _tensor_array,
    _Transform,
    get_dimensions,
)
from ._extra import _apply, _blur_array, _transform

__all__ = [
    "RandomPerspective",
    "ElasticTransform",
    "AugMix",
    "LinearTransformation",
    "perspective",
    "elastic_transform",
]


# -- sampling ------------------------------------------------------------------------------------
def _sample(
    arr: np.ndarray, sx: np.ndarray, sy: np.ndarray, mode: InterpolationMode, fill: Any
) -> np.ndarray:
    """``arr[..., H, W]`` sampled at the continuous input coordinates ``(sx, sy)`` (pixel ``i``
    spans ``[i, i + 1)``): nearest or bilinear (border neighbours clamped), ``fill`` (0 when
    None) where the point is outside the image."""
    return _sample_points(arr, sx, sy, mode, _fill_array(fill, arr.shape[:-2], check=True))


# -- perspective ---------------------------------------------------------------------------------
def _get_perspective_coeffs(
    startpoints: Sequence[Sequence[float]], endpoints: Sequence[Sequence[float]]
) -> list[float]:
    """The 8 coefficients ``(a, b, c, d, e, f, g, h)`` of the homography that maps each end
    point ``(x, y)`` back to its start point: ``x_in = (a x + b y + c) / (g x + h y + 1)``,
    ``y_in = (d x + e y + f) / (g x + h y + 1)`` (least squares, as torchvision)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints "
            f"and {len(endpoints)} endpoints."
        )
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints, strict=True)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    res = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(v) for v in res.astype(np.float32)]


def _perspective_array(
    arr: np.ndarray, coeffs: Sequence[float], mode: InterpolationMode, fill: Any
) -> np.ndarray:
    h, w = arr.shape[-2:]
    ys, xs = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    a, b, c, d, e, f, g, hh = coeffs
    den = g * xs + hh * ys + 1.0
    return _sample(arr, (a * xs + b * ys + c) / den, (d * xs + e * ys + f) / den, mode, fill)


def perspective(
    img: Any,
    startpoints: list[list[int]],
    endpoints: list[list[int]],
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    fill: Any = None,
) -> Any:
    """Perspective transform moving ``startpoints`` (the four corners TL, TR, BR, BL of the
    input) to ``endpoints``."""
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _interpolation(interpolation)
    return _transform(img, "PERSPECTIVE", coeffs, interpolation, fill, _perspective_array)


def _check_p(p: float) -> float:
    if not (0.0 <= float(p) <= 1.0):
        raise ValueError(f"probability should be in [0, 1], got {p}")
    return float(p)


class RandomPerspective(_Transform):
    """Perspective transform with probability ``p``; each corner moves inwards by up to
    ``distortion_scale`` of half the image size."""

    def __init__(
        self,
        distortion_scale: float = 0.5,
        p: float = 0.5,
        interpolation: InterpolationMode = InterpolationMode.BILINEAR,
        fill: Any = 0,
    ) -> None:
        if not (0.0 <= distortion_scale <= 1.0):
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        self.p = _check_p(p)
        self.distortion_scale = distortion_scale
        self.interpolation = _interpolation(interpolation)
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(
        width: int, height: int, distortion_scale: float
    ) -> tuple[list[list[int]], list[list[int]]]:
        half_h, half_w = height // 2, width // 2
        dw, dh = int(distortion_scale * half_w), int(distortion_scale * half_h)
        topleft = [_randint(0, dw + 1), _randint(0, dh + 1)]
        topright = [_randint(width - dw - 1, width), _randint(0, dh + 1)]
        botright = [_randint(width - dw - 1, width), _randint(height - dh - 1, height)]
        botleft = [_randint(0, dw + 1), _randint(height - dh - 1, height)]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, [topleft, topright, botright, botleft]

    def forward(self, img: Any) -> Any:
        import ctorch

        channels, height, width = get_dimensions(img)
        fill = self.fill
        if _is_tensor(img) and isinstance(fill, (int, float)):
            fill = [float(fill)] * channels
        if float(ctorch.rand(1).item()) < self.p:
            start, end = self.get_params(width, height, self.distortion_scale)
            return perspective(img, start, end, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


# -- elastic -------------------------------------------------------------------------------------
def _elastic_array(
    arr: np.ndarray, disp: np.ndarray, mode: InterpolationMode, fill: Any
) -> np.ndarray:
    """``disp`` is ``[1, H, W, 2]`` in grid_sample's normalised units (align_corners=False)."""
    h, w = arr.shape[-2:]
    gx = (2.0 * np.arange(w) + 1.0 - w) / w
    gy = (2.0 * np.arange(h) + 1.0 - h) / h
    grid_y, grid_x = np.meshgrid(gy, gx, indexing="ij")
    nx = grid_x + disp[0, :, :, 0]
    ny = grid_y + disp[0, :, :, 1]
    return _sample(arr, (nx + 1.0) * w / 2.0, (ny + 1.0) * h / 2.0, mode, fill)


def _check_displacement(displacement: Any, h: int, w: int) -> None:
    """torchvision's ValueError unless ``displacement`` is ``[1, h, w, 2]`` (v1 and v2)."""
    if list(displacement.shape) != [1, h, w, 2]:
        raise ValueError(
            f"Argument displacement shape should be {[1, h, w, 2]}, "
            f"but given {list(displacement.shape)}"
        )


def elastic_transform(
    img: Any,
    displacement: Any,
    interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    fill: Any = None,
) -> Any:
    """Move each output pixel's sampling point by ``displacement`` (``[1, H, W, 2]``, x then y,
    in normalised [-1, 1] grid units)."""
    if not _is_tensor(displacement):
        raise TypeError("Argument displacement should be a Tensor")
    _, h, w = get_dimensions(img)
    _check_displacement(displacement, h, w)
    interpolation = _interpolation(interpolation)
    disp = _tensor_array(displacement).astype(np.float64)
    return _apply(img, lambda a: _elastic_array(a, disp, interpolation, fill))


def _pair(value: Any, name: str) -> list[float]:
    if not isinstance(value, (numbers.Number, Sequence)):
        raise TypeError(f"{name} should be float or a sequence of floats. Got {type(value)}")
    if isinstance(value, Sequence):
        if len(value) != 2:
            raise ValueError(f"If {name} is a sequence its length should be 2. Got {len(value)}")
        return [float(v) for v in value]
    return [float(value), float(value)]


class ElasticTransform(_Transform):
    """Random elastic displacement: uniform noise in [-1, 1] blurred with a Gaussian of
    ``sigma`` and scaled by ``alpha / size`` (torchvision's definition)."""

    def __init__(
        self,
        alpha: float | Sequence[float] = 50.0,
        sigma: float | Sequence[float] = 5.0,
        interpolation: InterpolationMode = InterpolationMode.BILINEAR,
        fill: Any = 0,
    ) -> None:
        self.alpha = _pair(alpha, "alpha")
        self.sigma = _pair(sigma, "sigma")
        self.interpolation = _interpolation(interpolation)
        if isinstance(fill, (int, float)):
            fill = [float(fill)]
        elif isinstance(fill, (list, tuple)):
            fill = [float(f) for f in fill]
        elif fill is not None:
            raise TypeError(f"fill should be int or float or a list or tuple of them. Got {fill}")
        self.fill = fill

    @staticmethod
    def get_params(alpha: list[float], sigma: list[float], size: list[int]) -> Any:
        import ctorch

        parts = []
        for k in range(2):
            d = ctorch.rand(1, 1, size[0], size[1]).numpy().astype(np.float64) * 2 - 1
            if sigma[k] > 0.0:
                ks = int(8 * sigma[k] + 1)
                if ks % 2 == 0:
                    ks += 1
                d = _blur_array(d, [ks, ks], [sigma[0], sigma[1]])
            parts.append(d * alpha[k] / size[k])
        disp = np.concatenate(parts, 1).transpose(0, 2, 3, 1)
        return ctorch.from_numpy(np.ascontiguousarray(disp.astype(np.float32)))

    def forward(self, img: Any) -> Any:
        _, h, w = get_dimensions(img)
        disp = self.get_params(self.alpha, self.sigma, [h, w])
        fill = self.fill
        if fill is not None and len(fill) == 1:
            fill = fill[0]
        return elastic_transform(img, disp, self.interpolation, fill)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(alpha={self.alpha}, sigma={self.sigma}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )


# -- AugMix --------------------------------------------------------------------------------------
def _dirichlet(alpha: float, k: int) -> np.ndarray:
    """One Dirichlet(alpha, ..., alpha) draw from ctorch's generator (normalised gammas)."""
    import ctorch
    from ctorch.distributions import Dirichlet

    conc = ctorch.full((k,), float(alpha), dtype=ctorch.float64)
    return Dirichlet(conc).sample().numpy().astype(np.float64)


class AugMix(_Transform):
    """AugMix (Hendrycks et al. 2020): ``mixture_width`` chains of ``chain_depth`` random ops
    (1-3 when -1) at ``severity``, mixed with Dirichlet(alpha) weights and blended with the
    original by a Beta(alpha, alpha) weight."""

    _PARAMETER_MAX = 10

    def __init__(
        self,
        severity: int = 3,
        mixture_width: int = 3,
        chain_depth: int = -1,
        alpha: float = 1.0,
        all_ops: bool = True,
        interpolation: InterpolationMode = InterpolationMode.BILINEAR,
        fill: Any = None,
    ) -> None:
        if not (1 <= severity <= self._PARAMETER_MAX):
            raise ValueError(
                f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead."
            )
        self.severity = int(severity)
        self.mixture_width = int(mixture_width)
        self.chain_depth = int(chain_depth)
        self.alpha = float(alpha)
        self.all_ops = all_ops
        self.interpolation = _interpolation(interpolation)
        self.fill = fill

    def _augmentation_space(self, num_bins: int, image_size: tuple[int, int]) -> dict[str, Any]:
        lin = lambda a, b: np.linspace(a, b, num_bins, dtype=np.float32)  # noqa: E731
        s: dict[str, Any] = {
            "ShearX": (lin(0.0, 0.3), True),
            "ShearY": (lin(0.0, 0.3), True),
            "TranslateX": (lin(0.0, image_size[1] / 3.0), True),
            "TranslateY": (lin(0.0, image_size[0] / 3.0), True),
            "Rotate": (lin(0.0, 30.0), True),
            "Posterize": (
                4 - np.round(np.arange(num_bins) / ((num_bins - 1) / 4)).astype(int),
                False,
            ),
            "Solarize": (lin(255.0, 0.0), False),
            "AutoContrast": (np.array(0.0), False),
            "Equalize": (np.array(0.0), False),
        }
        if self.all_ops:
            s.update(
                {
                    "Brightness": (lin(0.0, 0.9), True),
                    "Color": (lin(0.0, 0.9), True),
                    "Contrast": (lin(0.0, 0.9), True),
                    "Sharpness": (lin(0.0, 0.9), True),
                }
            )
        return s

    def forward(self, orig_img: Any) -> Any:
        import ctorch

        from . import pil_to_tensor, to_pil_image
        from ._autoaugment import _apply_op, _fill

        is_pil = _is_pil_image(orig_img)
        img = pil_to_tensor(orig_img) if is_pil else orig_img
        fill = _fill(img, self.fill)
        _, height, width = get_dimensions(img)
        op_meta = self._augmentation_space(self._PARAMETER_MAX, (height, width))
        names = list(op_meta)
        base = _tensor_array(img).astype(np.float64)
        m = _dirichlet(self.alpha, 2)
        weights = _dirichlet(self.alpha, self.mixture_width) * m[1]
        mix = m[0] * base
        for i in range(self.mixture_width):
            aug = img
            depth = self.chain_depth if self.chain_depth > 0 else _randint(1, 4)
            for _ in range(depth):
                op_name = names[_randint(0, len(names))]
                magnitudes, signed = op_meta[op_name]
                magnitude = (
                    float(magnitudes[_randint(0, self.severity)]) if magnitudes.ndim > 0 else 0.0
                )
                if signed and _randint(0, 2):
                    magnitude *= -1.0
                aug = _apply_op(aug, op_name, magnitude, self.interpolation, fill)
            mix = mix + weights[i] * _tensor_array(aug).astype(np.float64)
        dt = np.asarray(_tensor_array(img)).dtype
        if dt.kind in "ui":  # torchvision's .to(dtype): truncation
            info = np.iinfo(dt)
            mix = np.clip(np.trunc(mix), info.min, info.max)
        out = ctorch.from_numpy(np.ascontiguousarray(mix.astype(dt)))
        return to_pil_image(out) if is_pil else out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(severity={self.severity}, "
            f"mixture_width={self.mixture_width}, chain_depth={self.chain_depth}, "
            f"alpha={self.alpha}, all_ops={self.all_ops}, interpolation={self.interpolation}, "
            f"fill={self.fill})"
        )


# -- LinearTransformation ------------------------------------------------------------------------
class LinearTransformation(_Transform):
    """Whitening-style transform: flatten ``[..., C, H, W]``, subtract ``mean_vector``, multiply
    by the square ``transformation_matrix`` (ctorch ops, so gradients flow)."""

    def __init__(self, transformation_matrix: Any, mean_vector: Any) -> None:
        tm, mv = transformation_matrix, mean_vector
        if tm.dim() != 2 or tm.shape[0] != tm.shape[1]:
            raise ValueError(
                f"transformation_matrix should be square. Got {tuple(tm.shape)} rectangular matrix."
            )
        if mv.shape[0] != tm.shape[0]:
            raise ValueError(
                f"mean_vector should have the same length {mv.shape[0]} as any one of the "
                f"dimensions of the transformation_matrix [{tuple(tm.shape)}]"
            )
        if tm.dtype != mv.dtype:
            raise ValueError(
                f"Input tensors should have the same dtype. Got {tm.dtype} and {mv.dtype}"
            )
        self.transformation_matrix = tm
        self.mean_vector = mv

    def forward(self, tensor: Any) -> Any:
        if _is_pil_image(tensor):
            raise TypeError("LinearTransformation does not support PIL images.")
        shape = tuple(tensor.shape)
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError(
                "Input tensor and transformation matrix have incompatible shape."
                f"[{shape[-3]} x {shape[-2]} x {shape[-1]}] != "
                f"{self.transformation_matrix.shape[0]}"
            )
        flat = tensor.reshape(-1, n) - self.mean_vector
        return (flat @ self.transformation_matrix.to(flat.dtype)).reshape(shape)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(transformation_matrix="
            f"{self.transformation_matrix.tolist()}, mean={self.mean_vector.tolist()})"
        )
