"""The optional elementwise affine ``weight`` (ones) and ``bias`` (zeros) of the norm layers."""

from __future__ import annotations

from typing import Any

import ctorch

from .. import init
from ..parameter import Parameter


def register_affine(
    module: Any, affine: bool, shape: Any, bias: bool, factory_kwargs: dict
) -> None:
    """Gives ``module`` a ``weight`` and (with ``bias``) a ``bias`` Parameter of ``shape``
    where ``affine``, else registers them as None (uninitialised: see ``reset_affine``)."""
    if affine:
        module.weight = Parameter(ctorch.empty(shape, **factory_kwargs))
        if bias:
            module.bias = Parameter(ctorch.empty(shape, **factory_kwargs))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine(module: Any, affine: bool) -> None:
    """Sets ``module.weight`` to ones and ``module.bias`` (where there is one) to zeros."""
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)
