"""Warnings ctorch raises to its users, attributed to the user's line.

torch's warnings point at the code that called torch (its C++ warnings at the innermost Python
frame, its Python ones through a ``stacklevel`` chosen per function). ctorch is all Python, so a
fixed ``stacklevel`` lands on one of ctorch's own frames whenever the warning is raised a few
calls deep (``nn.Module.__call__`` -> ``forward`` -> ``F.softmax`` is fine, ``Tensor.add`` ->
wrapper -> op is not). :func:`warn` walks the stack instead: the warning is attributed to the
first frame outside the ctorch package, so ``-W error``/``filterwarnings(module=...)`` and the
printed ``file:line`` name the user's code, as torch's do.
"""

from __future__ import annotations

import os
import sys
import warnings

_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _internal(frame) -> bool:
    # the frames ``warnings.warn`` itself steps over when it counts ``stacklevel`` (importlib's
    # bootstrap, between a module-level warning and the ``import`` line that ran it)
    name = frame.f_code.co_filename
    return "importlib" in name and "_bootstrap" in name


def user_stacklevel(skip: int = 1) -> int:
    """The ``stacklevel`` for a ``warnings.warn`` call made ``skip`` frames below the caller of
    this function (1: the caller itself calls ``warnings.warn``) that attributes the warning to
    the first frame outside ctorch."""
    f = sys._getframe(skip)
    level = 1
    while f.f_code.co_filename.startswith(_PKG):
        nxt = f.f_back
        while nxt is not None and _internal(nxt):
            nxt = nxt.f_back
        if nxt is None:  # ctorch all the way down (``python -m ctorch.demo``): the outermost
            break
        f = nxt
        level += 1
    return level


def warn(message, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the user's line (the first frame
    outside ctorch), as torch's warnings are."""
    warnings.warn(message, category, stacklevel=user_stacklevel(2) + 1)


_warned_once: set[str] = set()


def warn_once(key: str, message, category: type[Warning] = UserWarning) -> None:
    """:func:`warn` the first time ``key`` is seen in this process only: torch's
    ``TORCH_WARN_ONCE`` warnings (``torch.lu``, ``meshgrid`` without ``indexing``, ``x.T`` off
    2-D, ...), which later calls, of any filter, never repeat."""
    if key in _warned_once:
        return
    _warned_once.add(key)
    warnings.warn(message, category, stacklevel=user_stacklevel(2) + 1)
