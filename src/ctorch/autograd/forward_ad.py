"""``torch.autograd.forward_ad``: dual tensors (forward-mode AD) on top of reverse mode.

ctorch's ops carry backward formulas only, so a dual tensor's tangent is not pushed forward
op by op. Instead every op run inside :class:`dual_level` is recorded by the ordinary
autograd graph, and :func:`unpack_dual` asks that graph for the Jacobian-vector product with
the *double-vjp* identity: for ``y = f(x)`` and a dummy cotangent ``u``,
``g(u) = J^T u`` is linear in ``u``, so ``d/du <g(u), v> = J v``. Two backward passes per
unpacked output give exactly torch's forward-mode tangent (the same derivative formulas,
transposed twice), for every op that has a (differentiable) backward. A scalar output (a
loss) takes one backward pass instead (``J v = <J^T 1, v>``). Some ops' backward formulas are
not differentiable in their incoming gradient (array-level losses such as cross-entropy); the
adjoint identity ``<1, J v> = <J^T 1, v>`` detects that, and the tangent is then computed one
output element at a time (up to 4096 elements; larger outputs raise and ask for a reduced one).
A custom ``Function`` that defines ``jvp`` and no backward is the one place a tangent is
pushed forward: its ``jvp`` gives the outputs' tangents, and the outputs start new dual
tensors (``_custom_jvp``). ``make_dual`` returns a view of the primal (its ``_base``, sharing
its version counter), and inside a level a tensor prints its ``tangent=`` as torch's do.

Differences from torch, all consequences of recording through reverse mode:

* a dual tensor and what is computed from it report ``requires_grad=True`` (the graph is
  what carries the tangent); ``unpack_dual(...).primal`` is detached again unless something
  outside forward AD needs its gradient, and the tangent carries a graph only when the primal
  or the tangent required grad (so ``tangent.sum().backward()`` reaches the parameters);
* :class:`dual_level` turns grad mode on for its body (forward AD works under ``no_grad`` in
  torch); a ``no_grad`` block *inside* the level stops the tangents (unpack gives ``None``);
* operations that leave autograd (``.item()``, ``.numpy()``, ``.detach()``) drop the tangent,
  as in torch; each :func:`unpack_dual` costs up to three backward passes over the graph.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .function import Function
from .grad_mode import is_grad_enabled, set_grad_enabled

__all__ = [
    "UnpackedDualTensor",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
    "dual_level",
]


class _Seed:
    __slots__ = ("dual", "tangent", "primal_needs_grad")

    def __init__(self, dual: Any, tangent: Any, primal_needs_grad: bool) -> None:
        self.dual = dual
        self.tangent = tangent
        self.primal_needs_grad = primal_needs_grad


class _DualLevel:
    def __init__(self, index: int, grad_was_enabled: bool) -> None:
        self.index = index
        self.grad_was_enabled = grad_was_enabled
        self.seeds: dict[int, _Seed] = {}


_current: _DualLevel | None = None


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the primal and its tangent (None when it has none)."""

    primal: Any
    tangent: Any


def enter_dual_level() -> int:
    """Start a forward-AD level (one at a time, as in torch); grad mode is on inside it."""
    global _current
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _DualLevel(0, is_grad_enabled())
    set_grad_enabled(True)
    return _current.index


def exit_dual_level(*, level: int | None = None) -> None:
    """End the current forward-AD level: its dual tensors lose their tangents."""
    global _current
    if _current is None or (level is not None and level != _current.index):
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
            if _current is not None
            else "Dual level must be a positive number."
        )
    set_grad_enabled(_current.grad_was_enabled)
    _current = None


def _level(level: int | None) -> _DualLevel | None:
    if _current is None:
        return None
    if level is not None and level != _current.index:
        raise RuntimeError(f"forward_ad: no dual level {level} (the current one is 0)")
    return _current


class _MakeDual(Function):
    """Identity that starts a dual tensor from a primal that requires grad (gradients flow
    through to the primal, as through torch's make_dual view)."""

    _node_name = "ViewBackward0"  # torch's make_dual is a view

    @staticmethod
    def forward(ctx, x):
        from .._tensor import Tensor

        return Tensor._make(x._a)

    @staticmethod
    def backward(ctx, g):
        return g


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A dual tensor with primal ``tensor`` and tangent ``tangent`` (same shape), valid inside
    :class:`dual_level`. It shares ``tensor``'s memory."""
    from .._tensor import Tensor

    lvl = _level(level)
    if lvl is None:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(
            f"make_dual: expected Tensors, got {type(tensor).__name__} and {type(tangent).__name__}"
        )
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise RuntimeError(
            f"make_dual: only floating point and complex primals have tangents, got {tensor.dtype}"
        )
    if tensor.requires_grad:
        dual = _MakeDual.apply(tensor)
    else:
        dual = Tensor._make(tensor._a)
        dual.requires_grad_(True)
    # a view of the primal, as torch's: same base and version counter (not on the base's
    # list of views: an in-place op on the primal leaves the dual's graph as it is)
    dual._base = tensor if tensor._base is None else tensor._base
    dual._vref = tensor._vref
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    if tangent.stride() != tensor.stride():
        # torch: a tangent whose layout differs from the primal's is copied into a new tensor
        # with the primal's strides (one with the same layout is used as is)
        from ..ops.surface5a_misc import empty_strided

        fresh = empty_strided(
            tensor.shape, tensor.stride(), dtype=tensor.dtype, device=tensor.device
        )
        tangent = fresh.copy_(tangent)  # differentiable: a tangent needing grad keeps it
    lvl.seeds[id(dual)] = _Seed(dual, tangent, tensor.requires_grad)
    return dual


def _print_parts(t: Any) -> tuple[Any, bool]:
    """What the repr of ``t`` shows inside the level: its tangent (None when it has none)
    and whether it needs a gradient outside forward AD (then it shows its grad_fn or
    requires_grad=True, as torch does)."""
    lvl = _current
    assert lvl is not None
    seed = lvl.seeds.get(id(t))
    if seed is not None and seed.dual is t:
        return seed.tangent, seed.primal_needs_grad
    if t.grad_fn is None or not lvl.seeds:
        return None, True
    leaf_ids = {id(s.dual) for s in lvl.seeds.values() if s.dual.grad_fn is None}
    tangent = unpack_dual(t).tangent
    return tangent, tangent is None or _needs_real_grad(t, leaf_ids)


def _detach_unless(t: Any, keep: bool) -> Any:
    return t if keep else t.detach()


def _needs_real_grad(tensor: Any, seed_ids: set[int]) -> bool:
    """Whether ``tensor``'s graph reaches a leaf that requires grad other than the dual
    tensors' own stand-in leaves (a parameter, or a primal that requires grad)."""
    stack, seen = [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if var is not None:
            if id(var) not in seed_ids:
                return True
            continue
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return False


_ROWWISE_LIMIT = 4096


def _adjoint_ok(tangent: Any, used: list) -> bool:
    """The adjoint identity <1, J v> = <J^T 1, v>: it fails when an op on the way has a
    backward that is not differentiable in its incoming gradient (the second pass then misses
    that branch), which the double-vjp identity needs."""
    import math

    from ..autograd.grad_mode import no_grad

    with no_grad():
        lhs = 0.0 if tangent is None else float(tangent.sum())
        rhs = sum(float((g * s.tangent).sum()) for g, s in used)
        scale = sum(float((g.abs() * s.tangent.abs()).sum()) for g, s in used)
        dt = used[0][0].dtype
    tol = 1e-9 if str(dt).endswith(("float64", "complex128")) else 1e-4
    return math.isclose(lhs, rhs, rel_tol=tol, abs_tol=tol * max(scale, 1e-30))


def _rowwise_jvp(tensor: Any, used: list) -> Any:
    """J v one output element at a time (one backward pass each), for graphs holding an op
    whose backward is not itself differentiable (the double-vjp identity needs that)."""
    from .._creation import zeros_like
    from . import grad as _grad

    n = tensor.numel()
    if n > _ROWWISE_LIMIT:
        raise RuntimeError(
            "forward_ad: an op between the dual inputs and this output has a backward that is "
            "not differentiable, so its tangent would take one backward pass per element "
            f"({n} > {_ROWWISE_LIMIT}); unpack a reduced (e.g. summed) output instead"
        )
    flat = zeros_like(tensor).reshape(-1)
    duals = [s.dual for _, s in used]
    out = []
    for i in range(n):
        onehot = zeros_like(tensor).reshape(-1)
        onehot._a[i] = 1
        rows = _grad(
            tensor,
            duals,
            grad_outputs=onehot.reshape(tensor.shape),
            retain_graph=True,
            allow_unused=True,
        )
        out.append(
            sum(
                float((r * s.tangent).sum())
                for r, (_, s) in zip(rows, used, strict=True)
                if r is not None
            )
        )
    flat._a[...] = out
    return flat.reshape(tensor.shape)


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the tangent is the Jacobian-vector product of
    everything ``tensor`` was computed from inside the level with their tangents, or None when
    it depends on no dual tensor (or outside a level)."""
    from .._tensor import Tensor
    from . import grad as _grad

    lvl = _level(level)
    if lvl is None or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    seed = lvl.seeds.get(id(tensor))
    if seed is not None and seed.dual is tensor:
        keep = seed.primal_needs_grad and lvl.grad_was_enabled
        return UnpackedDualTensor(_detach_unless(tensor, keep), seed.tangent)
    if tensor.grad_fn is None or not (tensor.is_floating_point() or tensor.is_complex()):
        return UnpackedDualTensor(tensor, None)
    seeds = list(lvl.seeds.values())
    if not seeds:
        return UnpackedDualTensor(tensor, None)
    from .._creation import ones_like, zeros_like

    duals = [s.dual for s in seeds]
    leaf_ids = {id(s.dual) for s in seeds if s.dual.grad_fn is None}
    keep_primal = lvl.grad_was_enabled and _needs_real_grad(tensor, leaf_ids)
    with set_grad_enabled(True):
        if tensor.numel() == 1:
            # a scalar (a loss): J v = <J^T 1, v>, one backward pass
            keep = keep_primal or (
                lvl.grad_was_enabled and any(s.tangent.requires_grad for s in seeds)
            )
            vjps = _grad(
                tensor,
                duals,
                grad_outputs=ones_like(tensor),
                create_graph=keep,
                retain_graph=True,
                allow_unused=True,
            )
            used = [(g, s) for g, s in zip(vjps, seeds, strict=True) if g is not None]
            if not used:
                return UnpackedDualTensor(tensor, None)
            tangent = sum((g * s.tangent).sum() for g, s in used).reshape(tensor.shape)
        else:
            # u = ones: J^T u is linear in u, so any u gives d/du <J^T u, v> = J v; with
            # ones, a vjp that carries no graph yet is nonzero shows a backward that is not
            # differentiable (rather than a zero Jacobian)
            u = ones_like(tensor).requires_grad_(True)
            vjps = _grad(tensor, duals, grad_outputs=u, create_graph=True, allow_unused=True)
            used = [(g, s) for g, s in zip(vjps, seeds, strict=True) if g is not None]
            if not used:
                return UnpackedDualTensor(tensor, None)
            keep = keep_primal or (
                lvl.grad_was_enabled and any(s.tangent.requires_grad for _, s in used)
            )
            linear = [(g, s) for g, s in used if g.requires_grad]
            tangent = None
            if linear:
                (tangent,) = _grad(
                    [g for g, _ in linear],
                    [u],
                    grad_outputs=[s.tangent for _, s in linear],
                    create_graph=keep,
                    retain_graph=True,
                    allow_unused=True,
                )
            if not _adjoint_ok(tangent, used):
                tangent, keep = _rowwise_jvp(tensor, used), False
    if tangent is None:
        tangent = zeros_like(tensor)
    elif not keep:
        tangent = tangent.detach()
    return UnpackedDualTensor(_detach_unless(tensor, keep_primal), tangent)


class dual_level:
    """Context manager for a forward-AD level: ``make_dual`` inside, ``unpack_dual`` the
    results; the tangents are gone after it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _custom_jvp(cls: Any, args: tuple, outputs: Any) -> Any:
    """A custom ``Function`` that defines ``jvp`` (and no backward) applied inside a level:
    its outputs' tangents come from ``cls.jvp(ctx, *input_tangents)`` (zeros for an input
    without one, as torch materializes them), and each output becomes a new dual tensor
    carrying that tangent. The reverse-mode node is dropped: it has no backward to run.
    Outputs of a call whose inputs carry no tangent are returned as they are."""
    from .._creation import zeros_like
    from .._tensor import Tensor

    lvl = _current
    assert lvl is not None
    tangents = [unpack_dual(a).tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return outputs
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    ctx = next((o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None), None)
    if ctx is None:
        return outputs
    grads = [
        (zeros_like(a) if t is None else t) if isinstance(a, Tensor) else None
        for a, t in zip(args, tangents, strict=True)
    ]
    with set_grad_enabled(False):
        res = cls.jvp(ctx, *grads)
    res = res if isinstance(res, tuple) else (res,)
    if len(res) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned {len(res)} tangents for {len(outs)} outputs of forward"
        )
    new = []
    for o, t in zip(outs, res, strict=True):
        if not isinstance(o, Tensor) or t is None:
            new.append(o)
            continue
        d = Tensor._make(o._a)
        d.requires_grad_(True)
        lvl.seeds[id(d)] = _Seed(d, t.to(d.dtype) if t.dtype != d.dtype else t, False)
        new.append(d)
    return tuple(new) if isinstance(outputs, tuple) else new[0]
