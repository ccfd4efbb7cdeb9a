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


def _as4(a, rows, cols, unit_last=True):
    """``a`` (lead..., rows, cols) as a (B, H, rows, cols) view with a unit last stride, as
    the kernels take it (any other strides: a transformer's transposed (B, T, H, D) views
    need no copy); a copy only where NumPy cannot merge the leading dims or the last stride
    is not one (kept with ``unit_last=False``: the mask's view may have any strides)."""
    lead = a.shape[:-2]
    if len(lead) == 2:
        a4 = a
    elif len(lead) < 2:
        a4 = a.reshape((1,) * (2 - len(lead)) + a.shape)
    else:
        a4 = a.reshape((-1, lead[-1], rows, cols))
    if unit_last and a4.strides[3] != a4.itemsize:
        a4 = np.ascontiguousarray(a4)
    return a4


def _empty_like4(a4, cols=None):
    """An output shaped as the (B, H, rows, cols) operand ``a4`` (with ``cols`` columns when
    given): in (B, rows, H, cols) memory order when a4's heads are interleaved within its
    rows (a transposed (B, T, H, D) view; torch's flash kernel lays out its output so), else
    C-contiguous."""
    B, H, R, C = a4.shape
    C = C if cols is None else cols
    dt = a4.dtype
    if H > 1 and R > 1 and a4.strides[1] < a4.strides[2]:
        return np.empty((B, R, H, C), dt).transpose(0, 2, 1, 3)
    return np.empty((B, H, R, C), dt)


class ScaledDotProductAttention(Function):
    # torch's CPU node for F.scaled_dot_product_attention (its flash kernel)
    _node_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale):
        qa, ka, va = q._a, k._a, v._a
        lead = qa.shape[:-2]
        L, D = qa.shape[-2:]
        S, DV = ka.shape[-2], va.shape[-1]
        q4, k4, v4 = _as4(qa, L, D), _as4(ka, S, D), _as4(va, S, DV)
        m4 = None
        if mask is not None:
            m4 = np.broadcast_to(mask._a, lead + (L, S))
            m4 = _as4(m4, L, S, unit_last=False)
        o = _empty_like4(q4, DV)
        lse = np.empty(q4.shape[:3], qa.dtype)
        cpu_kernels.sdpa_forward(q4, k4, v4, m4, causal, scale, o, lse)
        ctx.saved = (q4, k4, v4, m4, o, lse, causal, scale, lead, mask)
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
    causal, scale = ctx.saved[6], ctx.saved[7]
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
    q4, k4, v4, m4, o, lse, causal, scale, lead, mask = ctx.saved
    go = _as4(g._a, *o.shape[2:])
    gq, gk, gv = (_empty_like4(a) for a in (q4, k4, v4))
    want_m = mask is not None and ctx.needs_input_grad[3]
    L, S = q4.shape[2], k4.shape[2]
    gm = np.empty(q4.shape[:3] + (S,), q4.dtype) if want_m else None
    cpu_kernels.sdpa_backward(q4, k4, v4, m4, causal, scale, o, go, lse, gq, gk, gv, gm)
    r = [
        _wrap(gq.reshape(lead + q4.shape[2:])),
        _wrap(gk.reshape(lead + k4.shape[2:])),
        _wrap(gv.reshape(lead + v4.shape[2:])),
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
