"""Rprop (resilient backpropagation), torch's single-tensor algorithm."""

from __future__ import annotations

from typing import Any

from .._backend import xp_of
from .._tensor import Tensor
from ._common import check_nonneg, coupled_grad, lr_value, stepped_params, zeros_state
from .optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = lr_value(lr)
        check_nonneg("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(
            lr=lr,
            etas=tuple(etas),
            step_sizes=tuple(step_sizes),
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            smin, smax = group["step_sizes"]

            def init(st: dict, pa: Any, lr: float = group["lr"]) -> None:
                st["prev"] = zeros_state(pa)
                st["step_size"] = Tensor._make(xp_of(pa).full_like(pa, lr))

            for _p, pa, g, st, _step in stepped_params(self, group, init):
                xp = xp_of(pa)
                prev, ss = st["prev"]._a, st["step_size"]._a
                g = coupled_grad(group, g, pa)
                s = xp.sign(g * prev)
                factor = xp.where(s > 0, etaplus, xp.where(s < 0, etaminus, 1.0)).astype(pa.dtype)
                ss *= factor
                xp.clip(ss, smin, smax, out=ss)
                g = xp.where(s < 0, 0, g).astype(pa.dtype)
                pa -= xp.sign(g) * ss
                prev[...] = g
        return loss
