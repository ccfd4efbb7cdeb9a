"""The v1 transforms added for issue 14: against torch-computed (torchvision's tensor algorithm)
and NumPy references, and Pillow for PIL inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.vision import transforms as T
from ctorch.vision.transforms import functional as F


def test_gaussian_blur_matches_torch_conv() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.random((3, 9, 11)).astype(np.float32)
    got = F.gaussian_blur(ctorch.from_numpy(x), [5, 3], [1.3, 0.7]).numpy()

    def k1(k: int, s: float) -> torch.Tensor:
        t = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k, dtype=torch.float64)
        p = torch.exp(-0.5 * (t / s) ** 2)
        return p / p.sum()

    kern = torch.outer(k1(3, 0.7), k1(5, 1.3))  # (ky, kx)
    xt = torch.nn.functional.pad(torch.from_numpy(x).double()[None], [2, 2, 1, 1], mode="reflect")
    ref = torch.nn.functional.conv2d(xt, kern.expand(3, 1, 3, 5), groups=3)[0].numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    u8 = (x * 255).astype(np.uint8)
    got8 = F.gaussian_blur(ctorch.from_numpy(u8), 3, 1.0).numpy()
    assert got8.dtype == np.uint8
    with pytest.raises(ValueError, match="odd"):
        F.gaussian_blur(ctorch.from_numpy(x), 4)
    with pytest.raises(ValueError, match="sigma"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    ctorch.manual_seed(0)
    assert T.GaussianBlur(3)(ctorch.from_numpy(x)).shape == (3, 9, 11)


def test_color_ops_vs_numpy() -> None:
    rng = np.random.default_rng(1)
    u8 = rng.integers(0, 256, (3, 8, 8)).astype(np.uint8)
    f = rng.random((3, 8, 8)).astype(np.float32)
    t8, tf = ctorch.from_numpy(u8), ctorch.from_numpy(f)
    np.testing.assert_array_equal(F.invert(t8).numpy(), 255 - u8)
    np.testing.assert_allclose(F.invert(tf).numpy(), 1 - f)
    np.testing.assert_array_equal(F.posterize(t8, 3).numpy(), u8 & 0b11100000)
    np.testing.assert_array_equal(F.solarize(t8, 100).numpy(), np.where(u8 >= 100, 255 - u8, u8))
    lo, hi = f.min(axis=(1, 2), keepdims=True), f.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(F.autocontrast(tf).numpy(), (f - lo) / (hi - lo), rtol=1e-5)
    const = ctorch.full((1, 4, 4), 0.3)
    np.testing.assert_allclose(F.autocontrast(const).numpy(), 0.3, rtol=1e-6)
    # equalize: same as Pillow's ImageOps.equalize on each channel
    from PIL import Image, ImageOps

    got = F.equalize(t8).numpy()
    for c in range(3):
        ref = np.asarray(ImageOps.equalize(Image.fromarray(u8[c])))
        np.testing.assert_array_equal(got[c], ref)
    sharp = F.adjust_sharpness(tf, 1.0).numpy()
    np.testing.assert_allclose(sharp, f, rtol=1e-6)
    s0 = F.adjust_sharpness(tf, 0.0).numpy()
    k = np.ones((3, 3)) / 13
    k[1, 1] = 5 / 13
    inner = sum(k[i, j] * f[:, i : i + 6, j : j + 6] for i in range(3) for j in range(3))
    np.testing.assert_allclose(s0[:, 1:-1, 1:-1], inner, rtol=1e-5)
    np.testing.assert_allclose(s0[:, 0], f[:, 0])
    with pytest.raises(TypeError, match="uint8"):
        F.posterize(tf, 2)


def test_affine_rotation_matches_rotate_and_pillow() -> None:
    from PIL import Image

    rng = np.random.default_rng(2)
    u8 = rng.integers(0, 256, (9, 12, 3)).astype(np.uint8)
    im = Image.fromarray(u8)
    a = np.asarray(F.affine(im, 30.0, [0, 0], 1.0, 0.0))
    np.testing.assert_array_equal(a, np.asarray(im.rotate(30.0)))
    t = ctorch.from_numpy(np.ascontiguousarray(u8.transpose(2, 0, 1)))
    np.testing.assert_array_equal(
        F.affine(t, 30.0, [0, 0], 1.0, 0.0).numpy(), F.rotate(t, 30.0).numpy()
    )
    # pure translation moves pixels by whole steps and fills the rest
    shifted = F.affine(t, 0.0, [2, 1], 1.0, 0.0, fill=7).numpy()
    np.testing.assert_array_equal(shifted[:, 1:, 2:], u8.transpose(2, 0, 1)[:, :-1, :-2])
    assert (shifted[:, 0] == 7).all() and (shifted[:, :, :2] == 7).all()
    ctorch.manual_seed(0)
    out = T.RandomAffine(20, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=5)(t)
    assert out.shape == t.shape and out.dtype == t.dtype
    with pytest.raises(ValueError, match="translation"):
        T.RandomAffine(0, translate=(2.0, 0.0))


def test_random_erasing() -> None:
    ctorch.manual_seed(0)
    x = ctorch.ones(3, 20, 20)
    out = T.RandomErasing(p=1.0, value=0.0)(x)
    z = out.numpy() == 0
    assert z.any() and z.all(axis=0).sum() == z[0].sum()  # same rectangle in every channel
    rows, cols = np.nonzero(z[0])
    assert z[0][rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()
    assert (x.numpy() == 1).all()  # not in place
    r = T.RandomErasing(p=1.0, value="random")(x)
    assert (r.numpy() != 1).any()
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(ValueError, match="'random'"):
        T.RandomErasing(value="noise")
    np.testing.assert_array_equal(F.erase(x, 1, 2, 3, 4, 5.0).numpy()[:, 1:4, 2:6], 5.0)


def test_random_ops_probability_and_pil() -> None:
    from PIL import Image

    im = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8))
    for t in (
        T.RandomInvert(1.0),
        T.RandomAutocontrast(1.0),
        T.RandomEqualize(1.0),
        T.RandomPosterize(2, 1.0),
        T.RandomSolarize(10, 1.0),
        T.RandomAdjustSharpness(2, 1.0),
    ):
        assert isinstance(t(im), Image.Image)
        x = ctorch.from_numpy(np.asarray(im)[None].copy())
        assert type(t).__name__ in repr(t)
        out = t(x)
        assert out.shape == x.shape
        assert (
            type(t)(*([t.bits] if hasattr(t, "bits") else []), p=0.0)(x) is x
            if hasattr(t, "bits")
            else True
        )
    assert np.array_equal(np.asarray(T.RandomInvert(1.0)(im)), 255 - np.asarray(im))


def test_five_and_ten_crop() -> None:
    a = np.arange(3 * 6 * 8, dtype=np.float32).reshape(3, 6, 8)
    x = ctorch.from_numpy(a)
    tl, tr, bl, br, c = T.FiveCrop((2, 3))(x)
    np.testing.assert_array_equal(tl.numpy(), a[:, :2, :3])
    np.testing.assert_array_equal(tr.numpy(), a[:, :2, 5:])
    np.testing.assert_array_equal(bl.numpy(), a[:, 4:, :3])
    np.testing.assert_array_equal(br.numpy(), a[:, 4:, 5:])
    np.testing.assert_array_equal(c.numpy(), a[:, 2:4, 2:5])
    ten = T.TenCrop(2)(x)
    assert len(ten) == 10
    np.testing.assert_array_equal(ten[5].numpy(), a[:, :2, ::-1][:, :, :2])
    tv = F.ten_crop(x, 2, vertical_flip=True)
    np.testing.assert_array_equal(tv[5].numpy(), a[:, ::-1][:, :2, :2])
    with pytest.raises(ValueError, match="bigger"):
        F.five_crop(x, 7)
