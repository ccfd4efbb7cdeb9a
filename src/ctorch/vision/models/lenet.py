"""LeNet-5 (LeCun et al., 1998) in its common modern form, for 1x28x28 images.

Layout (``features`` then ``classifier``, as torchvision's VGG/AlexNet)::

    features.0  Conv2d(1, 6, 5, padding=2)   1x28x28 -> 6x28x28
    features.1  ReLU
    features.2  MaxPool2d(2)                         -> 6x14x14
    features.3  Conv2d(6, 16, 5)                     -> 16x10x10
    features.4  ReLU
    features.5  MaxPool2d(2)                         -> 16x5x5
    (flatten to 400)
    classifier.0  Linear(400, 120)
    classifier.1  ReLU
    classifier.2  Linear(120, 84)
    classifier.3  ReLU
    classifier.4  Linear(84, num_classes)

61,706 parameters for 10 classes. ReLU and max pooling replace the original's scaled tanh and
trainable subsampling; padding=2 turns MNIST's 28x28 into the original 32x32 receptive layout.
torchvision has no LeNet; this one uses torch's default layer initialisation.
"""

from __future__ import annotations

from typing import Any

import ctorch
from ctorch import nn

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 style CNN: two conv/ReLU/max-pool stages and three linear layers."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: ctorch.Tensor) -> ctorch.Tensor:
        x = self.features(x)
        x = ctorch.flatten(x, 1)
        return self.classifier(x)


def lenet5(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> LeNet5:
    """LeNet-5 for 1x28x28 input (see the module docstring for the layout)."""
    if weights is not None or kwargs.pop("pretrained", False):
        raise RuntimeError("lenet5: there are no pretrained weights; use weights=None")
    return LeNet5(**kwargs)
