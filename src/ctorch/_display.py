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
