"""Adam and AdamW (decoupled weight decay), with amsgrad and maximize."""

from __future__ import annotations

import math
from typing import Any

from .._backend import kernels_for, xp_of
from ._common import adam_like_defaults, stepped_params, zeros_init, zeros_state
from .optimizer import Optimizer, kernel_ok

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


_moments = zeros_init("exp_avg", "exp_avg_sq")


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
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled_default
        defaults = adam_like_defaults(
            lr,
            betas,
            eps,
            weight_decay,
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

            def init(st: dict, pa: Any, ams: bool = ams) -> None:
                _moments(st, pa)
                if ams:
                    st["max_exp_avg_sq"] = zeros_state(pa)

            for p, pa, ga, state, step in stepped_params(self, group, init):
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
