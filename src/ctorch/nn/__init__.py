"""``ctorch.nn``: modules, parameters, functional, init and utils, as ``torch.nn``."""

from . import functional, init, modules, parallel, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = [
    "Parameter",
    "Buffer",
    "UninitializedParameter",
    "UninitializedBuffer",
    "functional",
    "init",
    "utils",
    "parallel",
    "DataParallel",
    *_modules_all,
]
