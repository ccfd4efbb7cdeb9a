"""Parameter registration shared by the layers: the weight and optional bias of Linear,
Bilinear and the convolutions, and the optional elementwise affine ``weight`` (ones) and
``bias`` (zeros) of the norm layers."""

from __future__ import annotations

from typing import Any

import ctorch

from .. import init
from ..parameter import Parameter


def register_weight_and_bias(
    module: Any, weight_shape: Any, bias_features: int, bias: bool, factory_kwargs: dict
) -> None:
    """Gives ``module`` an uninitialised ``weight`` Parameter of ``weight_shape`` and, with
    ``bias``, a ``bias`` of ``bias_features`` (else registers ``bias`` as None)."""
    module.weight = Parameter(ctorch.empty(weight_shape, **factory_kwargs))
    if bias:
        module.bias = Parameter(ctorch.empty(bias_features, **factory_kwargs))
    else:
        module.register_parameter("bias", None)


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
