"""v2 CutMix, MixUp, GaussianNoise, RandomChannelPermutation, RandomPhotometricDistort:
mixing formulas against torch references, label/box consistency, errors, seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ctorch
from ctorch.vision import tv_tensors as tvt
from ctorch.vision.transforms import v2


def batch(n: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return r.random((n, 3, 8, 10)).astype(np.float32), np.array([0, 2, 1, 3][:n])


def test_mixup_matches_formula_and_labels() -> None:
    x, y = batch()
    ctorch.manual_seed(0)
    out, lab = v2.MixUp(alpha=0.4, num_classes=5)(ctorch.from_numpy(x), ctorch.from_numpy(y))
    lab = lab.numpy()
    assert lab.shape == (4, 5)
    np.testing.assert_allclose(lab.sum(1), 1.0, rtol=1e-6)
    lam = lab[0, y[0]]  # weight of each sample's own class
    one = torch.nn.functional.one_hot(torch.from_numpy(y), 5).double()
    ref_lab = (one.roll(1, 0) * (1 - lam) + one * lam).numpy()
    np.testing.assert_allclose(lab, ref_lab, rtol=1e-5, atol=1e-6)
    tx = torch.from_numpy(x)
    ref = (tx.roll(1, 0) * (1 - lam) + tx * lam).numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    ctorch.manual_seed(0)
    again, _ = v2.MixUp(alpha=0.4, num_classes=5)(ctorch.from_numpy(x), ctorch.from_numpy(y))
    np.testing.assert_array_equal(out.numpy(), again.numpy())


def test_cutmix_box_and_label_area() -> None:
    x, y = batch()
    img = tvt.Image(ctorch.from_numpy(x))
    for seed in range(5):
        ctorch.manual_seed(seed)
        out, target = v2.CutMix(num_classes=4)(img, {"labels": ctorch.from_numpy(y)})
        assert isinstance(out, tvt.Image)
        o = out.numpy()
        rolled = np.roll(x, 1, 0)
        from_roll = np.all(np.isclose(o, rolled), axis=(0, 1)) & ~np.all(
            np.isclose(o, x), axis=(0, 1)
        )
        from_self = np.all(np.isclose(o, x), axis=(0, 1))
        assert np.all(from_roll | from_self)
        lam = target["labels"].numpy()[0, y[0]]
        np.testing.assert_allclose(1.0 - lam, from_roll.mean(), atol=1e-6)
        if from_roll.any():  # the pasted region is a rectangle
            ys, xs = np.nonzero(from_roll)
            assert from_roll[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].all()


def test_mix_errors_and_2d_labels() -> None:
    x, y = batch()
    xt, yt = ctorch.from_numpy(x), ctorch.from_numpy(y)
    with pytest.raises(ValueError, match="num_classes must be passed"):
        v2.MixUp()(xt, yt)
    with pytest.raises(ValueError, match="batched input with 4 dims"):
        v2.MixUp(num_classes=4)(xt[0], yt)
    with pytest.raises(ValueError, match="batch size"):
        v2.CutMix(num_classes=4)(xt[:3], yt)
    boxes = tvt.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(8, 10))
    with pytest.raises(ValueError, match="bounding boxes"):
        v2.MixUp(num_classes=4)(xt, {"labels": yt, "boxes": boxes})
    with pytest.raises(ValueError, match="labels should be index based"):
        v2.MixUp(num_classes=4)(xt, ctorch.zeros(4, 2, 2))
    soft = ctorch.from_numpy(np.eye(4, dtype=np.float32))
    _, lab = v2.MixUp()(xt, soft)
    assert lab.shape == (4, 4)
    with pytest.raises(ValueError, match="num_classes"):
        v2.MixUp(num_classes=3)(xt, soft)
    with pytest.raises(ValueError, match="Could not infer where the labels"):
        v2.MixUp(num_classes=4)(xt, {"y": yt})


def test_gaussian_noise() -> None:
    x = ctorch.full((3, 40, 40), 0.5)
    ctorch.manual_seed(1)
    a = v2.GaussianNoise(sigma=0.05)(x).numpy()
    ctorch.manual_seed(1)
    b = v2.GaussianNoise(sigma=0.05)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.std() - 0.05) < 0.01
    c = v2.GaussianNoise(mean=2.0, sigma=0.1)(x).numpy()
    assert c.max() <= 1.0 and np.all(c == 1.0)
    d = v2.GaussianNoise(mean=2.0, sigma=0.1, clip=False)(x).numpy()
    assert d.min() > 1.0
    with pytest.raises(ValueError, match="float dtype"):
        v2.GaussianNoise()(ctorch.zeros(3, 4, 4, dtype=ctorch.uint8))
    with pytest.raises(ValueError, match="sigma shouldn't be negative"):
        v2.GaussianNoise(sigma=-1.0)


def test_channel_permutation_and_photometric_distort() -> None:
    r = np.random.default_rng(0)
    a = r.integers(0, 256, (3, 6, 7)).astype(np.uint8)
    img = tvt.Image(ctorch.from_numpy(a))
    ctorch.manual_seed(2)
    out = v2.RandomChannelPermutation()(img)
    assert isinstance(out, tvt.Image)
    o = out.numpy()
    perm = [next(j for j in range(3) if np.array_equal(o[i], a[j])) for i in range(3)]
    assert sorted(perm) == [0, 1, 2]
    np.testing.assert_array_equal(v2.RandomPhotometricDistort(p=0.0)(img).numpy(), a)
    ctorch.manual_seed(3)
    d1 = v2.RandomPhotometricDistort(p=1.0)(img).numpy()
    ctorch.manual_seed(3)
    d2 = v2.RandomPhotometricDistort(p=1.0)(img).numpy()
    np.testing.assert_array_equal(d1, d2)
    assert d1.dtype == np.uint8 and not np.array_equal(d1, a)
    boxes = tvt.BoundingBoxes([[1, 1, 3, 3]], format="XYXY", canvas_size=(6, 7))
    _, b2 = v2.RandomPhotometricDistort(p=1.0)(img, boxes)
    assert b2 is boxes


def test_linear_transformation_v1_v2_and_grad() -> None:
    from ctorch.vision import transforms as T

    r = np.random.default_rng(4)
    m = r.standard_normal((12, 12))
    mu = r.standard_normal(12)
    x = r.standard_normal((2, 3, 2, 2))
    t = T.LinearTransformation(ctorch.from_numpy(m), ctorch.from_numpy(mu))
    ref = (torch.from_numpy(x).reshape(-1, 12) - torch.from_numpy(mu)) @ torch.from_numpy(m)
    np.testing.assert_allclose(t(ctorch.from_numpy(x)).numpy(), ref.reshape(2, 3, 2, 2).numpy())
    out = v2.LinearTransformation(ctorch.from_numpy(m), ctorch.from_numpy(mu))(
        tvt.Image(ctorch.from_numpy(x[0]))
    )
    assert isinstance(out, tvt.Image)
    np.testing.assert_allclose(out.numpy(), ref[:1].reshape(3, 2, 2).numpy())
    xg = ctorch.from_numpy(x[0]).requires_grad_(True)
    assert ctorch.autograd.gradcheck(lambda a: t(a), (xg,))
    with pytest.raises(ValueError, match="should be square"):
        T.LinearTransformation(ctorch.zeros(3, 4, dtype=ctorch.float64), ctorch.zeros(3))
    with pytest.raises(ValueError, match="same length"):
        T.LinearTransformation(ctorch.zeros(3, 3), ctorch.zeros(4))
    with pytest.raises(ValueError, match="same dtype"):
        T.LinearTransformation(ctorch.zeros(3, 3, dtype=ctorch.float64), ctorch.zeros(3))
    with pytest.raises(ValueError, match="incompatible shape"):
        t(ctorch.zeros(3, 3, 3, dtype=ctorch.float64))


def test_uniform_temporal_subsample() -> None:
    v = np.arange(10 * 3 * 2 * 2, dtype=np.float32).reshape(10, 3, 2, 2)
    vid = tvt.Video(ctorch.from_numpy(v))
    out = v2.UniformTemporalSubsample(4)(vid)
    assert isinstance(out, tvt.Video)
    idx = torch.linspace(0, 9, 4).long().numpy()  # torchvision's frame choice
    np.testing.assert_array_equal(out.numpy(), v[idx])
    np.testing.assert_array_equal(
        v2.UniformTemporalSubsample(3)(ctorch.from_numpy(v)).numpy(), v[[0, 4, 9]]
    )
