"""CIFAR10 / CIFAR100 from the official python pickles (``root/cifar-10-batches-py/...``)."""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np

from ._split import SplitImageDataset
from .utils import (
    DownloadError,
    check_integrity,
    download_and_extract_archive,
    manual_download_message,
)

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(SplitImageDataset):
    """CIFAR-10: ``data`` is a NumPy uint8 array N x 32 x 32 x 3 (HWC), ``targets`` a list.

    Reads ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``.
    ``download=True`` fetches and extracts the official archive after an md5 check; without
    network access it raises a RuntimeError saying what to place where. Existing files are
    loaded without re-checking their md5 (torchvision checks; ctorch only checks downloads),
    so small hand-made files in the official format load too.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {
        "filename": "batches.meta",
        "key": "label_names",
        "md5": "5ff9c542aee3614f3951f8cda6e48888",
    }

    def _prepare(self, download: bool) -> None:
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it, or "
                f"place {self.filename} in {self.root} (it is extracted there), or its "
                f"extracted folder {self.base_folder}/ with the files "
                + ", ".join(self._all_files())
            )
        downloaded_list = self.train_list if self.train else self.test_list
        data: list[np.ndarray] = []
        self.targets: list[int] = []
        for file_name, _ in downloaded_list:
            file_path = os.path.join(self.root, self.base_folder, file_name)  # type: ignore[arg-type]
            with open(file_path, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data.append(np.asarray(entry["data"], dtype=np.uint8))
            labels = entry["labels"] if "labels" in entry else entry["fine_labels"]
            self.targets.extend(int(t) for t in labels)
        self.data: np.ndarray = np.ascontiguousarray(
            np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        )
        self._load_meta()

    def _all_files(self) -> list[str]:
        return [name for name, _ in self.train_list + self.test_list] + [self.meta["filename"]]

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])  # type: ignore[arg-type]
        with open(path, "rb") as infile:
            data = pickle.load(infile, encoding="latin1")
        self.classes: list[str] = list(data[self.meta["key"]])
        self.class_to_idx = {_class: i for i, _class in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        folder = os.path.join(self.root, self.base_folder)  # type: ignore[arg-type]
        return all(check_integrity(os.path.join(folder, name)) for name in self._all_files())

    def download(self) -> None:
        if self._check_integrity():
            return
        try:
            download_and_extract_archive(
                self.url,
                self.root,
                filename=self.filename,
                md5=self.tgz_md5,  # type: ignore[arg-type]
            )
        except DownloadError as e:
            message = manual_download_message(
                self.__class__.__name__, str(self.root), [(self.filename, self.tgz_md5)], [self.url]
            )
            raise RuntimeError(
                f"{message}\n(and it is extracted to {self.base_folder}/ there; or place the "
                f"extracted folder {os.path.join(str(self.root), self.base_folder)} itself)\n"
                f"(error: {e})"
            ) from e

    def _image(self, img: Any) -> Any:
        from PIL import Image

        return Image.fromarray(img)

    def _label(self, index: int) -> Any:
        return self.targets[index]


class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels), from ``root/cifar-100-python/{train, test, meta}``."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {
        "filename": "meta",
        "key": "fine_label_names",
        "md5": "7973b15100ade9c7d40fb424638fde48",
    }
