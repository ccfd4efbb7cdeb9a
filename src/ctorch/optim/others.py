"""RMSprop, Adagrad and Adadelta: fused kernels on the CPU, plain reference paths."""

from __future__ import annotations

import numpy as np

from .._backend import kernels_for, xp_of
from .._tensor import Tensor
from ._common import stepped_params, zeros_init, zeros_state
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


def _update(p, name, fused, reference, arrays, scalars, flags) -> None:
    """One parameter's update: the backend's fused kernel ``name`` where it applies (arrays
    flattened, scalars as float, flags as bool), else ``reference(*arrays, *scalars,
    *flags)``."""
    if _fusable(p, name, fused):
        getattr(kernels_for(p._a), name)(
            *(None if a is None else a.reshape(-1) for a in arrays),
            *(float(v) for v in scalars),
            *(bool(f) for f in flags),
        )
    else:
        reference(*arrays, *scalars, *flags)


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
            momentum, centered = group["momentum"], group["centered"]

            def init(st, pa, momentum=momentum, centered=centered):
                st["square_avg"] = zeros_state(pa)
                if momentum > 0:
                    st["momentum_buffer"] = zeros_state(pa)
                if centered:
                    st["grad_avg"] = zeros_state(pa)

            for p, pa, ga, st, _step in stepped_params(self, group, init):
                gavg = st["grad_avg"]._a if centered else None
                buf = st["momentum_buffer"]._a if momentum > 0 else None
                _update(
                    p, "rmsprop_step", None, rmsprop_reference,
                    (pa, ga, st["square_avg"]._a, gavg, buf),
                    (group["lr"], group["alpha"], group["eps"], group["weight_decay"], momentum),
                    (centered, group["maximize"]),
                )  # fmt: skip
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
                _update(
                    p, "adagrad_step", group["fused"], adagrad_reference,
                    (pa, ga, st["sum"]._a),
                    (group["lr"], group["lr_decay"], group["weight_decay"], group["eps"], step),
                    (group["maximize"],),
                )  # fmt: skip
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
            for p, pa, ga, st, _step in stepped_params(self, group, _adadelta_init):
                _update(
                    p, "adadelta_step", None, adadelta_reference,
                    (pa, ga, st["square_avg"]._a, st["acc_delta"]._a),
                    (group["lr"], group["rho"], group["eps"], group["weight_decay"]),
                    (group["maximize"],),
                )  # fmt: skip
        return loss


_adadelta_init = zeros_init("square_avg", "acc_delta")
