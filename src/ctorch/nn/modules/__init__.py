"""The nn layer classes (class paths mirror ``torch.nn.modules.<file>.<Class>``)."""

from .module import Module

__all__ = ["Module"]
