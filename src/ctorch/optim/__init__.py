"""ctorch.optim: optimizers (fused Cython/OpenMP updates on the CPU) and lr schedulers."""

from . import lr_scheduler, swa_utils
from .adafactor import Adafactor
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .others import Adadelta, Adagrad, RMSprop
from .radam import RAdam
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "LBFGS",
    "RAdam",
    "NAdam",
    "Adamax",
    "ASGD",
    "Rprop",
    "Muon",
    "Adafactor",
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
]

# optimizers torch refuses sparse gradients in (SGD, SparseAdam, Adagrad and LBFGS take them)
for _cls in (Adam, AdamW, RMSprop, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, Muon, Adafactor):
    _cls._sparse_grads_ok = False
del _cls
