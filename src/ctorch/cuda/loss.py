"""GPU launchers of the loss family (kernels/loss.cu)."""

from __future__ import annotations

from typing import Any

from . import _checks as ck
from ._loader import get_function, max_blocks
from .reduction import _row_threads

FAMILY = "loss"


def _common(k: str, target: Any, weight: Any, M: int, C: int, dt: Any) -> None:
    ck.sizes(k, M=M, C=C)
    ck.arr(k, "target", target, M, ck.I64)
    ck.opt(k, "weight", weight, C, dt)
    if C == 0 and M:
        raise ValueError(f"{k}: no classes (M={M}, C=0)")


def cross_entropy_forward(
    logits: Any,
    target: Any,
    weight: Any,
    logprob_out: Any,
    loss_rows: Any,
    M: int,
    C: int,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> None:
    """logprob_out = log_softmax(logits) and the per-row loss
    (1-eps)*w[t]*(-lp[t]) + eps/C*sum_c w[c]*(-lp[c]); 0 on ignored rows, NaN on a target
    outside [0, C).  The caller reduces (for 'mean': divide by sum of w[t] over kept rows)."""
    k = "cross_entropy_forward"
    dt = ck.fdtype(k, logits, "logits")
    _common(k, target, weight, M, C, dt)
    ck.arr(k, "logits", logits, M * C, dt)
    ck.arr(k, "logprob_out", logprob_out, M * C, dt)
    ck.arr(k, "loss_rows", loss_rows, M, dt)
    if M == 0:
        return
    fn = get_function(FAMILY, "cross_entropy_forward_kernel", dt)
    fn(
        (min(M, max_blocks()),),
        (_row_threads(C),),
        (
            logits,
            target,
            logits if weight is None else weight,
            ck.i32(weight is not None),
            logprob_out,
            loss_rows,
            ck.i64(M),
            ck.i64(C),
            ck.i64(ignore_index),
            ck.scalar(dt, label_smoothing),
        ),
    )


def cross_entropy_backward(
    logprob: Any,
    target: Any,
    weight: Any,
    grow: Any,
    gx: Any,
    M: int,
    C: int,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> None:
    """gx[r] = grow[r] * d loss_row[r] / d logits[r] (0 on ignored rows)."""
    k = "cross_entropy_backward"
    dt = ck.fdtype(k, logprob, "logprob")
    _common(k, target, weight, M, C, dt)
    ck.arr(k, "logprob", logprob, M * C, dt)
    ck.arr(k, "grow", grow, M, dt)
    ck.arr(k, "gx", gx, M * C, dt)
    if M == 0:
        return
    fn = get_function(FAMILY, "cross_entropy_backward_kernel", dt)
    fn(
        (min(M, max_blocks()),),
        (_row_threads(C),),
        (
            logprob,
            target,
            logprob if weight is None else weight,
            ck.i32(weight is not None),
            grow,
            gx,
            ck.i64(M),
            ck.i64(C),
            ck.i64(ignore_index),
            ck.scalar(dt, label_smoothing),
        ),
    )
