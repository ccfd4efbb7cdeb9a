"""Embedding lookup; its backward is a deterministic scatter-add (``nnmisc.embedding_backward``)."""

from __future__ import annotations

import numpy as np

from .._backend import kernels_for, meta_xp, xp_of
from .._core._smallops import take_small as _take_small
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state

_wrap = Tensor._make


def _check_indices(idx, V):
    if idx.size and (bool((idx < 0).any()) or bool((idx >= V).any())):
        raise IndexError("index out of range in self")


def _embedding_indices(indices: Tensor, V: int):
    """``indices``' array, once it passed torch's checks of an embedding lookup: an integer
    dtype, every index in [0, V)."""
    idx = indices._a
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {indices.dtype} instead (while checking arguments "
            "for embedding)"
        )
    _check_indices(idx, V)
    return idx


class Embedding(Function):
    _node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        wa = weight._a
        idx = _embedding_indices(indices, wa.shape[0])
        ctx.idx = idx
        ctx.p = (wa.shape, padding_idx, scale_grad_by_freq)
        return _wrap(wa[idx])

    @staticmethod
    def backward(ctx, g):
        (V, D), padding_idx, by_freq = ctx.p
        ga = g._a
        xp = xp_of(ga)
        idx = xp.ascontiguousarray(ctx.idx.reshape(-1), dtype=np.int64)
        gy = xp.ascontiguousarray(ga.reshape(-1, D))
        if by_freq:
            counts = xp.bincount(idx, minlength=V)
            gy = gy / counts[idx][:, None].astype(gy.dtype)
            gy = xp.ascontiguousarray(gy, dtype=ga.dtype)
        pad = -1 if padding_idx is None else int(padding_idx)
        if state.enabled:  # create_graph: the scatter-add as a differentiable op of g
            return _embedding_backward_graph(g, idx, V, D, pad, by_freq), None, None, None
        k = kernels_for(gy)
        if gy.dtype in (np.float32, np.float64) and k.has("embedding_backward"):
            gw = xp.empty((V, D), gy.dtype)
            k.embedding_backward(gy.reshape(-1), idx, gw.reshape(-1), idx.shape[0], D, pad)
        else:
            gw = xp.zeros((V, D), gy.dtype)
            if xp is np or xp is meta_xp:  # (meta: a no-op)
                np.add.at(gw, idx, gy)
            else:  # pragma: no cover - GPU without the kernel
                import cupyx

                cupyx.scatter_add(gw, idx, gy)
            if pad >= 0:
                gw[pad] = 0
        return _wrap(gw), None, None, None


def _embedding_backward_graph(g, idx, V, D, pad, by_freq):
    """grad_weight = index_add of the rows of g (differentiable in g), for create_graph."""
    import ctorch

    xp = xp_of(idx)
    gy = g.reshape(-1, D)
    keep = xp.ones(idx.shape[0], g._a.dtype)
    if by_freq:
        keep = keep / xp.bincount(idx, minlength=V)[idx].astype(g._a.dtype)
    if pad >= 0:
        keep = keep * (idx != pad)
    if by_freq or pad >= 0:
        gy = gy * _wrap(keep[:, None])
    z = ctorch.zeros((V, D), dtype=g.dtype, device=g.device)
    return z.index_add(0, _wrap(idx), gy)


def embedding(
    input: Tensor, weight: Tensor, padding_idx: int | None = None, scale_grad_by_freq: bool = False
) -> Tensor:
    if state.enabled and weight._rg:
        return Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)
    ia, wa = input._a, weight._a
    if ia.ndim == 1 or (ia.ndim > 1 and wa.ndim == 2 and ia.flags.c_contiguous):
        r = _take_small(wa, ia if ia.ndim == 1 else ia.reshape(-1), 0, False, False)
        if r is not None:  # small lookups: one compiled copy
            return _wrap(r if ia.ndim == 1 else r.reshape(ia.shape + wa.shape[1:]))
    _check_indices(ia, weight._a.shape[0])
    return _wrap(weight._a[input._a])
