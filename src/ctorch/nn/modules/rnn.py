"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, dropout, packed input) and
their cells, with torch's parameter names (``weight_ih_l0``...), gate order and init.

The input projections of all time steps run as one GEMM per layer and direction; the time
loop then does one ``h @ W_hh^T`` GEMM and one fused gate Function per step (LSTM: i, f, g, o;
GRU: r, z, n), whose backward is written out by hand; the gates are one C pass per row on
the CPU (``ctorch._core.nnmisc.lstm_gates_*``/``gru_gates_*``).  An LSTM layer direction
without projections or packed input is ONE graph node on the CPU (``_LSTMLayer``, torch's
MkldnnRnnLayerBackward0), bitwise equal to the step-by-step graph; so are a GRU and a
tanh/ReLU RNN layer direction without packed input (``_GRULayer``, ``_RNNLayer``; their
forward is bitwise the step graph's, their gradients agree to rounding).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

import ctorch

from ... import _warnings
from ..._backend import float_kernels, sgemm_kernels, xp_of
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state as _grad_state
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_wrap = Tensor._make


# ------------------------------------------------------------------------ fused step Functions
def _sig(xp: Any, x: Any) -> Any:
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class _Unbind0(Function):
    """All slices along dim 0 in one node (its backward stacks the gradients once)."""

    _node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x._a.shape
        return tuple(_wrap(x._a[i]) for i in range(x._a.shape[0]))

    @staticmethod
    def backward(ctx, *grads):
        if _grad_state.enabled:  # create_graph: stacked differentiably
            return ctorch.stack(grads, 0)
        xp = xp_of(grads[0]._a)
        return _wrap(xp.stack([g._a for g in grads], 0))


def _unbind0(x: Tensor) -> tuple[Tensor, ...]:
    if x.shape[0] == 0:
        return ()
    out = _Unbind0.apply(x)
    return out if isinstance(out, tuple) else (out,)


def _rnn_kernels(a: Any, b: Any, c: Any, name: str) -> Any:
    """The CPU kernels with the fused gate kernel ``name`` when it applies (float32/float64
    NumPy arrays of one dtype; b may be None), else None (the NumPy/CuPy expressions)."""
    if type(a) is not np.ndarray or a.dtype != c.dtype or a.shape[:-1] != c.shape[:-1]:
        return None
    if b is not None and (b.dtype != c.dtype or b.shape != a.shape):
        return None
    return float_kernels(a, name)


class _LSTMGates(Function):
    """(input gates xg (B, 4H), hidden gates hh (B, 4H) or None, c) -> (h, c'), the
    pre-activation gates being xg + hh in order i, f, g, o."""

    _node_name = "LstmCellBackward0"

    @staticmethod
    def forward(ctx, xg, hh, c):
        ga, ca = xg._a, c._a
        ha = None if hh is None else hh._a
        ctx.no_hh = ha is None
        k = _rnn_kernels(ga, ha, ca, "lstm_gates_forward")
        if k is not None:  # one fused pass (ctorch._core.nnmisc)
            H = ca.shape[-1]
            B = ca.size // H if H else 0
            dt = ca.dtype
            g2 = np.ascontiguousarray(ga).reshape(B, 4 * H)
            h2 = np.zeros_like(g2) if ha is None else np.ascontiguousarray(ha).reshape(B, 4 * H)
            c2d = np.ascontiguousarray(ca).reshape(B, H)
            h, c2 = np.empty((B, H), dt), np.empty((B, H), dt)
            act, tc = np.empty((B, 4 * H), dt), np.empty((B, H), dt)
            k.lstm_gates_forward(g2, h2, c2d, h, c2, act, tc)
            ctx.fused = (act, tc, c2d)
            ctx.save_for_backward(xg, hh, c)
            return _wrap(h.reshape(ca.shape)), _wrap(c2.reshape(ca.shape))
        ctx.fused = None
        xp = xp_of(ga)
        if ha is not None:
            ga = ga + ha
        H = ga.shape[-1] // 4
        i = _sig(xp, ga[..., :H])
        f = _sig(xp, ga[..., H : 2 * H])
        g = xp.tanh(ga[..., 2 * H : 3 * H])
        o = _sig(xp, ga[..., 3 * H :])
        c2 = f * ca + i * g
        tc = xp.tanh(c2)
        h = o * tc
        ctx.saved = (i, f, g, o, ca, tc)
        ctx.save_for_backward(xg, hh, c)
        return _wrap(h), _wrap(c2)

    @staticmethod
    def backward(ctx, gh, gc):
        if _grad_state.enabled:  # create_graph: the same formulas from differentiable ops
            xg, hh, c = ctx.saved_tensors
            gates = xg if hh is None else xg + hh
            H = gates.shape[-1] // 4
            i, f = gates[..., :H].sigmoid(), gates[..., H : 2 * H].sigmoid()
            g, o = gates[..., 2 * H : 3 * H].tanh(), gates[..., 3 * H :].sigmoid()
            tc = (f * c + i * g).tanh()
            dct = gc + gh * o * (1 - tc * tc)
            parts = [dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g)]
            dg = ctorch.cat([*parts, gh * tc * o * (1 - o)], -1)
            return dg, (None if hh is None else dg), dct * f
        if ctx.fused is not None:
            act, tc, c2d = ctx.fused
            B, H = tc.shape
            gha = np.ascontiguousarray(gh._a, dtype=tc.dtype).reshape(B, H)
            gca = np.ascontiguousarray(gc._a, dtype=tc.dtype).reshape(B, H)
            da, dc = np.empty_like(act), np.empty_like(tc)
            float_kernels(tc, "lstm_gates_backward").lstm_gates_backward(
                act, tc, c2d, gha, gca, da, dc
            )
            shape = gh.shape
            da = da.reshape(shape[:-1] + (4 * H,))
            # the same gradient for xg and hh; the second as a view, so that a leaf keeps
            # its own copy (AccumulateGrad adopts only arrays that own their data)
            hg = None if ctx.no_hh else _wrap(da.view())
            return _wrap(da), hg, _wrap(dc.reshape(shape))
        i, f, g, o, ca, tc = ctx.saved
        xp = xp_of(i)
        gha, gca = gh._a, gc._a
        dct = gca + gha * o * (1 - tc * tc)
        dgates = xp.concatenate(
            [
                dct * g * i * (1 - i),
                dct * ca * f * (1 - f),
                dct * i * (1 - g * g),
                gha * tc * o * (1 - o),
            ],
            axis=-1,
        ).astype(i.dtype, copy=False)
        hg = None if ctx.no_hh else _wrap(dgates.view())
        return _wrap(dgates), hg, _wrap((dct * f).astype(i.dtype, copy=False))


class _GRUGates(Function):
    """(gi = W_ih x + b_ih, gh = W_hh h + b_hh, h) -> h' with gates in order r, z, n."""

    _node_name = "GruCellBackward0"

    @staticmethod
    def forward(ctx, gi, gh, h):
        gia, gha, ha = gi._a, gh._a, h._a
        k = _rnn_kernels(gia, gha, ha, "gru_gates_forward")
        if k is not None:  # one fused pass (ctorch._core.nnmisc)
            H = ha.shape[-1]
            B = ha.size // H if H else 0
            dt = ha.dtype
            gi2 = np.ascontiguousarray(gia).reshape(B, 3 * H)
            gh2 = np.ascontiguousarray(gha).reshape(B, 3 * H)
            h2 = np.ascontiguousarray(ha).reshape(B, H)
            out, act = np.empty((B, H), dt), np.empty((B, 3 * H), dt)
            k.gru_gates_forward(gi2, gh2, h2, out, act)
            ctx.fused = (act, gh2, h2)
            ctx.save_for_backward(gi, gh, h)
            return _wrap(out.reshape(ha.shape))
        ctx.fused = None
        xp = xp_of(gia)
        H = gia.shape[-1] // 3
        r = _sig(xp, gia[..., :H] + gha[..., :H])
        z = _sig(xp, gia[..., H : 2 * H] + gha[..., H : 2 * H])
        hn = gha[..., 2 * H :]
        n = xp.tanh(gia[..., 2 * H :] + r * hn)
        out = (1 - z) * n + z * ha
        ctx.saved = (r, z, n, hn, ha)
        ctx.save_for_backward(gi, gh, h)
        return _wrap(out.astype(gia.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: the same formulas from differentiable ops
            gi, gh, h = ctx.saved_tensors
            H = gi.shape[-1] // 3
            r = (gi[..., :H] + gh[..., :H]).sigmoid()
            z = (gi[..., H : 2 * H] + gh[..., H : 2 * H]).sigmoid()
            hn = gh[..., 2 * H :]
            n = (gi[..., 2 * H :] + r * hn).tanh()
            dn = g * (1 - z) * (1 - n * n)
            dz = g * (h - n) * z * (1 - z)
            dr = dn * hn * r * (1 - r)
            return ctorch.cat([dr, dz, dn], -1), ctorch.cat([dr, dz, dn * r], -1), g * z
        if ctx.fused is not None:
            act, gh2, h2 = ctx.fused
            B, H = h2.shape
            ga = np.ascontiguousarray(g._a, dtype=h2.dtype).reshape(B, H)
            dgi, dgh, dh = np.empty_like(act), np.empty_like(act), np.empty_like(h2)
            float_kernels(h2, "gru_gates_backward").gru_gates_backward(
                act, gh2, h2, ga, dgi, dgh, dh
            )
            lead = g.shape[:-1]
            return (
                _wrap(dgi.reshape(lead + (3 * H,))),
                _wrap(dgh.reshape(lead + (3 * H,))),
                _wrap(dh.reshape(g.shape)),
            )
        r, z, n, hn, ha = ctx.saved
        xp = xp_of(r)
        ga = g._a
        dn = ga * (1 - z) * (1 - n * n)
        dz = ga * (ha - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dgi = xp.concatenate([dr, dz, dn], axis=-1).astype(r.dtype, copy=False)
        dgh = xp.concatenate([dr, dz, dn * r], axis=-1).astype(r.dtype, copy=False)
        return _wrap(dgi), _wrap(dgh), _wrap((ga * z).astype(r.dtype, copy=False))


def _lstm_step(
    xg: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None
) -> tuple[Tensor, Tensor]:
    h2, c2 = _LSTMGates.apply(xg, F.linear(h, w_hh, b_hh), c)
    if w_hr is not None:
        h2 = F.linear(h2, w_hr)
    return h2, c2


def _lstm_order(T: int, reverse: bool) -> range:
    """The time steps of one LSTM layer direction in the order they are taken."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _lstm_steps(
    xg: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer direction step by step, one graph node per op (xg (T, B, 4H): the
    input projections of all steps): the general path, and _LSTMLayer's double backward."""
    xgs = _unbind0(xg)
    T = len(xgs)
    outs: list[Tensor | None] = [None] * T
    for t in _lstm_order(T, reverse):
        h, c = _lstm_step(xgs[t], h, c, w_hh, b_hh, None)
        outs[t] = h
    return ctorch.stack(outs, 0), h, c


def _hh_steps(h0: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool, out: Any, hs: Any):
    """The time loop of a fused layer: for each step (s-th taken, time t) yields
    (s, t, h, gh), h the hidden state it reads (also kept in hs[t] when hs is given) and
    gh = h @ W_hh^T + b_hh; the caller writes out[t], the next step's h.  W_hh^T is made
    row-major once, so every step's product reads it in place (sgemm's row-major B path for
    few rows) instead of packing the transposed W_hh; the FMA chains, and so the bits, are
    those of F.linear's."""
    from ...ops.mm_arrays import _linear_mm, _sgemm_2d

    wt = np.ascontiguousarray(w_hh._a.T)
    ba = None if b_hh is None else b_hh._a
    h = np.ascontiguousarray(h0._a, dtype=out.dtype)
    # The per-step products are small ((B, H) @ (H, G)) and have Python between them: on 2+
    # threads each one pays an OpenMP thread wake-up that costs more than the split saves
    # (20x200x800: 60 us on 2 threads, 52 us on 1), so below 2**24 multiply-adds they run on
    # one thread (sgemm's bits do not depend on the thread count).
    one = 1 if h.shape[0] * wt.shape[0] * wt.shape[1] < 1 << 24 else 0
    for s, t in enumerate(_lstm_order(out.shape[0], reverse)):
        if hs is not None:
            hs[t] = h
        gh = _sgemm_2d(h, wt, None, one) if one else None
        if gh is None:
            gh = _linear_mm(h, wt)
        if ba is not None:
            gh += ba
        yield s, t, h, gh
        h = out[t]


def _c_loop(a: Any, w_hh: Tensor) -> Any:
    """ctorch._core.gemm when a fused float32 LSTM layer's time loop can run in C: every
    step's products (B, H) @ (H, 4H) and (B, 4H) @ (4H, H) are ones _sgemm_2d sends to the
    sgemm (so the C loop's bits are the Python loop's), else None."""
    from ...ops import mm_arrays as mm

    T, B, G = a.shape
    H = G // 4
    wa = w_hh._a
    if a.dtype != np.float32 or wa.dtype != np.float32 or not mm._LINEAR_SGEMM:
        return None
    if B < 8 or H < 8 or B * H * G < mm._LINEAR_SGEMM_MIN_MACS:
        return None
    k = sgemm_kernels(a[0], wa)
    return k if k is not None and hasattr(k, "lstm_layer_forward") else None


def _loop_threads(a: Any) -> int:
    """The C loop's thread cap: all threads (0) from 2**20 multiply-adds a step, one below.
    The loop is one OpenMP region per layer (a barrier between each step's product and its
    gates), not a pool wake-up per step as the Python loop's products (see _hh_steps)."""
    T, B, G = a.shape
    return 1 if B * G * (G // 4) < 1 << 20 else 0


def _last_h(out: Any, reverse: bool, h0: Tensor) -> Any:
    """A fused layer's final hidden state: ``out`` (T, B, H) at the last step taken, or
    ``h0``'s array (in ``out``'s dtype) when there are no steps."""
    T = out.shape[0]
    return out[_lstm_order(T, reverse)[-1]] if T else np.ascontiguousarray(h0._a, dtype=out.dtype)


def _hh_grads(ctx: Any, dgates: Any, hprev: Any, b_hh: Any, iw: int) -> tuple[Any, Any]:
    """W_hh's and b_hh's gradients of a fused layer over all its steps at once, as torch's
    fused layer computes them: one (G, T*B) @ (T*B, H) product of the gate gradients
    ``dgates`` (T, B, G) with the h each step read, ``hprev()`` (T, B, H; a callable, built
    only when W_hh needs it), and one column sum; not T small products and T sums (an LSTM
    LM step of 35 steps: ~3 ms less a layer).  The summation order is the product's, so the
    two are not bitwise the step-by-step graph's.  ``iw``: W_hh's input index (b_hh's is
    the next); Tensors, or None where not needed."""
    from ...ops.mm_arrays import _linear_mm

    T, B, G = dgates.shape
    d2 = dgates.reshape(T * B, G)
    gw = gb = None
    if ctx.needs_input_grad[iw]:
        h = hprev()
        gw = _wrap(_linear_mm(d2.T, h.reshape(T * B, h.shape[-1])))
    if b_hh is not None and ctx.needs_input_grad[iw + 1]:
        gb = _wrap(d2).sum(0)
    return gw, gb


def _steps_backward(ctx: Any, steps: Any, grads: tuple) -> tuple:
    """A fused layer's backward under create_graph: its inputs' gradients through the
    step-by-step graph (``steps(*saved inputs, reverse)``), recomputed differentiably; None
    for the trailing ``reverse`` flag."""
    ins = ctx.saved_tensors
    want = [i for i in range(len(ins)) if ctx.needs_input_grad[i] and ins[i] is not None]
    with ctorch.enable_grad():
        outs = steps(*ins, ctx.reverse)
    got = ctorch.autograd.grad(
        outs, [ins[i] for i in want], list(grads), create_graph=True, allow_unused=True
    )
    res: list[Any] = [None] * (len(ins) + 1)
    for i, g in zip(want, got, strict=True):
        res[i] = g
    return tuple(res)


class _LSTMLayer(Function):
    """A whole LSTM layer direction as ONE graph node (torch's CPU LSTM records one
    MkldnnRnnLayerBackward0 per layer too): (xg (T, B, 4H), h0, c0, w_hh, b_hh) -> (out
    (T, B, H), h_T, c_T).  The time loop runs on arrays with the fused gate kernels, with no
    per-step nodes, and every product, sum and accumulation is the one the step-by-step path
    (``_lstm_steps``) makes, in the same order, so values and gradients are bitwise equal
    to it (tests/nn/test_rnn.py)."""

    _node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, b_hh, reverse):

        xa = np.ascontiguousarray(xg._a)
        T, B, G = xa.shape
        H = G // 4
        dt = xa.dtype
        k = float_kernels(xa, "lstm_gates_forward")
        out = np.empty((T, B, H), dt)
        act, tc = np.empty((T, B, G), dt), np.empty((T, B, H), dt)
        cs = np.empty((T + 1, B, H), dt)  # cs[s]: c before the s-th step taken, cs[T] the last
        cs[0] = c0._a
        kc = _c_loop(xa, w_hh)
        if kc is not None:  # the same loop in C (ctorch._core.gemm), the same bits
            bias = None if b_hh is None else np.ascontiguousarray(b_hh._a)
            h0a = np.ascontiguousarray(h0._a, dtype=dt)
            wt = np.ascontiguousarray(w_hh._a.T)
            kc.lstm_layer_forward(xa, wt, bias, h0a, out, cs, act, tc, reverse, _loop_threads(xa))
        else:
            for s, t, _h, hh in _hh_steps(h0, w_hh, b_hh, reverse, out, None):
                k.lstm_gates_forward(xa[t], hh, cs[s], out[t], cs[s + 1], act[t], tc[t])
        h = _last_h(out, reverse, h0)
        ctx.arrays = (act, tc, cs, out)
        ctx.reverse = reverse
        ctx.save_for_backward(xg, h0, c0, w_hh, b_hh)
        return _wrap(out), _wrap(h.copy()), _wrap(cs[T].copy())

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        if _grad_state.enabled:  # create_graph: the step-by-step graph, recomputed
            return _steps_backward(ctx, _lstm_steps, (g_out, g_h, g_c))
        from ...ops.mm_arrays import _linear_mm

        act, tc, cs, out = ctx.arrays
        _xg, h0, _c0, w_hh, b_hh = ctx.saved_tensors
        T, B, G = act.shape
        H = G // 4
        dt = act.dtype
        k = float_kernels(act, "lstm_gates_backward")
        wa = w_hh._a
        go = np.ascontiguousarray(g_out._a, dtype=dt)
        dh = np.ascontiguousarray(g_h._a, dtype=dt)
        dc = np.ascontiguousarray(g_c._a, dtype=dt)
        dG = np.empty((T, B, G), dt)
        kc = _c_loop(act, w_hh)
        if kc is not None:  # the same loop in C, the same bits
            dh, dc = dh.copy(), dc.copy()  # (overwritten: the gradients of h0 and c0)
            wc = np.ascontiguousarray(wa)
            kc.lstm_layer_backward(act, tc, cs, go, wc, dh, dc, dG, ctx.reverse, _loop_threads(act))
        else:
            order = _lstm_order(T, ctx.reverse)
            for s in range(T - 1, -1, -1):
                t = order[s]
                gh = go[t] + dh  # the two gradients of h_t: the output's and the next step's
                dc_new = np.empty((B, H), dt)
                k.lstm_gates_backward(act[t], tc[t], cs[s], gh, dc, dG[t], dc_new)
                dc = dc_new
                dh = _linear_mm(dG[t], wa)

        def hprev():  # hp[t]: the h that step t read
            hp = np.empty((T, B, H), dt)
            h0a = np.ascontiguousarray(h0._a, dtype=dt)
            if ctx.reverse:
                hp[: T - 1] = out[1:]
                hp[T - 1] = h0a
            else:
                hp[1:] = out[: T - 1]
                hp[0] = h0a
            return hp

        gw, gb = _hh_grads(ctx, dG, hprev, b_hh, 3)
        return _wrap(dG), _wrap(dh), _wrap(dc), gw, gb, None


def _lstm_layer_fused(
    xg: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    kernel: str = "lstm_gates_forward",
) -> bool:
    """Whether one LSTM (GRU: ``kernel="gru_gates_forward"``, c = h) layer direction runs as
    the single _LSTMLayer (_GRULayer) node: CPU float32 or float64 arrays of one dtype with
    the fused gate kernels."""
    a = xg._a
    if type(a) is not np.ndarray or a.ndim != 3 or float_kernels(a, kernel) is None:
        return False
    ts = (h, c, w_hh) if b_hh is None else (h, c, w_hh, b_hh)
    return all(type(t._a) is np.ndarray and t._a.dtype == a.dtype for t in ts)


def _gru_step(xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    return _GRUGates.apply(xg, F.linear(h, w_hh, b_hh), h)


def _h_steps(
    step: Callable[..., Tensor],
    xg: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    reverse: bool,
    *extra: Any,
) -> tuple[Tensor, Tensor]:
    """The time loop of a layer direction whose only state is h (GRU, Elman RNN), step by
    step, one graph node per op: ``h = step(xg[t], h, w_hh, b_hh, *extra)`` in time order
    (reversed for ``reverse``); returns (the stacked outputs, the last h)."""
    xgs = _unbind0(xg)
    T = len(xgs)
    outs: list[Tensor | None] = [None] * T
    for t in _lstm_order(T, reverse):
        h = step(xgs[t], h, w_hh, b_hh, *extra)
        outs[t] = h
    return ctorch.stack(outs, 0), h


def _gru_steps(
    xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool
) -> tuple[Tensor, Tensor]:
    """One GRU layer direction step by step, one graph node per op (xg (T, B, 3H)): the
    general path, and _GRULayer's double backward."""
    return _h_steps(_gru_step, xg, h, w_hh, b_hh, reverse)


class _GRULayer(Function):
    """A whole GRU layer direction as ONE graph node: (xg (T, B, 3H), h0, w_hh, b_hh) ->
    (out (T, B, H), h_T), the time loop on arrays with the fused gate kernels and no per-step
    nodes, as _LSTMLayer.  Forward values are bitwise the step-by-step graph's
    (``_gru_steps``: the same products and gate kernels); in the backward, W_hh's and b_hh's
    gradients are one product and one column sum over all the steps (not T of each), and
    each h_t's three gradient terms are added in a fixed order, so gradients agree with the
    step-by-step graph to rounding.  torch's CPU GRU is that step-by-step graph, whose output
    node is the stack of the steps: this node takes its name."""

    _node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh, reverse):

        xa = np.ascontiguousarray(xg._a)
        T, B, G = xa.shape
        H = G // 3
        dt = xa.dtype
        k = float_kernels(xa, "gru_gates_forward")
        out = np.empty((T, B, H), dt)
        act, ghs = np.empty((T, B, G), dt), np.empty((T, B, G), dt)
        hs = np.empty((T, B, H), dt)  # hs[t]: the h that step t read
        for _s, t, h, gh in _hh_steps(h0, w_hh, b_hh, reverse, out, hs):
            ghs[t] = gh
            k.gru_gates_forward(xa[t], gh, h, out[t], act[t])
        h = _last_h(out, reverse, h0)
        ctx.arrays = (act, ghs, hs)
        ctx.reverse = reverse
        ctx.save_for_backward(xg, h0, w_hh, b_hh)
        return _wrap(out), _wrap(h.copy())

    @staticmethod
    def backward(ctx, g_out, g_h):
        if _grad_state.enabled:  # create_graph: the step-by-step graph, recomputed
            return _steps_backward(ctx, _gru_steps, (g_out, g_h))
        from ...ops.mm_arrays import _linear_mm

        act, ghs, hs = ctx.arrays
        _xg, _h0, w_hh, b_hh = ctx.saved_tensors
        T, B, G = act.shape
        H = G // 3
        dt = act.dtype
        k = float_kernels(act, "gru_gates_backward")
        wa = w_hh._a
        go = np.ascontiguousarray(g_out._a, dtype=dt)
        dh = np.ascontiguousarray(g_h._a, dtype=dt)
        dgi, dgh = np.empty((T, B, G), dt), np.empty((T, B, G), dt)
        order = _lstm_order(T, ctx.reverse)
        for s in range(T - 1, -1, -1):
            t = order[s]
            gh = go[t] + dh  # h_t's gradient: the output's and the later steps'
            dh_gate = np.empty((B, H), dt)
            k.gru_gates_backward(act[t], ghs[t], hs[t], gh, dgi[t], dgh[t], dh_gate)
            dh = dh_gate + _linear_mm(dgh[t], wa)  # through the gates and through W_hh
        gw, gb = _hh_grads(ctx, dgh, lambda: hs, b_hh, 2)
        return _wrap(dgi), _wrap(dh), gw, gb, None


def _rnn_step(xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    pre = xg + F.linear(h, w_hh, b_hh)
    return F.relu(pre) if relu else ctorch.tanh(pre)


def _rnn_steps(
    xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool, relu: bool
) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer direction step by step (the general path, and _RNNLayer's double
    backward)."""
    return _h_steps(_rnn_step, xg, h, w_hh, b_hh, reverse, relu)


class _RNNLayer(Function):
    """A whole tanh/ReLU RNN layer direction as ONE graph node: (xg (T, B, H), h0, w_hh, b_hh)
    -> (out (T, B, H), h_T), as _GRULayer.  The forward runs the step path's products, adds
    and activation kernels, so its values are bitwise the step-by-step graph's; W_hh's and
    b_hh's gradients are one product and one column sum over the steps, so gradients agree
    with that graph to rounding.  torch's CPU RNN output node is the stack of the steps: this
    node takes its name."""

    _node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh, reverse, relu):

        xa = np.ascontiguousarray(xg._a)
        T, B, H = xa.shape
        dt = xa.dtype
        act = ctorch.relu if relu else ctorch.tanh
        out = np.empty((T, B, H), dt)
        hs = np.empty((T, B, H), dt)  # hs[t]: the h that step t read
        for _s, t, _h, gh in _hh_steps(h0, w_hh, b_hh, reverse, out, hs):
            out[t] = act(_wrap(xa[t] + gh))._a
        h = _last_h(out, reverse, h0)
        ctx.arrays = (out, hs)
        ctx.reverse, ctx.relu = reverse, relu
        ctx.save_for_backward(xg, h0, w_hh, b_hh)
        return _wrap(out), _wrap(h.copy())

    @staticmethod
    def backward(ctx, g_out, g_h):
        if _grad_state.enabled:  # create_graph: the step-by-step graph, recomputed
            steps = lambda *a: _rnn_steps(*a, ctx.relu)  # noqa: E731
            return (*_steps_backward(ctx, steps, (g_out, g_h)), None)
        from ...ops.mm_arrays import _linear_mm

        out, hs = ctx.arrays
        _xg, _h0, w_hh, b_hh = ctx.saved_tensors
        T, B, H = out.shape
        dt = out.dtype
        wa = w_hh._a
        go = np.ascontiguousarray(g_out._a, dtype=dt)
        dh = np.ascontiguousarray(g_h._a, dtype=dt)
        dpre = np.empty((T, B, H), dt)
        order = _lstm_order(T, ctx.reverse)
        for s in range(T - 1, -1, -1):
            t = order[s]
            y = out[t]
            gy = go[t] + dh
            if ctx.relu:
                dpre[t] = np.where(y > 0, gy, dt.type(0))
            else:
                dpre[t] = gy * (1 - y * y)
            dh = _linear_mm(dpre[t], wa)
        gw, gb = _hh_grads(ctx, dpre, lambda: hs, b_hh, 2)
        return _wrap(dpre), _wrap(dh), gw, gb, None, None


# ------------------------------------------------------------------------ packed <-> padded
def _packed_index(batch_sizes: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Flat (t * B + b) positions of the packed rows in a (T, B) grid."""
    T = len(batch_sizes)
    B = int(batch_sizes[0]) if T else 0
    pos = (
        np.concatenate([t * B + np.arange(int(bs)) for t, bs in enumerate(batch_sizes)])
        if T
        else np.zeros(0, np.int64)
    )
    return pos.astype(np.int64), T, B


def _packed_to_padded(data: Tensor, batch_sizes: np.ndarray) -> Tensor:
    pos, T, B = _packed_index(batch_sizes)
    gather = np.full(T * B, pos.size, np.int64)  # the extra zero row
    gather[pos] = np.arange(pos.size)
    zero = ctorch.zeros((1,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    ext = ctorch.cat([data, zero], 0)
    idx = ctorch.from_numpy(gather).to(data.device)
    return ext[idx].reshape((T, B) + tuple(data.shape[1:]))


def _padded_to_packed(padded: Tensor, batch_sizes: np.ndarray) -> Tensor:
    pos, T, B = _packed_index(batch_sizes)
    flat = padded.reshape((T * B,) + tuple(padded.shape[2:]))
    return flat[ctorch.from_numpy(pos).to(padded.device)]


# ------------------------------------------------------------------------ the layers
class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (parameters, init, the layer/direction loop)."""

    __constants__ = [
        "mode",
        "input_size",
        "hidden_size",
        "num_layers",
        "bias",
        "batch_first",
        "dropout",
        "bidirectional",
        "proj_size",
    ]

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (
            not isinstance(dropout, numbers.Number)
            or not 0 <= dropout <= 1
            or isinstance(dropout, bool)
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            _warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        elif mode in ("RNN_TANH", "RNN_RELU"):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                w_ih = Parameter(ctorch.empty((gate_size, layer_input_size), **factory_kwargs))
                w_hh = Parameter(ctorch.empty((gate_size, real_hidden_size), **factory_kwargs))
                b_ih = Parameter(ctorch.empty(gate_size, **factory_kwargs))
                b_hh = Parameter(ctorch.empty(gate_size, **factory_kwargs))
                layer_params: tuple[Parameter, ...]
                if proj_size == 0:
                    layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                else:
                    w_hr = Parameter(ctorch.empty((proj_size, hidden_size), **factory_kwargs))
                    layer_params = (w_ih, w_hh, b_ih, b_hh, w_hr) if bias else (w_ih, w_hh, w_hr)
                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    param_names += ["weight_hr_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params, strict=False):
                    setattr(self, name, param)
                self._flat_weights_names.extend(param_names)
                self._all_weights.append(param_names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list[Tensor | None]:
        return [getattr(self, wn, None) for wn in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def flatten_parameters(self) -> None:
        """No-op (cuDNN weight compaction has no ctorch counterpart)."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def __getstate__(self) -> dict:
        # torch's pickled RNNs carry the weight list too (its __setstate__ reads it), so a
        # whole model saved by ctorch loads in torch
        state = self.__dict__.copy()
        state["_flat_weights"] = self._flat_weights
        return state

    def __setstate__(self, d: dict) -> None:
        d = {k: v for k, v in d.items() if k not in ("_flat_weights", "_flat_weight_refs")}
        super().__setstate__(d)
        if "proj_size" not in d:
            self.proj_size = 0

    # -------------------------------------------------------------- the computation
    def _layer_weights(self, layer: int, direction: int) -> tuple[Any, ...]:
        sfx = "_reverse" if direction == 1 else ""
        g = self.__dict__["_parameters"].get
        return (
            g(f"weight_ih_l{layer}{sfx}"),
            g(f"weight_hh_l{layer}{sfx}"),
            g(f"bias_ih_l{layer}{sfx}"),
            g(f"bias_hh_l{layer}{sfx}"),
            g(f"weight_hr_l{layer}{sfx}"),
        )

    def _run(
        self, x: Tensor, h0: Tensor, c0: Tensor | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """x (T, B, in); h0/c0 (L*D, B, H). ``mask`` (T, B, 1) marks valid steps (packed)."""
        D_ = 2 if self.bidirectional else 1
        T = x.shape[0]
        mode = self.mode
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        layer_in = x
        steps = _unbind0(mask) if mask is not None else None
        for layer in range(self.num_layers):
            outs_dir = []
            for direction in range(D_):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                k = layer * D_ + direction
                h = h0[k]
                c = c0[k] if c0 is not None else None
                xg_all = F.linear(layer_in, w_ih, b_ih)
                if (
                    mode == "LSTM"
                    and w_hr is None
                    and steps is None
                    and _lstm_layer_fused(xg_all, h, c, w_hh, b_hh)
                ):
                    out_d, h, c = _LSTMLayer.apply(xg_all, h, c, w_hh, b_hh, direction == 1)
                    outs_dir.append(out_d)
                    h_n.append(h)
                    c_n.append(c)
                    continue
                if (
                    mode != "LSTM"  # GRU, RNN_TANH, RNN_RELU: h is the only state
                    and steps is None
                    and _lstm_layer_fused(xg_all, h, h, w_hh, b_hh, "gru_gates_forward")
                ):
                    if mode == "GRU":
                        out_d, h = _GRULayer.apply(xg_all, h, w_hh, b_hh, direction == 1)
                    else:
                        out_d, h = _RNNLayer.apply(
                            xg_all, h, w_hh, b_hh, direction == 1, mode == "RNN_RELU"
                        )
                    outs_dir.append(out_d)
                    h_n.append(h)
                    continue
                xg = _unbind0(xg_all)
                outs: list[Tensor | None] = [None] * T
                order = range(T - 1, -1, -1) if direction == 1 else range(T)
                for t in order:
                    if mode == "LSTM":
                        h2, c2 = _lstm_step(xg[t], h, c, w_hh, b_hh, w_hr)
                    elif mode == "GRU":
                        h2, c2 = _gru_step(xg[t], h, w_hh, b_hh), None
                    else:
                        h2, c2 = _rnn_step(xg[t], h, w_hh, b_hh, mode == "RNN_RELU"), None
                    if steps is not None:
                        m = steps[t]
                        h = ctorch.where(m, h2, h)
                        if c2 is not None:
                            c = ctorch.where(m, c2, c)
                        outs[t] = h2 * m.to(h2.dtype)
                    else:
                        h = h2
                        c = c2
                        outs[t] = h2
                outs_dir.append(ctorch.stack(outs, 0))
                h_n.append(h)
                if c is not None:
                    c_n.append(c)
            layer_in = outs_dir[0] if D_ == 1 else ctorch.cat(outs_dir, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        hn = ctorch.stack(h_n, 0)
        cn = ctorch.stack(c_n, 0) if c_n else None
        return layer_in, hn, cn

    def _forward_impl(self, input: Any, hx: Any) -> tuple[Any, Any]:
        is_lstm = self.mode == "LSTM"
        D_ = 2 if self.bidirectional else 1
        real_h = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        mask = None
        if packed:
            data, batch_sizes_t = input.data, input.batch_sizes
            batch_sizes = np.asarray(batch_sizes_t.tolist(), dtype=np.int64)
            x = _packed_to_padded(data, batch_sizes)
            B = int(batch_sizes[0]) if len(batch_sizes) else 0
            T = len(batch_sizes)
            lengths = np.array([(batch_sizes > b).sum() for b in range(B)])
            valid = (np.arange(T)[:, None] < lengths[None, :])[..., None]
            mask = ctorch.from_numpy(valid).to(data.device)
            is_batched = True
            sorted_indices = input.sorted_indices
            if hx is not None and sorted_indices is not None:
                if is_lstm:
                    hx = (
                        hx[0].index_select(1, sorted_indices),
                        hx[1].index_select(1, sorted_indices),
                    )
                else:
                    hx = hx.index_select(1, sorted_indices)
        else:
            x = input
            if x.dim() not in (2, 3):
                raise ValueError(
                    f"{type(self).__name__}: Expected input to be 2D or 3D, got {x.dim()}D instead"
                )
            is_batched = x.dim() == 3
            if not is_batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
            B = x.shape[1]
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{x.shape[-1]}"
            )
        if hx is None:
            h0 = ctorch.zeros((self.num_layers * D_, B, real_h), dtype=x.dtype, device=x.device)
            c0 = (
                ctorch.zeros(
                    (self.num_layers * D_, B, self.hidden_size), dtype=x.dtype, device=x.device
                )
                if is_lstm
                else None
            )
        else:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError("LSTM expects hx to be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            if not packed:
                want = 3 if is_batched else 2
                for t in (h0, c0):
                    if t is not None and t.dim() != want:
                        kind = "batched 3-D" if is_batched else "unbatched 2-D"
                        raise RuntimeError(
                            f"For {kind} input, hx{' and cx' if is_lstm else ''} should also "
                            f"be {want}-D but got {t.dim()}-D tensor"
                        )
                if not is_batched:
                    h0 = h0.unsqueeze(1)
                    c0 = c0.unsqueeze(1) if c0 is not None else None
            exp_h = (self.num_layers * D_, B, real_h)
            if tuple(h0.shape) != exp_h:  # torch names LSTM's two states hidden[0], hidden[1]
                what = "hidden[0]" if is_lstm else "hidden"
                raise RuntimeError(f"Expected {what} size {exp_h}, got {list(h0.shape)}")
            if c0 is not None:
                exp_c = (self.num_layers * D_, B, self.hidden_size)
                if tuple(c0.shape) != exp_c:
                    raise RuntimeError(f"Expected hidden[1] size {exp_c}, got {list(c0.shape)}")
        if x.shape[0] == 0:  # torch's check, after the size checks (ctorch's backward crashed)
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        out, hn, cn = self._run(x, h0, c0, mask)
        if packed:
            out_data = _padded_to_packed(out, batch_sizes)
            output: Any = PackedSequence(
                out_data, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
            ui = input.unsorted_indices
            if ui is not None:
                hn = hn.index_select(1, ui)
                cn = cn.index_select(1, ui) if cn is not None else None
        else:
            output = out
            if not is_batched:
                output = output.squeeze(1)
                hn = hn.squeeze(1)
                cn = cn.squeeze(1) if cn is not None else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, ((hn, cn) if is_lstm else hn)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        return self._forward_impl(input, hx)


class LSTM(RNNBase):
    """LSTM with torch's gate order (input, forget, cell, output) and optional projection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(
        self, input: Any, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        return self._forward_impl(input, hx)


class GRU(RNNBase):
    """GRU with torch's gate order (reset, update, new)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        return self._forward_impl(input, hx)


# ------------------------------------------------------------------------ cells
class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(
            ctorch.empty((num_chunks * hidden_size, input_size), **factory_kwargs)
        )
        self.weight_hh = Parameter(
            ctorch.empty((num_chunks * hidden_size, hidden_size), **factory_kwargs)
        )
        if bias:
            self.bias_ih = Parameter(ctorch.empty(num_chunks * hidden_size, **factory_kwargs))
            self.bias_hh = Parameter(ctorch.empty(num_chunks * hidden_size, **factory_kwargs))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.__dict__.get("bias", True) is not True:
            s += f", bias={self.bias}"
        nl = self.__dict__.get("nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input: Tensor, name: str) -> bool:
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        return input.dim() == 2

    def _batched(self, input: Tensor, hx: Any, name: str, pair: bool = False) -> tuple:
        """(whether ``input`` was batched, input as (N, input_size), hx as (N, hidden_size),
        or a pair of those for LSTMCell): an unbatched input and its state get a batch dim of
        one, a missing state is zeros."""
        is_batched = self._check(input, name)
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = ctorch.zeros(
                (input.size(0), self.hidden_size), dtype=input.dtype, device=input.device
            )
            hx = (z, z) if pair else z
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0)) if pair else hx.unsqueeze(0)
        return is_batched, input, hx


class RNNCell(RNNCellBase):
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        is_batched, input, hx = self._batched(input, hx, "RNNCell")
        pre = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(
            hx, self.weight_hh, self.bias_hh
        )
        if self.nonlinearity == "tanh":
            ret = ctorch.tanh(pre)
        elif self.nonlinearity == "relu":
            ret = F.relu(pre)
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if is_batched else ret.squeeze(0)


class _GatedCell(RNNCellBase):
    """LSTMCell and GRUCell: torch's constructor, ``_num_chunks`` gates per hidden unit."""

    _num_chunks = 0

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, bias, num_chunks=self._num_chunks, device=device, dtype=dtype
        )


class LSTMCell(_GatedCell):
    _num_chunks = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        is_batched, input, hx = self._batched(input, hx, "LSTMCell", pair=True)
        h, c = _LSTMGates.apply(
            F.linear(input, self.weight_ih, self.bias_ih),
            F.linear(hx[0], self.weight_hh, self.bias_hh),
            hx[1],
        )
        if not is_batched:
            return h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(_GatedCell):
    _num_chunks = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        is_batched, input, hx = self._batched(input, hx, "GRUCell")
        h = _GRUGates.apply(
            F.linear(input, self.weight_ih, self.bias_ih),
            F.linear(hx, self.weight_hh, self.bias_hh),
            hx,
        )
        return h if is_batched else h.squeeze(0)
