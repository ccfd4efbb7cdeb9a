"""ctorch.utils: helpers mirroring ``torch.utils`` (``data`` is the data-loading package)."""

from . import checkpoint, data

__all__ = ["data", "checkpoint"]
