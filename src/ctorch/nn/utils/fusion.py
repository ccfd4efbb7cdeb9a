"""``nn.utils.fusion``: fold an eval-mode BatchNorm into the convolution or linear layer before
it (inference only: the folded layer computes ``bn(layer(x))`` with the running statistics)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from ... import _creation
from ..._tensor import Tensor
from ..parameter import Parameter

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]

ConvT = TypeVar("ConvT")
LinearT = TypeVar("LinearT")


def _bn_scale(bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None) -> Tensor:
    inv_std = (bn_rv + bn_eps).rsqrt()
    return inv_std if bn_w is None else bn_w * inv_std


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution that computes ``bn(conv(x))`` (``bn`` in eval mode).
    ``transpose``: the weight is a transposed convolution's (out channels on axis 1)."""
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    scale = _bn_scale(bn_rv, bn_eps, bn_w)
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (conv_w.dim() - 2)
    fused_w = (conv_w * scale.reshape(shape)).to(dtype=w_dtype)
    bias = conv_b if conv_b is not None else _creation.zeros_like(bn_rm)
    fused_b = (bias - bn_rm) * scale
    if bn_b is not None:
        fused_b = fused_b + bn_b
    fused_b = fused_b.to(dtype=b_dtype)
    return (
        Parameter(fused_w, conv_w.requires_grad),
        Parameter(fused_b, bias.requires_grad),
    )


def _folded_copy(name: str, module: Any, bn: Any, fuse_weights: Callable, *extra: Any) -> Any:
    """A deep copy of ``module`` whose weight and bias are ``fuse_weights`` of its own and
    ``bn``'s running statistics and affine parameters (``name`` is the caller, for the error)."""
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError(f"{name}: the batch norm tracks no running statistics")
    fused = copy.deepcopy(module)
    fused.weight, fused.bias = fuse_weights(
        fused.weight,
        fused.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
        *extra,
    )
    return fused


def fuse_conv_bn_eval(conv: ConvT, bn, transpose: bool = False) -> ConvT:
    """A copy of ``conv`` with ``bn`` (both in eval mode) folded into its weight and bias."""
    if conv.training or bn.training:  # type: ignore[attr-defined]
        raise AssertionError("Fusion only for eval!")
    return _folded_copy("fuse_conv_bn_eval", conv, bn, fuse_conv_bn_weights, transpose)


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a linear layer that computes ``bn(linear(x))`` (eval mode)."""
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    scale = _bn_scale(bn_rv, bn_eps, bn_w)
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
    bias = linear_b if linear_b is not None else _creation.zeros_like(bn_rm)
    fused_b = ((bias - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, bias.requires_grad)


def fuse_linear_bn_eval(linear: LinearT, bn) -> LinearT:
    """A copy of ``linear`` with ``bn`` (both in eval mode) folded into its weight and bias."""
    if linear.training or bn.training:  # type: ignore[attr-defined]
        raise AssertionError("Fusion only for eval!")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):  # type: ignore[attr-defined]
        raise AssertionError(
            "To fuse, linear.out_features must equal bn.num_features or bn.num_features "
            f"must be 1; got {linear.out_features} and {bn.num_features}"  # type: ignore[attr-defined]
        )
    return _folded_copy("fuse_linear_bn_eval", linear, bn, fuse_linear_bn_weights)
