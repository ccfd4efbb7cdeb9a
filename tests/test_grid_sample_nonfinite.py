"""grid_sample with NaN, +-inf and huge grid coordinates, against torch 2.13.

torch's CPU kernel: zeros padding gives NaN for a NaN/inf coordinate (its corner weights are
NaN) and 0 for a finite one outside int32 (out of bounds); border and reflection sample a NaN
coordinate (or an inf reflected, which is NaN) at position 0. Input gradients flow only into
in-bounds taps. torch 2.13 segfaults in the backward of bilinear border/reflection with a NaN
coordinate; ctorch's gradient there is the one of sampling at position 0 (checked against
ctorch itself with that coordinate written out)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

nan, inf = float("nan"), float("inf")
INP = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
POINTS = [[nan, 0.2], [inf, -0.5], [-inf, 0.3], [0.1, nan], [1e30, -1e30], [0.5, 0.5]]
GRID = np.array(POINTS, dtype=np.float32).reshape(1, 2, 3, 2).repeat(2, 0)


def _run(lib, mode, pad, ac, backward):
    x = lib.tensor(INP, requires_grad=backward)
    g = lib.tensor(GRID, requires_grad=backward)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=ac)
        if not backward:
            return (o.numpy(),)
        gx, gg = lib.autograd.grad(o.sum(), (x, g))
    return o.detach().numpy(), gx.numpy(), gg.numpy()


def _torch_crashes(mode, pad, backward):
    return backward and mode == "bilinear" and pad != "zeros"


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("pad", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("backward", [False, True])
def test_nonfinite_grid_as_torch(mode, pad, ac, backward):
    got = _run(ctorch, mode, pad, ac, backward)
    out = got[0]
    # the finite in-range point (0.5, 0.5) is always finite; zeros padding: NaN/inf points NaN,
    # the huge one 0
    assert np.isfinite(out[:, :, 1, 2]).all()
    if pad == "zeros" and mode != "nearest":
        assert np.isnan(out[:, :, 0, :]).all() and np.isnan(out[:, :, 1, 0]).all()
        np.testing.assert_array_equal(out[:, :, 1, 1], 0)
    if pad != "zeros" and mode != "bicubic":  # every point lands inside: finite
        # (bicubic's weights come from the coordinate's fraction: NaN there, as torch's)
        assert np.isfinite(out).all()
    if torch is None or _torch_crashes(mode, pad, backward):
        return
    want = _run(torch, mode, pad, ac, backward)
    skip_huge = mode == "bicubic" and pad == "reflection"
    for a, b in zip(got, want, strict=True):
        if skip_huge and a.shape == out.shape:
            # 1e30 reflected: torch's int cast of floor(1e30 / span) overflows (UB in C++);
            # we give a valid position in the input, not necessarily torch's
            a, b = a[:, :, :, [0, 1, 2]].copy(), b[:, :, :, [0, 1, 2]].copy()
            a[:, :, 1, 1] = b[:, :, 1, 1] = 0
        np.testing.assert_allclose(a, b, atol=1e-3, equal_nan=True)


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("pad", ["border", "reflection"])
def test_nan_coordinate_samples_position_zero(pad, ac):
    # the coordinate whose unnormalized position is 0 along W
    zero = -1.0 if ac else -1.0 + 1.0 / INP.shape[3]
    for nan_pt, finite_pt in (
        ([nan, 0.2], [zero, 0.2]),
        ([0.1, nan], [0.1, -1.0 if ac else -0.75]),
    ):
        res = []
        for pt in (nan_pt, finite_pt):
            x = ctorch.tensor(INP, requires_grad=True)
            g = ctorch.tensor(np.array(pt, np.float32).reshape(1, 1, 1, 2).repeat(2, 0))
            g.requires_grad_()
            o = ctorch.nn.functional.grid_sample(x, g, padding_mode=pad, align_corners=ac)
            gx, gg = ctorch.autograd.grad(o.sum(), (x, g))
            res.append((o.detach().numpy(), gx.numpy(), gg.numpy()))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)
        # the NaN coordinate's own gradient is 0 (the clamp's, as torch's for a clipped point)
        k = 0 if np.isnan(nan_pt[0]) else 1
        np.testing.assert_array_equal(res[0][2][..., k], 0)
