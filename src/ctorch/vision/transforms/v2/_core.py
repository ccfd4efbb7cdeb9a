"""transforms.v2 machinery: samples of any structure, per-type dispatch, box-aware geometry.

A transform is called on one input or several (``t(img)``, ``t(img, target)``); nested
tuples/lists/dicts are walked. Images are PIL images, ``tv_tensors.Image`` and, when the sample
holds neither, its first plain tensor; ``BoundingBoxes`` and ``Mask`` follow the geometric
transforms; everything else passes through. Random parameters are drawn once per call, so image,
boxes and masks move together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import ctorch

from ... import tv_tensors
from .. import InterpolationMode, _is_pil_image, _is_tensor
from .. import functional as F1

Tensor = ctorch.Tensor


def _flatten(x: Any, out: list[Any]) -> Any:
    """Leaves into ``out``; returns a spec to rebuild the structure."""
    if isinstance(x, tuple | list) and not isinstance(x, Tensor):
        return (type(x), [_flatten(v, out) for v in x])
    if isinstance(x, dict):
        return (dict, [(k, _flatten(v, out)) for k, v in x.items()])
    out.append(x)
    return None


def _unflatten(spec: Any, it: Any) -> Any:
    if spec is None:
        return next(it)
    kind, items = spec
    if kind is dict:
        return {k: _unflatten(s, it) for k, s in items}
    vals = [_unflatten(s, it) for s in items]
    return kind(vals) if kind in (list, tuple) else kind(*vals)


def is_pure_tensor(x: Any) -> bool:
    return _is_tensor(x) and not isinstance(x, tv_tensors.TVTensor)


def _image_flags(flat: list[Any]) -> list[bool]:
    explicit = any(_is_pil_image(x) or isinstance(x, tv_tensors.Image) for x in flat)
    flags, seen_pure = [], False
    for x in flat:
        if _is_pil_image(x) or isinstance(x, tv_tensors.Image):
            flags.append(True)
        elif not explicit and not seen_pure and is_pure_tensor(x):
            flags.append(True)
            seen_pure = True
        else:
            flags.append(False)
    return flags


def query_size(flat: list[Any]) -> tuple[int, int]:
    """(height, width) of the sample's images/masks/boxes."""
    for x, is_img in zip(flat, _image_flags(flat), strict=True):
        if is_img:
            _, h, w = F1.get_dimensions(x)
            return h, w
    for x in flat:
        if isinstance(x, tv_tensors.Mask):
            return int(x.shape[-2]), int(x.shape[-1])
        if isinstance(x, tv_tensors.BoundingBoxes):
            return x.canvas_size
    raise TypeError("No image, video, mask or bounding box was found in the sample")


def _rewrap(out: Any, like: Any) -> Any:
    if isinstance(like, tv_tensors.TVTensor) and _is_tensor(out):
        return tv_tensors.wrap(out, like=like)
    return out


class Transform:
    """Base of the v2 transforms (``torchvision.transforms.v2.Transform``)."""

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return [
            img or isinstance(x, (tv_tensors.BoundingBoxes, tv_tensors.Mask))
            for x, img in zip(flat, _image_flags(flat), strict=True)
        ]

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        return {}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat: list[Any] = []
        spec = _flatten(sample, flat)
        params = self.make_params(flat)
        needs = self._needs_transform_list(flat)
        outs = [self.transform(x, params) if n else x for x, n in zip(flat, needs, strict=True)]
        return _unflatten(spec, iter(outs))

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


# ----------------------------------------------------------------------------- geometry primitives
def _boxes_xyxy(b: tv_tensors.BoundingBoxes) -> np.ndarray:
    a = np.asarray(b.detach().cpu().numpy(), dtype=np.float64)
    fmt = b.format.value
    if fmt == "XYWH":
        a = np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], 1)
    elif fmt == "CXCYWH":
        a = np.concatenate([a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2], 1)
    return a


def _boxes_back(a: np.ndarray, like: tv_tensors.BoundingBoxes, canvas: tuple[int, int]) -> Any:
    fmt = like.format.value
    if fmt == "XYWH":
        a = np.concatenate([a[:, :2], a[:, 2:] - a[:, :2]], 1)
    elif fmt == "CXCYWH":
        a = np.concatenate([(a[:, :2] + a[:, 2:]) / 2, a[:, 2:] - a[:, :2]], 1)
    dt = like.dtype
    if not like.is_floating_point():
        a = np.trunc(a)  # torchvision casts back with .to(dtype), truncating
    t = ctorch.from_numpy(np.ascontiguousarray(a)).to(dtype=dt, device=like.device)
    return tv_tensors.BoundingBoxes._wrap(t, format=like.format, canvas_size=tuple(canvas))


def apply_geometry(inpt: Any, ops: list[tuple], fill: Any = 0) -> Any:
    """Apply ("pad", l, t, r, b, mode) / ("crop", top, left, h, w) / ("resize", h, w, interp,
    antialias) / ("hflip",) / ("vflip",) to an image, mask or boxes."""
    if isinstance(inpt, tv_tensors.BoundingBoxes):
        a = _boxes_xyxy(inpt)
        h, w = inpt.canvas_size
        for op in ops:
            kind = op[0]
            if kind == "hflip":
                a = np.stack([w - a[:, 2], a[:, 1], w - a[:, 0], a[:, 3]], 1)
            elif kind == "vflip":
                a = np.stack([a[:, 0], h - a[:, 3], a[:, 2], h - a[:, 1]], 1)
            elif kind == "pad":
                left, top, right, bottom = op[1:5]
                a = a + np.array([left, top, left, top])
                h, w = h + top + bottom, w + left + right
            elif kind == "crop":
                top, left, ch, cw = op[1:5]
                a = a - np.array([left, top, left, top])
                a[:, 0::2] = np.clip(a[:, 0::2], 0, cw)
                a[:, 1::2] = np.clip(a[:, 1::2], 0, ch)
                h, w = ch, cw
            elif kind == "resize":
                nh, nw = op[1:3]
                a = a * np.array([nw / w, nh / h, nw / w, nh / h])
                h, w = nh, nw
        return _boxes_back(a, inpt, (h, w))
    is_mask = isinstance(inpt, tv_tensors.Mask)
    out = inpt
    for op in ops:
        kind = op[0]
        if kind == "hflip":
            out = F1.hflip(out)
        elif kind == "vflip":
            out = F1.vflip(out)
        elif kind == "pad":
            out = F1.pad(out, list(op[1:5]), 0 if is_mask else fill, op[5])
        elif kind == "crop":
            out = F1.crop(out, *op[1:5])
        elif kind == "resize":
            interp = InterpolationMode.NEAREST if is_mask else op[3]
            if is_mask and out.dim() == 2:
                out = F1.resize(out[None], [op[1], op[2]], interp, antialias=False)[0]
            else:
                out = F1.resize(out, [op[1], op[2]], interp, antialias=op[4] and not is_mask)
    return _rewrap(out, inpt)


class _GeometryTransform(Transform):
    fill: Any = 0

    def make_ops(self, flat: list[Any], size: tuple[int, int]) -> list[tuple]:  # pragma: no cover
        raise NotImplementedError

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        return {"ops": self.make_ops(flat, query_size(flat))}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return apply_geometry(inpt, params["ops"], self.fill)


class _ImageOnly(Transform):
    """Runs a v1 transform (or function) on the images only; boxes and masks pass through."""

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        return _image_flags(flat)

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, tv_tensors.Video):
            raise TypeError(f"{type(self).__name__}: videos are not supported by ctorch")
        return _rewrap(self._image_fn(inpt, params), inpt)


def _v1_wrapper(v1_cls: type, doc: str) -> type:
    """A v2 class with ``v1_cls``'s constructor, applying it to the sample's images."""

    class Wrapped(_ImageOnly):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._v1 = v1_cls(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            if name == "_v1":
                raise AttributeError(name)
            return getattr(self._v1, name)

        def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
            return self._v1(img)

        def __repr__(self) -> str:
            return repr(self._v1)

    Wrapped.__name__ = Wrapped.__qualname__ = v1_cls.__name__
    Wrapped.__doc__ = doc
    return Wrapped


Callable_ = Callable
