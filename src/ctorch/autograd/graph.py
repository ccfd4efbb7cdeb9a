"""``torch.autograd.graph``: inspecting and hooking the backward graph.

- Saved-tensor hooks: ``saved_tensors_hooks(pack_hook, unpack_hook)``, ``save_on_cpu``,
  ``disable_saved_tensors_hooks``. Per thread, innermost pair wins, as torch's. The pack hook
  runs once per tensor an op saves when its node is recorded (the hooks on top at that moment
  are the ones the node keeps); the unpack hook runs each time ``ctx.saved_tensors`` is read.
  ctorch's built-in ops save through ``ctx.save_for_backward`` or keep arrays on their ctx
  (``ctx.idx = array``, ``ctx.stats = (mean, rstd, eps)``): those are packed too (the hook
  sees a tensor over the array) and unpacked once per backward of the node, before it runs.
  Not reached: data an op keeps inside a closure (``masked_fill``'s backward) or inside a
  container nested in a tuple; such data stays in memory as without hooks. Which tensors a
  built-in op saves is ctorch's choice, so a counting hook counts what ctorch saves (a custom
  ``Function`` counts as in torch).
- ``allow_mutation_on_saved_tensors`` (saved tensors copied at save time: torch copies them
  lazily, on the first in-place write; same gradients, more memory).
- ``register_multi_grad_hook``, ``GradientEdge`` / ``get_gradient_edge``,
  ``increment_version`` and ``Node`` (grad_fn objects:
  ``name``, ``next_functions``, ``metadata``, ``register_hook``, ``register_prehook``).
- ``to_dot(tensor)``: Graphviz DOT text of the graph (ctorch's own).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections import defaultdict
from typing import NamedTuple

from .._core import _autograd
from .function import AccumulateGrad, Node, RemovableHandle

__all__ = [
    "saved_tensors_hooks",
    "save_on_cpu",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "allow_mutation_on_saved_tensors",
    "Node",
    "GradientEdge",
    "get_gradient_edge",
    "increment_version",
    "to_dot",
]


class saved_tensors_hooks:  # noqa: N801 - torch's name
    """Context manager that sets a pair of pack / unpack hooks for saved tensors.

    ``pack_hook(tensor) -> Any`` is called every time an op saves a tensor for backward while
    the context is active; what it returns is stored in the graph instead of the tensor.
    ``unpack_hook(packed) -> Tensor`` is called when backward needs the saved tensor and must
    return a tensor (else ``TypeError``). Nested contexts: the innermost pair applies. The
    hooks are per thread. Not a decorator (as torch's)."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        _autograd.push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)

    def __exit__(self, *args) -> None:
        _autograd.pop_saved_tensors_hooks()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - torch's name
    """Saved tensors are stored on the CPU (``(device, tensor.cpu())``) and moved back to
    their device for backward. A CPU tensor is not copied (``cpu()`` returns it), as torch.
    ``pin_memory=True`` stores a copy (pinned when ``device_type``'s module says a device
    is available)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        import ctorch

        device_module = getattr(ctorch, device_type, ctorch.cuda)

        def pack_to_cpu(tensor):
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            is_pinnable = device_module.is_available() and not tensor.is_sparse
            packed = ctorch.empty(
                tensor.size(), dtype=tensor.dtype, layout=tensor.layout, pin_memory=is_pinnable
            )
            packed.copy_(tensor, non_blocking=is_pinnable)
            return (tensor.device, packed)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Inside, entering ``saved_tensors_hooks`` (or ``save_on_cpu``) raises
    ``RuntimeError(error_message)``. Entering it while hooks are active raises that error
    at once (as torch). Per thread; nests (the outer message comes back on exit)."""
    maybe_prev_message = None
    try:
        maybe_prev_message = _autograd.saved_tensors_hooks_disabled_message()
        _autograd.disable_saved_tensors_hooks(error_message)
        yield
    finally:
        if maybe_prev_message is None:
            _autograd.enable_saved_tensors_hooks()
        else:
            _autograd.disable_saved_tensors_hooks(maybe_prev_message)


class GradientEdge(NamedTuple):
    """A gradient edge of the graph: the node that receives the gradient and which of its
    outputs (``autograd.grad`` accepts one in place of a tensor, as input or output)."""

    node: Node
    output_nr: int
    ownership_token: Node | None = None


def _grad_fn_or_acc(t):
    if isinstance(t, GradientEdge):
        return t.node
    if t.requires_grad and t.grad_fn is None:
        return t._get_acc()
    node = t.grad_fn
    if node is None:
        raise AssertionError("Expected gradient function to be set")
    return node


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge where ``tensor``'s gradient is computed: ``autograd.grad(loss, input)`` and
    ``autograd.grad(loss, get_gradient_edge(input))`` are the same."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor "
            "that does not require gradients",
        )
    node = _grad_fn_or_acc(tensor)
    try:  # the output's metadata (torch's node._input_metadata): grad's implicit ones
        a = tensor._a
        node.__dict__.setdefault("_edge_meta", {})[tensor._output_nr] = (
            a.shape,
            a.dtype,
            type(a),
        )
    except (AttributeError, NotImplementedError):  # a node without __dict__, a sparse tensor
        pass
    return GradientEdge(node, tensor._output_nr)


def increment_version(tensor) -> None:
    """Bump the version counter of ``tensor`` (or of each tensor of an iterable), as an
    in-place change does: backward then refuses saved tensors it made stale. Inference
    tensors have no counter and are left alone (as torch)."""
    from .function import Tensor
    from .grad_mode import INFERENCE_VERSION

    ts = (tensor,) if isinstance(tensor, Tensor) else tensor
    for t in ts:
        if t._vref is not INFERENCE_VERSION:
            t._vref[0] += 1


class _MultiHandle(RemovableHandle):
    __slots__ = ("handles",)

    def __init__(self, handles) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __getstate__(self):
        return self.handles

    def __setstate__(self, state) -> None:
        self.handles = state


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """Register ``fn`` on several tensors at once (torch's semantics).

    ``mode="all"``: once per backward pass, after the gradients of every tensor the pass
    computes (those in the graph and needed for its inputs) have been computed, ``fn(grads)``
    gets the list of gradients, ``None`` for those not computed. ``mode="any"``: ``fn(grad)``
    with the first gradient computed, once per pass. Returns a handle with ``remove()``."""
    from . import engine

    supported_modes = ("all", "any")
    lock = threading.Lock()
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")

    if mode == "all":
        count: dict = {}
        nb_calls = None
        buffer: dict = {}
        grad_fns = list(map(_grad_fn_or_acc, tensors))
        len_tensors = len(tensors)

        def get_inner_hook(idx):
            def inner_hook(grad):
                nonlocal nb_calls
                tid = engine._current_graph_task_id()
                if tid == -1:
                    raise AssertionError("expected this hook to be called inside a backward call")
                count[tid] = count.get(tid, 0)
                buffer[tid] = buffer.get(tid, [None] * len_tensors)
                with lock:
                    curr_count, count[tid] = count[tid], count[tid] + 1
                    if curr_count == 0:
                        nb_calls = sum(map(engine._will_engine_execute_node, grad_fns))
                buffer[tid][idx] = grad
                if curr_count == nb_calls - 1:
                    fn(buffer[tid])
                    del count[tid]
                    del buffer[tid]

            return inner_hook

        handles = tuple(t.register_hook(get_inner_hook(i)) for i, t in enumerate(tensors))
    else:
        ran_hook: dict = defaultdict(bool)

        @functools.wraps(fn)
        def wrapped_fn(grad):
            tid = engine._current_graph_task_id()
            if tid == -1:
                raise AssertionError("expected this hook to be called inside a backward call")
            with lock:
                prev, ran_hook[tid] = ran_hook[tid], True
            if prev:
                return
            fn(grad)

        handles = tuple(t.register_hook(wrapped_fn) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


_allow_mutation_on_saved_tensors_enabled = False


class _Handle:
    pass


class _AllowMutationOnSavedContext:
    """The state of an ``allow_mutation_on_saved_tensors`` block: the saved copies."""

    def __init__(self) -> None:
        self.cloned = weakref.WeakKeyDictionary()
        self.original = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        self.cloned.clear()
        self.original.clear()


class _swap_with_cloned(saved_tensors_hooks):  # noqa: N801 - torch's name
    def __init__(self, ctx: _AllowMutationOnSavedContext) -> None:
        def pack_hook(tensor):
            handle = _Handle()
            # a copy now (torch copies lazily, when an in-place op is about to write the
            # tensor, through a dispatch mode ctorch does not have): same gradients, more memory
            ctx.cloned[handle] = tensor.detach().clone()
            return handle

        def unpack_hook(handle):
            error_msg = (
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                "in which the graph was originally recorded."
            )
            if not _allow_mutation_on_saved_tensors_enabled:
                raise AssertionError(error_msg)
            if handle not in ctx.cloned:
                raise AssertionError(error_msg)
            return ctx.cloned[handle]

        super().__init__(pack_hook, unpack_hook)


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Context manager under which tensors saved for backward may be modified in place:
    backward sees the values they had when saved. Forward and backward must both run inside.
    ctorch copies every tensor (and ctx array) an op saves at save time, where torch copies
    one only when it is about to be modified: the gradients are the same, the saved
    activations take twice the memory. Does not nest (as torch)."""
    global _allow_mutation_on_saved_tensors_enabled

    ctx = _AllowMutationOnSavedContext()
    with _swap_with_cloned(ctx):
        try:
            if _allow_mutation_on_saved_tensors_enabled:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _allow_mutation_on_saved_tensors_enabled = True
            yield ctx
        finally:
            ctx.clear()
            _allow_mutation_on_saved_tensors_enabled = False


def to_dot(tensor, name: str = "ctorch_graph", params: dict | None = None) -> str:
    """DOT text of the backward graph behind ``tensor``: op nodes (names), leaf tensors
    (shape, and their parameter name when ``params`` maps names to tensors), edges in the
    direction gradients flow (output -> inputs)."""
    names = {id(v): k for k, v in (params or {}).items()}
    lines = [f"digraph {name} {{", '  node [fontname="monospace" fontsize=10];']
    ids = {}

    def nid(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    root = tensor.grad_fn
    shape = "x".join(str(s) for s in tensor.shape) or "scalar"
    lines.append(f'  out [label="output\\n({shape})" shape=box style=filled fillcolor="#c9e6ff"];')
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  out -> {nid(root)};")
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            var = node.variable
            shp = "x".join(str(s) for s in var.shape) if var is not None else "?"
            label = names.get(id(var), "leaf") if var is not None else "leaf"
            lines.append(
                f'  {nid(node)} [label="{label}\\n({shp})" shape=box style=filled fillcolor="#d6f5d6"];'
            )
        else:
            lines.append(f'  {nid(node)} [label="{node.name()}"];')
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            lines.append(f"  {nid(node)} -> {nid(nxt)};")
            stack.append(nxt)
    lines.append("}")
    return "\n".join(lines)
