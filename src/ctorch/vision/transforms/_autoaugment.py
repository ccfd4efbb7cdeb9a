"""AutoAugment (ImageNet, CIFAR10 and SVHN policies), RandAugment and TrivialAugmentWide (torchvision's
``transforms.autoaugment``): uint8 tensors and PIL images, random choices from ctorch's generator."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

import numpy as np

from . import (
    InterpolationMode,
    _interpolation,
    _is_tensor,
    _randint,
    _Transform,
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    get_dimensions,
    rotate,
)
from ._extra import adjust_sharpness, affine, autocontrast, equalize, invert, posterize, solarize

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide"]


def _apply_op(
    img: Any, op_name: str, magnitude: float, interpolation: InterpolationMode, fill: Any
) -> Any:
    if op_name == "ShearX":
        return affine(
            img,
            0.0,
            [0, 0],
            1.0,
            [math.degrees(math.atan(magnitude)), 0.0],
            interpolation,
            fill,
            center=[0, 0],
        )
    if op_name == "ShearY":
        return affine(
            img,
            0.0,
            [0, 0],
            1.0,
            [0.0, math.degrees(math.atan(magnitude))],
            interpolation,
            fill,
            center=[0, 0],
        )
    if op_name == "TranslateX":
        return affine(img, 0.0, [int(magnitude), 0], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "TranslateY":
        return affine(img, 0.0, [0, int(magnitude)], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "Rotate":
        return rotate(img, magnitude, interpolation, fill=fill)
    if op_name == "Brightness":
        return adjust_brightness(img, 1.0 + magnitude)
    if op_name == "Color":
        return adjust_saturation(img, 1.0 + magnitude)
    if op_name == "Contrast":
        return adjust_contrast(img, 1.0 + magnitude)
    if op_name == "Sharpness":
        return adjust_sharpness(img, 1.0 + magnitude)
    if op_name == "Posterize":
        return posterize(img, int(magnitude))
    if op_name == "Solarize":
        return solarize(img, magnitude)
    if op_name == "AutoContrast":
        return autocontrast(img)
    if op_name == "Equalize":
        return equalize(img)
    if op_name == "Invert":
        return invert(img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


def _fill(img: Any, fill: Any) -> Any:
    if _is_tensor(img) or isinstance(img, np.ndarray):
        channels = get_dimensions(img)[0]
        if isinstance(fill, (int, float)):
            return [float(fill)] * channels
        if fill is not None:
            return [float(f) for f in fill]
    return fill


def _linspace(a: float, b: float, n: int) -> np.ndarray:
    return np.linspace(a, b, n, dtype=np.float32)


class AutoAugmentPolicy(Enum):
    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


_IMAGENET_POLICY = [
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
]


def _ops(
    num_bins: int,
    shear: float,
    translate_x: float,
    translate_y: float,
    rotate: float,
    enhance: float,
    posterize_steps: int,
) -> dict[str, Any]:
    """The ops the automatic augmentations share, in torchvision's order: ``(magnitude bins,
    signed)`` each, the bins spanning ``[0, max]`` for the given maxima (Solarize from 255 down
    to 0; Posterize from 8 bits down by ``posterize_steps``)."""
    return {
        "ShearX": (_linspace(0.0, shear, num_bins), True),
        "ShearY": (_linspace(0.0, shear, num_bins), True),
        "TranslateX": (_linspace(0.0, translate_x, num_bins), True),
        "TranslateY": (_linspace(0.0, translate_y, num_bins), True),
        "Rotate": (_linspace(0.0, rotate, num_bins), True),
        "Brightness": (_linspace(0.0, enhance, num_bins), True),
        "Color": (_linspace(0.0, enhance, num_bins), True),
        "Contrast": (_linspace(0.0, enhance, num_bins), True),
        "Sharpness": (_linspace(0.0, enhance, num_bins), True),
        "Posterize": (
            8 - np.round(np.arange(num_bins) / ((num_bins - 1) / posterize_steps)).astype(int),
            False,
        ),
        "Solarize": (_linspace(255.0, 0.0, num_bins), False),
        "AutoContrast": (np.array(0.0), False),
        "Equalize": (np.array(0.0), False),
    }


def _imagenet_ops(num_bins: int, image_size: tuple[int, int]) -> dict[str, Any]:
    """AutoAugment's and RandAugment's ranges (translation up to 150/331 of the image)."""
    h, w = image_size
    return _ops(num_bins, 0.3, 150.0 / 331.0 * w, 150.0 / 331.0 * h, 30.0, 0.9, 4)


class AutoAugment(_Transform):
    """AutoAugment (Cubuk et al. 2019) with the ImageNet, CIFAR10 or SVHN policy."""

    def __init__(
        self,
        policy: AutoAugmentPolicy = AutoAugmentPolicy.IMAGENET,
        interpolation: InterpolationMode = InterpolationMode.NEAREST,
        fill: Any = None,
    ) -> None:
        from ._policies import CIFAR10_POLICY, SVHN_POLICY

        policies = {
            AutoAugmentPolicy.IMAGENET: _IMAGENET_POLICY,
            AutoAugmentPolicy.CIFAR10: CIFAR10_POLICY,
            AutoAugmentPolicy.SVHN: SVHN_POLICY,
        }
        if policy not in policies:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self.policy = policy
        self.interpolation = _interpolation(interpolation)
        self.fill = fill
        self.policies = policies[policy]

    def _augmentation_space(self, num_bins: int, image_size: tuple[int, int]) -> dict[str, Any]:
        return {**_imagenet_ops(num_bins, image_size), "Invert": (np.array(0.0), False)}

    def forward(self, img: Any) -> Any:
        import ctorch

        fill = _fill(img, self.fill)
        _, h, w = get_dimensions(img)
        policy_id = _randint(0, len(self.policies))
        probs = ctorch.rand(2).tolist()
        signs = ctorch.randint(0, 2, (2,)).tolist()
        op_meta = self._augmentation_space(10, (h, w))
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[policy_id]):
            if probs[i] <= p:
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[magnitude_id]) if magnitude_id is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude *= -1.0
                img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(_Transform):
    """RandAugment (Cubuk et al. 2020): ``num_ops`` random ops at a fixed ``magnitude``."""

    def __init__(
        self,
        num_ops: int = 2,
        magnitude: int = 9,
        num_magnitude_bins: int = 31,
        interpolation: InterpolationMode = InterpolationMode.NEAREST,
        fill: Any = None,
    ) -> None:
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = _interpolation(interpolation)
        self.fill = fill

    def _augmentation_space(self, num_bins: int, image_size: tuple[int, int]) -> dict[str, Any]:
        return {"Identity": (np.array(0.0), False), **_imagenet_ops(num_bins, image_size)}

    def forward(self, img: Any) -> Any:
        fill = _fill(img, self.fill)
        _, h, w = get_dimensions(img)
        for _ in range(self.num_ops):
            op_meta = self._augmentation_space(self.num_magnitude_bins, (h, w))
            op_name = list(op_meta)[_randint(0, len(op_meta))]
            magnitudes, signed = op_meta[op_name]
            magnitude = float(magnitudes[self.magnitude]) if magnitudes.ndim > 0 else 0.0
            if signed and _randint(0, 2):
                magnitude *= -1.0
            img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
            f"num_magnitude_bins={self.num_magnitude_bins}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )


class TrivialAugmentWide(_Transform):
    """TrivialAugment Wide (Müller & Hutter 2021): one random op at a random magnitude."""

    def __init__(
        self,
        num_magnitude_bins: int = 31,
        interpolation: InterpolationMode = InterpolationMode.NEAREST,
        fill: Any = None,
    ) -> None:
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = _interpolation(interpolation)
        self.fill = fill

    def _augmentation_space(self, num_bins: int) -> dict[str, Any]:
        wide = _ops(num_bins, 0.99, 32.0, 32.0, 135.0, 0.99, 6)
        return {"Identity": (np.array(0.0), False), **wide}

    def forward(self, img: Any) -> Any:
        fill = _fill(img, self.fill)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_name = list(op_meta)[_randint(0, len(op_meta))]
        magnitudes, signed = op_meta[op_name]
        magnitude = float(magnitudes[_randint(0, len(magnitudes))]) if magnitudes.ndim > 0 else 0.0
        if signed and _randint(0, 2):
            magnitude *= -1.0
        return _apply_op(img, op_name, magnitude, self.interpolation, fill)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
            f"interpolation={self.interpolation}, fill={self.fill})"
        )
