"""transforms.v2 geometry that moves bounding boxes too: rotate/affine/perspective/elastic
(functional and RandomRotation, RandomAffine, RandomPerspective, ElasticTransform), FiveCrop,
TenCrop and the detection helpers RandomZoomOut, RandomIoUCrop, ScaleJitter,
RandomShortestSize and RandomResize.

Images go through the v1 functions (PIL or tensors), masks the same way with nearest
interpolation and fill 0. Boxes follow torchvision: the four corners of each box go through the
forward map of the image warp (the inverse of the sampling matrix the image uses, so boxes and
pixels agree exactly), the box becomes the corners' enclosing box, clamped to the canvas."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import ctorch

from ... import tv_tensors
from .. import (
    InterpolationMode,
    _compute_resized_output_size,
    _interpolation,
    _rotation_matrix,
    _setup_angle,
    _setup_size,
    _uniform,
)
from .. import functional as F1
from .._extra import _get_inverse_affine_matrix
from .._geometry_extra import _check_displacement, _get_perspective_coeffs, _pair
from ._core import (
    Transform,
    _boxes_back,
    _boxes_xyxy,
    _GeometryTransform,
    _image_flags,
    _rewrap,
    apply_geometry,
    is_pure_tensor,
    query_size,
)

__all__ = [
    "RandomRotation",
    "RandomAffine",
    "RandomPerspective",
    "ElasticTransform",
    "FiveCrop",
    "TenCrop",
    "RandomZoomOut",
    "RandomIoUCrop",
    "ScaleJitter",
    "RandomShortestSize",
    "RandomResize",
]


# ---------------------------------------------------------------------------------- helpers
def _plain(x: Any) -> Any:
    return x.as_subclass(ctorch.Tensor) if isinstance(x, tv_tensors.TVTensor) else x


def _fill_for(fill: Any, inpt: Any) -> Any:
    """torchvision's fill: a number/sequence for images, 0 for masks; a dict keyed by type."""
    if isinstance(fill, dict):
        for k, v in fill.items():
            if isinstance(k, type) and isinstance(inpt, k):
                return v
        return fill.get("others", 0)
    return 0 if isinstance(inpt, tv_tensors.Mask) else fill


def _image_or_mask(inpt: Any, fn: Any, interpolation: InterpolationMode, fill: Any) -> Any:
    """Run ``fn(x, interpolation, fill)`` on an image or mask (2-D masks get a channel)."""
    is_mask = isinstance(inpt, tv_tensors.Mask)
    interp = InterpolationMode.NEAREST if is_mask else interpolation
    f = _fill_for(fill, inpt)
    x = _plain(inpt)
    if is_mask and x.dim() == 2:
        return _rewrap(fn(x[None], interp, f)[0], inpt)
    return _rewrap(fn(x, interp, f), inpt)


def _boxes_through(
    boxes: tv_tensors.BoundingBoxes, fwd: np.ndarray, canvas: tuple[int, int]
) -> tv_tensors.BoundingBoxes:
    """Corners of every box through the 3x3 forward map ``fwd`` (projective divide), enclosing
    box, clamped to ``canvas`` (h, w)."""
    a = _boxes_xyxy(boxes)
    x1, y1, x2, y2 = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    xs = np.stack([x1, x2, x2, x1], 1)
    ys = np.stack([y1, y1, y2, y2], 1)
    den = fwd[2, 0] * xs + fwd[2, 1] * ys + fwd[2, 2]
    tx = (fwd[0, 0] * xs + fwd[0, 1] * ys + fwd[0, 2]) / den
    ty = (fwd[1, 0] * xs + fwd[1, 1] * ys + fwd[1, 2]) / den
    h, w = canvas
    out = np.stack([tx.min(1), ty.min(1), tx.max(1), ty.max(1)], 1) if len(a) else a
    out[:, 0::2] = np.clip(out[:, 0::2], 0, w)
    out[:, 1::2] = np.clip(out[:, 1::2], 0, h)
    if not boxes.is_floating_point():  # float noise must not truncate 2 - 1e-7 to 1
        out = np.round(out, 4)
    return _boxes_back(out, boxes, canvas)


def _affine_fwd(inv: Sequence[float]) -> np.ndarray:
    m = np.array([[inv[0], inv[1], inv[2]], [inv[3], inv[4], inv[5]], [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)


def _size(inpt: Any) -> tuple[int, int]:
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        return inpt.canvas_size
    _, h, w = F1.get_dimensions(inpt)
    return h, w


# ------------------------------------------------------------------------------- functional
def rotate(
    inpt: Any,
    angle: float,
    interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
    expand: bool = False,
    center: list[float] | None = None,
    fill: Any = 0,
) -> Any:
    """Counter-clockwise rotation by ``angle`` degrees of an image, mask or boxes."""
    interpolation = _interpolation(interpolation)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        h, w = inpt.canvas_size
        inv, nw, nh = _rotation_matrix(angle, w, h, center, expand)
        return _boxes_through(inpt, _affine_fwd(inv), (nh, nw))
    return _image_or_mask(
        inpt, lambda x, i, f: F1.rotate(x, angle, i, expand, center, f), interpolation, fill
    )


def _affine_inverse(
    size: tuple[int, int],
    angle: float,
    translate: Sequence[float],
    scale: float,
    shear: Any,
    center: Sequence[float] | None,
) -> list[float]:
    h, w = size
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]  # type: ignore[arg-type]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    c = [w * 0.5, h * 0.5] if center is None else [float(v) for v in center]
    return _get_inverse_affine_matrix(c, -angle, [float(t) for t in translate], scale, shear)


def affine(
    inpt: Any,
    angle: float,
    translate: list[float],
    scale: float,
    shear: float | list[float],
    interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
    fill: Any = 0,
    center: list[float] | None = None,
) -> Any:
    """Affine transform (rotation, translation, scale, shear about ``center``) of an image,
    mask or boxes; the canvas keeps its size."""
    interpolation = _interpolation(interpolation)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if not isinstance(translate, (list, tuple)) or len(translate) != 2:
            raise ValueError(
                f"Argument translate should be a sequence of length 2, got {translate}"
            )
        if scale <= 0.0:
            raise ValueError("Argument scale should be positive")
        inv = _affine_inverse(inpt.canvas_size, angle, translate, scale, shear, center)
        return _boxes_through(inpt, _affine_fwd(inv), inpt.canvas_size)
    return _image_or_mask(
        inpt,
        lambda x, i, f: F1.affine(x, angle, translate, scale, shear, i, f, center),
        interpolation,
        fill,
    )


def perspective(
    inpt: Any,
    startpoints: list[list[int]] | None,
    endpoints: list[list[int]] | None,
    interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
    fill: Any = 0,
    coefficients: list[float] | None = None,
) -> Any:
    """Perspective transform of an image, mask or boxes (start/end corner lists or the 8
    ``coefficients`` of the output -> input homography)."""
    interpolation = _interpolation(interpolation)
    if coefficients is not None:
        if startpoints is not None or endpoints is not None:
            raise ValueError(
                "The startpoints/endpoints and the coefficients shouldn't be defined concurrently."
            )
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        coeffs = [float(c) for c in coefficients]
    elif startpoints is not None and endpoints is not None:
        coeffs = _get_perspective_coeffs(startpoints, endpoints)
    else:
        raise ValueError(
            "The startpoints/endpoints or the coefficients must have non `None` values."
        )
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        a, b, c, d, e, f, g, h = coeffs
        fwd = np.linalg.inv(np.array([[a, b, c], [d, e, f], [g, h, 1.0]]))
        return _boxes_through(inpt, fwd, inpt.canvas_size)

    def warp(x: Any, i: InterpolationMode, fl: Any) -> Any:
        from .._extra import _transform
        from .._geometry_extra import _perspective_array

        return _transform(x, "PERSPECTIVE", coeffs, i, fl, _perspective_array)

    return _image_or_mask(inpt, warp, interpolation, fill)


def elastic(
    inpt: Any,
    displacement: Any,
    interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
    fill: Any = 0,
) -> Any:
    """Elastic warp by ``displacement`` ([1, H, W, 2], normalised units). Boxes use
    torchvision's approximation: each corner moves by minus the displacement at its pixel."""
    interpolation = _interpolation(interpolation)
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        h, w = inpt.canvas_size
        _check_displacement(displacement, h, w)
        disp = np.asarray(_plain(displacement).detach().numpy(), dtype=np.float64)
        a = _boxes_xyxy(inpt)
        pts = np.stack([a[:, [0, 1]], a[:, [2, 1]], a[:, [2, 3]], a[:, [0, 3]]], 1).reshape(-1, 2)
        idx = np.ceil(pts).astype(np.int64)
        ix, iy = np.clip(idx[:, 0], 0, w - 1), np.clip(idx[:, 1], 0, h - 1)
        gx = (2.0 * ix + 1.0 - w) / w - disp[0, iy, ix, 0]
        gy = (2.0 * iy + 1.0 - h) / h - disp[0, iy, ix, 1]
        tx = ((gx + 1.0) * 0.5 * w - 0.5).reshape(-1, 4)
        ty = ((gy + 1.0) * 0.5 * h - 0.5).reshape(-1, 4)
        out = np.stack([tx.min(1), ty.min(1), tx.max(1), ty.max(1)], 1)
        out[:, 0::2] = np.clip(out[:, 0::2], 0, w)
        out[:, 1::2] = np.clip(out[:, 1::2], 0, h)
        return _boxes_back(out, inpt, (h, w))
    return _image_or_mask(
        inpt, lambda x, i, f: F1.elastic_transform(x, displacement, i, f), interpolation, fill
    )


elastic_transform = elastic


def convert_bounding_box_format(
    inpt: Any,
    old_format: Any = None,
    new_format: Any = None,
    inplace: bool = False,
) -> Any:
    """Boxes in ``new_format`` (``old_format`` is needed only for plain tensors)."""
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: 'new_format'")
    if isinstance(new_format, str):
        new_format = tv_tensors.BoundingBoxFormat[new_format.upper()]
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be passed.")
        like = tv_tensors.BoundingBoxes._wrap(inpt, format=new_format, canvas_size=inpt.canvas_size)
        return _boxes_back(_boxes_xyxy(inpt), like, inpt.canvas_size)
    if old_format is None:
        raise ValueError("For pure tensor inputs, `old_format` has to be passed.")
    if isinstance(old_format, str):
        old_format = tv_tensors.BoundingBoxFormat[old_format.upper()]
    tmp = tv_tensors.BoundingBoxes(inpt, format=old_format, canvas_size=(0, 0))
    return _plain(convert_bounding_box_format(tmp, new_format=new_format))


def five_crop(inpt: Any, size: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The four corner crops and the centre crop (tl, tr, bl, br, centre) of an image."""
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        raise TypeError("five_crop: bounding boxes are not supported (as in torchvision)")
    return tuple(_rewrap(c, inpt) for c in F1.five_crop(_plain(inpt), size))  # type: ignore[return-value]


def ten_crop(inpt: Any, size: Any, vertical_flip: bool = False) -> tuple[Any, ...]:
    """``five_crop`` of the image and of its flipped version."""
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        raise TypeError("ten_crop: bounding boxes are not supported (as in torchvision)")
    return tuple(_rewrap(c, inpt) for c in F1.ten_crop(_plain(inpt), size, vertical_flip))


# ------------------------------------------------------------------------------- transforms
class _WarpTransform(Transform):
    interpolation: InterpolationMode
    fill: Any = 0

    def _warp(self, inpt: Any, params: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not params:
            return inpt
        if isinstance(inpt, tv_tensors.Video):
            raise TypeError(f"{type(self).__name__}: videos are not supported by ctorch")
        return self._warp(inpt, params)


def _check_fill(fill: Any) -> Any:
    if fill is None or isinstance(fill, (numbers.Number, Sequence, dict)):
        return fill
    raise TypeError(
        "Got inappropriate fill arg, only Numbers, tuples, lists and dicts are allowed."
    )


class RandomRotation(_WarpTransform):
    def __init__(
        self,
        degrees: Any,
        interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
        expand: bool = False,
        center: Sequence[float] | None = None,
        fill: Any = 0,
    ) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        self.interpolation = _interpolation(interpolation)
        self.expand = expand
        if center is not None and len(center) != 2:
            raise ValueError("center should be a sequence of length 2.")
        self.center = None if center is None else list(center)
        self.fill = _check_fill(fill)

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        return {"angle": _uniform(self.degrees[0], self.degrees[1])}

    def _warp(self, inpt: Any, params: dict[str, Any]) -> Any:
        return rotate(
            inpt, params["angle"], self.interpolation, self.expand, self.center, self.fill
        )

    def extra_repr(self) -> str:
        return f"degrees={self.degrees}, interpolation={self.interpolation}, expand={self.expand}"


class RandomAffine(_WarpTransform):
    def __init__(
        self,
        degrees: Any,
        translate: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        shear: Any = None,
        interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
        fill: Any = 0,
        center: Sequence[float] | None = None,
    ) -> None:
        self._v1 = F1.RandomAffine(degrees, translate, scale, shear, interpolation, 0, center)
        self.degrees, self.translate = self._v1.degrees, self._v1.translate
        self.scale, self.shear = self._v1.scale, self._v1.shear
        self.interpolation = self._v1.interpolation
        self.fill = _check_fill(fill)
        self.center = center

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        h, w = query_size(flat)
        v = self._v1
        angle, tr, sc, sh = v.get_params(v.degrees, v.translate, v.scale, v.shear, [w, h])
        return {"angle": angle, "translate": list(tr), "scale": sc, "shear": list(sh)}

    def _warp(self, inpt: Any, params: dict[str, Any]) -> Any:
        return affine(
            inpt,
            params["angle"],
            params["translate"],
            params["scale"],
            params["shear"],
            self.interpolation,
            self.fill,
            self.center,
        )

    def extra_repr(self) -> str:
        return (
            f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
            f"shear={self.shear}, interpolation={self.interpolation}"
        )


class RandomPerspective(_WarpTransform):
    def __init__(
        self,
        distortion_scale: float = 0.5,
        p: float = 0.5,
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        fill: Any = 0,
    ) -> None:
        if not (0.0 <= distortion_scale <= 1.0):
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        if not (0.0 <= p <= 1.0):
            raise ValueError("p should be a float value between 0 and 1")
        self.distortion_scale = distortion_scale
        self.p = p
        self.interpolation = _interpolation(interpolation)
        self.fill = _check_fill(fill)

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        if float(ctorch.rand(1).item()) >= self.p:
            return {}
        h, w = query_size(flat)
        start, end = F1.RandomPerspective.get_params(w, h, self.distortion_scale)
        return {"coefficients": _get_perspective_coeffs(start, end)}

    def _warp(self, inpt: Any, params: dict[str, Any]) -> Any:
        return perspective(
            inpt, None, None, self.interpolation, self.fill, coefficients=params["coefficients"]
        )

    def extra_repr(self) -> str:
        return f"distortion_scale={self.distortion_scale}, p={self.p}"


class ElasticTransform(_WarpTransform):
    def __init__(
        self,
        alpha: float | Sequence[float] = 50.0,
        sigma: float | Sequence[float] = 5.0,
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        fill: Any = 0,
    ) -> None:
        self.alpha = _pair(alpha, "alpha")
        self.sigma = _pair(sigma, "sigma")
        self.interpolation = _interpolation(interpolation)
        self.fill = _check_fill(fill)

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        size = list(query_size(flat))
        return {"displacement": F1.ElasticTransform.get_params(self.alpha, self.sigma, size)}

    def _warp(self, inpt: Any, params: dict[str, Any]) -> Any:
        return elastic(inpt, params["displacement"], self.interpolation, self.fill)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, sigma={self.sigma}, interpolation={self.interpolation}"


class FiveCrop(Transform):
    """Images (and masks) -> a tuple of five crops; boxes are refused as in torchvision."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        if any(isinstance(x, tv_tensors.BoundingBoxes) for x in flat):
            raise TypeError(f"BoundingBoxes'es are not supported by {type(self).__name__}()")
        return super()._needs_transform_list(flat)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return five_crop(inpt, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class TenCrop(FiveCrop):
    def __init__(self, size: int | Sequence[int], vertical_flip: bool = False) -> None:
        super().__init__(size)
        self.vertical_flip = vertical_flip

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return ten_crop(inpt, self.size, self.vertical_flip)

    def extra_repr(self) -> str:
        return f"size={self.size}, vertical_flip={self.vertical_flip}"


class RandomZoomOut(_GeometryTransform):
    """Place the sample on a canvas ``side_range`` times larger (probability ``p``)."""

    def __init__(
        self, fill: Any = 0, side_range: Sequence[float] = (1.0, 4.0), p: float = 0.5
    ) -> None:
        self.fill = _check_fill(fill)
        self.side_range = side_range
        if len(side_range) != 2 or side_range[0] < 1.0 or side_range[0] > side_range[1]:
            raise ValueError(f"Invalid side range provided {side_range}.")
        if not (0.0 <= p <= 1.0):
            raise ValueError("p should be a float value between 0 and 1")
        self.p = p

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        if float(ctorch.rand(1).item()) >= self.p:
            return []
        orig_h, orig_w = size
        r = _uniform(self.side_range[0], self.side_range[1])
        cw, ch = int(orig_w * r), int(orig_h * r)
        rx, ry = ctorch.rand(2).tolist()
        left, top = int((cw - orig_w) * rx), int((ch - orig_h) * ry)
        right, bottom = cw - (left + orig_w), ch - (top + orig_h)
        return [("pad", left, top, right, bottom, "constant")]

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return apply_geometry(inpt, params["ops"], _fill_for(self.fill, inpt))

    def extra_repr(self) -> str:
        return f"side_range={self.side_range}, p={self.p}"


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


class RandomIoUCrop(Transform):
    """SSD's random crop: a crop whose IoU with some box (whose centre it contains) is at least
    an option drawn from ``sampler_options``; boxes whose centre falls outside become zeros
    (remove them with SanitizeBoundingBoxes)."""

    def __init__(
        self,
        min_scale: float = 0.3,
        max_scale: float = 1.0,
        min_aspect_ratio: float = 0.5,
        max_aspect_ratio: float = 2.0,
        sampler_options: list[float] | None = None,
        trials: int = 40,
    ) -> None:
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.min_aspect_ratio = min_aspect_ratio
        self.max_aspect_ratio = max_aspect_ratio
        if sampler_options is None:
            sampler_options = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
        self.options = sampler_options
        self.trials = trials

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        boxes = [x for x in flat if isinstance(x, tv_tensors.BoundingBoxes)]
        if not boxes or not any(_image_flags(flat)):
            raise TypeError(
                f"{type(self).__name__}() requires input sample to contain tensor or PIL images "
                "and bounding boxes. Sample can also contain masks."
            )
        orig_h, orig_w = query_size(flat)
        xyxy = _boxes_xyxy(boxes[0])
        while True:
            min_iou = self.options[int(ctorch.randint(0, len(self.options), (1,)).item())]
            if min_iou >= 1.0:  # leave the sample as it is
                return {}
            for _ in range(self.trials):
                r0, r1 = ctorch.rand(2).tolist()
                r0 = self.min_scale + (self.max_scale - self.min_scale) * r0
                r1 = self.min_scale + (self.max_scale - self.min_scale) * r1
                new_w, new_h = int(orig_w * r0), int(orig_h * r1)
                if new_h == 0 or not (
                    self.min_aspect_ratio <= new_w / new_h <= self.max_aspect_ratio
                ):
                    continue
                q0, q1 = ctorch.rand(2).tolist()
                left, top = int((orig_w - new_w) * q0), int((orig_h - new_h) * q1)
                right, bottom = left + new_w, top + new_h
                if left == right or top == bottom:
                    continue
                cx = 0.5 * (xyxy[:, 0] + xyxy[:, 2])
                cy = 0.5 * (xyxy[:, 1] + xyxy[:, 3])
                within = (left < cx) & (cx < right) & (top < cy) & (cy < bottom)
                if not within.any():
                    continue
                crop = np.array([[left, top, right, bottom]], dtype=np.float64)
                if _box_iou(xyxy[within], crop).max() < min_iou:
                    continue
                return {"ops": [("crop", top, left, new_h, new_w)], "within": within}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not params:
            return inpt
        out = apply_geometry(inpt, params["ops"])
        if isinstance(out, tv_tensors.BoundingBoxes):
            a = _boxes_xyxy(out)
            a[~params["within"]] = 0.0  # all-zero boxes are all-zero in every format
            return _boxes_back(a, out, out.canvas_size)
        return out


class _ResizeLike(_GeometryTransform):
    interpolation: InterpolationMode
    antialias: bool

    def _new_size(self, h: int, w: int) -> tuple[int, int]:  # pragma: no cover
        raise NotImplementedError

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:
        nh, nw = self._new_size(*size)
        return [("resize", nh, nw, self.interpolation, bool(self.antialias))]


class ScaleJitter(_ResizeLike):
    """Resize to fit ``target_size`` (h, w) times a random scale in ``scale_range``."""

    def __init__(
        self,
        target_size: tuple[int, int],
        scale_range: tuple[float, float] = (0.1, 2.0),
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        self.target_size = target_size
        self.scale_range = scale_range
        self.interpolation = _interpolation(interpolation)
        self.antialias = bool(antialias)

    def _new_size(self, h: int, w: int) -> tuple[int, int]:
        scale = _uniform(self.scale_range[0], self.scale_range[1])
        r = min(self.target_size[1] / h, self.target_size[0] / w) * scale
        return int(h * r), int(w * r)


class RandomShortestSize(_ResizeLike):
    """Resize so that the shorter side is one of ``min_size`` (longer side <= ``max_size``)."""

    def __init__(
        self,
        min_size: int | Sequence[int],
        max_size: int | None = None,
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        self.min_size = [min_size] if isinstance(min_size, int) else list(min_size)
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = bool(antialias)

    def _new_size(self, h: int, w: int) -> tuple[int, int]:
        m = self.min_size[int(ctorch.randint(0, len(self.min_size), (1,)).item())]
        r = m / min(h, w)
        if self.max_size is not None:
            r = min(r, self.max_size / max(h, w))
        return int(h * r), int(w * r)


class RandomResize(_ResizeLike):
    """Resize the shorter side to a random integer in ``[min_size, max_size)``."""

    def __init__(
        self,
        min_size: int,
        max_size: int,
        interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = bool(antialias)

    def _new_size(self, h: int, w: int) -> tuple[int, int]:
        size = int(ctorch.randint(self.min_size, self.max_size, (1,)).item())
        return _compute_resized_output_size((h, w), [size], None)


_ = (math, is_pure_tensor, _size)
