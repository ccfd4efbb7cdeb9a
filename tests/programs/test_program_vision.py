"""A torchvision-style program (``torchvision.ops``, ``torchvision.transforms.v2``,
``torchvision.tv_tensors``, ``torchvision.models``) runs unmodified through ``python -m ctorch.run``;
its printed values are checked against NumPy-derived expectations here, and against real
torch + torchvision when both are installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from .test_programs import assert_same_output, run


def test_vision_detection_pipeline(tmp_path: Path) -> None:
    out = run("vision_detection_pipeline.py", cwd=tmp_path)
    lines = out.splitlines()
    expected = [
        "nms [0, 2]",
        "batched_nms [0, 1, 2]",
        "iou01 0.680672",
        "cxcywh [5.0, 5.0, 10.0, 10.0]",
        "fpn [('c3', (1, 6, 16, 16)), ('c4', (1, 6, 8, 8))]",
        "stochastic depth eval identity True",
        "image Image (3, 40, 60) True",
        # feat is linear in (x, y): RoIAlign gives the value at the bin centres exactly
        "roi_align 45.090000 grad 24.000000",
        # hflip: x -> 32 - x; resize x2; center crop 48x64 -> 40x60 offsets (4, 2)
        "boxes [[22, 6, 46, 26]] (40, 60)",
        "mask box [22, 6, 46, 26]",
        "batch (4, 3, 32, 32)",
        "has resnet18 True",
        "losses finite True",
        "params 1235496",
        "vision version True",
    ]
    for e in expected:
        assert e in lines, f"missing line {e!r} in:\n{out}"
    x = np.linspace(-2, 2, 8)
    t = np.array([0, 1, 0, 1, 1, 0, 1, 0], np.float64)
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    pt = p * t + (1 - p) * (1 - t)
    focal = ((0.25 * t + 0.75 * (1 - t)) * ce * (1 - pt) ** 2).mean()
    assert f"focal {focal:.6f}" in lines
    if importlib.util.find_spec("torch") and importlib.util.find_spec("torchvision"):
        theirs_dir = tmp_path / "torch"
        theirs_dir.mkdir()
        theirs = run("vision_detection_pipeline.py", cwd=theirs_dir, torch=True)
        assert_same_output(out, theirs, rtol=1e-5)
