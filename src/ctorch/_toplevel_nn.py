"""The ``torch.<name>`` forms of nn ops (``torch.conv2d``, ``torch.layer_norm``,
``torch.dropout``, ...) with torch's top-level signatures, which differ from ``F.<name>`` in
places (``torch.dropout(input, p, train)``, ``torch.batch_norm``'s argument order, the trailing
``cudnn_enable`` flags). Each defers to the ``ops`` function when first called."""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor

__all__ = [
    "alpha_dropout",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "dropout",
    "feature_alpha_dropout",
    "group_norm",
    "instance_norm",
    "layer_norm",
]


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, *args: Any, **kw: Any):
    from .ops.conv import conv1d as f

    return f(input, weight, bias, *args, **kw)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, *args: Any, **kw: Any):
    """``torch.conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)``."""
    from .ops.conv import conv2d as f

    return f(input, weight, bias, *args, **kw)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, *args: Any, **kw: Any):
    from .ops.conv import conv3d as f

    return f(input, weight, bias, *args, **kw)


def conv_transpose1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, *args: Any, **kw: Any
):
    from .ops.conv import conv_transpose1d as f

    return f(input, weight, bias, *args, **kw)


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, *args: Any, **kw: Any
):
    from .ops.conv import conv_transpose2d as f

    return f(input, weight, bias, *args, **kw)


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
    cudnn_enable: bool = True,
) -> Tensor:
    """``torch.layer_norm`` (``cudnn_enable`` is accepted and ignored)."""
    from .ops.normalization import layer_norm as f

    return f(input, normalized_shape, weight, bias, eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
    cudnn_enabled: bool = True,
) -> Tensor:
    from .ops.group_norm import group_norm as f

    return f(input, num_groups, weight, bias, eps)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """``torch.batch_norm``: note torch's order (weight and bias before the running stats)."""
    from .ops.normalization import batch_norm as f

    return f(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    from .ops.normalization import instance_norm as f

    return f(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.dropout(input, p, train)`` (all three required, as in torch)."""
    from .nn.functional import dropout as f

    return f(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn.functional import alpha_dropout as f

    return f(input, p, train)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn.functional import feature_alpha_dropout as f

    return f(input, p, train)
