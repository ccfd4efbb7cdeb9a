"""NAdam (Adam with Nesterov momentum), torch's single-tensor algorithm."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ._common import (
    adam_like_defaults,
    check_nonneg,
    coupled_grad,
    scalar_state,
    stepped_params,
    zeros_init,
)
from .optimizer import Optimizer

__all__ = ["NAdam"]


_moments = zeros_init("exp_avg", "exp_avg_sq")


def _init(st: dict, pa: Any) -> None:
    st["mu_product"] = scalar_state(1.0)
    _moments(st, pa)


class NAdam(Optimizer):
    """``torch.optim.NAdam`` (``decoupled_weight_decay`` gives NAdamW)."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        check_nonneg(
            "momentum_decay value", momentum_decay
        )  # after the shared ones (torch's order)
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            md = group["momentum_decay"]
            for _p, pa, g, st, step in stepped_params(self, group, _init):
                xp = xp_of(pa)
                m, v = st["exp_avg"]._a, st["exp_avg_sq"]._a
                bc2 = 1 - beta2**step
                decoupled = group["decoupled_weight_decay"]
                if wd != 0 and decoupled:
                    pa *= 1 - lr * wd
                g = coupled_grad(group, g, pa, None if decoupled else wd)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                # mu_product is a float32 0-d tensor in torch: round like it does
                mp = st["mu_product"]._a
                mp[...] = np.float32(mp * np.float32(mu))
                mu_product = float(mp)
                m += (g - m) * (1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                denom = xp.sqrt(v / bc2) + eps
                mu_product_next = mu_product * mu_next
                pa += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
                pa += ((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom
        return loss
