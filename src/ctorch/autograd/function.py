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

from .._core import _autograd
from .grad_mode import INFERENCE_VERSION, state

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
    # positions of the tensor arguments when some forward argument is not a tensor: the
    # engine takes backward's gradients at these positions, one per next_functions edge
    _arg_pos = None
    # names of ctx attributes packed by saved-tensor hooks (``_core._autograd._save_packed``)
    _ctx_packed = None
    # torch's node keeps data for backward even where ctorch's keeps none: once released, a
    # second backward through it is refused (``_core._autograd._held_data``)
    _holds_data = False

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
        """``fn(grad_outputs) -> tuple | None`` before the node runs: the tuple of the
        gradients of its outputs (None for one that got none); a returned tuple replaces
        them (torch's ``Node.register_prehook``). Runs after the tensor hooks."""
        return self._add_pre_hook(-1, fn)

    @property
    def metadata(self) -> dict:
        """A dict kept on the node for the user (torch's ``Node.metadata``)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def _add_pre_hook(self, output_nr: int, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        lst = self._pre_hooks.setdefault(output_nr, [])
        lst.append(fn)
        return RemovableHandle(lst, fn)


class _SavedAttr:
    """``grad_fn._saved_<name>`` (torch's generated node attributes): the tensor the node
    saved at ``index`` of its ``save_for_backward`` (unpacked: version-checked, through the
    saved-tensor hooks it was saved with), else the ctx attribute ``attr`` (a Python number
    torch keeps as a wrapped scalar: ``x * 2``'s ``_saved_other``), else None (not
    saved). After the graph was freed: torch's "backward through the graph a second time"
    error. With ``wrap``, a number from ``attr`` comes as a 0-d tensor (torch's wrapped
    number: int64 for an int, float64 for a float), as mul's and div's ``_saved_other``."""

    __slots__ = ("index", "attr", "wrap")

    def __init__(self, index: int, attr: str | None = None, wrap: bool = False) -> None:
        self.index, self.attr, self.wrap = index, attr, wrap

    def __get__(self, node, owner=None):
        if node is None:
            return self
        saved = node._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        v = saved[self.index] if self.index < len(saved) else None
        if v is not None:
            return v.unpack(node)
        v = None if self.attr is None else node.__dict__.get(self.attr)
        if self.wrap and v is not None:
            import numpy as np

            v = Tensor._make(np.asarray(v))
        return v


class SavedTensor:
    """``grad_fn._raw_saved_<name>``: torch's ``torch._C._autograd.SavedTensor``, the saved
    tensor itself rather than its unpacked value. ``register_hooks(pack_hook, unpack_hook)``
    packs it now (``pack_hook(tensor)``) and has backward unpack it through
    ``unpack_hook(packed)``, which must return a Tensor; one pair per saved tensor."""

    __slots__ = ("_node", "_index")

    def __init__(self, node, index: int) -> None:
        self._node, self._index = node, index

    def _entry(self):
        saved = self._node._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        return saved[self._index] if self._index < len(saved) else None

    @property
    def data(self):
        """The saved tensor (None when nothing was saved): an input as it is, the node's own
        output without its graph (torch keeps only its data)."""
        e = self._entry()
        if e is None:
            return None
        if isinstance(e, _autograd.SavedTensor) and not e.is_output:
            return e.unpack(self._node)
        return e.unpack(self._node).detach()

    @property
    def unpack_hook(self):
        e = self._entry()
        return e.unpack_hook if isinstance(e, _autograd.PackedSaved) else None

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(
                "register_hooks(): incompatible function arguments: pack_hook and "
                "unpack_hook must be callables"
            )
        e = self._entry()
        if e is None:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor with value None is forbidden"
            )
        if not isinstance(e, _autograd.SavedTensor):
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time."
            )
        node = self._node
        packed = _autograd.PackedSaved(e.unpack(node), node, pack_hook, unpack_hook)
        saved = list(node._saved)
        saved[self._index] = packed
        node._saved = tuple(saved)

    def __repr__(self) -> str:
        return f"<ctorch._C._autograd.SavedTensor object at {hex(id(self))}>"


class _RawSavedAttr:
    """``grad_fn._raw_saved_<name>``: one ``SavedTensor`` per node and name (torch gives the
    same object each time)."""

    __slots__ = ("index", "key")

    def __init__(self, index: int, name: str) -> None:
        self.index, self.key = index, "_raw_saved_" + name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        d = node.__dict__
        r = d.get(self.key)
        if r is None:
            r = d[self.key] = SavedTensor(node, self.index)
        return r


def saved_names(fn_cls, **names) -> None:
    """Give ``fn_cls``'s graph nodes torch's ``_saved_<name>`` attributes: ``name=index``
    or ``name=(index, ctx_attr[, wrap])`` (see ``_SavedAttr``), and ``_raw_saved_<name>``
    (``SavedTensor``) for the tensors."""
    bcls = fn_cls._backward_cls
    for name, spec in names.items():
        spec = spec if isinstance(spec, tuple) else (spec,)
        setattr(bcls, "_saved_" + name, _SavedAttr(*spec))
        setattr(bcls, "_raw_saved_" + name, _RawSavedAttr(spec[0], name))


class AccumulateGrad(Node):
    """Sink node of a leaf tensor: adds the incoming gradient into ``leaf.grad``."""

    __slots__ = ("_var",)

    def __init__(self, var) -> None:
        self._var = weakref.ref(var)

    @property
    def variable(self):
        return self._var()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # torch's name (profiler tables show it)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"  # torch prints the class name


_SavedTensor = _autograd.SavedTensor
_saved_tensors = _autograd.saved_tensors
_saved_arrays = _autograd.saved_arrays


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
        return _saved_tensors(self)

    saved_variables = saved_tensors

    def _saved_arrays(self) -> tuple:
        """The saved tensors' arrays (version-checked as ``saved_tensors``), for backward
        formulas that compute on arrays under no_grad: no tensor is built per saved value."""
        return _saved_arrays(self)


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

    def name(self) -> str:
        return type(self).__name__

    def _release(self) -> None:
        self._saved = None
        self._released = True

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)


Tensor = None  # ctorch.Tensor, set by ctorch._tensor when it is defined (it imports us)
_autocast = None  # ctorch._autocast.function_hook while any autocast region is open (a profiler
# recording puts a no-op there): op fast paths that skip apply run only while it is None


def _set_tensor_class(cls) -> None:
    """Called by ``ctorch._tensor`` once ``Tensor`` exists: bind it here and bind the
    compiled engine (``_core._autograd``) to its Python helpers."""
    global Tensor
    Tensor = cls
    from . import engine

    engine._bind(cls)
    _autograd.init_record(
        globals(), _unalias, traceback.format_stack, NullContext, _FALSES, INFERENCE_VERSION
    )


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
        # a jvp and no backward: forward AD pushes its tangents through jvp (_user_apply)
        cls._jvp_only = (
            user
            and name != "Function"
            and _defines(cls, "jvp")
            and not (_defines(cls, "backward") or _defines(cls, "vjp"))
        )
        if user and "forward" in attrs and getattr(cls, "setup_context", None) is not None:
            cls.forward = staticmethod(_with_setup_context(cls, attrs["forward"]))


def _with_setup_context(cls, forward):
    """torch 2's style: ``forward(*args)`` without ``ctx`` plus
    ``setup_context(ctx, inputs, output)``, as the classic ``forward(ctx, *args)``."""
    fwd = forward.__func__ if isinstance(forward, staticmethod) else forward

    def classic_forward(ctx, *args, **kwargs):
        output = fwd(*args, **kwargs)
        cls.setup_context(ctx, args, output)
        return output

    classic_forward.__wrapped__ = fwd
    return classic_forward


def _user_apply(cls, *args, **kwargs):
    """``apply`` of a Function defined outside ctorch: ``Function.apply``, then the input
    shapes go on the node so the engine can check the gradients backward returns (torch's
    "returned an invalid gradient at index i"). ctorch's own ops skip this bookkeeping."""
    outputs = Function.apply.__func__(cls, *args, **kwargs)
    if cls._jvp_only:
        from . import forward_ad

        if forward_ad._current is not None:
            return forward_ad._custom_jvp(cls, args, outputs)
    bcls = cls._backward_cls
    for o in outputs if isinstance(outputs, tuple) else (outputs,):
        if isinstance(o, Tensor) and type(o.grad_fn) is bcls:
            o.grad_fn._in_shapes = tuple(
                a._a.shape if isinstance(a, Tensor) else None for a in args
            )
            break
    return outputs


def _defines(cls, name: str) -> bool:
    """Whether a user Function class defines ``name`` itself (not through ``Function``)."""
    base = globals().get("Function")  # None while Function itself is being created
    return any(name in vars(k) for k in cls.__mro__ if k is not base and k is not object)


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

    # the argument positions that are graph edges (``next_functions``), for ctorch's ops whose
    # torch counterpart wraps a number into a tensor input (add/sub/mul/div: 2 edges for x * 2)
    # or has a non-differentiable tensor input (where's condition: no edge); None: every tensor
    # argument, as torch's custom Functions
    _edge_pos = None

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method: call "
            f"{type(self).__name__}.apply(...) instead of instantiating it."
        )

    #: autocast policy of this op ({device_type: policy}, see ctorch._autocast), or None
    _ac = None

    # ``apply(*args, **kwargs)``: runs ``forward`` with grad mode off; when grad mode is on
    # and an input requires grad, on a new graph node (the ``ctx``) whose outputs it then
    # connects (``_apply_recording``), else on a ``NullContext``; inside an autocast region
    # the autocast hook casts the arguments first. Compiled:
    # ``_core._autograd.function_apply``.
    apply = classmethod(_autograd.function_apply)

    @classmethod
    def _apply_recording(cls, args, kwargs):
        """Run ``forward`` on a new graph node (the ``ctx``, grad mode off) and connect the
        outputs to it: ``_core._autograd.apply_recording`` (compiled), bound to this module
        by ``ctorch.autograd.engine``."""
        return _autograd.apply_recording(cls, args, kwargs)


_apply_recording = _autograd.apply_recording


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
            # entries packed by saved-tensor hooks are the hooks' data, not ``old`` itself
            if type(s) is _SavedTensor and not s.is_output and s.tensor is old:
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
