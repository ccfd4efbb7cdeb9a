"""Normalization: batch_norm, layer_norm, group_norm, instance_norm.

batch_norm and layer_norm are Functions over the fused ``normalization`` kernels
(batchnorm_stats / batchnorm_apply / batchnorm_backward, layernorm_forward / backward) for
float32/float64, with a NumPy/CuPy fallback computing the same formulas.  Training-mode batch
norm updates the running statistics in place, running_var with the unbiased batch variance
(torch's rule).  group_norm is layer norm over (N*G) rows of C/G*HW elements, followed by the
per-channel affine; instance_norm is batch norm over a (1, N*C, ...) view.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import contiguous, float_kernels, xp_of
from .._core._smallops import layernorm_rows as _ln_small
from .._memfmt import like_input
from .._size import Size
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad, state
from .avg_pool import avg_pool2d
from .binary import _scalar_name
from .spatial import pad

__all__ = [
    "batch_norm",
    "layer_norm",
    "instance_norm",
    "local_response_norm",
    "rms_norm",
]

_wrap = Tensor._make
_SHAPES = (tuple, list, Size)  # the exact types of layer_norm's normalized_shape fast path


def _arr(t, dtype=None):
    if t is None:
        return None
    a = contiguous(t._a)
    if a.ndim != 1 and dtype is not None:
        a = a.reshape(-1)
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


# --------------------------------------------------------------------------- batch norm
def _bn_stats(xa, N, C, HW, eps):
    """Per-channel batch mean and 1/sqrt(biased var + eps)."""
    xp = xp_of(xa)
    mean = xp.empty((C,), xa.dtype)
    invstd = xp.empty((C,), xa.dtype)
    k = float_kernels(xa, "batchnorm_stats")
    if k is not None:
        k.batchnorm_stats(xa.reshape(-1), mean, invstd, N, C, HW, float(eps))
        return mean, invstd
    x3 = xa.reshape(N, C, HW).astype(np.float64)
    m = x3.mean(axis=(0, 2))
    v = ((x3 - m[None, :, None]) ** 2).mean(axis=(0, 2))
    mean[...] = m
    invstd[...] = 1.0 / xp.sqrt(v + eps)
    return mean, invstd


def _bn_apply(xa, mean, invstd, wa, ba, N, C, HW):
    xp = xp_of(xa)
    y = xp.empty(xa.shape, xa.dtype)
    k = float_kernels(xa, "batchnorm_apply")
    if k is not None:
        k.batchnorm_apply(xa.reshape(-1), mean, invstd, wa, ba, y.reshape(-1), N, C, HW)
        return y
    a = invstd if wa is None else invstd * wa
    b = -mean * a if ba is None else ba - mean * a
    y.reshape(N, C, HW)[...] = xa.reshape(N, C, HW) * a[:, None] + b[:, None]
    return y


def _norm_backward_kernel(name, ga, xa, mean, rstd, wa, P, nx, nw, nb, *sizes):
    """The buffers of a normalization's x, weight and bias gradients (None where not needed;
    weight and bias ``P`` long) and ``ga`` made contiguous, and whether the C kernel ``name``
    (batchnorm_backward, layernorm_backward) filled them (False: no kernel for the dtype)."""
    xp = xp_of(ga)
    ga = contiguous(ga)
    gx = xp.empty(xa.shape, ga.dtype) if nx else None
    gw = xp.empty((P,), ga.dtype) if nw else None
    gb = xp.empty((P,), ga.dtype) if nb else None
    k = float_kernels(ga, name)
    if k is not None:
        getattr(k, name)(
            ga.reshape(-1),
            xa.reshape(-1),
            mean,
            rstd,
            wa,
            None if gx is None else gx.reshape(-1),
            gw,
            gb,
            *sizes,
        )
    return ga, gx, gw, gb, k is not None


def _bn_backward(ga, xa, mean, invstd, wa, N, C, HW, training, nx, nw, nb):
    ga, gx, gw, gb, done = _norm_backward_kernel(
        "batchnorm_backward", ga, xa, mean, invstd, wa, C, nx, nw, nb, N, C, HW, bool(training)
    )
    if done:
        return gx, gw, gb
    g3 = ga.reshape(N, C, HW).astype(np.float64)
    xhat = (xa.reshape(N, C, HW) - mean[:, None]).astype(np.float64) * invstd[:, None]
    sg = g3.sum(axis=(0, 2))
    sgx = (g3 * xhat).sum(axis=(0, 2))
    if gb is not None:
        gb[...] = sg
    if gw is not None:
        gw[...] = sgx
    if gx is not None:
        s = invstd.astype(np.float64) if wa is None else invstd.astype(np.float64) * wa
        if training:
            M = N * HW
            r = (g3 - sg[:, None] / M - xhat * (sgx[:, None] / M)) * s[:, None]
        else:
            r = g3 * s[:, None]
        gx.reshape(N, C, HW)[...] = r
    return gx, gw, gb


def _check_mixed(op, xa, *params) -> None:
    """torch's CPU check_mixed_data_type: parameters (weight, bias, running statistics)
    must have the input's dtype, except float32 parameters of a float16/bfloat16 input.
    (A float32 LayerNorm applied to float64 input computed in float64 here; torch raises.)"""
    ps = [p._a.dtype for p in params if p is not None]
    if all(d == xa.dtype for d in ps):
        return
    if xa.dtype == np.float32:
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if xa.dtype.itemsize == 2 and all(d == np.float32 for d in ps):
        return
    raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _nchw(shape):
    N, C = shape[0], shape[1]
    return N, C, math.prod(shape[2:])


class BatchNormFn(Function):
    _node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, mean, invstd, training, eps=1e-5):
        xa = _arr(x)
        N, C, HW = _nchw(xa.shape)
        wa, ba = _arr(w, xa.dtype), _arr(b, xa.dtype)
        y = _bn_apply(xa, mean, invstd, wa, ba, N, C, HW)
        ctx.save_for_backward(x, w)
        ctx.stats = (mean, invstd, training)
        ctx.eps = eps
        return _wrap(like_input(y, x._a))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        mean, invstd, training = ctx.stats
        nx, nw, nb = ctx.needs_input_grad[:3]
        if state.enabled:
            return _bn_backward_graph(g, x, w, mean, invstd, training, ctx.eps, nx, nw, nb)
        xa = _arr(x)
        N, C, HW = _nchw(xa.shape)
        gx, gw, gb = _bn_backward(
            g._a, xa, mean, invstd, _arr(w, xa.dtype), N, C, HW, training, nx, nw, nb
        )
        return (
            None if gx is None else _wrap(gx),
            None if gw is None else _wrap(gw),
            None if gb is None else _wrap(gb),
            None,
            None,
            None,
            None,
        )


def _bn_backward_graph(g, x, w, mean, invstd, training, eps, nx, nw, nb):
    """Differentiable backward (create_graph=True): the same formulas as Tensor ops."""
    nd = x.dim()
    axes = (0,) + tuple(range(2, nd))
    shp = (1, -1) + (1,) * (nd - 2)
    if training:
        mu = x.mean(axes, keepdim=True)
        var = ((x - mu) ** 2).mean(axes, keepdim=True)
        inv = (var + eps).rsqrt()
    else:
        mu = _wrap(mean).reshape(shp)
        inv = _wrap(invstd).reshape(shp)
    xhat = (x - mu) * inv
    sg = g.sum(axes, keepdim=True)
    sgx = (g * xhat).sum(axes, keepdim=True)
    gx = gw = gb = None
    if nx:
        s = inv if w is None else inv * w.reshape(shp)
        if training:
            M = x.numel() // x.shape[1]
            gx = (g - sg / M - xhat * (sgx / M)) * s
        else:
            gx = g * s
    if nw:
        gw = sgx.reshape(-1)
    if nb:
        gb = sg.reshape(-1)
    return gx, gw, gb, None, None, None, None


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over (N, C, *) input, as torch.nn.functional.batch_norm.

    In training mode the batch statistics normalize the input and, when given, the running
    statistics are updated in place: running = (1 - momentum) * running + momentum * batch,
    with the unbiased variance for running_var.  Otherwise the running statistics are used.
    """
    if training and not eps > 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return batch_norm_stats(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )[0]


def batch_norm_stats(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[Tensor, Any, Any]:
    """``batch_norm`` and the per-channel (mean, invstd) arrays it normalized with (the batch's
    in training, the running statistics' otherwise; None for an empty training batch)."""
    xa = input._a
    if xa.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {xa.ndim}D input)")
    if xa.dtype.kind not in "fV":
        raise RuntimeError(f"\"batch_norm\" not implemented for '{input.dtype}'")
    N, C, HW = _nchw(xa.shape)
    for name, t in (
        ("weight", weight),
        ("bias", bias),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        if t is not None and t._a.size != C:
            raise RuntimeError(
                f"running_mean should contain {C} elements not {t._a.size}"
                if name.startswith("running")
                else f"{name} should contain {C} elements not {t._a.size}"
            )
    _check_mixed("batch_norm", xa, weight, bias, running_mean, running_var)
    xa = contiguous(xa)
    xp = xp_of(xa)
    if training and N * HW == 0:
        # torch returns the empty output and leaves the running statistics alone (only a
        # single value per channel is an error)
        shp = (1, C) + (1,) * (xa.ndim - 2)
        y = input * 1.0
        if weight is not None:
            y = y * weight.reshape(shp)
        if bias is not None:
            y = y + bias.reshape(shp)
        return y, None, None
    if training:
        if N * HW == 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input "
                f"size torch.Size({list(xa.shape)})"
            )
        mean, invstd = _bn_stats(xa, N, C, HW, eps)
        if running_mean is not None or running_var is not None:
            m = float(momentum) if momentum is not None else 0.0
            with no_grad():
                if running_mean is not None:
                    rm = running_mean._a
                    rm *= 1.0 - m
                    rm += (m * mean.astype(np.float64)).astype(rm.dtype)
                    running_mean._bump()
                if running_var is not None:
                    var_b = 1.0 / invstd.astype(np.float64) ** 2 - eps
                    cnt = N * HW
                    rv = running_var._a
                    rv *= 1.0 - m
                    rv += (m * var_b * (cnt / (cnt - 1))).astype(rv.dtype)
                    running_var._bump()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean = running_mean._a.astype(xa.dtype).reshape(-1)
        invstd = (1.0 / xp.sqrt(running_var._a.astype(np.float64) + eps)).astype(xa.dtype)
        mean = contiguous(mean)
        invstd = contiguous(invstd.reshape(-1))
    return BatchNormFn.apply(input, weight, bias, mean, invstd, bool(training), eps), mean, invstd


# --------------------------------------------------------------------------- layer norm
def _ln_forward(xa, wa, ba, M, D, eps):
    r = _ln_small(xa, D, wa, ba, eps)  # small float32 CPU rows: one compiled call
    if r is not None:
        return r
    xp = xp_of(xa)
    y = xp.empty(xa.shape, xa.dtype)
    mean = xp.empty((M,), xa.dtype)
    rstd = xp.empty((M,), xa.dtype)
    k = float_kernels(xa, "layernorm_forward")
    if k is not None:
        k.layernorm_forward(xa.reshape(-1), wa, ba, y.reshape(-1), mean, rstd, M, D, float(eps))
        return y, mean, rstd
    x2 = xa.reshape(M, D).astype(np.float64)
    m = x2.mean(1)
    v = ((x2 - m[:, None]) ** 2).mean(1)
    r = 1.0 / xp.sqrt(v + eps)
    yy = (x2 - m[:, None]) * r[:, None]
    if wa is not None:
        yy = yy * wa
    if ba is not None:
        yy = yy + ba
    y.reshape(M, D)[...] = yy
    mean[...] = m
    rstd[...] = r
    return y, mean, rstd


def _ln_backward(ga, xa, mean, rstd, wa, M, D, nx, nw, nb):
    ga, gx, gw, gb, done = _norm_backward_kernel(
        "layernorm_backward", ga, xa, mean, rstd, wa, D, nx, nw, nb, M, D
    )
    if done:
        return gx, gw, gb
    g2 = ga.reshape(M, D).astype(np.float64)
    xhat = (xa.reshape(M, D) - mean[:, None]).astype(np.float64) * rstd[:, None]
    if gw is not None:
        gw[...] = (g2 * xhat).sum(0)
    if gb is not None:
        gb[...] = g2.sum(0)
    if gx is not None:
        gh = g2 if wa is None else g2 * wa
        r = gh - gh.mean(1, keepdims=True) - xhat * (gh * xhat).mean(1, keepdims=True)
        gx.reshape(M, D)[...] = r * rstd[:, None]
    return gx, gw, gb


class LayerNormFn(Function):
    _node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, D, eps):
        xa = _arr(x)
        M = xa.size // D if D else 0
        y, mean, rstd = _ln_forward(xa, _arr(w, xa.dtype), _arr(b, xa.dtype), M, D, eps)
        ctx.save_for_backward(x, w)
        ctx.stats = (mean, rstd, D, eps)
        ctx.wshape = None if w is None else w._a.shape
        return _wrap(y)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        mean, rstd, D, eps = ctx.stats
        nx, nw, nb = ctx.needs_input_grad[:3]
        if state.enabled:
            nd = len(ctx.wshape) if ctx.wshape is not None else None
            return _ln_backward_graph(g, x, w, D, eps, nd, nx, nw, nb)
        xa = _arr(x)
        M = xa.size // D if D else 0
        gx, gw, gb = _ln_backward(g._a, xa, mean, rstd, _arr(w, xa.dtype), M, D, nx, nw, nb)
        ws = ctx.wshape
        return (
            None if gx is None else _wrap(gx),
            None if gw is None else _wrap(gw.reshape(ws)),
            None if gb is None else _wrap(gb.reshape(ws)),
            None,
            None,
        )


def _ln_backward_graph(g, x, w, D, eps, nd, nx, nw, nb):
    shp = x.shape
    x2 = x.reshape(-1, D)
    g2 = g.reshape(-1, D)
    mu = x2.mean(1, keepdim=True)
    r = ((x2 - mu) ** 2).mean(1, keepdim=True).add(eps).rsqrt()
    xhat = (x2 - mu) * r
    gx = gw = gb = None
    if nx:
        gh = g2 if w is None else g2 * w.reshape(-1)
        gx = (
            (gh - gh.mean(1, keepdim=True) - xhat * (gh * xhat).mean(1, keepdim=True)) * r
        ).reshape(shp)
    if nw:
        gw = (g2 * xhat).sum(0).reshape(w.shape)
    if nb:
        gb = g2.sum(0).reshape(w.shape)
    return gx, gw, gb, None, None


def _shape_arg(op: str, shape) -> None:
    """torch's functional layer_norm / rms_norm take ``normalized_shape`` as a sequence of
    ints only (the modules accept an int and make it a 1-tuple)."""
    if not isinstance(shape, (tuple, list)) and not (
        isinstance(shape, Tensor) or type(shape).__name__ == "Size"
    ):
        raise TypeError(
            f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(shape).__name__}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` dimensions."""
    if (
        type(input) is Tensor
        and type(normalized_shape) in _SHAPES
        and len(normalized_shape) == 1
        and type(normalized_shape[0]) is int
        and _fn_mod._autocast is None
        and not (
            state.enabled
            and (
                input._rg or (weight is not None and weight._rg) or (bias is not None and bias._rg)
            )
        )
    ):  # small float32 CPU rows with nothing to record or cast: one compiled call
        r = _ln_small(
            input._a,
            normalized_shape[0],
            None if weight is None else weight._a,
            None if bias is None else bias._a,
            float(eps),
        )
        if r is not None:
            return _wrap(r[0])
    _shape_arg("layer_norm", normalized_shape)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    xa = input._a
    nd = len(normalized_shape)
    if nd == 0 or xa.ndim < nd or tuple(xa.shape[xa.ndim - nd :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(xa.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._a.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but "
                f"got {name} of shape {list(t._a.shape)} and normalized_shape = "
                f"{list(normalized_shape)}"
            )
    if xa.dtype.kind not in "fV":
        raise NotImplementedError(
            f"\"LayerNormKernelImpl\" not implemented for '{_scalar_name(xa.dtype)}'"
        )
    _check_mixed("layer_norm", xa, weight, bias)
    D = math.prod(normalized_shape)
    return LayerNormFn.apply(input, weight, bias, D, eps)


# --------------------------------------------------------------------------- group / instance
def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization: batch norm over a (1, N*C, *) view of the input."""
    xa = input._a
    N, C = xa.shape[:2]
    shp = (1, N * C) + tuple(xa.shape[2:])
    rm = rv = None
    # the tiled copies in the input's dtype: torch's instance_norm accepts running stats of
    # another dtype (the write-back below casts), while batch_norm refuses mixed dtypes
    if running_mean is not None:
        rm = _wrap(xp_of(running_mean._a).tile(running_mean._a, N).astype(xa.dtype))
    if running_var is not None:
        rv = _wrap(xp_of(running_var._a).tile(running_var._a, N).astype(xa.dtype))
    w = weight.repeat(N) if weight is not None else None
    b = bias.repeat(N) if bias is not None else None
    # torch views ``input.contiguous()``: a C-ordered result for a channels-last input too
    y = batch_norm(input.contiguous().reshape(shp), rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            if running_mean is not None:
                running_mean._a[...] = rm._a.reshape(N, C).mean(0)
                running_mean._bump()
            if running_var is not None:
                running_var._a[...] = rv._a.reshape(N, C).mean(0)
                running_var._bump()
    return y.reshape(xa.shape)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Local response normalization across channels (composite, autograd through ops)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(
            f"local_response_norm: expected 3D or higher dimensionality input (got {dim} "
            "dimensions)"
        )
    div = input * input
    if dim == 3:
        div = div.unsqueeze(1)
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div.reshape(sizes[0], 1, sizes[1], -1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def rms_norm(
    input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2 over the trailing dims) + eps) * weight (composite)."""
    _shape_arg("rms_norm", normalized_shape)
    nd = len(tuple(normalized_shape))
    if tuple(input.shape[input.dim() - nd :]) != tuple(normalized_shape):
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with "
            f"shape [*, {', '.join(str(s) for s in normalized_shape)}], but got "
            f"input of size{list(input.shape)}"
        )
    if eps is None:
        eps = float(np.finfo(input._a.dtype).eps)
    dims = tuple(range(input.dim() - nd, input.dim()))
    y = input * (input * input).mean(dims, keepdim=True).add(eps).rsqrt()
    return y * weight if weight is not None else y
