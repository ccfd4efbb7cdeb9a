"""The package name ctorch's reprs print before a dtype, layout, memory format, ``Size`` or
``return_types`` tuple: ``ctorch.float32`` when used as ctorch, ``torch.float32`` while a
script runs under ``python -m ctorch.run`` (``run.install_aliases`` switches it). Programs run
there parse these strings the way they would torch's (``str(dtype).replace("torch.", "")``,
``str(x.dtype) == "torch.float32"``), so they must read as torch's."""

from __future__ import annotations

prefix = "ctorch."


def set_prefix(p: str) -> str:
    """Set the printed package prefix (``"ctorch."`` or ``"torch."``); returns the old one."""
    global prefix
    old, prefix = prefix, p
    return old


def object_repr(obj: object, torch_module: str | None = None) -> str:
    """``object.__repr__`` of a ctorch object, its module named as torch names it under
    ``python -m ctorch.run`` (``<torch.nn.utils.prune.L1Unstructured object at 0x...>``):
    ``torch_module`` when torch's class lives elsewhere than ctorch's, else ctorch's module
    with the ``ctorch.`` prefix swapped. A subclass defined outside ctorch keeps its module."""
    cls = type(obj)
    mod = cls.__module__
    if mod == "ctorch" or mod.startswith("ctorch."):
        if torch_module is not None and prefix == "torch.":
            mod = torch_module
        else:
            mod = prefix + mod[len("ctorch.") :] if mod != "ctorch" else prefix[:-1]
    return f"<{mod}.{cls.__qualname__} object at {id(obj):#x}>"
