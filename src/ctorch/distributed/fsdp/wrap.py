"""Auto-wrap policies and manual wrapping (``torch.distributed.fsdp.wrap``).

A policy decides which submodules become their own FSDP unit (their own flat parameter, gathered
and freed on its own). Function policies are called as ``policy(module=m, recurse=bool,
nonwrapped_numel=n)``: with ``recurse=True`` whether to look inside ``m``, with ``recurse=False``
whether to wrap ``m`` itself; the tree is walked the way torch's ``_recursive_wrap`` walks it.
``ModuleWrapPolicy``/``CustomPolicy`` pick target modules and wrap them children first (torch's
``_post_order_apply``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Generator, Iterable
from typing import Any

from ...nn.modules.module import Module

__all__ = [
    "always_wrap_policy",
    "lambda_auto_wrap_policy",
    "transformer_auto_wrap_policy",
    "size_based_auto_wrap_policy",
    "enable_wrap",
    "wrap",
    "CustomPolicy",
    "ModuleWrapPolicy",
]


def always_wrap_policy(*args: Any, **kwargs: Any) -> bool:
    return True


def _module_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, module_classes: Iterable[type]
) -> bool:
    if recurse:
        return True
    return isinstance(module, tuple(module_classes))


def lambda_auto_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, lambda_fn: Callable[[Module], bool]
) -> bool:
    if recurse:
        return True
    return bool(lambda_fn(module))


def transformer_auto_wrap_policy(
    module: Module,
    recurse: bool,
    nonwrapped_numel: int,
    transformer_layer_cls: Iterable[type],
) -> bool:
    """Wrap every module whose class is in ``transformer_layer_cls`` (the root is wrapped
    anyway)."""
    return _module_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls)


def size_based_auto_wrap_policy(
    module: Module,
    recurse: bool,
    nonwrapped_numel: int,
    min_num_params: int = int(1e8),
    force_leaf_modules: set[type] | None = None,
    exclude_wrap_modules: set[type] | None = None,
) -> bool:
    """Wrap a module once the parameters not yet wrapped below it number at least
    ``min_num_params``."""
    if force_leaf_modules is None:
        force_leaf_modules = size_based_auto_wrap_policy.FORCE_LEAF_MODULES  # type: ignore[attr-defined]
    if exclude_wrap_modules is None:
        exclude_wrap_modules = size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES  # type: ignore[attr-defined]
    is_large = nonwrapped_numel >= min_num_params
    if recurse:
        return is_large and not isinstance(module, tuple(force_leaf_modules))
    return is_large and not isinstance(module, tuple(exclude_wrap_modules))


def _init_size_policy_defaults() -> None:
    from ...nn.modules.activation import MultiheadAttention
    from ...nn.modules.container import ModuleDict, ModuleList

    size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES = {ModuleList, ModuleDict}  # type: ignore[attr-defined]
    size_based_auto_wrap_policy.FORCE_LEAF_MODULES = {MultiheadAttention}  # type: ignore[attr-defined]


_init_size_policy_defaults()


class _Policy:
    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]:
        raise NotImplementedError


class ModuleWrapPolicy(_Policy):
    """Wrap every module of the given classes."""

    def __init__(self, module_classes: Iterable[type]) -> None:
        self._module_classes = set(module_classes)
        self._module_classes_str = str(self._module_classes)

    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]:
        classes = tuple(self._module_classes)
        return {
            m: copy.copy(root_kwargs)
            for m in root_module.modules()
            if m not in ignored_modules and isinstance(m, classes)
        }

    def __call__(self, module: Module, recurse: bool, *args: Any, **kwargs: Any) -> bool:
        return _module_wrap_policy(module, recurse, -1, self._module_classes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._module_classes_str})"


class CustomPolicy(_Policy):
    """``lambda_fn(module)`` returns False (do not wrap), True (wrap with the root's arguments)
    or a dict of arguments overriding the root's for that module."""

    def __init__(self, lambda_fn: Callable[[Module], bool | dict[str, Any]]) -> None:
        self._lambda_fn = lambda_fn

    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]:
        out: dict[Module, dict[str, Any]] = {}
        for m in root_module.modules():
            if m in ignored_modules:
                continue
            res = self._lambda_fn(m)
            if not isinstance(res, (dict, bool)):
                raise ValueError(
                    "The lambda_fn passed to CustomPolicy should return False/True or a kwarg "
                    f"dict, but it returned {res}"
                )
            if not res:
                continue
            kw = copy.copy(root_kwargs)
            if isinstance(res, dict):
                kw.update(res)
            out[m] = kw
        return out


def _post_order_apply(root: Module, fn: Callable[[Module], Module | None]) -> None:
    visited = {id(root)}

    def inner(module: Module, name: str, parent: Module | None) -> None:
        for child_name, child in list(module.named_children()):
            if id(child) not in visited:
                visited.add(id(child))
                inner(child, child_name, module)
        new = fn(module)
        if new is not None and parent is not None:
            setattr(parent, name, new)

    inner(root, "", None)


def _recursive_wrap(
    module: Module,
    auto_wrap_policy: Callable,
    wrapper_cls: type,
    ignored_modules: set[Module],
    ignored_params: set[int],
    only_wrap_children: bool = False,
    **kwargs: Any,
) -> tuple[Module, int]:
    if isinstance(module, wrapper_cls):
        return module, 0
    nonwrapped = sum(
        p.numel()
        for p in module.parameters()
        if id(p) not in ignored_params and not getattr(p, "_fsdp_flattened", False)
    )
    if auto_wrap_policy(module=module, recurse=True, nonwrapped_numel=nonwrapped):
        total = 0
        for name, child in list(module.named_children()):
            if child in ignored_modules:
                continue
            wrapped, n = _recursive_wrap(
                child, auto_wrap_policy, wrapper_cls, ignored_modules, ignored_params, **kwargs
            )
            setattr(module, name, wrapped)
            total += n
        remainder = nonwrapped - total
        if not only_wrap_children and auto_wrap_policy(
            module=module, recurse=False, nonwrapped_numel=remainder
        ):
            return wrapper_cls(module, **kwargs), nonwrapped
        return module, total
    return module, 0


def _auto_wrap(
    root: Module,
    policy: Any,
    ignored_modules: set[Module],
    ignored_params: set[int],
    root_kwargs: dict[str, Any],
    fsdp_cls: type,
) -> None:
    for name, m in root.named_modules():
        if isinstance(m, fsdp_cls):
            raise ValueError(
                "FSDP auto wrapping requires modules to not already have FSDP applied but found "
                f"{name} in\n{root}"
            )
    if isinstance(policy, _Policy):
        root_kwargs = dict(root_kwargs, auto_wrap_policy=None)
        targets = policy._run_policy(root, ignored_modules, root_kwargs)

        def fn(m: Module) -> Module | None:
            if m in targets and m is not root:
                return fsdp_cls(m, **targets[m])
            return None

        _post_order_apply(root, fn)
        return
    kw = dict(root_kwargs)
    kw.pop("auto_wrap_policy", None)
    _recursive_wrap(
        root,
        policy,
        fsdp_cls,
        ignored_modules,
        ignored_params,
        only_wrap_children=True,
        **kw,
    )


class _ConfigAutoWrap:
    in_autowrap_context = False
    wrapper_cls: type | None = None
    kwargs: dict[str, Any] = {}


@contextlib.contextmanager
def enable_wrap(*, wrapper_cls: Any, **wrapper_kwargs: Any) -> Generator[None, None, None]:
    """Inside, :func:`wrap` wraps modules with ``wrapper_cls(module, **wrapper_kwargs)``."""
    if _ConfigAutoWrap.in_autowrap_context:
        raise NotImplementedError(
            "You are already within an autowrap context and we currently do not supported "
            "nested autowrap."
        )
    _ConfigAutoWrap.in_autowrap_context = True
    _ConfigAutoWrap.wrapper_cls = wrapper_cls
    _ConfigAutoWrap.kwargs = dict(wrapper_kwargs)
    try:
        yield
    finally:
        _ConfigAutoWrap.in_autowrap_context = False
        _ConfigAutoWrap.wrapper_cls = None
        _ConfigAutoWrap.kwargs = {}


def wrap(module: Module, **wrap_overrides: Any) -> Module:
    """Wrap ``module`` with the class given to :func:`enable_wrap` (outside that context,
    return ``module`` unchanged)."""
    if _ConfigAutoWrap.in_autowrap_context:
        assert _ConfigAutoWrap.wrapper_cls is not None
        kwargs = {**_ConfigAutoWrap.kwargs, **wrap_overrides}
        return _ConfigAutoWrap.wrapper_cls(module, **kwargs)
    return module
