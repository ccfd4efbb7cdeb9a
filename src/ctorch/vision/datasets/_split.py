"""The shared skeleton of the split image datasets (MNIST family, CIFAR, Digits).

Each keeps ``data``, ``targets`` and ``train``; an item is one image (as a PIL image) and its
label, passed through ``transform`` and ``target_transform``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .vision import VisionDataset

# The ten digit classes, named as torchvision's MNIST names them (Digits shares them).
DIGIT_CLASSES = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
]


class SplitImageDataset(VisionDataset):
    """Base of the train/test image datasets: ``__init__`` keeps ``train`` and calls
    ``_prepare(download)``; items are ``(transform(image), target_transform(label))``."""

    data: Any
    targets: Any

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        self._prepare(download)

    def _prepare(self, download: bool) -> None:
        raise NotImplementedError

    def _image(self, img: Any) -> Any:
        from PIL import Image

        return Image.fromarray(np.ascontiguousarray(img.numpy()))  # uint8 HxW -> mode "L"

    def _label(self, index: int) -> Any:
        return int(self.targets[index])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._transform_pair(self._image(self.data[index]), self._label(index))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"
