"""ctorch.vision.ops: detection and building-block operators (``torchvision.ops``)."""

from .boxes import __all__ as _boxes_all
from .boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from .feature_pyramid_network import FeaturePyramidNetwork
from .focal_loss import sigmoid_focal_loss
from .giou_loss import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss
from .misc import (
    MLP,
    Conv2dNormActivation,
    Conv3dNormActivation,
    FrozenBatchNorm2d,
    Permute,
    SqueezeExcitation,
)
from .poolers import MultiScaleRoIAlign
from .roi_align import RoIAlign, RoIPool, roi_align, roi_pool
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = [
    *_boxes_all,
    "roi_align",
    "RoIAlign",
    "roi_pool",
    "RoIPool",
    "MultiScaleRoIAlign",
    "FeaturePyramidNetwork",
    "sigmoid_focal_loss",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
    "StochasticDepth",
    "stochastic_depth",
    "FrozenBatchNorm2d",
    "Conv2dNormActivation",
    "Conv3dNormActivation",
    "SqueezeExcitation",
    "MLP",
    "Permute",
]
