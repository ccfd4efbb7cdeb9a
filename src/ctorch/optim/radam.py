"""RAdam (rectified Adam), torch's single-tensor algorithm on the parameter arrays."""

from __future__ import annotations

import math
from typing import Any

from .._backend import xp_of
from .._tensor import Tensor
from ._common import (
    adam_like_defaults,
    stepped_params,
    zeros_init,
)
from .optimizer import Optimizer

__all__ = ["RAdam", "radam_reference"]


def radam_reference(
    p: Any,
    g: Any,
    m: Any,
    v: Any,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    wd: float,
    step: float,
    decoupled: bool,
    maximize: bool,
) -> None:
    xp = xp_of(p)
    if maximize:
        g = -g
    if wd != 0:
        if decoupled:
            p *= 1 - lr * wd
        else:
            g = g + wd * p
    m += (g - m) * (1 - beta1)
    v *= beta2
    v += (1 - beta2) * g * g
    bc1 = 1 - beta1**step
    bc2 = 1 - beta2**step
    m_hat = m / bc1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bc2
    if rho_t > 5.0:
        rect = (
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
        adaptive = math.sqrt(bc2) / (xp.sqrt(v) + eps)
        p -= m_hat * lr * adaptive * rect
    else:
        p -= m_hat * lr


_init = zeros_init("exp_avg", "exp_avg_sq")


class RAdam(Optimizer):
    """``torch.optim.RAdam`` (with ``decoupled_weight_decay`` for RAdamW)."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = adam_like_defaults(
            lr,
            betas,
            eps,
            weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for _p, pa, g, st, step in stepped_params(self, group, _init):
                radam_reference(
                    pa,
                    g,
                    st["exp_avg"]._a,
                    st["exp_avg_sq"]._a,
                    group["lr"],
                    beta1,
                    beta2,
                    group["eps"],
                    group["weight_decay"],
                    step,
                    group["decoupled_weight_decay"],
                    group["maximize"],
                )
        return loss
