"""ctorch.vision.models: the model zoo (torchvision.models' names, layouts and init).

The lowercase callables in this namespace are exactly the model constructors, so
``sorted(n for n in models.__dict__ if n.islower() and not n.startswith("__")
and callable(models.__dict__[n]))`` lists the architectures, as with torchvision.
Pretrained weights are never downloaded (see ``_weights``).
"""

from . import (
    convnext,
    densenet,
    efficientnet,
    mobilenetv3,
    regnet,
    resnet,
    shufflenetv2,
    squeezenet,
    vgg,
    vision_transformer,
)
from ._registry import get_model, get_model_builder, get_model_weights, get_weight, list_models
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .convnext import *  # noqa: F403
from .densenet import *  # noqa: F403
from .efficientnet import *  # noqa: F403
from .lenet import LeNet5, lenet5
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .mobilenetv3 import *  # noqa: F403
from .regnet import *  # noqa: F403
from .resnet import (
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    ResNeXt50_32X4D_Weights,
    Wide_ResNet50_2_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from .shufflenetv2 import *  # noqa: F403
from .squeezenet import *  # noqa: F403
from .vgg import (
    VGG,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from .vision_transformer import *  # noqa: F403

__all__ = [
    "AlexNet",
    "AlexNet_Weights",
    "alexnet",
    "LeNet5",
    "lenet5",
    "MobileNetV2",
    "MobileNet_V2_Weights",
    "mobilenet_v2",
    # BasicBlock and Bottleneck stay out of the package namespace, as in torchvision
    *(n for n in resnet.__all__ if n not in ("BasicBlock", "Bottleneck")),
    *vgg.__all__,
    "get_model",
    "get_model_builder",
    "get_model_weights",
    "get_weight",
    "list_models",
]
for _m in (convnext, densenet, efficientnet, mobilenetv3, regnet, shufflenetv2, squeezenet):
    __all__ += _m.__all__
__all__ += vision_transformer.__all__
del _m
