"""Semantics of the convolution / pooling / interpolation / normalization ops against
torch 2.13 on adversarial inputs (issue #11): huge geometry, NaN/inf propagation, invalid
arguments, empty inputs, antialiased interpolation."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ctorch
import ctorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(fn_name, *args, **kw):
    """Run F.<fn_name> on ctorch and torch with the same (numpy/scalar) arguments."""

    def conv(lib, a):
        if isinstance(a, np.ndarray):
            return lib.tensor(a) if lib is torch else ctorch.tensor(a)
        return a

    c = getattr(F, fn_name)(*(conv(ctorch, a) for a in args), **kw)
    t = getattr(TF, fn_name)(*(conv(torch, a) for a in args), **kw)
    return c, t


def _same(c, t, rtol=1e-5, atol=1e-6):
    cn = c.detach().numpy() if hasattr(c, "detach") else np.asarray(c)
    tn = t.detach().numpy()
    assert cn.shape == tn.shape
    np.testing.assert_array_equal(np.isnan(cn), np.isnan(tn))
    np.testing.assert_allclose(cn, tn, rtol=rtol, atol=atol, equal_nan=True)


def _raises_like(fn_c, fn_t):
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(type(et.value)) as ec:
        fn_c()
    assert str(ec.value) == str(et.value)


def _child(code: str):
    """Run code in a child process: a SIGFPE/SIGSEGV fails the test instead of pytest."""
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, f"child died with {p.returncode}: {p.stderr[-2000:]}"
    return p.stdout


# --------------------------------------------------------------------------- 1. geometry
HUGE_CASES = [
    # (expression over F and x4 (1,1,4,4) / x3 (1,1,4) / x5 (1,1,4,4,4))
    "F.conv2d(x4, w4, stride=2**32)",
    "F.conv2d(x4, w4, stride=2**31)",
    "F.conv2d(x4, w4, stride=(1, 2**32))",
    "F.conv1d(x3, w3, stride=2**32)",
    "F.conv3d(x5, w5, stride=2**32)",
    "F.unfold(x4, 2, stride=2**32)",
    "F.max_pool1d(x3, 2, stride=2**32)",
]


@pytest.mark.parametrize("expr", HUGE_CASES)
def test_huge_stride_matches_torch_in_child(expr):
    # torch takes int64 strides here; ctorch's C kernels hold ints: 2**32 became 0 (SIGFPE)
    out = _child(
        f"""
        import numpy as np
        import ctorch, torch
        res = []
        for lib in (ctorch, torch):
            F = lib.nn.functional
            x4, w4 = lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2)
            x3, w3 = lib.ones(1, 1, 4), lib.ones(1, 1, 2)
            x5, w5 = lib.ones(1, 1, 4, 4, 4), lib.ones(1, 1, 2, 2, 2)
            res.append(np.asarray({expr}.tolist()))
        assert res[0].shape == res[1].shape, (res[0].shape, res[1].shape)
        assert (res[0] == res[1]).all()
        print("ok")
        """
    )
    assert "ok" in out


def test_huge_stride_backward_in_child():
    _child(
        """
        import ctorch
        x = ctorch.ones(2, 3, 5, 5, requires_grad=True)
        w = ctorch.ones(4, 3, 3, 3, requires_grad=True)
        ctorch.nn.functional.conv2d(x, w, stride=2**32).sum().backward()
        assert float(w.grad.sum()) == 2 * 4 * 27
        """
    )


@pytest.mark.parametrize(
    "call",
    [
        "k.im2col(x, cols, 1, 1, 4, 4, 2, 2, 2**32, 2**32, 0, 0, 1, 1, 1, 1)",
        "k.col2im(cols, x, 1, 1, 4, 4, 2, 2, 2**32, 2**32, 0, 0, 1, 1, 1, 1)",
        "g.conv2d_fused_forward(x, w, None, y, 1, 1, 4, 4, 1, 2, 2, 2**32, 2**32, 0, 0, 1, 1, 1, 1)",
        "p.maxpool2d_forward(x, y, i, 1, 1, 4, 4, 2, 2, 2**32, 2**32, 0, 0, 1, 1, 1, 1)",
    ],
)
def test_kernels_refuse_int_overflow_in_child(call):
    # the kernel contract: kernels check what they copy into C ints themselves
    out = _child(
        f"""
        import numpy as np
        from ctorch._core import conv as k, gemm as g, pooling as p
        x = np.ones(16, np.float32); cols = np.zeros(4, np.float32)
        w = np.ones(4, np.float32); y = np.zeros(1, np.float32); i = np.zeros(1, np.int64)
        try:
            {call}
        except ValueError as e:
            print("refused", e)
        """
    )
    assert "refused" in out


@pytest.mark.parametrize(
    "expr",
    [
        "F.max_pool2d(x4, 2, stride=2**32)",
        "F.max_pool2d(x4, 2, stride=2**31)",
        "F.max_pool2d(x4, 2**32)",
        "F.max_pool2d(x4, 2, dilation=2**32)",
        "F.avg_pool2d(x4, 2, stride=2**32)",
        "F.avg_pool1d(x3, 2, stride=2**32)",
        "F.conv2d(x4, w4, stride=2**63)",
        "F.unfold(x4, 2, stride=0)",
        "F.unfold(x4, 0)",
        "F.unfold(x4, 2, dilation=0)",
        "F.unfold(x4, 2, padding=-1)",
        "F.fold(c3, (3, 3), 2, stride=0)",
        "F.fold(c3, (3, 3), 2, padding=-1)",
        "F.fold(c3, (3, 3), 2, stride=2**32)",
    ],
)
def test_geometry_errors_like_torch(expr):
    def run(lib):
        F_ = lib.nn.functional
        env = {
            "F": F_,
            "x4": lib.ones(1, 1, 4, 4),
            "w4": lib.ones(1, 1, 2, 2),
            "x3": lib.ones(1, 1, 4),
            "c3": lib.ones(1, 4, 4),
        }
        return eval(expr, env)

    _raises_like(lambda: run(ctorch), lambda: run(torch))


@pytest.mark.parametrize(
    "expr",
    [
        "F.conv2d(x4, w4, padding=2**31)",
        "F.unfold(x4, 2, padding=2**31)",
        "F.conv_transpose2d(x4, w4, stride=2**32)",
        "F.conv_transpose2d(x4, w4, stride=2**31, output_padding=2**31 - 1)",
    ],
)
def test_geometry_too_large_is_a_clear_error(expr):
    # torch fails to allocate (padding) or wraps the stride to int32 and reports stride 0
    # (conv_transpose2d): ctorch names the geometry instead
    env = {"F": F, "x4": ctorch.ones(1, 1, 4, 4), "w4": ctorch.ones(1, 1, 2, 2)}
    with pytest.raises(RuntimeError, match="2\\*\\*31-1"):
        eval(expr, env)


# --------------------------------------------------------------------------- 2. max pool
@pytest.mark.parametrize("shape", [(1, 1, 6, 6), (2, 3, 9, 8)])
def test_max_pool2d_dilation_on_2x2_stride2(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    c, t = _both("max_pool2d", x, 2, stride=2, dilation=2, return_indices=True)
    _same(c[0], t[0])
    np.testing.assert_array_equal(c[1].numpy(), t[1].numpy())


# one bad index each: with several, torch's choice varies between runs (its scan is parallel);
# ctorch deterministically names the last one in memory order
@pytest.mark.parametrize("idx", [[[0, 1], [2, -1]], [[-3, 1], [2, 0]], [[0, 1], [2, 99]]])
def test_max_unpool2d_names_the_bad_index(idx):
    def run(lib):
        return lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.tensor([[idx]]), 2)

    _raises_like(lambda: run(ctorch), lambda: run(torch))
