"""``ctorch.signal`` (torch.signal): window functions in ``ctorch.signal.windows``."""

from . import windows

__all__ = ["windows"]
