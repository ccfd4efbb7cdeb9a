"""Pooling functionals and modules vs torch and finite differences (kernel and fallback)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch
from ctorch import nn
from ctorch.ops import avg_pool, im2col, max_pool

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return lib.nn.functional


@pytest.fixture(params=["kernel", "fallback"])
def path(request, monkeypatch):
    if request.param == "fallback":
        for mod in (max_pool, avg_pool, im2col):
            monkeypatch.setattr(mod, "float_kernels", lambda a, name: None)
    return request.param


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d(path, kw):
    check_op(lambda lib, x: _F(lib).max_pool2d(x, **kw), [(2, 3, 9, 8)])
    check_op(lambda lib, x: _F(lib).max_pool2d(x, return_indices=True, **kw), [(2, 3, 9, 8)])


def test_max_pool_unbatched_1d_and_errors(path):
    check_op(lambda lib, x: _F(lib).max_pool2d(x, 2), [(3, 6, 6)])
    check_op(lambda lib, x: _F(lib).max_pool1d(x, 3, 2, 1), [(2, 3, 11)])
    check_op(
        lambda lib, x: _F(lib).max_pool1d(x, 3, return_indices=True, ceil_mode=True), [(2, 3, 10)]
    )
    with pytest.raises(RuntimeError, match="pad"):
        ctorch.nn.functional.max_pool2d(ctorch.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        ctorch.nn.functional.max_pool2d(ctorch.randn(1, 1, 2, 2), 3)


def test_max_pool_nan_and_ties():
    x = np.array([[[[1.0, 1.0], [np.nan, 0.0]]]], np.float32)
    y, i = ctorch.nn.functional.max_pool2d(ctorch.from_numpy(x), 2, return_indices=True)
    assert np.isnan(y.item()) and i.item() == 2
    y, i = ctorch.nn.functional.max_pool2d(ctorch.ones(1, 1, 2, 2), 2, return_indices=True)
    assert i.item() == 0  # first maximum wins, as torch


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        dict(kernel_size=(3, 2), stride=(1, 2), divisor_override=4),
    ],
)
def test_avg_pool2d(path, kw):
    check_op(lambda lib, x: _F(lib).avg_pool2d(x, **kw), [(2, 3, 9, 8)])


def test_avg_pool1d(path):
    check_op(lambda lib, x: _F(lib).avg_pool1d(x, 3, 2, 1, True, False), [(2, 3, 10)])


@pytest.mark.parametrize("osz", [1, (1, 1), (3, 4), (2, 2), (5, 3), (7, 6), (None, 2)])
def test_adaptive_pool2d(osz):
    check_op(lambda lib, x: _F(lib).adaptive_avg_pool2d(x, osz), [(2, 3, 7, 6)])
    check_op(lambda lib, x: _F(lib).adaptive_max_pool2d(x, osz), [(2, 3, 7, 6)])
    check_op(
        lambda lib, x: _F(lib).adaptive_max_pool2d(x, osz, return_indices=True), [(2, 3, 7, 6)]
    )


def test_adaptive_pool1d():
    check_op(lambda lib, x: _F(lib).adaptive_avg_pool1d(x, 4), [(2, 3, 10)])
    check_op(lambda lib, x: _F(lib).adaptive_max_pool1d(x, 4), [(2, 3, 10)])


@needs_torch
def test_max_unpool2d():
    import torch

    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    ty, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    cy, ci = ctorch.nn.functional.max_pool2d(ctorch.from_numpy(x), 2, return_indices=True)
    cyr = cy.detach().requires_grad_()
    out = ctorch.nn.functional.max_unpool2d(cyr, ci, 2)
    assert_close(out, torch.nn.functional.max_unpool2d(ty, ti, 2))
    out.sum().backward()
    assert np.all(cyr.grad.numpy() == 1)


@needs_torch
def test_pool_modules_repr_and_forward():
    import torch

    cases = [
        (lambda lib: lib.nn.MaxPool2d(2), (2, 3, 8, 8)),
        (lambda lib: lib.nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 9, 9)),
        (lambda lib: lib.nn.MaxPool1d(3, 2), (2, 3, 9)),
        (lambda lib: lib.nn.AvgPool2d(3, 2, 1), (2, 3, 9, 9)),
        (lambda lib: lib.nn.AvgPool1d(3), (2, 3, 9)),
        (lambda lib: lib.nn.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5)),
        (lambda lib: lib.nn.AdaptiveAvgPool1d(3), (2, 3, 7)),
        (lambda lib: lib.nn.AdaptiveMaxPool2d(3), (2, 3, 7, 7)),
    ]
    for make, shape in cases:
        tm, cm = make(torch), make(ctorch)
        assert repr(cm) == repr(tm)
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        assert_close(cm(ctorch.from_numpy(x)), tm(torch.from_numpy(x)))


def test_pool_module_reprs():
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


@pytest.mark.parametrize("threads", [1, 2])
def test_pool_bitwise_across_threads(threads):
    """Large enough for the threaded kernels; results must not depend on the thread count."""
    setter = getattr(ctorch, "set_num_threads", None)
    getter = getattr(ctorch, "get_num_threads", None)
    if setter is None or getter is None:
        pytest.skip("no thread control exposed")
    x = ctorch.randn(8, 16, 32, 32, requires_grad=True)
    prev = getter()
    try:
        setter(1)
        y1 = ctorch.nn.functional.avg_pool2d(x, 3, 2, 1) + ctorch.nn.functional.max_pool2d(x, 2)
        y1.sum().backward()
        g1 = x.grad.numpy().copy()
        x.grad = None
        setter(threads)
        y2 = ctorch.nn.functional.avg_pool2d(x, 3, 2, 1) + ctorch.nn.functional.max_pool2d(x, 2)
        y2.sum().backward()
    finally:
        setter(prev)
    assert np.array_equal(y1.detach().numpy(), y2.detach().numpy())
    assert np.array_equal(g1, x.grad.numpy())
