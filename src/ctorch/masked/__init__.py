"""ctorch.masked (``torch.masked``): reductions and normalizations that take a ``mask=``
(strided tensors). ``MaskedTensor``, ``masked_tensor`` and ``as_masked_tensor`` are not
implemented; ``is_masked_tensor`` answers False for every object ctorch can make."""

from ._ops import __all__ as _OPS_ALL
from ._ops import (  # noqa: F401 - torch.masked re-exports its private helpers too
    _canonical_dim,
    _combine_input_and_mask,
    _input_mask,
    _output_mask,
    _reduction_identity,
    _where,
    amax,
    amin,
    argmax,
    argmin,
    cumprod,
    cumsum,
    log_softmax,
    logaddexp,
    logsumexp,
    mean,
    median,
    norm,
    normalize,
    prod,
    softmax,
    softmin,
    std,
    sum,
    var,
)

__all__ = sorted([*_OPS_ALL, "is_masked_tensor"])


def is_masked_tensor(obj) -> bool:
    """False: ctorch has no MaskedTensor type."""
    return False


def __getattr__(name: str):
    if name in ("MaskedTensor", "masked_tensor", "as_masked_tensor"):
        raise AttributeError(
            f"ctorch.masked.{name} is not implemented (MaskedTensor); the masked reductions "
            "take mask= instead"
        )
    raise AttributeError(f"module 'ctorch.masked' has no attribute {name!r}")
