"""RMSprop, Adagrad and Adadelta: fused kernels on the CPU, plain reference paths."""

from __future__ import annotations

import numpy as np

from .._backend import kernels_for, xp_of
from .._tensor import Tensor
from .optimizer import Optimizer, get_state_step, kernel_ok

__all__ = [
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "rmsprop_reference",
    "adagrad_reference",
    "adadelta_reference",
]


def _check(name, v, cond=lambda v: v >= 0.0):
    if not cond(v):
        raise ValueError(f"Invalid {name}: {v}")


def rmsprop_reference(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, centered, maximize):
    xp = xp_of(p)
    if maximize:
        g = -g
    if wd != 0:
        g = g + wd * p
    sq *= alpha
    sq += (1 - alpha) * g * g
    if centered:
        gavg += (g - gavg) * (1 - alpha)
        avg = xp.sqrt(sq - gavg * gavg)
    else:
        avg = xp.sqrt(sq)
    avg = avg + eps
    if momentum > 0:
        buf *= momentum
        buf += g / avg
        p -= lr * buf
    else:
        p -= lr * (g / avg)


def adagrad_reference(p, g, ssum, lr, lr_decay, wd, eps, step, maximize):
    xp = xp_of(p)
    if maximize:
        g = -g
    if wd != 0:
        g = g + wd * p
    clr = lr / (1 + (step - 1) * lr_decay)
    ssum += g * g
    p -= clr * (g / (xp.sqrt(ssum) + eps))


def adadelta_reference(p, g, sq, acc, lr, rho, eps, wd, maximize):
    xp = xp_of(p)
    if maximize:
        g = -g
    if wd != 0:
        g = g + wd * p
    sq *= rho
    sq += (1 - rho) * g * g
    std = xp.sqrt(sq + eps)
    delta = xp.sqrt(acc + eps) / std * g
    acc *= rho
    acc += (1 - rho) * delta * delta
    p -= lr * delta


def _fusable(p, name, fused):
    g = p._grad._a
    return kernel_ok(p, name, fused) and g.dtype == p._a.dtype and g.flags.c_contiguous


class RMSprop(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ) -> None:
        for n, v in (
            ("learning rate", lr),
            ("epsilon value", eps),
            ("momentum value", momentum),
            ("weight_decay value", weight_decay),
            ("alpha value", alpha),
        ):
            _check(n, v)
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                alpha=alpha,
                eps=eps,
                centered=centered,
                weight_decay=weight_decay,
                capturable=capturable,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
            ),
        )

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                pa, ga = p._a, p._grad._a
                st = self.state[p]
                xp = xp_of(pa)
                if len(st) == 0:
                    st["step"] = Tensor._make(np.zeros((), np.float32))
                    st["square_avg"] = Tensor._make(xp.zeros_like(pa))
                    if group["momentum"] > 0:
                        st["momentum_buffer"] = Tensor._make(xp.zeros_like(pa))
                    if group["centered"]:
                        st["grad_avg"] = Tensor._make(xp.zeros_like(pa))
                get_state_step(st)
                sq = st["square_avg"]._a
                gavg = st["grad_avg"]._a if group["centered"] else None
                buf = st["momentum_buffer"]._a if group["momentum"] > 0 else None
                args = (
                    group["lr"],
                    group["alpha"],
                    group["eps"],
                    group["weight_decay"],
                    group["momentum"],
                    group["centered"],
                    group["maximize"],
                )
                if _fusable(p, "rmsprop_step", None):
                    kernels_for(pa).rmsprop_step(
                        pa.reshape(-1),
                        ga.reshape(-1),
                        sq.reshape(-1),
                        None if gavg is None else gavg.reshape(-1),
                        None if buf is None else buf.reshape(-1),
                        *(float(a) for a in args[:5]),
                        bool(args[5]),
                        bool(args[6]),
                    )
                else:
                    rmsprop_reference(pa, ga, sq, gavg, buf, *args)
                p._bump()
        return loss


class Adagrad(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ) -> None:
        for n, v in (
            ("learning rate", lr),
            ("lr_decay value", lr_decay),
            ("weight_decay value", weight_decay),
            ("initial_accumulator_value value", initial_accumulator_value),
            ("epsilon value", eps),
        ):
            _check(n, v)
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                eps=eps,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
                fused=fused,
            ),
        )
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                st["step"] = Tensor._make(np.zeros((), np.float32))
                st["sum"] = Tensor._make(
                    xp_of(p._a).full_like(p._a, group["initial_accumulator_value"])
                )

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if p._grad.is_sparse:  # Embedding(sparse=True) gradients (#13)
                    from ..sparse._optim import adagrad_sparse_step

                    adagrad_sparse_step(p, p._grad, st, get_state_step(st), group)
                    p._bump()
                    continue
                pa, ga = p._a, p._grad._a
                step = get_state_step(st)
                ssum = st["sum"]._a
                if _fusable(p, "adagrad_step", group["fused"]):
                    kernels_for(pa).adagrad_step(
                        pa.reshape(-1),
                        ga.reshape(-1),
                        ssum.reshape(-1),
                        float(group["lr"]),
                        float(group["lr_decay"]),
                        float(group["weight_decay"]),
                        float(group["eps"]),
                        float(step),
                        bool(group["maximize"]),
                    )
                else:
                    adagrad_reference(
                        pa,
                        ga,
                        ssum,
                        group["lr"],
                        group["lr_decay"],
                        group["weight_decay"],
                        group["eps"],
                        step,
                        group["maximize"],
                    )
                p._bump()
        return loss


class Adadelta(Optimizer):
    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ) -> None:
        for n, v in (
            ("learning rate", lr),
            ("epsilon value", eps),
            ("weight_decay value", weight_decay),
        ):
            _check(n, v)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(
            params,
            dict(
                lr=lr,
                rho=rho,
                eps=eps,
                weight_decay=weight_decay,
                maximize=maximize,
                capturable=capturable,
                foreach=foreach,
                differentiable=differentiable,
            ),
        )

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                pa, ga = p._a, p._grad._a
                st = self.state[p]
                xp = xp_of(pa)
                if len(st) == 0:
                    st["step"] = Tensor._make(np.zeros((), np.float32))
                    st["square_avg"] = Tensor._make(xp.zeros_like(pa))
                    st["acc_delta"] = Tensor._make(xp.zeros_like(pa))
                get_state_step(st)
                sq, acc = st["square_avg"]._a, st["acc_delta"]._a
                if _fusable(p, "adadelta_step", None):
                    kernels_for(pa).adadelta_step(
                        pa.reshape(-1),
                        ga.reshape(-1),
                        sq.reshape(-1),
                        acc.reshape(-1),
                        float(group["lr"]),
                        float(group["rho"]),
                        float(group["eps"]),
                        float(group["weight_decay"]),
                        bool(group["maximize"]),
                    )
                else:
                    adadelta_reference(
                        pa,
                        ga,
                        sq,
                        acc,
                        group["lr"],
                        group["rho"],
                        group["eps"],
                        group["weight_decay"],
                        group["maximize"],
                    )
                p._bump()
        return loss
