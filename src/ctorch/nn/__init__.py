"""``ctorch.nn``: modules, parameters, functional, init and utils, as ``torch.nn``."""

from . import modules  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedParameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter",
           *_modules_all]
