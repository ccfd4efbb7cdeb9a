"""The backward engine: runs graph nodes in reverse topological order."""

from __future__ import annotations

import itertools
import sys as _sys
import threading

import numpy as np

from .._core import _autograd
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


class _GraphTask(list):
    """One running backward pass: the list of its final callbacks, plus what it runs
    (``order``: its nodes; ``capture``: ``autograd.grad``'s captured edges, or None)."""

    __slots__ = ("order", "capture", "tid", "will")


_task_ids = itertools.count()


def _current_task():
    st = getattr(_tls, "final_callbacks", None)
    return st[-1] if st else None


def _current_graph_task_id() -> int:
    """An id of the backward pass running in this thread (torch's
    ``torch._C._current_graph_task_id``), -1 outside backward."""
    task = _current_task()
    if task is None:
        return -1
    tid = getattr(task, "tid", None)
    if tid is None:
        tid = task.tid = next(_task_ids)
    return tid


def _will_engine_execute_node(node) -> bool:
    """Whether the running backward pass runs ``node`` (or captures its gradient), as
    torch's ``torch._C._will_engine_execute_node``."""
    task = _current_task()
    if task is None:
        raise RuntimeError(
            "_will_engine_execute_node should only be called during the backward pass"
        )
    will = getattr(task, "will", None)
    if will is None:
        will = task.will = set(task.order)
    return node in will


class _ExecutionEngine:
    """The object behind ``Variable._execution_engine`` (only ``queue_callback``)."""

    @staticmethod
    def queue_callback(callback) -> None:
        queue_callback(callback)


_execution_engine = _ExecutionEngine()


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a.is_sparse and not b.is_sparse:  # sparse + dense is refused; dense + sparse is dense
        return b + a
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

    Nodes run in the reverse post-order of a depth-first search from the roots (every node
    before the nodes it feeds gradients to); gradients arriving at one output of a node are
    summed in arrival order; a node's saved tensors are released after it ran unless
    ``retain_graph``. ``capture`` maps edges ``(node, output_nr)`` to slots: the total
    gradient arriving at a captured edge is stored instead of (or before) running that node;
    used by ``autograd.grad``. With ``accumulate=False`` leaves' ``.grad`` are left untouched.
    The loop itself is compiled (``ctorch._core._autograd``); the helpers above are its
    rare paths.

    Once ``__torch_function__`` dispatch exists (a Tensor subclass was defined or a mode
    entered), the pass runs with it off: torch's built-in backward formulas are C++ that
    neither subclass handlers nor modes see, and a subclass leaf's ``.grad`` is a plain Tensor.
    """
    tf = _sys.modules.get("ctorch._torch_function")
    if tf is None or not tf.is_installed():
        return _run(roots, grad_roots, retain_graph, create_graph, capture, accumulate)
    with tf.DisableTorchFunction():
        _run(roots, grad_roots, retain_graph, create_graph, capture, accumulate)


def _bind(Tensor) -> None:
    """Hand the compiled loop its classes and helpers (``ctorch._tensor`` calls this through
    ``function._set_tensor_class`` once ``Tensor`` exists)."""
    _autograd.init(
        Tensor,
        AccumulateGrad,
        BackwardCFunction,
        state,
        _FREED_MSG,
        _callback_stack,
        _check_nan,
        _validate_shapes,
        _fix_count,
        _add,
        _GraphTask,
    )


_run = _autograd.run_backward
_topo_order = _autograd.topo_order


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
