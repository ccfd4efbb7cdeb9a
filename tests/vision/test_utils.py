"""ctorch.vision.utils: make_grid and save_image (with and without Pillow)."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import ctorch
from ctorch.vision.utils import make_grid, save_image


def arr(t):
    return np.asarray(t.numpy())


def test_make_grid_layout_and_padding():
    batch = ctorch.stack([ctorch.full((3, 4, 5), float(i + 1)) for i in range(5)])
    grid = make_grid(batch, nrow=2, padding=2, pad_value=0.5)
    # 2 columns, 3 rows: width = 2 * (5 + 2) + 2, height = 3 * (4 + 2) + 2
    assert tuple(grid.shape) == (3, 20, 16) and grid.dtype == ctorch.float32
    g = arr(grid)
    np.testing.assert_array_equal(g[:, 2:6, 2:7], 1.0)
    np.testing.assert_array_equal(g[:, 2:6, 9:14], 2.0)
    np.testing.assert_array_equal(g[:, 8:12, 2:7], 3.0)
    np.testing.assert_array_equal(g[:, 14:18, 2:7], 5.0)
    np.testing.assert_array_equal(g[:, 14:18, 9:14], 0.5)  # empty cell keeps pad_value
    np.testing.assert_array_equal(g[:, 0:2, :], 0.5)


def test_make_grid_default_nrow_is_8():
    grid = make_grid(ctorch.rand(10, 3, 2, 2))
    assert tuple(grid.shape) == (3, 2 * 4 + 2, 8 * 4 + 2)


def test_make_grid_gray_becomes_rgb_and_lists():
    grid = make_grid(ctorch.rand(4, 1, 3, 3), nrow=4, padding=0)
    assert tuple(grid.shape) == (3, 3, 12)
    g = arr(grid)
    np.testing.assert_array_equal(g[0], g[1])
    listed = make_grid([ctorch.rand(3, 3, 3) for _ in range(3)], nrow=3, padding=1)
    assert tuple(listed.shape) == (3, 5, 13)


def test_make_grid_single_image_is_returned():
    x = ctorch.rand(3, 4, 4)
    np.testing.assert_array_equal(arr(make_grid(x)), arr(x))
    gray = make_grid(ctorch.rand(4, 4))
    assert tuple(gray.shape) == (3, 4, 4)


def test_make_grid_normalize():
    x = ctorch.stack([ctorch.full((1, 2, 2), 2.0), ctorch.full((1, 2, 2), 4.0)])
    g = arr(make_grid(x, normalize=True, padding=0, nrow=2))
    np.testing.assert_allclose(g[:, :, :2], 0.0)
    np.testing.assert_allclose(g[:, :, 2:], 1.0)
    each = arr(
        make_grid(
            x + ctorch.tensor([0.0, 1.0]).reshape(1, 1, 1, 2),
            normalize=True,
            scale_each=True,
            padding=0,
        )
    )
    np.testing.assert_allclose(each[0, 0], [0, 1, 0, 1])
    rng = arr(make_grid(x, normalize=True, value_range=(0.0, 8.0), padding=0))
    np.testing.assert_allclose(rng[0, 0], [0.25, 0.25, 0.5, 0.5])
    np.testing.assert_array_equal(arr(x)[0, 0, 0], [2.0, 2.0])  # the input is not modified
    with pytest.raises(TypeError):
        make_grid(x, normalize=True, value_range=[0, 1])


def test_save_image_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    x = ctorch.rand(4, 3, 5, 6)
    save_image(x, tmp_path / "g.png", nrow=2, padding=1)
    img = Image.open(tmp_path / "g.png")
    assert img.mode == "RGB" and img.size == (2 * 7 + 1, 2 * 6 + 1)
    grid = arr(make_grid(x, nrow=2, padding=1))
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), expected)
    buf = io.BytesIO()
    save_image(x[0], buf, format="PNG")
    assert buf.getvalue().startswith(b"\x89PNG")
    save_image(x, tmp_path / "n.png", normalize=True)
    assert Image.open(tmp_path / "n.png").size == (4 * 8 + 2, 1 * 7 + 2)


def test_save_image_without_pillow(tmp_path, monkeypatch):
    x = ctorch.rand(2, 3, 4, 5)
    grid = arr(make_grid(x, nrow=2))
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now fails
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    save_image(x, tmp_path / "fallback.png", nrow=2)
    buf = io.BytesIO()
    save_image(x, buf, nrow=2)
    with pytest.raises(RuntimeError, match="Pillow"):
        save_image(x, tmp_path / "out.jpg")
    monkeypatch.undo()
    Image = pytest.importorskip("PIL.Image")
    img = Image.open(tmp_path / "fallback.png")
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), expected)
    assert buf.getvalue() == (tmp_path / "fallback.png").read_bytes()
