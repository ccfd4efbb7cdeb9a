"""torch names real code calls that ctorch lacked (issue #14, session 19): ``can_cast``,
``get_device``, the deterministic debug mode and warn-always switches, ``empty_permuted``,
``nonzero_static``, ``Tensor.dim_order`` and ``Tensor.as_subclass``."""

from __future__ import annotations

import builtins

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

_wrap = Tensor._make

__all__ = [
    "can_cast",
    "empty_permuted",
    "get_deterministic_debug_mode",
    "get_device",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_warn_always_enabled",
    "nonzero_static",
    "set_deterministic_debug_mode",
    "set_warn_always",
]

_state = {"debug_mode": 0, "warn_always": False}


def can_cast(from_, to) -> bool:
    """``torch.can_cast``: torch's same-kind rule: no cast to a lower category (complex >
    floating > integral > bool); any width within a category."""
    a, b = D._as_dtype(from_), D._as_dtype(to)
    return _category(a) <= _category(b)


def _category(dt) -> int:
    if dt.is_complex:
        return 3
    if dt.is_floating_point:
        return 2
    return 0 if dt is D.bool else 1


def get_device(input: Tensor) -> int:
    """``torch.get_device``: the CUDA ordinal, -1 for a CPU tensor."""
    return input.get_device()


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """``torch.set_deterministic_debug_mode`` ("default"/0, "warn"/1, "error"/2): the mode is
    recorded and ``use_deterministic_algorithms`` follows it as torch's does. ctorch's CPU
    kernels are deterministic whatever the mode."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, but "
                f"got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    import ctorch

    ctorch.use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """``torch.get_deterministic_debug_mode``: 0 off, 1 warn only, 2 error."""
    import ctorch

    if not ctorch.are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True, warn_only=True)`` is in effect."""
    import ctorch

    return ctorch.are_deterministic_algorithms_enabled() and ctorch._deterministic_warn_only[0]


def set_warn_always(b: bool) -> None:
    """``torch.set_warn_always``: recorded (ctorch's once-per-process warnings stay once)."""
    _state["warn_always"] = builtins.bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


def empty_permuted(
    size,
    physical_layout,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """``torch.empty_permuted``: an uninitialized tensor of logical shape ``size`` whose
    memory is laid out in the dimension order ``physical_layout`` (outermost first)."""
    import ctorch

    size = tuple(size)
    order = tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(
            f"Dimension mismatch: physical_layout {list(order)} is not a permutation of "
            f"the {len(size)} dims"
        )
    phys = ctorch.empty(tuple(size[d] for d in order), dtype=dtype, device=device)
    t = phys.permute(tuple(int(d) for d in np.argsort(order)))  # logical dim i = phys dim
    return t.requires_grad_(True) if requires_grad else t


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``torch.nonzero_static``: ``nonzero`` cut or padded (with ``fill_value`` rows) to
    exactly ``size`` rows."""
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    nz = input.nonzero()._a
    nd = nz.shape[1]
    out = np.full((size, nd), fill_value, dtype=np.int64)
    k = min(size, nz.shape[0])
    out[:k] = np.asarray(nz[:k])
    return _wrap(out)


def dim_order(self: Tensor, *, ambiguity_check=False) -> tuple:
    """``Tensor.dim_order``: the dimensions from outermost to innermost in memory (by
    decreasing stride; ties keep the logical order)."""
    from ._util import dims_outer_to_inner

    return tuple(dims_outer_to_inner(self.stride()))


def as_subclass(self: Tensor, cls) -> Tensor:
    """``Tensor.as_subclass``: an alias of ``self`` (same data, in the autograd graph) whose
    class is ``cls``, a subclass of ``ctorch.Tensor``; results of ops on it are ``cls`` too
    (``ctorch._torch_function``)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(
            f"as_subclass: cls must be a subclass of torch.Tensor, got {getattr(cls, '__name__', cls)}"
        )
    from .._torch_function import _alias

    return _alias(self, cls)  # AliasBackward0 in the graph; not dispatched (as torch)


def attach(T) -> None:
    T.as_subclass = as_subclass
    T.dim_order = dim_order
    T.nonzero_static = lambda self, *, size, fill_value=-1: nonzero_static(
        self, size=size, fill_value=fill_value
    )
