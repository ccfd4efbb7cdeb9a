# cython: language_level=3
"""The autograd engine's hot loops, compiled: the backward walk (``run_backward``) and the
topological order it runs in. ``ctorch.autograd.engine`` owns the semantics and the rare
paths (hooks, capture, anomaly checks, gradient-count errors) and hands this module its
classes and helpers once, through ``init``; the loops here are the Python ones of
``engine.py`` with typed locals, so the interpreter's per-node cost goes away but every
step and its order are the same. Knows no arrays.
"""

import threading

import numpy as np

cdef object _Tensor = None
cdef object _AccumulateGrad = None
cdef object _BackwardCFunction = None
cdef object _state = None
cdef object _freed_msg = None
cdef object _callback_stack = None
cdef object _check_nan = None
cdef object _validate_shapes = None
cdef object _fix_count = None
cdef object _add = None
cdef object _bcf_apply = None
# saved-tensor hooks (the section "saved-tensor hooks" below): non-None while some thread has
# hooks on; True once some node had ctx attributes packed (the backward loop then checks nodes)
cdef object _hooks_on = None
cdef bint _ever_packed = False


def init(Tensor, AccumulateGrad, BackwardCFunction, state, freed_msg, callback_stack,
         check_nan, validate_shapes, fix_count, add, new_task):
    """Bind the engine's classes and helpers (called once by ``ctorch.autograd.engine``)."""
    global _Tensor, _AccumulateGrad, _BackwardCFunction, _state, _freed_msg
    global _callback_stack, _check_nan, _validate_shapes, _fix_count, _add, _bcf_apply
    global _new_task
    _new_task = new_task
    _Tensor = Tensor
    _AccumulateGrad = AccumulateGrad
    _BackwardCFunction = BackwardCFunction
    _state = state
    _freed_msg = freed_msg
    _callback_stack = callback_stack
    _check_nan = check_nan
    _validate_shapes = validate_shapes
    _fix_count = fix_count
    _add = add
    _bcf_apply = BackwardCFunction.apply


cdef inline bint all_none(object t, Py_ssize_t start):
    cdef Py_ssize_t i
    for i in range(start, len(t)):
        if t[i] is not None:
            return False
    return True


def topo_order(roots):
    """Reverse post-order of an iterative DFS from the roots (``engine._topo_order``)."""
    cdef list order = []
    cdef set seen = set()
    cdef list nodes
    cdef list iters
    cdef bint pushed
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        nodes = [root]
        iters = [iter(root.next_functions)]
        while iters:
            pushed = False
            for edge in iters[len(iters) - 1]:
                nxt = edge[0]
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    nodes.append(nxt)
                    iters.append(iter(nxt.next_functions))
                    pushed = True
                    break
            if not pushed:
                iters.pop()
                order.append(nodes.pop())
    order.reverse()
    return order


cdef object _new_task = None  # engine._GraphTask


cdef tuple _prune(list order, dict capture):
    """``order`` kept to the nodes that run or capture in an ``autograd.grad`` pass (torch's
    exec_info): a captured node, and a node with a path to one. The second value: the nodes
    that run (those with a path to a captured node beyond themselves)."""
    cdef set cap = set()
    cdef set need = set()
    cdef set run = set()
    for key in capture:
        cap.add(key[0])
    for i in range(len(order) - 1, -1, -1):  # inputs before the nodes that feed them
        node = order[i]
        for edge in node.next_functions:
            if edge[0] is not None and edge[0] in need:
                run.add(node)
                break
        if node in cap or node in run:
            need.add(node)
    return [n for n in order if n in need], run


cdef object _leaf_hooks(node, g):
    var = node._var()
    if var is not None and var._hooks:
        for h in list(var._hooks):
            r = h(g)
            if r is not None:
                g = r
    return g


cdef dict _node_prehooks(node, hooks, dict slots):
    meta = node._out_meta
    n = 1 if meta is None else len(meta)
    gouts = tuple([slots.get(i) for i in range(n)])
    for h in list(hooks):
        r = h(gouts)
        if r is not None:
            gouts = tuple(r)
    return {i: g for i, g in enumerate(gouts) if g is not None}


cdef bint _any_not_none(tuple t):
    for o in t:
        if o is not None:
            return True
    return False


cdef bint _held_data(node):
    """Whether a released node needed data that a second backward cannot have: saved tensors
    (freed at release) or tensors/arrays kept on the ctx. As torch, a node that kept only
    sizes and flags (add, sum, views) runs again, so a second backward through such nodes works
    without ``retain_graph``; anything else raises torch's "backward through the graph a second
    time" error."""
    if node._saved is None or node._holds_data:
        return True
    for v in node.__dict__.values():
        if type(v) is tuple or type(v) is list:  # an index tuple of arrays (x[[0, 2]])
            for e in v:
                if _is_data(e):
                    return True
        elif callable(v) and getattr(v, "__closure__", None):  # a backward closure's captures
            for c in v.__closure__:
                try:
                    if _is_data(c.cell_contents):
                        return True
                except ValueError:  # an empty cell
                    pass
        elif _is_data(v):
            return True
    return False


cdef bint _is_data(v):
    return (isinstance(v, _Tensor) or hasattr(v, "__array_interface__")
            or hasattr(v, "__cuda_array_interface__"))


def run_backward(roots, grad_roots, bint retain_graph, bint create_graph, capture=None,
                 bint accumulate=True):
    """``engine.run_backward`` (see there)."""
    cdef dict pending = {}
    cdef list root_nodes = []
    cdef list order
    cdef object callbacks  # an engine._GraphTask (a list)
    cdef object slots  # a dict, or None from pending.pop (built with nonecheck off)
    cdef object s
    cdef bint hit
    cdef Py_ssize_t i, n
    cdef object Tensor = _Tensor
    cdef object AccumulateGrad = _AccumulateGrad
    cdef object state = _state
    for t, g in zip(roots, grad_roots):
        fn = t.grad_fn
        if fn is not None:
            edge_node = fn
            nr = t._output_nr
        else:
            edge_node = t._get_acc()
            nr = 0
        slots = pending.get(edge_node)
        if slots is None:
            slots = pending[edge_node] = {}
        slots[nr] = _add(slots.get(nr), g)
        root_nodes.append(edge_node)
    order = topo_order(root_nodes)
    run = None
    if capture is not None:  # autograd.grad: only the nodes on a path to a captured edge
        order, run = _prune(order, capture)
    prev = state.enabled
    state.enabled = bool(create_graph)
    # the graph task: the final-callback list, which also tells
    # register_multi_grad_hook which nodes this pass runs (engine._will_engine_execute_node)
    callbacks = _new_task()
    callbacks.order = order
    callbacks.capture = capture
    cb_stack = _callback_stack()
    cb_stack.append(callbacks)
    try:
        for node in order:
            slots = pending.pop(node, None)
            if not slots:
                continue
            # tensor hooks registered on this node's outputs
            pre = node._pre_hooks
            if pre:
                for nr, hooks in pre.items():
                    if nr in slots:
                        for h in list(hooks):
                            r = h(slots[nr])
                            if r is not None:
                                slots[nr] = r
                if -1 in pre:  # Node.register_prehook: the tuple of all output gradients
                    slots = _node_prehooks(node, pre[-1], slots)
            if capture is not None:
                hit = False
                for nr, g in slots.items():
                    key = (node, nr)
                    if key in capture:
                        if isinstance(node, AccumulateGrad):
                            g = _leaf_hooks(node, g)  # a leaf's tensor hooks, as torch
                        capture[key] = _add(capture[key], g)
                        hit = True
                if hit and (isinstance(node, AccumulateGrad) or node not in run):
                    continue  # captured, and not needed further down
            if isinstance(node, AccumulateGrad):
                if accumulate:
                    if _op_hook is not None:
                        t_node = _op_hook.begin()
                    var = node._var()
                    if var is not None:
                        var._accumulate_grad(slots[0], create_graph)
                        post = var.__dict__.get("_post_acc_hooks")
                        if post:
                            for h in list(post):
                                h(var)
                    if _op_hook is not None:
                        _op_hook.end_node(t_node, node)
                continue
            if node._released and _held_data(node):
                raise RuntimeError(_freed_msg)
            packed = None
            if _ever_packed and node._ctx_packed is not None:  # ctx data packed by hooks
                packed = _unpack_ctx(node)
            if _op_hook is not None:  # a profiler records: the node's backward as a range
                t_node = _op_hook.begin()
            meta = node._out_meta
            if meta is None:
                gouts = None
                if type(node).apply is _bcf_apply:  # BackwardCFunction.apply, one frame less
                    gins = node._forward_cls.backward(node, slots.get(0))
                else:
                    gins = node.apply(slots.get(0))
            else:
                gl = []
                i = 0
                for m in meta:
                    g = slots.get(i)
                    if g is None and m is not None and node._materialize:
                        g = Tensor._zeros_meta(m)
                    gl.append(g)
                    i += 1
                gouts = tuple(gl)
                gins = node.apply(*gouts)
            if packed is not None:  # back to the packed values (freed with the graph)
                d = node.__dict__
                if retain_graph:
                    d.update(packed)
                else:
                    for k in packed:
                        d[k] = None
                    node._saved = None
            if _op_hook is not None:
                _op_hook.end_node(t_node, node)
            if not isinstance(gins, tuple):
                gins = (gins,)
            nf = node.next_functions
            ap = node._arg_pos
            # one gradient per forward argument (torch's count), checked against them all
            per_arg = nf if ap is None else node.needs_input_grad
            n = len(per_arg)
            if len(gins) > n and all_none(gins, n):
                gins = gins[:n]  # trailing Nones (for non-tensor inputs): dropped
            elif len(gins) != n:
                gins = _fix_count(node, gins, per_arg)  # pads, or raises torch's error
            if node._in_shapes is not None:
                gins = _validate_shapes(node, gins)
            if ap is not None:  # next_functions has the tensor arguments only, as torch's
                gins = _tensor_grads(node, gins, ap)
            nh = node._hooks
            if nh:
                if gouts is None:
                    gouts = (slots.get(0),)
                for h in nh:
                    r = h(gins, gouts)
                    if r is not None:
                        gins = tuple(r)
            if state.anomaly and state.anomaly_check_nan:
                _check_nan(node, gins)
            if not retain_graph and isinstance(node, _BackwardCFunction):
                if node._saved:  # BackwardCFunction._release
                    node._saved = None if _any_not_none(node._saved) else ()
                node._released = True
            for edge, g in zip(nf, gins):
                nxt, nr = edge
                if nxt is None or g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(
                        f"{node.name()}: backward returned {type(g).__name__}, expected a Tensor"
                    )
                s = pending.get(nxt)
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


# ---------------------------------------------------------------- the forward record
cdef object _fn_globals = None  # ctorch.autograd.function's globals (its ``_recording`` flag)
cdef object _unalias = None
cdef object _format_stack = None
cdef object _make_tensor = None
cdef object _inference_version = None  # grad_mode.INFERENCE_VERSION: inference tensors' _vref
cdef tuple _TRUE1 = (True,)
cdef tuple _NO_EDGE = (None, 0)


cdef object _NullContext = None
cdef list _FALSES = None
cdef object _object_new = object.__new__


def init_record(fn_globals, unalias, format_stack, NullContext, list falses,
                inference_version):
    """Bind ``ctorch.autograd.function``'s helpers (called once, with ``init``)."""
    global _fn_globals, _unalias, _format_stack, _make_tensor, _NullContext, _FALSES
    global _inference_version
    _inference_version = inference_version
    _fn_globals = fn_globals
    _unalias = unalias
    _format_stack = format_stack
    _make_tensor = _Tensor._make
    _NullContext = NullContext
    _FALSES = falses


cdef inline object _null_ctx(Py_ssize_t n):
    ctx = _object_new(_NullContext)
    ctx.needs_input_grad = _FALSES[n] if n < len(_FALSES) else (False,) * n
    return ctx


cdef object _autocast_hook = None
cdef object _ndarray = np.ndarray


cdef object _out_meta(o):
    """(shape, dtype, array type) of an output, or None for a tensor without a dense array
    (a sparse tensor: its ``_a`` raises)."""
    try:
        a = o._a
        return (a.shape, a.dtype, type(a))
    except NotImplementedError:
        return None


def set_autocast_hook(hook) -> None:
    """``ctorch._autocast.function_hook`` while any autocast region is open, else None."""
    global _autocast_hook
    _autocast_hook = hook


cdef object _op_hook = None


def set_op_hook(hook) -> None:
    """``ctorch.profiler``'s recorder while a profiler records (else None): ``Function.apply``
    calls ``hook.op(cls, args, kwargs)`` (which runs ``apply_unhooked`` inside a range), and
    the backward loop brackets every node with ``hook.begin()`` / ``hook.end_node(t, node)``."""
    global _op_hook
    _op_hook = hook


def function_apply(cls, *args, **kwargs):
    """``Function.apply``: run ``forward`` with grad mode off; when grad mode is on and an
    input requires grad, on a new graph node (``apply_recording``), else on a
    ``NullContext`` (``mark_dirty`` still moves version counters). While an autocast region
    is open (in some thread), the autocast hook first casts the arguments per the op's
    policy. While a profiler records, the op runs inside the profiler's range."""
    if _op_hook is not None:
        return _op_hook.op(cls, args, kwargs)
    return _apply(cls, args, kwargs)


def apply_unhooked(cls, tuple args, dict kwargs):
    """``function_apply`` without the profiler hook (what the hook itself runs)."""
    return _apply(cls, args, kwargs)


cdef object _apply(cls, tuple args, dict kwargs):
    cdef object state = _state
    cdef object Tensor = _Tensor
    if _autocast_hook is not None:
        args = _autocast_hook(cls, args)
    if state.enabled:
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                return apply_recording(cls, args, kwargs)
        # grad mode on but nothing to record: forward still runs with grad mode off
        ctx = _null_ctx(len(args))
        state.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = True
    else:
        ctx = _null_ctx(len(args))
        outputs = cls.forward(ctx, *args, **kwargs)
    dirty = ctx._dirty
    if dirty:
        for d in dirty:
            d._vref[0] += 1
    if isinstance(outputs, tuple) or _is_in(outputs, args):
        return _unalias(outputs, args, dirty)
    return outputs


_INFERENCE_SAVE_MSG = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`."
)


cdef class SavedTensor:
    """A tensor saved for backward with the version it had (``ctx.save_for_backward``).
    An output of the node itself is kept as its array, not the tensor (the graph then holds
    no cycle node -> tensor -> node), and rebuilt by ``unpack``."""

    cdef public object tensor
    cdef public object array
    cdef public object version_ref
    cdef public object version
    cdef public bint is_output
    cdef public object output_nr
    cdef public bint rg

    def __init__(self, t, node):
        self.version_ref = t._vref
        if self.version_ref is _inference_version:
            raise RuntimeError(_INFERENCE_SAVE_MSG)
        self.version = self.version_ref[0]
        if t.grad_fn is node:
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
        t = _make_tensor(self.array)
        t._vref = self.version_ref
        if self.rg:
            t._rg = True
            t.grad_fn = node
            t._output_nr = self.output_nr
        return t


cdef inline object _edge(t):
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    acc = t._acc
    if acc is None:
        acc = t._acc = _AccumulateGrad(t)
    return (acc, 0)


cdef inline bint _is_in(o, tuple ts):
    for d in ts:
        if o is d:
            return True
    return False


# ---------------------------------------------------------------- saved-tensor hooks
# ``torch.autograd.graph.saved_tensors_hooks``: a per-thread stack of (pack_hook, unpack_hook)
# pairs, innermost on top (torch's SavedTensorDefaultHooks are thread-local: a new thread
# starts with none), and a per-thread "disabled" message (``disable_saved_tensors_hooks``).
# ``_hooks_on`` is non-None while any thread's stack is non-empty, so ``apply_recording`` pays
# one module-global read when no thread uses hooks. A thread that ends with hooks still
# pushed keeps ``_hooks_on`` set (correct, only slower: one thread-local read per node).
cdef object _hooks_tls = threading.local()
cdef object _hooks_lock = threading.Lock()
cdef Py_ssize_t _hooked_threads = 0


def push_saved_tensors_hooks(pack_hook, unpack_hook):
    """Make (pack_hook, unpack_hook) this thread's innermost saved-tensor hooks (torch's
    ``torch._C._autograd._push_saved_tensors_default_hooks``)."""
    global _hooks_on, _hooked_threads
    msg = getattr(_hooks_tls, "disabled", None)
    if msg is not None:
        raise RuntimeError(msg)
    st = getattr(_hooks_tls, "stack", None)
    if st is None:
        st = _hooks_tls.stack = []
    st.append((pack_hook, unpack_hook))
    if len(st) == 1:
        with _hooks_lock:
            _hooked_threads += 1
            _hooks_on = True


def pop_saved_tensors_hooks():
    """Remove this thread's innermost saved-tensor hooks."""
    global _hooks_on, _hooked_threads
    st = getattr(_hooks_tls, "stack", None)
    if not st:
        raise RuntimeError("pop_saved_tensors_hooks: this thread has no saved-tensor hooks")
    st.pop()
    if not st:
        with _hooks_lock:
            _hooked_threads -= 1
            _hooks_on = True if _hooked_threads else None


def current_saved_tensors_hooks():
    """This thread's innermost (pack_hook, unpack_hook), or None."""
    st = getattr(_hooks_tls, "stack", None)
    return st[len(st) - 1] if st else None


def saved_tensors_hooks_disabled_message():
    """The message ``disable_saved_tensors_hooks`` set in this thread, or None (enabled)."""
    return getattr(_hooks_tls, "disabled", None)


def disable_saved_tensors_hooks(message, bint fail_if_non_empty=True):
    """Refuse new saved-tensor hooks in this thread with ``RuntimeError(message)``; as torch's
    ``_saved_tensors_hooks_disable``, raises that error at once when hooks are already on
    (the message stays set: the caller restores it)."""
    _hooks_tls.disabled = message
    if fail_if_non_empty and getattr(_hooks_tls, "stack", None):
        raise RuntimeError(message)


def enable_saved_tensors_hooks():
    _hooks_tls.disabled = None


_PACK_INPLACE_MSG = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
    "pack hook cannot be modified by in-place operations as this can lead to unexpected "
    "side-effects. Please open an issue if you need to perform in-place operations on the "
    "input to a pack hook."
)


cdef object _unpacked(hook, packed):
    r = hook(packed)
    if not isinstance(r, _Tensor):
        raise TypeError(
            "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
            f"type {type(r).__name__}"
        )
    return r


cdef class PackedSaved:
    """A tensor saved while saved-tensor hooks were on: what the pack hook returned, the
    unpack hook (the pair on top when it was saved) and the tensor's place in the graph.
    ``unpack`` calls the unpack hook every time (torch: each ``ctx.saved_tensors``) and gives
    a new tensor over its data carrying the saved tensor's autograd identity (its node and
    output number, or a leaf's gradient accumulator), so double backward still reaches the
    graph. As torch, no version check: the hooks own the data."""

    cdef public object packed
    cdef public object unpack_hook
    cdef public object grad_fn
    cdef public object acc
    cdef public bint is_output
    cdef public Py_ssize_t output_nr
    cdef public bint rg

    def __init__(self, t, node, pack_hook, unpack_hook):
        vref = t._vref
        if vref is _inference_version:
            raise RuntimeError(_INFERENCE_SAVE_MSG)
        self.is_output = t.grad_fn is node
        self.rg = t._rg
        self.output_nr = t._output_nr
        if not self.is_output:
            self.grad_fn = t.grad_fn
            if self.grad_fn is None and self.rg:
                self.acc = _edge(t)[0]
        self.unpack_hook = unpack_hook
        v = vref[0]
        self.packed = pack_hook(t)
        if vref[0] != v:
            raise RuntimeError(_PACK_INPLACE_MSG)

    def unpack(self, node):
        r = _unpacked(self.unpack_hook, self.packed)
        if type(r) is _Tensor:
            t = _make_tensor(r._a)
            t._vref = r._vref
        else:  # a subclass (sparse, nested, Parameter): its own detach
            try:
                t = r.detach()
            except Exception:  # cannot be detached: as the hook returned it
                return r
        if self.rg:
            t._rg = True
            if self.is_output:
                t.grad_fn = node
                t._output_nr = self.output_nr
            elif self.grad_fn is not None:
                t.grad_fn = self.grad_fn
                t._output_nr = self.output_nr
            else:
                t._acc = self.acc
        return t


cdef class _PackedArray:
    """An array an op kept on its ctx (``ctx.idx = array``), packed: the pack hook sees it as
    a tensor over the array; ``unpack`` gives the unpack hook's tensor's array."""

    cdef public object packed
    cdef public object unpack_hook

    def __init__(self, a, pack_hook, unpack_hook):
        self.unpack_hook = unpack_hook
        self.packed = pack_hook(_make_tensor(a))

    def unpack(self, node):
        return _unpacked(self.unpack_hook, self.packed)._a


cdef class _PackedSeq:
    """A tuple or list on a ctx with arrays or tensors in it (``ctx.stats = (mean, rstd,
    eps)``): those packed one by one, the rest kept."""

    cdef public list items
    cdef public list mask
    cdef public bint is_list

    def unpack(self, node):
        out = [it.unpack(node) if m else it for it, m in zip(self.items, self.mask)]
        return out if self.is_list else tuple(out)


# the graph node's own attributes, never packed (``_dirty`` and ``_non_diff`` hold tensors)
cdef frozenset _NODE_FIELDS = frozenset([
    "needs_input_grad", "next_functions", "_to_save", "_saved", "_dirty", "_non_diff",
    "_materialize", "_out_meta", "_anomaly_trace", "_released", "_in_shapes", "_pre_hooks",
    "_hooks", "_half", "_metadata", "_ctx_packed", "_arg_pos",
])


cdef object _pack_value(v, node, pack_hook, unpack_hook):
    if isinstance(v, _Tensor):
        # plain dense tensors only: a subclass on a ctx (a sparse pattern without values)
        # may not survive the round trip; inference tensors are not saved_tensors either
        if type(v) is not _Tensor or v._vref is _inference_version:
            return None
        return PackedSaved(v, node, pack_hook, unpack_hook)
    if type(v) is _ndarray or (
        hasattr(v, "__cuda_array_interface__") and not isinstance(v, _Tensor)
    ):
        return _PackedArray(v, pack_hook, unpack_hook)
    return None


cdef object _save_packed(node, to_save, hooks):
    """``apply_recording``'s saving step while saved-tensor hooks are on: each tensor of
    ``save_for_backward`` through the pack hook (``PackedSaved``), then the arrays and tensors
    the op kept on its ctx, directly or in a tuple/list (ctorch's built-in ops keep some data
    that way, not through ``save_for_backward``): replaced by packed stand-ins that the
    backward loop unpacks before the node runs (``_unpack_ctx``). Data inside closures or
    deeper containers, and tensor subclasses (sparse, nested) kept on a ctx, are not
    reached."""
    global _ever_packed
    cdef _PackedSeq seq
    pack_hook, unpack_hook = hooks
    if to_save:
        node._saved = tuple([
            None if t is None else PackedSaved(t, node, pack_hook, unpack_hook)
            for t in to_save
        ])
        node._to_save = ()
    d = node.__dict__
    names = []
    for k, v in list(d.items()):
        if k in _NODE_FIELDS:
            continue
        p = _pack_value(v, node, pack_hook, unpack_hook)
        if p is None and (type(v) is tuple or type(v) is list):
            items = []
            mask = []
            for e in v:
                pe = _pack_value(e, node, pack_hook, unpack_hook)
                mask.append(pe is not None)
                items.append(e if pe is None else pe)
            if any(mask):
                seq = _PackedSeq()
                seq.items, seq.mask, seq.is_list = items, mask, type(v) is list
                p = seq
        if p is not None:
            d[k] = p
            names.append(k)
    if names:
        node._ctx_packed = tuple(names)
        _ever_packed = True


cdef dict _unpack_ctx(node):
    """Unpack the ctx attributes ``_save_packed`` packed (the unpack hook runs once per
    attribute per backward); returns the packed values, which the backward loop puts back."""
    d = node.__dict__
    packed = {}
    for k in node._ctx_packed:
        v = d.get(k)
        if isinstance(v, (PackedSaved, _PackedArray, _PackedSeq)):
            packed[k] = v
            d[k] = v.unpack(node)
    return packed


cdef tuple _tensor_grads(node, tuple gins, tuple ap):
    """The gradients of a node's tensor arguments (positions ``ap``): a user Function's
    gradient for a non-tensor argument must be None (torch's error)."""
    if node._user:
        for i in range(len(gins)):
            if gins[i] is not None and i not in ap:
                raise RuntimeError(
                    f"function {node.name()} returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Variable"
                )
    return tuple([gins[i] for i in ap])


def apply_recording(cls, tuple args, kwargs):
    """``Function.apply`` when grad mode is on and an input requires grad: run ``forward``
    with grad mode off on a new graph node (the ``ctx``), then connect its outputs."""
    cdef Py_ssize_t n = len(args), i
    cdef object Tensor = _Tensor
    cdef object state = _state
    cdef tuple outs
    node = cls._backward_cls()
    if n == 1:
        flags = _TRUE1  # apply only records when some input requires grad
    else:
        flags = tuple([isinstance(a, Tensor) and a._rg for a in args])
    node.needs_input_grad = flags
    state.enabled = False
    try:
        outputs = cls.forward(node, *args, **kwargs)
    finally:
        state.enabled = True
    dirty = tuple(node._dirty)
    non_diff = tuple(node._non_diff)
    if isinstance(outputs, tuple):
        outputs = _unalias(outputs, args, dirty)
        outs = tuple(outputs)
    else:
        if _is_in(outputs, args):
            outputs = _unalias(outputs, args, dirty)
        outs = (outputs,)
    if n == 1:
        node.next_functions = (_edge(args[0]),)
    else:
        # one edge per tensor argument, as torch's next_functions (a number, a callable or
        # None has none; the engine maps backward's per-argument results by ``_arg_pos``)
        pos = cls._edge_pos
        if pos is None:
            if node._user:  # a user Function: every tensor (torch's collect_next_edges)
                pos = [i for i in range(n) if isinstance(args[i], Tensor)]
            else:  # ctorch's ops: not integer/bool dense tensors (indices, targets, masks),
                # which torch's derivatives mark non-differentiable (a sparse or other
                # subclass keeps its edge)
                pos = [
                    i for i in range(n)
                    if isinstance(args[i], Tensor)
                    and (type(args[i]) is not Tensor or args[i]._a.dtype.kind in "fcV")
                ]
        if len(pos) < n:
            node._arg_pos = tuple(pos)
        else:
            pos = range(n)
        node.next_functions = tuple([_edge(args[i]) if flags[i] else _NO_EDGE for i in pos])
    if _fn_globals["_recording"] is not None:  # some thread collects nodes: is it this one?
        lst = state.recording
        if lst is not None:
            lst.append(node)
    if len(outs) > 1:
        # keep (shape, dtype, array type) only, not the arrays themselves
        node._out_meta = [_out_meta(o) if isinstance(o, Tensor) else None for o in outs]
    i = 0
    for o in outs:
        if isinstance(o, Tensor):
            if dirty and _is_in(o, dirty):
                if o.grad_fn is None and o._rg:
                    raise RuntimeError(
                        "a leaf Variable that requires grad is being used in an in-place "
                        "operation."
                    )
                o._vref[0] += 1
            a = o._a
            # NumPy arrays: the dtype kind decides; others (CuPy, a sparse tensor's stand-in
            # that raises on any use) ask the tensor
            kind = (<object>a).dtype.kind if type(a) is _ndarray else ""
            if (non_diff and _is_in(o, non_diff)) or (
                kind != "f" and kind != "c" and not (o.is_floating_point() or o.is_complex())
            ):
                o._rg = False
            else:
                o._rg = True
                o.grad_fn = node
                o._output_nr = i
        i += 1
    if state.anomaly:
        # the stack up to Function.apply (this function adds no Python frame)
        node._anomaly_trace = "".join(_format_stack())
    to_save = node._to_save
    if _hooks_on is not None:  # some thread has saved-tensor hooks: does this one?
        hooks = current_saved_tensors_hooks()
        if hooks is not None:
            _save_packed(node, to_save, hooks)
            return outputs
    if to_save:
        node._saved = tuple([None if t is None else SavedTensor(t, node) for t in to_save])
        node._to_save = ()
    return outputs


def saved_arrays(node):
    """The arrays of ``node``'s saved tensors, version-checked as ``ctx.saved_tensors``
    (``FunctionCtx._saved_arrays``)."""
    cdef SavedTensor s
    saved = node._saved
    if saved is None:
        raise RuntimeError(_freed_msg)
    out = []
    for o in saved:
        if o is None:
            out.append(None)
            continue
        if type(o) is not SavedTensor:  # a wrapper with its own unpack (ctorch._half)
            t = o.unpack(node)
            out.append(None if t is None else t._a)
            continue
        s = <SavedTensor>o
        if s.version_ref[0] != s.version:
            s.unpack(node)  # raises the in-place modification error
        if s.is_output:
            out.append(s.array)
        else:
            out.append(s.tensor._a)
    return tuple(out)


def saved_tensors(node):
    """``ctx.saved_tensors`` (``FunctionCtx.saved_tensors``)."""
    saved = node._saved
    if saved is None:
        raise RuntimeError(_freed_msg)
    # an entry may be a wrapper with its own unpack (ctorch._half's widening view)
    return tuple([None if s is None else s.unpack(node) for s in saved])
