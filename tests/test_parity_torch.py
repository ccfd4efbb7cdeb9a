"""End-to-end parity with torch (skipped without torch): the same program, the same numbers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import assert_close, check_op  # noqa: E402

import ctorch  # noqa: E402


def _program(T, x_np, w1_np, w2_np, steps=5):
    """A tiny MLP trained with hand-written SGD, as a torch script would write it."""
    x = T.from_numpy(x_np.copy())
    y = (x.sum(1, keepdim=True) > 0).float()
    w1 = T.tensor(w1_np, requires_grad=True)
    w2 = T.tensor(w2_np, requires_grad=True)
    losses = []
    for _ in range(steps):
        h = T.relu(x @ w1)
        logits = h @ w2
        p = T.sigmoid(logits)
        loss = -(y * T.log(p + 1e-7) + (1 - y) * T.log(1 - p + 1e-7)).mean()
        loss.backward()
        with T.no_grad():
            w1 -= 0.5 * w1.grad
            w2 -= 0.5 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        losses.append(loss.item())
    return losses, w1.detach().numpy().copy(), w2.detach().numpy().copy()


def test_training_program_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    w1 = (rng.standard_normal((6, 16)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((16, 1)) * 0.3).astype(np.float32)
    lc, w1c, w2c = _program(ctorch, x, w1, w2)
    lt, w1t, w2t = _program(torch, x, w1, w2)
    np.testing.assert_allclose(lc, lt, rtol=1e-5)
    np.testing.assert_allclose(w1c, w1t, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(w2c, w2t, rtol=1e-4, atol=1e-6)


COMPOSITES = [
    lambda T, a, b: (a.softmax(-1) * b).sum(-1).log1p(),
    lambda T, a, b: T.cat([a, b], 0).std(0, keepdim=True) * a,
    lambda T, a, b: T.where(a > b, a * b, a - b).clamp(-1, 1).exp(),
    lambda T, a, b: (a.unsqueeze(-1) * b.unsqueeze(-2)).flatten(1).logsumexp(1),
    lambda T, a, b: T.stack([a, b], 1)[:, :, 1:].transpose(1, 2).reshape(3, -1).tanh(),
    lambda T, a, b: a.norm(dim=1) / (b.abs().sum(1) + 1),
    lambda T, a, b: (a @ b.t()).sigmoid().max(1).values,
    lambda T, a, b: a[a.argmax(1) % 2 == 0].sum() + b[:, [0, 2]].var(),
    lambda T, a, b: T.einsum("ij,kj->ik", a, b).relu().mean(),
    lambda T, a, b: a.log_softmax(0).gather(0, T.tensor([[0, 1, 2, 0]])).neg().mean(),
]


@pytest.mark.parametrize("i", range(len(COMPOSITES)))
def test_composite_expressions(i):
    check_op(COMPOSITES[i], [(3, 4), (3, 4)])


def test_same_seed_independent_streams_are_deterministic():
    # ctorch's RNG need not match torch's bit stream, but must be reproducible
    ctorch.manual_seed(123)
    a = ctorch.randn(5), ctorch.rand(3), ctorch.randint(0, 10, (4,)), ctorch.randperm(5)
    ctorch.manual_seed(123)
    b = ctorch.randn(5), ctorch.rand(3), ctorch.randint(0, 10, (4,)), ctorch.randperm(5)
    for x, y in zip(a, b, strict=True):
        assert ctorch.equal(x, y)


def test_grad_fn_names_match_torch():
    def names(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        outs = [
            x + 1,
            x * 2,
            x - x,
            x / 2,
            x @ x,
            x.sum(),
            x.sum(0),
            x.mean(),
            x.mean(1),
            x.exp(),
            x.relu(),
            x.t(),
            x.view(4),
            x[0],
            x.clone(),
            x.sigmoid(),
            x.tanh(),
            x.pow(2),
            x.max(),
            x.abs(),
            x.log(),
            x.sqrt(),
            x.neg(),
            x[:, 0],
            x[0:1],
            x[None],
            x[x > 0],
            x[[0, 1]],
            x[..., 1],
            x[1, None],
        ]
        return [o.grad_fn.name() for o in outs]

    assert names(ctorch) == names(torch)


def test_inplace_semantics_match_torch():
    def run(T):
        x = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 1
        y[1] = 5.0
        y.mul_(x)
        z = y.clone()
        z[z > 4] = 0.0
        z.sum().backward()
        return z.detach(), x.grad

    assert_close(run(ctorch), run(torch))
