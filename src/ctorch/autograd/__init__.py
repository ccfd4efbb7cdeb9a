"""ctorch.autograd: define-by-run automatic differentiation."""

from __future__ import annotations

import math

import numpy as np

from . import engine as _engine_mod
from . import forward_ad, functional, grad_mode, graph
from . import function as _function
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import run_backward
from .function import Function, FunctionCtx, InplaceFunction, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "InplaceFunction",
    "once_differentiable",
    "backward",
    "grad",
    *grad_mode.__all__,
    "gradcheck",
    "gradgradcheck",
    "detect_anomaly",
    "set_detect_anomaly",
    "Variable",
    "graph",
    "functional",
    "forward_ad",
]


def _edge_meta(edge):
    """(shape, dtype, array type) of the gradient flowing into ``edge`` (torch's
    ``node._input_metadata[output_nr]``), or None where the node keeps none."""
    node = edge.node
    var = getattr(node, "variable", None)  # a leaf's AccumulateGrad
    if var is not None:
        return (var._a.shape, var._a.dtype, type(var._a))
    got = getattr(node, "__dict__", {}).get("_edge_meta", {}).get(edge.output_nr)
    if got is not None:  # recorded by get_gradient_edge
        return got
    meta = getattr(node, "_out_meta", None)
    if meta is None or edge.output_nr >= len(meta):
        return None
    return meta[edge.output_nr]


def _make_grads(outputs, grad_outputs, create_graph):
    Tensor = _function.Tensor  # bound by ctorch._tensor (which imports this package)

    grads = []
    for out, g in zip(outputs, grad_outputs, strict=False):
        if isinstance(out, graph.GradientEdge):
            if g is None:  # torch: ones for a one-element output, else its refusal
                meta = _edge_meta(out)
                if meta is None:  # a node that keeps no output metadata: it must be given
                    raise RuntimeError(
                        "ctorch: a GradientEdge output needs its gradient in grad_outputs"
                    )
                shape, dtype, atype = meta
                if math.prod(shape) != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if atype is np.ndarray:
                    grads.append(Tensor._make(np.ones(shape, dtype)))
                else:  # pragma: no cover - GPU
                    import cupy

                    grads.append(Tensor._make(cupy.ones(shape, dtype)))
                continue
            if not isinstance(g, Tensor):
                from .._creation import tensor

                g = tensor(g)
            grads.append(g if create_graph else g.detach())
            continue
        if g is None:
            if out._a.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.is_floating_point():  # torch: complex outputs need an explicit grad
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {out.dtype}"
                )
            a = out._a
            # ones, whatever the loss's value (``1 + loss*0`` seeded NaN for a NaN/inf loss)
            if type(a) is np.ndarray:
                g = Tensor._make(np.ones_like(a))
            elif out.is_meta:
                g = Tensor._make(np.ones_like(a))  # (a meta array: MetaArray's rule)
            else:
                import cupy

                g = Tensor._make(cupy.ones_like(a))
        else:
            if not isinstance(g, Tensor):
                from .._creation import tensor

                g = tensor(g, dtype=out.dtype)
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
                    f"output[0] has a shape of {tuple(out.shape)}."
                )
            if g.dtype != out.dtype:
                # torch casts a real gradient to the output's dtype (float32 grad_outputs for
                # a float64 output: AdaHessian's Rademacher vectors); complex must match
                if g.is_complex() or out.is_complex():
                    raise RuntimeError(
                        "For complex Tensors, both grad_output and output are required to have "
                        f"the same dtype. Mismatch in dtype: grad_output[0] has a dtype of "
                        f"{g.dtype} and output[0] has a dtype of {out.dtype}."
                    )
                g = g.to(out.dtype)
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
):
    """Compute the sum of gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``."""
    Tensor = _function.Tensor

    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    for t in tensors:
        if not t._rg:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    grads = _make_grads(tensors, grad_tensors, create_graph)
    if inputs is not None:
        ins = (inputs,) if isinstance(inputs, (Tensor, graph.GradientEdge)) else tuple(inputs)
        res = grad(
            tensors,
            ins,
            grads,
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
        for i, g in zip(ins, res, strict=False):
            if g is not None:
                _accumulate_input(i, g, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def _accumulate_input(t, g, create_graph) -> None:
    """``backward(inputs=...)``: add ``g`` into ``t.grad``. A leaf's tensor hooks already ran
    on ``g`` (the engine runs them on a captured leaf gradient); its post-accumulate hooks run
    after, as torch."""
    if isinstance(t, graph.GradientEdge):  # a leaf's edge accumulates into the leaf
        t = t.node.variable if isinstance(t.node, _function.AccumulateGrad) else None
        if t is None:
            return
    hooks = t._hooks
    t._hooks = None
    try:
        t._accumulate_grad(g, create_graph)
    finally:
        t._hooks = hooks
    if t.grad_fn is None:
        for h in list(t.__dict__.get("_post_acc_hooks") or ()):
            h(t)


class _EdgeRoot:
    """A ``graph.GradientEdge`` as a root of the engine (which reads a root's ``grad_fn``
    and ``_output_nr``)."""

    __slots__ = ("grad_fn", "_output_nr")

    def __init__(self, edge) -> None:
        self.grad_fn, self._output_nr = edge.node, edge.output_nr


def _edge_key(x):
    """The engine's (node, output_nr) key of a tensor or a ``graph.GradientEdge``."""
    if isinstance(x, graph.GradientEdge):
        return (x.node, x.output_nr)
    return (x.grad_fn, x._output_nr) if x.grad_fn is not None else (x._get_acc(), 0)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Gradients of ``outputs`` w.r.t. ``inputs`` (returned, not accumulated into .grad)."""
    from .._tensor import Tensor

    single_out = isinstance(outputs, (Tensor, graph.GradientEdge))
    outputs = (outputs,) if single_out else tuple(outputs)
    if isinstance(inputs, (Tensor, graph.GradientEdge)):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for o in outputs:
        if not isinstance(o, graph.GradientEdge) and not o._rg:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    for i in inputs:
        if not isinstance(i, graph.GradientEdge) and not i._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs, create_graph)
    capture = {}
    keys = []
    for i in inputs:
        key = _edge_key(i)
        capture[key] = None
        keys.append(key)
    roots = tuple(_EdgeRoot(o) if isinstance(o, graph.GradientEdge) else o for o in outputs)
    run_backward(roots, grads, retain_graph, create_graph, capture=capture, accumulate=False)
    result = []
    for n, (i, key) in enumerate(zip(inputs, keys, strict=False)):
        g = capture[key]
        if isinstance(i, graph.GradientEdge):
            if g is None and materialize_grads:
                raise RuntimeError(
                    "materialize_grads cannot be used when the given input is a GradientEdge"
                )
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {n} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(g)
            continue
        if g is None:
            if materialize_grads:
                g = i.detach().new_zeros(i.shape)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {n} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
        elif g.is_sparse or g.is_sparse_csr or i.is_sparse or i.is_sparse_csr:
            pass  # sparse gradients / inputs (#13) come as the engine made them
        elif g._a.shape != i._a.shape:
            g = g.sum_to_size(i._a.shape)
        result.append(g)
    return tuple(result)


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - legacy alias
    """Legacy ``torch.autograd.Variable``: returns the tensor (optionally requiring grad)."""
    if volatile:
        from .. import _warnings

        _warnings.warn(
            "volatile was removed and now has no effect. Use `with torch.no_grad():` instead."
        )
    t = data
    if requires_grad:
        t.requires_grad_(True)
    return t


# torch code reaches the engine's final callbacks as Variable._execution_engine.queue_callback
Variable._execution_engine = _engine_mod._execution_engine  # type: ignore[attr-defined]


def __getattr__(name: str):
    if name == "profiler":  # torch.autograd.profiler, imported on first use
        import importlib

        return importlib.import_module(".profiler", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
