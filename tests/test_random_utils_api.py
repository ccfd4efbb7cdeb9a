"""ctorch.random, the torch 2.6 gradient-clipping pieces, nn.utils re-exports, skip_init,
ctorch.testing.make_tensor/assert_allclose and ctorch.types, against torch where it is
installed."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch import nn


def test_fork_rng_restores_the_state_also_on_error():
    ctorch.manual_seed(3)
    want = ctorch.rand(4)
    ctorch.manual_seed(3)
    with pytest.raises(ValueError), ctorch.random.fork_rng():
        ctorch.rand(10)
        raise ValueError("inside")
    np.testing.assert_array_equal(ctorch.rand(4).numpy(), want.numpy())
    ctorch.manual_seed(3)
    with ctorch.random.fork_rng(enabled=False):
        ctorch.rand(10)  # not forked: the stream moves on
    assert not np.array_equal(ctorch.rand(4).numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="no module of xpu"):
        with ctorch.random.fork_rng(device_type="xpu"):
            pass
    assert ctorch.random.manual_seed is ctorch.manual_seed


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_new_names_have_torchs_signatures():
    import torch

    pairs = [
        (torch.random.fork_rng, ctorch.random.fork_rng),
        (torch.nn.utils.get_total_norm, ctorch.nn.utils.get_total_norm),
        (torch.nn.utils.clip_grads_with_norm_, ctorch.nn.utils.clip_grads_with_norm_),
        (torch.nn.utils.skip_init, ctorch.nn.utils.skip_init),
        (torch.testing.make_tensor, ctorch.testing.make_tensor),
        (torch.nn.utils.fuse_conv_bn_eval, ctorch.nn.utils.fuse_conv_bn_eval),
        (
            torch.nn.utils.convert_conv2d_weight_memory_format,
            ctorch.nn.utils.convert_conv2d_weight_memory_format,
        ),
    ]
    for t, c in pairs:
        assert list(inspect.signature(t).parameters) == list(inspect.signature(c).parameters)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_total_norm_and_clipping_match_torch(norm_type):
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (5,), (2, 2, 2))]
    res = {}
    for lib in (ctorch, torch):
        ps = [lib.nn.Parameter(lib.tensor(a * 10)) for a in arrays]
        for p, a in zip(ps, arrays, strict=True):
            p.grad = lib.tensor(a)
        total = lib.nn.utils.get_total_norm([p.grad for p in ps], norm_type)
        lib.nn.utils.clip_grads_with_norm_(ps, 0.5, total)
        again = lib.nn.utils.clip_grad_norm_(ps, 0.25, norm_type)
        res[lib.__name__] = [total.item(), again.item()] + [p.grad.numpy() for p in ps]
    for a, b in zip(res["ctorch"], res["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_get_total_norm_edges():
    assert ctorch.nn.utils.get_total_norm([]).item() == 0.0
    t = ctorch.tensor([float("inf"), 1.0])
    assert ctorch.nn.utils.get_total_norm(t).item() == math.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        ctorch.nn.utils.get_total_norm([t], error_if_nonfinite=True)
    assert ctorch.nn.utils.get_total_norm([ctorch.ones(4, dtype=ctorch.float64)]).dtype == (
        ctorch.float64
    )


def test_skip_init_and_memory_format_helpers():
    lin = nn.utils.skip_init(nn.Linear, 3, 2, bias=False)
    assert isinstance(lin, nn.Linear) and lin.bias is None and tuple(lin.weight.shape) == (2, 3)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.Conv3d(2, 2, 1)))
    w = m[0].weight.detach().clone()
    assert nn.utils.convert_conv2d_weight_memory_format(m, ctorch.channels_last) is m
    assert nn.utils.convert_conv3d_weight_memory_format(m, ctorch.channels_last_3d) is m
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), w.numpy())
    assert nn.utils.fuse_linear_bn_eval is nn.utils.fusion.fuse_linear_bn_eval


@pytest.mark.parametrize(
    "dtype,lo,hi",
    [
        (ctorch.float32, -9, 9),
        (ctorch.float64, -9, 9),
        (ctorch.int32, -9, 9),
        (ctorch.uint8, 0, 9),
        (ctorch.bool, 0, 1),
        (ctorch.complex64, -9, 9),
        (ctorch.bfloat16, -9, 9),
    ],
)
def test_make_tensor_ranges_and_layouts(dtype, lo, hi):
    t = ctorch.testing.make_tensor(200, dtype=dtype, device="cpu")
    assert t.dtype == dtype and tuple(t.shape) == (200,)
    a = t.numpy().astype(np.complex128 if dtype.is_complex else np.float64)
    for part in (a.real, a.imag) if dtype.is_complex else (a,):
        assert part.min() >= lo and part.max() <= hi
    nc = ctorch.testing.make_tensor((3, 4), dtype=dtype, device="cpu", noncontiguous=True)
    assert tuple(nc.shape) == (3, 4) and not nc.is_contiguous()
    if dtype != ctorch.bool:
        nz = ctorch.testing.make_tensor(500, dtype=dtype, device="cpu", exclude_zero=True)
        assert (nz.numpy() != 0).all()
    t = ctorch.testing.make_tensor(2, 2, dtype=ctorch.float32, device="cpu", low=0.5, high=0.75)
    assert ((t.numpy() >= 0.5) & (t.numpy() <= 0.75)).all()
    with pytest.raises(ValueError, match="low .* must be less than high"):
        ctorch.testing.make_tensor(2, dtype=ctorch.int64, device="cpu", low=5, high=5)


def test_assert_allclose_is_deprecated_and_lenient_on_dtype():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ctorch.testing.assert_allclose(ctorch.tensor([1.0, float("nan")]), [1.0, float("nan")])
        ctorch.testing.assert_allclose(ctorch.tensor([1, 2]), ctorch.tensor([1.0, 2.0]))
    assert any(issubclass(x.category, FutureWarning) for x in w)
    with pytest.raises(AssertionError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctorch.testing.assert_allclose(ctorch.tensor([1.0]), [1.1])


def test_types_module():
    from ctorch.types import Device, Number, _dtype, _size

    assert _dtype is ctorch.dtype
    assert int in Number.__args__ and ctorch.device in Device.__args__
    assert ctorch.Size in _size.__args__
    assert ctorch.types.Storage is ctorch.UntypedStorage
