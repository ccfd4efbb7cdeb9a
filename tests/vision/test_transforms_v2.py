"""transforms.v2 and tv_tensors: box/mask-aware geometry checked against NumPy and against the
mask it must follow, conversions, containers and PIL inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.vision import tv_tensors as tvt
from ctorch.vision.transforms import v2
from ctorch.vision.transforms.v2 import functional as F


def sample(h: int = 24, w: int = 32):
    img = np.zeros((3, h, w), np.uint8)
    m = np.zeros((h, w), np.uint8)
    img[:, 5:15, 8:20] = 200
    m[5:15, 8:20] = 1
    boxes = tvt.BoundingBoxes([[8, 5, 20, 15]], format="XYXY", canvas_size=(h, w))
    return tvt.Image(ctorch.from_numpy(img)), boxes, tvt.Mask(ctorch.from_numpy(m))


def mask_box(m: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(m)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_tv_tensors_basics() -> None:
    img = tvt.Image(np.zeros((4, 5), np.uint8))
    assert img.shape == (1, 4, 5) and isinstance(img, ctorch.Tensor)
    b = tvt.BoundingBoxes([1, 2, 3, 4], format="cxcywh", canvas_size=(10, 10))
    assert (
        b.shape == (1, 4) and b.format is tvt.BoundingBoxFormat.CXCYWH and b.canvas_size == (10, 10)
    )
    assert "canvas_size=(10, 10)" in repr(b)
    assert type(b + 1) is ctorch.Tensor  # plain ops unwrap, as torchvision
    w = tvt.wrap(b + 1, like=b)
    assert isinstance(w, tvt.BoundingBoxes) and w.format is b.format
    with pytest.raises(ValueError, match="N, 4"):
        tvt.BoundingBoxes([[1, 2, 3]], format="XYXY", canvas_size=(3, 3))


@pytest.mark.parametrize("seed", range(6))
def test_random_geometry_keeps_boxes_on_the_mask(seed: int) -> None:
    ctorch.manual_seed(seed)
    img, boxes, mask = sample()
    t = v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.Pad([3, 1, 2, 4]),
            v2.RandomCrop((26, 30)),
            v2.Resize((52, 60), interpolation=v2.InterpolationMode.NEAREST),
            v2.CenterCrop((48, 58)),
        ]
    )
    out_img, target = t(img, {"boxes": boxes, "mask": mask})
    assert isinstance(out_img, tvt.Image) and isinstance(target["mask"], tvt.Mask)
    assert target["boxes"].canvas_size == (48, 58) == tuple(out_img.shape[-2:])
    m = target["mask"].numpy()
    np.testing.assert_allclose(target["boxes"].numpy()[0], mask_box(m))
    np.testing.assert_array_equal(out_img.numpy()[0] == 200, m == 1)


def test_box_functionals_vs_numpy_and_formats() -> None:
    a = np.array([[2.0, 3.0, 10.0, 12.0], [20.0, 5.0, 29.0, 19.0]])
    b = tvt.BoundingBoxes(a, format="XYXY", canvas_size=(20, 30))
    np.testing.assert_allclose(
        F.horizontal_flip(b).numpy(), np.stack([30 - a[:, 2], a[:, 1], 30 - a[:, 0], a[:, 3]], 1)
    )
    np.testing.assert_allclose(
        F.vertical_flip(b).numpy(), np.stack([a[:, 0], 20 - a[:, 3], a[:, 2], 20 - a[:, 1]], 1)
    )
    r = F.resize(b, [40, 15])
    np.testing.assert_allclose(r.numpy(), a * [0.5, 2, 0.5, 2])
    assert r.canvas_size == (40, 15)
    c = F.crop(b, 4, 5, 10, 20)
    np.testing.assert_allclose(c.numpy(), np.clip(a - [5, 4, 5, 4], 0, [20, 10, 20, 10]))
    p = F.pad(b, [1, 2])
    np.testing.assert_allclose(p.numpy(), a + [1, 2, 1, 2])
    assert p.canvas_size == (24, 32)
    xywh = tvt.BoundingBoxes(
        np.concatenate([a[:, :2], a[:, 2:] - a[:, :2]], 1), format="XYWH", canvas_size=(20, 30)
    )
    fx = F.horizontal_flip(xywh).numpy()
    np.testing.assert_allclose(fx[:, :2] + fx[:, 2:], F.horizontal_flip(b).numpy()[:, 2:])
    conv = v2.ConvertBoundingBoxFormat("CXCYWH")(b)
    np.testing.assert_allclose(
        conv.numpy(), np.concatenate([(a[:, :2] + a[:, 2:]) / 2, a[:, 2:] - a[:, :2]], 1)
    )
    wide = tvt.BoundingBoxes([[-5.0, 2, 40, 25]], format="XYXY", canvas_size=(20, 30))
    np.testing.assert_allclose(v2.ClampBoundingBoxes()(wide).numpy(), [[0, 2, 30, 20]])


def test_resize_smaller_edge_and_pil() -> None:
    from PIL import Image

    pil = Image.fromarray(np.zeros((20, 30, 3), np.uint8))
    out = v2.Resize(10)(pil)
    assert isinstance(out, Image.Image) and out.size == (15, 10)
    img, boxes, _ = sample()
    o_img, o_boxes = v2.Resize(12)(img, boxes)
    assert o_img.shape == (3, 12, 16) and o_boxes.canvas_size == (12, 16)
    np.testing.assert_array_equal(o_boxes.numpy(), [[4, 2, 10, 7]])  # int boxes truncate
    fb = tvt.BoundingBoxes([[8.0, 5, 20, 15]], format="XYXY", canvas_size=(24, 32))
    np.testing.assert_allclose(v2.Resize(12)(fb).numpy(), [[4, 2.5, 10, 7.5]])
    o = v2.Compose(
        [
            v2.RandomResizedCrop(8),
            v2.ColorJitter(0.3, 0.3, 0.3, 0.1),
            v2.GaussianBlur(3),
            v2.ToImage(),
            v2.ToDtype(ctorch.float32, scale=True),
        ]
    )(pil)
    assert isinstance(o, tvt.Image) and o.shape == (3, 8, 8) and o.dtype == ctorch.float32


def test_to_image_to_dtype_to_pure_tensor() -> None:
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    img = v2.ToImage()(arr)
    assert isinstance(img, tvt.Image) and img.shape == (3, 2, 4)
    np.testing.assert_array_equal(img.numpy(), arr.transpose(2, 0, 1))
    f = v2.ToDtype(ctorch.float32, scale=True)(img)
    assert isinstance(f, tvt.Image)
    np.testing.assert_allclose(f.numpy(), arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    back = F.to_dtype(f, ctorch.uint8, scale=True)
    np.testing.assert_array_equal(back.numpy(), arr.transpose(2, 0, 1))
    assert v2.ToDtype(ctorch.float32)(img).numpy().max() == 23  # no scale
    mask = tvt.Mask(ctorch.ones(2, 4, dtype=ctorch.uint8))
    i2, m2 = v2.ToDtype({tvt.Image: ctorch.float32, tvt.Mask: ctorch.int64}, scale=True)(img, mask)
    assert i2.dtype == ctorch.float32 and m2.dtype == ctorch.int64 and m2.numpy().max() == 1
    i3, m3 = v2.ToDtype(ctorch.float32, scale=True)(img, mask)
    assert m3.dtype == ctorch.uint8  # a single dtype converts only images
    pure = v2.ToPureTensor()(img)
    assert type(pure) is ctorch.Tensor


def test_normalize_and_image_only_transforms_leave_boxes() -> None:
    img, boxes, mask = sample()
    f = F.to_dtype(img, ctorch.float32, scale=True)
    out, b2, m2 = v2.Normalize([0.5] * 3, [0.25] * 3)(f, boxes, mask)
    np.testing.assert_allclose(out.numpy(), (f.numpy() - 0.5) / 0.25, rtol=1e-6)
    assert b2 is boxes and m2 is mask
    ctorch.manual_seed(0)
    e, b3 = v2.RandomErasing(p=1.0)(f, boxes)
    assert isinstance(e, tvt.Image) and b3 is boxes
    with pytest.raises(TypeError, match="PIL"):
        from PIL import Image

        v2.Normalize([0.5], [0.5])(Image.new("L", (4, 4)))


def test_containers_and_lambda() -> None:
    x = ctorch.rand(3, 6, 6)
    ctorch.manual_seed(0)
    assert v2.RandomApply([v2.RandomHorizontalFlip(1.0)], p=0.0)(x) is x
    np.testing.assert_array_equal(
        v2.RandomApply([v2.RandomHorizontalFlip(1.0)], p=1.0)(x).numpy(), x.numpy()[..., ::-1]
    )
    c = v2.RandomChoice([v2.RandomHorizontalFlip(1.0), v2.RandomVerticalFlip(1.0)], p=[0.0, 1.0])
    np.testing.assert_array_equal(c(x).numpy(), x.numpy()[..., ::-1, :])
    lam = v2.Lambda(lambda t: t * 2, ctorch.Tensor)
    out, label = lam(x, 3)
    np.testing.assert_allclose(out.numpy(), x.numpy() * 2)
    assert label == 3
    with pytest.raises(ValueError, match="at least one"):
        v2.Compose([])


def test_rotation_and_affine_images_masks() -> None:
    img, boxes, mask = sample()
    ctorch.manual_seed(0)
    i2, m2 = v2.RandomRotation((90, 90))(img, mask)
    np.testing.assert_array_equal(
        i2.numpy(), F.rotate(img.as_subclass(ctorch.Tensor), 90.0).numpy()
    )
    assert isinstance(m2, tvt.Mask) and m2.shape == mask.shape
    i3, m3 = v2.RandomAffine(0, translate=(0.2, 0.2))(img, mask)
    np.testing.assert_array_equal(i3.numpy()[0] == 200, m3.numpy() == 1)
    _, b4, m4 = v2.RandomRotation((90, 90))(img, boxes, mask)  # boxes move with the mask
    assert b4.tolist()[0] == mask_box(m4.numpy())


def test_sanitize_bounding_boxes() -> None:
    img, _, _ = sample()
    boxes = tvt.BoundingBoxes(
        [[0, 0, 5, 5], [3, 3, 3.5, 9], [10, 10, 12, 12]], format="XYXY", canvas_size=(24, 32)
    )
    _, t = v2.SanitizeBoundingBoxes()(img, {"boxes": boxes, "labels": ctorch.tensor([1, 2, 3])})
    assert t["labels"].tolist() == [1, 3] and isinstance(t["boxes"], tvt.BoundingBoxes)
    np.testing.assert_allclose(t["boxes"].numpy(), [[0, 0, 5, 5], [10, 10, 12, 12]])
