"""Regression tests for what the differential fuzzer (test_fuzz_differential.py) found: each
case here was wrong before its fix. Expected values are torch 2.13's, written out so the tests
run without torch too."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

inf, nan = math.inf, math.nan


def _grads(fn, *vals, dtype=ctorch.float64):
    xs = [ctorch.tensor(v, dtype=dtype, requires_grad=True) for v in vals]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def test_div_denominator_gradient_does_not_underflow():
    # -g * a / (b * b): b * b underflowed to 0 -> -inf; torch: -g * ((a / b) / b)
    ga, gb = _grads(lambda a, b: a / b, 5.36825576e-224, 5.36825576e-224)
    assert np.isfinite(ga) and np.isfinite(gb)
    np.testing.assert_allclose(gb, -1.0 / 5.36825576e-224, rtol=1e-12)
    _, gb = _grads(lambda a, b: a / b, 0.0, 5.36825576e-224)
    assert gb == 0.0 and not np.isnan(gb)


def test_atan2_gradient_at_the_origin_is_zero():
    gx, gy = _grads(ctorch.atan2, 0.0, 0.0, dtype=ctorch.float32)
    assert gx == 0.0 and gy == 0.0
    gx, gy = _grads(ctorch.atan2, 0.0, 5.36825576e-224)  # x^2 + y^2 underflows
    assert gx == 0.0 and not np.isnan(gy)


def test_erf_of_empty_tensor():
    assert ctorch.erf(ctorch.empty(0)).shape == (0,)


@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_reductions_over_dim_0_of_a_0d_tensor(dim):
    x = ctorch.tensor(2.0)
    assert x.sum(dim).shape == () and x.sum(dim).item() == 2.0
    assert x.sum(dim, keepdim=True).shape == ()
    assert ctorch.amax(x, dim).item() == 2.0
    assert ctorch.logsumexp(x, dim).item() == 2.0
    with pytest.raises(IndexError):
        x.sum(1)


def test_0d_scans_softmax_and_flip():
    x = ctorch.tensor(3.0)
    assert ctorch.cumprod(x, 0).shape == () and ctorch.cumsum(x, 0).shape == ()
    assert ctorch.flip(x, (0,)).item() == 3.0
    assert ctorch.softmax(x, 0).item() == 1.0
    assert math.isnan(ctorch.softmax(ctorch.tensor(nan), 0).item())
    assert ctorch.log_softmax(x, 0).item() == 0.0


@pytest.mark.parametrize(
    "vals, want",
    [([0.0], [1.0]), ([2.0, 0.0, 3.0], [1.0, 8.0, 0.0]), ([0.0, 0.0, 2.0], [1.0, 0.0, 0.0])],
)
def test_cumprod_gradient_with_zeros(vals, want):
    (g,) = _grads(lambda x: ctorch.cumprod(x, 0), vals)
    np.testing.assert_array_equal(g, want)


def test_prod_gradient_with_zero_over_several_dims():
    (g,) = _grads(lambda x: ctorch.prod(x), [[0.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(g, [[24.0, 0.0], [0.0, 0.0]])


def test_pow_minus_inf_to_one_half_with_a_tensor_exponent():
    r = ctorch.pow(ctorch.tensor([-inf, 4.0]), ctorch.tensor([0.5, 0.5]))
    np.testing.assert_array_equal(r.numpy(), [inf, 2.0])
    assert math.isnan((ctorch.tensor([-inf]) ** 0.5).item())  # the scalar form is sqrt (torch)


def test_float32_cumsum_accumulates_in_float64():
    a = np.random.default_rng(0).standard_normal(100000).astype(np.float32)
    got = ctorch.cumsum(ctorch.from_numpy(a), 0).numpy()
    want = np.cumsum(a.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    r = ctorch.cumprod(ctorch.tensor([1e30, 1e30, 0.0]), 0).numpy()
    np.testing.assert_array_equal(r, np.array([1e30, inf, 0.0], np.float32))


def test_std_gradient_of_a_constant_slice_is_zero():
    (g,) = _grads(ctorch.std, [0.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])
    (g,) = _grads(lambda x: ctorch.std(x, 1), [[1.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(g, [[0.0, 0.0], [-0.7071067811865476, 0.7071067811865476]])


def test_float32_var_and_std_accumulate_in_float64():
    x = ctorch.tensor([1e30, 0.0])  # squares overflow float32
    assert math.isclose(ctorch.std(x).item(), 7.0710678e29, rel_tol=1e-6)
    assert ctorch.var(x).dtype == ctorch.float32
