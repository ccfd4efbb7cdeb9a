"""Define-by-run autograd: graph nodes, ``Function`` with ``ctx``, saved tensors.

Every differentiable ctorch op is a ``Function`` subclass: ``forward(ctx, ...)`` computes on
tensors (grad mode off), ``backward(ctx, *grads)`` returns one gradient per input. Calling
``F.apply(...)`` runs forward and, when grad mode is on and an input requires grad, records a
node whose ``next_functions`` point at the inputs' nodes. The node *is* the ``ctx``.
"""

from __future__ import annotations

import threading
import traceback
import weakref

from .grad_mode import state

__all__ = [
    "Function",
    "FunctionCtx",
    "Node",
    "BackwardCFunction",
    "AccumulateGrad",
    "once_differentiable",
    "InplaceFunction",
]

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class RemovableHandle:
    __slots__ = ("_list", "_item")

    def __init__(self, lst: list, item) -> None:
        self._list, self._item = lst, item

    def remove(self) -> None:
        try:
            self._list.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A node of the backward graph."""

    next_functions: tuple = ()
    _pre_hooks = None  # {output_nr: [hook(grad) -> grad|None]}
    _hooks = None  # [hook(grad_inputs, grad_outputs)]
    # node of a Function defined outside ctorch: the engine holds its backward to torch's
    # rules (one gradient per forward input; shapes checked against ``_in_shapes``)
    _user = False
    _in_shapes = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, fn):
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        return self._add_pre_hook(0, fn)

    def _add_pre_hook(self, output_nr: int, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        lst = self._pre_hooks.setdefault(output_nr, [])
        lst.append(fn)
        return RemovableHandle(lst, fn)


class AccumulateGrad(Node):
    """Sink node of a leaf tensor: adds the incoming gradient into ``leaf.grad``."""

    __slots__ = ("_var",)

    def __init__(self, var) -> None:
        self._var = weakref.ref(var)

    @property
    def variable(self):
        return self._var()

    def name(self) -> str:
        return "AccumulateGrad"


class _SavedTensor:
    __slots__ = ("tensor", "array", "version_ref", "version", "is_output", "output_nr", "rg")

    def __init__(self, t, node) -> None:
        self.version_ref = t._vref
        self.version = t._vref[0]
        if t.grad_fn is node:
            # Saving one of our own outputs: keep its array, not the tensor, so the
            # graph holds no reference cycle (node -> tensor -> node).
            self.tensor = None
            self.array = t._a
            self.is_output = True
            self.output_nr = t._output_nr
            self.rg = t._rg
        else:
            self.tensor = t
            self.is_output = False

    def unpack(self, node):
        if self.version_ref[0] != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: output of {node.name()} is at version "
                f"{self.version_ref[0]}; expected version {self.version} instead. Hint: the "
                "operation that saved it is the one named; avoid modifying its inputs or "
                "outputs in place before backward()."
            )
        if not self.is_output:
            return self.tensor
        from .._tensor import Tensor

        t = Tensor._make(self.array)
        t._vref = self.version_ref
        if self.rg:
            t._rg = True
            t.grad_fn = node
            t._output_nr = self.output_nr
        return t


class FunctionCtx:
    """The ``ctx`` API (mixed into graph nodes)."""

    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        return tuple(None if s is None else s.unpack(self) for s in saved)

    saved_variables = saved_tensors


class BackwardCFunction(Node, FunctionCtx):
    """Graph node created by ``Function.apply``; also the ``ctx`` seen by forward/backward."""

    _forward_cls = None
    _saved = ()
    _to_save = ()
    _dirty = ()
    _non_diff = ()
    _materialize = True
    _out_meta = None
    _anomaly_trace = None
    _released = False

    def __init__(self) -> None:
        pass

    def name(self) -> str:
        return type(self).__name__

    def _release(self) -> None:
        self._saved = None
        self._released = True

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)


Tensor = None  # ctorch.Tensor, set by ctorch._tensor when it is defined (it imports us)
_autocast = None  # ctorch._autocast.function_hook while any autocast region is open


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        node_name = attrs.get("_node_name") or (name + "Backward")
        mod = cls.__module__
        user = not (mod == "ctorch" or mod.startswith("ctorch."))
        cls._backward_cls = type(
            node_name, (BackwardCFunction,), {"_forward_cls": cls, "_user": user}
        )
        if user and "apply" not in attrs and name != "Function":
            cls.apply = classmethod(_user_apply)


def _user_apply(cls, *args, **kwargs):
    """``apply`` of a Function defined outside ctorch: ``Function.apply``, then the input
    shapes go on the node so the engine can check the gradients backward returns (torch's
    "returned an invalid gradient at index i"). ctorch's own ops skip this bookkeeping."""
    outputs = Function.apply.__func__(cls, *args, **kwargs)
    bcls = cls._backward_cls
    for o in outputs if isinstance(outputs, tuple) else (outputs,):
        if isinstance(o, Tensor) and type(o.grad_fn) is bcls:
            o.grad_fn._in_shapes = tuple(
                a._a.shape if isinstance(a, Tensor) else None for a in args
            )
            break
    return outputs


def _unalias(outputs, args, dirty):
    """``forward``'s outputs with every input returned unchanged replaced by a new tensor (a
    view of it), unless it was marked dirty (an in-place op returns its input itself)."""
    if isinstance(outputs, tuple):
        if not any(isinstance(o, Tensor) and any(o is a for a in args) for o in outputs):
            return outputs
        return tuple(_unalias(o, args, dirty) for o in outputs)
    if isinstance(outputs, Tensor) and any(outputs is a for a in args):
        if not any(outputs is d for d in dirty):
            return outputs._view_of(outputs._a)
    return outputs


def _edge(t):
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    acc = t._acc
    if acc is None:
        acc = t._acc = AccumulateGrad(t)
    return (acc, 0)


class Function(metaclass=_FunctionMeta):
    """Base class of differentiable operations, as ``torch.autograd.Function``.

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    and are called through ``apply``.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method: call "
            f"{type(self).__name__}.apply(...) instead of instantiating it."
        )

    #: autocast policy of this op ({device_type: policy}, see ctorch._autocast), or None
    _ac = None

    @classmethod
    def apply(cls, *args, **kwargs):
        if _autocast is not None:  # an autocast region is open (in some thread)
            args = _autocast(cls, args)
        st = state
        if st.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    return cls._apply_recording(args, kwargs)
            # grad mode on but nothing to record: forward still runs with grad mode off
            ctx = _null_ctx(len(args))
            st.enabled = False
            try:
                outputs = cls.forward(ctx, *args, **kwargs)
            finally:
                st.enabled = True
        else:
            ctx = _null_ctx(len(args))
            outputs = cls.forward(ctx, *args, **kwargs)
        for d in ctx._dirty:
            d._vref[0] += 1
        return _unalias(outputs, args, ctx._dirty)

    @classmethod
    def _apply_recording(cls, args, kwargs):
        node = cls._backward_cls()
        flags = tuple(isinstance(a, Tensor) and a._rg for a in args)
        node.needs_input_grad = flags
        state.enabled = False
        try:
            outputs = cls.forward(node, *args, **kwargs)
        finally:
            state.enabled = True
        dirty = node._dirty
        outputs = _unalias(outputs, args, dirty)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        node.next_functions = tuple(
            _edge(a) if f else (None, 0) for a, f in zip(args, flags, strict=False)
        )
        if _recording is not None:  # some thread collects nodes: is it this one?
            lst = state.recording
            if lst is not None:
                lst.append(node)
        non_diff = node._non_diff
        if len(outs) > 1:
            node._out_meta = [o._a if isinstance(o, Tensor) else None for o in outs]
            # keep (shape, dtype, array type) only, not the arrays themselves
            node._out_meta = [
                None if a is None else (a.shape, a.dtype, type(a)) for a in node._out_meta
            ]
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                continue
            if any(o is d for d in dirty):
                if o.grad_fn is None and o._rg:
                    raise RuntimeError(
                        "a leaf Variable that requires grad is being used in an in-place operation."
                    )
                o._vref[0] += 1
            if any(o is n for n in non_diff) or not (o.is_floating_point() or o.is_complex()):
                o._rg = False
                continue
            o._rg = True
            o.grad_fn = node
            o._output_nr = i
        if state.anomaly:
            node._anomaly_trace = "".join(traceback.format_stack()[:-1])
        to_save = node._to_save
        if to_save:
            node._saved = tuple(None if t is None else _SavedTensor(t, node) for t in to_save)
            node._to_save = ()
        return outputs


# autograd.inplace.inplace collects the nodes one op creates into ``state.recording`` (per
# thread). ``_recording`` is non-None while any thread collects, so ``apply``'s hot path
# pays one module-global read, not a thread-local one, when nobody does.
_recording = None
_recorders = 0
_recorders_lock = threading.Lock()


def record_nodes(lst):
    """Collect graph nodes this thread creates through ``apply`` into ``lst`` (None stops);
    returns the previous collector so calls nest."""
    global _recording, _recorders
    prev = state.recording
    state.recording = lst
    with _recorders_lock:
        _recorders += (lst is not None) - (prev is not None)
        _recording = True if _recorders else None
    return prev


def resave_input(nodes, old, snapshot) -> None:
    """In ``nodes``, point saved tensors that are ``old`` at ``snapshot`` (an in-place op is
    about to overwrite ``old``'s memory; backward must see the values it had)."""
    for n in nodes:
        saved = n._saved
        if not saved:
            continue
        for s in saved:
            if s is not None and not s.is_output and s.tensor is old:
                s.tensor = snapshot
                s.version_ref = snapshot._vref
                s.version = snapshot._vref[0]


class NullContext:
    """The ``ctx`` of a ``Function.apply`` that records nothing (grad mode off, or no input
    requires grad): every op runs through ``apply`` and never spells the grad-mode check
    itself. ``save_for_backward`` and friends keep nothing; ``mark_dirty`` is honoured (the
    version counters of tensors changed in place still move)."""

    _dirty = ()
    needs_input_grad = ()

    def save_for_backward(self, *tensors) -> None:
        pass

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass

    @property
    def saved_tensors(self) -> tuple:
        return ()

    saved_variables = saved_tensors


_FALSES = [(False,) * n for n in range(17)]
_new_ctx = object.__new__


def _null_ctx(n: int) -> NullContext:
    ctx = _new_ctx(NullContext)
    ctx.needs_input_grad = _FALSES[n] if n < 17 else (False,) * n
    return ctx


class InplaceFunction(Function):
    pass


def once_differentiable(fn):
    """Decorator for backward methods that are not themselves differentiable."""
    import functools

    from .grad_mode import no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper
