"""Adam and AdamW (decoupled weight decay), with amsgrad and maximize."""

from __future__ import annotations

import math

import numpy as np

from .._backend import kernels_for, xp_of
from .._tensor import Tensor
from .optimizer import Optimizer, get_state_step, kernel_ok

__all__ = ["Adam", "AdamW", "adam_reference"]


def adam_reference(
    p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize, decoupled
):
    """Plain array implementation of torch's single-tensor Adam/AdamW (in place)."""
    xp = xp_of(p)
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    m += (g - m) * (1 - beta1)  # lerp
    v *= beta2
    v += (1 - beta2) * g * g
    bc1 = 1 - beta1**step
    bc2 = 1 - beta2**step
    step_size = lr / bc1
    bc2_sqrt = math.sqrt(bc2)
    if amsgrad:
        xp.maximum(vmax, v, out=vmax)
        denom = xp.sqrt(vmax) / bc2_sqrt + eps
    else:
        denom = xp.sqrt(v) / bc2_sqrt + eps
    p -= step_size * (m / denom)


class Adam(Optimizer):
    _decoupled_default = False

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=None,
    ) -> None:
        if isinstance(lr, Tensor):
            lr = float(lr.item())
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled_default
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            ams, maxi = group["amsgrad"], group["maximize"]
            dec = group.get("decoupled_weight_decay", self._decoupled_default)
            for p in group["params"]:
                if p._grad is None:
                    continue
                pa, ga = p._a, p._grad._a
                state = self.state[p]
                if len(state) == 0:
                    xp = xp_of(pa)
                    state["step"] = Tensor._make(np.zeros((), np.float32))
                    state["exp_avg"] = Tensor._make(xp.zeros_like(pa))
                    state["exp_avg_sq"] = Tensor._make(xp.zeros_like(pa))
                    if ams:
                        state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(pa))
                step = get_state_step(state)
                m, v = state["exp_avg"]._a, state["exp_avg_sq"]._a
                vmax = state["max_exp_avg_sq"]._a if ams else None
                if (
                    kernel_ok(p, "adam_step", group["fused"])
                    and ga.dtype == pa.dtype
                    and ga.flags.c_contiguous
                ):
                    kernels_for(pa).adam_step(
                        pa.reshape(-1),
                        ga.reshape(-1),
                        m.reshape(-1),
                        v.reshape(-1),
                        vmax.reshape(-1) if vmax is not None else None,
                        float(lr),
                        float(beta1),
                        float(beta2),
                        float(eps),
                        float(wd),
                        float(step),
                        bool(ams),
                        bool(maxi),
                        bool(dec),
                    )
                else:
                    adam_reference(
                        pa, ga, m, v, vmax, lr, beta1, beta2, eps, wd, step, ams, maxi, dec
                    )
                p._bump()
        return loss


class AdamW(Adam):
    _decoupled_default = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
