"""Group normalization as one graph node (torch's ``NativeGroupNormBackward0``): the layer-norm
kernels over (N*G, C/G * spatial) rows, then the per-channel affine; the weight and bias
gradients come from per-(sample, channel) sums. Split from ``normalization.py`` (which keeps
the layer-norm kernels it uses)."""

from __future__ import annotations

from .._backend import contiguous, xp_of
from .._memfmt import like_input
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .normalization import _arr, _check_mixed, _ln_backward, _ln_backward_graph, _ln_forward

_wrap = Tensor._make


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization: statistics over (C/G, *) per sample and group, then affine."""
    xa = input._a
    if xa.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {xa.ndim}"
        )
    N, C = xa.shape[:2]
    if C % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by "
            f"num_groups, but got input of shape {list(xa.shape)} and "
            f"num_groups={num_groups}"
        )
    _check_mixed("group_norm", xa, weight, bias)
    if xa.dtype.kind not in "fV":
        raise NotImplementedError(f"\"GroupNormKernelImpl\" not implemented for '{input.dtype}'")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t.shape)} and input of shape "
                f"{list(xa.shape)}"
            )
    return GroupNormFn.apply(input, weight, bias, num_groups, eps)


class GroupNormFn(Function):
    """Group normalization as one node (torch's ``NativeGroupNormBackward0``): the layer-norm
    kernels over (N*G, C/G * spatial) rows, then the per-channel affine."""

    _node_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, G, eps):
        xa = _arr(x)
        N, C = xa.shape[:2]
        D = xa.size // (N * G) if N * G else 0
        y, mean, rstd = _ln_forward(xa, None, None, N * G, D, eps)
        cshape = (1, C) + (1,) * (xa.ndim - 2)
        if w is not None:
            y *= _arr(w, xa.dtype).reshape(cshape)  # y is this call's own buffer
        if b is not None:
            y += _arr(b, xa.dtype).reshape(cshape)
        ctx.save_for_backward(x, w)
        ctx.stats, ctx.G, ctx.eps, ctx.cshape = (mean, rstd), G, eps, cshape
        return _wrap(like_input(y.astype(xa.dtype, copy=False), x._a))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        G, cshape = ctx.G, ctx.cshape
        N, C = x.shape[:2]
        axes = (0, *range(2, x.dim()))  # all but the channel
        if state.enabled:  # create_graph: the same formulas with differentiable ops
            D = x.numel() // (N * G) if N * G else 0
            gh = g if w is None else g * w.reshape(cshape)
            gx = _ln_backward_graph(gh, x.reshape(N * G, D), None, D, ctx.eps, None, nx, 0, 0)[0]
            gx = None if gx is None else gx.reshape(x.shape)
            xhat = None
            if nw:
                x2 = x.reshape(N * G, D)
                mu = x2.mean(1, keepdim=True)
                r = ((x2 - mu) ** 2).mean(1, keepdim=True).add(ctx.eps).rsqrt()
                xhat = ((x2 - mu) * r).reshape(x.shape)
            gw = (g * xhat).sum(axes).reshape(w.shape) if nw else None
            gb = g.sum(axes).reshape(w.shape if w is not None else (C,)) if nb else None
            return gx, gw, gb, None, None
        xa, ga = _arr(x), contiguous(g._a)
        mean, rstd = ctx.stats
        D = xa.size // (N * G) if N * G else 0
        S = D // (C // G)  # spatial size
        gx = gw = gb = None
        if nx:
            gh = ga if w is None else ga * _arr(w, xa.dtype).reshape(cshape)
            gx = _wrap(
                _ln_backward(gh.astype(xa.dtype), xa, mean, rstd, None, N * G, D, 1, 0, 0)[0]
            )
        if nw or nb:
            # per (sample, channel) sums of g and g*x, then torch's closed forms:
            # gw[c] = sum_n (sum gx - mean sum g) rstd, gb[c] = sum_n sum g
            xp = xp_of(xa)
            g2 = ga.reshape(N * C, S)
            sg = g2.sum(1).reshape(N, C)
            if nw:
                sgx = xp.einsum("ij,ij->i", g2, xa.reshape(N * C, S)).reshape(N, C)
                m = xp.repeat(mean.reshape(N, G), C // G, axis=1)
                r = xp.repeat(rstd.reshape(N, G), C // G, axis=1)
                prod = ((sgx - m * sg) * r).sum(0)
                gw = _wrap(prod.astype(xa.dtype).reshape(w.shape))
            if nb:
                gb = _wrap(sg.sum(0).astype(xa.dtype))
                gb = gb.reshape(w.shape) if w is not None else gb
        return gx, gw, gb, None, None
