"""GPU launchers of the optim family (kernels/optim.cu): fused in-place updates.

Scalars that depend on the step (Adam's bias corrections, Adagrad's decayed lr) are computed
here in double and passed to the kernel as T.
"""

from __future__ import annotations

import math
from typing import Any

from . import _checks as ck
from ._loader import launch

FAMILY = "optim"


def _pg(k: str, p: Any, g: Any) -> tuple[Any, int]:
    return ck.same_size(k, p=p, g=g)


def sgd_step(
    p: Any,
    g: Any,
    buf: Any,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
    first_step: bool = False,
) -> None:
    """torch.optim.SGD for one parameter.  buf (the momentum buffer) is used when not None
    and momentum != 0; on first_step it is set to the (decayed) gradient."""
    k = "sgd_step"
    dt, n = _pg(k, p, g)
    ck.opt(k, "buf", buf, n, dt)
    has_buf = buf is not None and momentum != 0
    s = lambda v: ck.scalar(dt, v)
    launch(
        FAMILY,
        "sgd_step_kernel",
        dt,
        n,
        (
            p,
            g,
            buf if has_buf else p,
            ck.i32(has_buf),
            ck.i64(n),
            s(lr),
            s(momentum),
            s(dampening),
            s(weight_decay),
            ck.i32(bool(nesterov)),
            ck.i32(bool(maximize)),
            ck.i32(bool(first_step)),
        ),
    )


def adam_step(
    p: Any,
    g: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    step: int,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> None:
    """torch.optim.Adam (AdamW when decoupled_weight_decay) for one parameter; ``step`` is
    the 1-based step count after incrementing."""
    k = "adam_step"
    dt, n = _pg(k, p, g)
    ck.arr(k, "exp_avg", exp_avg, n, dt)
    ck.arr(k, "exp_avg_sq", exp_avg_sq, n, dt)
    if amsgrad:
        ck.arr(k, "max_exp_avg_sq", max_exp_avg_sq, n, dt)
    if step < 1:
        raise ValueError(f"{k}: step={step} must be >= 1")
    step_size = lr / (1.0 - beta1**step)
    bc2_sqrt = math.sqrt(1.0 - beta2**step)
    s = lambda v: ck.scalar(dt, v)
    launch(
        FAMILY,
        "adam_step_kernel",
        dt,
        n,
        (
            p,
            g,
            exp_avg,
            exp_avg_sq,
            max_exp_avg_sq if amsgrad else p,
            ck.i32(bool(amsgrad)),
            ck.i64(n),
            s(lr),
            s(beta1),
            s(beta2),
            s(eps),
            s(weight_decay),
            s(step_size),
            s(bc2_sqrt),
            ck.i32(bool(maximize)),
            ck.i32(bool(decoupled_weight_decay)),
        ),
    )


def rmsprop_step(
    p: Any,
    g: Any,
    square_avg: Any,
    grad_avg: Any,
    momentum_buffer: Any,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> None:
    """torch.optim.RMSprop for one parameter; grad_avg used when centered, momentum_buffer when
    momentum > 0."""
    k = "rmsprop_step"
    dt, n = _pg(k, p, g)
    ck.arr(k, "square_avg", square_avg, n, dt)
    if centered:
        ck.arr(k, "grad_avg", grad_avg, n, dt)
    has_buf = momentum > 0
    if has_buf:
        ck.arr(k, "momentum_buffer", momentum_buffer, n, dt)
    s = lambda v: ck.scalar(dt, v)
    launch(
        FAMILY,
        "rmsprop_step_kernel",
        dt,
        n,
        (
            p,
            g,
            square_avg,
            grad_avg if centered else p,
            ck.i32(bool(centered)),
            momentum_buffer if has_buf else p,
            ck.i32(has_buf),
            ck.i64(n),
            s(lr),
            s(alpha),
            s(eps),
            s(weight_decay),
            s(momentum),
            ck.i32(bool(maximize)),
        ),
    )


def adagrad_step(
    p: Any,
    g: Any,
    state_sum: Any,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    step: int,
    maximize: bool = False,
) -> None:
    """torch.optim.Adagrad for one parameter; ``step`` is 1-based (after incrementing)."""
    k = "adagrad_step"
    dt, n = _pg(k, p, g)
    ck.arr(k, "state_sum", state_sum, n, dt)
    clr = lr / (1.0 + (step - 1) * lr_decay)
    s = lambda v: ck.scalar(dt, v)
    launch(
        FAMILY,
        "adagrad_step_kernel",
        dt,
        n,
        (p, g, state_sum, ck.i64(n), s(clr), s(weight_decay), s(eps), ck.i32(bool(maximize))),
    )


def adadelta_step(
    p: Any,
    g: Any,
    square_avg: Any,
    acc_delta: Any,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """torch.optim.Adadelta for one parameter."""
    k = "adadelta_step"
    dt, n = _pg(k, p, g)
    ck.arr(k, "square_avg", square_avg, n, dt)
    ck.arr(k, "acc_delta", acc_delta, n, dt)
    s = lambda v: ck.scalar(dt, v)
    launch(
        FAMILY,
        "adadelta_step_kernel",
        dt,
        n,
        (
            p,
            g,
            square_avg,
            acc_delta,
            ck.i64(n),
            s(lr),
            s(rho),
            s(eps),
            s(weight_decay),
            ck.i32(bool(maximize)),
        ),
    )
