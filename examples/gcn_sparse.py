"""A two-layer graph convolutional network (Kipf & Welling) on a synthetic graph, trained
twice from the same weights: once with a dense normalised adjacency matrix, once with the
same matrix as a sparse COO tensor (``torch.sparse.mm``). The losses agree step by step.

    python examples/gcn_sparse.py [--nodes 300] [--epochs 60]

Runs on ctorch (``import ctorch as torch``); the same code runs on PyTorch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ctorch as torch
import ctorch.nn.functional as F
from ctorch import nn


def synthetic_graph(n: int, classes: int, feats: int, seed: int = 0):
    """A stochastic block model: dense links inside a class, sparse links across; noisy
    features carrying a class signal."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    same = y[:, None] == y[None, :]
    p = np.where(same, 8.0 / n * classes, 0.5 / n)
    a = np.triu(rng.random((n, n)) < p, 1)
    a = a | a.T
    x = rng.standard_normal((n, feats)).astype(np.float32)
    x[:, :classes] += 1.5 * np.eye(classes, dtype=np.float32)[y]
    return a, x, y


def normalised_adjacency(a: np.ndarray) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2."""
    a = a.astype(np.float32) + np.eye(a.shape[0], dtype=np.float32)
    d = 1.0 / np.sqrt(a.sum(1))
    return (a * d[:, None]) * d[None, :]


class GCN(nn.Module):
    def __init__(self, feats: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.l1 = nn.Linear(feats, hidden)
        self.l2 = nn.Linear(hidden, classes)

    def forward(self, adj, x):
        mm = torch.sparse.mm if adj.is_sparse else torch.mm
        h = F.relu(mm(adj, self.l1(x)))
        return mm(adj, self.l2(h))


def train(adj, x, y, train_mask, state, epochs: int):
    model = GCN(x.shape[1], 16, int(y.max()) + 1)
    model.load_state_dict(state)
    opt = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
    losses = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        out = model(adj, x)
        loss = F.cross_entropy(out[train_mask], y[train_mask])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    dt = time.perf_counter() - t0
    with torch.no_grad():
        acc = (model(adj, x).argmax(1) == y).float().mean().item()
    return losses, acc, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    torch.manual_seed(0)
    a, xn, yn = synthetic_graph(args.nodes, 3, 8)
    adj_np = normalised_adjacency(a)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)
    train_mask = torch.from_numpy(np.arange(args.nodes) % 5 == 0)
    dense_adj = torch.from_numpy(adj_np)
    sparse_adj = dense_adj.to_sparse()
    print(
        f"graph: {args.nodes} nodes, {int(a.sum()) // 2} edges, adjacency nnz "
        f"{sparse_adj._nnz()} ({100 * sparse_adj._nnz() / args.nodes**2:.1f}% dense)"
    )
    state = {k: v.clone() for k, v in GCN(8, 16, 3).state_dict().items()}
    torch.sparse.mm(sparse_adj, x)  # warm-up: the first sparse product imports scipy.sparse
    ld, acc_d, td = train(dense_adj, x, y, train_mask, state, args.epochs)
    ls, acc_s, ts = train(sparse_adj, x, y, train_mask, state, args.epochs)
    diff = max(abs(p - q) for p, q in zip(ld, ls, strict=True))
    for e in range(0, args.epochs, max(1, args.epochs // 6)):
        print(f"epoch {e:3d}  loss dense {ld[e]:.6f}  sparse {ls[e]:.6f}")
    print(f"final loss dense {ld[-1]:.6f} sparse {ls[-1]:.6f}; max |difference| {diff:.2e}")
    print(f"accuracy dense {acc_d:.3f} sparse {acc_s:.3f}; time dense {td:.2f}s sparse {ts:.2f}s")
    if diff > 1e-4 or ld[-1] >= ld[0]:
        raise SystemExit("dense and sparse adjacency disagree, or training did not learn")


if __name__ == "__main__":
    main()
