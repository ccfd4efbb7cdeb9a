"""Adamax (Adam with the infinity norm), torch's single-tensor algorithm."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .._tensor import Tensor
from ._common import (
    adam_like_defaults,
    scalar_state,
    zeros_state,
)
from .optimizer import Optimizer, get_state_step

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = adam_like_defaults(
            lr,
            betas,
            eps,
            weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                pa, g = p._a, p._grad._a
                xp = xp_of(pa)
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = scalar_state(0.0)
                    st["exp_avg"] = zeros_state(pa)
                    st["exp_inf"] = zeros_state(pa)
                step = get_state_step(st)
                m, u = st["exp_avg"]._a, st["exp_inf"]._a
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * pa
                m += (g - m) * (1 - beta1)
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                clr = lr / (1 - beta1**step)
                pa += (-clr) * m / u
                p._bump()
        return loss
