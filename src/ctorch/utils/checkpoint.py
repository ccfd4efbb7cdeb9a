"""Activation checkpointing (``torch.utils.checkpoint``): run a function without keeping its
intermediate results and recompute them in backward.

* ``use_reentrant=True`` (torch's old default): an autograd ``Function`` whose backward reruns
  the function with grad enabled and backpropagates through it, accumulating into the leaves'
  ``.grad`` (as torch: incompatible with ``autograd.grad``, keyword arguments are refused, and
  no gradient flows when no positional input requires grad).
* ``use_reentrant=False``: the first run builds the graph only to find the leaf tensors the
  function uses (parameters), then frees it; the checkpoint node takes inputs *and* those
  leaves as explicit inputs, so ``autograd.grad`` and ``backward(inputs=...)`` work and
  gradients reach parameters even when no input requires grad.  The price is building the
  graph twice (the activations are still not kept).

``preserve_rng_state=True`` (default) restores the CPU generator's state for the
recomputation, so dropout masks match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ctorch

from .. import _warnings
from .._tensor import Tensor
from ..autograd.function import AccumulateGrad, Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointFunction"]


def _detach_like(args: tuple) -> tuple:
    out = []
    for a in args:
        if isinstance(a, Tensor):
            d = a.detach()
            d.requires_grad_(a.requires_grad)
            out.append(d)
        else:
            out.append(a)
    return tuple(out)


class _RngFork:
    """Run a block with the generator state of ``saved`` and restore the current one after."""

    def __init__(self, saved: Any) -> None:
        self.saved = saved

    def __enter__(self) -> None:
        if self.saved is not None:
            self.now = ctorch.get_rng_state()
            ctorch.set_rng_state(self.saved)

    def __exit__(self, *exc: Any) -> None:
        if self.saved is not None:
            ctorch.set_rng_state(self.now)


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


class CheckpointFunction(Function):
    """The reentrant checkpoint (``use_reentrant=True``)."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        ctx.run_function = run_function
        ctx.rng_state = ctorch.get_rng_state() if preserve_rng_state else None
        ctx.inputs = args
        with no_grad():
            outputs = run_function(*args)
        return outputs

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        inputs = _detach_like(ctx.inputs)
        with _RngFork(ctx.rng_state), enable_grad():
            outputs = _as_tuple(ctx.run_function(*inputs))
        outs, gs = [], []
        for o, g in zip(outputs, grads, strict=False):
            if isinstance(o, Tensor) and o.requires_grad and g is not None:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        ctorch.autograd.backward(outs, gs)
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in inputs)


class _NonReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx: Any, spec: dict, *tensors: Any) -> Any:
        ctx.spec = spec
        outs = spec.pop("outputs")
        res = tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)
        return res if spec["is_tuple"] else res[0]

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        spec = ctx.spec
        n_in = spec["n_inputs"]
        args = list(spec["args"])
        slots = spec["tensor_slots"]
        # create_graph (grad mode on here): recompute from the inputs themselves so the
        # gradients stay functions of them (double backward through the checkpoint)
        create = is_grad_enabled()
        originals = tuple(args[i] for i in slots)
        detached = originals if create else _detach_like(originals)
        for i, d in zip(slots, detached, strict=True):
            args[i] = d
        leaves = spec["leaves"]
        with _RngFork(spec["rng_state"]), enable_grad():
            outputs = _as_tuple(spec["function"](*args, **spec["kwargs"]))
        outs, gs = [], []
        for o, g in zip(outputs, grads, strict=False):
            if isinstance(o, Tensor) and o.requires_grad and g is not None:
                outs.append(o)
                gs.append(g)
        wrt = [d for d in detached if d.requires_grad] + leaves
        if not outs or not wrt:
            return (None,) * (1 + n_in + len(leaves))
        res = iter(ctorch.autograd.grad(outs, wrt, gs, allow_unused=True, create_graph=create))
        in_grads = tuple(next(res) if d.requires_grad else None for d in detached)
        return (None, *in_grads, *res)


def _graph_leaves(outputs: Iterable[Any], exclude: set) -> list:
    """Leaf tensors requiring grad reachable from ``outputs`` (in a stable order)."""
    seen, leaves, found = set(), [], set()
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            v = node.variable
            if v is not None and id(v) not in exclude and id(v) not in found:
                found.add(id(v))
                leaves.append(v)
            continue
        for nxt in getattr(node, "next_functions", ()) or ():
            if nxt is not None and nxt[0] is not None:
                stack.append(nxt[0])
    return leaves


def _checkpoint_without_reentrant(
    function: Callable, preserve_rng_state: bool, args: tuple, kwargs: dict
) -> Any:
    if not ctorch.is_grad_enabled():
        return function(*args, **kwargs)
    rng_state = ctorch.get_rng_state() if preserve_rng_state else None
    slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    detached = _detach_like(tuple(args[i] for i in slots))
    call_args = list(args)
    for i, d in zip(slots, detached, strict=True):
        call_args[i] = d
    with enable_grad():
        out = function(*call_args, **kwargs)
    is_tuple = isinstance(out, tuple)
    outs = _as_tuple(out)
    leaves = _graph_leaves(outs, {id(d) for d in detached})
    needs = any(a.requires_grad for i, a in enumerate(args) if i in slots) or bool(leaves)
    if not needs:
        return (
            tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)
            if is_tuple
            else (out.detach() if isinstance(out, Tensor) else out)
        )
    spec = {
        "function": function,
        "args": tuple(args),
        "kwargs": kwargs,
        "tensor_slots": slots,
        "n_inputs": len(slots),
        "leaves": leaves,
        "rng_state": rng_state,
        "is_tuple": is_tuple,
        "outputs": tuple(o.detach() if isinstance(o, Tensor) else o for o in outs),
    }
    del out, outs  # frees the discovery graph and its activations
    return _NonReentrantCheckpoint.apply(spec, *(args[i] for i in slots), *leaves)


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable | None = None,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)`` without keeping its activations (recomputed in backward)."""
    if use_reentrant is None:
        _warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        if ctorch.is_grad_enabled() and not any(
            isinstance(a, Tensor) and a.requires_grad for a in args
        ):
            _warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None",
            )
        return CheckpointFunction.apply(function, preserve, *args)
    if context_fn is not None:
        fwd_ctx, _ = context_fn()
        with fwd_ctx:
            return _checkpoint_without_reentrant(function, preserve, args, kwargs)
    return _checkpoint_without_reentrant(function, preserve, args, kwargs)


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run a sequence of modules in ``segments`` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        _warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start: int, end: int, functions: list) -> Callable:
        def forward(input: Any) -> Any:
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    from ..nn.modules.container import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(
            run_function(start, end, functions),
            input,
            use_reentrant=use_reentrant,
            preserve_rng_state=preserve,
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)
