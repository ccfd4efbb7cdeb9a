"""Fractional max pooling (Graham, 2014): ``fractional_max_pool2d`` and ``fractional_max_pool3d``.

Each (sample, channel) plane draws one number per pooled dimension (``_random_samples``, uniform
in [0, 1)); torch's ``generate_intervals`` turns it into the window starts, computed in the
input's dtype as torch does so the same samples give the same windows. The windows are gathered
at once (N, C, out..., k...), the maximum taken with torch's rules (the first maximum in
row-major order, the last NaN if any), and the gradient scattered back to the argmax
(windows may overlap: scatter_add).
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import xp_of
from .._random import gen_for
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import named
from .im2col import _ntuple

_wrap = Tensor._make
_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _starts(sample, n_in: int, n_out: int, k: int, dt) -> np.ndarray:
    """torch's generate_intervals for a (N, C) array of samples: (N, C, n_out) window starts."""
    N, C = sample.shape
    seq = np.empty((N, C, n_out), np.int64)
    if n_out > 1:
        alpha = dt.type(n_in - k) / dt.type(n_out - 1)
        i = np.arange(n_out - 1, dtype=dt)
        u = sample.astype(dt)[..., None]
        seq[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    if n_out > 0:
        seq[..., -1] = n_in - k
    return seq


class _FractionalMaxPool(Function):
    @staticmethod
    def forward(ctx, x, idx_flat, shape):
        xa = x._a
        xp = xp_of(xa)
        N, C = xa.shape[:2]
        flat = xa.reshape(N, C, -1)
        ia = idx_flat.reshape(N, C, -1)
        y = xp.take_along_axis(flat, ia, 2).reshape(shape)
        ctx.idx, ctx.xshape = ia, xa.shape
        return _wrap(y)

    @staticmethod
    def backward(ctx, g):
        from .indexing import scatter_add

        N, C = ctx.xshape[:2]
        gf = g.reshape(N, C, -1)
        gx = scatter_add(gf.new_zeros((N, C, math.prod(ctx.xshape[2:]))), 2, _wrap(ctx.idx), gf)
        return gx.reshape(ctx.xshape), None, None


class _FractionalMaxPool2d(_FractionalMaxPool):
    _node_name = "FractionalMaxPool2DBackward0"


class _FractionalMaxPool3d(_FractionalMaxPool):
    _node_name = "FractionalMaxPool3DBackward0"


def _put(seq: list, i: int, v: int) -> list:
    r = list(seq)
    r[i] = v
    return r


def _window_argmax(xp, vals):
    """Index into the last axis of torch's pick: the first maximum, or the last NaN."""
    K = vals.shape[-1]
    first_max = xp.argmax(xp.where(xp.isnan(vals), -xp.inf, vals), axis=-1)
    if vals.dtype.kind not in "fV":  # (V: bfloat16)
        return first_max
    nan = xp.isnan(vals)
    last_nan = K - 1 - xp.argmax(nan[..., ::-1], axis=-1)
    return xp.where(nan.any(-1), last_nan, first_max)


def _fractional_max_pool(
    nd: int, input, kernel_size, output_size, output_ratio, return_indices, _random_samples
):
    name = f"fractional_max_pool{nd}d"
    if input._a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input._a.shape)}"
        )
    unb = input._a.ndim == nd + 1
    x = input.unsqueeze(0) if unb else input
    a = x._a
    if a.dtype.kind not in "fV":
        raise RuntimeError(f"\"{name}\" not implemented for '{x.dtype}'")
    k = _ntuple(kernel_size, nd)
    ins = a.shape[2:]
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
        r = output_ratio
        ratio = tuple(r) if isinstance(r, (tuple, list)) else (r,) * nd
        outs = tuple(int(ins[i] * ratio[i]) for i in range(nd))
    else:
        outs = _ntuple(output_size, nd)
    names = _DIM_NAMES[nd]
    for d, n in enumerate(a.shape[1:]):
        if n == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"got{list(input._a.shape)} with dimension {d + 1 - unb} being empty."
            )
    if min(k) <= 0:  # torch pools empty windows into garbage: refused here
        raise RuntimeError(f"{name}(): kernel_size must be greater than zero, but got {k}")
    for i in range(nd):
        # torch: the 2-D op allows windows reaching the last element, the 3-D one does not
        if outs[i] + k[i] - 1 > ins[i] - (nd == 3):
            where = f"{name}()" if nd == 2 else f"{name}_out()"
            raise RuntimeError(
                f"{where}: pool {names[i]} {k[i]} too large relative to input {names[i]} {ins[i]}"
            )
    N, C = a.shape[:2]
    xp = xp_of(a)
    if _random_samples is None:
        # torch: torch.rand(N, C, nd, dtype=input.dtype), so torch's samples under a seed
        samples = gen_for(None).uniform((N, C, nd), a.dtype)
    else:
        s = _random_samples
        sa = s._a if isinstance(s, Tensor) else np.asarray(s)
        if unb and sa.ndim == 2:
            sa = sa[None]
        if sa.ndim != 3:
            raise RuntimeError(f"{name}(): Expect _random_samples to be a 3D tensor")
        if sa.dtype != a.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
        if sa.shape[2] != nd:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {sa.shape[2]}.")
        if sa.shape[1] != C:
            raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
        if sa.shape[0] < N:
            raise RuntimeError(
                f"Expect _random_samples.size(0) no less then input batch size, got "
                f"{sa.shape[0]} and {N}."
            )
        samples = sa[:N] if isinstance(sa, np.ndarray) else sa[:N].get()
    # sample j drives dimension j for 3-D (time, height, width); 2-D takes [0] for the
    # width and [1] for the height (torch's layout)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    if N == 0 or min(outs) == 0:  # an empty result (torch)
        y = x.reshape(-1)[:0].reshape((N, C) + outs).clone()
        ind = _wrap(xp_of(a).zeros((N, C) + outs, np.int64))
        if unb:
            y, ind = y.squeeze(0), ind.squeeze(0)
        return (y, ind) if return_indices else y
    starts = [_starts(samples[..., order[i]], ins[i], outs[i], k[i], a.dtype) for i in range(nd)]
    # flat index of every window element: (N, C, out_0..out_{nd-1}, k_0..k_{nd-1})
    strides = [math.prod(ins[i + 1 :]) for i in range(nd)]
    flat = np.zeros((N, C) + outs + k, np.int64)
    for i in range(nd):
        one = [1] * nd
        pos = starts[i].reshape((N, C, *_put(one, i, outs[i]), *one))
        tap = np.arange(k[i]).reshape((1, 1, *one, *_put(one, i, k[i])))
        flat = flat + (pos + tap) * strides[i]
    flat = flat.reshape(N, C, *outs, math.prod(k))
    a_np = a if xp is np else a.get()
    vals = np.take_along_axis(a_np.reshape(N, C, -1), flat.reshape(N, C, -1), 2)
    vals = vals.reshape(flat.shape)
    pick = _window_argmax(np, vals)
    idx = np.take_along_axis(flat, pick[..., None], -1)[..., 0]
    idx_dev = idx if xp is np else xp.asarray(idx)
    fn = _FractionalMaxPool2d if nd == 2 else _FractionalMaxPool3d
    y = fn.apply(x, idx_dev, (N, C) + outs)
    ind = _wrap(idx_dev)
    if unb:
        y, ind = y.squeeze(0), ind.squeeze(0)
    return (y, ind) if return_indices else y


def _fractional_max_pool_nd(nd, doc):
    """The public ``fractional_max_pool{nd}d``: ``_fractional_max_pool`` over ``nd`` dims."""

    def fractional_max_pool(
        input: Tensor,
        kernel_size,
        output_size=None,
        output_ratio=None,
        return_indices: bool = False,
        _random_samples=None,
    ):
        return _fractional_max_pool(
            nd, input, kernel_size, output_size, output_ratio, return_indices, _random_samples
        )

    return named(fractional_max_pool, f"fractional_max_pool{nd}d", doc)


fractional_max_pool2d = _fractional_max_pool_nd(
    2, """``F.fractional_max_pool2d`` over (N, C, H, W) or (C, H, W)."""
)
fractional_max_pool3d = _fractional_max_pool_nd(
    3, """``F.fractional_max_pool3d`` over (N, C, T, H, W) or (C, T, H, W)."""
)

fractional_max_pool2d_with_indices = fractional_max_pool2d
fractional_max_pool3d_with_indices = fractional_max_pool3d
