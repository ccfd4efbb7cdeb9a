"""pad / interpolate / pixel_shuffle and their modules vs torch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch
from ctorch import nn

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return lib.nn.functional


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("p", [(1, 2), (1, 2, 2, 1), (0, 1, 2, 0)])
def test_pad_modes(mode, p):
    shape = (2, 3, 5) if len(p) == 2 else (2, 3, 5, 6)
    check_op(lambda lib, x: _F(lib).pad(x, p, mode), [shape])


def test_pad_constant_value_negative_and_errors():
    check_op(lambda lib, x: _F(lib).pad(x, (-1, 2, 1, -2), value=3.0), [(2, 3, 5, 6)])
    check_op(lambda lib, x: _F(lib).pad(x, (1, 1, 0, 0, 2, 0)), [(2, 3, 4)])
    with pytest.raises(RuntimeError):
        ctorch.nn.functional.pad(ctorch.randn(1, 1, 3, 3), (3, 3), mode="reflect")
    with pytest.raises(RuntimeError):
        ctorch.nn.functional.pad(ctorch.randn(2, 2), (1,))


SIZES = [
    dict(scale_factor=2),
    dict(size=(7, 9)),
    dict(scale_factor=1.7),
    dict(size=(3, 4)),
    dict(scale_factor=(0.5, 3)),
]


@pytest.mark.parametrize("kw", SIZES)
@pytest.mark.parametrize(
    "mode,ac",
    [
        ("nearest", None),
        ("nearest-exact", None),
        ("bilinear", False),
        ("bilinear", True),
        ("bicubic", False),
        ("bicubic", True),
    ],
)
def test_interpolate_2d(kw, mode, ac):
    check_op(
        lambda lib, x: _F(lib).interpolate(x, mode=mode, align_corners=ac, **kw),
        [(2, 3, 5, 6)],
        atol=1e-4,
    )


def test_interpolate_other_modes():
    check_op(lambda lib, x: _F(lib).interpolate(x, scale_factor=2.5, mode="linear"), [(2, 3, 5)])
    check_op(
        lambda lib, x: _F(lib).interpolate(x, size=(3, 5, 4), mode="trilinear", align_corners=True),
        [(1, 2, 2, 3, 4)],
    )
    check_op(lambda lib, x: _F(lib).interpolate(x, size=(3, 4), mode="area"), [(2, 3, 7, 6)])
    check_op(lambda lib, x: _F(lib).interpolate(x, scale_factor=3, mode="nearest"), [(2, 3, 4)])
    with pytest.raises(ValueError):
        ctorch.nn.functional.interpolate(ctorch.randn(1, 1, 4, 4))
    with pytest.raises(ValueError):
        ctorch.nn.functional.interpolate(
            ctorch.randn(1, 1, 4, 4), size=2, mode="nearest", align_corners=True
        )


def test_pixel_shuffle():
    check_op(lambda lib, x: _F(lib).pixel_shuffle(x, 2), [(2, 8, 3, 4)])
    check_op(lambda lib, x: _F(lib).pixel_unshuffle(x, 2), [(2, 3, 4, 6)])
    check_op(lambda lib, x: _F(lib).pixel_shuffle(x, 3), [(9, 2, 2)])
    x = ctorch.randn(2, 8, 3, 4)
    np.testing.assert_array_equal(
        ctorch.nn.functional.pixel_unshuffle(ctorch.nn.functional.pixel_shuffle(x, 2), 2).numpy(),
        x.numpy(),
    )


@needs_torch
def test_spatial_modules():
    import torch

    cases = [
        (lambda lib: lib.nn.PixelShuffle(2), (2, 8, 3, 3)),
        (lambda lib: lib.nn.PixelUnshuffle(2), (2, 2, 4, 4)),
        (lambda lib: lib.nn.Upsample(scale_factor=2), (2, 2, 3, 3)),
        (lambda lib: lib.nn.Upsample(size=(5, 7), mode="bilinear"), (2, 2, 3, 3)),
        (
            lambda lib: lib.nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True),
            (2, 2, 3, 3),
        ),
        (lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 3)),
        (lambda lib: lib.nn.UpsamplingBilinear2d(size=4), (1, 2, 3, 3)),
        (lambda lib: lib.nn.ZeroPad2d(2), (1, 2, 3, 3)),
        (lambda lib: lib.nn.ZeroPad2d((1, 0, 2, 1)), (1, 2, 3, 3)),
        (lambda lib: lib.nn.ConstantPad1d(2, 3.5), (1, 2, 3)),
        (lambda lib: lib.nn.ConstantPad2d((1, 2, 0, 1), -1.0), (1, 2, 3, 3)),
        (lambda lib: lib.nn.ReflectionPad2d((1, 2, 2, 1)), (1, 2, 3, 4)),
        (lambda lib: lib.nn.ReflectionPad1d(2), (1, 2, 4)),
        (lambda lib: lib.nn.ReplicationPad2d(1), (1, 2, 3, 3)),
        (lambda lib: lib.nn.ReplicationPad1d((2, 1)), (1, 2, 3)),
        (lambda lib: lib.nn.CircularPad2d(1), (1, 2, 3, 3)),
    ]
    rng = np.random.default_rng(0)
    for make, shape in cases:
        tm, cm = make(torch), make(ctorch)
        assert repr(cm) == repr(tm)
        x = rng.standard_normal(shape).astype(np.float32)
        assert_close(cm(ctorch.from_numpy(x)), tm(torch.from_numpy(x)), atol=1e-5)


def test_module_reprs_without_torch():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.ZeroPad2d(2)) == "ZeroPad2d((2, 2, 2, 2))"
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
