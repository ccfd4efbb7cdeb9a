"""ASGD (averaged SGD), torch's single-tensor algorithm (eta and mu kept as float32 0-d
tensors, as torch keeps them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._common import (
    check_nonneg,
    coupled_grad,
    lr_value,
    scalar_state,
    stepped_params,
    zeros_state,
)
from .optimizer import Optimizer

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        lr = lr_value(lr)
        check_nonneg("learning rate", lr)
        check_nonneg("weight_decay value", weight_decay)
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]

            def init(st: dict, pa: Any, lr: float = lr) -> None:
                st["eta"] = scalar_state(lr)
                st["mu"] = scalar_state(1.0)
                st["ax"] = zeros_state(pa)

            for _p, pa, g, st, step in stepped_params(self, group, init):
                g = coupled_grad(group, g, pa, wd)
                eta = float(st["eta"]._a)
                pa *= 1 - lambd * eta
                pa += (-eta) * g
                ax = st["ax"]._a
                mu = float(st["mu"]._a)
                if mu != 1:
                    ax += (pa - ax) * np.float32(mu).astype(pa.dtype)
                else:
                    ax[...] = pa
                st["eta"]._a[...] = lr / ((1 + lambd * lr * step) ** alpha)
                st["mu"]._a[...] = 1 / max(1, step - t0)
        return loss
