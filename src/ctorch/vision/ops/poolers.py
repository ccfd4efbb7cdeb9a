"""``MultiScaleRoIAlign``: RoIAlign over an FPN, each box on the level its size selects
(``torchvision.ops.poolers``)."""

from __future__ import annotations

import math

import numpy as np

import ctorch
from ctorch import nn

from .boxes import box_area
from .roi_align import convert_boxes_to_roi_format, roi_align

__all__ = ["MultiScaleRoIAlign", "LevelMapper", "initLevelMapper"]

Tensor = ctorch.Tensor


class LevelMapper:
    """FPN level of each box: ``floor(canonical_level + log2(sqrt(area) / canonical_scale))``
    clamped to ``[k_min, k_max]`` (Eq. 1 of the FPN paper), minus ``k_min``."""

    def __init__(
        self,
        k_min: int,
        k_max: int,
        canonical_scale: int = 224,
        canonical_level: int = 4,
        eps: float = 1e-6,
    ) -> None:
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists: list[Tensor]) -> Tensor:
        s = ctorch.sqrt(ctorch.cat([box_area(b) for b in boxlists]))
        target = ctorch.floor(self.lvl0 + ctorch.log2(s / self.s0) + self.eps)
        target = ctorch.clamp(target, min=self.k_min, max=self.k_max)
        return target.to(ctorch.int64) - self.k_min


def initLevelMapper(  # noqa: N802 (torchvision's name)
    k_min: int, k_max: int, canonical_scale: int = 224, canonical_level: int = 4, eps: float = 1e-6
) -> LevelMapper:
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature: Tensor, original_size: tuple[int, int]) -> float:
    scales = [
        2 ** round(math.log2(s1 / s2))
        for s1, s2 in zip(feature.shape[-2:], original_size, strict=True)
    ]
    return float(scales[0])


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign on the feature maps named ``featmap_names``; the scale of each level is inferred
    from its size relative to the largest image."""

    def __init__(
        self,
        featmap_names: list[str],
        output_size: int | tuple[int, int] | list[int],
        sampling_ratio: int,
        *,
        canonical_scale: int = 224,
        canonical_level: int = 4,
    ) -> None:
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales: list[float] | None = None
        self.map_levels: LevelMapper | None = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(
        self, x: dict[str, Tensor], boxes: list[Tensor], image_shapes: list[tuple[int, int]]
    ) -> Tensor:
        feats = [v for k, v in x.items() if k in self.featmap_names]
        if not feats:
            raise ValueError(f"MultiScaleRoIAlign: none of {self.featmap_names} is in the input")
        original = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
        scales = [_infer_scale(f, original) for f in feats]
        lvl_min = -math.log2(scales[0])
        lvl_max = -math.log2(scales[-1])
        self.scales = scales
        self.map_levels = initLevelMapper(
            int(lvl_min), int(lvl_max), self.canonical_scale, self.canonical_level
        )
        rois = convert_boxes_to_roi_format(boxes)
        if len(feats) == 1:
            return roi_align(
                feats[0], rois, self.output_size, scales[0], sampling_ratio=self.sampling_ratio
            )
        levels = self.map_levels(boxes).cpu().numpy()
        outs, order = [], []
        for level, (feat, scale) in enumerate(zip(feats, scales, strict=True)):
            idx = np.nonzero(levels == level)[0]
            if idx.size == 0:
                continue
            sel = rois[ctorch.from_numpy(idx).to(rois.device)]
            outs.append(roi_align(feat, sel, self.output_size, scale, self.sampling_ratio))
            order.append(idx)
        k = rois.shape[0]
        if not outs:
            return feats[0].new_zeros((0, feats[0].shape[1], *self.output_size))
        out = ctorch.cat(outs, dim=0)
        inv = np.empty(k, dtype=np.int64)
        inv[np.concatenate(order)] = np.arange(k)
        return out[ctorch.from_numpy(inv).to(out.device)]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
            f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})"
        )
