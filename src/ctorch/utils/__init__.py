"""ctorch.utils: helpers mirroring ``torch.utils`` (``data`` is the data-loading package)."""

from . import data

__all__ = ["data"]
