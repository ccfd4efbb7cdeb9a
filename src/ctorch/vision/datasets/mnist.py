"""MNIST, FashionMNIST and KMNIST in torchvision's layout: ``root/<ClassName>/raw/*-ubyte[.gz]``."""

from __future__ import annotations

import codecs
import gzip
import os
from typing import Any

import numpy as np

from ._split import DIGIT_CLASSES, SplitImageDataset
from .utils import DownloadError, download_url, extract_archive, manual_download_message

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "read_sn3_pascalvincent_tensor"]

# idx type codes -> big-endian NumPy dtypes
_IDX_TYPES = {
    8: np.dtype(np.uint8),
    9: np.dtype(np.int8),
    11: np.dtype(">i2"),
    12: np.dtype(">i4"),
    13: np.dtype(">f4"),
    14: np.dtype(">f8"),
}


def _open_maybe_gz(path: str) -> Any:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file (the MNIST format, optionally gzip-compressed) into a NumPy array.

    Header: two zero bytes, a type code, the number of dimensions, then one big-endian int32 per
    dimension; the data follow, big-endian.
    """
    path = os.fspath(path)
    with _open_maybe_gz(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an idx file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown idx type code {type_code}")
    dims = [int(codecs.encode(data[4 + 4 * i : 8 + 4 * i], "hex"), 16) for i in range(ndim)]
    dtype = _IDX_TYPES[type_code]
    offset = 4 + 4 * ndim
    count = int(np.prod(dims)) if dims else 1
    expected = offset + count * dtype.itemsize
    if len(data) < expected:
        raise ValueError(f"{path}: truncated idx file ({len(data)} bytes, expected {expected})")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return arr.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_sn3_pascalvincent_tensor(path: str | os.PathLike, strict: bool = True) -> Any:
    """torchvision's name for the idx reader; returns a ctorch tensor."""
    import ctorch

    return ctorch.from_numpy(read_idx(path))


def read_label_file(path: str | os.PathLike) -> Any:
    import ctorch

    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise ValueError(f"{path}: expected a 1-d uint8 label file, got {arr.dtype} {arr.shape}")
    return ctorch.from_numpy(arr.astype(np.int64))


def read_image_file(path: str | os.PathLike) -> Any:
    import ctorch

    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise ValueError(f"{path}: expected a 3-d uint8 image file, got {arr.dtype} {arr.shape}")
    return ctorch.from_numpy(arr)


class MNIST(SplitImageDataset):
    """The MNIST digits: ``data`` is a uint8 tensor N x 28 x 28, ``targets`` an int64 tensor.

    Files are read from ``root/MNIST/raw/`` (``train-images-idx3-ubyte`` etc., plain or
    ``.gz``). ``download=True`` fetches the official files from the mirrors torchvision uses
    and checks their md5; without network access it raises a RuntimeError listing the files
    to place by hand.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = DIGIT_CLASSES

    def _prepare(self, download: bool) -> None:
        self.download_requested = download
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(
                "Dataset not found. You can use download=True to download it, or place "
                f"these files (plain or .gz) in {self.raw_folder}: "
                + ", ".join(self._wanted_files())
            )
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")  # type: ignore[arg-type]

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")  # type: ignore[arg-type]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {_class: i for i, _class in enumerate(self.classes)}

    # -- files ----------------------------------------------------------------------------------
    def _wanted_files(self) -> list[str]:
        return [os.path.splitext(os.path.basename(name))[0] for name, _ in self.resources]

    def _find(self, stem: str) -> str | None:
        for candidate in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._find(stem) is not None for stem in self._wanted_files())

    def _load_data(self) -> tuple[Any, Any]:
        prefix = "train" if self.train else "t10k"
        image_file = self._find(f"{prefix}-images-idx3-ubyte")
        label_file = self._find(f"{prefix}-labels-idx1-ubyte")
        assert image_file is not None and label_file is not None
        data = read_image_file(image_file)
        targets = read_label_file(label_file)
        if data.shape[0] != targets.shape[0]:
            raise RuntimeError(
                f"{image_file} has {data.shape[0]} images but {label_file} has "
                f"{targets.shape[0]} labels"
            )
        return data, targets

    def download(self) -> None:
        """Fetch the raw files (each from the first mirror that answers) and verify md5s."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        missing = []
        for filename, md5 in self.resources:
            if self._find(os.path.splitext(filename)[0]) is not None:
                continue
            errors = []
            for mirror in self.mirrors:
                try:
                    path = download_url(f"{mirror}{filename}", self.raw_folder, filename, md5)
                except DownloadError as e:
                    errors.append(str(e))
                    continue
                extract_archive(path, self.raw_folder)
                break
            else:
                missing.append((filename, md5, errors))
        if missing:
            message = manual_download_message(
                self.__class__.__name__,
                self.raw_folder,
                [(name, md5) for name, md5, _ in missing],
                self.mirrors,
            )
            details = "\n".join(err for _, _, errs in missing for err in errs)
            raise RuntimeError(f"{message}\n(errors: {details})")

    # torchvision's old attribute names
    @property
    def train_labels(self) -> Any:
        return self.targets

    @property
    def test_labels(self) -> Any:
        return self.targets

    @property
    def train_data(self) -> Any:
        return self.data

    @property
    def test_data(self) -> Any:
        return self.data


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, same layout as MNIST under ``root/FashionMNIST/raw/``."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


class KMNIST(MNIST):
    """Kuzushiji-MNIST, same layout as MNIST under ``root/KMNIST/raw/``."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
