"""conv1d/conv2d/conv_transpose2d/unfold/fold and the Conv modules vs torch and finite
differences, through the kernels and through the NumPy fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch
from ctorch import nn
from ctorch.ops import conv_gemm, conv_wide, im2col

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return lib.nn.functional


@pytest.fixture(params=["kernel", "fallback"])
def path(request, monkeypatch):
    if request.param == "fallback":
        monkeypatch.setattr(conv_gemm, "float_kernels", lambda a, name: None)
        monkeypatch.setattr(conv_wide, "float_kernels", lambda a, name: None)
        monkeypatch.setattr(im2col, "float_kernels", lambda a, name: None)
    return request.param


CONV2D_CASES = [
    # (N, C, H, W), (OC, kh, kw), kwargs
    ((2, 3, 6, 7), (4, 3, 3), {}),
    ((2, 3, 6, 7), (4, 3, 3), dict(padding=1)),
    ((2, 4, 7, 6), (6, 3, 2), dict(stride=2, padding=(1, 0))),
    ((1, 4, 9, 8), (4, 3, 3), dict(dilation=2, padding=2, groups=2)),
    ((2, 4, 5, 5), (8, 1, 1), dict(groups=4)),
    ((2, 3, 5, 4), (5, 1, 1), {}),  # 1x1 fast path
    ((2, 3, 7, 7), (2, 1, 1), dict(stride=2)),
    ((2, 2, 6, 5), (3, 3, 3), dict(padding="same")),
    ((2, 2, 6, 5), (3, 4, 2), dict(padding="same", dilation=(1, 2))),  # asymmetric same
    ((2, 2, 6, 5), (3, 3, 3), dict(padding="valid", stride=(1, 2))),
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(path, xs, ws, kw, bias):
    g = kw.get("groups", 1)
    OC, kh, kwid = ws
    wshape = (OC, xs[1] // g, kh, kwid)
    if bias:
        check_op(lambda lib, x, w, b: _F(lib).conv2d(x, w, b, **kw), [xs, wshape, (OC,)], atol=1e-4)
    else:
        check_op(lambda lib, x, w: _F(lib).conv2d(x, w, **kw), [xs, wshape], atol=1e-4)


def test_conv2d_unbatched_and_errors():
    check_op(lambda lib, x, w: _F(lib).conv2d(x, w, padding=1), [(3, 5, 5), (2, 3, 3, 3)])
    x = ctorch.randn(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match="channels"):
        ctorch.nn.functional.conv2d(x, ctorch.randn(2, 4, 3, 3))
    with pytest.raises(RuntimeError):
        ctorch.nn.functional.conv2d(x, ctorch.randn(2, 3, 7, 7))
    with pytest.raises(RuntimeError, match="strided"):
        ctorch.nn.functional.conv2d(x, ctorch.randn(2, 3, 3, 3), stride=2, padding="same")


@pytest.mark.parametrize(
    "kw", [{}, dict(stride=2, padding=1), dict(dilation=2, groups=2), dict(padding="same")]
)
def test_conv1d(path, kw):
    g = kw.get("groups", 1)
    check_op(lambda lib, x, w, b: _F(lib).conv1d(x, w, b, **kw), [(2, 4, 9), (6, 4 // g, 3), (6,)])


CONVT_CASES = [
    ((2, 4, 4, 5), (4, 3, 3, 3), dict()),
    ((2, 4, 4, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 3, 4), (4, 2, 2, 3), dict(stride=(2, 1), groups=2)),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(dilation=2, padding=1)),
    ((2, 3, 4, 4), (3, 2, 1, 1), dict()),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT_CASES)
def test_conv_transpose2d(path, xs, ws, kw):
    OC = ws[1] * kw.get("groups", 1)
    check_op(
        lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b, **kw), [xs, ws, (OC,)], atol=1e-4
    )


def test_conv_transpose1d():
    check_op(
        lambda lib, x, w: _F(lib).conv_transpose1d(x, w, stride=2, padding=1),
        [(2, 3, 5), (3, 2, 3)],
    )


@pytest.mark.parametrize(
    "kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(1, 2))]
)
def test_unfold_fold(path, kw):
    check_op(lambda lib, x: _F(lib).unfold(x, **kw), [(2, 3, 6, 7)])
    x = ctorch.randn(2, 3, 6, 7)
    L = ctorch.nn.functional.unfold(x, **kw).shape[-1]
    K = 3 * math.prod(im2col._pair(kw["kernel_size"]))
    check_op(lambda lib, c: _F(lib).fold(c, (6, 7), **kw), [(2, K, L)])


def test_conv_double_backward():
    """create_graph=True goes through the differentiable formulation."""
    x = ctorch.randn(1, 2, 5, 5, dtype=ctorch.float64, requires_grad=True)
    w = ctorch.randn(3, 2, 3, 3, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradgradcheck(
        lambda a, b: ctorch.nn.functional.conv2d(a, b, stride=2, padding=1), (x, w)
    )


# --------------------------------------------------------------------------- modules
@needs_torch
def test_conv_modules_repr_state_dict_and_forward():
    import torch

    cases = [
        (lambda lib: lib.nn.Conv2d(1, 32, 3), (2, 1, 8, 8)),
        (
            lambda lib: lib.nn.Conv2d(
                4,
                8,
                (3, 5),
                stride=2,
                padding=1,
                dilation=2,
                groups=2,
                bias=False,
                padding_mode="reflect",
            ),
            (2, 4, 12, 14),
        ),
        (lambda lib: lib.nn.Conv2d(3, 4, 3, padding="same", padding_mode="circular"), (1, 3, 6, 6)),
        (
            lambda lib: lib.nn.Conv2d(3, 4, 4, padding="same", padding_mode="replicate"),
            (1, 3, 6, 6),
        ),
        (lambda lib: lib.nn.Conv1d(3, 6, 3, padding="same"), (2, 3, 10)),
        (lambda lib: lib.nn.ConvTranspose2d(4, 2, 3, 2, 1, 1), (2, 4, 5, 5)),
        (lambda lib: lib.nn.ConvTranspose1d(4, 2, 3, 2), (2, 4, 5)),
    ]
    for make, shape in cases:
        tm, cm = make(torch), make(ctorch)
        assert repr(cm) == repr(tm)
        assert list(cm.state_dict()) == list(tm.state_dict())
        cm.load_state_dict(
            {k: ctorch.from_numpy(v.numpy().copy()) for k, v in tm.state_dict().items()}
        )
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        tx, cx = torch.from_numpy(x).requires_grad_(), ctorch.from_numpy(x).requires_grad_()
        ty, cy = tm(tx), cm(cx)
        assert_close(cy, ty, atol=1e-4)
        ty.square().sum().backward()
        cy.square().sum().backward()
        assert_close(cx.grad, tx.grad, atol=1e-3, rtol=1e-3)
        for (n, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters(), strict=True):
            assert_close(p.grad, q.grad, atol=1e-3, rtol=1e-3, msg=n)


@needs_torch
def test_conv_transpose_output_size():
    import torch

    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    cm = ctorch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = np.ones((1, 3, 4, 4), np.float32)
    assert (
        tuple(cm(ctorch.from_numpy(x), output_size=[8, 8]).shape)
        == tuple(tm(torch.from_numpy(x), output_size=[8, 8]).shape)
        == (1, 2, 8, 8)
    )
    with pytest.raises(ValueError):
        cm(ctorch.from_numpy(x), output_size=[12, 12])


def test_conv_default_init_statistics():
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), ...)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    b = m.bias.detach().numpy()
    assert np.abs(b).max() <= bound + 1e-7
    mt = nn.ConvTranspose2d(16, 8, 3)
    assert tuple(mt.weight.shape) == (16, 8, 3, 3)
    assert np.abs(mt.weight.detach().numpy()).max() <= 1 / math.sqrt(8 * 9) + 1e-7


def test_conv_module_dtype_and_no_grad():
    m = nn.Conv2d(2, 3, 3, dtype=ctorch.float64)
    assert m.weight.dtype == ctorch.float64
    with ctorch.no_grad():
        y = m(ctorch.randn(1, 2, 5, 5, dtype=ctorch.float64))
    assert y.grad_fn is None and tuple(y.shape) == (1, 3, 3, 3)


def test_fold_unfold_modules():
    assert repr(nn.Fold(4, 2)) == (
        "Fold(output_size=4, kernel_size=2, dilation=1, padding=0, stride=1)"
    )
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    x = ctorch.randn(2, 3, 4, 4)
    cols = nn.Unfold(2, stride=2)(x)
    assert tuple(cols.shape) == (2, 12, 4)
    back = nn.Fold(4, 2, stride=2)(cols)  # non-overlapping: fold(unfold(x)) == x
    np.testing.assert_allclose(back.numpy(), x.numpy())


@pytest.mark.parametrize(
    "kw",
    [
        {},
        dict(stride=(2, 1, 1), padding=1),
        dict(dilation=(2, 1, 1), groups=2),
        dict(padding="same"),
    ],
)
def test_conv3d(kw):
    g = kw.get("groups", 1)
    check_op(
        lambda lib, x, w, b: _F(lib).conv3d(x, w, b, **kw),
        [(2, 4, 5, 4, 4), (4, 4 // g, 2, 3, 2), (4,)],
        atol=1e-4,
    )


@needs_torch
def test_conv3d_module():
    import torch

    tm, cm = torch.nn.Conv3d(2, 3, 3, padding=1), ctorch.nn.Conv3d(2, 3, 3, padding=1)
    assert repr(cm) == repr(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())


@pytest.mark.parametrize("fn", ["conv2d", "conv_transpose2d"])
def test_window_argument_errors(fn):
    f = getattr(ctorch.nn.functional, fn)
    x, w = ctorch.zeros(1, 2, 5, 5), ctorch.zeros(2, 2, 3, 3)
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        f(x, w, stride=0)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        f(x, w, dilation=0)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        f(x, w, padding=-1)
