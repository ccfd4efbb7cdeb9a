"""Small helpers shared by the optimizers written in plain array code (RAdam, NAdam, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor


def check_nonneg(name: str, v: float) -> None:
    if not 0.0 <= v:
        raise ValueError(f"Invalid {name}: {v}")


def check_betas(betas: tuple) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def scalar_state(value: float) -> Tensor:
    """A 0-d float32 tensor, as torch keeps ``step``/``mu_product``/``eta`` (its scalar dtype)."""
    return Tensor._make(np.array(value, np.float32))


def zeros_state(pa: Any) -> Tensor:
    return Tensor._make(xp_of(pa).zeros_like(pa))


def lr_value(lr: Any) -> float:
    return float(lr.item()) if isinstance(lr, Tensor) else lr


def adam_like_defaults(lr: Any, betas: tuple, eps: float, weight_decay: float, **extra) -> dict:
    """Validate the hyper-parameters the Adam family shares (torch's messages) and return the
    param-group defaults: ``lr``, ``betas``, ``eps``, ``weight_decay`` and then ``extra``."""
    lr = lr_value(lr)
    check_nonneg("learning rate", lr)
    check_nonneg("epsilon value", eps)
    check_betas(betas)
    check_nonneg("weight_decay value", weight_decay)
    return dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, **extra)
