# ruff: noqa: UP031, I001 - written the way real scripts are (%-formatting, two import styles)
"""A torchvision-style script: detection ops, a v2 augmentation pipeline with boxes and masks,
and a model from the zoo trained for a few steps. Data built with NumPy."""

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision import models, tv_tensors
from torchvision.ops import (
    FeaturePyramidNetwork,
    StochasticDepth,
    box_convert,
    box_iou,
    nms,
    roi_align,
    roi_pool,
    sigmoid_focal_loss,
)
from torchvision.transforms import v2

import torchvision.ops as ops  # noqa: E402  (both import styles are common)

boxes = torch.tensor(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float64))
scores = torch.tensor([0.9, 0.8, 0.7], dtype=torch.float64)
print("nms", nms(boxes, scores, 0.5).tolist())
print("batched_nms", ops.batched_nms(boxes, scores, torch.tensor([0, 1, 1]), 0.5).tolist())
print("iou01 %.6f" % box_iou(boxes, boxes)[0, 1].item())
print("cxcywh", box_convert(boxes, "xyxy", "cxcywh")[0].tolist())

feat = torch.tensor(np.arange(2 * 3 * 8 * 8, dtype=np.float64).reshape(2, 3, 8, 8) / 100)
feat.requires_grad_(True)
rois = torch.tensor([[0, 1, 1, 5, 6], [1, 0.5, 0.5, 7, 7]], dtype=torch.float64)
pooled = roi_align(
    feat, rois, output_size=(2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=True
)
pooled.sum().backward()
print("roi_align %.6f grad %.6f" % (pooled.sum().item(), feat.grad.sum().item()))
print("roi_pool %.6f" % roi_pool(feat, rois, output_size=2).sum().item())
logits = torch.tensor(np.linspace(-2, 2, 8))
targets = torch.tensor(np.array([0, 1, 0, 1, 1, 0, 1, 0], np.float64))
print("focal %.6f" % sigmoid_focal_loss(logits, targets, reduction="mean").item())

fpn = FeaturePyramidNetwork([4, 8], 6)
outs = fpn({"c3": torch.randn(1, 4, 16, 16), "c4": torch.randn(1, 8, 8, 8)})
print("fpn", [(k, tuple(v.shape)) for k, v in outs.items()])
sd = StochasticDepth(0.2, "row").eval()
print("stochastic depth eval identity", bool(torch.equal(sd(feat), feat)))

img = np.zeros((3, 24, 32), np.uint8)
img[:, 5:15, 8:20] = 255
mask = np.zeros((24, 32), np.uint8)
mask[5:15, 8:20] = 1
sample = (
    tv_tensors.Image(torch.from_numpy(img)),
    {
        "boxes": tv_tensors.BoundingBoxes([[8, 5, 20, 15]], format="XYXY", canvas_size=(24, 32)),
        "masks": tv_tensors.Mask(torch.from_numpy(mask)),
        "labels": torch.tensor([3]),
    },
)
augment = v2.Compose(
    [
        v2.RandomHorizontalFlip(p=1.0),
        v2.Resize((48, 64), interpolation=v2.InterpolationMode.NEAREST),
        v2.CenterCrop((40, 60)),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
    ]
)
image, target = augment(*sample)
print("image", type(image).__name__, tuple(image.shape), image.dtype == torch.float32)
print("boxes", target["boxes"].tolist(), tuple(target["boxes"].canvas_size))
ys, xs = np.nonzero(target["masks"].numpy())
print("mask box", [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])

classify = v2.Compose(
    [
        v2.ToImage(),
        v2.RandomResizedCrop(32, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(0.2, 0.2, 0.2),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]
)
rng = np.random.default_rng(0)
batch = torch.stack([classify(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)) for _ in range(4)])
print("batch", tuple(batch.shape))

print("has resnet18", "resnet18" in models.list_models())
torch.manual_seed(0)
model = models.get_model("mobilenet_v3_small", num_classes=4)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
labels = torch.tensor([0, 1, 2, 3])
losses = []
for _ in range(3):
    opt.zero_grad()
    loss = F.cross_entropy(model(batch), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
print("losses finite", all(np.isfinite(losses)))
print("params", sum(p.numel() for p in models.squeezenet1_1().parameters()))
print("vision version", isinstance(torchvision.__version__, str))
