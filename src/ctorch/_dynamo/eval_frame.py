"""``torch._dynamo.eval_frame.OptimizedModule``: what ``torch.compile(module)`` returns.

ctorch compiles nothing, but the wrapper itself is part of what programs see: the compiled
module's ``state_dict`` keys start with ``_orig_mod.`` (nanoGPT strips that prefix when it
resumes), ``model._orig_mod`` is the original module, attribute reads and writes go through to
it, ``train()``/``eval()`` set its mode, and ``isinstance(m, OptimizedModule)`` tells a compiled
module apart (accelerate's ``unwrap_model``). Calling it calls the original module.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from ..nn.modules.module import Module

__all__ = ["OptimizedModule"]


class OptimizedModule(Module):
    """Wraps the original ``nn.Module``; its ``forward`` is the original module's ``__call__``."""

    _opt_mod_attributes = {
        "_orig_mod",
        "dynamo_ctx",
        "_torchdynamo_orig_callable",
        "get_compiler_config",
        "forward",
        "_forward",
        "__dict__",
        "named_children_walk",
        "_super_module_initialized",
    }

    def __init__(self, mod: Module, dynamo_ctx: Any = None) -> None:
        object.__setattr__(self, "_orig_mod", mod)
        self._super_module_initialized = False
        super().__init__()
        self._super_module_initialized = True
        self._orig_mod = mod  # Module.__setattr__ registers it as the child "_orig_mod"
        self.dynamo_ctx = dynamo_ctx
        self._initialize()
        self.training = self._orig_mod.training

    def _initialize(self) -> None:
        self.forward = self._orig_mod.__call__

    def __len__(self) -> int:
        if isinstance(self._orig_mod, Sized):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    def __reduce__(self) -> tuple:
        return (self.__class__, (self._orig_mod, self.dynamo_ctx))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("forward", None)
        state.pop("__call__", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__ = state
        self._initialize()

    @property
    def training(self) -> bool:  # type: ignore[override]
        return self._orig_mod.training

    @training.setter
    def training(self, value: bool) -> None:
        # Module.__init__ sets the default: the mode is the original module's
        if self.__dict__.get("_super_module_initialized", False):
            self._orig_mod.training = value

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __dir__(self) -> list[str]:
        orig_mod_attrs = self._orig_mod.__dir__()
        return orig_mod_attrs + [a for a in super().__dir__() if a not in orig_mod_attrs]
