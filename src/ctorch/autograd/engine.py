"""The backward engine: runs graph nodes in reverse topological order."""

from __future__ import annotations

import threading

import numpy as np

from .function import _FREED_MSG, AccumulateGrad, BackwardCFunction
from .grad_mode import state

__all__ = ["run_backward", "queue_callback"]

# One list of final callbacks per running backward (a stack: backward may nest, e.g. in a
# hook); ``queue_callback`` appends to the innermost one. Callbacks run after the whole graph
# has been processed, in order (a callback may queue more), as torch's
# ``Variable._execution_engine.queue_callback``. Per thread: two threads may run backward
# at the same time, each on its own graph.
_tls = threading.local()


def _callback_stack() -> list:
    st = getattr(_tls, "final_callbacks", None)
    if st is None:
        st = _tls.final_callbacks = []
    return st


def queue_callback(callback) -> None:
    """Run ``callback()`` once the backward pass in progress has finished (torch's
    ``Variable._execution_engine.queue_callback``); DDP uses it to wait for its all-reduces."""
    st = _callback_stack()
    if not st:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    st[-1].append(callback)


class _ExecutionEngine:
    """The object behind ``Variable._execution_engine`` (only ``queue_callback``)."""

    @staticmethod
    def queue_callback(callback) -> None:
        queue_callback(callback)


_execution_engine = _ExecutionEngine()


def _topo_order(roots):
    """Reverse post-order of an iterative DFS from the roots: every node comes before the
    nodes it feeds gradients to. (Each stack entry is an iterator over a node's
    ``next_functions``, resumed where it left off: the order of the recursive DFS.)"""
    order = []
    seen = set()
    add_seen = seen.add
    push = order.append
    for root in roots:
        if root is None or root in seen:
            continue
        add_seen(root)
        nodes = [root]
        iters = [iter(root.next_functions)]
        while iters:
            for nxt, _ in iters[-1]:
                if nxt is not None and nxt not in seen:
                    add_seen(nxt)
                    nodes.append(nxt)
                    iters.append(iter(nxt.next_functions))
                    break
            else:
                iters.pop()
                push(nodes.pop())
    order.reverse()
    return order


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _check_nan(node, grads):
    from .._tensor import Tensor

    for i, g in enumerate(grads):
        if isinstance(g, Tensor) and (g.is_floating_point() or g.is_complex()):
            if bool(g.isnan().any()):
                msg = f"Function '{node.name()}' returned nan values in its {i}th output."
                trace = getattr(node, "_anomaly_trace", None)
                if trace:
                    msg += "\nTraceback of forward call that caused the error:\n" + trace
                raise RuntimeError(msg)


def _validate_shapes(node, gins):
    """torch's validate_outputs for a user Function: a gradient must have its input's shape
    or one that sums down to it (it is then summed)."""
    out = list(gins)
    for i, (g, shape) in enumerate(zip(gins, node._in_shapes, strict=False)):
        if g is None or shape is None or not hasattr(g, "_a"):
            continue
        gs = g._a.shape
        if gs == shape:
            continue
        try:
            ok = np.broadcast_shapes(shape, gs) == gs
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(gs)} but expected shape compatible with {list(shape)}"
            )
        out[i] = g.sum_to_size(shape)
    return tuple(out)


def run_backward(
    roots, grad_roots, retain_graph: bool, create_graph: bool, capture=None, accumulate: bool = True
):
    """Propagate ``grad_roots`` from the tensors ``roots`` through the graph.

    ``capture`` maps edges ``(node, output_nr)`` to slots: the total gradient arriving at a
    captured edge is stored instead of (or before) running that node; used by
    ``autograd.grad``. With ``accumulate=False`` leaves' ``.grad`` are left untouched.
    """
    Tensor = _tensor_cls()
    pending = {}  # node -> {output_nr: summed grad}
    root_nodes = []
    for t, g in zip(roots, grad_roots, strict=False):
        edge_node = t.grad_fn if t.grad_fn is not None else t._get_acc()
        nr = t._output_nr if t.grad_fn is not None else 0
        slots = pending.get(edge_node)
        if slots is None:
            slots = pending[edge_node] = {}
        slots[nr] = _add(slots.get(nr), g)
        root_nodes.append(edge_node)
    order = _topo_order(root_nodes)
    prev = state.enabled
    state.enabled = bool(create_graph)
    callbacks: list = []
    cb_stack = _callback_stack()
    cb_stack.append(callbacks)
    pop = pending.pop
    get = pending.get
    try:
        for node in order:
            slots = pop(node, None)
            if not slots:
                continue
            # tensor hooks registered on this node's outputs
            if node._pre_hooks:
                for nr, hooks in node._pre_hooks.items():
                    if nr in slots:
                        for h in list(hooks):
                            r = h(slots[nr])
                            if r is not None:
                                slots[nr] = r
            if capture is not None:
                hit = False
                for nr, g in slots.items():
                    key = (node, nr)
                    if key in capture:
                        capture[key] = _add(capture[key], g)
                        hit = True
                if hit and isinstance(node, AccumulateGrad):
                    continue
            if isinstance(node, AccumulateGrad):
                if accumulate:
                    var = node._var()
                    if var is not None:
                        var._accumulate_grad(slots[0], create_graph)
                        post = var.__dict__.get("_post_acc_hooks")
                        if post:
                            for h in list(post):
                                h(var)
                continue
            if node._released or node._saved is None:
                raise RuntimeError(_FREED_MSG)
            meta = node._out_meta
            if meta is None:
                gouts = None
                gins = node.apply(slots.get(0))
            else:
                gouts = []
                for i, m in enumerate(meta):
                    g = slots.get(i)
                    if g is None and m is not None and node._materialize:
                        g = Tensor._zeros_meta(m)
                    gouts.append(g)
                gouts = tuple(gouts)
                gins = node.apply(*gouts)
            if type(gins) is not tuple and not isinstance(gins, tuple):
                gins = (gins,)
            nf = node.next_functions
            if len(gins) != len(nf):
                gins = _fix_count(node, gins, nf)
            if node._hooks:
                if gouts is None:
                    gouts = (slots.get(0),)
                for h in node._hooks:
                    r = h(gins, gouts)
                    if r is not None:
                        gins = tuple(r)
            if node._in_shapes is not None:
                gins = _validate_shapes(node, gins)
            if state.anomaly and state.anomaly_check_nan:
                _check_nan(node, gins)
            if not retain_graph and isinstance(node, BackwardCFunction):
                node._release()
            for (nxt, nr), g in zip(nf, gins, strict=False):
                if nxt is None or g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(
                        f"{node.name()}: backward returned {type(g).__name__}, expected a Tensor"
                    )
                s = get(nxt)
                if s is None:
                    pending[nxt] = {nr: g}
                else:
                    old = s.get(nr)
                    s[nr] = g if old is None else old + g
        state.enabled = prev
        i = 0
        while i < len(callbacks):  # a callback may queue further callbacks
            callbacks[i]()
            i += 1
    finally:
        state.enabled = prev
        cb_stack.pop()


def _fix_count(node, gins, nf):
    """``gins`` brought to one gradient per edge (or the error torch raises)."""
    if len(gins) < len(nf):
        if node._user:  # torch: one gradient (or None) per forward input
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients "
                f"(expected {len(nf)}, got {len(gins)})"
            )
        # ctorch's own ops may leave out trailing Nones for non-tensor inputs
        return gins + (None,) * (len(nf) - len(gins))
    extra = gins[len(nf) :]
    if any(g is not None for g in extra):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(nf)}, got {len(gins)})"
        )
    return gins[: len(nf)]


_TENSOR = None


def _tensor_cls():
    global _TENSOR
    if _TENSOR is None:
        from .._tensor import Tensor

        _TENSOR = Tensor
    return _TENSOR
