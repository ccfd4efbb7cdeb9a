"""Loss Functions: fused cross-entropy (log-softmax + NLL, label smoothing), NLL, BCE, MSE.

Cross-entropy runs in the ``loss`` kernels (``cross_entropy_forward``/``backward``) when the
backend has them, with a NumPy/CuPy fallback of the same formula otherwise. Losses that are
a few elementwise ops (L1, Huber, BCE with logits, ...) are composed in ``nn.functional``.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import kernels_for, xp_of
from .._core._smallops import ce_rows_small as _ce_rows_small
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state

_wrap = Tensor._make
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


# ------------------------------------------------------------------ cross entropy (class indices)
def _ce_forward_arrays(x2, t, w, ignore_index, eps):
    """(M, C) logits -> (log-probs (M, C), per-row losses (M,))."""
    xp = xp_of(x2)
    M, C = x2.shape
    k = kernels_for(x2)
    if x2.dtype in (_F32, _F64) and k.has("cross_entropy_forward"):
        lp = xp.empty((M, C), x2.dtype)
        rows = xp.empty((M,), x2.dtype)
        k.cross_entropy_forward(
            x2.reshape(-1), t, w, lp.reshape(-1), rows, M, C, int(ignore_index), float(eps)
        )
        return lp, rows
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bool(bad.any()):
        i = int(xp.nonzero(bad)[0][0])
        raise IndexError(f"Target {int(t[i])} is out of bounds.")
    m = x2.max(axis=1, keepdims=True) if C else x2
    z = x2 - m
    lp = (z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))).astype(x2.dtype, copy=False)
    valid = t != ignore_index
    tc = xp.where(valid, t, 0)
    picked = lp[xp.arange(M), tc]
    wt = w[tc] if w is not None else 1.0
    rows = -(1.0 - eps) * wt * picked
    if eps:
        sm = (lp * w).sum(axis=1) if w is not None else lp.sum(axis=1)
        rows = rows - (eps / C) * sm
    rows = xp.where(valid, rows, 0).astype(x2.dtype, copy=False)
    return lp, rows


def _ce_backward_arrays(lp, t, w, grow, ignore_index, eps):
    xp = xp_of(lp)
    M, C = lp.shape
    k = kernels_for(lp)
    if lp.dtype in (_F32, _F64) and k.has("cross_entropy_backward"):
        gx = xp.empty((M, C), lp.dtype)
        k.cross_entropy_backward(
            lp.reshape(-1),
            t,
            w,
            xp.ascontiguousarray(grow, lp.dtype),
            gx.reshape(-1),
            M,
            C,
            int(ignore_index),
            float(eps),
        )
        return gx
    valid = t != ignore_index
    tc = xp.where(valid, t, 0)
    p = xp.exp(lp)
    wt = w[tc] if w is not None else xp.ones((M,), lp.dtype)
    W = w.sum() if w is not None else float(C)
    gx = (1.0 - eps) * wt[:, None] * p
    gx[xp.arange(M), tc] -= (1.0 - eps) * wt
    if eps:
        gx += (eps / C) * (p * W - (w if w is not None else 1.0))
    gx *= (grow * valid)[:, None]
    return gx.astype(lp.dtype, copy=False)


def _to_rows(xa):
    """(N, C, d1, ...) or (C,) or (N, C) -> contiguous (M, C) and the spatial shape."""
    xp = xp_of(xa)
    if xa.ndim == 1:
        return xp.ascontiguousarray(xa.reshape(1, -1))
    if xa.ndim == 2:
        return xp.ascontiguousarray(xa)
    C = xa.shape[1]
    return xp.ascontiguousarray(xp.moveaxis(xa, 1, -1).reshape(-1, C))


def _from_rows(g2, shape):
    xp = xp_of(g2)
    if len(shape) <= 2:
        # the array itself when the shape already matches: a reshape view would not own its
        # data, and gradient accumulation then copies it (16 MB for a 4096x1000 batch)
        return g2 if g2.shape == tuple(shape) else g2.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.ascontiguousarray(xp.moveaxis(g2.reshape(moved), -1, 1))


def _reduce_rows(xp, rows, t, w, ignore_index, reduction, dtype):
    if reduction == "none":
        return rows, None
    total = _sum64(rows) if xp is np else rows.sum(dtype=np.float64)
    if reduction == "sum":
        return xp.asarray(total, dtype=dtype), None
    valid = t != ignore_index
    if type(rows) is MetaArray:  # the meta device: a 0-d result, no count to divide by
        return xp.asarray(total, dtype=dtype), 1.0
    if w is not None:
        denom = float(xp.where(valid, w[xp.where(valid, t, 0)], 0).sum(dtype=np.float64))
    else:
        denom = float(xp.count_nonzero(valid))
    return xp.asarray(_mean_value(total, denom), dtype=dtype), denom


def _mean_value(total, denom: float) -> float:
    """``total / denom`` as torch's mean reduction: every target ignored (denom 0) gives
    0/0 = NaN, x/0 = +-inf, and NaN stays NaN."""
    if denom:
        return float(total) / denom
    return math.nan if total == 0 or total != total else math.copysign(math.inf, total)


def cross_entropy_small(input: Tensor, target: Tensor, ignore_index: int, reduction: str):
    """Unweighted, unsmoothed cross-entropy of small (M, C) logits and (M,) int64 targets
    with nothing to record, as ``CrossEntropy.forward`` computes it (the same row kernels
    and sums), or None when ``_smallops.ce_rows_small`` does not take the arrays."""
    r = _ce_rows_small(input._a, target._a, ignore_index)
    if r is None:
        return None
    rows, count = r
    if reduction == "none":
        return _wrap(rows)
    total = _sum64(rows)
    if reduction == "sum":
        return _wrap(np.asarray(total, dtype=rows.dtype))
    return _wrap(np.asarray(_mean_value(total, float(count)), dtype=rows.dtype))


_add_reduce = np.add.reduce


def _sum64(a):
    """``a.sum(dtype=float64)`` (the same pairwise sum) without NumPy's Python wrapper."""
    return _add_reduce(a, None, np.float64)


class CrossEntropy(Function):
    """Fused log-softmax + NLL over class indices (weight, ignore_index, label_smoothing)."""

    _node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps):
        xa = x._a
        xp = xp_of(xa)
        x2 = _to_rows(xa)
        t = xp.ascontiguousarray(target._a.reshape(-1), dtype=np.int64)
        if t.shape[0] != x2.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({x2.shape[0]}) to match target batch_size "
                f"({t.shape[0]})."
            )
        w = None if weight is None else xp.ascontiguousarray(weight._a, dtype=xa.dtype)
        lp, rows = _ce_forward_arrays(x2, t, w, ignore_index, eps)
        out, denom = _reduce_rows(xp, rows, t, w, ignore_index, reduction, xa.dtype)
        if reduction == "none":
            out = out.reshape(target._a.shape)
        ctx.lp, ctx.t, ctx.w, ctx.denom = lp, t, w, denom
        ctx.p = (ignore_index, reduction, eps, xa.shape)
        ctx.save_for_backward(x)
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        ignore_index, reduction, eps, shape = ctx.p
        lp, t = ctx.lp, ctx.t
        if _grad_state.enabled:  # create_graph: a gradient that is itself differentiable
            (x,) = ctx.saved_tensors
            return _ce_backward_graph(x, g, t, ctx.w, ctx.denom, ignore_index, reduction, eps)
        xp = xp_of(lp)
        ga = g._a
        M = lp.shape[0]
        if reduction == "none":
            grow = ga.reshape(-1).astype(lp.dtype, copy=False)
        else:
            s = ga.reshape(()) if reduction == "sum" else ga.reshape(()) / ctx.denom
            grow = xp.full((M,), s, dtype=lp.dtype)
        gx = _ce_backward_arrays(lp, t, ctx.w, grow, ignore_index, eps)
        return _wrap(_from_rows(gx, shape)), None, None, None, None, None


def _rows_tensor(x: Tensor) -> Tensor:
    """Differentiable ``_to_rows``: (N, C, d1, ...) / (C,) / (N, C) -> (M, C)."""
    if x.dim() == 1:
        return x.reshape(1, -1)
    if x.dim() == 2:
        return x
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def _from_rows_tensor(g2: Tensor, shape) -> Tensor:
    if len(shape) <= 2:
        return g2.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return g2.reshape(moved).movedim(-1, 1)


def _grow_tensor(g: Tensor, M: int, reduction: str, denom) -> Tensor:
    """The incoming gradient as one (M, 1) column per row (differentiable in ``g``)."""
    if reduction == "none":
        return g.reshape(M, 1)
    s = g.reshape(1, 1)
    if reduction == "mean":
        s = s / denom
    return s.expand(M, 1)


def _ce_backward_graph(x, g, t, w, denom, ignore_index, reduction, eps):
    """Cross-entropy's input gradient from differentiable ops (the fused kernel's formula),
    for backward under create_graph: ``(1 - eps) wt (p - onehot) + eps/C (p W - w)``,
    scaled per row by the incoming gradient and the ignore mask."""
    xp = xp_of(t)
    x2 = _rows_tensor(x)
    M, C = x2.shape
    dt = x._a.dtype
    valid = t != ignore_index
    tc = xp.where(valid, t, 0)
    wt = w[tc] if w is not None else xp.ones((M,), dt)
    onehot = xp.zeros((M, C), dt)
    onehot[xp.arange(M), tc] = 1
    p = x2.softmax(1)
    const = (1.0 - eps) * wt[:, None]
    gx = p * _wrap(const.astype(dt)) - _wrap((const * onehot).astype(dt))
    if eps:
        W = float(w.sum()) if w is not None else float(C)
        gx = (
            gx
            + p * ((eps / C) * W)
            - _wrap(xp.asarray((eps / C) * (w if w is not None else xp.ones((C,), dt)), dtype=dt))
        )
    gx = gx * (_grow_tensor(g, M, reduction, denom) * _wrap(valid[:, None].astype(dt)))
    return _from_rows_tensor(gx, tuple(x.shape)), None, None, None, None, None


def cross_entropy_indices(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, label_smoothing)


# ------------------------------------------------------------------ NLL
class NLLLoss(Function):
    _node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xa = x._a
        xp = xp_of(xa)
        x2 = _to_rows(xa)
        M, C = x2.shape
        t = xp.ascontiguousarray(target._a.reshape(-1), dtype=np.int64)
        if t.shape[0] != M:
            raise ValueError(
                f"Expected input batch_size ({M}) to match target batch_size ({t.shape[0]})."
            )
        bad = (t != ignore_index) & ((t < 0) | (t >= C))
        if bool(bad.any()):
            i = int(xp.nonzero(bad)[0][0])
            raise IndexError(f"Target {int(t[i])} is out of bounds.")
        w = None if weight is None else weight._a.astype(xa.dtype, copy=False)
        valid = t != ignore_index
        tc = xp.where(valid, t, 0)
        wt = (w[tc] if w is not None else xp.ones((M,), xa.dtype)) * valid
        rows = (-wt * x2[xp.arange(M), tc]).astype(xa.dtype, copy=False)
        if reduction == "none":
            out, denom = rows.reshape(target._a.shape), None
        elif reduction == "sum":
            out, denom = xp.asarray(rows.sum(), dtype=xa.dtype), None
        elif type(wt) is MetaArray:  # the meta device: no weights to add up
            out, denom = xp.asarray(rows.sum(), dtype=xa.dtype), 1.0
        else:
            denom = float(wt.sum(dtype=np.float64))
            with np.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(
                    np.float64(rows.sum(dtype=np.float64)) / np.float64(denom), dtype=xa.dtype
                )
        ctx.t, ctx.wt, ctx.denom = tc, wt, denom
        ctx.p = (reduction, xa.shape, M, C)
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        reduction, shape, M, C = ctx.p
        xp = xp_of(ctx.wt)
        ga = g._a
        if reduction == "none":
            grow = ga.reshape(-1)
        elif reduction == "sum":
            grow = ga.reshape(())
        else:
            grow = ga.reshape(()) / ctx.denom
        if _grad_state.enabled:  # create_graph: linear in g, differentiable in g
            oh = xp.zeros((M, C), ctx.wt.dtype)
            oh[xp.arange(M), ctx.t] = -ctx.wt
            g2 = _wrap(oh) * _grow_tensor(g, M, reduction, ctx.denom)
            return _from_rows_tensor(g2, shape), None, None, None, None
        g2 = xp.zeros((M, C), ctx.wt.dtype)
        g2[xp.arange(M), ctx.t] = -ctx.wt * grow
        return _wrap(_from_rows(g2, shape)), None, None, None, None


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str
) -> Tensor:
    return NLLLoss.apply(input, target, weight, ignore_index, reduction)


# ------------------------------------------------------------------ BCE (probabilities)
def _reduce_arr(xp, a, reduction):
    if reduction == "none":
        return a
    if reduction == "sum":
        return xp.asarray(a.sum(), dtype=a.dtype)
    return xp.asarray(a.mean(), dtype=a.dtype)


def _grow_arr(g, shape, n, reduction):
    ga = g._a
    if reduction == "none":
        return ga
    if reduction == "sum":
        return ga.reshape(())
    return ga.reshape(()) / n


class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)), logs clamped at -100 as torch does."""

    _node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        xa, ta = x._a, t._a
        xp = xp_of(xa)
        # written so that NaN fails too, as torch's check does
        if not bool(((xa >= 0) & (xa <= 1)).all()):
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not bool(((ta >= 0) & (ta <= 1)).all()):
            raise RuntimeError("all elements of target should be between 0 and 1")
        if weight is not None:
            _check_weight_broadcast(weight._a.shape, xa.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = xp.maximum(xp.log(xa), -100.0)
            l1x = xp.maximum(xp.log1p(-xa), -100.0)
        loss = -(ta * lx + (1 - ta) * l1x)
        wa = None
        if weight is not None:
            wa = weight._a
            loss = loss * wa
        loss = loss.astype(xa.dtype, copy=False)
        ctx.save_for_backward(x, t)
        ctx.wa, ctx.red, ctx.n = wa, reduction, xa.size
        return _wrap(_reduce_arr(xp, loss, reduction))

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        if _grad_state.enabled:  # create_graph
            return _bce_backward_graph(ctx, x, t, g)
        xa, ta = x._a, t._a
        xp = xp_of(xa)
        grow = _grow_arr(g, xa.shape, ctx.n, ctx.red)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = grow * (xa - ta) / xp.maximum((1 - xa) * xa, 1e-12)
            if ctx.wa is not None:
                gx = gx * ctx.wa
            gx = _wrap(xp.broadcast_to(gx, xa.shape).astype(xa.dtype))
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                d = xp.maximum(xp.log1p(-xa), -100.0) - xp.maximum(xp.log(xa), -100.0)
            gt = grow * d
            if ctx.wa is not None:
                gt = gt * ctx.wa
            gt = _wrap(xp.broadcast_to(gt, ta.shape).astype(ta.dtype))
        return gx, gt, None, None


def _grow_tensor_like(g: Tensor, n: int, reduction: str) -> Tensor:
    if reduction == "none":
        return g
    g0 = g.reshape(())
    return g0 / n if reduction == "mean" else g0


def _bce_backward_graph(ctx, x, t, g):
    """BCE's gradients from differentiable ops (create_graph): the same formulas as the
    array path, d/dx = g (x - t) / max(x (1 - x), 1e-12), d/dt = g (log(1-x) - log x)."""
    import ctorch

    grow = _grow_tensor_like(g, ctx.n, ctx.red)
    w = None if ctx.wa is None else _wrap(ctx.wa)
    gx = gt = None
    if ctx.needs_input_grad[0]:
        gx = grow * (x - t) / ((1 - x) * x).clamp_min(1e-12)
        if w is not None:
            gx = gx * w
        gx = gx.expand(*x.shape)
    if ctx.needs_input_grad[1]:
        d = ctorch.log1p(-x).clamp_min(-100.0) - x.log().clamp_min(-100.0)
        gt = grow * d
        if w is not None:
            gt = gt * w
        gt = gt.expand(*t.shape)
    return gx, gt, None, None


def _check_weight_broadcast(wshape, shape) -> None:
    """torch's refusal of a loss weight that does not broadcast to the input's shape (or
    would grow it)."""
    nd = len(shape)
    for k in range(1, len(wshape) + 1):
        w, s = wshape[-k], shape[-k] if k <= nd else 1
        if w != 1 and w != s:
            if k > nd:
                break
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {w} at {-k}! Mismatching "
                f"argument at index 1 had torch.Size({list(wshape)}); but expected shape "
                f"should be broadcastable to {list(shape)}"
            )
    if len(wshape) > nd or any(
        w != 1 and w != s for w, s in zip(wshape[::-1], shape[::-1], strict=False)
    ):
        full = tuple(np.broadcast_shapes(tuple(wshape), tuple(shape)))
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape {list(full)}"
        )


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None, reduction: str
) -> Tensor:
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


# ------------------------------------------------------------------ MSE (same shapes)
class MSELoss(Function):
    _node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, t, reduction):
        xa, ta = x._a, t._a
        xp = xp_of(xa)
        d = xa - ta
        ctx.d, ctx.red, ctx.n = d, reduction, d.size
        ctx.save_for_backward(x, t)
        with np.errstate(over="ignore"):  # a square beyond the dtype's range: inf, as torch
            sq = d * d
        return _wrap(_reduce_arr(xp, sq, reduction).astype(xa.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: 2 g (x - t), differentiable in x, t and g
            x, t = ctx.saved_tensors
            gd = (2 * _grow_tensor_like(g, ctx.n, ctx.red)) * (x - t)
            gx = gd if ctx.needs_input_grad[0] else None
            gt = -gd if ctx.needs_input_grad[1] else None
            return gx, gt, None
        grow = _grow_arr(g, ctx.d.shape, ctx.n, ctx.red)
        gd = (2 * grow) * ctx.d
        gd = gd.astype(ctx.d.dtype, copy=False)
        gx = _wrap(gd) if ctx.needs_input_grad[0] else None
        gt = _wrap(-gd) if ctx.needs_input_grad[1] else None
        return gx, gt, None


def mse_loss(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    return MSELoss.apply(input, target, reduction)
