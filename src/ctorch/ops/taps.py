"""A linear map along one dimension as gathered taps: ``y[o] = sum_t w[o, t] * x[idx[o, t]]``,
with its adjoint and autograd.  Interpolation (``spatial.interpolate``) and adaptive average
pooling (``avg_pool``) both apply their per-dimension windows this way."""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .shape import _named

_wrap = Tensor._make


_DENSE_MAX_IN = 128


def _taps_arr(a, d, idx, w):
    """sum_t w[:, t] * take(a, idx[:, t], axis=d); idx may name a.shape[d], which reads a
    zero appended along d (the padding of shorter windows); w None: a plain sum.

    Speed: for short axes (<= 128) and finite data the same taps as one dense
    (n_out, n_in) product through BLAS (upsampling 64 -> 128 ran ~2x faster that way than
    as gathers); a NaN or inf in ``a`` takes the gathers, where it reaches only the outputs
    whose taps hold it (0 * inf in the dense product spread it over the row)."""
    xp = xp_of(a)
    n = a.shape[d]
    if w is not None and n <= _DENSE_MAX_IN and a.size and bool(xp.isfinite(a).all()):
        m = np.zeros((idx.shape[0], n + 1), np.float64)
        np.add.at(m, (np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.reshape(-1)),
                  w.reshape(-1))  # fmt: skip
        m = xp.asarray(m[:, :n].astype(a.dtype))
        if d == a.ndim - 1:
            return xp.matmul(a, m.T)
        return xp.ascontiguousarray(xp.moveaxis(xp.matmul(m, xp.moveaxis(a, d, -2)), -2, d))
    if idx.size and int(idx.max()) >= n:
        zshape = list(a.shape)
        zshape[d] = 1
        a = xp.concatenate([a, xp.zeros(zshape, a.dtype)], d)
    shape = [1] * a.ndim
    shape[d] = idx.shape[0]
    out = None
    for t in range(idx.shape[1]):
        g = xp.take(a, xp.asarray(idx[:, t]), axis=d)
        if w is not None:
            g *= xp.asarray(w[:, t].astype(a.dtype).reshape(shape))
        if out is None:
            out = g
        else:
            out += g
    if out is None:
        oshape = list(a.shape)
        oshape[d] = idx.shape[0]
        out = xp.zeros(oshape, a.dtype)
    return out


def _transpose_taps(idx, w, n_in):
    """The adjoint taps: for each input position, the (output, weight) pairs that read it,
    padded with output index n_out (a zero) and weight 0.  Pad taps of idx are dropped."""
    n_out, T = idx.shape
    o = np.repeat(np.arange(n_out), T)
    i = idx.reshape(-1)
    wf = np.ones(i.shape) if w is None else w.reshape(-1)
    keep = i < n_in
    o, i, wf = o[keep], i[keep], wf[keep]
    order = np.argsort(i, kind="stable")
    o, i, wf = o[order], i[order], wf[order]
    cnt = np.bincount(i, minlength=n_in)
    Tt = max(int(cnt.max()) if cnt.size else 0, 1)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    pos = np.arange(i.size) - start[i]
    idxT = np.full((n_in, Tt), n_out, np.int64)
    wT = np.zeros((n_in, Tt), np.float64)
    idxT[i, pos] = o
    wT[i, pos] = wf
    return idxT, (None if w is None else wT)


class _TapsFn(Function):
    """y = taps(x) along one dim: a gather of a few taps per output (forward) and the
    adjoint gather (backward), both in NumPy/CuPy ``take`` without per-element Python."""

    _node_name = "UpsampleBackward0"

    @staticmethod
    def forward(ctx, x, d, idx, w, idxT=None, wT=None):
        if idxT is None and ctx.needs_input_grad[0]:  # the adjoint taps, only when recording
            idxT, wT = _transpose_taps(idx, w, x._a.shape[d])
        ctx.args = (d, idxT, wT, idx, w)
        return _wrap(_taps_arr(x._a, d, idx, w))

    @staticmethod
    def backward(ctx, g):
        d, idxT, wT, idx, w = ctx.args
        if state.enabled:  # create_graph: the adjoint is itself a taps op
            return _TapsFn.apply(g, d, idxT, wT, idx, w), None, None, None, None, None
        return _wrap(_taps_arr(contiguous(g._a), d, idxT, wT)), None, None, None, None, None


def _apply_taps(y, d, idx, w, node: str | None = None):
    """Taps along dim d with autograd (see ``_taps_arr``); ``node``: the graph node's name
    (torch's name for the op the taps implement)."""
    return (_TapsFn if node is None else _named(_TapsFn, node)).apply(y, d, idx, w)


def _to_like(a, like: Tensor) -> Tensor:
    t = _wrap(a)
    if type(like._a) is not np.ndarray:
        t = t.to(like.device)
    return t
