"""Padding modules keep a padding sequence as given (F.pad checks it at forward, as torch),
and every norm module takes torch 2.13's keyword-only ``bias``: compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "name, args",
    [
        ("ConstantPad2d", ((1, 2), 0.5)),
        ("ConstantPad1d", ((1, 2, 3, 4), 0.0)),
        ("ZeroPad2d", ((1, 2),)),
        ("ReplicationPad1d", ((1, 1, 1, 1),)),
        ("ReflectionPad1d", ((1, 2, 3),)),
        ("ReflectionPad2d", ((1, 1),)),
        ("CircularPad2d", ((1, 1),)),
        ("ReflectionPad2d", (1,)),
    ],
)
def test_padding_sequences_as_torch(name, args) -> None:
    x = np.arange(24.0, dtype=np.float32).reshape(1, 2, 3, 4)
    res = []
    for lib in (ctorch, torch):
        m = getattr(lib.nn, name)(*args)
        try:
            res.append((repr(m), m(lib.from_numpy(x)).numpy()))
        except (RuntimeError, NotImplementedError) as e:
            res.append((repr(m), type(e).__name__, str(e)))
    assert res[0][0] == res[1][0]
    if len(res[1]) == 2:
        np.testing.assert_array_equal(res[0][1], res[1][1])
    else:
        assert res[0][1:] == res[1][1:]


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.InstanceNorm2d(3, affine=True, bias=False),
        lambda nn: nn.LazyBatchNorm2d(bias=False),
        lambda nn: nn.LazyInstanceNorm2d(affine=True, bias=False),
        lambda nn: nn.SyncBatchNorm(3, bias=False),
        lambda nn: nn.LazyBatchNorm2d(),
    ],
)
def test_norm_bias_keyword_as_torch(make) -> None:
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    out = []
    for lib in (ctorch, torch):
        m = make(lib.nn)
        y = m(lib.from_numpy(x))
        out.append((repr(m), sorted(m.state_dict()), m.bias is None, y.detach().numpy()))
    assert out[0][:3] == out[1][:3]
    np.testing.assert_allclose(out[0][3], out[1][3], rtol=1e-4, atol=1e-5)
