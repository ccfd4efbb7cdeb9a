"""Digits: the UCI 8x8 optical handwritten digits, bundled with ctorch (no download).

1,797 grayscale 8x8 images of the digits 0-9 (Alpaydin & Kaynak, UCI Machine Learning
Repository, CC BY 4.0; see ``data/README.md``). The file is the copy scikit-learn ships,
``data/digits.csv.gz``: one image per row, 64 pixel counts in 0..16 then the label.

ctorch splits it deterministically into 1,437 training and 360 test images (a fixed
permutation, the same on every machine). ``data`` holds uint8 images scaled to 0..255
(``round(v * 255 / 16)``, lossless for the 17 levels) so that ``transforms.ToTensor`` gives
values in [0, 1] as for MNIST; ``targets`` holds int64 labels.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ._split import DIGIT_CLASSES, SplitImageDataset

__all__ = ["Digits", "load_digits_arrays"]

_DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.csv.gz")
N_TRAIN = 1437
N_TEST = 360
_SPLIT_SEED = 20240607
_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as uint8 (N, 8, 8) in 0..255 and int64 labels, in file order."""
    if "all" not in _cache:
        if not os.path.isfile(_DATA_FILE):
            raise RuntimeError(
                f"the bundled digits file is missing ({_DATA_FILE}); reinstall ctorch"
            )
        raw = np.loadtxt(_DATA_FILE, delimiter=",", dtype=np.float64)
        if raw.shape != (N_TRAIN + N_TEST, 65):
            raise RuntimeError(f"unexpected digits file shape {raw.shape}")
        images = np.rint(raw[:, :64] * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 8, 8)
        labels = raw[:, 64].astype(np.int64)
        images.setflags(write=False)
        labels.setflags(write=False)
        _cache["all"] = (images, labels)
    return _cache["all"]


def _split_indices(train: bool) -> np.ndarray:
    perm = np.random.default_rng(_SPLIT_SEED).permutation(N_TRAIN + N_TEST)
    return np.sort(perm[:N_TRAIN] if train else perm[N_TRAIN:])


class Digits(SplitImageDataset):
    """The bundled UCI 8x8 digits as an MNIST-like dataset.

    Args:
        root: accepted for symmetry with the other datasets and otherwise unused: the data
            ships inside the package.
        train: the 1,437-image training split if True, else the 360-image test split.
        transform: applied to the PIL image (mode "L", 8x8), e.g. ``transforms.ToTensor()``.
        target_transform: applied to the int label.
        download: accepted and ignored (nothing to download).

    Attributes: ``data`` (uint8 tensor N x 8 x 8, 0..255), ``targets`` (int64 tensor N),
    ``classes``, ``class_to_idx``.
    """

    classes = DIGIT_CLASSES

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        super().__init__(root, train, transform, target_transform, download)

    def _prepare(self, download: bool) -> None:
        import ctorch

        images, labels = load_digits_arrays()
        idx = _split_indices(self.train)
        self.data = ctorch.from_numpy(np.ascontiguousarray(images[idx]))
        self.targets = ctorch.from_numpy(np.ascontiguousarray(labels[idx]))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"
