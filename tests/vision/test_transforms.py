"""ctorch.vision.transforms: PIL, NumPy and tensor inputs, against Pillow / torch / NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.vision import transforms as T

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)


def chw(t):
    return np.asarray(t.numpy())


def hwc(img):
    return np.asarray(img).astype(np.int64)


# -- conversions ----------------------------------------------------------------------------------
def test_to_tensor_pil_rgb_and_gray(rgb):
    t = T.ToTensor()(Image.fromarray(rgb))
    assert isinstance(t, ctorch.Tensor) and t.dtype == ctorch.float32
    assert tuple(t.shape) == (3, 20, 30)
    np.testing.assert_allclose(chw(t), rgb.transpose(2, 0, 1) / 255.0, rtol=0, atol=1e-7)
    g = T.ToTensor()(Image.fromarray(rgb[:, :, 0]))
    assert tuple(g.shape) == (1, 20, 30)


def test_to_tensor_numpy(rgb):
    t = T.ToTensor()(rgb)
    assert tuple(t.shape) == (3, 20, 30) and t.dtype == ctorch.float32
    assert float(t.max()) <= 1.0
    f = T.ToTensor()(np.ones((4, 5), dtype=np.float64) * 7)  # non-uint8 arrays are not scaled
    assert tuple(f.shape) == (1, 4, 5) and f.dtype == ctorch.float64 and float(f.max()) == 7.0


def test_to_tensor_modes():
    t = T.ToTensor()(Image.fromarray(np.full((2, 2), 3, np.int32)))  # mode I: not scaled
    assert t.dtype == ctorch.int32 and int(t.max()) == 3
    one = Image.new("1", (3, 2), 1)
    assert float(T.ToTensor()(one).min()) == 1.0


def test_pil_to_tensor(rgb):
    t = T.PILToTensor()(Image.fromarray(rgb))
    assert t.dtype == ctorch.uint8 and tuple(t.shape) == (3, 20, 30)
    np.testing.assert_array_equal(chw(t), rgb.transpose(2, 0, 1))


def test_to_pil_image_round_trip(rgb):
    img = T.ToPILImage()(T.ToTensor()(rgb))
    assert img.mode == "RGB" and img.size == (30, 20)
    np.testing.assert_array_equal(np.asarray(img), rgb)
    gray = T.ToPILImage()(ctorch.rand(1, 4, 5))
    assert gray.mode == "L" and gray.size == (5, 4)
    f = T.ToPILImage(mode="F")(ctorch.rand(1, 4, 5))
    assert f.mode == "F"
    assert T.ToPILImage()(rgb).mode == "RGB"
    assert T.ToPILImage()(np.zeros((4, 4, 4), np.uint8)).mode == "RGBA"
    with pytest.raises(ValueError):
        T.ToPILImage()(ctorch.rand(5, 4, 4))
    with pytest.raises(TypeError):
        T.ToPILImage()(np.zeros((4, 4, 3)))  # float64 ndarray: unsupported, as in torchvision


def test_to_pil_image_float_is_truncated_like_byte():
    t = ctorch.tensor([[[0.999, 0.5, 0.0]]])
    assert np.asarray(T.ToPILImage()(t)).tolist() == [[254, 127, 0]]


# -- normalize ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mean, std",
    [
        ((0.5, 0.4, 0.3), (0.2, 0.25, 0.5)),
        ([0.5, 0.4, 0.3], [0.2, 0.25, 0.5]),
        (0.5, 0.5),
        ((0.1307,), (0.3081,)),
    ],
)
def test_normalize_values(mean, std):
    x = ctorch.rand(3, 4, 5)
    out = T.Normalize(mean, std)(x)
    m = np.asarray(mean, np.float32).reshape(-1, 1, 1) if np.ndim(mean) else np.float32(mean)
    s = np.asarray(std, np.float32).reshape(-1, 1, 1) if np.ndim(std) else np.float32(std)
    np.testing.assert_allclose(chw(out), (chw(x) - m) / s, rtol=1e-6)
    assert out.dtype == ctorch.float32


def test_normalize_zero_dim_tensors_and_inplace():
    x = ctorch.rand(3, 2, 2)
    before = chw(x).copy()
    out = T.Normalize(ctorch.tensor(0.5), ctorch.tensor(0.25))(x)
    np.testing.assert_allclose(chw(out), (before - 0.5) / 0.25, rtol=1e-6)
    np.testing.assert_array_equal(chw(x), before)  # not in place by default
    out2 = T.Normalize([ctorch.tensor(0.5)] * 3, [ctorch.tensor(0.25)] * 3, inplace=True)(x)
    assert out2 is x
    np.testing.assert_allclose(chw(x), (before - 0.5) / 0.25, rtol=1e-6)


def test_normalize_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((2, 3, 4, 4), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ref = (torch.from_numpy(x) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(
        -1, 1, 1
    )
    out = T.Normalize(mean, std)(ctorch.from_numpy(x.copy()))
    np.testing.assert_allclose(chw(out), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_normalize_errors():
    with pytest.raises(TypeError):
        T.Normalize(0.5, 0.5)(ctorch.zeros(3, 2, 2, dtype=ctorch.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(0.5, 0.0)(ctorch.rand(3, 2, 2))
    with pytest.raises(ValueError):
        T.Normalize(0.5, 0.5)(ctorch.rand(2, 2))


# -- resize ---------------------------------------------------------------------------------------
def test_resize_int_matches_smaller_edge(rgb):
    img = T.Resize(10)(Image.fromarray(rgb))
    assert img.size == (15, 10)  # (w, h)
    t = T.Resize(10)(T.PILToTensor()(Image.fromarray(rgb)))
    assert tuple(t.shape) == (3, 10, 15)
    tall = T.Resize(8)(ctorch.rand(1, 40, 20))
    assert tuple(tall.shape) == (1, 16, 8)
    assert tuple(T.Resize((7, 9))(ctorch.rand(3, 20, 20)).shape) == (3, 7, 9)
    assert tuple(T.Resize(10, max_size=12)(ctorch.rand(1, 10, 30)).shape) == (1, 4, 12)


def test_resize_pil_is_pillow_bilinear(rgb):
    img = Image.fromarray(rgb)
    out = T.Resize((11, 17))(img)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((17, 11), Image.BILINEAR)))


@pytest.mark.parametrize("size", [(10, 15), (40, 60), (7, 33), (20, 30)])
def test_resize_tensor_close_to_pillow(rgb, size):
    img = Image.fromarray(rgb)
    pil = hwc(T.Resize(size)(img))
    ten = chw(T.Resize(size)(T.PILToTensor()(img))).transpose(1, 2, 0).astype(np.int64)
    assert np.abs(pil - ten).max() <= 1


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(9, 13), (31, 47)])
def test_resize_float_tensor_matches_torch_interpolate(antialias, size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((3, 20, 30), dtype=np.float32)
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(x)[None],
        size=size,
        mode="bilinear",
        align_corners=False,
        antialias=antialias,
    )[0]
    out = T.Resize(size, antialias=antialias)(ctorch.from_numpy(x.copy()))
    np.testing.assert_allclose(chw(out), ref.numpy(), rtol=1e-5, atol=1e-5)


def test_resize_nearest_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 7 * 9, dtype=np.float32).reshape(2, 7, 9)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=(4, 13), mode="nearest")
    out = T.Resize((4, 13), interpolation=T.InterpolationMode.NEAREST)(ctorch.from_numpy(x))
    np.testing.assert_array_equal(chw(out), ref[0].numpy())


def test_resize_numpy_keeps_hwc(rgb):
    out = T.Resize((10, 12))(rgb)
    assert isinstance(out, np.ndarray) and out.shape == (10, 12, 3) and out.dtype == np.uint8


def test_resize_int_interpolation_warns():
    with pytest.warns(UserWarning):
        t = T.Resize(4, interpolation=2)
    assert t.interpolation == T.InterpolationMode.BILINEAR


# -- crops ----------------------------------------------------------------------------------------
def test_center_crop(rgb):
    t = T.PILToTensor()(Image.fromarray(rgb))
    out = T.CenterCrop((10, 12))(t)
    np.testing.assert_array_equal(chw(out), chw(t)[:, 5:15, 9:21])
    pil = T.CenterCrop((10, 12))(Image.fromarray(rgb))
    np.testing.assert_array_equal(np.asarray(pil), rgb[5:15, 9:21])
    big = T.CenterCrop(24)(ctorch.ones(1, 20, 20))
    assert tuple(big.shape) == (1, 24, 24)
    assert float(big.sum()) == 400.0  # zero padding around


def test_random_crop_reproducible_and_inside(rgb):
    t = T.PILToTensor()(Image.fromarray(rgb))
    crop = T.RandomCrop((8, 8))
    ctorch.manual_seed(0)
    a = [chw(crop(t)) for _ in range(5)]
    ctorch.manual_seed(0)
    b = [chw(crop(t)) for _ in range(5)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    full = chw(t)
    for x in a:  # every crop is a window of the image
        assert x.shape == (3, 8, 8)
        found = any(
            np.array_equal(full[:, i : i + 8, j : j + 8], x) for i in range(13) for j in range(23)
        )
        assert found


def test_random_crop_padding_and_pad_if_needed():
    x = ctorch.ones(3, 32, 32)
    out = T.RandomCrop(32, padding=4)(x)
    assert tuple(out.shape) == (3, 32, 32)
    small = T.RandomCrop(10, pad_if_needed=True, fill=0)(ctorch.ones(1, 6, 8))
    assert tuple(small.shape) == (1, 10, 10) and float(small.sum()) == 48.0
    pil = T.RandomCrop(32, padding=4, padding_mode="reflect")(Image.new("RGB", (32, 32)))
    assert pil.size == (32, 32)
    with pytest.raises(ValueError):
        T.RandomCrop(40)(ctorch.ones(1, 10, 10))


def test_random_resized_crop(rgb):
    t = T.RandomResizedCrop(16)
    ctorch.manual_seed(3)
    a = chw(t(ctorch.from_numpy(rgb.transpose(2, 0, 1).copy())))
    ctorch.manual_seed(3)
    b = chw(t(ctorch.from_numpy(rgb.transpose(2, 0, 1).copy())))
    assert a.shape == (3, 16, 16)
    np.testing.assert_array_equal(a, b)
    assert T.RandomResizedCrop((8, 12))(Image.fromarray(rgb)).size == (12, 8)
    i, j, h, w = T.RandomResizedCrop.get_params(ctorch.rand(3, 20, 30), (0.08, 1.0), (0.75, 4 / 3))
    assert 0 <= i and i + h <= 20 and 0 <= j and j + w <= 30


# -- flips / rotation -----------------------------------------------------------------------------
def test_flips(rgb):
    t = T.PILToTensor()(Image.fromarray(rgb))
    np.testing.assert_array_equal(chw(T.RandomHorizontalFlip(1.0)(t)), chw(t)[:, :, ::-1])
    np.testing.assert_array_equal(chw(T.RandomVerticalFlip(1.0)(t)), chw(t)[:, ::-1, :])
    np.testing.assert_array_equal(chw(T.RandomHorizontalFlip(0.0)(t)), chw(t))
    pil = T.RandomHorizontalFlip(1.0)(Image.fromarray(rgb))
    np.testing.assert_array_equal(np.asarray(pil), rgb[:, ::-1])
    arr = T.RandomVerticalFlip(1.0)(rgb)
    np.testing.assert_array_equal(arr, rgb[::-1])


def test_random_flip_uses_ctorch_rng():
    x = ctorch.arange(4).reshape(1, 1, 4)
    flip = T.RandomHorizontalFlip()
    ctorch.manual_seed(5)
    a = [chw(flip(x))[0, 0, 0] for _ in range(20)]
    ctorch.manual_seed(5)
    b = [chw(flip(x))[0, 0, 0] for _ in range(20)]
    assert a == b and set(a) == {0, 3}


@pytest.mark.parametrize("angle", [30.0, 90.0, -45.0])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_tensor_matches_pillow(rgb, angle, expand):
    img = Image.fromarray(rgb)
    pil = hwc(img.rotate(angle, expand=expand))
    ten = chw(T.rotate(T.PILToTensor()(img), angle, expand=expand)).transpose(1, 2, 0)
    assert pil.shape == ten.shape
    assert (pil != ten).mean() < 0.05  # nearest: a few samples on pixel boundaries may differ
    pil_b = hwc(img.rotate(angle, expand=expand, resample=Image.BILINEAR))
    ten_b = chw(
        T.rotate(T.PILToTensor()(img), angle, T.InterpolationMode.BILINEAR, expand=expand)
    ).transpose(1, 2, 0)
    assert np.abs(pil_b - ten_b.astype(np.int64)).max() <= 1


def test_rotate_90_square_is_rot90():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    out = T.rotate(ctorch.from_numpy(x), 90.0)
    np.testing.assert_array_equal(chw(out), np.rot90(x, 1, axes=(1, 2)))


def test_random_rotation(rgb):
    rot = T.RandomRotation(15, fill=0)
    ctorch.manual_seed(1)
    a = rot(Image.fromarray(rgb))
    ctorch.manual_seed(1)
    b = rot(Image.fromarray(rgb))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert rot.degrees == [-15.0, 15.0]
    assert tuple(rot(ctorch.rand(3, 10, 10)).shape) == (3, 10, 10)


# -- colour ---------------------------------------------------------------------------------------
def test_grayscale(rgb):
    g = T.Grayscale()(Image.fromarray(rgb))
    assert g.mode == "L"
    g3 = T.Grayscale(3)(Image.fromarray(rgb))
    assert g3.mode == "RGB"
    x = T.ToTensor()(rgb)
    out = T.Grayscale()(x)
    ref = 0.2989 * chw(x)[0] + 0.587 * chw(x)[1] + 0.114 * chw(x)[2]
    assert tuple(out.shape) == (1, 20, 30)
    np.testing.assert_allclose(chw(out)[0], ref, rtol=1e-6)
    assert tuple(T.Grayscale(3)(x).shape) == (3, 20, 30)
    # PIL (ITU-R 601-2 luma, integer) and tensor paths agree within rounding
    np.testing.assert_allclose(np.asarray(g) / 255.0, ref, atol=1.5 / 255)


def test_adjustments_tensor_vs_pil(rgb):
    img = Image.fromarray(rgb)
    t = T.PILToTensor()(img)
    for fn, factor in [
        (T.adjust_brightness, 1.3),
        (T.adjust_contrast, 0.7),
        (T.adjust_saturation, 1.5),
        (T.adjust_hue, 0.2),
    ]:
        pil = hwc(fn(img, factor))
        ten = chw(fn(t, factor)).transpose(1, 2, 0).astype(np.int64)
        tol = 12 if fn is T.adjust_hue else 2  # PIL's hue works on 8-bit HSV
        assert np.abs(pil - ten).mean() < tol, fn.__name__


def test_brightness_tensor_value():
    x = ctorch.full((3, 2, 2), 0.4)
    np.testing.assert_allclose(chw(T.adjust_brightness(x, 2.0)), 0.8, rtol=1e-6)
    np.testing.assert_allclose(chw(T.adjust_brightness(x, 3.0)), 1.0)  # clamped


def test_color_jitter(rgb):
    cj = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    assert cj.brightness == (0.6, 1.4) and cj.hue == (-0.1, 0.1)
    assert T.ColorJitter().brightness is None
    ctorch.manual_seed(9)
    a = cj(Image.fromarray(rgb))
    ctorch.manual_seed(9)
    b = cj(Image.fromarray(rgb))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    out = cj(T.ToTensor()(rgb))
    assert tuple(out.shape) == (3, 20, 30) and 0.0 <= float(out.min()) <= float(out.max()) <= 1.0
    with pytest.raises(ValueError):
        T.ColorJitter(hue=0.7)


# -- pad ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes_match_numpy(mode):
    x = np.arange(2 * 4 * 5, dtype=np.float32).reshape(2, 4, 5)
    out = T.Pad((1, 2, 3, 1), padding_mode=mode)(ctorch.from_numpy(x))
    ref = np.pad(x, [(0, 0), (2, 1), (1, 3)], mode=mode)
    np.testing.assert_array_equal(chw(out), ref)


def test_pad_pil(rgb):
    img = T.Pad(2, fill=(255, 0, 0))(Image.fromarray(rgb))
    assert img.size == (34, 24)
    assert np.asarray(img)[0, 0].tolist() == [255, 0, 0]
    refl = T.Pad([1, 2], padding_mode="reflect")(Image.fromarray(rgb))
    np.testing.assert_array_equal(
        np.asarray(refl), np.pad(rgb, [(2, 2), (1, 1), (0, 0)], "reflect")
    )


# -- composition, repr ----------------------------------------------------------------------------
def test_compose_lambda_and_pipeline(rgb):
    pipe = T.Compose(
        [
            T.Resize(16),
            T.CenterCrop(16),
            T.ToTensor(),
            T.Lambda(lambda x: x * 2),
            T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ]
    )
    out = pipe(Image.fromarray(rgb))
    assert tuple(out.shape) == (3, 16, 16) and out.dtype == ctorch.float32


def test_reprs_match_torchvision():
    assert repr(T.ToTensor()) == "ToTensor()"
    assert repr(T.Normalize((0.1307,), (0.3081,))) == "Normalize(mean=(0.1307,), std=(0.3081,))"
    assert (
        repr(T.Resize(256))
        == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    )
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)"
    )
    assert repr(T.Lambda(lambda x: x)) == "Lambda()"
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    )


def test_convert_image_dtype():
    x = ctorch.tensor([[[0, 128, 255]]], dtype=ctorch.uint8)
    f = T.ConvertImageDtype(ctorch.float32)(x)
    np.testing.assert_allclose(chw(f), [[[0.0, 128 / 255, 1.0]]], rtol=1e-6)
    back = T.ConvertImageDtype(ctorch.uint8)(f)
    assert back.dtype == ctorch.uint8 and chw(back).tolist() == [[[0, 128, 255]]]


def test_importing_transforms_does_not_import_pillow():
    import subprocess
    import sys

    code = (
        "import sys, ctorch.vision.transforms, ctorch.vision.datasets, ctorch.vision.utils; "
        "print('PIL' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_functional_alias(rgb):
    import ctorch.vision.transforms.functional as F

    t = F.to_tensor(rgb)
    assert tuple(F.hflip(t).shape) == (3, 20, 30)
    assert F.get_image_size(t) == [30, 20]
    assert F.InterpolationMode.BILINEAR.value == "bilinear"
    np.testing.assert_array_equal(chw(F.crop(t, 1, 2, 3, 4)), chw(t)[:, 1:4, 2:6])
