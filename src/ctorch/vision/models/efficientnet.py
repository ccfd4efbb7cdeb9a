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
    _publish_archs,
)
from ._weights import WeightsEnum

__all__ = ["EfficientNet", "MBConvConfig", "FusedMBConvConfig"]

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
        block: Callable[..., nn.Module] | None = None,
    ) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block or self._default_block()

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
            expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block
        )

    @staticmethod
    def _default_block() -> Callable[..., nn.Module]:
        return MBConv

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    # torchvision's signature: _MBConvConfig's, with ``block`` defaulting to FusedMBConv

    @staticmethod
    def _default_block() -> Callable[..., nn.Module]:
        return FusedMBConv


class _MBBlock(nn.Module):
    """What MBConv and FusedMBConv share: the stride check, ``block`` (the layers
    ``make_layers(expanded_channels)`` returns), stochastic depth on the residual branch."""

    def __init__(
        self,
        cnf: _MBConvConfig,
        stochastic_depth_prob: float,
        make_layers: Callable[[int], list[nn.Module]],
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        self.block = nn.Sequential(*make_layers(expanded_channels))
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result = result + input
        return result


class MBConv(_MBBlock):
    def __init__(
        self,
        cnf: MBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
        se_layer: Callable[..., nn.Module] = SqueezeExcitation,
    ) -> None:
        def make_layers(expanded: int) -> list[nn.Module]:
            cna = partial(Conv2dNormActivation, norm_layer=norm_layer)
            layers: list[nn.Module] = []
            if expanded != cnf.input_channels:
                layers.append(
                    cna(cnf.input_channels, expanded, kernel_size=1, activation_layer=nn.SiLU)
                )
            layers.append(
                cna(
                    expanded,
                    expanded,
                    kernel_size=cnf.kernel,
                    stride=cnf.stride,
                    groups=expanded,
                    activation_layer=nn.SiLU,
                )
            )
            squeeze_channels = max(1, cnf.input_channels // 4)
            layers.append(
                se_layer(expanded, squeeze_channels, activation=partial(nn.SiLU, inplace=True))
            )
            layers.append(cna(expanded, cnf.out_channels, kernel_size=1, activation_layer=None))
            return layers

        super().__init__(cnf, stochastic_depth_prob, make_layers)


class FusedMBConv(_MBBlock):
    def __init__(
        self,
        cnf: FusedMBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
    ) -> None:
        def make_layers(expanded: int) -> list[nn.Module]:
            cna = partial(Conv2dNormActivation, norm_layer=norm_layer)
            # the kernel-size conv expands (a 1x1 conv projects back) or, with no expansion,
            # maps straight to the output channels
            first = cnf.out_channels if expanded == cnf.input_channels else expanded
            layers: list[nn.Module] = [
                cna(
                    cnf.input_channels,
                    first,
                    kernel_size=cnf.kernel,
                    stride=cnf.stride,
                    activation_layer=nn.SiLU,
                )
            ]
            if expanded != cnf.input_channels:
                layers.append(cna(expanded, cnf.out_channels, kernel_size=1, activation_layer=None))
            return layers

        super().__init__(cnf, stochastic_depth_prob, make_layers)


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


#: each stage's (expand_ratio, kernel, stride): EfficientNet-B's (MBConv blocks) and
#: EfficientNetV2's (FusedMBConv for the first three stages, MBConv after; S has six stages)
_B_STAGES = [(1, 3, 1), (6, 3, 2), (6, 5, 2), (6, 3, 2), (6, 5, 1), (6, 5, 2), (6, 3, 1)]
_V2_STAGES = [(1, 3, 1), (4, 3, 2), (4, 3, 2), (4, 3, 2), (6, 3, 1), (6, 3, 2), (6, 3, 1)]
#: (channels: the stem's then each stage's output, layers per stage)
_B_WIDTHS = ((32, 16, 24, 40, 80, 112, 192, 320), (1, 2, 2, 3, 3, 4, 1))
_V2_WIDTHS = {
    "efficientnet_v2_s": ((24, 24, 48, 64, 128, 160, 256), (2, 4, 4, 6, 9, 15)),
    "efficientnet_v2_m": ((24, 24, 48, 80, 160, 176, 304, 512), (3, 5, 5, 7, 14, 18, 5)),
    "efficientnet_v2_l": ((32, 32, 64, 96, 192, 224, 384, 640), (4, 7, 7, 10, 19, 25, 7)),
}


def _efficientnet_conf(
    arch: str, **kwargs: Any
) -> tuple[list[MBConvConfig | FusedMBConvConfig], int | None]:
    configs: list[Callable[..., MBConvConfig | FusedMBConvConfig]]
    if arch.startswith("efficientnet_b"):
        c = partial(MBConvConfig, width_mult=kwargs["width_mult"], depth_mult=kwargs["depth_mult"])
        configs, stages, (channels, depths), last_channel = [c] * 7, _B_STAGES, _B_WIDTHS, None
    elif arch in _V2_WIDTHS:
        configs = [FusedMBConvConfig] * 3 + [MBConvConfig] * 4
        stages, (channels, depths), last_channel = _V2_STAGES, _V2_WIDTHS[arch], 1280
    else:
        raise ValueError(f"Unsupported model type {arch}")
    setting = [
        config(expand_ratio, kernel, stride, c_in, c_out, n)
        # V2-S has one stage fewer than the tables: zip stops at its depths
        for config, (expand_ratio, kernel, stride), c_in, c_out, n in zip(
            configs, stages, channels, channels[1:], depths, strict=False
        )
    ]
    return setting, last_channel


_BN_B5 = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
_BN_V2 = partial(nn.BatchNorm2d, eps=1e-03)

#: arch -> (checkpoint files, each ``arch + suffix + ".pth"``: IMAGENET1K_V1, V2 (DEFAULT the
#: last), classifier dropout, norm layer (None: BatchNorm2d's defaults), width_mult,
#: depth_mult (None for V2, whose stages are listed whole))
_ARCHS: dict[str, tuple[Any, ...]] = {
    "efficientnet_b0": (("_rwightman-7f5810bc",), 0.2, None, 1.0, 1.0),
    "efficientnet_b1": (("_rwightman-bac287d4", "-c27df63c"), 0.2, None, 1.0, 1.1),
    "efficientnet_b2": (("_rwightman-c35c1473",), 0.3, None, 1.1, 1.2),
    "efficientnet_b3": (("_rwightman-b3899882",), 0.3, None, 1.2, 1.4),
    "efficientnet_b4": (("_rwightman-23ab8bcd",), 0.4, None, 1.4, 1.8),
    "efficientnet_b5": (("_lukemelas-1a07897c",), 0.4, _BN_B5, 1.6, 2.2),
    "efficientnet_b6": (("_lukemelas-24a108a5",), 0.5, _BN_B5, 1.8, 2.6),
    "efficientnet_b7": (("_lukemelas-c5b4e57e",), 0.5, _BN_B5, 2.0, 3.1),
    "efficientnet_v2_s": (("-dd5fe13b",), 0.2, _BN_V2, None, None),
    "efficientnet_v2_m": (("-dc08266a",), 0.3, _BN_V2, None, None),
    "efficientnet_v2_l": (("-59c71312",), 0.4, _BN_V2, None, None),
}


def _efficientnet(
    arch: str, enum_cls: type[WeightsEnum], weights: Any, kwargs: dict[str, Any]
) -> EfficientNet:
    dropout, norm_layer, width_mult, depth_mult = _ARCHS[arch][1:]
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


_publish_archs(
    globals(),
    {
        arch: (
            "EfficientNet_" + arch[len("efficientnet_") :].upper() + "_Weights",
            tuple(arch + suffix + ".pth" for suffix in row[0]),
        )
        for arch, row in _ARCHS.items()
    },
    _efficientnet,
    returns="EfficientNet",
    docs={
        "efficientnet_b0": "EfficientNet-B0: 5,288,548 parameters.",
        "efficientnet_v2_s": "EfficientNetV2-S: 21,458,488 parameters.",
    },
)
