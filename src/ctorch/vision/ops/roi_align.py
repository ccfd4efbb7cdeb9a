"""``roi_align`` and ``roi_pool`` (``torchvision.ops.roi_align`` / ``roi_pool``).

RoIAlign averages bilinear samples on a regular grid in each output bin (He et al. 2017).
Bilinear sampling is separable, so for one region the output is ``Ay @ X[c] @ Ax.T`` where
``Ay`` (``pooled_h x H``) and ``Ax`` (``pooled_w x W``) hold the summed interpolation weights of
the samples of each bin (zero for samples outside the image, as torchvision's kernel). The
weights are computed on the host with torchvision's exact sampling rules; the products are
tensor matmuls, so autograd gives the backward (to the input; boxes get no gradient, as in
torchvision) and the op runs on any device.

RoIPool takes the maximum of each quantized bin (Girshick 2015); the arg-max positions are found
on the host and the values gathered with tensor indexing, which gives the backward.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import ctorch
from ctorch import nn

__all__ = ["roi_align", "RoIAlign", "roi_pool", "RoIPool"]

Tensor = ctorch.Tensor


def _pair(x: Any, name: str) -> tuple[int, int]:
    if isinstance(x, int):
        return x, x
    if isinstance(x, (list, tuple)) and len(x) == 2:
        return int(x[0]), int(x[1])
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return int(x[0]), int(x[0])
    raise ValueError(f"{name}: output_size must be an int or a pair of ints, got {x!r}")


def convert_boxes_to_roi_format(boxes: list[Tensor]) -> Tensor:
    """A list of per-image ``Tensor[L, 4]`` -> one ``Tensor[K, 5]`` with the image index first."""
    concat = ctorch.cat([b for b in boxes], dim=0)
    ids = ctorch.cat(
        [
            ctorch.full((b.shape[0], 1), i, dtype=concat.dtype, device=concat.device)
            for i, b in enumerate(boxes)
        ],
        dim=0,
    )
    return ctorch.cat([ids, concat], dim=1)


def _rois(name: str, input: Tensor, boxes: Any) -> np.ndarray:
    if not isinstance(input, Tensor) or input.dim() != 4:
        shape = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{name}: input must be a 4-D Tensor [N, C, H, W], got {shape}")
    if isinstance(boxes, (list, tuple)):
        for b in boxes:
            if not isinstance(b, Tensor) or b.dim() != 2 or b.shape[1] != 4:
                raise ValueError(
                    f"{name}: boxes given as a list must hold Tensor[L, 4], got "
                    f"{list(b.shape) if isinstance(b, Tensor) else type(b).__name__}"
                )
        if len(boxes) == 0:
            return np.zeros((0, 5))
        boxes = convert_boxes_to_roi_format(list(boxes))
    if not isinstance(boxes, Tensor) or boxes.dim() != 2 or boxes.shape[1] != 5:
        raise ValueError(
            f"{name}: boxes must be a Tensor[K, 5] (batch index, x1, y1, x2, y2) or a list of "
            f"Tensor[L, 4], got {list(boxes.shape) if isinstance(boxes, Tensor) else boxes!r}"
        )
    rois = np.asarray(boxes.detach().cpu().numpy(), dtype=np.float64)
    if rois.shape[0]:
        bidx = rois[:, 0]
        if (bidx < 0).any() or (bidx >= input.shape[0]).any() or (bidx != np.floor(bidx)).any():
            raise ValueError(
                f"{name}: box batch indices must be integers in [0, {input.shape[0]}), got "
                f"{sorted(set(bidx.tolist()))[:8]}"
            )
    return rois


def _axis_weights(start: float, size: float, pooled: int, grid: int, length: int) -> np.ndarray:
    """Summed bilinear weights (pooled x length) of the grid samples of each bin on one axis."""
    bin_size = size / pooled
    p = np.arange(pooled)[:, None]
    i = np.arange(grid)[None, :]
    pos = start + p * bin_size + (i + 0.5) * bin_size / grid  # (pooled, grid)
    valid = (pos >= -1.0) & (pos <= length)
    pos = np.where(pos <= 0, 0.0, pos)
    low = np.floor(pos).astype(np.int64)
    at_end = low >= length - 1
    low = np.where(at_end, length - 1, low)
    high = np.where(at_end, length - 1, low + 1)
    pos = np.where(at_end, low.astype(np.float64), pos)
    frac = pos - low
    w = np.zeros((pooled, length))
    rows = np.broadcast_to(p, pos.shape)
    np.add.at(w, (rows[valid], low[valid]), (1.0 - frac)[valid])
    np.add.at(w, (rows[valid], high[valid]), frac[valid])
    return w


def roi_align(
    input: Tensor,
    boxes: Tensor | list[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Tensor:
    """RoIAlign: ``Tensor[K, C, pooled_h, pooled_w]`` for ``K`` boxes over ``input[N, C, H, W]``.

    ``boxes`` is ``Tensor[K, 5]`` (image index, x1, y1, x2, y2) or a list of per-image
    ``Tensor[L, 4]``; ``sampling_ratio <= 0`` samples ``ceil(roi_size / pooled)`` points per bin
    side; ``aligned=True`` shifts boxes by -0.5 pixel (the pixel-model fix of Detectron2).
    """
    ph, pw = _pair(output_size, "roi_align")
    rois = _rois("roi_align", input, boxes)
    n, c, h, w = input.shape
    k = rois.shape[0]
    if k == 0:
        return input.new_zeros((0, c, ph, pw))
    offset = 0.5 if aligned else 0.0
    ay = np.zeros((k, ph, h))
    ax = np.zeros((k, pw, w))
    for r in range(k):
        _, x1, y1, x2, y2 = rois[r]
        start_w, start_h = x1 * spatial_scale - offset, y1 * spatial_scale - offset
        roi_w = x2 * spatial_scale - offset - start_w
        roi_h = y2 * spatial_scale - offset - start_h
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / ph)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pw)
        count = max(gh * gw, 1)
        ay[r] = _axis_weights(start_h, roi_h, ph, gh, h) / count
        ax[r] = _axis_weights(start_w, roi_w, pw, gw, w)
    dt, dev = input.dtype, input.device
    outs: list[Tensor] = []
    order: list[np.ndarray] = []
    bidx = rois[:, 0].astype(np.int64)
    for b in np.unique(bidx):
        sel = np.nonzero(bidx == b)[0]
        a_y = ctorch.from_numpy(ay[sel][:, None]).to(dtype=dt, device=dev)  # (k, 1, ph, H)
        a_x = ctorch.from_numpy(ax[sel][:, None].transpose(0, 1, 3, 2).copy()).to(
            dtype=dt, device=dev
        )  # (k, 1, W, pw)
        outs.append(ctorch.matmul(ctorch.matmul(a_y, input[int(b)]), a_x))
        order.append(sel)
    out = outs[0] if len(outs) == 1 else ctorch.cat(outs, dim=0)
    perm = np.concatenate(order)
    if not np.array_equal(perm, np.arange(k)):
        inv = np.empty(k, dtype=np.int64)
        inv[perm] = np.arange(k)
        out = out[ctorch.from_numpy(inv).to(dev)]
    return out


def _c_round(x: float) -> int:
    # C's round(): halves away from zero
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def roi_pool(
    input: Tensor,
    boxes: Tensor | list[Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
) -> Tensor:
    """RoIPool (Fast R-CNN): the maximum of each quantized bin; empty bins give 0."""
    ph, pw = _pair(output_size, "roi_pool")
    rois = _rois("roi_pool", input, boxes)
    n, c, h, w = input.shape
    k = rois.shape[0]
    if k == 0:
        return input.new_zeros((0, c, ph, pw))
    x = np.asarray(input.detach().cpu().numpy())
    idx = np.zeros((k, c, ph, pw), dtype=np.int64)
    empty = np.zeros((k, 1, ph, pw), dtype=bool)
    for r in range(k):
        b = int(rois[r, 0])
        sw, sh, ew, eh = (_c_round(v * spatial_scale) for v in rois[r, 1:])
        roi_w, roi_h = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        bin_h, bin_w = roi_h / ph, roi_w / pw
        for i in range(ph):
            hs = min(max(math.floor(i * bin_h) + sh, 0), h)
            he = min(max(math.ceil((i + 1) * bin_h) + sh, 0), h)
            for j in range(pw):
                ws = min(max(math.floor(j * bin_w) + sw, 0), w)
                we = min(max(math.ceil((j + 1) * bin_w) + sw, 0), w)
                if he <= hs or we <= ws:
                    empty[r, 0, i, j] = True
                    continue
                region = x[b, :, hs:he, ws:we].reshape(c, -1)
                a = np.argmax(region, axis=1)
                rw = we - ws
                idx[r, :, i, j] = (
                    b * c * h * w + np.arange(c) * h * w + (hs + a // rw) * w + ws + a % rw
                )
    dev = input.device
    vals = input.reshape(-1)[ctorch.from_numpy(idx).to(dev)]
    if empty.any():
        vals = ctorch.where(
            ctorch.from_numpy(empty).to(dev), ctorch.zeros((), dtype=input.dtype, device=dev), vals
        )
    return vals


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align`."""

    def __init__(
        self,
        output_size: int | tuple[int, int],
        spatial_scale: float,
        sampling_ratio: int,
        aligned: bool = False,
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois: Tensor | list[Tensor]) -> Tensor:
        return roi_align(
            input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
            f"aligned={self.aligned})"
        )


class RoIPool(nn.Module):
    """Module form of :func:`roi_pool`."""

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois: Tensor | list[Tensor]) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(output_size={self.output_size}, "
            f"spatial_scale={self.spatial_scale})"
        )
