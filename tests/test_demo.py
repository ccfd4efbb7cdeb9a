"""The demo (``python -m ctorch.demo``) trains on the bundled digits and writes two PNGs."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from ctorch import demo
from ctorch.vision.datasets import Digits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", data[16:24])
    try:
        from PIL import Image
    except ImportError:
        return width, height
    with Image.open(path) as im:
        im.verify()
    return width, height


def test_digits_dataset() -> None:
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    assert tuple(train.data.shape) == (1437, 8, 8) and str(train.data.dtype) == "ctorch.uint8"
    assert int(train.data.max()) == 255 and int(train.data.min()) == 0
    both = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    assert np.bincount(both).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # deterministic split, no overlap
    again = Digits(train=False)
    np.testing.assert_array_equal(again.data.numpy(), test.data.numpy())
    img, label = test[0]
    assert img.size == (8, 8) and img.mode == "L" and 0 <= label <= 9
    assert train.class_to_idx["3 - three"] == 3


def test_demo_trains_and_writes_pictures(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = demo.main(["--epochs", "3", "--out", str(out), "--quiet", "--threads", "1"])
    assert result["test_acc"] > 0.90
    assert len(result["history"]["test_acc"]) == 3
    w, h = _png_size(out / "curves.png")
    assert w > 400 and h > 200
    w, h = _png_size(out / "predictions.png")
    assert w > 100 and h > 100


def test_render_helpers() -> None:
    img = demo.render_curves([1.0, 0.5, 0.2], [0.8, 0.9, 0.95])
    assert img.shape[0] == 3 and img.min() >= 0 and img.max() <= 1
    grid = demo.render_predictions(
        np.random.default_rng(0).random((10, 8, 8)), list(range(10)), [0] * 10, nrow=5
    )
    arr = grid.numpy()
    assert arr.shape[0] == 3
    # tile 0 is right (green frame), tile 1 wrong (red frame): both colours appear
    assert ((arr[1] > 0.7) & (arr[0] < 0.2)).any() and ((arr[0] > 0.9) & (arr[1] < 0.2)).any()


def test_demo_cli_help() -> None:
    proc = subprocess.run(
        [sys.executable, *(["-S"] if sys.flags.no_site else []), "-m", "ctorch.demo", "--help"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0
    for flag in (
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--out",
        "--dataset",
        "--root",
        "--threads",
    ):
        assert flag in proc.stdout


def test_python_m_ctorch_dispatch() -> None:
    proc = subprocess.run(
        [sys.executable, *(["-S"] if sys.flags.no_site else []), "-m", "ctorch", "--help"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0
    assert "python -m ctorch run script.py" in proc.stdout
