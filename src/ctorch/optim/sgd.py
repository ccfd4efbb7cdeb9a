"""SGD with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from .._backend import kernels_for, xp_of
from .._tensor import Tensor
from .optimizer import Optimizer, kernel_ok, required

__all__ = ["SGD", "sgd_reference"]


def sgd_reference(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """Plain array implementation of torch's single-tensor SGD; returns the new buffer."""
    xp = xp_of(p)
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if buf is None:
            buf = g.copy()
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    xp.subtract(p, lr * g, out=p, casting="unsafe")
    return buf


class SGD(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ) -> None:
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nest, maxi = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if p._grad.is_sparse:  # Embedding(sparse=True): sparse momentum buffer (#13)
                    from ..sparse._optim import sgd_sparse_step

                    sgd_sparse_step(p, p._grad, state, group)
                    p._bump()
                    continue
                buf = state.get("momentum_buffer")
                pa, ga = p._a, p._grad._a
                if (
                    kernel_ok(p, "sgd_step", group["fused"])
                    and ga.dtype == pa.dtype
                    and ga.flags.c_contiguous
                ):
                    first = buf is None
                    if mom != 0 and first:
                        buf = state["momentum_buffer"] = Tensor._make(xp_of(pa).empty_like(pa))
                    kernels_for(pa).sgd_step(
                        pa.reshape(-1),
                        ga.reshape(-1),
                        buf._a.reshape(-1) if buf is not None else None,
                        float(lr),
                        float(mom),
                        float(damp),
                        float(wd),
                        bool(nest),
                        bool(maxi),
                        bool(first),
                    )
                else:
                    b = sgd_reference(
                        pa, ga, None if buf is None else buf._a, lr, mom, damp, wd, nest, maxi
                    )
                    if mom != 0 and buf is None:
                        state["momentum_buffer"] = Tensor._make(b)
                p._bump()
        return loss
