"""ctorch.Size: the shape of a tensor, a tuple subclass (like torch.Size)."""

from __future__ import annotations

import math

from . import _display


class Size(tuple):
    """A tuple of ints; printing and slicing behave as torch.Size."""

    __slots__ = ()

    def __new__(cls, seq=()):
        return super().__new__(cls, (int(s) for s in seq))

    def __repr__(self) -> str:
        return f"{_display.prefix}Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def __getitem__(self, key):
        r = super().__getitem__(key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        return math.prod(self)

    def __reduce__(self):
        return (Size, (tuple(self),))
