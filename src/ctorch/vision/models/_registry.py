"""``get_model`` / ``list_models`` / ``get_weight`` / ``get_model_weights`` (torchvision's
model registry API) over the constructors of ``ctorch.vision.models``."""

from __future__ import annotations

import fnmatch
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ._weights import WeightsEnum

__all__ = ["get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"]

_NOT_MODELS = {"get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"}


def _builders() -> dict[str, Callable[..., Any]]:
    models = sys.modules[__package__]
    out = {}
    for name, fn in vars(models).items():
        if (
            name.islower()
            and not name.startswith("_")
            and name not in _NOT_MODELS
            and inspect.isfunction(fn)
        ):
            out[name] = fn
    return out


def list_models(
    module: Any = None,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
) -> list[str]:
    """Sorted names of the model constructors, filtered by ``fnmatch`` patterns."""
    names = set(_builders())
    if module is not None:
        prefix = getattr(module, "__name__", str(module))
        names = {n for n in names if _builders()[n].__module__.startswith(prefix)}
    if include:
        pats = [include] if isinstance(include, str) else list(include)
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)}
    if exclude:
        pats = [exclude] if isinstance(exclude, str) else list(exclude)
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)}
    return sorted(names)


def get_model_builder(name: str) -> Callable[..., Any]:
    name = name.lower()
    try:
        return _builders()[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> Any:
    """Build the model ``name`` with the constructor's keyword arguments (``weights=`` etc.)."""
    return get_model_builder(name)(**config)


def get_model_weights(name: str | Callable[..., Any]) -> type[WeightsEnum]:
    """The weights enum of a model (by name or constructor)."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    ann = inspect.signature(fn).parameters.get("weights")
    mod = sys.modules[fn.__module__]
    for obj in vars(mod).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, WeightsEnum)
            and obj is not WeightsEnum
            and obj.__name__.lower().replace("_weights", "").replace("_", "")
            == fn.__name__.replace("_", "")
        ):
            return obj
    raise ValueError(f"no weights enum for {fn.__name__} (weights parameter: {ann})")


def get_weight(name: str) -> WeightsEnum:
    """``get_weight("ResNet50_Weights.IMAGENET1K_V1")`` -> the enum member."""
    try:
        enum_name, member = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = sys.modules[__package__]
    enum_cls = getattr(models, enum_name, None)
    if not (isinstance(enum_cls, type) and issubclass(enum_cls, WeightsEnum)):
        raise ValueError(
            f"The weight enum '{enum_name}' for the specific method couldn't be retrieved."
        )
    return enum_cls[member]
