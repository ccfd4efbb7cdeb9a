"""``grad_fn.next_functions`` has one edge per differentiable input, as torch's: a number, a
callable or None passed to an op (sum's dim, clamp's bounds, pow's exponent) has none, nor has
an integer/bool tensor (indices, targets, where's condition), while the number operand of
add/sub/mul/div (a wrapped tensor in torch) has a None edge. A user Function has an edge per
tensor argument (torch's collect_next_edges); its backward still returns one gradient per
forward argument (torch's error for a gradient at a non-tensor position), and node hooks see
one grad_input per edge."""

from __future__ import annotations

import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

OPS = {
    "sum dim": lambda L, x: x.sum(1),
    "view": lambda L, x: x.view(-1),
    "index": lambda L, x: x[0],
    "clamp": lambda L, x: L.clamp(x, 0, 1),
    "pow scalar": lambda L, x: L.pow(x, 2),
    "where scalar": lambda L, x: L.where(x > 0, x, 0.0),
    "where tensors": lambda L, x: L.where(x > 0, x, x * 2),
    "mul scalar": lambda L, x: x * 2,
    "rmul scalar": lambda L, x: 3 * x,
    "add scalar": lambda L, x: x + 1,
    "add alpha": lambda L, x: x.add(1, alpha=2),
    "sub scalar": lambda L, x: x - 1,
    "div scalar": lambda L, x: x / 2,
    "rsub": lambda L, x: 2 - x,
    "cat": lambda L, x: L.cat([x, x], 1),
    "softmax": lambda L, x: L.nn.functional.softmax(x, 1),
    "mean dim": lambda L, x: x.mean(0),
    "max dim": lambda L, x: x.max(1)[0],
    "fmod": lambda L, x: L.fmod(x, 2),
    "mul tensors": lambda L, x: x * x,
    "add int tensor": lambda L, x: x + L.ones(2, 3, dtype=L.int64),
    "index_select": lambda L, x: L.index_select(x, 1, L.tensor([0, 2])),
    "gather": lambda L, x: L.gather(x, 1, L.zeros(2, 1, dtype=L.int64)),
    "scatter": lambda L, x: x.scatter(1, L.zeros(2, 1, dtype=L.int64), 1.0),
    "index_add": lambda L, x: x.index_add(1, L.tensor([0, 2]), L.ones(2, 2)),
    "nll_loss": lambda L, x: L.nn.functional.nll_loss(x, L.tensor([0, 2])),
    "mse_loss": lambda L, x: L.nn.functional.mse_loss(x, L.zeros(2, 3)),
}


def _edges(lib, name):
    x = lib.randn(2, 3, requires_grad=True)
    nf = OPS[name](lib, x).grad_fn.next_functions
    return [None if f is None else f.name().split("::")[-1] for f, _ in nf]


@pytest.mark.parametrize("name", list(OPS))
def test_edges_as_torch(name):
    got = _edges(ctorch, name)
    assert all(e in (None, "AccumulateGrad", "MulBackward0") for e in got)
    assert got.count(None) == {"mul scalar": 1, "rmul scalar": 1, "add scalar": 1,
                               "add alpha": 1, "sub scalar": 1, "div scalar": 1,
                               "where scalar": 1, "add int tensor": 1, "index_add": 1,
                               "mse_loss": 1}.get(name, 0)  # fmt: skip
    if torch is not None:
        assert got == _edges(torch, name)


def _functions(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            return x * k + y

        @staticmethod
        def backward(ctx, g):
            return g, lib.ones(1), g

    class Good(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            return x * k + y

        @staticmethod
        def backward(ctx, g):
            return g * 3, None, g

    return Bad, Good


@pytest.mark.parametrize("lib", [ctorch] if torch is None else [ctorch, torch])
def test_user_function(lib):
    Bad, Good = _functions(lib)
    x = lib.randn(3, requires_grad=True)
    y = lib.ones(3, requires_grad=True)
    assert len(Good.apply(x, 3, lib.tensor([1, 2, 3])).grad_fn.next_functions) == 2  # int too
    out = Good.apply(x, 3, y)
    assert len(out.grad_fn.next_functions) == 2
    seen = []
    out.grad_fn.register_hook(lambda gi, go: seen.append(len(gi)))
    out.sum().backward()
    assert seen == [2]
    assert x.grad.tolist() == [3.0] * 3 and y.grad.tolist() == [1.0] * 3
    with pytest.raises(RuntimeError, match="gradient different than None at position 2"):
        Bad.apply(x, 3, y).sum().backward()
