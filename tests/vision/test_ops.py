"""ctorch.vision.ops against NumPy references written from torchvision's C++ kernels (torchvision
is not installed here), gradients by float64 finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck
from ctorch.vision import ops


def rand_boxes(n: int, seed: int, size: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def iou_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def hull_area(p: np.ndarray, q: np.ndarray) -> float:
    return (max(p[2], q[2]) - min(p[0], q[0])) * (max(p[3], q[3]) - min(p[1], q[1]))


def nms_ref(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        if all(iou_ref(boxes[i : i + 1], boxes[k : k + 1])[0, 0] <= thr for k in keep):
            keep.append(i)
    return keep


T = ctorch.from_numpy


# ---------------------------------------------------------------------------------------- boxes
def test_box_iou_family_vs_numpy() -> None:
    a, b = rand_boxes(7, 0), rand_boxes(5, 1)
    np.testing.assert_allclose(ops.box_iou(T(a), T(b)).numpy(), iou_ref(a, b), rtol=1e-12)
    inter_union = iou_ref(a, b)
    giou = np.zeros_like(inter_union)
    diou = np.zeros_like(inter_union)
    ciou = np.zeros_like(inter_union)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iou = inter_union[i, j]
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (
                w * h / iou
                if iou > 0
                else ((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]))
            )
            c = hull_area(p, q)
            giou[i, j] = iou - (c - union) / c
            diag = (max(p[2], q[2]) - min(p[0], q[0])) ** 2 + (
                max(p[3], q[3]) - min(p[1], q[1])
            ) ** 2
            cd = ((p[0] + p[2]) / 2 - (q[0] + q[2]) / 2) ** 2 + (
                (p[1] + p[3]) / 2 - (q[1] + q[3]) / 2
            ) ** 2
            diou[i, j] = iou - cd / (diag + 1e-7)
            v = (
                4
                / math.pi**2
                * (
                    math.atan((p[2] - p[0]) / (p[3] - p[1]))
                    - math.atan((q[2] - q[0]) / (q[3] - q[1]))
                )
                ** 2
            )
            ciou[i, j] = diou[i, j] - v / (1 - iou + v + 1e-7) * v
    np.testing.assert_allclose(ops.generalized_box_iou(T(a), T(b)).numpy(), giou, rtol=1e-10)
    np.testing.assert_allclose(ops.distance_box_iou(T(a), T(b)).numpy(), diou, rtol=1e-10)
    np.testing.assert_allclose(ops.complete_box_iou(T(a), T(b)).numpy(), ciou, rtol=1e-10)


def test_box_area_convert_clip_remove() -> None:
    a = rand_boxes(6, 2)
    np.testing.assert_allclose(
        ops.box_area(T(a)).numpy(), (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    )
    xywh = np.concatenate([a[:, :2], a[:, 2:] - a[:, :2]], 1)
    cxcywh = np.concatenate([(a[:, :2] + a[:, 2:]) / 2, a[:, 2:] - a[:, :2]], 1)
    np.testing.assert_allclose(ops.box_convert(T(a), "xyxy", "xywh").numpy(), xywh)
    np.testing.assert_allclose(ops.box_convert(T(a), "xyxy", "cxcywh").numpy(), cxcywh)
    np.testing.assert_allclose(ops.box_convert(T(xywh), "xywh", "xyxy").numpy(), a)
    np.testing.assert_allclose(ops.box_convert(T(cxcywh), "cxcywh", "xywh").numpy(), xywh)
    same = ops.box_convert(T(a), "xyxy", "xyxy")
    assert same.data_ptr() != T(a).data_ptr()
    with pytest.raises(ValueError, match="Unsupported"):
        ops.box_convert(T(a), "xyxy", "yxyx")
    clipped = ops.clip_boxes_to_image(T(a), (10, 15)).numpy()
    ref = a.copy()
    ref[:, 0::2] = np.clip(ref[:, 0::2], 0, 15)
    ref[:, 1::2] = np.clip(ref[:, 1::2], 0, 10)
    np.testing.assert_allclose(clipped, ref)
    keep = ops.remove_small_boxes(T(a), 4.0).numpy()
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    np.testing.assert_array_equal(keep, np.nonzero((w >= 4) & (h >= 4))[0])
    assert keep.dtype == np.int64


def test_masks_to_boxes() -> None:
    m = np.zeros((2, 6, 7), dtype=bool)
    m[0, 1:4, 2:6] = True
    m[1, 5, 0] = True
    out = ops.masks_to_boxes(T(m)).numpy()
    np.testing.assert_array_equal(out, [[2, 1, 5, 3], [0, 5, 0, 5]])
    assert ops.masks_to_boxes(T(np.zeros((0, 3, 3), bool))).shape == (0, 4)


@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.9])
def test_nms_vs_numpy(thr: float) -> None:
    boxes = rand_boxes(40, 3, size=30.0)
    scores = np.random.default_rng(4).random(40)
    got = ops.nms(T(boxes), T(scores), thr)
    assert got.dtype == ctorch.int64
    assert got.tolist() == nms_ref(boxes, scores, thr)
    f32 = ops.nms(T(boxes.astype(np.float32)), T(scores.astype(np.float32)), thr)
    assert f32.tolist() == nms_ref(boxes, scores, thr)


def test_nms_edge_cases() -> None:
    empty = ops.nms(ctorch.zeros((0, 4)), ctorch.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == ctorch.int64
    with pytest.raises(ValueError, match="nms"):
        ops.nms(ctorch.zeros((3, 5)), ctorch.zeros(3), 0.5)
    with pytest.raises(ValueError, match="scores"):
        ops.nms(ctorch.zeros((3, 4)), ctorch.zeros(2), 0.5)
    # identical boxes: only the highest score survives
    b = ctorch.tensor([[0.0, 0, 1, 1]] * 3)
    assert ops.nms(b, ctorch.tensor([0.1, 0.9, 0.5]), 0.5).tolist() == [1]


def test_batched_nms_vs_per_class_nms() -> None:
    boxes = rand_boxes(50, 5, size=25.0)
    scores = np.random.default_rng(6).random(50)
    idxs = np.random.default_rng(7).integers(0, 4, 50)
    got = ops.batched_nms(T(boxes), T(scores), T(idxs), 0.4).tolist()
    ref: list[int] = []
    for c in range(4):
        sel = np.nonzero(idxs == c)[0]
        ref += [int(sel[k]) for k in nms_ref(boxes[sel], scores[sel], 0.4)]
    ref.sort(key=lambda i: -scores[i])
    assert got == ref
    assert ops.batched_nms(ctorch.zeros((0, 4)), ctorch.zeros(0), ctorch.zeros(0), 0.5).shape == (
        0,
    )


def test_box_iou_gradcheck() -> None:
    a = T(rand_boxes(4, 8)).requires_grad_()
    b = T(rand_boxes(3, 9)).requires_grad_()
    assert gradcheck(ops.box_iou, (a, b))
    assert gradcheck(ops.generalized_box_iou, (a, b))
    assert gradcheck(ops.distance_box_iou, (a, b))
    assert gradcheck(ops.generalized_box_iou_loss, (a[:3], b))


def test_box_losses_vs_pairwise() -> None:
    a, b = rand_boxes(5, 10), rand_boxes(5, 11)
    g = ops.generalized_box_iou(T(a), T(b)).numpy().diagonal()
    np.testing.assert_allclose(ops.generalized_box_iou_loss(T(a), T(b)).numpy(), 1 - g, atol=1e-6)
    d = ops.distance_box_iou(T(a), T(b)).numpy().diagonal()
    np.testing.assert_allclose(ops.distance_box_iou_loss(T(a), T(b)).numpy(), 1 - d, atol=1e-6)
    c = ops.complete_box_iou(T(a), T(b)).numpy().diagonal()
    np.testing.assert_allclose(ops.complete_box_iou_loss(T(a), T(b)).numpy(), 1 - c, atol=1e-6)
    s = ops.generalized_box_iou_loss(T(a), T(b), reduction="sum")
    assert abs(float(s) - (1 - g).sum()) < 1e-6
    with pytest.raises(ValueError, match="reduction"):
        ops.generalized_box_iou_loss(T(a), T(b), reduction="max")


# ------------------------------------------------------------------------------------ roi_align
def bilinear_ref(img: np.ndarray, y: float, x: float) -> np.ndarray:
    c, h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return np.zeros(c)
    y, x = max(y, 0.0), max(x, 0.0)
    yl, xl = int(y), int(x)
    if yl >= h - 1:
        yh = yl = h - 1
        y = float(yl)
    else:
        yh = yl + 1
    if xl >= w - 1:
        xh = xl = w - 1
        x = float(xl)
    else:
        xh = xl + 1
    ly, lx = y - yl, x - xl
    hy, hx = 1 - ly, 1 - lx
    return (
        hy * hx * img[:, yl, xl]
        + hy * lx * img[:, yl, xh]
        + ly * hx * img[:, yh, xl]
        + ly * lx * img[:, yh, xh]
    )


def roi_align_ref(x, rois, ph, pw, scale, sr, aligned):
    out = np.zeros((len(rois), x.shape[1], ph, pw))
    off = 0.5 if aligned else 0.0
    for r, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sw, y2 * scale - off - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / ph, rw / pw
        gh = sr if sr > 0 else math.ceil(rh / ph)
        gw = sr if sr > 0 else math.ceil(rw / pw)
        count = max(gh * gw, 1)
        for i in range(ph):
            for j in range(pw):
                acc = np.zeros(x.shape[1])
                for iy in range(gh):
                    yy = sh + i * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        xx = sw + j * bw + (ix + 0.5) * bw / gw
                        acc += bilinear_ref(x[int(b)], yy, xx)
                out[r, :, i, j] = acc / count
    return out


ROIS = np.array(
    [
        [0, 1.0, 1.0, 5.0, 6.0],
        [1, 0.0, 0.0, 9.0, 7.0],
        [0, 2.3, 1.1, 4.4, 7.9],
        [1, -3.0, -2.0, 4.0, 3.0],  # partly outside
        [0, 6.5, 6.5, 12.0, 11.0],  # partly outside on the far side
        [1, 3.0, 3.0, 3.2, 3.1],  # tiny
    ]
)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sr", [-1, 0, 2])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_align_vs_numpy(aligned: bool, sr: int, scale: float) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 9))
    got = ops.roi_align(T(x), T(ROIS), (3, 2), scale, sr, aligned).numpy()
    np.testing.assert_allclose(got, roi_align_ref(x, ROIS, 3, 2, scale, sr, aligned), atol=1e-12)
    got32 = ops.roi_align(
        T(x.astype(np.float32)), T(ROIS.astype(np.float32)), (3, 2), scale, sr, aligned
    )
    assert got32.dtype == ctorch.float32
    np.testing.assert_allclose(
        got32.numpy(), roi_align_ref(x, ROIS, 3, 2, scale, sr, aligned), atol=1e-5
    )


def test_roi_align_list_of_boxes_and_module() -> None:
    x = np.random.default_rng(1).standard_normal((2, 2, 6, 6))
    boxes = [T(ROIS[ROIS[:, 0] == 0, 1:]), T(ROIS[ROIS[:, 0] == 1, 1:])]
    got = ops.roi_align(T(x), boxes, 2, sampling_ratio=2, aligned=True).numpy()
    rois = np.concatenate([ROIS[ROIS[:, 0] == 0], ROIS[ROIS[:, 0] == 1]])
    np.testing.assert_allclose(got, roi_align_ref(x, rois, 2, 2, 1.0, 2, True), atol=1e-12)
    m = ops.RoIAlign((2, 2), 1.0, 2, aligned=True)
    np.testing.assert_allclose(m(T(x), boxes).numpy(), got)
    assert "aligned=True" in repr(m)
    assert ops.roi_align(T(x), ctorch.zeros((0, 5), dtype=ctorch.float64), 2).shape == (0, 2, 2, 2)
    with pytest.raises(ValueError, match="roi_align"):
        ops.roi_align(T(x), ctorch.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match="batch indices"):
        ops.roi_align(T(x), T(np.array([[5.0, 0, 0, 1, 1]])), 2)


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_gradcheck(aligned: bool) -> None:
    x = T(np.random.default_rng(2).standard_normal((2, 2, 5, 6))).requires_grad_()
    rois = T(ROIS)
    assert gradcheck(lambda t: ops.roi_align(t, rois, (2, 3), 0.7, -1, aligned), (x,))


def roi_pool_ref(x, rois, ph, pw, scale):
    def cround(v):
        return math.copysign(math.floor(abs(v) + 0.5), v)

    n, c, h, w = x.shape
    out = np.zeros((len(rois), c, ph, pw))
    for r, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh, ew, eh = (int(cround(v * scale)) for v in (x1, y1, x2, y2))
        rw, rh = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        bh, bw = rh / ph, rw / pw
        for i in range(ph):
            hs = min(max(math.floor(i * bh) + sh, 0), h)
            he = min(max(math.ceil((i + 1) * bh) + sh, 0), h)
            for j in range(pw):
                ws = min(max(math.floor(j * bw) + sw, 0), w)
                we = min(max(math.ceil((j + 1) * bw) + sw, 0), w)
                for ch in range(c):
                    if he <= hs or we <= ws:
                        out[r, ch, i, j] = 0.0
                        continue
                    best = -np.inf
                    for yy in range(hs, he):
                        for xx in range(ws, we):
                            best = max(best, x[int(b), ch, yy, xx])
                    out[r, ch, i, j] = best
    return out


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_pool_vs_numpy(scale: float) -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 9))
    rois = np.concatenate([ROIS, [[0, 20.0, 20.0, 30.0, 30.0]]])  # wholly outside: zeros
    got = ops.roi_pool(T(x), T(rois), (3, 2), scale).numpy()
    np.testing.assert_array_equal(got, roi_pool_ref(x, rois, 3, 2, scale))
    assert not got[-1].any()
    m = ops.RoIPool(2, scale)
    np.testing.assert_array_equal(m(T(x), T(rois)).numpy(), roi_pool_ref(x, rois, 2, 2, scale))


def test_roi_pool_gradcheck_and_grad_routing() -> None:
    x = T(np.random.default_rng(4).standard_normal((2, 2, 6, 6))).requires_grad_()
    rois = T(ROIS)
    assert gradcheck(lambda t: ops.roi_pool(t, rois, 2, 1.0), (x,))
    out = ops.roi_pool(x, rois, 2)
    out.sum().backward()
    # each non-empty bin sends exactly one unit of gradient per channel
    nonempty = (roi_pool_ref(x.detach().numpy(), ROIS, 2, 2, 1.0) != 0).sum()
    assert float(x.grad.sum()) == pytest.approx(nonempty)


def test_multiscale_roi_align_levels() -> None:
    rng = np.random.default_rng(5)
    feats = {
        "p2": T(rng.standard_normal((1, 2, 16, 16))),
        "p3": T(rng.standard_normal((1, 2, 8, 8))),
    }
    boxes = [T(np.array([[0.0, 0, 8, 8], [0, 0, 63, 63], [4, 4, 60, 50]]))]
    m = ops.MultiScaleRoIAlign(["p2", "p3"], 2, 2, canonical_scale=32, canonical_level=3)
    got = m(feats, boxes, [(64, 64)]).numpy()
    assert m.scales == [0.25, 0.125]
    area = np.array([64.0, 63 * 63, 56 * 46])
    lvl = np.clip(np.floor(3 + np.log2(np.sqrt(area) / 32) + 1e-6), 2, 3) - 2
    rois = np.concatenate([np.zeros((3, 1)), boxes[0].numpy()], 1)
    for i in range(3):
        f = feats["p2" if lvl[i] == 0 else "p3"].numpy()
        ref = roi_align_ref(f, rois[i : i + 1], 2, 2, [0.25, 0.125][int(lvl[i])], 2, False)
        np.testing.assert_allclose(got[i : i + 1], ref, atol=1e-12)


# ------------------------------------------------------------------------- losses and layers
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_sigmoid_focal_loss(reduction: str, alpha: float) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 5))
    t = (rng.random((4, 5)) > 0.5).astype(np.float64)
    p = 1 / (1 + np.exp(-x))
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    pt = p * t + (1 - p) * (1 - t)
    ref = ce * (1 - pt) ** 2
    if alpha >= 0:
        ref = (alpha * t + (1 - alpha) * (1 - t)) * ref
    ref = {"none": ref, "mean": ref.mean(), "sum": ref.sum()}[reduction]
    got = ops.sigmoid_focal_loss(T(x), T(t), alpha=alpha, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-10)
    xg = T(x).requires_grad_()
    assert gradcheck(lambda a: ops.sigmoid_focal_loss(a, T(t), alpha, 2, reduction), (xg,))
    with pytest.raises(ValueError, match="reduction"):
        ops.sigmoid_focal_loss(T(x), T(t), reduction="max")


def test_stochastic_depth() -> None:
    x = ctorch.ones(2000, 3)
    ctorch.manual_seed(0)
    y = ops.stochastic_depth(x, 0.3, "row").numpy()
    rows = y[:, 0]
    np.testing.assert_allclose(np.unique(rows), [0.0, 1 / 0.7], rtol=1e-6)
    assert (y == y[:, :1]).all()  # whole rows dropped
    assert abs((rows == 0).mean() - 0.3) < 0.05
    yb = ops.stochastic_depth(x, 0.5, "batch").numpy()
    assert len(np.unique(yb)) == 1
    assert ops.stochastic_depth(x, 0.3, "row", training=False) is x
    assert not ops.stochastic_depth(x, 1.0, "row").numpy().any()
    m = ops.StochasticDepth(0.2, "row")
    assert repr(m) == "StochasticDepth(p=0.2, mode=row)"
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        ops.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode"):
        ops.stochastic_depth(x, 0.5, "col")


def test_fpn_layout_and_values() -> None:
    import ctorch.nn.functional as F

    fpn = ops.FeaturePyramidNetwork(
        [3, 5, 7], 4, extra_blocks=ops.feature_pyramid_network.LastLevelMaxPool()
    )
    assert list(fpn.state_dict()) == [
        f"{kind}.{i}.0.{p}"
        for kind in ("inner_blocks", "layer_blocks")
        for i in range(3)
        for p in ("weight", "bias")
    ]
    rng = np.random.default_rng(7)
    feats = {
        "c2": T(rng.standard_normal((1, 3, 8, 8)).astype(np.float32)),
        "c3": T(rng.standard_normal((1, 5, 4, 4)).astype(np.float32)),
        "c4": T(rng.standard_normal((1, 7, 2, 2)).astype(np.float32)),
    }
    with ctorch.no_grad():
        for m in fpn.modules():
            if isinstance(m, ctorch.nn.Conv2d):
                m.bias.copy_(ctorch.from_numpy(rng.standard_normal(m.bias.shape)))
    out = fpn(feats)
    assert list(out) == ["c2", "c3", "c4", "pool"]
    # the same computation spelled out with NumPy nearest upsampling (integer factor 2)
    with ctorch.no_grad():
        inner = [fpn.inner_blocks[i](f) for i, f in enumerate(feats.values())]
        last = inner[2]
        expect = {"c4": fpn.layer_blocks[2](last)}
        for i, name in ((1, "c3"), (0, "c2")):
            up = np.repeat(np.repeat(last.numpy(), 2, axis=2), 2, axis=3)
            last = inner[i] + T(up)
            expect[name] = fpn.layer_blocks[i](last)
    for k in ("c2", "c3", "c4"):
        np.testing.assert_allclose(out[k].detach().numpy(), expect[k].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        out["pool"].detach().numpy(), out["c4"].detach().numpy()[:, :, ::2, ::2]
    )
    sum(v.sum() for v in out.values()).backward()
    assert all(p.grad is not None for p in fpn.parameters())
    p6p7 = ops.feature_pyramid_network.LastLevelP6P7(4, 4)
    res, names = p6p7([ctorch.randn(1, 4, 8, 8)], [ctorch.randn(1, 7, 8, 8)], ["p5"])
    assert names == ["p5", "p6", "p7"] and res[2].shape == (1, 4, 2, 2)
    with pytest.raises(ValueError, match="in_channels=0"):
        ops.FeaturePyramidNetwork([0, 3], 4)
    with pytest.raises(TypeError, match="ExtraFPNBlock"):
        ops.FeaturePyramidNetwork([3], 4, extra_blocks=ctorch.nn.ReLU())
    assert F is not None


def test_misc_layers() -> None:
    m = ops.Conv2dNormActivation(3, 8, kernel_size=3, stride=2)
    assert [type(c).__name__ for c in m] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert m[0].padding == (1, 1) and m[0].bias is None and m.out_channels == 8
    m2 = ops.Conv2dNormActivation(3, 8, kernel_size=(3, 5), norm_layer=None, activation_layer=None)
    assert m2[0].padding == (1, 2) and m2[0].bias is not None and len(m2) == 1
    se = ops.SqueezeExcitation(8, 2)
    assert list(se.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = ctorch.randn(2, 8, 5, 5)
    s = ctorch.sigmoid(se.fc2(ctorch.relu(se.fc1(x.mean((2, 3), keepdim=True)))))
    np.testing.assert_allclose(
        se(x).detach().numpy(), (s * x).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    mlp = ops.MLP(4, [8, 8, 3], norm_layer=ctorch.nn.LayerNorm, dropout=0.1)
    assert [type(c).__name__ for c in mlp] == [
        "Linear",
        "LayerNorm",
        "ReLU",
        "Dropout",
        "Linear",
        "LayerNorm",
        "ReLU",
        "Dropout",
        "Linear",
        "Dropout",
    ]
    assert mlp(ctorch.randn(5, 4)).shape == (5, 3)
    assert ops.Permute([0, 2, 3, 1])(ctorch.randn(1, 2, 3, 4)).shape == (1, 3, 4, 2)
    fbn = ops.FrozenBatchNorm2d(4)
    assert list(fbn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert not list(fbn.parameters())
    bn = ctorch.nn.BatchNorm2d(4)
    bn.running_mean.copy_(ctorch.randn(4))
    bn.running_var.copy_(ctorch.rand(4) + 0.5)
    with ctorch.no_grad():
        bn.weight.copy_(ctorch.randn(4))
        bn.bias.copy_(ctorch.randn(4))
    bn.eval()
    fbn.load_state_dict(bn.state_dict())  # num_batches_tracked dropped
    x = ctorch.randn(2, 4, 3, 3)
    np.testing.assert_allclose(fbn(x).numpy(), bn(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert repr(fbn) == "FrozenBatchNorm2d(4, eps=1e-05)"
