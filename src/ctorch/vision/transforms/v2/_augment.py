"""transforms.v2 augmentation extras: AugMix (image-only wrapper of the v1 class), the batch
mixers CutMix and MixUp, GaussianNoise, RandomChannelPermutation and RandomPhotometricDistort."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ctorch

from ... import tv_tensors
from .. import _is_pil_image, _uniform
from .. import functional as F1
from ._core import (
    Transform,
    _flatten,
    _image_flags,
    _ImageOnly,
    _rewrap,
    _unflatten,
    _v1_wrapper,
    is_pure_tensor,
    query_size,
)

__all__ = [
    "AugMix",
    "CutMix",
    "MixUp",
    "GaussianNoise",
    "RandomChannelPermutation",
    "RandomPhotometricDistort",
    "LinearTransformation",
    "UniformTemporalSubsample",
]

AugMix = _v1_wrapper(F1.AugMix, "AugMix on the sample's images.")


def _plain(x: Any) -> Any:
    return x.as_subclass(ctorch.Tensor) if isinstance(x, tv_tensors.TVTensor) else x


def _default_labels(inputs: Any) -> Any:
    """torchvision's heuristic: ``sample[1]`` of a tuple, then a "labels"/"*label*" key."""
    if isinstance(inputs, tuple):
        inputs = inputs[1]
    if is_pure_tensor(inputs):
        return inputs
    if not isinstance(inputs, Mapping):
        raise ValueError(
            "When using the default labels_getter, the input passed to forward must be a "
            "dictionary or a two-tuple whose second item is a dictionary or a tensor, but got "
            f"{inputs} instead."
        )
    keys = list(inputs)
    key = next((k for k in keys if isinstance(k, str) and k.lower() == "labels"), None)
    if key is None:
        key = next((k for k in keys if isinstance(k, str) and "label" in k.lower()), None)
    if key is None:
        raise ValueError(
            "Could not infer where the labels are in the sample. Try passing a callable as the "
            f"labels_getter parameter?If there are no labels in the sample by design, pass "
            f"labels_getter=None. The keys are {keys}"
        )
    return inputs[key]


class _BaseMixUpCutMix(Transform):
    def __init__(
        self,
        *,
        alpha: float = 1.0,
        num_classes: int | None = None,
        labels_getter: Callable[[Any], Any] | str = "default",
    ) -> None:
        self.alpha = float(alpha)
        if self.alpha <= 0:
            raise ValueError(f"alpha should be positive, got {alpha}")
        self.num_classes = num_classes
        if labels_getter == "default":
            self._labels_getter: Callable[[Any], Any] = _default_labels
        elif callable(labels_getter):
            self._labels_getter = labels_getter
        else:
            raise ValueError(
                f"labels_getter should either be 'default' or a callable, got {labels_getter}"
            )

    def _lam(self) -> float:
        from ctorch.distributions import Beta

        a = ctorch.tensor([self.alpha], dtype=ctorch.float64)
        return float(Beta(a, a).sample().item())

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat: list[Any] = []
        spec = _flatten(sample, flat)
        if any(
            _is_pil_image(x) or isinstance(x, (tv_tensors.BoundingBoxes, tv_tensors.Mask))
            for x in flat
        ):
            raise ValueError(
                f"{type(self).__name__}() does not support PIL images, bounding boxes and masks."
            )
        labels = self._labels_getter(sample)
        if not isinstance(labels, ctorch.Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.dim() not in (1, 2):
            raise ValueError(
                "labels should be index based with shape (batch_size,) or probability based "
                "with shape (batch_size, num_classes), but got a tensor of shape "
                f"{tuple(labels.shape)} instead."
            )
        if labels.dim() == 2 and self.num_classes is not None:
            if labels.shape[-1] != self.num_classes:
                raise ValueError(
                    f"When passing 2D labels, the number of elements in last dimension must "
                    f"match num_classes: {labels.shape[-1]} != {self.num_classes}. You can "
                    "Leave num_classes to None."
                )
        if labels.dim() == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        flags = [f and x is not labels for x, f in zip(flat, _image_flags(flat), strict=True)]
        images = [x for x, f in zip(flat, flags, strict=True) if f]
        params = {"labels": labels, "batch_size": int(labels.shape[0])}
        params.update(self.make_params(images))
        outs = []
        for x, f in zip(flat, flags, strict=True):
            if x is labels:
                outs.append(self._mix_label(x, params["lam_label"]))
            elif f:
                self._check_batch(x, params["batch_size"])
                outs.append(_rewrap(self._mix_image(_plain(x), params), x))
            else:
                outs.append(x)
        return _unflatten(spec, iter(outs))

    def _check_batch(self, x: Any, batch_size: int) -> None:
        expected = 5 if isinstance(x, tv_tensors.Video) else 4
        if x.dim() != expected:
            raise ValueError(
                f"Expected a batched input with {expected} dims, but got {x.dim()} dimensions "
                "instead."
            )
        if x.shape[0] != batch_size:
            raise ValueError(
                "The batch size of the image or video does not match the batch size of the "
                f"labels: {x.shape[0]} != {batch_size}."
            )

    def _mix_label(self, label: Any, lam: float) -> Any:
        if label.dim() == 1:
            label = ctorch.nn.functional.one_hot(label.long(), num_classes=self.num_classes)
        if not label.is_floating_point():
            label = label.float()
        return label.roll(1, 0) * (1.0 - lam) + label * lam

    def _mix_image(self, x: Any, params: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, num_classes={self.num_classes}"


class MixUp(_BaseMixUpCutMix):
    """Batch MixUp: ``lam * x + (1 - lam) * x.roll(1, 0)``, lam ~ Beta(alpha, alpha), labels
    one-hot and mixed the same way."""

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        lam = self._lam()
        return {"lam": lam, "lam_label": lam}

    def _mix_image(self, x: Any, params: dict[str, Any]) -> Any:
        lam = params["lam"]
        out = x.roll(1, 0) * (1.0 - lam) + x * lam
        return out if x.is_floating_point() else out.to(x.dtype)


class CutMix(_BaseMixUpCutMix):
    """Batch CutMix: a random box of area ``1 - lam`` comes from the rolled batch; labels are
    mixed with the box's actual area."""

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        lam = self._lam()
        h, w = query_size(flat)
        r_x = int(ctorch.randint(0, w, (1,)).item())
        r_y = int(ctorch.randint(0, h, (1,)).item())
        r = 0.5 * math.sqrt(1.0 - lam)
        rw, rh = int(r * w), int(r * h)
        x1, y1 = max(r_x - rw, 0), max(r_y - rh, 0)
        x2, y2 = min(r_x + rw, w), min(r_y + rh, h)
        return {"box": (x1, y1, x2, y2), "lam_label": float(1.0 - (x2 - x1) * (y2 - y1) / (w * h))}

    def _mix_image(self, x: Any, params: dict[str, Any]) -> Any:
        x1, y1, x2, y2 = params["box"]
        out = x.clone()
        out[..., y1:y2, x1:x2] = x.roll(1, 0)[..., y1:y2, x1:x2]
        return out


class GaussianNoise(_ImageOnly):
    """Add N(mean, sigma) noise to float images (clamped to [0, 1] with ``clip``)."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True) -> None:
        if sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
        self.mean, self.sigma, self.clip = float(mean), float(sigma), clip

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        x = _plain(img)
        if _is_pil_image(x) or not x.is_floating_point():
            raise ValueError(
                f"Input tensor is expected to be in float dtype, got dtype={getattr(x, 'dtype', type(x))}"
            )
        out = x + (self.mean + ctorch.randn(tuple(x.shape), dtype=x.dtype) * self.sigma)
        return out.clamp(0, 1) if self.clip else out

    def extra_repr(self) -> str:
        return f"mean={self.mean}, sigma={self.sigma}, clip={self.clip}"


def _permute_channels(img: Any, perm: Sequence[int]) -> Any:
    if _is_pil_image(img):
        return F1.to_pil_image(_permute_channels(F1.pil_to_tensor(img), perm))
    x = _plain(img)
    return x[..., ctorch.tensor(list(perm)), :, :]


class RandomChannelPermutation(_ImageOnly):
    """Shuffle the image channels."""

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        c = next(
            F1.get_dimensions(x)[0] for x, f in zip(flat, _image_flags(flat), strict=True) if f
        )
        return {"perm": ctorch.randperm(c).tolist()}

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        return _permute_channels(img, params["perm"])


class RandomPhotometricDistort(_ImageOnly):
    """SSD's photometric distortions, each with probability ``p``: brightness, contrast (before
    or after saturation/hue), saturation, hue, channel permutation."""

    def __init__(
        self,
        brightness: tuple[float, float] = (0.875, 1.125),
        contrast: tuple[float, float] = (0.5, 1.5),
        saturation: tuple[float, float] = (0.5, 1.5),
        hue: tuple[float, float] = (-0.05, 0.05),
        p: float = 0.5,
    ) -> None:
        jit = F1.ColorJitter(brightness, contrast, saturation, hue)
        self.brightness, self.contrast = jit.brightness, jit.contrast
        self.saturation, self.hue = jit.saturation, jit.hue
        self.p = p

    def make_params(self, flat: list[Any]) -> dict[str, Any]:
        c = next(
            F1.get_dimensions(x)[0] for x, f in zip(flat, _image_flags(flat), strict=True) if f
        )
        params: dict[str, Any] = {}
        for key, rng in (
            ("brightness_factor", self.brightness),
            ("contrast_factor", self.contrast),
            ("saturation_factor", self.saturation),
            ("hue_factor", self.hue),
        ):
            on = float(ctorch.rand(1).item()) < self.p
            params[key] = _uniform(rng[0], rng[1]) if on and rng is not None else None
        params["contrast_before"] = bool(float(ctorch.rand(1).item()) < 0.5)
        perm_on = float(ctorch.rand(1).item()) < self.p
        params["channel_permutation"] = ctorch.randperm(c).tolist() if perm_on else None
        return params

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        x = _plain(img)
        if params["brightness_factor"] is not None:
            x = F1.adjust_brightness(x, params["brightness_factor"])
        if params["contrast_factor"] is not None and params["contrast_before"]:
            x = F1.adjust_contrast(x, params["contrast_factor"])
        if params["saturation_factor"] is not None:
            x = F1.adjust_saturation(x, params["saturation_factor"])
        if params["hue_factor"] is not None:
            x = F1.adjust_hue(x, params["hue_factor"])
        if params["contrast_factor"] is not None and not params["contrast_before"]:
            x = F1.adjust_contrast(x, params["contrast_factor"])
        if params["channel_permutation"] is not None:
            x = _permute_channels(x, params["channel_permutation"])
        return x

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LinearTransformation(_ImageOnly):
    """v1 ``LinearTransformation`` on the sample's tensor images (PIL images are refused)."""

    def __init__(self, transformation_matrix: Any, mean_vector: Any) -> None:
        self._v1 = F1.LinearTransformation(transformation_matrix, mean_vector)

    def _image_fn(self, img: Any, params: dict[str, Any]) -> Any:
        if _is_pil_image(img):
            raise TypeError("LinearTransformation() does not support PIL images.")
        return self._v1(_plain(img))

    def __repr__(self) -> str:
        return repr(self._v1)


class UniformTemporalSubsample(Transform):
    """``num_samples`` evenly spaced frames (dim -4) of videos (``[..., T, C, H, W]``)."""

    def __init__(self, num_samples: int) -> None:
        self.num_samples = num_samples

    def _needs_transform_list(self, flat: list[Any]) -> list[bool]:
        has_video = any(isinstance(x, tv_tensors.Video) for x in flat)
        out, seen = [], False
        for x in flat:
            if isinstance(x, tv_tensors.Video):
                out.append(True)
            elif not has_video and not seen and is_pure_tensor(x):
                out.append(True)
                seen = True
            else:
                out.append(False)
        return out

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        x = _plain(inpt)
        if x.dim() < 4:
            raise ValueError(
                f"UniformTemporalSubsample: expected a video [..., T, C, H, W], got shape "
                f"{tuple(x.shape)}"
            )
        t = x.shape[-4]
        idx = ctorch.linspace(0, t - 1, self.num_samples).long()
        return _rewrap(x.index_select(-4, idx), inpt)

    def extra_repr(self) -> str:
        return f"num_samples={self.num_samples}"
