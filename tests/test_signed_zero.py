"""-0.0 through creation, pointwise ops and scans: the sign torch gives.

IEEE odd functions keep -0.0 (tanh, sin, erfinv, ...); torch's cumsum starts from +0.0, so it
never returns -0.0; full(-0.0) keeps the sign. Each case is checked against the rule and, when
torch is installed, against torch on a short tensor (its scalar loop) and a long one (its SIMD
lanes), for the four floating dtypes.
"""

import math

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

DTYPES = ["float16", "bfloat16", "float32", "float64"]
ODD = [
    "tanh", "sin", "tan", "asin", "atan", "sinh", "asinh", "atanh", "erf", "expm1", "log1p",
    "erfinv", "trunc", "floor", "ceil", "round", "sqrt", "deg2rad", "rad2deg", "fix",
    "nn.functional.gelu", "nn.functional.silu", "nn.functional.mish", "nn.functional.elu",
    "nn.functional.selu", "nn.functional.celu", "nn.functional.leaky_relu",
    "nn.functional.softsign", "nn.functional.hardtanh", "nn.functional.hardswish",
]  # fmt: skip
POSITIVE = ["nn.functional.tanhshrink", "neg", "abs", "cumsum"]


def _get(lib, name):
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


def _call(lib, name, x):
    return _get(lib, name)(x, 0) if name == "cumsum" else _get(lib, name)(x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [4, 5000])
@pytest.mark.parametrize("name", ODD + POSITIVE)
def test_minus_zero(name, n, dtype):
    x = ctorch.tensor(np.full(n, -0.0), dtype=getattr(ctorch, dtype))
    r = _call(ctorch, name, x).float().numpy()
    assert (r == 0).all()
    np.testing.assert_array_equal(np.signbit(r), name in ODD)
    if torch is not None:
        t = _call(torch, name, torch.tensor(np.full(n, -0.0), dtype=getattr(torch, dtype)))
        np.testing.assert_array_equal(np.signbit(r), np.signbit(t.float().numpy()))


@pytest.mark.parametrize("dtype", DTYPES + ["complex64", "int64"])
def test_full_keeps_minus_zero(dtype):
    dt = getattr(ctorch, dtype)
    made = [
        ctorch.full((3,), -0.0, dtype=dt),
        ctorch.full_like(ctorch.zeros(3, dtype=dt), -0.0),
        ctorch.zeros(3, dtype=dt).new_full((3,), -0.0),
        ctorch.zeros(3, dtype=dt).fill_(-0.0),
    ]
    want = dtype != "int64"
    for t in made:
        a = t.numpy() if dtype != "bfloat16" else t.float().numpy()
        np.testing.assert_array_equal(np.signbit(a.real), want)
    plus = ctorch.full((3,), 0.0, dtype=dt)
    assert not np.signbit(plus.float().numpy() if dtype == "bfloat16" else plus.numpy().real).any()


def test_cumsum_sign_after_mixed_zeros():
    a = np.array([-0.0, -0.0, 1.0, -1.0, -0.0])
    r = ctorch.cumsum(ctorch.tensor(a), 0).numpy()
    assert [math.copysign(1.0, v) for v in r] == [1.0] * 5
    if torch is not None:
        t = torch.cumsum(torch.tensor(a), 0).numpy()
        np.testing.assert_array_equal(np.signbit(r), np.signbit(t))
