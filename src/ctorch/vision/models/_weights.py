"""Pretrained-weight handling for the model zoo: no downloads, only files already on disk.

ctorch never fetches weights. ``pretrained=True`` or ``weights=...`` loads torchvision's
checkpoint only when that file is already in torch hub's cache directory
(``$TORCH_HOME/hub/checkpoints``, default ``~/.cache/torch/hub/checkpoints``); otherwise the
error names the file to place there.
"""

from __future__ import annotations

import enum
import os
from typing import Any

__all__ = ["Weights", "WeightsEnum", "hub_weights", "resolve_weights", "load_weights"]

_URL = "https://download.pytorch.org/models/"


class Weights:
    """One set of pretrained weights: where torchvision publishes them and the class count."""

    def __init__(self, url: str, num_classes: int = 1000) -> None:
        self.url = url
        self.meta = {"num_classes": num_classes}

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"Weights(url={self.url!r})"


def hub_weights(filename: str) -> Weights:
    """The checkpoint ``filename`` as torchvision publishes it (under download.pytorch.org)."""
    return Weights(_URL + filename)


class WeightsEnum(enum.Enum):
    """Base of the ``<Model>_Weights`` enums (``ResNet18_Weights.DEFAULT`` etc.)."""

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta

    def get_state_dict(self, progress: bool = True, check_hash: bool = False) -> dict[str, Any]:
        return load_weights(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


def _hub_dir() -> str:
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home is None:
        xdg = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
        torch_home = os.path.join(xdg, "torch")
    return os.path.join(torch_home, "hub", "checkpoints")


def resolve_weights(
    arch: str, enum_cls: type[WeightsEnum], weights: Any, kwargs: dict[str, Any]
) -> WeightsEnum | None:
    """Turn ``weights=`` / legacy ``pretrained=`` into a member of ``enum_cls`` (or None)."""
    pretrained = kwargs.pop("pretrained", False)
    if pretrained and weights is None:
        weights = "DEFAULT"
    if weights is None:
        return None
    if isinstance(weights, str):
        name = weights.split(".")[-1]
        try:
            weights = enum_cls[name]
        except KeyError:
            raise ValueError(
                f"{arch}: unknown weights {weights!r}; known: "
                f"{', '.join(m for m in enum_cls.__members__)}"
            ) from None
    if not isinstance(weights, enum_cls):
        raise TypeError(f"{arch}: weights must be a {enum_cls.__name__} member, a name or None")
    n = weights.meta["num_classes"]
    if kwargs.get("num_classes", n) != n:
        raise ValueError(f"{arch}: num_classes must be {n} with pretrained weights")
    kwargs["num_classes"] = n
    return weights


def load_weights(weights: WeightsEnum) -> dict[str, Any]:
    """The checkpoint's state_dict, read from torch hub's cache; never downloaded."""
    path = os.path.join(_hub_dir(), weights.value.filename)
    if not os.path.isfile(path):
        raise RuntimeError(
            f"ctorch does not download pretrained weights ({weights!r}). Download "
            f"{weights.url} yourself and place it at {path} (or set TORCH_HOME), "
            "or build the model with weights=None."
        )
    import ctorch

    return ctorch.load(path, map_location="cpu")
