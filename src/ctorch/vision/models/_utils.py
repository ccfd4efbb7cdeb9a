"""Helpers shared by the model constructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ctorch
from ctorch import nn

from ..ops.misc import Conv2dNormActivation
from ._weights import WeightsEnum, load_weights, resolve_weights


def _conv_stem(out_channels: int, norm_layer: Callable, activation_layer: Callable) -> nn.Module:
    """The first layer of MobileNetV3/EfficientNet: 3x3 stride-2 conv of the RGB input + norm
    + activation."""
    return Conv2dNormActivation(
        3,
        out_channels,
        kernel_size=3,
        stride=2,
        norm_layer=norm_layer,
        activation_layer=activation_layer,
    )


def _conv_head(
    in_channels: int, out_channels: int, norm_layer: Callable, activation_layer: Callable
) -> nn.Module:
    """The last feature layer of MobileNetV3/EfficientNet: 1x1 conv + norm + activation."""
    return Conv2dNormActivation(
        in_channels,
        out_channels,
        kernel_size=1,
        norm_layer=norm_layer,
        activation_layer=activation_layer,
    )


class _PoolClassifierNet(nn.Module):
    """The forward of the MobileNet/EfficientNet families: ``features``, pooling to 1x1
    (``avgpool`` unless ``_pool`` is overridden), flatten, ``classifier``."""

    def _pool(self, x: Any) -> Any:
        return self.avgpool(x)

    def _forward_impl(self, x: Any) -> Any:
        x = self.features(x)
        x = self._pool(x)
        x = ctorch.flatten(x, 1)
        return self.classifier(x)

    def forward(self, x: Any) -> Any:
        return self._forward_impl(x)


def _init_conv_or_norm(m: Any) -> bool:
    """torchvision's init of the MobileNet/EfficientNet families for a Conv2d (kaiming normal,
    fan_out; zero bias) or a BatchNorm2d/GroupNorm (ones, zeros); False for any other module."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    else:
        return False
    return True


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never going down by more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _build(
    arch: str,
    enum_cls: type[WeightsEnum],
    weights: Any,
    kwargs: dict[str, Any],
    make: Callable[..., Any],
) -> Any:
    """Resolve ``weights``/``pretrained``, build with ``make(**kwargs)``, load weights if any."""
    w = resolve_weights(arch, enum_cls, weights, kwargs)
    model = make(**kwargs)
    if w is not None:
        model.load_state_dict(load_weights(w))
    return model
