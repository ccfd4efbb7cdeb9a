"""VGG 11/13/16/19 with and without batch norm, torchvision's layout and initialisation."""

from __future__ import annotations

from typing import Any

import ctorch
from ctorch import nn

from ._utils import _publish_archs
from ._weights import WeightsEnum, load_weights, resolve_weights

__all__ = ["VGG"]


class VGG(nn.Module):
    def __init__(
        self,
        features: nn.Module,
        num_classes: int = 1000,
        init_weights: bool = True,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: ctorch.Tensor) -> ctorch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = ctorch.flatten(x, 1)
        return self.classifier(x)


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            v = int(v)
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}


#: arch -> (layer configuration, batch norm, checkpoint hash, constructor docstring)
_ARCHS = {
    "vgg11": ("A", False, "8a719046", 'VGG-11 (configuration "A").'),
    "vgg11_bn": ("A", True, "6002323d", "VGG-11 with batch normalization."),
    "vgg13": ("B", False, "19584684", 'VGG-13 (configuration "B").'),
    "vgg13_bn": ("B", True, "abd245e5", "VGG-13 with batch normalization."),
    "vgg16": ("D", False, "397923af", 'VGG-16 (configuration "D"): 138,357,544 parameters.'),
    "vgg16_bn": ("D", True, "6c64b313", "VGG-16 with batch normalization."),
    "vgg19": ("E", False, "dcbb9e9d", 'VGG-19 (configuration "E").'),
    "vgg19_bn": ("E", True, "c79401a0", "VGG-19 with batch normalization."),
}


def _vgg(arch: str, enum_cls: type[WeightsEnum], weights: Any, kwargs: dict[str, Any]) -> VGG:
    cfg, batch_norm = _ARCHS[arch][:2]
    w = resolve_weights(arch, enum_cls, weights, kwargs)
    if w is not None:
        kwargs["init_weights"] = False
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    if w is not None:
        model.load_state_dict(load_weights(w))
    return model


_publish_archs(
    globals(),
    {arch: (arch.upper() + "_Weights", (f"{arch}-{row[2]}.pth",)) for arch, row in _ARCHS.items()},
    _vgg,
    returns="VGG",
    docs={arch: row[3] for arch, row in _ARCHS.items()},
)
