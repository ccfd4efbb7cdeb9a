"""AutoAugment / RandAugment / TrivialAugmentWide: every op of the augmentation space runs on uint8
tensors and PIL images, the ops match their functional definitions, and the random choice is
reproducible with ctorch.manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.vision import transforms as T
from ctorch.vision.transforms import _autoaugment as aa
from ctorch.vision.transforms import v2


def image(seed: int = 0) -> ctorch.Tensor:
    rng = np.random.default_rng(seed)
    return ctorch.from_numpy(rng.integers(0, 256, (3, 16, 20)).astype(np.uint8))


OPS = list(T.RandAugment()._augmentation_space(31, (16, 20))) + ["Invert"]


@pytest.mark.parametrize("op", OPS)
def test_every_op_runs_on_tensor_and_pil(op: str) -> None:
    from PIL import Image

    x = image()
    mag = 3.0 if op == "Posterize" else (100.0 if op == "Solarize" else 0.3)
    out = aa._apply_op(x, op, mag, T.InterpolationMode.NEAREST, [0.0, 0.0, 0.0])
    assert out.shape == x.shape and out.dtype == ctorch.uint8
    pil = Image.fromarray(np.ascontiguousarray(x.numpy().transpose(1, 2, 0)))
    assert aa._apply_op(pil, op, mag, T.InterpolationMode.NEAREST, None).size == pil.size


def test_ops_match_functionals() -> None:
    x = image(1)
    a = x.numpy()
    np.testing.assert_array_equal(
        aa._apply_op(x, "Identity", 0.0, T.InterpolationMode.NEAREST, None).numpy(), a
    )
    np.testing.assert_array_equal(
        aa._apply_op(x, "Invert", 0.0, T.InterpolationMode.NEAREST, None).numpy(), 255 - a
    )
    np.testing.assert_array_equal(
        aa._apply_op(x, "Solarize", 128.0, T.InterpolationMode.NEAREST, None).numpy(),
        np.where(a >= 128, 255 - a, a),
    )
    tx = aa._apply_op(x, "TranslateX", 3.0, T.InterpolationMode.NEAREST, [0.0] * 3).numpy()
    np.testing.assert_array_equal(tx[:, :, 3:], a[:, :, :-3])
    assert not tx[:, :, :3].any()


def test_random_policies_reproducible() -> None:
    x = image(2)
    for t in (T.RandAugment(), T.TrivialAugmentWide(), T.AutoAugment()):
        ctorch.manual_seed(5)
        a = t(x).numpy()
        ctorch.manual_seed(5)
        b = t(x).numpy()
        np.testing.assert_array_equal(a, b)
        assert type(t).__name__ in repr(t)
    with pytest.raises(ValueError, match="not recognized"):
        T.AutoAugment("cifar10")  # a string is not a policy, as in torchvision
    out = v2.Compose(
        [v2.ToImage(), v2.TrivialAugmentWide(), v2.ToDtype(ctorch.float32, scale=True)]
    )(np.zeros((8, 8, 3), np.uint8))
    assert out.shape == (3, 8, 8) and out.dtype == ctorch.float32
