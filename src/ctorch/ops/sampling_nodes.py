"""``grid_sample`` and ``affine_grid`` as one graph node each, with torch's names
(``GridSampler2DBackward0``/``GridSampler3DBackward0``, ``AffineGridGeneratorBackward0``).

``affine_grid``'s backward is its own formula: ``grad_theta = g^T @ base`` per batch.
``grid_sample``'s forward is the composite of ``sampling.py`` (unnormalize, pad the
coordinates, gather the corner taps), recorded on detached copies of the inputs, so its values
are unchanged; the node's backward runs that private graph (the same arithmetic as before,
no slower). With ``create_graph`` it recomputes the composite from the node's own inputs, so
second derivatives reach ``input`` and ``grid`` (torch's GridSampler2DBackwardBackward0).
The private graph keeps the composite's intermediates (memory as before; torch's fused kernel
keeps none).
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..autograd.grad_mode import state as grad_state

_wrap = Tensor._make


class _Subgraph(Function):
    """``fn(*inputs)`` as one node: forward records ``fn`` on detached leaves, backward
    differentiates that private graph (or, under ``create_graph``, ``fn`` of the real inputs)."""

    @staticmethod
    def forward(ctx, fn, *inputs):
        with enable_grad():
            leaves = [t.detach().requires_grad_(t._rg) for t in inputs]
            out = fn(*leaves)
        ctx.fn, ctx.leaves, ctx.out = fn, leaves, out
        ctx.save_for_backward(*inputs)
        return _wrap(out._a)

    @staticmethod
    def backward(ctx, g):
        from ..autograd import grad as _grad

        need = ctx.needs_input_grad[1:]
        if grad_state.enabled:  # create_graph: through fn of the real inputs
            srcs = ctx.saved_tensors
            with enable_grad():
                out = ctx.fn(*srcs)
            create = True
        else:
            srcs, out, create = ctx.leaves, ctx.out, False
        targets = [t for t, n in zip(srcs, need, strict=True) if n]
        grads = iter(
            _grad(out, targets, g, retain_graph=True, create_graph=create, allow_unused=True)
            if targets and out._rg
            else ()
        )
        res = []
        for t, n in zip(srcs, need, strict=True):
            gi = next(grads, None) if n else None
            if n and gi is None:
                gi = t.new_zeros(t.shape)
            res.append(gi)
        return (None, *res)


class GridSampler2D(_Subgraph):
    _node_name = "GridSampler2DBackward0"


class GridSampler3D(_Subgraph):
    _node_name = "GridSampler3DBackward0"


class AffineGridGenerator(Function):
    """``grid[n, p] = theta[n] @ [x_p, y_p(, z_p), 1]`` over the base grid; backward
    ``grad_theta[n] = g[n]^T @ base`` (a matmul, so differentiable again)."""

    _node_name = "AffineGridGeneratorBackward0"

    @staticmethod
    def forward(ctx, theta, base, out_shape):
        from .linalg import matmul

        ctx.base, ctx.d = base, out_shape[-1]
        grid = matmul(base, theta.transpose(1, 2))  # (N, P, d): the composite's arithmetic
        return _wrap(grid._a.reshape(out_shape))

    @staticmethod
    def backward(ctx, g):
        from .linalg import matmul

        n = g.shape[0]
        gp = g.reshape(n, -1, ctx.d)  # (N, P, d)
        return matmul(gp.transpose(1, 2), ctx.base), None, None
