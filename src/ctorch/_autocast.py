"""The autocast mechanism (``ctorch.amp`` is its public face).

State is per thread and per device type (``"cpu"``, ``"cuda"``): enabled, the lower-precision
dtype, cache on/off, and a nesting depth. Ops take part in two ways:

* a ``Function`` subclass with a policy (``cls._ac = {"cpu": "lower", ...}``): ``Function.apply``
  calls :func:`function_hook` first, but only while some autocast region is open in some
  thread (``autograd.function._autocast`` is None otherwise: one global read per op);
* a public function (torch's composite ops: ``addmm``, ``cross_entropy``, ...): wrapped in
  place (every module global and Tensor attribute that names it is rebound), the wrapper
  tests the same global first.

Policies follow torch's ``autocast_mode.cpp``: ``lower`` casts float32 (not float64) tensors
to the autocast dtype, ``fp32`` casts 16-bit floating tensors to float32, ``promote`` casts
every floating tensor to the widest floating type among them; ``fp32_opt`` (CUDA ``sum``,
``softmax``, ...) runs in float32 when the input is 16-bit. While a listed op runs, autocast
is suspended in that thread (torch redispatches below its Autocast key), so the ops it calls
are not cast again. Casts go through ``Tensor.to`` and so are differentiable: gradients reach
float32 parameters in float32. With the cache on, the 16-bit copy of a float32 leaf that
requires grad is made once per outermost autocast region.
"""

from __future__ import annotations

import functools
import sys
import threading

import numpy as np

from ._tensor import Tensor

_F32 = np.dtype(np.float32)


class _DevState:
    __slots__ = ("enabled", "dtype")

    def __init__(self, dtype) -> None:
        self.enabled = False
        self.dtype = dtype


class _Tls(threading.local):
    def __init__(self) -> None:
        from . import _dtype as D

        self.dev = {
            "cpu": _DevState(D.bfloat16),
            "cuda": _DevState(D.float16),
            "xpu": _DevState(D.float16),  # torch.autocast("xpu") works on a CPU build
        }
        self.suspended = 0
        self.nesting = 0
        self.cache_enabled = True
        self.cache: dict = {}


_tls = _Tls()
_active = 0  # enabled autocast regions open, all threads together
_lock = threading.Lock()


def state(device_type: str) -> _DevState:
    d = _tls.dev.get(device_type)
    if d is None:
        d = _tls.dev[device_type] = _DevState(None)
    return d


def set_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on/off for ``device_type`` in this thread (keeps the global count)."""
    global _active
    d = state(device_type)
    enabled = bool(enabled)
    if d.enabled == enabled:
        return
    d.enabled = enabled
    with _lock:
        _active += 1 if enabled else -1
        _publish()


def _publish() -> None:
    from ._core import _autograd
    from .autograd import function

    if _active > 0:
        _install()
        function._autocast = function_hook
        _autograd.set_autocast_hook(function_hook)
        _mod_state[0] = True
    else:
        from . import profiler

        # a recording profiler keeps the slot non-None (the fast paths then go through
        # Function.apply, where ops are recorded)
        function._autocast = profiler._fast_path_block if profiler._collectors else None
        _autograd.set_autocast_hook(None)
        _mod_state[0] = False


_mod_state = [False]  # [some autocast region is open]: read by the public-function wrappers


def clear_cache() -> None:
    _tls.cache.clear()


# ------------------------------------------------------------------ casting
def _dense(a) -> bool:
    return isinstance(a, Tensor) and not a.is_sparse


def _device_type(args, kwargs=None) -> str | None:
    for a in args:
        if _dense(a):
            return "cpu" if type(a._a) is np.ndarray else "cuda"
        if isinstance(a, (list, tuple)):
            for b in a:
                if _dense(b):
                    return "cpu" if type(b._a) is np.ndarray else "cuda"
    if kwargs:
        return _device_type(tuple(kwargs.values()))
    return None


def _eligible(a) -> bool:
    # floating, not float64 (torch's is_eligible)
    if not _dense(a):
        return False
    k = a._a.dtype
    return k.kind in "fV" and k.itemsize < 8


def _cast(a, to, ds):
    """``a`` as dtype ``to`` (a ctorch dtype) when eligible; cached for float32 leaves."""
    if not _eligible(a):
        return a
    if a.dtype is to:
        return a
    if (
        _tls.cache_enabled
        and to is ds.dtype
        and a._a.dtype == _F32
        and a.requires_grad
        and a.is_leaf
    ):
        key = id(a)
        hit = _tls.cache.get(key)
        if hit is not None and hit[0] is a and hit[1] == a._vref[0]:
            return hit[2]
        r = a.to(to)
        _tls.cache[key] = (a, a._vref[0], r)
        return r
    return a.to(to)


def _map(args, f):
    out = []
    for a in args:
        if isinstance(a, (list, tuple)) and a and any(_dense(b) for b in a):
            out.append(type(a)(f(b) for b in a))
        else:
            out.append(f(a))
    return tuple(out)


def _widest(args, lower):
    """torch's autocast ``promote_type``: float32 when any eligible input is float32, else
    the autocast dtype; float64 inputs are left alone; another 16-bit type is an error."""
    from . import _dtype as D

    cur = lower
    for a in args:
        items = a if isinstance(a, (list, tuple)) else (a,)
        for b in items:
            if not _eligible(b):
                continue
            nxt = b.dtype
            if cur is D.float32 or nxt is D.float32:
                cur = D.float32
            elif cur is not lower or nxt is not lower:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return cur


def cast_args(policy: str, ds: _DevState, args, kwargs):

    if policy == "lower":
        to = ds.dtype

        def f(a):
            return _cast(a, to, ds)
    elif policy in ("fp32", "fp32_opt"):

        def f(a):
            return a.float() if _eligible(a) and a._a.dtype != _F32 else a
    elif policy == "promote":
        to = _widest(tuple(args) + tuple(kwargs.values() if kwargs else ()), ds.dtype)

        def f(a):
            return _cast(a, to, ds)
    else:  # "banned"
        raise RuntimeError(_BANNED)
    args = _map(args, f)
    if kwargs:
        kwargs = dict(zip(kwargs, _map(tuple(kwargs.values()), f), strict=True))
    return args, kwargs


_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional."
    "binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss.  "
    "binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast."
)


def function_hook(cls, args):
    """``Function.apply``'s hook while autocast is open somewhere: the cast arguments."""
    pol = cls._ac
    if pol is None:
        return args
    t = _tls
    if t.suspended:
        return args
    dev = _device_type(args)
    if dev is None:
        return args
    p = pol.get(dev)
    if p is None:
        return args
    ds = t.dev.get(dev)
    if ds is None or not ds.enabled:
        return args
    return cast_args(p, ds, args, None)[0]


def wrap_public(fn, policies: dict):
    """``fn`` run under the autocast ``policies`` ({device_type: policy})."""

    @functools.wraps(fn)
    def autocast_wrapper(*args, **kwargs):
        if not _mod_state[0]:
            return fn(*args, **kwargs)
        t = _tls
        if t.suspended:
            return fn(*args, **kwargs)
        dev = _device_type(args, kwargs)
        p = policies.get(dev)
        ds = t.dev.get(dev) if p is not None else None
        if ds is None or not ds.enabled:
            return fn(*args, **kwargs)
        args, kwargs = cast_args(p, ds, args, kwargs)
        t.suspended += 1
        try:
            return fn(*args, **kwargs)
        finally:
            t.suspended -= 1

    autocast_wrapper._ac_wrapped = fn
    return autocast_wrapper


# ------------------------------------------------------------------ installing the op lists
_installed_mods: set = set()
_nmods = 0
_wrapped: dict = {}  # id(original) -> wrapper


def _install() -> None:
    """Give the listed Functions their policies and wrap the listed public functions in
    every loaded ctorch module (re-run when more ctorch modules were imported since)."""
    global _nmods
    if len(sys.modules) == _nmods:  # nothing imported since the last install
        return
    _nmods = len(sys.modules)
    mods = [m for n, m in list(sys.modules.items()) if n.startswith("ctorch") and m is not None]
    if len(mods) == len(_installed_mods):
        return
    from .amp import _lists

    _lists.set_function_policies()
    targets = _lists.public_targets()  # [(module, name, policies)]
    tf = sys.modules.get("ctorch._torch_function")
    dispatcher = tf._Dispatcher if tf is not None else ()
    for mod, name, pols in targets:
        fn = getattr(mod, name, None)
        if fn is None or getattr(fn, "_ac_wrapped", None) is not None:
            continue
        disp = None
        if isinstance(fn, dispatcher):
            # a __torch_function__ dispatcher (a Tensor subclass was defined first): wrap the
            # function it stands for, so that the Tensor method bound to that same function
            # and the dispatcher's own call both get the policy
            disp, fn = fn, fn.__wrapped__
        w = _wrapped.get(id(fn))
        if w is None:
            w = _wrapped[id(fn)] = (fn, wrap_public(fn, pols))
        _rebind(fn, w[1], mods)
        if disp is not None:
            disp.__wrapped__ = w[1]
    # modules imported after the first wrap: point their names at the wrappers too
    for fn, w in list(_wrapped.values()):
        _rebind(fn, w, mods)
    _installed_mods.clear()
    _installed_mods.update(id(m) for m in mods)


def _rebind(orig, new, mods) -> None:
    """Point every module global, Tensor attribute and class-level staticmethod (e.g. the
    ``_conv = staticmethod(conv2d)`` of nn's conv modules) that is ``orig`` at ``new``."""
    for m in mods:
        d = getattr(m, "__dict__", None)
        if not d:
            continue
        for k, v in list(d.items()):
            if v is orig:
                setattr(m, k, new)
            elif isinstance(v, type) and getattr(v, "__module__", "").startswith("ctorch"):
                for ck, cv in list(vars(v).items()):
                    if isinstance(cv, staticmethod) and cv.__func__ is orig:
                        setattr(v, ck, staticmethod(new))
    for k, v in list(vars(Tensor).items()):
        if v is orig:
            setattr(Tensor, k, new)
