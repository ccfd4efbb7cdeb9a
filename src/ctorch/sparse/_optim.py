"""Optimizer updates with sparse gradients: torch's single-tensor SGD (sparse momentum
buffer) and SparseAdam, written on arrays (no autograd)."""

from __future__ import annotations

import math

from .._backend import xp_of
from .._tensor import Tensor
from . import _arrays as AR
from ._inplace import dense_add_sparse_
from ._ops import add_sparse_arrays
from ._tensor import SparseTensor

_wrap = Tensor._make


def _scaled(g: SparseTensor, c) -> SparseTensor:
    return g._with_values(_wrap(g._val._a * g._val._a.dtype.type(c)))


def sgd_sparse_step(p, g: SparseTensor, state: dict, group: dict) -> None:
    """One SGD step of ``p`` with the sparse gradient ``g`` (torch's ``_single_tensor_sgd``:
    the momentum buffer is sparse, weight decay is refused as torch refuses it)."""
    lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
    wd, nest, maxi = group["weight_decay"], group["nesterov"], group["maximize"]
    if maxi:
        g = _scaled(g, -1)
    if wd != 0:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if mom != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = g._clone_arrays()
            state["momentum_buffer"] = buf
        else:
            buf = add_sparse_arrays(_scaled(buf, mom), g, 1 - damp)
            state["momentum_buffer"] = buf
        g = add_sparse_arrays(g, buf, mom) if nest else buf
    dense_add_sparse_(p, g, -lr)


def sparse_adam_step(p, g: SparseTensor, state: dict, group: dict) -> None:
    """torch's ``sparse_adam`` for one parameter: moments updated only at the gradient's
    (coalesced) indices."""
    lr, (beta1, beta2), eps, maxi = group["lr"], group["betas"], group["eps"], group["maximize"]
    pa = p._a
    xp = xp_of(pa)
    if len(state) == 0:
        state["step"] = 0
        state["exp_avg"] = _wrap(xp.zeros_like(pa))
        state["exp_avg_sq"] = _wrap(xp.zeros_like(pa))
    state["step"] += 1
    step = state["step"]
    sd = g.sparse_dim()
    gind = g._coo_ind()
    gv = g._coo_vals()
    if maxi:
        gv = -gv
    if not g._coal:
        gind, gv, _ = AR.coalesce(gind, gv, g._sz[:sd])
    if gv.size == 0:
        return
    key = tuple(gind)
    ea, es = state["exp_avg"]._a, state["exp_avg_sq"]._a
    old_ea = ea[key]
    upd_ea = (gv - old_ea) * gv.dtype.type(1 - beta1)
    ea[key] += upd_ea
    old_es = es[key]
    upd_es = (gv * gv - old_es) * gv.dtype.type(1 - beta2)
    es[key] += upd_es
    numer = upd_ea + old_ea
    denom = xp.sqrt(upd_es + old_es) + gv.dtype.type(eps)
    bc1 = 1 - beta1**step
    bc2 = 1 - beta2**step
    step_size = lr * math.sqrt(bc2) / bc1
    pa[key] += (-step_size) * (numer / denom)
    state["exp_avg"]._vref[0] += 1
    state["exp_avg_sq"]._vref[0] += 1
    p._vref[0] += 1


def adagrad_sparse_step(p, g: SparseTensor, state: dict, step: float, group: dict) -> None:
    """torch's Adagrad with a sparse gradient: the squared-gradient sum and the parameter
    change only at the gradient's (coalesced) indices; ``weight_decay`` is refused."""
    if group["weight_decay"] != 0:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
    clr = lr / (1 + (step - 1) * lr_decay)
    sd = g.sparse_dim()
    gind, gv = g._coo_ind(), g._coo_vals()
    if group["maximize"]:
        gv = -gv
    if not g._coal:
        gind, gv, _ = AR.coalesce(gind, gv, g._sz[:sd])
    if gv.shape[0] == 0:
        return
    key = tuple(gind)
    ssum = state["sum"]._a
    ssum[key] += gv * gv
    std = xp_of(gv).sqrt(ssum[key]) + gv.dtype.type(eps)
    p._a[key] += (gv / std) * gv.dtype.type(-clr)
    state["sum"]._vref[0] += 1
