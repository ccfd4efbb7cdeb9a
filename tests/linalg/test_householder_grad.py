"""``linalg.householder_product``'s backward: one node (orgqr forward, torch's closed-form
backward), checked against finite differences and against torch's gradients, real and complex,
batched, tau shorter than n, m > n. (``orthogonal(householder)``, built on the same node, is
compared with torch in tests/nn/test_parametrize.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

SHAPES = [  # (A's shape, k)
    ((4, 4), 4),
    ((5, 3), 3),
    ((6, 4), 2),  # tau shorter than n
    ((2, 5, 3), 3),
    ((2, 3, 6, 4), 3),
]


def _arrays(shape, k, dtype, seed=0):
    rng = np.random.default_rng(seed)

    def draw(s):
        x = rng.standard_normal(s)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(s)
        return (0.5 * x).astype(dtype)

    return draw(shape), draw(shape[:-2] + (k,))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize(("shape", "k"), SHAPES)
def test_gradcheck(shape, k, dtype):
    a, t = _arrays(shape, k, dtype)
    A = ctorch.from_numpy(a).requires_grad_()
    T = ctorch.from_numpy(t).requires_grad_()
    assert ctorch.autograd.gradcheck(ctorch.linalg.householder_product, (A, T))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize(("shape", "k"), SHAPES)
def test_values_and_grads_match_torch(shape, k, dtype):
    a, t = _arrays(shape, k, dtype, seed=1)
    rng = np.random.default_rng(2)
    w = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if a.dtype.kind == "c" else 0)
    w = w.astype(dtype)
    outs, grads, strides = [], [], []
    for lib in (ctorch, torch):
        A = lib.from_numpy(a.copy()).requires_grad_()
        T = lib.from_numpy(t.copy()).requires_grad_()
        Q = lib.linalg.householder_product(A, T)
        # a real loss of a complex output: the conjugate-Wirtinger convention shows in the grads
        prod = Q * lib.from_numpy(w.copy())
        loss = prod.real.sum() if a.dtype.kind == "c" else prod.sum()
        loss.backward()
        outs.append(Q.detach().numpy())
        strides.append(Q.stride())
        grads.append((A.grad.numpy(), T.grad.numpy()))
        if lib is ctorch:
            assert type(Q.grad_fn).__name__ == "LinalgHouseholderProductBackward0"
    assert strides[0] == strides[1]  # column-major Q, as torch's
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
    for gc, gt in zip(grads[0], grads[1], strict=True):
        np.testing.assert_allclose(gc, gt, rtol=1e-9, atol=1e-11)


def test_grad_fn_name_and_one_node():
    A = ctorch.randn(5, 3, dtype=ctorch.float64, requires_grad=True)
    T = ctorch.randn(3, dtype=ctorch.float64, requires_grad=True)
    Q = ctorch.linalg.householder_product(A, T)
    At = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    Tt = torch.randn(3, dtype=torch.float64)
    assert Q.grad_fn.name() == torch.linalg.householder_product(At, Tt).grad_fn.name()
    # the node's inputs are A and tau themselves (no per-reflector subgraph)
    nexts = [f for f, _ in Q.grad_fn.next_functions]
    assert [type(f).__name__ for f in nexts] == ["AccumulateGrad", "AccumulateGrad"]


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_gradgradcheck_batched_short_tau(dtype):
    """Under create_graph the backward runs as tensor ops, so second derivatives work."""
    a, t = _arrays((2, 5, 3), 2, dtype, seed=5)
    A = ctorch.from_numpy(a).requires_grad_()
    T = ctorch.from_numpy(t).requires_grad_()
    assert ctorch.autograd.gradgradcheck(ctorch.linalg.householder_product, (A, T))


def test_first_and_higher_order_paths_agree():
    """The in-place array path (first order) and the tensor path (create_graph) give the
    same gradients."""
    a, t = _arrays((3, 6, 4), 3, np.complex128, seed=6)
    outs = []
    for create_graph in (False, True):
        A = ctorch.from_numpy(a.copy()).requires_grad_()
        T = ctorch.from_numpy(t.copy()).requires_grad_()
        Q = ctorch.linalg.householder_product(A, T)
        gA, gT = ctorch.autograd.grad((Q * Q).real.sum(), (A, T), create_graph=create_graph)
        outs.append((gA.detach().numpy(), gT.detach().numpy()))
    for x, y in zip(outs[0], outs[1], strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13)
