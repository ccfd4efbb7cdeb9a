"""AlexNet with torchvision's layout (the "one weird trick" variant, 61,100,840 parameters)."""

from __future__ import annotations

from typing import Any

import ctorch
from ctorch import nn

from ._weights import WeightsEnum, hub_weights, load_weights, resolve_weights

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: ctorch.Tensor) -> ctorch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = ctorch.flatten(x, 1)
        return self.classifier(x)


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = hub_weights("alexnet-owt-7be5be79.pth")
    DEFAULT = IMAGENET1K_V1


def alexnet(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> AlexNet:
    """AlexNet (Krizhevsky 2014, torchvision's layout). Pretrained weights are never
    downloaded: see ``ctorch.vision.models._weights``."""
    w = resolve_weights("alexnet", AlexNet_Weights, weights, kwargs)
    model = AlexNet(**kwargs)
    if w is not None:
        model.load_state_dict(load_weights(w))
    return model
