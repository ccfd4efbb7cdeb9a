"""Where torch keeps what ctorch pickles: the torch import path of a ctorch class or function.

``ctorch.save`` writes every global that lives in ctorch under the name torch (or
torchvision) gives it, so a whole model saved by a script under ``python -m ctorch.run``
(``torch.save(model, path)``) is loaded by real torch with ``weights_only=False``, and
``ctorch.load`` maps the names back (``serialization._remap_module``). The rule, in order:

1. ``ctorch.nn.modules.<file>.<Class>``: torch keeps its modules in the same files
   (``torch.nn.modules.linear.Linear``), so the path is mirrored;
2. anything exported by a public namespace (``ctorch.optim.Adadelta``,
   ``ctorch.nn.functional.relu``, ``ctorch.vision.models.ResNet``): that namespace's torch
   name (``torch.optim.Adadelta``), whatever file ctorch defines it in;
3. otherwise the mirrored path (``ctorch.x.y`` -> ``torch.x.y``, ``ctorch.vision.x`` ->
   ``torchvision.x``), which ctorch resolves again on load.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["torch_global_name"]

# ctorch namespace -> the torch namespace with the same public names
_NAMESPACES = (
    ("ctorch.nn", "torch.nn"),
    ("ctorch.nn.functional", "torch.nn.functional"),
    ("ctorch.nn.init", "torch.nn.init"),
    ("ctorch.nn.parallel", "torch.nn.parallel"),
    ("ctorch.nn.utils", "torch.nn.utils"),
    ("ctorch.nn.utils.parametrizations", "torch.nn.utils.parametrizations"),
    ("ctorch.nn.utils.parametrize", "torch.nn.utils.parametrize"),
    ("ctorch.optim", "torch.optim"),
    ("ctorch.optim.lr_scheduler", "torch.optim.lr_scheduler"),
    ("ctorch.utils.data", "torch.utils.data"),
    ("ctorch.distributions", "torch.distributions"),
    ("ctorch.distributions.constraints", "torch.distributions.constraints"),
    ("ctorch.distributions.transforms", "torch.distributions.transforms"),
    ("ctorch.vision.models", "torchvision.models"),
    ("ctorch.vision.transforms", "torchvision.transforms"),
    ("ctorch.vision.datasets", "torchvision.datasets"),
    ("ctorch", "torch"),
)

_public: dict[int, tuple[str, str, str]] = {}  # id -> (ctorch namespace, torch namespace, name)
_scanned: set[str] = set()


def _mirror(module: str) -> str:
    if module == "ctorch.vision" or module.startswith("ctorch.vision."):
        return "torchvision" + module[len("ctorch.vision") :]
    return module[1:]  # ctorch... -> torch...


def _scan() -> None:
    """Index the public names of the namespaces imported so far (first export wins)."""
    for cname, tname in _NAMESPACES:
        mod = sys.modules.get(cname)
        if mod is None or cname in _scanned:
            continue
        _scanned.add(cname)
        for name, obj in list(vars(mod).items()):
            if name.startswith("__") or not (isinstance(obj, type) or callable(obj)):
                continue
            if not str(getattr(obj, "__module__", "")).startswith("ctorch"):
                continue
            _public.setdefault(id(obj), (cname, tname, name))


def torch_global_name(obj: Any, name: str | None = None) -> tuple[str, str] | None:
    """``(module, qualified name)`` to pickle ``obj`` under, or None when it is not ctorch's."""
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or not (module == "ctorch" or module.startswith("ctorch.")):
        return None
    qualname = name or getattr(obj, "__qualname__", None) or obj.__name__
    if "<locals>" in qualname:
        return None  # not importable anywhere: let pickle raise its own error
    if module.startswith("ctorch.nn.modules."):
        return _mirror(module), qualname
    _scan()
    hit = _public.get(id(obj))
    if hit is not None and getattr(sys.modules.get(hit[0]), hit[2], None) is obj:
        return hit[1], hit[2]
    return _mirror(module), qualname
