"""IoU-based box regression losses over paired boxes (``torchvision.ops.*_box_iou_loss``)."""

from __future__ import annotations

import math

import ctorch

__all__ = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]

Tensor = ctorch.Tensor


def _upcast_non_float(t: Tensor) -> Tensor:
    return t if t.dtype in (ctorch.float32, ctorch.float64) else t.float()


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(
        f"{name}: invalid value for arg 'reduction': '{reduction}'; supported reduction modes: "
        "'none', 'mean', 'sum'"
    )


def _loss_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xkis1, ykis1 = ctorch.max(x1, x1g), ctorch.max(y1, y1g)
    xkis2, ykis2 = ctorch.min(x2, x2g), ctorch.min(y2, y2g)
    inter = (xkis2 - xkis1).clamp(min=0) * (ykis2 - ykis1).clamp(min=0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def _iou_and_enclosure(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple:
    """``(iou, union, boxes1's corners, boxes2's corners, the enclosing box's corners)`` of
    each pair, corners as ``(x1, y1, x2, y2)``."""
    inter, union = _loss_inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1, yc1 = ctorch.min(x1, x1g), ctorch.min(y1, y1g)
    xc2, yc2 = ctorch.max(x2, x2g), ctorch.max(y2, y2g)
    return iou, union, (x1, y1, x2, y2), (x1g, y1g, x2g, y2g), (xc1, yc1, xc2, yc2)


def generalized_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - GIoU`` of each pair ``(boxes1[i], boxes2[i])`` (``xyxy``)."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    iou, union, _, _, (xc1, yc1, xc2, yc2) = _iou_and_enclosure(boxes1, boxes2, eps)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    miou = iou - ((area_c - union) / (area_c + eps))
    return _reduce(1 - miou, reduction, "generalized_box_iou_loss")


def _diou_iou_loss(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    iou, _, (x1, y1, x2, y2), (x1g, y1g, x2g, y2g), (xc1, yc1, xc2, yc2) = _iou_and_enclosure(
        boxes1, boxes2, eps
    )
    diagonal_distance_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x_p, y_p = (x2 + x1) / 2, (y2 + y1) / 2
    x_g, y_g = (x1g + x2g) / 2, (y1g + y2g) / 2
    distance = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    return 1 - iou + (distance / diagonal_distance_squared), iou


def distance_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - DIoU`` of each pair of ``xyxy`` boxes."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    loss, _ = _diou_iou_loss(boxes1, boxes2, eps)
    return _reduce(loss, reduction, "distance_box_iou_loss")


def complete_box_iou_loss(
    boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7
) -> Tensor:
    """``1 - CIoU`` of each pair of ``xyxy`` boxes."""
    boxes1, boxes2 = _upcast_non_float(boxes1), _upcast_non_float(boxes2)
    diou_loss, iou = _diou_iou_loss(boxes1, boxes2, eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    w_pred, h_pred = x2 - x1, y2 - y1
    w_gt, h_gt = x2g - x1g, y2g - y1g
    v = (4 / (math.pi**2)) * ctorch.pow(ctorch.atan(w_gt / h_gt) - ctorch.atan(w_pred / h_pred), 2)
    with ctorch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(diou_loss + alpha * v, reduction, "complete_box_iou_loss")
