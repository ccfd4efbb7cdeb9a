"""Box operations with torchvision's names and semantics (``torchvision.ops.boxes``).

Boxes are ``Tensor[N, 4]``; ``xyxy`` means ``(x1, y1, x2, y2)`` with ``0 <= x1 < x2`` and
``0 <= y1 < y2``. The IoU family is written with tensor ops, so it is differentiable and runs on
any device; ``nms`` is a greedy loop over NumPy arrays (its output is indices, never
differentiated), as torchvision's CPU kernel.
"""

from __future__ import annotations

import math

import numpy as np

import ctorch

__all__ = [
    "nms",
    "batched_nms",
    "remove_small_boxes",
    "clip_boxes_to_image",
    "box_convert",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "complete_box_iou",
    "distance_box_iou",
    "masks_to_boxes",
]

Tensor = ctorch.Tensor


def _check_boxes(name: str, boxes: Tensor, arg: str = "boxes") -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{name}: {arg} must be a Tensor, got {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name}: {arg} must have shape [N, 4], got {list(boxes.shape)}")


def _upcast(t: Tensor) -> Tensor:
    # protects from overflow in products of coordinates (torchvision's _upcast)
    if t.is_floating_point():
        return t if t.dtype in (ctorch.float32, ctorch.float64) else t.float()
    return t if t.dtype in (ctorch.int32, ctorch.int64) else t.int()


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression: the int64 indices of the boxes kept, by decreasing score.

    A box is dropped when its IoU with a higher-scoring kept box is greater than
    ``iou_threshold``.
    """
    _check_boxes("nms", boxes)
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(
            f"nms: scores must have shape [{boxes.shape[0]}], got {list(scores.shape)}"
        )
    b = _host(boxes).astype(np.float64)
    s = _host(scores)
    n = b.shape[0]
    if n == 0:
        return ctorch.empty((0,), dtype=ctorch.int64, device=boxes.device)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-s.astype(np.float64), kind="stable")
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    for _i in range(n):
        i = order[_i]
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[_i + 1 :]
        rest = rest[~suppressed[rest]]
        if rest.size == 0:
            continue
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[iou > iou_threshold]] = True
    return ctorch.from_numpy(np.asarray(keep, dtype=np.int64)).to(boxes.device)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS independently per category ``idxs``; indices kept, by decreasing score."""
    _check_boxes("batched_nms", boxes)
    if idxs.shape != scores.shape:
        raise ValueError(
            f"batched_nms: idxs and scores must have the same shape, got {list(idxs.shape)} "
            f"and {list(scores.shape)}"
        )
    if boxes.numel() == 0:
        return ctorch.empty((0,), dtype=ctorch.int64, device=boxes.device)
    # torchvision's coordinate trick: shift each category's boxes so they never overlap
    b = _host(boxes).astype(np.float64)
    offsets = _host(idxs).astype(np.float64) * (b.max() + 1)
    shifted = ctorch.from_numpy(b + offsets[:, None])
    return nms(shifted, scores, iou_threshold).to(boxes.device)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the boxes whose width and height are both at least ``min_size``."""
    _check_boxes("remove_small_boxes", boxes)
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return ctorch.where(keep)[0]


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip ``xyxy`` boxes (``Tensor[..., 4]``) to an image of ``size = (height, width)``."""
    dim = boxes.dim()
    boxes_x = boxes[..., 0::2]
    boxes_y = boxes[..., 1::2]
    height, width = size
    boxes_x = boxes_x.clamp(min=0, max=width)
    boxes_y = boxes_y.clamp(min=0, max=height)
    clipped = ctorch.stack((boxes_x, boxes_y), dim=dim)
    return clipped.reshape(boxes.shape)


_FORMATS = ("xyxy", "xywh", "cxcywh")


def _to_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xywh":
        return ctorch.stack((a, b, a + c, b + d), dim=-1)
    # cxcywh
    return ctorch.stack((a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d), dim=-1)


def _from_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    if fmt == "xywh":
        return ctorch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    return ctorch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``xyxy``, ``xywh`` and ``cxcywh``."""
    if in_fmt not in _FORMATS or out_fmt not in _FORMATS:
        raise ValueError(
            "Unsupported Bounding Box Conversions for given in_fmt and out_fmt: "
            f"{in_fmt!r} -> {out_fmt!r} (supported: {', '.join(_FORMATS)})"
        )
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt != "xyxy":
        boxes = _to_xyxy(boxes, in_fmt)
    if out_fmt != "xyxy":
        boxes = _from_xyxy(boxes, out_fmt)
    return boxes


def box_area(boxes: Tensor) -> Tensor:
    """Areas of ``xyxy`` boxes (``Tensor[..., 4]``)."""
    boxes = _upcast(boxes)
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    lt = ctorch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = ctorch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter, union


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise IoU of ``xyxy`` boxes: ``Tensor[N, M]``."""
    _check_boxes("box_iou", boxes1, "boxes1")
    _check_boxes("box_iou", boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalized IoU (Rezatofighi et al. 2019): ``Tensor[N, M]`` in [-1, 1]."""
    _check_boxes("generalized_box_iou", boxes1, "boxes1")
    _check_boxes("generalized_box_iou", boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    lti = ctorch.min(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ctorch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)
    areai = whi[:, :, 0] * whi[:, :, 1]
    return iou - (areai - union) / areai


def _box_diou_iou(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    iou = box_iou(boxes1, boxes2)
    lti = ctorch.min(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ctorch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)
    diagonal_distance_squared = (whi[:, :, 0] ** 2) + (whi[:, :, 1] ** 2) + eps
    x_p = (boxes1[:, 0] + boxes1[:, 2]) / 2
    y_p = (boxes1[:, 1] + boxes1[:, 3]) / 2
    x_g = (boxes2[:, 0] + boxes2[:, 2]) / 2
    y_g = (boxes2[:, 1] + boxes2[:, 3]) / 2
    centers_distance_squared = (_upcast(x_p[:, None] - x_g[None, :]) ** 2) + (
        _upcast(y_p[:, None] - y_g[None, :]) ** 2
    )
    return iou - centers_distance_squared / diagonal_distance_squared, iou


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Pairwise distance IoU (Zheng et al. 2020): ``Tensor[N, M]``."""
    _check_boxes("distance_box_iou", boxes1, "boxes1")
    _check_boxes("distance_box_iou", boxes2, "boxes2")
    diou, _ = _box_diou_iou(_upcast(boxes1), _upcast(boxes2), eps)
    return diou


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Pairwise complete IoU (Zheng et al. 2020): ``Tensor[N, M]``."""
    _check_boxes("complete_box_iou", boxes1, "boxes1")
    _check_boxes("complete_box_iou", boxes2, "boxes2")
    boxes1, boxes2 = _upcast(boxes1), _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    w_pred = boxes1[:, None, 2] - boxes1[:, None, 0]
    h_pred = boxes1[:, None, 3] - boxes1[:, None, 1]
    w_gt = boxes2[:, 2] - boxes2[:, 0]
    h_gt = boxes2[:, 3] - boxes2[:, 1]
    v = (4 / (math.pi**2)) * ctorch.pow(ctorch.atan(w_pred / h_pred) - ctorch.atan(w_gt / h_gt), 2)
    with ctorch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def masks_to_boxes(masks: Tensor) -> Tensor:
    """``xyxy`` bounding boxes (float) of the non-zero pixels of each mask in ``Tensor[N, H, W]``."""
    if masks.dim() != 3:
        raise ValueError(
            f"masks_to_boxes: masks must have shape [N, H, W], got {list(masks.shape)}"
        )
    m = _host(masks)
    out = np.zeros((m.shape[0], 4), dtype=np.float32)
    for i, mask in enumerate(m):
        y, x = np.nonzero(mask)
        if y.size == 0:
            raise ValueError(f"masks_to_boxes: mask {i} is empty")
        out[i] = (x.min(), y.min(), x.max(), y.max())
    return ctorch.from_numpy(out).to(masks.device)
