"""Fused scaled-dot-product attention on the CPU (issue #15): one autograd node running the
flash-style kernel of ``_core/attention.pyx`` (no (L, S) attention matrix is stored; the
backward recomputes the probabilities from Q, K and each row's log-sum-exp).

``fused_sdpa`` returns None where the kernel does not apply, and
``F.scaled_dot_product_attention`` then runs its composite (matmul, mask, softmax, matmul)
path: dropout, GPU arrays, dtypes other than float32/float64, and batch dimensions that
differ between query, key and value.
"""

from __future__ import annotations

import numpy as np

from .._backend import cpu_kernels
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import _F32, _F64, sum_to_shape

_wrap = Tensor._make


def _slices(a, lead, rows, cols):
    """(BH, rows, cols) C-contiguous view (or copy) of an array with leading dims ``lead``."""
    return np.ascontiguousarray(a.reshape((-1, rows, cols)) if lead else a[None])


class ScaledDotProductAttention(Function):
    # torch's CPU node for F.scaled_dot_product_attention (its flash kernel)
    _node_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale):
        qa, ka, va = q._a, k._a, v._a
        lead = qa.shape[:-2]
        L, D = qa.shape[-2:]
        S, DV = ka.shape[-2], va.shape[-1]
        q3, k3, v3 = _slices(qa, lead, L, D), _slices(ka, lead, S, D), _slices(va, lead, S, DV)
        m3 = None
        if mask is not None:
            m3 = np.broadcast_to(mask._a, lead + (L, S))
            m3 = m3.reshape((-1, L, S)) if lead else m3[None]
        o = np.empty(q3.shape[:2] + (DV,), qa.dtype)
        lse = np.empty(q3.shape[:2], qa.dtype)
        kT = np.ascontiguousarray(k3.transpose(0, 2, 1))
        cpu_kernels.sdpa_forward(q3, kT, v3, m3, causal, scale, o, lse)
        ctx.saved = (q3, k3, kT, v3, m3, o, lse, causal, scale, lead, mask)
        ctx.save_for_backward(q, k, v, mask)
        return _wrap(o.reshape(lead + (L, DV)))

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: the kernel's gradients are constants
            return _sdpa_backward_graph(ctx, g)
        return _sdpa_backward_kernel(ctx, g)  # grad mode is off here: nothing records


def _sdpa_backward_graph(ctx, g):
    """The attention gradients from differentiable ops (backward under create_graph):
    P = softmax(Q K^T s + M), dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(dP P)),
    dQ = s dS K, dK = s dS^T Q, dM = dS."""
    q, k, v, mask = ctx.saved_tensors
    causal, scale = ctx.saved[7], ctx.saved[8]
    s = (q @ k.transpose(-2, -1)) * scale
    if mask is not None:
        s = s + mask
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        tri = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf).astype(q._a.dtype)
        s = s + _wrap(tri)
    p = s.softmax(-1)
    need = ctx.needs_input_grad
    gv = p.transpose(-2, -1) @ g if need[2] else None
    gq = gk = gm = None
    if need[0] or need[1] or (mask is not None and need[3]):
        dp = g @ v.transpose(-2, -1)
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))
        if need[0]:
            gq = (ds @ k) * scale
        if need[1]:
            gk = (ds.transpose(-2, -1) @ q) * scale
        if mask is not None and need[3]:
            gm = ds.sum_to_size(*mask.shape)
    return gq, gk, gv, gm, None, None


def _sdpa_backward_kernel(ctx, g):
    q3, k3, kT, v3, m3, o, lse, causal, scale, lead, mask = ctx.saved
    go = np.ascontiguousarray(g._a.reshape(o.shape))
    gq, gk, gv = np.empty_like(q3), np.empty_like(k3), np.empty_like(v3)
    want_m = mask is not None and ctx.needs_input_grad[3]
    gm = np.empty(q3.shape[:2] + (k3.shape[1],), q3.dtype) if want_m else None
    vT = np.ascontiguousarray(v3.transpose(0, 2, 1))
    cpu_kernels.sdpa_backward(q3, k3, kT, vT, m3, causal, scale, o, go, lse, gq, gk, gv, gm)
    L, S = q3.shape[1], k3.shape[1]
    r = [
        _wrap(gq.reshape(lead + q3.shape[1:])),
        _wrap(gk.reshape(lead + k3.shape[1:])),
        _wrap(gv.reshape(lead + v3.shape[1:])),
        sum_to_shape(_wrap(gm.reshape(lead + (L, S))), mask.shape) if want_m else None,
    ]
    return (*r, None, None)


def fused_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale):
    """The fused kernel's result, or None where it does not apply (see the module notes)."""
    qa, ka, va = query._a, key._a, value._a
    dt = qa.dtype
    if (
        dropout_p > 0.0
        or type(qa) is not np.ndarray
        or type(ka) is not np.ndarray
        or type(va) is not np.ndarray
        or (dt != _F32 and dt != _F64)
        or ka.dtype != dt
        or va.dtype != dt
        or qa.ndim < 2
        or ka.ndim != qa.ndim
        or va.ndim != qa.ndim
        or ka.shape[:-2] != qa.shape[:-2]
        or va.shape[:-2] != qa.shape[:-2]
        or ka.shape[-1] != qa.shape[-1]
        or va.shape[-2] != ka.shape[-2]
        or 0 in qa.shape[:-1]
        or 0 in ka.shape[:-1]
        or not cpu_kernels.has("sdpa_forward")
    ):
        return None
    mask = None
    if attn_mask is not None:
        ma = attn_mask._a
        if type(ma) is not np.ndarray:
            return None
        try:
            np.broadcast_shapes(ma.shape, qa.shape[:-1] + (ka.shape[-2],))
        except ValueError:
            return None  # the composite path raises torch's error
        if ma.dtype == np.bool_:
            mask = _wrap(np.where(ma, dt.type(0), dt.type(-np.inf)))
        elif ma.dtype == dt:
            mask = attn_mask
        else:
            return None
    return ScaledDotProductAttention.apply(query, key, value, mask, bool(is_causal), float(scale))
