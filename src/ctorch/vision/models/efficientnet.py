"""EfficientNet B0-B7 (Tan & Le 2019) and EfficientNetV2 S/M/L (Tan & Le 2021) with
torchvision's layout and keys."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import ctorch
from ctorch import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._utils import (
    _build,
    _conv_head,
    _conv_stem,
    _init_conv_or_norm,
    _make_divisible,
    _PoolClassifierNet,
)
from ._weights import WeightsEnum, hub_weights

__all__ = [
    "EfficientNet",
    "MBConvConfig",
    "FusedMBConvConfig",
    "EfficientNet_B0_Weights",
    "EfficientNet_B1_Weights",
    "EfficientNet_B2_Weights",
    "EfficientNet_B3_Weights",
    "EfficientNet_B4_Weights",
    "EfficientNet_B5_Weights",
    "EfficientNet_B6_Weights",
    "EfficientNet_B7_Weights",
    "EfficientNet_V2_S_Weights",
    "EfficientNet_V2_M_Weights",
    "EfficientNet_V2_L_Weights",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
]

Tensor = ctorch.Tensor


class _MBConvConfig:
    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        block: Callable[..., nn.Module],
    ) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels: float, width_mult: float, min_value: int | None = None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        block: Callable[..., nn.Module] | None = None,
    ) -> None:
        input_channels = self.adjust_channels(input_channels, width_mult)
        out_channels = self.adjust_channels(out_channels, width_mult)
        num_layers = self.adjust_depth(num_layers, depth_mult)
        super().__init__(
            expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block or MBConv
        )

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        block: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__(
            expand_ratio,
            kernel,
            stride,
            input_channels,
            out_channels,
            num_layers,
            block or FusedMBConv,
        )


class MBConv(nn.Module):
    def __init__(
        self,
        cnf: MBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
        se_layer: Callable[..., nn.Module] = SqueezeExcitation,
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        activation_layer = nn.SiLU
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels,
                    expanded_channels,
                    kernel_size=1,
                    norm_layer=norm_layer,
                    activation_layer=activation_layer,
                )
            )
        layers.append(
            Conv2dNormActivation(
                expanded_channels,
                expanded_channels,
                kernel_size=cnf.kernel,
                stride=cnf.stride,
                groups=expanded_channels,
                norm_layer=norm_layer,
                activation_layer=activation_layer,
            )
        )
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(
            se_layer(expanded_channels, squeeze_channels, activation=partial(nn.SiLU, inplace=True))
        )
        layers.append(
            Conv2dNormActivation(
                expanded_channels,
                cnf.out_channels,
                kernel_size=1,
                norm_layer=norm_layer,
                activation_layer=None,
            )
        )
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result = result + input
        return result


class FusedMBConv(nn.Module):
    def __init__(
        self,
        cnf: FusedMBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        activation_layer = nn.SiLU
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels,
                    expanded_channels,
                    kernel_size=cnf.kernel,
                    stride=cnf.stride,
                    norm_layer=norm_layer,
                    activation_layer=activation_layer,
                )
            )
            layers.append(
                Conv2dNormActivation(
                    expanded_channels,
                    cnf.out_channels,
                    kernel_size=1,
                    norm_layer=norm_layer,
                    activation_layer=None,
                )
            )
        else:
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels,
                    cnf.out_channels,
                    kernel_size=cnf.kernel,
                    stride=cnf.stride,
                    norm_layer=norm_layer,
                    activation_layer=activation_layer,
                )
            )
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result = result + input
        return result


class EfficientNet(_PoolClassifierNet):
    def __init__(
        self,
        inverted_residual_setting: Sequence[MBConvConfig | FusedMBConvConfig],
        dropout: float,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        last_channel: int | None = None,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers: list[nn.Module] = []
        firstconv_output_channels = inverted_residual_setting[0].input_channels
        layers.append(_conv_stem(firstconv_output_channels, norm_layer, nn.SiLU))
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = (
            last_channel if last_channel is not None else 4 * lastconv_input_channels
        )
        layers.append(
            _conv_head(lastconv_input_channels, lastconv_output_channels, norm_layer, nn.SiLU)
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(lastconv_output_channels, num_classes),
        )
        for m in self.modules():
            if not _init_conv_or_norm(m) and isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)


def _efficientnet_conf(
    arch: str, **kwargs: Any
) -> tuple[list[MBConvConfig | FusedMBConvConfig], int | None]:
    setting: list[MBConvConfig | FusedMBConvConfig]
    if arch.startswith("efficientnet_b"):
        c = partial(MBConvConfig, width_mult=kwargs["width_mult"], depth_mult=kwargs["depth_mult"])
        setting = [
            c(1, 3, 1, 32, 16, 1),
            c(6, 3, 2, 16, 24, 2),
            c(6, 5, 2, 24, 40, 2),
            c(6, 3, 2, 40, 80, 3),
            c(6, 5, 1, 80, 112, 3),
            c(6, 5, 2, 112, 192, 4),
            c(6, 3, 1, 192, 320, 1),
        ]
        return setting, None
    F, M = FusedMBConvConfig, MBConvConfig  # noqa: N806
    if arch.startswith("efficientnet_v2_s"):
        setting = [
            F(1, 3, 1, 24, 24, 2),
            F(4, 3, 2, 24, 48, 4),
            F(4, 3, 2, 48, 64, 4),
            M(4, 3, 2, 64, 128, 6),
            M(6, 3, 1, 128, 160, 9),
            M(6, 3, 2, 160, 256, 15),
        ]
    elif arch.startswith("efficientnet_v2_m"):
        setting = [
            F(1, 3, 1, 24, 24, 3),
            F(4, 3, 2, 24, 48, 5),
            F(4, 3, 2, 48, 80, 5),
            M(4, 3, 2, 80, 160, 7),
            M(6, 3, 1, 160, 176, 14),
            M(6, 3, 2, 176, 304, 18),
            M(6, 3, 1, 304, 512, 5),
        ]
    elif arch.startswith("efficientnet_v2_l"):
        setting = [
            F(1, 3, 1, 32, 32, 4),
            F(4, 3, 2, 32, 64, 7),
            F(4, 3, 2, 64, 96, 7),
            M(4, 3, 2, 96, 192, 10),
            M(6, 3, 1, 192, 224, 19),
            M(6, 3, 2, 224, 384, 25),
            M(6, 3, 1, 384, 640, 7),
        ]
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return setting, 1280


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b0_rwightman-7f5810bc.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b1_rwightman-bac287d4.pth")
    IMAGENET1K_V2 = hub_weights("efficientnet_b1-c27df63c.pth")
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b2_rwightman-c35c1473.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b3_rwightman-b3899882.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b4_rwightman-23ab8bcd.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b5_lukemelas-1a07897c.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b6_lukemelas-24a108a5.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_b7_lukemelas-c5b4e57e.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_v2_s-dd5fe13b.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_v2_m-dc08266a.pth")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("efficientnet_v2_l-59c71312.pth")
    DEFAULT = IMAGENET1K_V1


_BN_B5 = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
_BN_V2 = partial(nn.BatchNorm2d, eps=1e-03)

#: arch -> (weights enum, classifier dropout, norm layer (None: BatchNorm2d's defaults),
#: width_mult, depth_mult (None for V2, whose stages are listed whole))
_ARCHS: dict[str, tuple[Any, float, Any, float | None, float | None]] = {
    "efficientnet_b0": (EfficientNet_B0_Weights, 0.2, None, 1.0, 1.0),
    "efficientnet_b1": (EfficientNet_B1_Weights, 0.2, None, 1.0, 1.1),
    "efficientnet_b2": (EfficientNet_B2_Weights, 0.3, None, 1.1, 1.2),
    "efficientnet_b3": (EfficientNet_B3_Weights, 0.3, None, 1.2, 1.4),
    "efficientnet_b4": (EfficientNet_B4_Weights, 0.4, None, 1.4, 1.8),
    "efficientnet_b5": (EfficientNet_B5_Weights, 0.4, _BN_B5, 1.6, 2.2),
    "efficientnet_b6": (EfficientNet_B6_Weights, 0.5, _BN_B5, 1.8, 2.6),
    "efficientnet_b7": (EfficientNet_B7_Weights, 0.5, _BN_B5, 2.0, 3.1),
    "efficientnet_v2_s": (EfficientNet_V2_S_Weights, 0.2, _BN_V2, None, None),
    "efficientnet_v2_m": (EfficientNet_V2_M_Weights, 0.3, _BN_V2, None, None),
    "efficientnet_v2_l": (EfficientNet_V2_L_Weights, 0.4, _BN_V2, None, None),
}


def _efficientnet(arch: str, weights: Any, kwargs: dict[str, Any]) -> EfficientNet:
    enum_cls, dropout, norm_layer, width_mult, depth_mult = _ARCHS[arch]
    conf = {} if width_mult is None else dict(width_mult=width_mult, depth_mult=depth_mult)
    setting, last_channel = _efficientnet_conf(arch, **conf)
    if norm_layer is not None:
        kwargs.setdefault("norm_layer", norm_layer)
    dropout = kwargs.pop("dropout", dropout)  # as torchvision: a keyword overrides the default
    return _build(
        arch,
        enum_cls,
        weights,
        kwargs,
        lambda **k: EfficientNet(setting, dropout, last_channel=last_channel, **k),
    )


def efficientnet_b0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B0: 5,288,548 parameters."""
    return _efficientnet("efficientnet_b0", weights, kwargs)


def efficientnet_b1(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b1", weights, kwargs)


def efficientnet_b2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b2", weights, kwargs)


def efficientnet_b3(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b3", weights, kwargs)


def efficientnet_b4(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b4", weights, kwargs)


def efficientnet_b5(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b5", weights, kwargs)


def efficientnet_b6(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b6", weights, kwargs)


def efficientnet_b7(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_b7", weights, kwargs)


def efficientnet_v2_s(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNetV2-S: 21,458,488 parameters."""
    return _efficientnet("efficientnet_v2_s", weights, kwargs)


def efficientnet_v2_m(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_v2_m", weights, kwargs)


def efficientnet_v2_l(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    return _efficientnet("efficientnet_v2_l", weights, kwargs)
