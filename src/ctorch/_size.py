"""ctorch.Size: the shape of a tensor, a tuple subclass (like torch.Size)."""

from __future__ import annotations

import math

from . import _display

_tuple_new = tuple.__new__
_tuple_getitem = tuple.__getitem__


def size_of(shape: tuple) -> Size:
    """``Size(shape)`` for an array's shape (a tuple of Python ints: no per-item int())."""
    return _tuple_new(Size, shape) if type(shape) is tuple else Size(shape)


class Size(tuple):
    """A tuple of ints; printing and slicing behave as torch.Size."""

    __slots__ = ()

    def __new__(cls, seq=()):
        return _tuple_new(cls, (int(s) for s in seq))

    def __repr__(self) -> str:
        return f"{_display.prefix}Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def __getitem__(self, key):
        r = _tuple_getitem(self, key)
        return _tuple_new(Size, r) if type(key) is slice else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        return math.prod(self)

    def __reduce__(self):
        return (Size, (tuple(self),))
