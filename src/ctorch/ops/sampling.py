"""``grid_sample``, ``affine_grid`` and ``gumbel_softmax``. ``grid_sample``'s values are a
composite of differentiable ops, recorded as one node by ``sampling_nodes``; ``affine_grid``
is one node there too.

``grid_sample`` unnormalizes the grid, applies the padding mode to the coordinates (border:
clamp; reflection: torch's reflect-then-clip), and gathers the 2**d corner taps of each sample
point from the (N, C, D*H*W) input in one ``_WeightedGather`` (backward: one scatter-add through
the pooling backward kernel); the corner weights are composed ops of the grid, so the grid's
gradient follows from their backward rules.  Memory: (N, C, 2**d, points) values; torch's
fused kernel is still ~2x faster (8x32x64x64, 64x64 grid, fwd+bwd: 136 vs 76 ms).
"""

from __future__ import annotations

import math

import numpy as np

import ctorch

from .. import _warnings
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import check_same_device
from .max_pool import _maxpool_bwd_arrays

__all__ = ["grid_sample", "affine_grid", "gumbel_softmax"]

_wrap = Tensor._make

_AC_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def _base_coords(n: int, align_corners: bool, dtype) -> np.ndarray:
    """ATen's ``linspace_from_neg_one`` in the grid's dtype: ``linspace(-1, 1, n)``, then
    ``* (n - 1) / n`` when not align_corners, each step rounded to the dtype (computing in
    float64 and rounding once moves a float32 grid point by an ulp, and a bilinear sample on
    a pixel centre then takes the other neighbour's slope in the grid gradient)."""
    if n <= 1:
        return ctorch.zeros(max(n, 0), dtype=dtype).numpy()
    r = ctorch.linspace(-1.0, 1.0, n, dtype=dtype)
    if not align_corners:
        r = r * (n - 1) / n
    return r.numpy()


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid of an affine transform: (N, H, W, 2) for 4-D ``size``, (N, D, H, W, 3)
    for 5-D, as ``torch.nn.functional.affine_grid``."""
    if align_corners is None:
        _warnings.warn(_AC_WARNING)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}."
        )
    nd = len(size) - 2  # a 2D or 3D affine transform: nd x (nd + 1) matrices
    if theta.dim() != 3 or tuple(theta.shape[-2:]) != (nd, nd + 1):
        raise ValueError(
            f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} for size "
            f"{size}. Got {list(theta.shape)}."
        )
    spatial = size[-nd:]
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(spatial) == 1:
        _warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
        )
    N = size[0]
    if theta.shape[0] != N:  # torch's bmm of the base grid by theta refuses it so
        raise RuntimeError(
            f"affine_grid: expected theta of batch size {N} (size[0]) but got {list(theta.shape)}"
        )
    axes = [_base_coords(n, align_corners, theta.dtype) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    # coordinate order is x (W), y (H)[, z (D)], then the homogeneous 1
    cols = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size, mesh[0].dtype)]
    base = np.stack(cols, -1).astype(theta._a.dtype)
    b = _wrap(base)
    if theta.device.type != "cpu":
        b = b.to(theta.device)
    from .sampling_nodes import AffineGridGenerator  # it imports this module's users

    return AffineGridGenerator.apply(theta, b, (N, *spatial, len(spatial)))


class _WeightedGather(Function):
    """out[n, c, p] = sum_k w[n, k, p] * x[n, c, idx[n, k, p]] for x (N, C, S), w and the int
    idx (N, K, P): the K interpolation taps of P points.  Backward: one scatter-add of all
    taps into x's gradient (the pooling backward kernel) and a contraction for w's."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, idx, valid=None):
        # valid: (N, K, P) bool, False at taps outside the input (None: all inside); their
        # weight is 0 in the values (NaN at a NaN coordinate, as torch's) and they give x no
        # gradient (torch scatters only in-bounds taps)
        ctx.valid = valid
        xa, wa = x._a, w._a
        xp = xp_of(xa)
        N, C, S = xa.shape
        _, K, P = idx.shape
        vals = xp.take_along_axis(xa, idx.reshape(N, 1, K * P), axis=2).reshape(N, C, K, P)
        ctx.save = (vals, wa, idx, xa.shape)
        ctx.save_for_backward(x, w)
        return _wrap(xp.einsum("nckp,nkp->ncp", vals, wa))

    @staticmethod
    def backward(ctx, g: Tensor):
        vals, wa, idx, xshape = ctx.save
        if _grad_state.enabled:  # create_graph: the same sums from differentiable ops
            return _weighted_gather_backward_graph(ctx, g, idx, xshape)
        ga = g._a
        xp = xp_of(ga)
        N, C, S = xshape
        _, K, P = idx.shape
        gx = gw = None
        if ctx.needs_input_grad[0]:
            contrib = ga[:, :, None, :] * wa[:, None, :, :]
            if ctx.valid is not None:
                contrib = xp.where(ctx.valid[:, None], contrib, 0)
            contrib = contrib.reshape(N, C, K * P, 1)
            full_idx = xp.ascontiguousarray(
                xp.broadcast_to(idx.reshape(N, 1, K * P, 1), (N, C, K * P, 1))
            )
            gx = _wrap(_maxpool_bwd_arrays(contrib, full_idx, (N, C, S, 1)).reshape(xshape))
        if ctx.needs_input_grad[1]:
            gw = _wrap(xp.einsum("ncp,nckp->nkp", ga, vals))
        return gx, gw, None, None


def _weighted_gather_backward_graph(ctx, g, idx, xshape):
    x, w = ctx.saved_tensors
    N, C, S = xshape
    _, K, P = idx.shape
    xp = xp_of(idx)
    flat = xp.ascontiguousarray(xp.broadcast_to(idx.reshape(N, 1, K * P), (N, C, K * P)))
    flat_t = _wrap(flat.astype(np.int64, copy=False))
    gx = gw = None
    if ctx.needs_input_grad[0]:
        contrib = g.unsqueeze(2) * w.unsqueeze(1)
        if ctx.valid is not None:
            contrib = ctorch.where(_wrap(ctx.valid[:, None]), contrib, 0.0)
        contrib = contrib.reshape(N, C, K * P)
        gx = ctorch.zeros(xshape, dtype=g.dtype, device=g.device).scatter_add(2, flat_t, contrib)
    if ctx.needs_input_grad[1]:
        vals = x.gather(2, flat_t).reshape(N, C, K, P)
        gw = (g.unsqueeze(2) * vals).sum(1)
    return gx, gw, None, None


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    if twice_low == twice_high:
        return coord * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (coord - lo).abs()
    flips = np.floor(c.detach()._a / span)
    extra = c - _wrap((flips * span).astype(c._a.dtype))
    even = _wrap((flips % 2) == 0)
    return ctorch.where(even, extra + lo, span - extra + lo)


def _source_index(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            c = _reflect(c, 0, 2 * (size - 1))
        else:
            c = _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    if padding_mode != "zeros":
        # a NaN coordinate (or +-inf reflected, which is NaN) samples position 0, as torch's
        # CPU kernel (its vector clip turns NaN into the lower bound)
        return c.nan_to_num(0.0)
    # a finite coordinate outside int32 is out of bounds (-100, torch's
    # safe_downgrade_to_int_range), so it samples zero padding: floor(1e30) does not fit int64.
    # NaN and +-inf stay: their corner weights are NaN, as torch's
    return ctorch.where(c.isfinite() & (c.abs() >= 2.0**31 - 1), -100.0, c)


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample ``input`` (N, C, H, W) / (N, C, D, H, W) at the normalized ``grid`` points
    (N, Ho, Wo, 2) / (N, Do, Ho, Wo, 3), as ``torch.nn.functional.grid_sample`` (modes
    ``bilinear``, ``nearest`` and, for 4-D input, ``bicubic``)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', "
            f"or 'reflection', but got: '{padding_mode}'"
        )
    if align_corners is None:
        _warnings.warn(_AC_WARNING)
        align_corners = False
    nd = input.dim() - 2
    if nd not in (2, 3) or grid.dim() != input.dim() or grid.shape[-1] != nd:
        raise RuntimeError(
            f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions "
            f"and grid's last dimension {nd}, but got input with sizes {list(input.shape)} and "
            f"grid with sizes {list(grid.shape)}"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    for d, n in enumerate(input.shape[2:]):
        if n == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {list(input.shape)} with dimension {d + 2} being empty"
            )
    if grid.dtype != input.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected grid of input's dtype {input.dtype}, but got {grid.dtype}"
        )
    if input.shape[0] == 0:  # an empty batch: the empty result (torch)
        return input.new_zeros((0, input.shape[1], *grid.shape[1:-1]))
    from .sampling_nodes import GridSampler2D, GridSampler3D

    def fn(x, gr):
        return _grid_sample_composite(x, gr, mode, padding_mode, align_corners)

    if input.is_meta or grid.is_meta:  # the meta device: (N, C, *grid's points), no tap read
        check_same_device("grid_sampler", input, grid)
        shape = (input.shape[0], input.shape[1], *grid.shape[1:-1])

        def fn(x, gr):
            return x.new_empty(shape)

    if not (_grad_state.enabled and (input._rg or grid._rg)):
        return fn(input, grid)  # no graph to record: the composite's values directly
    return (GridSampler2D if nd == 2 else GridSampler3D).apply(fn, input, grid)


def _grid_sample_composite(input, grid, mode, padding_mode, align_corners):
    """grid_sample of checked arguments, composed of differentiable ops (the node's forward)."""
    nd = input.dim() - 2
    N, C = input.shape[:2]
    spatial = tuple(input.shape[2:])  # (D,) H, W
    out_sp = tuple(grid.shape[1:-1])
    P = math.prod(out_sp)
    g = grid.reshape(N, P, nd)
    # grid[..., 0] indexes W (the last axis), grid[..., 1] H, grid[..., 2] D
    coords = [
        _source_index(g[:, :, k], spatial[nd - 1 - k], padding_mode, align_corners)
        for k in range(nd)
    ][::-1]  # now ordered like `spatial`
    flat_in = input.reshape(N, C, -1)
    dt = input._a.dtype
    strides = [math.prod(spatial[i + 1 :]) for i in range(nd)]

    def taps(idx_list):
        """Flat source index (N, P) of integer positions and their in-bounds mask."""
        valid = np.ones(idx_list[0].shape, bool)
        flat = np.zeros(idx_list[0].shape, np.int64)
        for a, n, s in zip(idx_list, spatial, strides, strict=True):
            valid &= (a >= 0) & (a < n)
            flat += np.clip(a, 0, n - 1).astype(np.int64) * s
        return flat, valid

    def gather(flats, weights, valids):
        idx = np.ascontiguousarray(np.stack(flats, 1))  # (N, K, P)
        w = ctorch.stack(weights, 1)
        valid = None if all(v.all() for v in valids) else np.stack(valids, 1)
        if input.device.type != "cpu":
            import cupy

            idx = cupy.asarray(idx)
            valid = None if valid is None else cupy.asarray(valid)
        return _WeightedGather.apply(flat_in, w, idx, valid)

    if mode == "bicubic":
        out = _bicubic(g, spatial, padding_mode, align_corners, taps, gather, dt, input.device)
        return out.reshape(N, C, *out_sp)
    if mode == "nearest":
        flat, valid = taps([np.rint(c.detach().cpu()._a).astype(np.int64) for c in coords])
        # weight 1 (0 outside) that still depends on the grid: its gradient is zeros, as torch's
        # (a non-finite coordinate is out of bounds: weight 0, not NaN)
        w = coords[0].nan_to_num(0.0, 0.0, 0.0) * 0 + _wrap(valid.astype(dt)).to(input.device)
        return gather([flat], [w], [valid]).reshape(N, C, *out_sp)
    lows = [np.floor(c.detach().cpu()._a).astype(np.int64) for c in coords]
    fracs = [c - _wrap(lo.astype(dt)).to(input.device) for c, lo in zip(coords, lows, strict=True)]
    flats, weights, valids = [], [], []
    for corner in range(2**nd):
        bits = [(corner >> (nd - 1 - i)) & 1 for i in range(nd)]
        w = None
        for b, f in zip(bits, fracs, strict=True):
            wi = f if b else 1 - f
            w = wi if w is None else w * wi
        flat, valid = taps([lo + b for lo, b in zip(lows, bits, strict=True)])
        if not valid.all():
            w = w * _wrap(valid.astype(dt)).to(input.device)
        flats.append(flat)
        weights.append(w)
        valids.append(valid)
    return gather(flats, weights, valids).reshape(N, C, *out_sp)


def _cubic_coeffs(t: Tensor, A: float = -0.75) -> list:
    """torch's cubic convolution weights of the taps at -1, 0, 1, 2 for fraction ``t``."""

    def conv1(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def conv2(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)]


def _pad_coords_np(c: np.ndarray, size: int, padding_mode: str, align_corners: bool):
    """torch's compute_coordinates on (integer) tap positions, in NumPy."""
    if padding_mode == "border":  # (a NaN position is 0, as in _source_index)
        return np.nan_to_num(np.clip(c, 0, size - 1), nan=0.0)
    if padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if lo2 == hi2:
            return np.zeros_like(c)
        lo, span = lo2 / 2, (hi2 - lo2) / 2
        a = np.abs(c - lo)
        extra = np.fmod(a, span)
        flips = np.floor(a / span)
        c = np.where(flips % 2 == 0, extra + lo, span - extra + lo)
        return np.nan_to_num(np.clip(c, 0, size - 1), nan=0.0)
    return c


def _bicubic(g, spatial, padding_mode, align_corners, taps, gather, dt, device):
    """Bicubic sampling: 16 taps around floor(x), floor(y) of the unpadded coordinates, each
    tap position padded on its own (torch's get_value_bounded), weights from the fractions."""
    H, W = spatial
    cx = _unnormalize(g[:, :, 0], W, align_corners)
    cy = _unnormalize(g[:, :, 1], H, align_corners)
    x0 = np.floor(cx.detach().cpu()._a)
    y0 = np.floor(cy.detach().cpu()._a)
    wx = _cubic_coeffs(cx - _wrap(x0.astype(dt)).to(device))
    wy = _cubic_coeffs(cy - _wrap(y0.astype(dt)).to(device))
    flats, weights, valids = [], [], []
    for j in range(4):
        yj = _pad_coords_np(y0 - 1 + j, H, padding_mode, align_corners)
        for i in range(4):
            xi = _pad_coords_np(x0 - 1 + i, W, padding_mode, align_corners)
            flat, valid = taps([np.trunc(yj).astype(np.int64), np.trunc(xi).astype(np.int64)])
            w = wy[j] * wx[i]
            if not valid.all():
                w = w * _wrap(valid.astype(dt)).to(device)
            flats.append(flat)
            weights.append(w)
            valids.append(valid)
    return gather(flats, weights, valids)


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """Samples of the Gumbel-softmax distribution; ``hard=True`` returns one-hot samples whose
    gradient is the soft sample's (straight-through), as torch."""
    if eps != 1e-10:
        _warnings.warn("`eps` parameter is deprecated and has no effect.")
    gumbels = -ctorch.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = ctorch.zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft
