"""ctorch.optim: optimizers (fused Cython/OpenMP updates on the CPU) and lr schedulers."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .others import Adadelta, Adagrad, RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "LBFGS",
    "lr_scheduler",
]
