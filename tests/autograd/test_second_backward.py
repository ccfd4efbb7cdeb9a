"""A second ``backward()`` without ``retain_graph``, and the split/chunk graph node.

torch frees saved tensors at the first backward and raises only when a node needs them again;
nodes that kept sizes and flags alone (add, sum, views) run a second time. ctorch follows that
rule (``_core/_autograd.pyx``: ``_held_data``), checked here op by op against torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

A = np.random.default_rng(0).random((3, 4)) + 0.1
B = np.random.default_rng(1).random((3, 4)) + 0.1

OPS = {
    "add": lambda L, x, y: x + y,
    "sub_scalar": lambda L, x, y: x - 1,
    "mul_scalar": lambda L, x, y: x * 2,
    "mul": lambda L, x, y: x * y,
    "exp": lambda L, x, y: x.exp(),
    "neg": lambda L, x, y: -x,
    "sum_dim": lambda L, x, y: x.sum(1),
    "mean": lambda L, x, y: x.mean(),
    "slice": lambda L, x, y: x[:, 1:3],
    "select": lambda L, x, y: x[0],
    "adv_index": lambda L, x, y: x[[0, 2]],
    "transpose": lambda L, x, y: x.t(),
    "view": lambda L, x, y: x.view(12),
    "expand": lambda L, x, y: x[None].expand(2, 3, 4),
    "cat": lambda L, x, y: L.cat([x, y]),
    "split": lambda L, x, y: x.split(2, 1)[0],
    "chunk": lambda L, x, y: x.chunk(2, 1)[1],
    "unbind": lambda L, x, y: x.unbind(0)[1],
    "repeat": lambda L, x, y: x.repeat(2, 1),
    "flip": lambda L, x, y: x.flip(0),
    "lerp_scalar": lambda L, x, y: L.lerp(x, y, 0.3),
    "lerp_tensor": lambda L, x, y: L.lerp(x, y, y),
    "where": lambda L, x, y: L.where(x > 0.5, x, y),
    "masked_fill": lambda L, x, y: x.masked_fill(x > 0.5, 0),
    "gather": lambda L, x, y: x.gather(1, L.tensor([[0], [1], [2]])),
    "topk": lambda L, x, y: x.topk(2)[0],
    "sort": lambda L, x, y: x.sort(1)[0],
    "matmul": lambda L, x, y: x @ y.t(),
    "softmax": lambda L, x, y: x.softmax(1),
    "mse": lambda L, x, y: L.nn.functional.mse_loss(x, y),
    "cross_entropy": lambda L, x, y: L.nn.functional.cross_entropy(x, L.tensor([0, 1, 2])),
    "max_pool": lambda L, x, y: L.nn.functional.max_pool2d(x[None, None], 2),
    "pad": lambda L, x, y: L.nn.functional.pad(x, (1, 1)),
    "avg_pool": lambda L, x, y: L.nn.functional.avg_pool2d(x[None, None], 2),
    "interpolate": lambda L, x, y: L.nn.functional.interpolate(x[None, None], scale_factor=2),
}

# where ctorch's node keeps different data from torch's (documented differences)
PERMISSIVE = {"avg_pool"}  # ctorch keeps only the window geometry; torch saves the input
STRICTER = {"interpolate"}  # ctorch's nearest upsampling is a gather that keeps its index


def _twice(L, f):
    x = L.tensor(A, requires_grad=True)
    y = L.tensor(B, requires_grad=True)
    out = f(L, x, y)
    out.sum().backward()
    first = x.grad.clone()
    try:
        out.sum().backward()
    except RuntimeError as e:
        assert "second time" in str(e)
        return None, first
    return x.grad, first


@pytest.mark.parametrize("name", sorted(OPS))
def test_second_backward_matches_torch(name):
    f = OPS[name]
    t_second, _ = _twice(torch, f)
    c_second, c_first = _twice(ctorch, f)
    if name in PERMISSIVE:
        assert t_second is None and c_second is not None
        np.testing.assert_allclose(c_second.numpy(), 2 * c_first.numpy(), rtol=1e-12)
    elif name in STRICTER:
        assert t_second is not None and c_second is None
    elif t_second is None:
        assert c_second is None, f"{name}: torch raises on a second backward, ctorch ran"
    else:
        assert c_second is not None, f"{name}: torch runs a second backward, ctorch raised"
        np.testing.assert_allclose(c_second.numpy(), 2 * c_first.numpy(), rtol=1e-12)
        np.testing.assert_allclose(c_second.numpy(), t_second.numpy(), rtol=1e-12)


def test_retain_graph_still_reruns_everything():
    x = ctorch.tensor(A, requires_grad=True)
    out = (x.exp() * x).sum()
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()


def test_repeat_backward_keeps_no_input_buffer():
    x = ctorch.tensor(A, requires_grad=True)
    node = x.repeat(2, 1).grad_fn
    for cell in node.bwd.__closure__:
        assert not isinstance(cell.cell_contents, np.ndarray)


# ------------------------------------------------------------------ split / chunk: one node
@pytest.mark.parametrize(
    "call, node",
    [
        (lambda t: t.split(2), "SplitBackward0"),
        (lambda t: t.split([1, 4]), "SplitWithSizesBackward0"),
        (lambda t: t.chunk(3), "SplitBackward0"),
        (lambda t: t.split(2, dim=-1), "SplitBackward0"),
    ],
)
def test_split_is_one_node_with_torch_name(call, node):
    x = ctorch.tensor(np.random.rand(5, 4), requires_grad=True)
    pieces = call(x * 1)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tpieces = call(tx * 1)
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in tpieces]
    assert {type(p.grad_fn).__name__ for p in pieces} == {node}
    assert type(tpieces[0].grad_fn).__name__ == node
    # only some pieces used: the others contribute zeros
    w = [float(i + 1) for i in range(len(pieces))]
    (pieces[-1] * w[-1]).sum().backward()
    (tpieces[-1] * w[-1]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_split_pieces_are_views_and_gradcheck():
    x = ctorch.tensor(np.random.rand(5, 4), requires_grad=True)
    a, b = x.detach().split([2, 3])
    a[0, 0] = 7.0
    assert x[0, 0].item() == 7.0
    assert ctorch.autograd.gradcheck(lambda t: t.split([2, 3])[1] * t.split(2)[2].sum(), (x,))
    assert ctorch.autograd.gradgradcheck(lambda t: t.split(2, 1)[1].exp(), (x,))


def test_split_empty_and_errors():
    e = ctorch.zeros(0, 3, requires_grad=True)
    te = torch.zeros(0, 3)
    assert [p.shape for p in e.split(2)] == [tuple(p.shape) for p in te.split(2)]
    for c in (1, 2, 5):
        assert [p.shape for p in e.chunk(c)] == [tuple(p.shape) for p in te.chunk(c)]
    assert [p.shape for p in e.split(0)] == [tuple(p.shape) for p in te.split(0)]
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        ctorch.ones(4).split([1, 2])
