"""Unary math: forward vs NumPy/torch, gradients vs finite differences and torch."""

import math

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch

_erf = np.vectorize(math.erf)

# name -> (NumPy reference, (low, high) domain)
UNARY = {
    "abs": (np.abs, (-2, 2)),
    "neg": (np.negative, (-2, 2)),
    "exp": (np.exp, (-2, 2)),
    "log": (np.log, (0.2, 3)),
    "log1p": (np.log1p, (-0.5, 2)),
    "log2": (np.log2, (0.2, 3)),
    "log10": (np.log10, (0.2, 3)),
    "expm1": (np.expm1, (-2, 2)),
    "sqrt": (np.sqrt, (0.2, 3)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.2, 3)),
    "sin": (np.sin, (-3, 3)),
    "cos": (np.cos, (-3, 3)),
    "tan": (np.tan, (-1, 1)),
    "tanh": (np.tanh, (-2, 2)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-4, 4)),
    "relu": (lambda x: np.maximum(x, 0), (-2, 2)),
    "erf": (lambda x: _erf(x).astype(x.dtype), (-2, 2)),
    "reciprocal": (np.reciprocal, (0.3, 2)),
    "square": (np.square, (-2, 2)),
    "asin": (np.arcsin, (-0.8, 0.8)),
    "acos": (np.arccos, (-0.8, 0.8)),
    "atan": (np.arctan, (-2, 2)),
    "sinh": (np.sinh, (-2, 2)),
    "cosh": (np.cosh, (-2, 2)),
    "asinh": (np.arcsinh, (-2, 2)),
    "acosh": (np.arccosh, (1.2, 3)),
    "atanh": (np.arctanh, (-0.8, 0.8)),
    "exp2": (np.exp2, (-2, 2)),
    "logit": (lambda x: np.log(x / (1 - x)), (0.1, 0.9)),
}
NONDIFF = {
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "trunc": np.trunc,
    "frac": lambda x: x - np.trunc(x),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_function_and_method(name):
    ref, (lo, hi) = UNARY[name]
    check_op(
        lambda T, x: getattr(T, name)(x), [(3, 5)], ref=ref, low=lo, high=hi, atol=1e-5, rtol=2e-5
    )
    check_op(lambda T, x: getattr(x, name)(), [(2, 3)], ref=ref, low=lo, high=hi, gradcheck=False)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float64_and_0d(name):
    ref, (lo, hi) = UNARY[name]
    check_op(
        lambda T, x: getattr(T, name)(x),
        [(4,)],
        ref=ref,
        low=lo,
        high=hi,
        dtype=np.float64,
        atol=1e-12,
        rtol=1e-10,
        gradcheck=False,
    )
    check_op(lambda T, x: getattr(T, name)(x), [()], ref=ref, low=lo, high=hi, gradcheck=False)


@pytest.mark.parametrize("name", sorted(NONDIFF))
def test_unary_piecewise_constant(name):
    x = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 1.7, -1.2], np.float32)
    check_op(lambda T, t: getattr(T, name)(t), [x], ref=NONDIFF[name], grad=False)
    # gradient is zero (except frac: one)
    t = ctorch.tensor(x, requires_grad=True)
    getattr(ctorch, name)(t).sum().backward()
    assert np.all(t.grad.numpy() == (1.0 if name == "frac" else 0.0))


def test_round_decimals():
    x = np.array([1.2345, -2.5678, 0.5, 1.5], np.float32)
    check_op(lambda T, t: T.round(t, decimals=2), [x], grad=False)


@pytest.mark.parametrize("name", ["abs", "neg", "sign", "square"])
def test_unary_integer_keeps_dtype(name):
    x = np.array([-3, 0, 2], np.int64)
    r = check_op(lambda T, t: getattr(T, name)(t), [x])
    assert r.dtype == ctorch.int64


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "log1p", "sigmoid", "tanh"])
def test_unary_integer_promotes_to_float(name):
    x = np.array([0, 1, 2], np.int64)
    r = check_op(lambda T, t: getattr(T, name)(t), [x])
    assert r.dtype == ctorch.float32


def test_nan_inf_predicates():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0], np.float32)
    for name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf"]:
        check_op(lambda T, t, n=name: getattr(T, n)(t), [x], ref=getattr(np, name))
    check_op(lambda T, t: T.nan_to_num(t), [x], ref=np.nan_to_num)
    check_op(lambda T, t: T.nan_to_num(t, nan=0.5, posinf=2.0, neginf=-2.0), [x])


def test_relu_gradient_at_zero_is_zero():
    x = ctorch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    ctorch.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    y = ctorch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    y.abs().sum().backward()
    assert y.grad.tolist() == [-1.0, 0.0, 1.0]


def test_unary_non_contiguous_input():
    check_op(lambda T, x: T.exp(x.t()), [(3, 4)])
    check_op(lambda T, x: T.sigmoid(x[:, ::2]), [(3, 6)])


def test_unary_large_uses_kernels():
    # above the kernel threshold: same results as NumPy (and torch's gradients)
    n = 20000
    for name in ["exp", "tanh", "sigmoid", "relu", "sqrt", "log", "abs", "neg"]:
        ref, (lo, hi) = UNARY[name]
        check_op(
            lambda T, x, n=name: getattr(T, n)(x),
            [(n,)],
            ref=ref,
            low=max(lo, 0.2) if name in ("sqrt", "log") else lo,
            high=hi,
            gradcheck=False,
            rtol=2e-6,
            atol=1e-6,
        )


def test_unary_large_kernel_paths_strided():
    a = np.random.default_rng(0).standard_normal((200, 200)).astype(np.float32)
    t = ctorch.tensor(a)
    np.testing.assert_allclose(t.t().exp().numpy(), np.exp(a.T), rtol=1e-6)
    np.testing.assert_allclose(t[:, ::3].relu().numpy(), np.maximum(a[:, ::3], 0))


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_second_derivatives_unary_vs_torch():
    import torch

    for name in ["exp", "log", "sin", "tanh", "sigmoid", "sqrt", "reciprocal", "erf"]:

        def run(lib, name=name):
            x = lib.tensor([0.3, 0.7, 1.4], dtype=lib.float64, requires_grad=True)
            (g,) = lib.autograd.grad(getattr(lib, name)(x).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad(g.sum(), x)
            return gg

        np.testing.assert_allclose(
            run(ctorch).numpy(), run(torch).numpy(), rtol=1e-10, err_msg=name
        )
