"""``torch._C``: the handful of names programs reach into torch's C extension for.

Mostly TorchScript fuser switches that training scripts flip at start-up (timm's
``set_jit_fuser``, benchmark scripts): ctorch has no TorchScript, so the switches are recorded
and read back (the setters that return the previous value do) but change nothing. A name torch
has and ctorch does not stays missing, so ``getattr(torch._C, name, None)`` / ``hasattr``
probes keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd.grad_mode import is_grad_enabled as _is_grad_enabled
from .autograd.grad_mode import set_grad_enabled as _grad_enabled

_jit = {
    "profiling_mode": True,
    "profiling_executor": True,
    "texpr_fuser": True,
    "can_fuse_on_cpu": False,
    "can_fuse_on_gpu": True,
    "nvfuser": False,
    "llga": False,
}
_fusion_strategy: list[tuple[str, int]] = [("STATIC", 2), ("DYNAMIC", 10)]


def _setter(key: str, returns_old: bool) -> Callable[[bool], Any]:
    def set_flag(enabled: bool) -> bool | None:
        old = _jit[key]
        _jit[key] = bool(enabled)
        return old if returns_old else None

    set_flag.__name__ = f"_jit_set_{key}"
    return set_flag


_jit_set_profiling_mode = _setter("profiling_mode", True)
_jit_set_profiling_executor = _setter("profiling_executor", True)
_jit_set_texpr_fuser_enabled = _setter("texpr_fuser", False)
_jit_override_can_fuse_on_cpu = _setter("can_fuse_on_cpu", False)
_jit_override_can_fuse_on_gpu = _setter("can_fuse_on_gpu", False)
_jit_set_nvfuser_enabled = _setter("nvfuser", False)  # a deprecated no-op in torch 2.x
_jit_set_llga_enabled = _setter("llga", False)


def _jit_texpr_fuser_enabled() -> bool:
    return _jit["texpr_fuser"]


def _jit_can_fuse_on_cpu() -> bool:
    return _jit["can_fuse_on_cpu"]


def _jit_can_fuse_on_gpu() -> bool:
    return _jit["can_fuse_on_gpu"]


def _jit_nvfuser_enabled() -> bool:
    return _jit["nvfuser"]


def _jit_llga_enabled() -> bool:
    return _jit["llga"]


def _jit_set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    global _fusion_strategy
    old, _fusion_strategy = _fusion_strategy, [tuple(s) for s in strategy]  # type: ignore[misc]
    return old


def _get_tracing_state() -> None:
    """No TorchScript tracer runs under ctorch (``torch.jit.trace`` runs eagerly)."""
    return None


def _log_api_usage_once(event: str) -> None:
    pass


def _set_grad_enabled(enabled: bool) -> None:
    _grad_enabled(enabled)


def is_grad_enabled() -> bool:
    return _is_grad_enabled()


def _get_cudnn_enabled() -> bool:
    from .backends import cudnn

    return bool(cudnn.enabled)


def _set_cudnn_enabled(enabled: bool) -> None:
    from .backends import cudnn

    cudnn.enabled = bool(enabled)


# ``__torch_function__`` switches (ctorch._torch_function; issue #14)
from ._torch_function import (  # noqa: E402, F401 - torch._C's names
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
)
from ._torch_function import (  # noqa: E402, F401
    is_torch_function_enabled as _is_torch_function_enabled,
)
from ._torch_function import (  # noqa: E402, F401
    is_torch_function_mode_enabled as _is_torch_function_mode_enabled,
)


def _len_torch_function_stack() -> int:
    from . import _torch_function

    return len(_torch_function._modes)


def _get_function_stack_at(i: int):
    from . import _torch_function

    return _torch_function._modes[i]


# autograd-graph internals that hooks code calls (torch.autograd.graph's helpers; issue #14)
from .autograd.engine import (  # noqa: E402, F401 - torch._C's names
    _current_graph_task_id,
    _will_engine_execute_node,
)


def _increment_version(tensors) -> None:
    from .autograd.graph import increment_version

    increment_version(list(tensors))


class _autograd:  # noqa: N801 - torch._C._autograd's saved-tensor-hook entry points
    from ._core._autograd import (
        enable_saved_tensors_hooks as _saved_tensors_hooks_enable,
    )
    from ._core._autograd import (
        pop_saved_tensors_hooks as _pop_saved_tensors_default_hooks,
    )
    from ._core._autograd import (
        push_saved_tensors_hooks as _push_saved_tensors_default_hooks,
    )
    from ._core._autograd import (
        saved_tensors_hooks_disabled_message as _saved_tensors_hooks_get_disabled_error_message,
    )

    _push_saved_tensors_default_hooks = staticmethod(_push_saved_tensors_default_hooks)
    _pop_saved_tensors_default_hooks = staticmethod(_pop_saved_tensors_default_hooks)
    _saved_tensors_hooks_enable = staticmethod(_saved_tensors_hooks_enable)
    _saved_tensors_hooks_get_disabled_error_message = staticmethod(
        _saved_tensors_hooks_get_disabled_error_message
    )

    @staticmethod
    def _saved_tensors_hooks_disable(message, fail_if_non_empty=True):
        from ._core._autograd import disable_saved_tensors_hooks

        disable_saved_tensors_hooks(message, fail_if_non_empty)

    @staticmethod
    def _saved_tensors_hooks_is_enabled() -> bool:
        from ._core._autograd import saved_tensors_hooks_disabled_message

        return saved_tensors_hooks_disabled_message() is None
