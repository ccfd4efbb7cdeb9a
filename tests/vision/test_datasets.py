"""ctorch.vision.datasets on tiny files written in the official formats (no network)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

import ctorch
from ctorch.utils.data import DataLoader
from ctorch.vision import datasets, transforms
from ctorch.vision.datasets import utils as dutils
from ctorch.vision.datasets.mnist import read_idx

Image = pytest.importorskip("PIL.Image")


# -- writers for the official formats -------------------------------------------------------------
def idx_bytes(arr: np.ndarray, type_code: int = 8) -> bytes:
    dtype = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}[type_code]
    header = struct.pack(">BBBB", 0, 0, type_code, arr.ndim)
    header += b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(dtype).tobytes()


def write_idx(path, arr, gz=False, type_code=8):
    data = idx_bytes(arr, type_code)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


def make_mnist(root, name="MNIST", n_train=6, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    raw = os.path.join(root, name, "raw")
    os.makedirs(raw, exist_ok=True)
    ext = ".gz" if gz else ""
    train_x = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    train_y = rng.integers(0, 10, n_train, dtype=np.uint8)
    test_x = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    test_y = rng.integers(0, 10, n_test, dtype=np.uint8)
    write_idx(os.path.join(raw, "train-images-idx3-ubyte" + ext), train_x, gz)
    write_idx(os.path.join(raw, "train-labels-idx1-ubyte" + ext), train_y, gz)
    write_idx(os.path.join(raw, "t10k-images-idx3-ubyte" + ext), test_x, gz)
    write_idx(os.path.join(raw, "t10k-labels-idx1-ubyte" + ext), test_y, gz)
    return train_x, train_y, test_x, test_y


def cifar_batch(n, rng, key="labels", n_classes=10):
    data = rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, n_classes, n)]
    return {
        "batch_label": "x",
        key: labels,
        "data": data,
        "filenames": [f"{i}.png" for i in range(n)],
    }


def make_cifar10(root, seed=0):
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = cifar_batch(2, rng)
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batches[name], f)
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": 2}, f)
    return batches


# -- idx ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_code", [8, 9, 11, 12, 13, 14])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_types(tmp_path, type_code, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - (5 if type_code != 8 else 0)).astype(np.float64)
    path = tmp_path / ("a.idx" + (".gz" if gz else ""))
    write_idx(path, arr, gz=gz, type_code=type_code)
    out = read_idx(path)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    assert out.dtype.isnative


def test_read_idx_rejects_garbage(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(ValueError):
        read_idx(p)
    write_idx(tmp_path / "short", np.zeros(10, np.uint8))
    data = (tmp_path / "short").read_bytes()[:-3]
    (tmp_path / "short").write_bytes(data)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


# -- MNIST family ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_idx_files(tmp_path, gz):
    train_x, train_y, test_x, test_y = make_mnist(tmp_path, gz=gz)
    ds = datasets.MNIST(str(tmp_path), train=True)
    assert isinstance(ds.data, ctorch.Tensor) and ds.data.dtype == ctorch.uint8
    assert tuple(ds.data.shape) == (6, 28, 28)
    assert ds.targets.dtype == ctorch.int64 and ds.targets.tolist() == train_y.tolist()
    np.testing.assert_array_equal(ds.data.numpy(), train_x)
    img, target = ds[2]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), train_x[2])
    assert target == int(train_y[2]) and isinstance(target, int)
    assert len(ds) == 6 and ds.train is True
    test = datasets.MNIST(tmp_path, train=False)
    assert len(test) == 3 and test.targets.tolist() == test_y.tolist()
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert "Split: Train" in repr(ds) and "Number of datapoints: 6" in repr(ds)


def test_mnist_transforms_and_dataloader(tmp_path):
    make_mnist(tmp_path, n_train=10)
    ds = datasets.MNIST(
        tmp_path,
        transform=transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        ),
        target_transform=lambda t: t + 100,
    )
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ctorch.float32 and y >= 100
    xb, yb = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    assert tuple(xb.shape) == (4, 1, 28, 28) and yb.dtype == ctorch.int64
    assert "Transform: Compose(" in repr(ds)


def test_mnist_with_worker_processes(tmp_path):
    train_x, train_y, _, _ = make_mnist(tmp_path, n_train=8)
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor())
    loader = DataLoader(ds, batch_size=4, num_workers=2)
    batches = list(loader)
    assert [b[1].tolist() for b in batches] == [train_y[:4].tolist(), train_y[4:].tolist()]
    np.testing.assert_allclose(batches[1][0].numpy()[:, 0], train_x[4:] / 255.0, rtol=1e-6)


@pytest.mark.parametrize(
    "cls, folder", [(datasets.FashionMNIST, "FashionMNIST"), (datasets.KMNIST, "KMNIST")]
)
def test_mnist_variants_use_their_folder(tmp_path, cls, folder):
    make_mnist(tmp_path, name=folder)
    ds = cls(tmp_path)
    assert len(ds) == 6 and len(ds.classes) == 10
    assert ds.raw_folder == os.path.join(str(tmp_path), folder, "raw")


def test_mnist_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path)
    msg = str(info.value)
    assert "download=True" in msg
    assert os.path.join(str(tmp_path), "MNIST", "raw") in msg
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("no network in tests")


def test_mnist_download_offline_says_what_to_place_where(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(tmp_path, download=True)
    msg = str(info.value)
    assert os.path.join(str(tmp_path), "FashionMNIST", "raw") in msg
    for name, md5 in datasets.FashionMNIST.resources:
        assert name in msg and md5 in msg
    assert "fashion-mnist" in msg  # the mirror


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_mnist_download_verifies_md5_and_extracts(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(rng.integers(0, 256, (4, 28, 28)))),
        "train-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(np.array([1, 2, 3, 4]))),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(rng.integers(0, 256, (2, 28, 28)))),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(np.array([5, 6]))),
    }
    requested = []

    def fake_urlopen(request, timeout=None):
        url = request.full_url
        requested.append(url)
        if not url.startswith("https://mirror-b/"):
            raise urllib.error.URLError("first mirror down")
        return _FakeResponse(files[url.rsplit("/", 1)[1]])

    class Tiny(datasets.MNIST):
        mirrors = ["https://mirror-a/", "https://mirror-b/"]
        resources = [(name, hashlib.md5(data).hexdigest()) for name, data in files.items()]

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = Tiny(tmp_path, download=True)
    assert ds.targets.tolist() == [1, 2, 3, 4]
    assert any(u.startswith("https://mirror-a/") for u in requested)
    raw = os.path.join(str(tmp_path), "Tiny", "raw")
    assert os.path.exists(os.path.join(raw, "train-images-idx3-ubyte"))
    # a second construction with download=True downloads nothing
    requested.clear()
    Tiny(tmp_path, download=True)
    assert requested == []


def test_download_url_md5_mismatch(tmp_path, monkeypatch):
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda request, timeout=None: _FakeResponse(b"payload")
    )
    with pytest.raises(dutils.DownloadError, match="md5"):
        dutils.download_url("https://x/f.bin", tmp_path, md5="0" * 32)
    assert not os.path.exists(tmp_path / "f.bin") and not os.path.exists(tmp_path / "f.bin.part")
    path = dutils.download_url("https://x/f.bin", tmp_path, md5=hashlib.md5(b"payload").hexdigest())
    assert open(path, "rb").read() == b"payload"
    assert dutils.check_integrity(path, hashlib.md5(b"payload").hexdigest())


def test_download_unreachable_url_fails_quickly(tmp_path):
    with pytest.raises(dutils.DownloadError):
        dutils.download_url("http://127.0.0.1:9/nothing.gz", tmp_path, timeout=2)  # refused


# -- CIFAR ----------------------------------------------------------------------------------------
def test_cifar10_loads_python_pickles(tmp_path):
    batches = make_cifar10(tmp_path)
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert isinstance(ds.data, np.ndarray) and ds.data.dtype == np.uint8
    assert ds.data.shape == (10, 32, 32, 3)
    assert isinstance(ds.targets, list) and len(ds.targets) == 10
    expected_first = batches["data_batch_1"]["data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(ds.data[0], expected_first)
    assert ds.targets[:2] == batches["data_batch_1"]["labels"]
    assert ds.classes[3] == "cat" and ds.class_to_idx["truck"] == 9
    img, target = ds[0]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(img), expected_first)
    assert target == ds.targets[0]
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    assert len(test) == 2 and tuple(test[1][0].shape) == (3, 32, 32)
    xb, yb = next(iter(DataLoader(test, batch_size=2)))
    assert tuple(xb.shape) == (2, 3, 32, 32) and yb.dtype == ctorch.int64


def test_cifar100_fine_labels(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name, n in [("train", 4), ("test", 2)]:
        with open(folder / name, "wb") as f:
            pickle.dump(cifar_batch(n, rng, key="fine_labels", n_classes=100), f)
    with open(folder / "meta", "wb") as f:
        pickle.dump(
            {"fine_label_names": [f"c{i}" for i in range(100)], "coarse_label_names": []}, f
        )
    ds = datasets.CIFAR100(tmp_path)
    assert ds.data.shape == (4, 32, 32, 3) and len(ds.classes) == 100
    assert all(0 <= t < 100 for t in ds.targets)


def test_cifar_missing_and_offline_messages(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError) as info:
        datasets.CIFAR10(tmp_path)
    msg = str(info.value)
    assert "cifar-10-python.tar.gz" in msg and "data_batch_1" in msg and "batches.meta" in msg
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    with pytest.raises(RuntimeError) as info:
        datasets.CIFAR10(tmp_path, download=True)
    msg = str(info.value)
    assert str(tmp_path) in msg and "c58f30108f718f92721af3b95e74349a" in msg
    assert "cifar-10-batches-py" in msg


def test_cifar_download_extracts_archive(tmp_path, monkeypatch):
    src = tmp_path / "src"
    make_cifar10(src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buf.getvalue()

    class Tiny(datasets.CIFAR10):
        tgz_md5 = hashlib.md5(archive).hexdigest()

    monkeypatch.setattr(
        urllib.request, "urlopen", lambda request, timeout=None: _FakeResponse(archive)
    )
    root = tmp_path / "root"
    ds = Tiny(root, download=True)
    assert len(ds) == 10 and (root / "cifar-10-python.tar.gz").exists()


# -- folders --------------------------------------------------------------------------------------
def make_image_tree(root, classes=("cat", "dog"), per_class=3):
    rng = np.random.default_rng(3)
    for c in classes:
        d = root / c
        d.mkdir(parents=True)
        for i in range(per_class):
            arr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            Image.fromarray(arr).save(d / f"{i}.png")
        (d / "notes.txt").write_text("not an image")


def test_image_folder(tmp_path):
    make_image_tree(tmp_path, classes=("dog", "cat", "bird"), per_class=2)
    ds = datasets.ImageFolder(tmp_path)
    assert ds.classes == ["bird", "cat", "dog"]
    assert ds.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    assert len(ds) == 6 and ds.targets == [0, 0, 1, 1, 2, 2]
    assert ds.imgs == ds.samples and ds.samples[2][0].endswith(os.path.join("cat", "0.png"))
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (5, 6)
    assert target == 1
    t = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    xb, yb = next(iter(DataLoader(t, batch_size=6)))
    assert tuple(xb.shape) == (6, 3, 6, 5) and yb.tolist() == [0, 0, 1, 1, 2, 2]


def test_image_folder_is_valid_file_and_empty_class(tmp_path):
    make_image_tree(tmp_path)
    ds = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith("0.png"))
    assert len(ds) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        datasets.ImageFolder(tmp_path)
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    assert "empty" in ds.classes and len(ds) == 6


def test_dataset_folder_custom_loader(tmp_path):
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(2):
            (tmp_path / c / f"{i}.txt").write_text(f"{c}{i}")
    ds = datasets.DatasetFolder(tmp_path, loader=lambda p: open(p).read(), extensions=(".txt",))
    assert [ds[i] for i in range(4)] == [("a0", 0), ("a1", 0), ("b0", 1), ("b1", 1)]
    with pytest.raises(FileNotFoundError):
        datasets.DatasetFolder(tmp_path / "a", loader=open, extensions=(".txt",))


# -- FakeData -------------------------------------------------------------------------------------
def test_fake_data():
    ds = datasets.FakeData(size=5, image_size=(3, 12, 10), num_classes=4)
    assert len(ds) == 5
    img, target = ds[2]
    assert isinstance(img, Image.Image) and img.size == (10, 12) and img.mode == "RGB"
    assert isinstance(target, int) and 0 <= target < 4
    np.testing.assert_array_equal(np.asarray(ds[2][0]), np.asarray(img))  # same item each time
    assert not np.array_equal(np.asarray(ds[3][0]), np.asarray(img))
    ctorch.manual_seed(0)
    a = ctorch.rand(3)
    ctorch.manual_seed(0)
    ds[1]
    assert ctorch.rand(3).tolist() == a.tolist()  # the global RNG is untouched
    with pytest.raises(IndexError):
        ds[5]
    gray = datasets.FakeData(size=2, image_size=(1, 8, 8), transform=transforms.ToTensor())
    assert tuple(gray[0][0].shape) == (1, 8, 8)
    offset = datasets.FakeData(size=2, image_size=(3, 8, 8), random_offset=1)
    np.testing.assert_array_equal(
        np.asarray(offset[0][0]), np.asarray(datasets.FakeData(size=3, image_size=(3, 8, 8))[1][0])
    )


def test_vision_lazy_submodules():
    import ctorch.vision as vision

    assert vision.datasets.MNIST is datasets.MNIST
    assert vision.transforms.ToTensor is transforms.ToTensor
    assert callable(vision.utils.make_grid)
    with pytest.raises(AttributeError):
        _ = vision.no_such_module
