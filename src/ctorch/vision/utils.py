"""make_grid and save_image (``torchvision.utils``)."""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import IO, Any

import numpy as np

__all__ = ["make_grid", "save_image"]


def _as_array(tensor: Any) -> np.ndarray:
    import ctorch

    if isinstance(tensor, (list, tuple)):
        return np.stack([_as_array(t) for t in tensor])
    if isinstance(tensor, ctorch.Tensor):
        if getattr(tensor, "requires_grad", False):
            tensor = tensor.detach()
        return np.asarray(tensor.numpy())
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")


def _as_batch(arr: np.ndarray) -> np.ndarray:
    """make_grid's input as a B x C x H x W batch, gray images made 3-channel."""
    if arr.ndim == 2:  # single image H x W
        arr = arr[None]
    if arr.ndim == 3:  # single image C x H x W
        if arr.shape[0] == 1:  # gray -> RGB
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:  # batch of gray images
        arr = np.concatenate((arr, arr, arr), 1)
    if arr.ndim != 4:
        raise ValueError(f"expected a 2-, 3- or 4-d tensor, got {arr.ndim} dims")
    return arr


def _normalized(
    arr: np.ndarray, value_range: tuple[float, float] | None, scale_each: bool
) -> np.ndarray:
    """A copy of the batch shifted to [0, 1] (each image when ``scale_each``), by
    ``value_range`` or the min and max."""
    arr = arr.copy()
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError(
            "value_range has to be a tuple (min, max) if specified. min and max are numbers"
        )

    def norm_ip(img: np.ndarray, low: float, high: float) -> None:
        np.clip(img, low, high, out=img)
        img -= low
        img /= max(high - low, 1e-5)

    def norm_range(t: np.ndarray) -> None:
        if value_range is not None:
            norm_ip(t, value_range[0], value_range[1])
        else:
            norm_ip(t, float(t.min()), float(t.max()))

    if arr.dtype.kind not in "fV":
        arr = arr.astype(np.float32)
    if scale_each:
        for t in arr:
            norm_range(t)
    else:
        norm_range(arr)
    return arr


def _tile(arr: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    """The batch laid out ``nrow`` images a row, ``padding`` pixels of ``pad_value`` apart."""
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    num_channels = arr.shape[1]
    grid = np.full(
        (num_channels, height * ymaps + padding, width * xmaps + padding),
        pad_value,
        dtype=arr.dtype,
    )
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            top, left = y * height + padding, x * width + padding
            grid[:, top : top + height - padding, left : left + width - padding] = arr[k]
            k += 1
    return grid


def make_grid(
    tensor: Any,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple[float, float] | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
    **kwargs: Any,
) -> Any:
    """Tile a batch (B x C x H x W tensor, or a list of C x H x W tensors) into one image.

    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` between them; ``normalize``
    shifts each image (``scale_each``) or the whole batch to [0, 1] using ``value_range`` or
    the min and max. Gray images become 3-channel, as in torchvision.
    """
    import ctorch

    if "range" in kwargs:  # torchvision's old keyword
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got unexpected keyword arguments {sorted(kwargs)}")
    arr = _as_batch(_as_array(tensor))
    if normalize:
        arr = _normalized(arr, value_range, scale_each)
    grid = arr[0] if arr.shape[0] == 1 else _tile(arr, nrow, padding, pad_value)
    return ctorch.from_numpy(np.ascontiguousarray(grid))


def _png_bytes(rgb: np.ndarray) -> bytes:
    """A minimal PNG encoder (8-bit gray, RGB or RGBA, no filtering) for when Pillow is absent."""
    if rgb.ndim == 2:
        rgb = rgb[:, :, None]
    h, w, c = rgb.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + np.ascontiguousarray(rgb[y]).tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def save_image(
    tensor: Any,
    fp: str | os.PathLike | IO[bytes],
    format: str | None = None,
    **kwargs: Any,
) -> None:
    """Save a tensor (or batch, tiled with :func:`make_grid` and its keyword arguments) as an
    image file. Values are expected in [0, 1]. Uses Pillow; without Pillow it writes PNG."""
    grid = _as_array(make_grid(tensor, **kwargs))
    if grid.ndim == 2:
        grid = grid[None]
    ndarr = np.clip(grid.astype(np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)
    ndarr = np.ascontiguousarray(ndarr.transpose(1, 2, 0))
    if ndarr.shape[2] == 1:
        ndarr = ndarr[:, :, 0]
    try:
        from PIL import Image
    except ImportError:
        Image = None  # type: ignore[assignment]
    if Image is not None:
        Image.fromarray(ndarr).save(fp, format=format)
        return
    ext = os.path.splitext(os.fspath(fp))[1].lower() if isinstance(fp, (str, os.PathLike)) else ""
    fmt = (format or ext.lstrip(".") or "png").lower()
    if fmt != "png":
        raise RuntimeError(
            f"save_image: Pillow is not installed, so only PNG can be written (asked for {fmt!r}); "
            "install Pillow (`pip install pillow`) for other formats"
        )
    data = _png_bytes(ndarr)
    if isinstance(fp, (str, os.PathLike)):
        with open(fp, "wb") as f:
            f.write(data)
    else:
        fp.write(data)
