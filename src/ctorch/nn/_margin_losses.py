"""Losses composed of differentiable ops (so twice differentiable, issues #14, #15):
``multilabel_margin_loss``, ``triplet_margin_with_distance_loss`` and
``ctc_loss``. ``nn.functional`` exposes them under torch's names and signatures.

Integer targets are read on the host (NumPy) to build constant masks; every value that
depends on the inputs is a tensor op, so gradients and second derivatives come from autograd.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import ctorch

from .._tensor import Tensor
from ..ops import loss as _loss
from ..ops.math_nodes import margin_rows

_wrap = Tensor._make


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _host_long(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy()).astype(np.int64, copy=False)


def _const(a: np.ndarray, like: Tensor) -> Tensor:
    t = _wrap(np.ascontiguousarray(a, dtype=like._a.dtype))
    return t if like.device.type == "cpu" else t.to(like.device)


# ------------------------------------------------------------------ multilabel_margin_loss
def multilabel_margin_loss(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    """``sum_{j in targets} sum_{k not in targets} max(0, 1 - (x[j] - x[k])) / C``; each row
    of ``target`` lists class indices up to the first -1."""
    x2 = margin_rows("multilabel_margin_loss", input)
    N, C = x2.shape
    if tuple(target.shape) != tuple(input.shape) and not (input.dim() <= 1 and target.numel() == C):
        raise RuntimeError(
            f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}"
        )
    t = _host_long(target).reshape(N, C)
    count = np.zeros((N, C))  # how often class j is listed (torch counts repeats)
    listed = np.zeros((N, C), dtype=bool)
    for n in range(N):
        for j in t[n]:
            if j < 0:
                break
            if j >= C:
                raise RuntimeError("argument #2 'target' is out of range")
            count[n, j] += 1
            listed[n, j] = True
    pair = count[:, :, None] * (~listed)[:, None, :]  # (N, j, k)
    h = (1 - x2.unsqueeze(2) + x2.unsqueeze(1)).clamp_min(0)
    loss = (h * _const(pair, x2)).sum((1, 2)) / C
    if input.dim() <= 1 and reduction == "none":
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ triplet with a distance
def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None,
    margin: float,
    swap: bool,
    reduction: str,
) -> Tensor:
    if margin <= 0:
        raise ValueError(
            f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
            "instead"
        )
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim == n_dim):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D "
            "inputs"
        )
    if distance_function is None:
        from .functional import pairwise_distance as distance_function
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = ctorch.minimum(d_neg, distance_function(positive, negative))
    loss = (margin + d_pos - d_neg).clamp_min(0)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ CTC
_NEG = -1e30


def _ctc_one(lp: Tensor, labels: np.ndarray, blank: int) -> Tensor:
    """-log p(labels | lp) for one sequence: lp (T, C) log-probabilities, the alpha
    recursion over the blank-extended labels in log space. Unreachable states hold a large
    finite negative (not -inf: logsumexp of all -inf has a NaN gradient); a sequence no
    alignment reaches gets torch's inf."""
    T = lp.shape[0]
    ext = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    ext[1::2] = labels
    L = ext.shape[0]
    neg_inf = _const(np.full(L, _NEG), lp)
    # skip (s-2 -> s) allowed where ext[s] is a label different from ext[s-2]
    skip = np.zeros(L, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    skip_mask = _const(np.where(skip, 0.0, _NEG), lp)
    idx = _wrap(ext)
    if lp.device.type != "cpu":
        idx = idx.to(lp.device)
    emit = lp.index_select(1, idx)  # (T, L)
    start = np.full(L, _NEG)
    start[: min(2, L)] = 0.0
    alpha = emit[0] + _const(start, lp)
    for s in range(1, T):
        a1 = ctorch.cat([neg_inf[:1], alpha[:-1]])
        a2 = ctorch.cat([neg_inf[:2], alpha[:-2]])[:L] + skip_mask
        alpha = ctorch.stack([alpha, a1, a2]).logsumexp(0) + emit[s]
    ends = alpha[-2:] if L > 1 else alpha[-1:]
    out = -ends.logsumexp(0)
    if float(out) > -_NEG / 2:  # no alignment fits in T steps
        return out * 0 + float("inf")
    return out


def _ctc_loss_meta(lp3, targets, input_lengths, target_lengths, reduction, batched):
    """ctc_loss on the meta device as torch 2.13: with lengths given as tensors it has no meta
    kernel (NotImplementedError); with lengths as lists, the loss's shape ((N,) for
    ``reduction='none'``, else 0-d), nothing computed."""
    from .._meta import NoMetaImpl
    from ..ops._util import check_same_device

    if isinstance(input_lengths, Tensor) or isinstance(target_lengths, Tensor):
        raise NoMetaImpl(
            "ctc_loss: with input_lengths/target_lengths as tensors it has no meta "
            "implementation (torch has no meta kernel for it either); pass them as lists"
        )
    check_same_device("ctc_loss", lp3, targets)
    N = lp3.shape[1]
    for what, lens in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        n = len(np.asarray(lens).reshape(-1))
        if n != N:
            raise RuntimeError(f"{what} must be of size batch_size, but got {n} and {N}")
    shape = (N,) if reduction == "none" and batched else ()
    loss = lp3.new_empty(shape)
    if lp3.requires_grad:  # (a node to the log-probabilities: backward gives their shape)
        loss = loss + lp3.sum() * 0
    return loss


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths,
    target_lengths,
    blank: int,
    reduction: str,
    zero_infinity: bool,
) -> Tensor:
    """Connectionist temporal classification loss (composite: the alpha recursion in log
    space, so first and second derivatives come from autograd)."""
    _loss._check_reduction(reduction)
    batched = log_probs.dim() == 3
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(
            f"ctc_loss: expected log_probs to be 2-D or 3-D, got {log_probs.dim()}-D"
        )
    lp3 = log_probs if batched else log_probs.unsqueeze(1)
    T, N, C = lp3.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    if log_probs.is_meta or targets.is_meta:
        return _ctc_loss_meta(lp3, targets, input_lengths, target_lengths, reduction, batched)
    in_len = np.asarray(
        _host_long(input_lengths) if isinstance(input_lengths, Tensor) else input_lengths,
        dtype=np.int64,
    ).reshape(-1)
    tg_len = np.asarray(
        _host_long(target_lengths) if isinstance(target_lengths, Tensor) else target_lengths,
        dtype=np.int64,
    ).reshape(-1)
    if in_len.shape[0] != N:
        raise RuntimeError(
            f"input_lengths must be of size batch_size, but got {in_len.shape[0]} and {N}"
        )
    if tg_len.shape[0] != N:
        raise RuntimeError(
            f"target_lengths must be of size batch_size, but got {tg_len.shape[0]} and {N}"
        )
    tg = _host_long(targets)
    # targets: (N, S) padded, or all sequences concatenated (1-D; (S,) when unbatched)
    offsets = np.concatenate([[0], np.cumsum(tg_len)]) if tg.ndim == 1 else None
    losses = []
    for n in range(N):
        Tn, Sn = int(in_len[n]), int(tg_len[n])
        if Tn > T:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {T}, but got value {Tn}"
            )
        if offsets is not None:
            labels = tg[offsets[n] : offsets[n] + Sn]
        else:
            labels = tg.reshape(N, -1)[n, :Sn]
        if labels.size and (labels.min() < 0 or labels.max() >= C):
            raise RuntimeError(f"ctc_loss: target index out of range [0, {C})")
        if Tn == 0:
            ln = _const(np.asarray(0.0 if Sn == 0 else np.inf), lp3)
            ln = ln + 0 * lp3.sum()
        else:
            ln = _ctc_one(lp3[:Tn, n], labels, blank)
        losses.append(ln)
    loss = ctorch.stack(losses)
    if zero_infinity:
        inf = _const(np.isinf(loss.detach().cpu().numpy()), loss)
        loss = ctorch.where(inf > 0, ctorch.zeros_like(loss), loss)
    if reduction == "none":
        return loss if batched else loss.reshape(())
    if reduction == "sum":
        return loss.sum()
    denom = _const(np.maximum(tg_len, 1).astype(np.float64), loss)
    return (loss / denom).mean()
