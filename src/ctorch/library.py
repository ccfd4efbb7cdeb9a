"""``torch.library``: custom operators written in Python.

``custom_op("mylib::foo", mutates_args=())`` turns a function into an operator callable as
itself and as ``ctorch.ops.mylib.foo`` (also ``.default``). Kernels are picked by the device
type of the first tensor argument (``register_kernel``), falling back to the function itself;
``register_autograd(backward, setup_context=...)`` makes the op differentiable through
ctorch's autograd: the call runs as a ``ctorch.autograd.Function`` whose ``forward`` runs the
kernel under no_grad, whose ``setup_context(ctx, inputs, output)`` is the user's (so
``ctx.save_for_backward`` works as torch documents) and whose ``backward(ctx, *grads)`` is the
user's, returning one gradient per input. As in torch, kernels run below autograd (grad mode
off, inputs detached, so ``x.numpy()`` works inside), inputs named in ``mutates_args`` get their
version counters moved, and without a registered formula an output that needs a gradient gets a
node whose backward raises torch's "no autograd formula was registered" error. A kernel given
with the ``CompositeImplicitAutograd``/``Autograd`` key is called as is (autograd traces it).

``register_fake`` records the fake ("meta") implementation; ctorch has no FakeTensor mode, so
it is used only by ``opcheck`` (which checks that it returns the real output's shapes and
dtypes). ``Library(ns, kind)`` with ``define``/``impl`` and the functional ``define``/``impl``
cover the older registration style; dispatch keys map to device types (``CPU``, ``CUDA``),
``Autograd*``/``CompositeImplicitAutograd`` (the kernel is called directly and handles
autograd itself), ``CompositeExplicitAutograd``/empty (the default kernel) and ``Meta`` (the
fake). ``opcheck`` runs the op, compares the fake implementation's metadata and checks the
registered backward against float64 finite differences (``ctorch.autograd.gradcheck``); torch's
``test_aot_dispatch_dynamic`` needs AOTAutograd, which ctorch does not have.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "Library",
    "custom_op",
    "CustomOpDef",
    "define",
    "impl",
    "register_kernel",
    "register_fake",
    "register_autograd",
    "impl_abstract",
    "opcheck",
    "infer_schema",
    "get_ctx",
]

_namespaces: dict[str, Any] = {}  # ns -> ctorch.ops._OpNamespace (created on first use)


def _ns(ns: str):
    from .ops import _OpNamespace

    n = _namespaces.get(ns)
    if n is None:
        n = _namespaces[ns] = _OpNamespace(ns)
    return n


def _split_qualname(qualname: str) -> tuple[str, str]:
    if not isinstance(qualname, str) or "::" not in qualname:
        raise ValueError(
            f"Expected there to be a namespace in {qualname}, i.e. The operator name should look "
            "something like ns::foo"
        )
    ns, name = qualname.split("::", 1)
    if "." in name:
        name = name.split(".", 1)[0]  # an overload name: ctorch keeps one overload per op
    if not ns.isidentifier() or not name.isidentifier():
        raise ValueError(f"The operator name {qualname!r} is not a valid 'ns::name'")
    return ns, name


# ---------------------------------------------------------------- schema parsing / inference


def _parse_default(s: str) -> Any:
    s = s.strip()
    if s in ("None",):
        return None
    if s in ("True", "False"):
        return s == "True"
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return [_parse_default(p) for p in inner.split(",")] if inner else []
    if s.startswith(("'", '"')):
        return s[1:-1]
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def _parse_schema(schema: str) -> tuple[str | None, list[tuple[str, str, Any, bool]], str]:
    """``[name](args) -> ret``: (name or None, [(type, name, default, kwonly)], ret)."""
    m = re.fullmatch(r"\s*([\w.]*)\s*\((.*)\)\s*->\s*(.+?)\s*", schema, re.S)
    if m is None:
        raise ValueError(f"torch.library: cannot parse the schema {schema!r}")
    name, args, ret = m.group(1) or None, m.group(2), m.group(3)
    params: list[tuple[str, str, Any, bool]] = []
    depth, cur, parts = 0, "", []
    for ch in args:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    kwonly = False
    for p in parts:
        p = p.strip()
        if p == "*":
            kwonly = True
            continue
        default: Any = inspect.Parameter.empty
        if "=" in p:
            p, d = p.split("=", 1)
            default = _parse_default(d)
        tokens = p.split()
        if len(tokens) < 2:
            raise ValueError(f"torch.library: cannot parse the argument {p!r} of {schema!r}")
        params.append((" ".join(tokens[:-1]), tokens[-1], default, kwonly))
    return name, params, ret


_TYPE_NAMES = {int: "SymInt", float: "float", bool: "bool", str: "str"}


def _type_str(ann: Any, where: str) -> str:
    from ._tensor import Tensor

    if ann is Tensor:
        return "Tensor"
    if ann in _TYPE_NAMES:
        return _TYPE_NAMES[ann]
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Union or (
        origin is not None and str(origin) == "<class 'types.UnionType'>"
    ):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return _type_str(rest[0], where) + "?"
    if origin in (list, Sequence, tuple, typing.List) or (  # noqa: UP006
        origin is not None and getattr(origin, "__name__", "") in ("Sequence", "list")
    ):
        if args and args[-1] is not Ellipsis or len(args) == 2:
            return _type_str(args[0], where) + "[]"
    if ann is type(None) or ann is None:
        return "()"
    raise ValueError(f"infer_schema(func): {where} has unsupported type {ann!r}")


def infer_schema(
    prototype_function: Callable,
    /,
    *,
    mutates_args: str | Iterable[str],
    op_name: str | None = None,
) -> str:
    """torch's schema string for a type-annotated function (``(Tensor x, SymInt n) -> Tensor``)."""
    sig = inspect.signature(prototype_function)
    try:
        hints = typing.get_type_hints(prototype_function)
    except Exception:
        hints = {}
    mutated = (
        set()
        if mutates_args == "unknown"
        else {mutates_args}
        if isinstance(mutates_args, str)
        else set(mutates_args)
    )
    out, kwonly_seen, idx = [], False, 0
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"infer_schema(func): Parameters of kind {p.kind} are not supported")
        if p.name not in hints:
            raise ValueError(
                f"infer_schema(func): Parameter {p.name} must have a type annotation. Got func "
                f"with signature {sig})"
            )
        if p.kind == p.KEYWORD_ONLY and not kwonly_seen:
            out.append("*")
            kwonly_seen = True
        t = _type_str(hints[p.name], f"Parameter {p.name}")
        if p.name in mutated:
            t = t.replace("Tensor", f"Tensor(a{idx}!)", 1)
            idx += 1
        s = f"{t} {p.name}"
        if p.default is not p.empty:
            s += f"={p.default!r}" if not isinstance(p.default, str) else f'="{p.default}"'
        out.append(s)
    unknown = mutated - set(sig.parameters)
    if unknown:
        raise ValueError(
            f"infer_schema(func): {sorted(unknown)} in mutates_args were not found in the signature"
        )
    ret = hints.get("return", inspect.Parameter.empty)
    if ret is inspect.Parameter.empty:
        raise ValueError("infer_schema(func): No return type annotation was provided.")
    if typing.get_origin(ret) is tuple:
        rs = "(" + ", ".join(_type_str(a, "the return") for a in typing.get_args(ret)) + ")"
    else:
        rs = _type_str(ret, "the return")
    return f"{op_name or ''}({', '.join(out)}) -> {rs}"


# ---------------------------------------------------------------- the operator itself


_DEVICE_KEYS = {
    "cpu": "cpu",
    "cuda": "cuda",
    "meta": "meta",
    "": None,
    "default": None,
    "compositeexplicitautograd": None,
    "compositeimplicitautograd": "autograd",
    "autograd": "autograd",
    "autogradcpu": "autograd",
    "autogradcuda": "autograd",
}


def _device_key(key: str | None) -> str | None:
    if key is None:
        return None
    k = str(key).lower()
    if k not in _DEVICE_KEYS:
        raise ValueError(f"torch.library: unknown device type / dispatch key {key!r}")
    return _DEVICE_KEYS[k]


class _OpImpl:
    """What one operator ``ns::name`` knows: its schema, kernels, fake and autograd formula."""

    def __init__(self, ns: str, name: str, schema: str, params: list, ret: str) -> None:
        self.ns, self.name, self.schema = ns, name, schema
        self.params = params  # [(type, name, default, kwonly)]
        self.ret = ret
        self.kernels: dict[str | None, Callable] = {}
        self.mutated = frozenset(p[1] for p in params if "!" in p[0])
        self.fake: Callable | None = None
        self.backward: Callable | None = None
        self.setup_context: Callable | None = None
        self._fn_cls = None

    @property
    def qualname(self) -> str:
        return f"{self.ns}::{self.name}"

    def bind(self, args: tuple, kwargs: dict) -> tuple[list, int]:
        """All arguments in schema order (defaults filled) and the positional count."""
        vals: list[Any] = []
        names = [p[1] for p in self.params]
        n_pos = sum(1 for p in self.params if not p[3])
        if len(args) > n_pos:
            raise TypeError(
                f"{self.qualname}() takes {n_pos} positional arguments but {len(args)} were given"
            )
        for k in kwargs:
            if k not in names:
                raise RuntimeError(
                    f"Unknown keyword argument {k!r} for operator {self.qualname!r}. Schema: "
                    f"{self.ns}::{self.schema}"
                )
        for i, (_t, nm, default, _kw) in enumerate(self.params):
            if i < len(args):
                if nm in kwargs:
                    raise TypeError(f"{self.qualname}() got multiple values for argument {nm!r}")
                vals.append(args[i])
            elif nm in kwargs:
                vals.append(kwargs[nm])
            elif default is not inspect.Parameter.empty:
                vals.append(default)
            else:
                raise TypeError(f"{self.qualname}() missing required argument {nm!r}")
        return vals, n_pos

    def _kernel_for(self, vals: list) -> Callable:
        from ._tensor import Tensor

        dev = None
        for v in vals:
            if isinstance(v, Tensor):
                dev = v.device.type
                break
            if isinstance(v, (list, tuple)) and v and isinstance(v[0], Tensor):
                dev = v[0].device.type
                break
        k = self.kernels.get(dev)
        if k is None and dev == "meta":
            k = self.fake  # torch: meta tensors run the fake (register_fake) implementation
        if k is None:
            k = self.kernels.get(None)
        if k is None:
            raise NotImplementedError(
                f"{self.qualname}: no kernel registered for device type {dev!r} (registered: "
                f"{sorted(str(d) for d in self.kernels)})"
            )
        return k

    def call_kernel(self, vals: list, n_pos: int) -> Any:
        import ctorch

        from ._tensor import Tensor

        k = self._kernel_for(vals)
        # as in torch, the kernel runs below autograd: grad mode off, and it may read its
        # inputs through NumPy (``x.numpy()``) even when the caller's require grad
        kv = [
            v.detach()
            if isinstance(v, Tensor)
            else type(v)(t.detach() if isinstance(t, Tensor) else t for t in v)
            if isinstance(v, (list, tuple))
            else v
            for v in vals
        ]
        kw = {p[1]: v for p, v in zip(self.params[n_pos:], kv[n_pos:], strict=True)}
        with ctorch.no_grad():
            out = k(*kv[:n_pos], **kw)
        if self.mutated:
            # the kernel may have written through NumPy: move the version counters of the
            # declared-mutable inputs, so autograd sees the in-place change (as torch does)
            for p, v in zip(self.params, vals, strict=True):
                if p[1] in self.mutated:
                    for t in v if isinstance(v, (list, tuple)) else (v,):
                        if isinstance(t, Tensor):
                            t._bump()
        return out

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        direct = self.kernels.get("autograd")
        if direct is not None:
            return direct(*args, **kwargs)
        vals, n_pos = self.bind(args, kwargs)
        from .autograd import grad_mode

        if grad_mode.is_grad_enabled() and _any_requires_grad(vals):
            # with no formula registered the outputs still get a node, whose backward raises
            # torch's error (as torch's custom ops do)
            return self._autograd_fn().apply(n_pos, *vals)
        return self.call_kernel(vals, n_pos)

    def _autograd_fn(self):
        if self._fn_cls is None:
            from .autograd.function import Function

            op = self

            class _CustomOpFunction(Function):
                _node_name = f"{self.ns}_{self.name}Backward"  # ctorch names a node's class

                @staticmethod
                def forward(ctx, n_pos, *vals):
                    out = op.call_kernel(list(vals), n_pos)
                    if op.setup_context is not None and op.backward is not None:
                        op.setup_context(ctx, tuple(vals), out)
                    ctx._custom_n = len(vals)
                    return out

                @staticmethod
                def backward(ctx, *grads):
                    if op.backward is None:
                        raise RuntimeError(
                            f"Trying to backward through {op.ns}.{op.name}.default but no "
                            "autograd formula was registered. Please use register_autograd to "
                            "add one."
                        )
                    g = op.backward(ctx, *grads)
                    if not isinstance(g, (tuple, list)):
                        g = (g,)
                    if len(g) != ctx._custom_n:
                        raise RuntimeError(
                            f"{op.qualname}: the backward registered with register_autograd "
                            f"returned {len(g)} gradients, expected one per input "
                            f"({ctx._custom_n})"
                        )
                    return (None, *g)

            _CustomOpFunction.__qualname__ = _CustomOpFunction.__name__ = f"{self.name}"
            self._fn_cls = _CustomOpFunction
        return self._fn_cls


def _any_requires_grad(vals: list) -> bool:
    from ._tensor import Tensor

    for v in vals:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and any(
            isinstance(t, Tensor) and t.requires_grad for t in v
        ):
            return True
    return False


def _define(qualname: str, schema: str) -> _OpImpl:
    ns, name = _split_qualname(qualname)
    sname, params, ret = _parse_schema(schema)
    namespace = _ns(ns)
    if name in namespace._ops:
        raise RuntimeError(
            f"Tried to register an operator ({ns}::{name}) with the same name and overload name "
            "multiple times."
        )
    impl_ = _OpImpl(ns, name, schema if sname else name + schema.strip(), params, ret)
    namespace._add(name, impl_)
    return impl_


def _lookup(op: Any) -> _OpImpl:
    from .ops import _OpOverload, _OpPacket

    if isinstance(op, CustomOpDef):
        return op._impl
    if isinstance(op, (_OpPacket, _OpOverload)) and isinstance(op._impl, _OpImpl):
        return op._impl
    if isinstance(op, str):
        ns, name = _split_qualname(op)
        impl_ = _ns(ns)._ops.get(name)
        if isinstance(impl_, _OpImpl):
            return impl_
        if ns == "aten":
            raise NotImplementedError(
                f"torch.library: ctorch cannot register kernels for its built-in operator "
                f"aten::{name} (ctorch.ops.aten maps to its Python functions; there is no "
                "dispatcher to override)"
            )
        raise RuntimeError(
            f"torch.library: the operator {ns}::{name} does not exist; define it first"
        )
    raise TypeError(
        f"torch.library: expected an operator name 'ns::name' or an op, got {type(op).__name__}"
    )


class CustomOpDef:
    """What ``custom_op`` returns: callable like the function, with ``register_*`` methods."""

    def __init__(self, impl_: _OpImpl, fn: Callable) -> None:
        self._impl = impl_
        self._init_fn = fn
        self.__name__ = fn.__name__
        self.__qualname__ = getattr(fn, "__qualname__", fn.__name__)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def _qualname(self) -> str:
        return self._impl.qualname

    @property
    def _name(self) -> str:
        return self._impl.name

    @property
    def _namespace(self) -> str:
        return self._impl.ns

    @property
    def _opoverload(self):
        return getattr(_ns(self._impl.ns), self._impl.name).default

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._impl.qualname})>"

    def register_kernel(
        self, device_types: str | Sequence[str] | None, fn: Callable | None = None, /
    ):
        def reg(f: Callable) -> Callable:
            types = (
                [device_types]
                if device_types is None or isinstance(device_types, str)
                else device_types
            )
            for d in types:
                self._impl.kernels[_device_key(d)] = f
            return f

        return reg(fn) if fn is not None else reg

    def register_fake(self, fn: Callable, /) -> Callable:
        self._impl.fake = fn
        return fn

    def register_autograd(
        self, backward: Callable, /, *, setup_context: Callable | None = None
    ) -> None:
        self._impl.backward = backward
        self._impl.setup_context = setup_context

    def register_torch_dispatch(self, torch_dispatch_class: Any, fn: Callable | None = None, /):
        raise NotImplementedError(
            "CustomOpDef.register_torch_dispatch: ctorch has no __torch_dispatch__"
        )

    def register_vmap(self, fn: Callable | None = None, /):
        raise NotImplementedError(
            "CustomOpDef.register_vmap: ctorch's vmap runs ops per sample; no rule needed"
        )


def custom_op(
    name: str,
    fn: Callable | None = None,
    /,
    *,
    mutates_args: str | Iterable[str],
    device_types: str | Sequence[str] | None = None,
    schema: str | None = None,
    tags: Any = None,
) -> Any:
    """Wrap a function into a custom operator ``ns::name`` (decorator or direct call)."""

    def inner(f: Callable) -> CustomOpDef:
        s = schema if schema is not None else infer_schema(f, mutates_args=mutates_args)
        ns, opname = _split_qualname(name)
        impl_ = _define(f"{ns}::{opname}", s)
        types = (
            [device_types]
            if device_types is None or isinstance(device_types, str)
            else device_types
        )
        for d in types:
            impl_.kernels[_device_key(d)] = f
        return CustomOpDef(impl_, f)

    return inner(fn) if fn is not None else inner


def define(qualname: str, schema: str, *, lib: Library | None = None, tags: Any = ()) -> None:
    """Define ``ns::name`` with ``schema`` (``"(Tensor x) -> Tensor"``); implement it with
    ``impl``/``register_kernel``."""
    _define(qualname, schema)


def impl(
    qualname: Any,
    types: Any = None,
    func: Callable | None = None,
    *,
    lib: Library | None = None,
    **kw: Any,
):
    """Register a kernel: ``impl("ns::name", "cpu", fn)`` (or as a decorator), or the older
    ``impl(lib, "name", "CPU")`` decorator."""
    if isinstance(qualname, Library):
        lib_, name, key = qualname, types, func if func is not None else kw.get("dispatch_key", "")

        def reg_lib(f: Callable) -> Callable:
            lib_.impl(name, f, key)
            return f

        return reg_lib

    def reg(f: Callable) -> Callable:
        impl_ = _lookup(qualname)
        ts = [types] if types is None or isinstance(types, str) else types
        for t in ts:
            k = _device_key(t)
            if k == "meta":
                impl_.fake = f
            else:
                impl_.kernels[k] = f
        return f

    return reg(func) if func is not None else reg


def register_kernel(
    op: Any,
    device_types: str | Sequence[str] | None,
    func: Callable | None = None,
    /,
    *,
    lib: Any = None,
):
    """Register ``func`` as the op's kernel for ``device_types`` (None: the default)."""

    def reg(f: Callable) -> Callable:
        impl_ = _lookup(op)
        ts = (
            [device_types]
            if device_types is None or isinstance(device_types, str)
            else device_types
        )
        for t in ts:
            impl_.kernels[_device_key(t)] = f
        return f

    return reg(func) if func is not None else reg


def register_fake(
    op: Any,
    func: Callable | None = None,
    /,
    *,
    lib: Any = None,
    _stacklevel: int = 1,
    allow_override: bool = True,
):
    """Register the op's fake implementation (used by ``opcheck``; ctorch has no FakeTensor)."""

    def reg(f: Callable) -> Callable:
        _lookup(op).fake = f
        return f

    return reg(func) if func is not None else reg


impl_abstract = register_fake


def register_autograd(
    op: Any, backward: Callable, /, *, setup_context: Callable | None = None, lib: Any = None
) -> None:
    """Make the op differentiable: ``backward(ctx, *grads)`` returns one gradient per input;
    ``setup_context(ctx, inputs, output)`` saves what backward needs."""
    impl_ = _lookup(op)
    impl_.backward = backward
    impl_.setup_context = setup_context


def get_ctx() -> Any:
    raise NotImplementedError(
        "torch.library.get_ctx: ctorch has no FakeTensor mode (fake impls run only in opcheck)"
    )


class Library:
    """``Library(ns, kind)``: ``kind`` is ``"DEF"`` (the namespace is new here), ``"IMPL"`` or
    ``"FRAGMENT"``; ``define(schema)`` declares ops, ``impl(name, fn, dispatch_key)`` gives
    kernels."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = "") -> None:
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in ("prim",) and kind in ("DEF",):
            raise ValueError(
                f"{ns} is a reserved namespace. Please try creating a library with another name."
            )
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs: set[str] = set()

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags: Any = ()) -> str:
        name, _params, _ret = _parse_schema(schema)
        if not name:
            raise ValueError(f"Library.define: the schema {schema!r} names no operator")
        base = name.split(".", 1)[0]
        _define(f"{self.ns}::{base}", schema)
        self._op_defs.add(base)
        return base

    def impl(
        self,
        op_name: Any,
        fn: Callable,
        dispatch_key: str = "",
        *,
        with_keyset: bool = False,
        allow_override: bool = False,
    ) -> None:
        if with_keyset:
            raise NotImplementedError(
                "Library.impl(with_keyset=True): ctorch has no dispatch key sets"
            )
        if isinstance(op_name, str):
            qual = op_name if "::" in op_name else f"{self.ns}::{op_name}"
        else:
            qual = op_name
        impl_ = _lookup(qual)
        k = _device_key(dispatch_key or self.dispatch_key)
        if k == "meta":
            impl_.fake = fn
        else:
            impl_.kernels[k] = fn

    def _register_fake(self, op_name: str, fn: Callable, _stacklevel: int = 1, **kw: Any) -> None:
        _lookup(f"{self.ns}::{op_name}").fake = fn

    def fallback(self, fn: Callable, dispatch_key: str = "", *, with_keyset: bool = False) -> None:
        raise NotImplementedError("Library.fallback: ctorch has no dispatcher to fall back through")

    def _destroy(self) -> None:
        ns = _namespaces.get(self.ns)
        if ns is not None:
            for name in self._op_defs:
                ns._remove(name)
        self._op_defs.clear()


# ---------------------------------------------------------------- opcheck


class OpCheckError(Exception):
    pass


def opcheck(
    op: Any,
    args: tuple,
    kwargs: dict | None = None,
    *,
    test_utils: str | Sequence[str] = (
        "test_schema",
        "test_autograd_registration",
        "test_faketensor",
        "test_aot_dispatch_dynamic",
    ),
    raise_exception: bool = True,
    atol: float | None = None,
    rtol: float | None = None,
) -> dict[str, str]:
    """Check a custom op's registrations on sample arguments.

    ``test_schema``: the op runs, and inputs not named mutable keep their values.
    ``test_faketensor``: the fake implementation (if any) returns the real output's shapes and
    dtypes. ``test_autograd_registration``: when a backward is registered and an input requires
    grad, the op's gradients match float64 finite differences (``gradcheck``).
    ``test_aot_dispatch_dynamic`` (torch's AOTAutograd check) reports ``SKIPPED``.
    """
    import ctorch

    from ._tensor import Tensor

    impl_ = _lookup(op)
    kwargs = dict(kwargs or {})
    tests = [test_utils] if isinstance(test_utils, str) else list(test_utils)
    results: dict[str, str] = {}

    def flat(o: Any) -> list:
        if isinstance(o, Tensor):
            return [o]
        if isinstance(o, (list, tuple)):
            return [t for x in o for t in flat(x)]
        return []

    def run(name: str, f: Callable[[], None]) -> None:
        try:
            f()
        except Exception as e:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {e}") from e
            results[name] = repr(e)
        else:
            results[name] = "SUCCESS"

    mutable = {p[1] for p in impl_.params if "!" in p[0]}

    def t_schema() -> None:
        vals, _ = impl_.bind(tuple(args), kwargs)
        before = [
            (p[1], [t.detach().clone() for t in flat(v)])
            for p, v in zip(impl_.params, vals, strict=True)
        ]
        with ctorch.no_grad():
            impl_(*args, **kwargs)
        for (name, old), v in zip(before, vals, strict=True):
            if name in mutable:
                continue
            for a, b in zip(old, flat(v), strict=True):
                if not ctorch.equal(a, b) and not (a.isnan().any() and b.isnan().any()):
                    raise RuntimeError(
                        f"argument {name} is not declared mutable (mutates_args) but the op changed it"
                    )

    def t_fake() -> None:
        if impl_.fake is None:
            return
        with ctorch.no_grad():
            real = flat(impl_(*[a.clone() if isinstance(a, Tensor) else a for a in args], **kwargs))
            fake = flat(impl_.fake(*args, **kwargs))
        if len(real) != len(fake):
            raise RuntimeError(f"the fake impl returned {len(fake)} tensors, the op {len(real)}")
        for r, f in zip(real, fake, strict=True):
            if tuple(r.shape) != tuple(f.shape) or r.dtype != f.dtype:
                raise RuntimeError(
                    f"the fake impl returned shape {tuple(f.shape)} dtype {f.dtype}, the op "
                    f"shape {tuple(r.shape)} dtype {r.dtype}"
                )

    def t_autograd() -> None:
        vals, n_pos = impl_.bind(tuple(args), kwargs)
        if impl_.backward is None or not _any_requires_grad(vals):
            return
        idx = [i for i, v in enumerate(vals) if isinstance(v, Tensor) and v.requires_grad]
        base = [
            v.detach().double() if isinstance(v, Tensor) and v.is_floating_point() else v
            for v in vals
        ]

        def f(*xs: Tensor) -> Any:
            vv = list(base)
            for i, x in zip(idx, xs, strict=True):
                vv[i] = x
            out = impl_(
                *vv[:n_pos],
                **{p[1]: v for p, v in zip(impl_.params[n_pos:], vv[n_pos:], strict=True)},
            )
            return tuple(flat(out))

        xs = tuple(base[i].requires_grad_(True) for i in idx)
        kw = {}
        if atol is not None:
            kw["atol"] = atol
        if rtol is not None:
            kw["rtol"] = rtol
        ctorch.autograd.gradcheck(f, xs, **kw)

    table = {
        "test_schema": t_schema,
        "test_autograd_registration": t_autograd,
        "test_faketensor": t_fake,
    }
    for t in tests:
        if t == "test_aot_dispatch_dynamic":
            results[t] = "SKIPPED (ctorch has no AOTAutograd)"
        elif t in table:
            run(t, table[t])
        else:
            raise ValueError(
                f"opcheck(op, ...): got test_utils={t!r}; expected one of {sorted(table)}"
            )
    return results
