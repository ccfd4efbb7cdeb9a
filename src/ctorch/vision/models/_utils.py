"""Helpers shared by the model constructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ctorch
from ctorch import nn

from ..ops.misc import Conv2dNormActivation
from ._weights import WeightsEnum, hub_weights, load_weights, resolve_weights


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


def _constructor(
    arch: str,
    module: str,
    enum_cls: type[WeightsEnum],
    make: Callable[[str, type[WeightsEnum], Any, dict[str, Any]], Any],
    returns: str,
    doc: str | None,
) -> Callable[..., Any]:
    def constructor(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> Any:
        return make(arch, enum_cls, weights, kwargs)

    constructor.__name__ = constructor.__qualname__ = arch
    constructor.__module__ = module
    constructor.__doc__ = doc
    constructor.__annotations__["return"] = returns
    return constructor


def _publish_archs(
    namespace: dict[str, Any],
    archs: dict[str, tuple[str, tuple[str, ...] | dict[str, str]]],
    make: Callable[[str, type[WeightsEnum], Any, dict[str, Any]], Any],
    returns: str,
    docs: dict[str, str] | None = None,
) -> None:
    """Define in a model module's ``namespace`` (its ``globals()``), for each ``arch: (enum
    name, checkpoint files)`` of ``archs``, torchvision's weights enum (members IMAGENET1K_V1,
    V2, ... for the files in order, or named as the keys of a dict of files; DEFAULT the
    last) and public constructor ``arch(*,
    weights=None, progress=True, **kwargs) -> returns`` (docstring ``docs[arch]``), which
    returns ``make(arch, enum, weights, kwargs)``; both names are added to ``__all__``."""
    module = namespace["__name__"]
    for arch, (enum_name, files) in archs.items():
        named = (
            files.items()
            if isinstance(files, dict)
            else ((f"IMAGENET1K_V{i}", f) for i, f in enumerate(files, 1))
        )
        members = [(name, hub_weights(f)) for name, f in named]
        enum_cls = WeightsEnum(  # type: ignore[call-overload]
            enum_name, [*members, ("DEFAULT", members[-1][1])], module=module, qualname=enum_name
        )
        doc = None if docs is None else docs.get(arch)
        namespace[enum_name] = enum_cls
        namespace[arch] = _constructor(arch, module, enum_cls, make, returns, doc)
        namespace["__all__"] += [enum_name, arch]
