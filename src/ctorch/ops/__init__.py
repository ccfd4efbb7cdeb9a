"""Differentiable operations: one ``Function`` per op, forward and backward written once
for both devices; kernels are reached only through ``ctorch._backend.kernels_for``."""

from __future__ import annotations

# --- ``torch.ops.<ns>.<op>`` (issue #14) -------------------------------------------------
# ``ctorch.ops`` is also where torch code finds operators: ``ctorch.ops.mylib.foo`` is an op
# registered with ``ctorch.library`` and ``ctorch.ops.aten.<name>`` the public ctorch function
# of that name (``ctorch.<name>``, else ``ctorch.nn.functional.<name>``). Any overload
# attribute (``.default``, ``.Tensor``, ...) calls the same function. The module-level
# ``__getattr__`` runs only for names that are not this package's own submodules/attributes.


class _OpOverload:
    """One overload of an op (``torch.ops.ns.name.default``): callable like the op."""

    def __init__(self, packet: _OpPacket, overload: str) -> None:
        self._packet = packet
        self._overloadname = overload
        self._impl = packet._impl

    def __call__(self, *args, **kwargs):
        return self._packet(*args, **kwargs)

    @property
    def overloadpacket(self) -> _OpPacket:
        return self._packet

    def name(self) -> str:
        return f"{self._packet._ns}::{self._packet._name}.{self._overloadname}"

    def __repr__(self) -> str:
        return f"<OpOverload(op='{self._packet._ns}.{self._packet._name}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"{self._packet._ns}.{self._packet._name}.{self._overloadname}"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, _OpOverload)
            and other._packet == self._packet
            and other._overloadname == self._overloadname
        )

    def __hash__(self) -> int:
        return hash((self._packet._ns, self._packet._name, self._overloadname))


class _OpPacket:
    """An op with all its overloads (torch's ``OpOverloadPacket``, e.g. ``torch.ops.aten.mm``);
    ``str`` gives ``aten.mm`` as torch's does (FlopCounterMode's table keys)."""

    def __init__(self, ns: str, name: str, impl) -> None:
        self._ns, self._name, self._impl = ns, name, impl
        self._qualified_op_name = f"{ns}::{name}"

    def __call__(self, *args, **kwargs):
        if self._impl is None:
            raise NotImplementedError(
                f"torch.ops.{self._ns}.{self._name}: ctorch has no public function of that name"
            )
        return self._impl(*args, **kwargs)

    def __getattr__(self, overload: str) -> _OpOverload:
        if overload.startswith("__"):
            raise AttributeError(overload)
        o = _OpOverload(self, overload)
        self.__dict__[overload] = o
        return o

    def overloads(self) -> list[str]:
        return ["default"]

    @property
    def _schema(self):
        return getattr(self._impl, "schema", None)

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='{self._ns}.{self._name}')>"

    def __str__(self) -> str:
        return f"{self._ns}.{self._name}"

    def __eq__(self, other) -> bool:
        return isinstance(other, _OpPacket) and (other._ns, other._name) == (self._ns, self._name)

    def __hash__(self) -> int:
        return hash((self._ns, self._name))


class _OpNamespace:
    """``torch.ops.<ns>``: the ops registered there (``aten``: ctorch's public functions)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._ops: dict = {}
        self._packets: dict[str, _OpPacket] = {}

    def _add(self, opname: str, impl) -> None:
        self._ops[opname] = impl
        self._packets.pop(opname, None)

    def _remove(self, opname: str) -> None:
        self._ops.pop(opname, None)
        self._packets.pop(opname, None)

    def __getattr__(self, opname: str) -> _OpPacket:
        if opname.startswith("__"):
            raise AttributeError(opname)
        p = self._packets.get(opname)
        if p is not None:
            return p
        impl = self._ops.get(opname)
        if impl is None and self.name == "aten":
            impl = _aten_function(opname)
        if impl is None and not (self.name == "aten" and opname in _ATEN_KNOWN):
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{opname}'")
        p = self._packets[opname] = _OpPacket(self.name, opname, impl)
        return p

    def __repr__(self) -> str:
        return f"<module 'torch.ops.{self.name}'>"


# aten ops with no ctorch function of the name that ctorch still names (FlopCounterMode keys)
_ATEN_KNOWN = frozenset({"convolution", "convolution_backward"})


def _aten_function(opname: str):
    import ctorch
    import ctorch.nn.functional as F

    for mod in (ctorch, F):
        f = getattr(mod, opname, None)
        if callable(f) and not isinstance(f, type) and not opname.startswith("_"):
            return f
    return None


def load_library(path) -> None:
    """``torch.ops.load_library``: loads a compiled C++ op library in torch; ctorch has no C++
    ABI, so it raises."""
    raise NotImplementedError(
        f"torch.ops.load_library({str(path)!r}): ctorch has no C++ ABI to load compiled "
        "operators into; register Python ops with ctorch.library.custom_op"
    )


_submodules: frozenset[str] | None = None


def __getattr__(name: str) -> _OpNamespace:
    global _submodules
    if _submodules is None:
        import pkgutil

        _submodules = frozenset(m.name for m in pkgutil.iter_modules(__path__))
    # this package's own submodules are never namespaces: ``from ctorch.ops import conv``
    # must import the module, not find a namespace named ``conv``
    if name.startswith("_") or not name.isidentifier() or name in _submodules:
        raise AttributeError(f"module 'ctorch.ops' has no attribute {name!r}")
    from ..library import _ns

    return _ns(name)
