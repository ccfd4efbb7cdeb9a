"""ResNet (He et al. 2015) with torchvision's module names, order and initialisation.

``resnet18`` has 11,689,512 parameters and ``resnet50`` 25,557,032, as torchvision's; a
torchvision state_dict loads with ``load_state_dict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import ctorch
from ctorch import nn

from ._utils import _build, _publish_archs
from ._weights import WeightsEnum

__all__ = ["ResNet", "BasicBlock", "Bottleneck"]

Tensor = ctorch.Tensor


def conv3x3(
    in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1
) -> nn.Conv2d:
    """3x3 convolution with padding"""
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class _BlockArgs(NamedTuple):
    inplanes: int
    planes: int
    stride: int
    groups: int
    base_width: int
    dilation: int
    norm_layer: Callable[..., nn.Module]


class _ResidualBlock(nn.Module):
    """What BasicBlock and Bottleneck share: torchvision's signature, the modules ``_layers``
    lists (in registration order) then ``downsample``, and the forward: conv/norm pairs with a
    ReLU between them, plus the (downsampled) input, then a ReLU."""

    expansion: int = 1
    _pairs: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        args = _BlockArgs(inplanes, planes, stride, groups, base_width, dilation, norm_layer)
        for name, module in self._layers(args):
            setattr(self, name, module)
        self.downsample = downsample
        self.stride = stride

    def _layers(self, a: _BlockArgs) -> list[tuple[str, nn.Module]]:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = x
        last = len(self._pairs) - 1
        for i, (conv, norm) in enumerate(self._pairs):
            out = getattr(self, norm)(getattr(self, conv)(out))
            if i != last:
                out = self.relu(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class BasicBlock(_ResidualBlock):
    expansion: int = 1
    _pairs = (("conv1", "bn1"), ("conv2", "bn2"))

    def _layers(self, a: _BlockArgs) -> list[tuple[str, nn.Module]]:
        if a.groups != 1 or a.base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if a.dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        return [
            ("conv1", conv3x3(a.inplanes, a.planes, a.stride)),
            ("bn1", a.norm_layer(a.planes)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv2", conv3x3(a.planes, a.planes)),
            ("bn2", a.norm_layer(a.planes)),
        ]


class Bottleneck(_ResidualBlock):
    """Bottleneck with the stride on the 3x3 convolution (ResNet V1.5, as torchvision)."""

    expansion: int = 4
    _pairs = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def _layers(self, a: _BlockArgs) -> list[tuple[str, nn.Module]]:
        width = int(a.planes * (a.base_width / 64.0)) * a.groups
        out = a.planes * self.expansion
        return [
            ("conv1", conv1x1(a.inplanes, width)),
            ("bn1", a.norm_layer(width)),
            ("conv2", conv3x3(width, width, a.stride, a.groups, a.dilation)),
            ("bn2", a.norm_layer(width)),
            ("conv3", conv1x1(width, out)),
            ("bn3", a.norm_layer(out)),
            ("relu", nn.ReLU(inplace=True)),
        ]


class ResNet(nn.Module):
    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: list[bool] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None or a 3-element tuple, got "
                f"{replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(
            block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0]
        )
        self.layer3 = self._make_layer(
            block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1]
        )
        self.layer4 = self._make_layer(
            block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2]
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

        # Zero-initialize the last BN in each residual branch (arXiv:1706.02677).
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(
        self,
        block: type[BasicBlock | Bottleneck],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilate: bool = False,
    ) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [
            block(
                self.inplanes,
                planes,
                stride,
                downsample,
                self.groups,
                self.base_width,
                previous_dilation,
                norm_layer,
            )
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    groups=self.groups,
                    base_width=self.base_width,
                    dilation=self.dilation,
                    norm_layer=norm_layer,
                )
            )
        return nn.Sequential(*layers)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = ctorch.flatten(x, 1)
        x = self.fc(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


#: arch -> (block, blocks per stage, constructor keywords' defaults)
_ARCHS: dict[str, tuple[type[BasicBlock | Bottleneck], list[int], dict[str, int]]] = {
    "resnet18": (BasicBlock, [2, 2, 2, 2], {}),
    "resnet34": (BasicBlock, [3, 4, 6, 3], {}),
    "resnet50": (Bottleneck, [3, 4, 6, 3], {}),
    "resnet101": (Bottleneck, [3, 4, 23, 3], {}),
    "resnet152": (Bottleneck, [3, 8, 36, 3], {}),
    "resnext50_32x4d": (Bottleneck, [3, 4, 6, 3], {"groups": 32, "width_per_group": 4}),
    "wide_resnet50_2": (Bottleneck, [3, 4, 6, 3], {"width_per_group": 64 * 2}),
}
#: arch -> (weights enum, checkpoint hashes (IMAGENET1K_V1, V2; DEFAULT is the last))
_WEIGHTS = {
    "resnet18": ("ResNet18_Weights", ("f37072fd",)),
    "resnet34": ("ResNet34_Weights", ("b627a593",)),
    "resnet50": ("ResNet50_Weights", ("0676ba61", "11ad3fa6")),
    "resnet101": ("ResNet101_Weights", ("63fe2227", "cd907fc2")),
    "resnet152": ("ResNet152_Weights", ("394f9c45", "f82ba261")),
    "resnext50_32x4d": ("ResNeXt50_32X4D_Weights", ("7cdf4587", "1a0047aa")),
    "wide_resnet50_2": ("Wide_ResNet50_2_Weights", ("95faca4d", "9ba9bcbe")),
}
_DOCS = {
    "resnet18": "ResNet-18: 11,689,512 parameters.",
    "resnet34": "ResNet-34: 21,797,672 parameters.",
    "resnet50": "ResNet-50 (V1.5): 25,557,032 parameters.",
    "resnet101": "ResNet-101 (V1.5).",
    "resnet152": "ResNet-152 (V1.5).",
    "resnext50_32x4d": "ResNeXt-50 32x4d (grouped 3x3 convolutions).",
    "wide_resnet50_2": "Wide ResNet-50-2 (bottleneck width doubled).",
}


def _resnet(arch: str, enum_cls: type[WeightsEnum], weights: Any, kwargs: dict[str, Any]) -> ResNet:
    block, layers, defaults = _ARCHS[arch]
    for key, value in defaults.items():
        kwargs.setdefault(key, value)
    return _build(arch, enum_cls, weights, kwargs, lambda **k: ResNet(block, layers, **k))


_publish_archs(
    globals(),
    {
        arch: (enum_name, tuple(f"{arch}-{h}.pth" for h in hashes))
        for arch, (enum_name, hashes) in _WEIGHTS.items()
    },
    _resnet,
    returns="ResNet",
    docs=_DOCS,
)
