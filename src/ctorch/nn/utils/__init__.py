"""``nn.utils``: gradient clipping, parameter/vector conversion, RNN sequence helpers."""

from . import rnn  # noqa: F401
from .clip_grad import clip_grad, clip_grad_norm, clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grad_value_",
    "clip_grad",
    "parameters_to_vector",
    "vector_to_parameters",
    "rnn",
]
