"""grad_fn names follow torch's for the overloads ctorch computes with one shared Function
(issue #10), and ``diagonal`` is a writable view as in torch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, _torch

import ctorch

A = np.array([[0.3, 0.7, 1.4, 0.2], [0.1, 0.5, 2.0, 0.9], [1.5, 0.2, 1.1, 0.4]])
B = np.array([[0.6, 0.2, 0.4, 1.2], [0.3, 0.8, 0.5, 0.7], [0.9, 0.1, 1.3, 0.6]])

CASES = {
    "pow tensor-scalar": lambda L, x, y: x**2.5,
    "pow tensor-tensor": lambda L, x, y: x**y,
    "pow scalar-tensor": lambda L, x, y: 2.0**x,
    "maximum": lambda L, x, y: L.maximum(x, y),
    "minimum": lambda L, x, y: L.minimum(x, y),
    "lerp": lambda L, x, y: L.lerp(x, y, 0.3),
    "cdist": lambda L, x, y: L.cdist(x, y),
    "dot": lambda L, x, y: L.dot(x[0], y[0]),
    "mv": lambda L, x, y: L.mv(x, y[0]),
    "bmm": lambda L, x, y: L.bmm(x[None], y.t()[None]),
    "mm": lambda L, x, y: L.mm(x, y.t()),
    "linear without bias": lambda L, x, y: L.nn.functional.linear(x, y),
    "linear with bias": lambda L, x, y: L.nn.functional.linear(x, y, y[:, 0]),
    "diagonal": lambda L, x, y: x.diagonal(1),
    "flip": lambda L, x, y: x.flip(1),
    "roll": lambda L, x, y: x.roll(1, 0),
    "repeat": lambda L, x, y: x.repeat(2, 1, 3),
    "tile": lambda L, x, y: x.tile(2),
    "stack": lambda L, x, y: L.stack([x, y * 2], 1),
    "stack mixed dims": lambda L, x, y: L.stack([x[0], y[1]], -1),
    "trace": lambda L, x, y: x.trace(),
    "sort": lambda L, x, y: x.sort(1, descending=True).values,
    "topk": lambda L, x, y: x.topk(2, 0).values,
    "sort 0-d": lambda L, x, y: x[0, 0].sort().values,
    "addmm": lambda L, x, y: L.addmm(x[0, :3], x, y.t()[:, :3], beta=0.5, alpha=2),
    "addmm beta=0 nan input": lambda L, x, y: L.addmm(x[:, :3] * float("nan"), x, y.t(), beta=0),
    "addmv": lambda L, x, y: L.addmv(x[:, 0], x, y[0], alpha=3),
    "baddbmm": lambda L, x, y: L.baddbmm(x[None, :, :3], x[None], y.t()[None], beta=2),
    "masked_fill": lambda L, x, y: x.masked_fill(y > 0.5, -2.0),
    "masked_fill 0-d value": lambda L, x, y: x.masked_fill(y > 0.5, L.tensor(3.0, dtype=x.dtype)),
}


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_node_name_value_and_gradient_match_torch(case):
    res = []
    for L in (ctorch, _torch):
        x = L.tensor(A, requires_grad=True)
        y = L.tensor(B, requires_grad=True)
        out = CASES[case](L, x, y)
        gx, gy = L.autograd.grad((out * out).sum(), (x, y), allow_unused=True)
        res.append((type(out.grad_fn).__name__, out.detach().numpy(), gx, gy))
    (cn, co, cgx, cgy), (tn, to, tgx, tgy) = res
    assert cn == tn
    np.testing.assert_allclose(co, to, rtol=1e-12)
    for c, t in ((cgx, tgx), (cgy, tgy)):
        assert (c is None) == (t is None)
        if c is not None:
            np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("offset,d1,d2", [(0, 0, 1), (1, 0, 2), (-1, 1, 2), (5, 0, 1), (0, -1, -2)])
def test_diagonal_is_a_writable_view(offset, d1, d2):
    x = ctorch.arange(24.0).reshape(2, 3, 4)
    ref = np.arange(24.0).reshape(2, 3, 4)
    d = x.diagonal(offset, d1, d2)
    np.testing.assert_array_equal(d.numpy(), np.diagonal(ref, offset, d1, d2))
    d.add_(100)  # writes through to x, as torch's view does
    expect = ref.copy()
    idx = np.moveaxis(np.arange(24).reshape(2, 3, 4), (d1, d2), (-2, -1))
    sel = np.diagonal(idx, offset, -2, -1).ravel()
    expect.ravel()[sel] += 100
    np.testing.assert_array_equal(x.numpy(), expect)


def test_in_place_on_diagonal_of_a_graph_tensor_gives_torchs_gradient():
    x = ctorch.tensor(A[:3, :3], requires_grad=True)
    y = x * 1
    d = y.diagonal()
    d.mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 3)) + np.eye(3))
    assert type(d.grad_fn).__name__ == "AsStridedBackward0"  # torch's name after the rebase


def test_diagonal_errors_name_the_dims():
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 1, 1"):
        ctorch.rand(3, 3).diagonal(0, 1, 1)
    with pytest.raises(IndexError):
        ctorch.rand(3, 3).diagonal(0, 0, 2)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_gather_backward_on_a_0d_input_matches_torch():
    res = []
    for L in (ctorch, _torch):
        x = L.tensor(2.0, requires_grad=True)
        y = L.gather(x, 0, L.tensor([0, 0]))
        (y * L.tensor([1.0, 3.0])).sum().backward()
        res.append(float(x.grad))
    assert res[0] == res[1] == 4.0
