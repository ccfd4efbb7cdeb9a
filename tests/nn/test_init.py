"""nn.init: distributions, gains, fans, error messages (statistics, not exact values)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch.nn import init


def _t(*shape):
    return ctorch.empty(*shape)


def test_calculate_gain_matches_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_gain_and_fans_vs_torch():
    import torch

    for nl, p in [
        ("linear", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", 0.3),
        ("selu", None),
    ]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    for shape in [(5, 3), (8, 4, 3, 3), (6, 2, 7)]:
        assert init._calculate_fan_in_and_fan_out(
            ctorch.empty(*shape)
        ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_t(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_t(4, 4), mode="fan_avg")


def test_uniform_normal_constant():
    ctorch.manual_seed(0)
    t = init.uniform_(_t(200, 300), -2, 3)
    a = t.numpy()
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    a = init.normal_(_t(200, 300), 1.0, 2.0).numpy()
    assert abs(a.mean() - 1) < 0.05 and abs(a.std() - 2) < 0.05
    assert np.all(init.constant_(_t(3, 3), 0.7).numpy() == np.float32(0.7))
    assert np.all(init.ones_(_t(2)).numpy() == 1) and np.all(init.zeros_(_t(2)).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(_t(3, 4)).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError):
        init.eye_(_t(3))


def test_trunc_normal():
    a = init.trunc_normal_(_t(100, 1000), mean=0.5, std=1.0, a=-1.0, b=1.5).numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    # mean of N(0.5, 1) truncated to [-1, 1.5]
    from math import erf, exp, pi, sqrt

    def pdf(z):
        return exp(-z * z / 2) / sqrt(2 * pi)

    def cdf(z):
        return 0.5 * (1 + erf(z / sqrt(2)))

    al, be = -1.5, 1.0
    expect = 0.5 + (pdf(al) - pdf(be)) / (cdf(be) - cdf(al))
    assert abs(a.mean() - expect) < 0.01


@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_xavier_kaiming_statistics(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    xs = math.sqrt(2.0 / (fan_in + fan_out))
    a = init.xavier_uniform_(_t(*shape)).numpy()
    assert np.abs(a).max() <= math.sqrt(3) * xs and abs(a.std() - xs) / xs < 0.05
    a = init.xavier_normal_(_t(*shape), gain=2.0).numpy()
    assert abs(a.std() - 2 * xs) / (2 * xs) < 0.05
    ks = math.sqrt(2.0) / math.sqrt(fan_in)
    a = init.kaiming_uniform_(_t(*shape), nonlinearity="relu").numpy()
    assert np.abs(a).max() <= math.sqrt(3) * ks and abs(a.std() - ks) / ks < 0.05
    ks_out = math.sqrt(2.0) / math.sqrt(fan_out)
    a = init.kaiming_normal_(_t(*shape), mode="fan_out", nonlinearity="relu").numpy()
    assert abs(a.std() - ks_out) / ks_out < 0.05
    a = init.kaiming_uniform_(_t(*shape), a=math.sqrt(5)).numpy()
    assert np.abs(a).max() <= 1 / math.sqrt(fan_in) + 1e-7


def test_orthogonal_and_dirac_and_sparse():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        q = init.orthogonal_(_t(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        if q.shape[0] <= q.shape[1]:
            np.testing.assert_allclose(q @ q.T, 4 * np.eye(q.shape[0]), atol=1e-5)
        else:
            np.testing.assert_allclose(q.T @ q, 4 * np.eye(q.shape[1]), atol=1e-5)
    d = init.dirac_(_t(4, 2, 3, 3)).numpy()
    assert d.sum() == 2 and d[0, 0, 1, 1] == 1 and d[1, 1, 1, 1] == 1
    s = init.sparse_(_t(10, 6), sparsity=0.3).numpy()
    assert np.all((s == 0).sum(0) >= 3)


def test_init_runs_under_no_grad_on_parameters():
    p = ctorch.nn.Parameter(ctorch.empty(3, 4))
    init.kaiming_uniform_(p)
    init.zeros_(p)
    assert p.requires_grad and p.grad_fn is None


def test_zero_element_warning_and_deprecated_aliases():
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_uniform_(_t(0, 3))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.uniform(_t(2, 2))
    assert any(issubclass(x.category, FutureWarning) for x in w)


def test_init_reproducible_with_manual_seed():
    ctorch.manual_seed(123)
    a = init.normal_(_t(10)).numpy().copy()
    ctorch.manual_seed(123)
    b = init.normal_(_t(10)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g = ctorch.Generator().manual_seed(7)
    c = init.uniform_(_t(5), generator=g).numpy().copy()
    g.manual_seed(7)
    np.testing.assert_array_equal(c, init.uniform_(_t(5), generator=g).numpy())
