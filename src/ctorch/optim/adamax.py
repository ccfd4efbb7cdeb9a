"""Adamax (Adam with the infinity norm), torch's single-tensor algorithm."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .._tensor import Tensor
from ._common import (
    adam_like_defaults,
    coupled_grad,
    stepped_params,
    zeros_init,
)
from .optimizer import Optimizer

__all__ = ["Adamax"]


_init = zeros_init("exp_avg", "exp_inf")


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
            for _p, pa, g, st, step in stepped_params(self, group, _init):
                xp = xp_of(pa)
                m, u = st["exp_avg"]._a, st["exp_inf"]._a
                g = coupled_grad(group, g, pa, wd)
                m += (g - m) * (1 - beta1)
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                clr = lr / (1 - beta1**step)
                pa += (-clr) * m / u
        return loss
