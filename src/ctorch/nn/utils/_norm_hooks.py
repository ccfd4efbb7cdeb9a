"""What the legacy hook-based reparametrizations (``weight_norm``, ``spectral_norm``) share:
one forward pre-hook per parameter, registered on an initialized parameter and found again
by ``remove_*``."""

from __future__ import annotations

from typing import Any

from ..modules.module import Module
from ..parameter import UninitializedParameter


class _NormHook:
    """Base of WeightNorm and SpectralNorm: ``_fn`` is the function name in torch's errors
    (``weight_norm``), ``_kind`` the normalization (``weight``)."""

    name: str
    _fn = ""
    _kind = ""

    @classmethod
    def _check_new(cls, module: Module, name: str) -> None:
        """Refuse a second hook of this kind on the same parameter."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, cls) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two {cls._fn} hooks on the same parameter {name}"
                )

    @classmethod
    def _check_initialized(cls, weight: Any) -> None:
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                f"The module passed to `{cls.__name__}` can't have uninitialized parameters. "
                f"Make sure to run the dummy forward before applying {cls._kind} normalization"
            )

    @classmethod
    def _remove_from(cls, module: Module, name: str) -> None:
        """``remove_*``: undo the hook of this kind on parameter ``name`` of ``module``."""
        for k, hook in module._forward_pre_hooks.items():
            if isinstance(hook, cls) and hook.name == name:
                hook.remove(module)  # type: ignore[attr-defined]
                del module._forward_pre_hooks[k]
                return
        raise ValueError(f"{cls._fn} of '{name}' not found in {module}")
