"""Elementwise regression and logit losses as one graph node each, with torch's names and
backward formulas: ``smooth_l1_loss`` (``SmoothL1LossBackward0``), ``huber_loss``
(``HuberLossBackward0``) and ``binary_cross_entropy_with_logits``
(``BinaryCrossEntropyWithLogitsBackward0``). The reduction is part of the node, as in torch.

Forward and backward are written with tensor ops, so a backward under ``create_graph`` is
itself differentiable (double backward, gradient penalties). The forward formulas are the ones
the composites used before (same values, bit for bit).
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import sum_to_shape
from .loss import _grow_tensor_like


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _softplus_neg(x: Tensor) -> Tensor:
    """``log(1 + exp(-x))`` computed stably: ``log1p(exp(-|x|)) + max(-x, 0)``."""
    from .unary import relu

    return (-x.abs()).exp().log1p() + relu(-x)


class _DifferenceLoss(Function):
    """A loss of ``d = input - target`` (broadcast): subclasses give ``value(d)`` and its
    derivative ``slope(d)``; the target's gradient is the input's negated."""

    @staticmethod
    def forward(ctx, x, t, reduction, param, value):
        d = x - t
        ctx.save_for_backward(x, t)  # d is recomputed: under create_graph it must be in the graph
        ctx.red, ctx.n, ctx.param, ctx.shapes = reduction, d.numel(), param, (x.shape, t.shape)
        return _reduce(value(d, param), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        d = x - t
        gd = _grow_tensor_like(g, ctx.n, ctx.red) * ctx._forward_cls.slope(d, ctx.param)
        gx = sum_to_shape(gd, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gt = sum_to_shape(-gd, ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return gx, gt, None, None, None


class SmoothL1Loss(_DifferenceLoss):
    """Quadratic below ``beta`` (0.5 d^2 / beta), linear above (|d| - 0.5 beta); beta > 0."""

    _node_name = "SmoothL1LossBackward0"

    @staticmethod
    def value(d: Tensor, beta: float) -> Tensor:
        import ctorch

        ad = d.abs()
        return ctorch.where(ad < beta, 0.5 * ad * ad / beta, ad - 0.5 * beta)

    @staticmethod
    def slope(d: Tensor, beta: float) -> Tensor:
        return (d / beta).clamp(-1.0, 1.0)  # torch: d/beta inside, sign(d) outside; NaN stays


class HuberLoss(_DifferenceLoss):
    """Quadratic below ``delta`` (0.5 d^2), linear above (delta (|d| - 0.5 delta))."""

    _node_name = "HuberLossBackward0"

    @staticmethod
    def value(d: Tensor, delta: float) -> Tensor:
        import ctorch

        ad = d.abs()
        return ctorch.where(ad < delta, 0.5 * ad * ad, delta * (ad - 0.5 * delta))

    @staticmethod
    def slope(d: Tensor, delta: float) -> Tensor:
        return d.clamp(-delta, delta)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str, beta: float) -> Tensor:
    return SmoothL1Loss.apply(input, target, reduction, beta, SmoothL1Loss.value)


def huber_loss(input: Tensor, target: Tensor, reduction: str, delta: float) -> Tensor:
    return HuberLoss.apply(input, target, reduction, delta, HuberLoss.value)


class BCEWithLogits(Function):
    """``(1 - t) x + lw * softplus(-x)`` with ``lw = 1 + (pos_weight - 1) t``, times ``weight``.

    Gradients (torch's): x: ``(lw sigmoid(x) - pos_weight t) w``; t: ``(-x + (pos_weight - 1)
    softplus(-x)) w``; weight: the unweighted loss; pos_weight: ``t softplus(-x) w``."""

    _node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        sp = _softplus_neg(x)
        if pos_weight is not None:
            loss = (1 - t) * x + ((pos_weight - 1) * t + 1) * sp
        else:
            loss = (1 - t) * x + sp
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.red, ctx.n, ctx.shape = reduction, loss.numel(), loss.shape
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        need = ctx.needs_input_grad
        grow = _grow_tensor_like(g, ctx.n, ctx.red)
        if w is not None:
            grow = grow * w
        sp = _softplus_neg(x) if (need[1] or need[2] or need[3]) else None
        gx = gt = gw = gpw = None
        if need[0]:
            s = x.sigmoid()
            d = (((pw - 1) * t + 1) * s - pw * t) if pw is not None else (s - t)
            gx = sum_to_shape((grow * d).expand(*ctx.shape), x.shape)
        if need[1]:
            d = -x + (pw - 1) * sp if pw is not None else -x
            gt = sum_to_shape((grow * d).expand(*ctx.shape), t.shape)
        if need[2]:
            lw = ((pw - 1) * t + 1) if pw is not None else 1
            unweighted = (1 - t) * x + lw * sp
            gu = _grow_tensor_like(g, ctx.n, ctx.red) * unweighted
            gw = sum_to_shape(gu.expand(*ctx.shape), w.shape)
        if need[3]:
            gpw = sum_to_shape((grow * t * sp).expand(*ctx.shape), pw.shape)
        return gx, gt, gw, gpw, None


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    pos_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    return BCEWithLogits.apply(input, target, weight, pos_weight, reduction)
