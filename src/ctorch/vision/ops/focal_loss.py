"""Sigmoid focal loss (Lin et al. 2017, RetinaNet), ``torchvision.ops.sigmoid_focal_loss``."""

from __future__ import annotations

import ctorch
from ctorch.nn import functional as F

__all__ = ["sigmoid_focal_loss"]

Tensor = ctorch.Tensor


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: float = 0.25,
    gamma: float = 2,
    reduction: str = "none",
) -> Tensor:
    """``alpha_t * (1 - p_t) ** gamma * BCE(inputs, targets)``; ``alpha < 0`` disables weighting.

    ``reduction``: ``"none"``, ``"mean"`` or ``"sum"``.
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: "
            "'none', 'mean', 'sum'"
        )
    p = ctorch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss
