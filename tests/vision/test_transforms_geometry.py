"""RandomPerspective, ElasticTransform, AugMix, the CIFAR10/SVHN AutoAugment policies and the
box-aware v2 geometry (rotate/affine/perspective/elastic, FiveCrop/TenCrop, RandomZoomOut,
RandomIoUCrop, ScaleJitter, RandomShortestSize, RandomResize), checked against NumPy
inverse-map samplers, torch's grid_sample and exact box corners."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ctorch
from ctorch.vision import transforms as T
from ctorch.vision import tv_tensors as tvt
from ctorch.vision.transforms import _geometry_extra as G
from ctorch.vision.transforms import v2
from ctorch.vision.transforms.v2 import functional as F


def rand_image(h: int = 12, w: int = 16, dtype=np.float32, seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed)
    if dtype == np.uint8:
        return r.integers(0, 256, (3, h, w)).astype(np.uint8)
    return r.random((3, h, w)).astype(dtype)


def ref_perspective_nearest(a: np.ndarray, coeffs: list[float], fill: float) -> np.ndarray:
    """Direct per-pixel inverse map: output centre -> homography -> input pixel."""
    c, h, w = a.shape
    ca, cb, cc, cd, ce, cf, cg, ch = coeffs
    out = np.full_like(a, fill)
    for i in range(h):
        for j in range(w):
            x, y = j + 0.5, i + 0.5
            den = cg * x + ch * y + 1.0
            sx, sy = (ca * x + cb * y + cc) / den, (cd * x + ce * y + cf) / den
            if 0 <= sx < w and 0 <= sy < h:
                out[:, i, j] = a[:, int(np.floor(sy)), int(np.floor(sx))]
    return out


def mask_box(m: np.ndarray) -> list[int]:
    ys, xs = np.nonzero(m)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


# ------------------------------------------------------------------------------- perspective
def test_perspective_coeffs_map_endpoints_to_startpoints() -> None:
    start = [[0, 0], [15, 0], [15, 11], [0, 11]]
    end = [[2, 1], [13, 0], [15, 10], [1, 11]]
    a, b, c, d, e, f, g, h = G._get_perspective_coeffs(start, end)
    for (x, y), (sx, sy) in zip(end, start, strict=True):
        den = g * x + h * y + 1
        assert abs((a * x + b * y + c) / den - sx) < 1e-4
        assert abs((d * x + e * y + f) / den - sy) < 1e-4
    with pytest.raises(ValueError, match="four corners"):
        G._get_perspective_coeffs(start[:3], end)


def test_perspective_tensor_vs_numpy_reference() -> None:
    a = rand_image()
    start = [[0, 0], [15, 0], [15, 11], [0, 11]]
    end = [[3, 2], [13, 1], [14, 9], [1, 10]]
    coeffs = G._get_perspective_coeffs(start, end)
    out = T.perspective(ctorch.from_numpy(a), start, end, T.InterpolationMode.NEAREST, fill=0.25)
    np.testing.assert_allclose(out.numpy(), ref_perspective_nearest(a, coeffs, 0.25))
    same = T.perspective(ctorch.from_numpy(a), start, start)
    np.testing.assert_allclose(same.numpy(), a, atol=1e-5)


def test_perspective_bilinear_vs_torch_grid_sample() -> None:
    """torchvision's tensor perspective: grid (x+0.5 -> homography) / (w/2) - 1 into
    grid_sample(align_corners=False); compare away from the border."""
    h, w = 12, 16
    a = rand_image(h, w, np.float64)
    start = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]
    end = [[2, 1], [w - 2, 2], [w - 1, h - 2], [1, h - 1]]
    ca, cb, cc, cd, ce, cf, cg, ch = G._get_perspective_coeffs(start, end)
    ys, xs = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    den = cg * xs + ch * ys + 1
    sx, sy = (ca * xs + cb * ys + cc) / den, (cd * xs + ce * ys + cf) / den
    grid = np.stack([sx / (w / 2) - 1, sy / (h / 2) - 1], -1)[None]
    ref = torch.nn.functional.grid_sample(
        torch.from_numpy(a)[None], torch.from_numpy(grid), align_corners=False
    )[0].numpy()
    out = T.perspective(ctorch.from_numpy(a), start, end).numpy()
    inner = (sx > 1) & (sx < w - 1) & (sy > 1) & (sy < h - 1)
    assert inner.sum() > 80
    np.testing.assert_allclose(out[:, inner], ref[:, inner], atol=1e-5)


def test_random_perspective_params_pil_and_seed() -> None:
    x = ctorch.from_numpy(rand_image(dtype=np.uint8))
    np.testing.assert_array_equal(T.RandomPerspective(p=0.0)(x).numpy(), x.numpy())
    ctorch.manual_seed(3)
    a = T.RandomPerspective(p=1.0)(x).numpy()
    ctorch.manual_seed(3)
    b = T.RandomPerspective(p=1.0)(x).numpy()
    np.testing.assert_array_equal(a, b)
    start, end = T.RandomPerspective.get_params(16, 12, 0.5)
    assert start == [[0, 0], [15, 0], [15, 11], [0, 11]]
    for (ex, ey), lo_x, lo_y in zip(end, (0, 11, 11, 0), (0, 0, 8, 8), strict=True):
        assert lo_x <= ex <= lo_x + 4 and lo_y <= ey <= lo_y + 3
    with pytest.raises(ValueError, match="distortion_scale"):
        T.RandomPerspective(1.5)
    from PIL import Image

    pil = Image.fromarray(np.moveaxis(x.numpy(), 0, -1))
    assert T.RandomPerspective(p=1.0)(pil).size == (16, 12)


# ----------------------------------------------------------------------------------- elastic
def test_elastic_zero_and_constant_displacement() -> None:
    a = rand_image(8, 10)
    x = ctorch.from_numpy(a)
    zero = ctorch.zeros(1, 8, 10, 2)
    np.testing.assert_allclose(T.elastic_transform(x, zero).numpy(), a, atol=1e-6)
    d = np.zeros((1, 8, 10, 2), np.float32)
    d[..., 0] = 2.0 / 10  # one pixel to the right in grid units
    out = T.elastic_transform(x, ctorch.from_numpy(d), T.InterpolationMode.NEAREST, fill=0.5)
    np.testing.assert_allclose(out.numpy()[..., :-1], a[..., 1:], atol=1e-6)
    np.testing.assert_allclose(out.numpy()[..., -1], 0.5)
    with pytest.raises(ValueError, match="displacement shape"):
        T.elastic_transform(x, ctorch.zeros(1, 8, 9, 2))
    with pytest.raises(TypeError, match="displacement should be a Tensor"):
        T.elastic_transform(x, d)


def test_elastic_vs_torch_grid_sample() -> None:
    h, w = 10, 12
    a = rand_image(h, w, np.float64)
    ctorch.manual_seed(1)
    disp = T.ElasticTransform.get_params([3.0, 3.0], [1.5, 1.5], [h, w])
    assert list(disp.shape) == [1, h, w, 2]
    gx = (2 * np.arange(w) + 1 - w) / w
    gy = (2 * np.arange(h) + 1 - h) / h
    iy, ix = np.meshgrid(gy, gx, indexing="ij")
    grid = np.stack([ix, iy], -1)[None] + disp.numpy().astype(np.float64)
    ref = torch.nn.functional.grid_sample(
        torch.from_numpy(a)[None], torch.from_numpy(grid), align_corners=False
    )[0].numpy()
    out = T.elastic_transform(ctorch.from_numpy(a), disp).numpy()
    sx, sy = (grid[0, ..., 0] + 1) * w / 2, (grid[0, ..., 1] + 1) * h / 2
    inner = (sx > 1) & (sx < w - 1) & (sy > 1) & (sy < h - 1)
    assert inner.sum() > 30
    np.testing.assert_allclose(out[:, inner], ref[:, inner], atol=1e-5)


def test_elastic_transform_class() -> None:
    x = ctorch.from_numpy(rand_image(dtype=np.uint8))
    ctorch.manual_seed(2)
    a = T.ElasticTransform(alpha=20.0, sigma=3.0)(x)
    ctorch.manual_seed(2)
    b = T.ElasticTransform(alpha=20.0, sigma=3.0)(x)
    assert a.dtype == ctorch.uint8 and a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(T.ElasticTransform(alpha=0.0)(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="alpha is a sequence its length should be 2"):
        T.ElasticTransform(alpha=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="sigma should be float"):
        T.ElasticTransform(sigma=object())
    assert "ElasticTransform(alpha=[20.0, 20.0]" in repr(T.ElasticTransform(20.0, 3.0))


# -------------------------------------------------------------------------------------- AugMix
def test_augmix_mixing_weights_sum_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every op the identity the mix is the original (m0 + m1 * sum(w) = 1); with every
    op zeroing the image the result is m0 * original, 0 < m0 < 1 (Beta(alpha, alpha))."""
    from ctorch.vision.transforms import _autoaugment

    a = rand_image(6, 7, np.float32)
    x = ctorch.from_numpy(a)
    monkeypatch.setattr(_autoaugment, "_apply_op", lambda img, *args: img)
    out = T.AugMix(mixture_width=4, alpha=0.7)(x).numpy()
    np.testing.assert_allclose(out, a, rtol=1e-5)
    monkeypatch.setattr(_autoaugment, "_apply_op", lambda img, *args: img * 0.0)
    ratios = T.AugMix()(x).numpy() / a
    assert 0.0 < ratios.min() and ratios.max() < 1.0
    np.testing.assert_allclose(ratios, ratios.flat[0], rtol=1e-4)


def test_augmix_ops_chain_and_severity(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctorch.vision.transforms import _autoaugment

    calls: list[tuple[str, float]] = []

    def record(img, name, magnitude, *args):
        calls.append((name, magnitude))
        return img

    monkeypatch.setattr(_autoaugment, "_apply_op", record)
    t = T.AugMix(severity=1, mixture_width=2, chain_depth=3, all_ops=False)
    t(ctorch.from_numpy(rand_image(dtype=np.uint8)))
    assert len(calls) == 6  # width x depth
    space = t._augmentation_space(10, (12, 16))
    assert set(space) == {
        "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Posterize", "Solarize",
        "AutoContrast", "Equalize",
    }  # fmt: skip
    for name, mag in calls:  # severity 1: the first magnitude bin only
        first = space[name][0]
        assert abs(mag) == (float(first[0]) if first.ndim else 0.0)
    assert len(T.AugMix()._augmentation_space(10, (12, 16))) == 13


def test_augmix_real_ops_seed_dtype_pil() -> None:
    x = ctorch.from_numpy(rand_image(dtype=np.uint8))
    ctorch.manual_seed(7)
    a = T.AugMix()(x)
    ctorch.manual_seed(7)
    b = T.AugMix()(x)
    assert a.dtype == ctorch.uint8 and a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"severity must be between \[1, 10\]"):
        T.AugMix(severity=11)
    from PIL import Image

    pil = Image.fromarray(np.moveaxis(x.numpy(), 0, -1))
    assert T.AugMix()(pil).size == (16, 12)
    out = v2.AugMix()(tvt.Image(x))
    assert isinstance(out, tvt.Image) and out.shape == x.shape


def test_autoaugment_cifar10_svhn_policies() -> None:
    x = ctorch.from_numpy(rand_image(dtype=np.uint8))
    for pol in (T.AutoAugmentPolicy.CIFAR10, T.AutoAugmentPolicy.SVHN):
        t = T.AutoAugment(pol)
        assert len(t.policies) == 25 and t.policy is pol
        ctorch.manual_seed(11)
        a = t(x).numpy()
        ctorch.manual_seed(11)
        np.testing.assert_array_equal(a, t(x).numpy())
    assert T.AutoAugment(T.AutoAugmentPolicy.CIFAR10).policies[0] == (
        ("Invert", 0.1, None),
        ("Contrast", 0.2, 6),
    )
    assert T.AutoAugment(T.AutoAugmentPolicy.SVHN).policies[-1] == (
        ("ShearX", 0.7, 2),
        ("Invert", 0.1, None),
    )


# --------------------------------------------------------------------------- v2 boxes geometry
@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
def test_v2_rotate_boxes_exact_corners(fmt: str) -> None:
    xyxy = tvt.BoundingBoxes([[1.0, 2.0, 3.0, 5.0]], format="XYXY", canvas_size=(10, 10))
    boxes = F.convert_bounding_box_format(xyxy, new_format=fmt) if fmt != "XYXY" else xyxy
    # counter-clockwise on screen: (x, y) -> (y, 10 - x), (10 - x, 10 - y), (10 - y, x)
    expected = {90: [2, 7, 5, 9], 180: [7, 5, 9, 8], 270: [5, 1, 8, 3], 0: [1, 2, 3, 5]}
    for angle, exp in expected.items():
        out = F.rotate(boxes, angle)
        assert isinstance(out, tvt.BoundingBoxes) and out.format.value == fmt
        back = F.convert_bounding_box_format(out, new_format="XYXY") if fmt != "XYXY" else out
        np.testing.assert_allclose(back.numpy()[0], exp, atol=1e-9)
    wide = tvt.BoundingBoxes([[1, 2, 3, 5]], format="XYXY", canvas_size=(10, 20))
    out = F.rotate(wide, 90, expand=True)
    assert out.canvas_size == (20, 10) and out.tolist() == [[2, 17, 5, 19]]


def test_v2_affine_boxes_translate_scale_and_clamp() -> None:
    b = tvt.BoundingBoxes([[2.0, 2.0, 4.0, 6.0]], format="XYXY", canvas_size=(10, 10))
    np.testing.assert_allclose(F.affine(b, 0.0, [3, -1], 1.0, 0.0).numpy(), [[5, 1, 7, 5]])
    # scale 2 about the centre (5, 5): x -> 2x - 5
    np.testing.assert_allclose(F.affine(b, 0.0, [0, 0], 2.0, 0.0).numpy(), [[0, 0, 3, 7]])
    np.testing.assert_allclose(F.affine(b, 0.0, [8, 0], 1.0, 0.0).numpy(), [[10, 2, 10, 6]])
    with pytest.raises(ValueError, match="scale should be positive"):
        F.affine(b, 0.0, [0, 0], 0.0, 0.0)


@pytest.mark.parametrize("angle", [17.0, 45.0, -30.0, 133.0])
def test_v2_rotation_box_encloses_rotated_mask(angle: float) -> None:
    h, w = 30, 40
    m = np.zeros((h, w), np.uint8)
    m[8:18, 12:25] = 3
    mask = tvt.Mask(ctorch.from_numpy(m))
    boxes = tvt.BoundingBoxes([[12, 8, 25, 18]], format="XYXY", canvas_size=(h, w))
    img = tvt.Image(ctorch.from_numpy(np.stack([m * 50] * 3)))
    i2, b2, m2 = v2.RandomRotation((angle, angle), T.InterpolationMode.BILINEAR)(img, boxes, mask)
    mm = m2.numpy()
    assert m2.dtype == ctorch.uint8 and set(np.unique(mm)) <= {0, 3}  # nearest for masks
    mb, bb = mask_box(mm), b2.numpy()[0]
    assert bb[0] <= mb[0] + 1 and bb[1] <= mb[1] + 1 and bb[2] >= mb[2] - 1 and bb[3] >= mb[3] - 1
    # the enclosing box of the corners is tight: the mask touches (within 1.5 px) every side
    assert np.all(np.abs(np.array(mb) - bb) <= 1.5)
    assert isinstance(i2, tvt.Image) and i2.shape == img.shape


def test_v2_affine_and_perspective_boxes_follow_mask() -> None:
    h, w = 30, 40
    m = np.zeros((h, w), np.uint8)
    m[6:20, 10:28] = 1
    mask = tvt.Mask(ctorch.from_numpy(m))
    boxes = F.convert_bounding_box_format(
        tvt.BoundingBoxes([[10.0, 6, 28, 20]], format="XYXY", canvas_size=(h, w)),
        new_format="XYWH",
    )
    ctorch.manual_seed(4)
    for t in (
        v2.RandomAffine(25, translate=(0.1, 0.1), scale=(0.8, 1.1), shear=(-8, 8)),
        v2.RandomPerspective(0.4, p=1.0),
    ):
        b2, m2 = t(boxes, mask)
        assert b2.format is tvt.BoundingBoxFormat.XYWH
        x, y, bw, bh = b2.numpy()[0]
        mb = mask_box(m2.numpy())
        np.testing.assert_allclose([x, y, x + bw, y + bh], mb, atol=1.5)


def test_v2_perspective_functional_args() -> None:
    b = tvt.BoundingBoxes([[2, 2, 4, 6]], format="XYXY", canvas_size=(10, 10))
    start = [[0, 0], [9, 0], [9, 9], [0, 9]]
    assert F.perspective(b, start, start).tolist() == b.tolist()
    with pytest.raises(ValueError, match="concurrently"):
        F.perspective(b, start, start, coefficients=[1, 0, 0, 0, 1, 0, 0, 0])
    with pytest.raises(ValueError, match="8 float values"):
        F.perspective(b, None, None, coefficients=[1, 0])


def test_v2_elastic_images_masks_boxes() -> None:
    h, w = 20, 24
    m = np.zeros((h, w), np.uint8)
    m[5:12, 6:15] = 2
    mask, img = tvt.Mask(ctorch.from_numpy(m)), tvt.Image(ctorch.from_numpy(rand_image(h, w)))
    boxes = tvt.BoundingBoxes([[6, 5, 15, 12]], format="XYXY", canvas_size=(h, w))
    zero = ctorch.zeros(1, h, w, 2)
    np.testing.assert_allclose(F.elastic(boxes, zero).numpy(), boxes.numpy())
    np.testing.assert_array_equal(F.elastic(mask, zero).numpy(), m)
    d = np.zeros((1, h, w, 2), np.float32)
    d[..., 1] = -4.0 / h  # content moves two pixels down
    out_b = F.elastic(boxes, ctorch.from_numpy(d))
    out_m = F.elastic(mask, ctorch.from_numpy(d))
    assert out_b.tolist() == [[6, 7, 15, 14]] and mask_box(out_m.numpy()) == [6, 7, 15, 14]
    ctorch.manual_seed(0)
    i2, m2 = v2.ElasticTransform(alpha=10.0)(img, mask)
    assert isinstance(i2, tvt.Image) and m2.dtype == ctorch.uint8
    assert set(np.unique(m2.numpy())) <= {0, 2}


def test_v2_five_ten_crop_equal_slicing() -> None:
    a = rand_image(10, 12, np.uint8)
    img = tvt.Image(ctorch.from_numpy(a))
    tl, tr, bl, br, c = v2.FiveCrop((4, 5))(img)
    for got, ref in zip(
        (tl, tr, bl, br, c),
        (a[:, :4, :5], a[:, :4, 7:], a[:, 6:, :5], a[:, 6:, 7:], a[:, 3:7, 4:9]),
        strict=True,
    ):
        assert isinstance(got, tvt.Image)
        np.testing.assert_array_equal(got.numpy(), ref)
    ten = v2.TenCrop(4, vertical_flip=True)(img)
    assert len(ten) == 10
    np.testing.assert_array_equal(ten[5].numpy(), a[:, ::-1][:, :4, :4])
    with pytest.raises(TypeError, match="BoundingBoxes"):
        v2.FiveCrop(4)(img, tvt.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(10, 12)))


def test_v2_random_zoom_out() -> None:
    a = rand_image(8, 10, np.uint8)
    img = tvt.Image(ctorch.from_numpy(a))
    boxes = tvt.BoundingBoxes([[2, 1, 6, 5]], format="XYXY", canvas_size=(8, 10))
    ctorch.manual_seed(5)
    i2, b2 = v2.RandomZoomOut(fill=7, side_range=(2.0, 3.0), p=1.0)(img, boxes)
    big = i2.numpy()
    hh, ww = big.shape[1:]
    assert 16 <= hh <= 24 and 20 <= ww <= 30 and b2.canvas_size == (hh, ww)
    x1, y1 = int(b2.numpy()[0][0]) - 2, int(b2.numpy()[0][1]) - 1  # where the image went
    np.testing.assert_array_equal(big[:, y1 : y1 + 8, x1 : x1 + 10], a)
    outside = np.ones(big.shape, bool)
    outside[:, y1 : y1 + 8, x1 : x1 + 10] = False
    assert np.all(big[outside] == 7)
    assert v2.RandomZoomOut(p=0.0)(img) is img or v2.RandomZoomOut(p=0.0)(img).shape == img.shape
    with pytest.raises(ValueError, match="Invalid side range"):
        v2.RandomZoomOut(side_range=(0.5, 2.0))


def test_v2_random_iou_crop_and_sanitize() -> None:
    h, w = 40, 50
    img = tvt.Image(ctorch.from_numpy(rand_image(h, w, np.uint8)))
    boxes = tvt.BoundingBoxes(
        [[2, 2, 10, 10], [20, 15, 45, 38], [30, 5, 40, 12]], format="XYXY", canvas_size=(h, w)
    )
    target = {"boxes": boxes, "labels": ctorch.tensor([1, 2, 3])}
    for seed in range(6):
        ctorch.manual_seed(seed)
        i2, t2 = v2.RandomIoUCrop()(img, target)
        ctorch.manual_seed(seed)
        i3, _ = v2.RandomIoUCrop()(img, target)
        np.testing.assert_array_equal(i2.numpy(), i3.numpy())
        b = t2["boxes"].numpy()
        ch, cw = i2.shape[-2:]
        assert t2["boxes"].canvas_size == (ch, cw)
        assert np.all(b[:, 0::2] <= cw) and np.all(b[:, 1::2] <= ch)
        _, t3 = v2.SanitizeBoundingBoxes()(i2, t2)
        assert len(t3["boxes"]) == len(t3["labels"]) >= 1
    with pytest.raises(TypeError, match="requires input sample"):
        v2.RandomIoUCrop()(img)


def test_v2_resize_family() -> None:
    img = tvt.Image(ctorch.zeros(3, 20, 30, dtype=ctorch.uint8))
    boxes = tvt.BoundingBoxes([[3, 2, 9, 8]], format="XYXY", canvas_size=(20, 30))
    ctorch.manual_seed(0)
    i2, b2 = v2.ScaleJitter((60, 40), scale_range=(1.0, 1.0))(img, boxes)  # (w, h)
    assert i2.shape[-2:] == (40, 60) and b2.tolist() == [[6, 4, 18, 16]]
    i3 = v2.RandomShortestSize([10], max_size=12)(img)
    assert i3.shape[-2:] == (8, 12)
    for _ in range(5):
        i4 = v2.RandomResize(10, 13)(img)
        assert 10 <= i4.shape[-2] < 13 and i4.shape[-1] == int(i4.shape[-2] * 30 / 20)


def test_pil_paths_agree_with_tensor_paths() -> None:
    from PIL import Image

    a = rand_image(12, 16, np.uint8)
    pil = Image.fromarray(np.moveaxis(a, 0, -1))
    start = [[0, 0], [15, 0], [15, 11], [0, 11]]
    end = [[2, 1], [14, 0], [15, 10], [1, 11]]
    near = T.InterpolationMode.NEAREST
    p = np.moveaxis(np.asarray(T.perspective(pil, start, end, near)), -1, 0)
    t = T.perspective(ctorch.from_numpy(a), start, end, near).numpy()
    assert (p == t).mean() > 0.9  # Pillow rounds sample points slightly differently
    boxes = tvt.BoundingBoxes([[2, 2, 6, 5]], format="XYXY", canvas_size=(12, 16))
    out_pil, out_b = v2.RandomRotation((180, 180))(pil, boxes)
    assert out_pil.size == (16, 12) and out_b.tolist() == [[10, 7, 14, 10]]
    np.testing.assert_array_equal(np.asarray(out_pil), np.asarray(pil)[::-1, ::-1])


@pytest.mark.parametrize("mode", ["BICUBIC", "BOX", "HAMMING", "LANCZOS"])
def test_grid_transforms_refuse_other_modes_on_tensors(mode: str) -> None:
    # torchvision's _assert_grid_transform_inputs: only nearest and bilinear for tensors (a
    # bicubic rotate/affine used to fall back to nearest silently)
    img = ctorch.tensor(rand_image())
    m = getattr(T.InterpolationMode, mode)
    msg = f"Interpolation mode '{m.value}' is unsupported with Tensor input"
    calls = [
        lambda: T.functional.rotate(img, 30.0, interpolation=m),
        lambda: T.functional.affine(img, 10.0, [1, 2], 1.1, [0.0], interpolation=m),
        lambda: G.perspective(img, [[0, 0], [15, 0], [15, 11], [0, 11]],
                              [[1, 0], [14, 1], [15, 10], [0, 11]], interpolation=m),
        lambda: G.elastic_transform(img, ctorch.zeros(1, 12, 16, 2), interpolation=m),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(ValueError, match=msg):
            call()
    # nearest and bilinear still run
    out = T.functional.rotate(img, 30.0, interpolation=T.InterpolationMode.BILINEAR)
    assert tuple(out.shape) == (3, 12, 16)
