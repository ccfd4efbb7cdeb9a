"""Small helpers shared by the optimizers written in plain array code (RAdam, NAdam, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from .optimizer import get_state_step


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


def zeros_init(*names: str) -> Callable[[dict, Any], None]:
    """A ``stepped_params`` state initialiser: each of ``names`` a zero array like the
    parameter (Adam's moments, Adadelta's accumulators, ...)."""

    def init(st: dict, pa: Any) -> None:
        for name in names:
            st[name] = zeros_state(pa)

    return init


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


def stepped_params(
    opt: Any, group: dict, init: Callable[[dict, Any], None]
) -> Iterator[tuple[Any, Any, Any, dict, float]]:
    """torch's per-parameter preamble of a single-tensor optimizer step: for each parameter
    of ``group`` that has a gradient, ``(p, param array, gradient array, state, step)``, the
    state created on first use (``step`` plus what ``init(state, param array)`` adds) and the
    step count advanced.  After the caller's loop body has updated the parameter in place,
    its version counter is bumped (when the loop asks for the next parameter)."""
    for p in group["params"]:
        if p._grad is None:
            continue
        pa = p._a
        st = opt.state[p]
        if len(st) == 0:
            st["step"] = scalar_state(0.0)
            init(st, pa)
        step = get_state_step(st)
        yield p, pa, p._grad._a, st, step
        p._bump()


def coupled_grad(group: dict, g: Any, pa: Any, weight_decay: float | None = None) -> Any:
    """The gradient the update uses: negated under ``maximize``, plus ``weight_decay * param``
    (L2, "coupled") when a decay is given and nonzero."""
    if group["maximize"]:
        g = -g
    if weight_decay:
        g = g + weight_decay * pa
    return g
