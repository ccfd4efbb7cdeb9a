"""What the official PyTorch tutorials (pytorch/tutorials: intermediate_source, beginner_source)
print when run under ``python -m ctorch.run``: each test pins one difference found by running a
shrunken copy of a tutorial under torch and under ctorch and diffing the outputs."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None


def _seeded_draws_after_gradgradcheck(lib):
    """custom_function_double_backward_tutorial: gradgradcheck, then a seeded rand."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    lib.manual_seed(0)
    x = lib.rand(3, 3, dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(Square.apply, x)
    return lib.rand(4, dtype=lib.float64).numpy()


def test_gradgradcheck_draws_grad_outputs_like_torch():
    # torch draws the random grad_outputs with make_tensor(low=-1, high=1) from the default
    # generator; ctorch drew them from a private NumPy stream, so every seeded draw after a
    # gradgradcheck differed from torch's
    got = _seeded_draws_after_gradgradcheck(ctorch)
    ctorch.manual_seed(0)
    ctorch.rand(3, 3, dtype=ctorch.float64)
    ctorch.rand(3, 3, dtype=ctorch.float64)  # the one grad_output, 3x3 float64
    assert np.array_equal(got, ctorch.rand(4, dtype=ctorch.float64).numpy())
    if torch is not None:
        assert np.array_equal(got, _seeded_draws_after_gradgradcheck(torch))


@pytest.mark.parametrize(
    "dtype, kw",
    [
        ("float64", dict(low=-1, high=1)),
        ("float32", {}),
        ("float16", {}),
        ("complex64", dict(low=-2, high=2)),
        ("int16", {}),
        ("uint8", {}),
        ("int64", dict(low=-3, high=4)),
        ("bool", {}),
        ("float64", dict(low=-1e308, high=1e308)),
    ],
)
@pytest.mark.parametrize("noncontiguous", [False, True])
def test_make_tensor_values_match_torch(dtype, kw, noncontiguous):
    ctorch.manual_seed(3)
    t = ctorch.testing.make_tensor(
        (2, 3), dtype=getattr(ctorch, dtype), device="cpu", noncontiguous=noncontiguous, **kw
    )
    assert t.shape == (2, 3) and t.dtype == getattr(ctorch, dtype)
    assert t.is_contiguous() != noncontiguous
    if noncontiguous:
        assert t.stride() == (6, 2) and t.storage_offset() == 1  # torch's [..., 1::2]
    if torch is not None:
        torch.manual_seed(3)
        r = torch.testing.make_tensor(
            (2, 3), dtype=getattr(torch, dtype), device="cpu", noncontiguous=noncontiguous, **kw
        )
        if kw.get("high") == 1e308:  # the halved range, doubled: equal to the last ulp or so
            np.testing.assert_allclose(t.numpy(), r.numpy(), rtol=1e-15, atol=0)
        else:
            assert np.array_equal(t.numpy(), r.numpy())
        assert (t.stride(), t.storage_offset()) == (r.stride(), r.storage_offset())


def test_make_tensor_exclude_zero_and_one_element():
    ctorch.manual_seed(0)
    t = ctorch.testing.make_tensor(
        200, dtype=ctorch.int32, device="cpu", low=-1, high=2, exclude_zero=True
    )
    assert set(t.tolist()) <= {-1, 1}
    one = ctorch.testing.make_tensor((1,), dtype=ctorch.float32, device="cpu", noncontiguous=True)
    assert one.is_contiguous()  # torch: a one-element tensor stays contiguous
    if torch is not None:
        torch.manual_seed(0)
        r = torch.testing.make_tensor(
            200, dtype=torch.int32, device="cpu", low=-1, high=2, exclude_zero=True
        )
        assert t.tolist() == r.tolist()


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("n", [4, 6])
def test_affine_grid_base_coordinates_rounded_in_dtype(n, align_corners):
    # spatial_transformer_tutorial: the STN starts at the identity theta, so every grid point
    # sits on a pixel centre, where grid_sample's bilinear gradient takes one neighbour's slope
    # or the other's; the base grid must be ATen's float32 arithmetic, not float64 rounded once
    th = [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
    g = ctorch.nn.functional.affine_grid(
        ctorch.tensor(th), (1, 1, 2, n), align_corners=align_corners
    )
    x = g[0, 0, :, 0].numpy()
    f = np.float32
    step = (f(1) - f(-1)) / f(n - 1)
    half = n // 2
    lin = np.array(
        [f(-1) + step * f(i) if i < half else f(1) - step * f(n - 1 - i) for i in range(n)], f
    )
    want = lin if align_corners else lin * f(n - 1) / f(n)
    assert x.dtype == np.float32 and np.array_equal(x, want)
    if torch is not None:
        r = torch.nn.functional.affine_grid(
            torch.tensor(th), (1, 1, 2, n), align_corners=align_corners
        )
        assert np.array_equal(g.numpy(), r.numpy())
