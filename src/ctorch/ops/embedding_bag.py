"""``embedding_bag``: sums, means or maxima of bags of embedding rows, as one graph node
(``EmbeddingBagBackward0``, torch's name) whose backward is written in differentiable tensor
ops (``index_select``, ``index_add``, ``put``), so double backward works. With
``sparse=True`` the weight's sparse COO gradient comes from the composite of the sparse
embedding lookup and the same reduction."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .._backend import xp_of
from .._meta import MetaArray, is_meta
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import check_same_device
from .embedding import Embedding
from .indexing import gather, index_add, index_select

__all__ = ["embedding_bag"]

_wrap = Tensor._make


def _bags(input: Tensor, offsets: Tensor | None, per_sample_weights, include_last_offset):
    """Flat indices, the bag of each index (-1: in no bag), the number of bags, flat weights."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets).__name__}"
            )
        B, L = input.shape
        if type(input._a) is MetaArray:  # the meta device: the number of bags only
            return None, None, B, per_sample_weights
        idx = input._a.reshape(-1)
        xp = xp_of(idx)
        bag = xp.repeat(xp.arange(B), L)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        return idx, bag, B, per_sample_weights
    if input.dim() != 1:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}"
        )
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    idx = input._a
    B = max(offsets.shape[0] - 1, 0) if include_last_offset else offsets.shape[0]
    if type(idx) is MetaArray or type(offsets._a) is MetaArray:  # (no offsets to check)
        return None, None, B, per_sample_weights
    xp = xp_of(idx)
    off = offsets._a.astype(np.int64)
    M = idx.shape[0]
    if off.shape[0] and int(off[0]) != 0:
        raise RuntimeError(
            f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {int(off[0])}"
        )
    if off.shape[0] and int(off[-1]) > M:
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length ({M}), but got "
            f"offsets[-1] of {int(off[-1])}"
        )
    bag = xp.searchsorted(off, xp.arange(M), side="right") - 1
    if include_last_offset:
        # indices past offsets[-1] belong to no bag (torch's forward drops them; its backward
        # does not, so its gradients are inconsistent there: keep offsets[-1] == len(input))
        bag = xp.where(bag >= B, -1, bag)
    return idx, bag, B, per_sample_weights


class _SegmentSum(Function):
    """Row sums of ``src`` over runs of equal, sorted ``bag`` ids (``add.reduceat``: a bag's
    rows are contiguous); backward gathers each row's bag gradient."""

    @staticmethod
    def forward(ctx, src: Tensor, bag, B: int) -> Tensor:
        ctx.bag = bag
        a = src._a
        out = np.zeros((B,) + a.shape[1:], a.dtype)
        if bag.shape[0]:
            starts = np.flatnonzero(np.r_[True, bag[1:] != bag[:-1]])
            out[bag[starts]] = np.add.reduceat(a, starts, axis=0)
        return _wrap(out)

    @staticmethod
    def backward(ctx, g: Tensor):
        return index_select(g, 0, _wrap(ctx.bag)), None, None


def _segment_sum(src: Tensor, bag, B: int) -> Tensor:
    if isinstance(src._a, np.ndarray):
        return _SegmentSum.apply(src, bag, B)
    out = _wrap(xp_of(src._a).zeros((B,) + tuple(src.shape[1:]), src._a.dtype))
    return index_add(out, 0, _wrap(bag), src)


def _segment_argmax_first(vals, bag, B: int, m: int):
    """Per bag and column, the position (in ``vals``) of the first maximum; ``m`` if empty."""
    xp = xp_of(vals)
    D = vals.shape[1]
    best = xp.full((B, D), -np.inf, vals.dtype)
    first = xp.full((B, D), m, np.int64)
    if not m:
        return first
    if xp is np:
        starts = np.flatnonzero(np.r_[True, bag[1:] != bag[:-1]])
        present = bag[starts]
        best[present] = np.maximum.reduceat(vals, starts, axis=0)
        cand = np.where(vals == best[bag], np.arange(m)[:, None], m)
        first[present] = np.minimum.reduceat(cand, starts, axis=0)
    else:  # pragma: no cover - GPU
        import cupyx

        cupyx.scatter_max(best, bag, vals)
        cand = xp.where(vals == best[bag], xp.arange(m)[:, None], m)
        cupyx.scatter_min(first, bag, cand)
    return first


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """``torch.nn.functional.embedding_bag``; ``sparse=True`` gives the weight a sparse COO
    gradient (one row per looked-up index), as torch."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not "
            f"None, then it must have the same shape as the input ({tuple(input.shape)})"
        )
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}"
        )
    if input.dtype.is_floating_point:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.dtype} instead"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "the Pytorch GitHub."
        )
    V, D = weight.shape
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise AssertionError("padding_idx must be within the number of embeddings")
        if padding_idx < 0:
            padding_idx += V
    if is_meta(input, weight, offsets, per_sample_weights):
        # the meta device: (bags, D) from the shapes; one node, so the weight gets a gradient
        check_same_device("embedding_bag", weight, input, offsets, per_sample_weights)
        _, _, B, psw = _bags(input, offsets, per_sample_weights, include_last_offset)
        meta = (None, None, None, None, B, mode, padding_idx, scale_grad_by_freq)
        return EmbeddingBag.apply(weight, psw, meta)
    idx, bag, B, psw = _bags(input, offsets, per_sample_weights, include_last_offset)
    xp = xp_of(weight._a)
    bad = xp.flatnonzero((idx < 0) | (idx >= V)) if idx.size else ()
    if len(bad):  # torch's check (NumPy would wrap a negative index, IndexError past V)
        k = int(bad[0])
        raise RuntimeError(
            f"embedding_bag: Index {k} of input takes value {int(idx[k])} which is not in the "
            f"valid range [0, {V})"
        )
    if max_norm is not None:
        from ..nn.functional import _embedding_renorm_

        _embedding_renorm_(weight, _wrap(idx), max_norm, norm_type)
    keep = bag >= 0
    if padding_idx is not None:
        keep = keep & (idx != padding_idx)
    sel = xp.nonzero(keep)[0]
    idx_k, bag_k = idx[sel].astype(np.int64), bag[sel]
    if sparse and weight._rg and state.enabled:  # (#13) a sparse COO weight gradient
        from ..sparse._autograd import EmbeddingSparse

        e = EmbeddingSparse.apply(weight, _wrap(idx_k), padding_idx, scale_grad_by_freq)
        return _bag_reduce(e, weight, psw, idx_k, bag_k, sel, B, mode)
    meta = (idx, idx_k, bag_k, sel, B, mode, padding_idx, scale_grad_by_freq)
    return EmbeddingBag.apply(weight, psw, meta)


def _bag_reduce(e, weight, psw, idx_k, bag_k, sel, B, mode, first=None):
    """The bags' sums, means or maxima of the looked-up rows ``e`` (m, D); ``first``: the
    positions of the maxima (``_segment_argmax_first``) when the caller has them."""
    xp = xp_of(weight._a)
    D = weight.shape[1]
    dt = weight._a.dtype
    if mode == "max":
        if first is None:
            first = _segment_argmax_first(weight._a[idx_k], bag_k, B, idx_k.shape[0])
        zero_row = _wrap(xp.zeros((1, D), dt))
        from .join import cat

        return gather(cat([e, zero_row], 0), 0, _wrap(first))
    src = e
    if psw is not None:
        w = psw[_wrap(sel)] if sel.shape[0] != psw.shape[0] else psw
        src = src * w.reshape(-1, 1)
    out = _segment_sum(src, bag_k.astype(np.int64), B)
    if mode == "mean":  # torch sums, then divides by the bag size (empty bags stay zero)
        counts = xp.maximum(xp.bincount(bag_k, minlength=B), 1).astype(dt)
        out = out / _wrap(counts.reshape(-1, 1))
    return out


class EmbeddingBag(Function):
    """One node for the whole bag reduction (torch's ``EmbeddingBagBackward0``). Forward: the
    looked-up rows reduced per bag (the arithmetic of ``_bag_reduce``). Backward, in tensor
    ops (so differentiable again): each kept index's row gets its bag's gradient (times its
    per-sample weight, over the bag size for mean, over the index's count with
    ``scale_grad_by_freq``; for max only at the rows that gave each maximum); a per-sample
    weight gets the dot product of its bag's gradient with its row."""

    _node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, weight, psw, meta):
        idx, idx_k, bag_k, sel, B, mode, padding_idx, scale = meta
        if idx is None:  # the meta device
            ctx.save_for_backward(weight, psw)
            ctx.meta = meta
            return _wrap(MetaArray((B, weight.shape[1]), weight._a.dtype))
        rows = weight._a[idx_k]
        first = None
        if mode == "max":
            first = _segment_argmax_first(rows, bag_k, B, idx_k.shape[0])
        out = _bag_reduce(_wrap(rows), weight, psw, idx_k, bag_k, sel, B, mode, first)
        ctx.save_for_backward(weight, psw)
        ctx.meta, ctx.first = meta, first
        return out

    @staticmethod
    def backward(ctx, g):
        weight, psw = ctx.saved_tensors
        idx, idx_k, bag_k, sel, B, mode, padding_idx, scale = ctx.meta
        if idx is None:  # the meta device: gradients of the inputs' shapes
            need = ctx.needs_input_grad
            gw = weight.new_empty(weight.shape) if need[0] else None
            gp = psw.new_empty(psw.shape) if psw is not None and need[1] else None
            return gw, gp, None
        xp = xp_of(weight._a)
        V, D = weight.shape
        m = idx_k.shape[0]
        gw = gp = None
        if mode == "max":
            if ctx.needs_input_grad[0]:
                first = ctx.first
                valid = first < m
                rows = xp.where(valid, xp.append(idx_k, 0)[first], 0)
                flat = (rows * D + xp.arange(D)[None, :]).reshape(-1)
                vals = (g * _wrap(valid.astype(g._a.dtype))).reshape(-1)
                if state.enabled or xp is not np:  # create_graph: differentiable in g
                    gw = weight.new_zeros((V, D)).put(_wrap(flat), vals, accumulate=True)
                else:  # one bincount pass (np.add.at is ~10x slower)
                    acc = np.bincount(flat, weights=vals._a, minlength=V * D)
                    gw = _wrap(acc.astype(vals._a.dtype).reshape(V, D))
            return gw, None, None
        bk = _wrap(bag_k.astype(np.int64))
        gb = index_select(g, 0, bk)  # (m, D): each kept index's bag gradient
        if mode == "mean":
            counts = xp.maximum(xp.bincount(bag_k, minlength=B), 1).astype(g._a.dtype)
            gb = gb / _wrap(counts[bag_k].reshape(-1, 1))
        if ctx.needs_input_grad[0]:
            gr = gb
            if psw is not None:
                w = psw.reshape(-1)
                w = w[_wrap(sel)] if sel.shape[0] != w.shape[0] else w
                gr = gr * w.reshape(-1, 1)
            # embedding's scatter-add (its kernel; differentiable under create_graph)
            ectx = SimpleNamespace(idx=idx_k, p=((V, D), None, scale))
            gw = Embedding.backward(ectx, gr)[0]
        if psw is not None and ctx.needs_input_grad[1]:
            dots = (gb * index_select(weight, 0, _wrap(idx_k))).sum(1)
            n = psw.numel()
            if m != n:
                dots = dots.new_zeros(n).index_add(0, _wrap(sel.astype(np.int64)), dots)
            gp = dots.reshape(psw.shape)
        return gw, gp, None
