"""What the FSDP/FSDP2 worker scripts and tests share: the batch split, the tolerance check,
the scenario runner the workers' ``main`` is, and the two-block residual net the activation
checkpointing tests wrap. The workers import it by name (their directory is on ``sys.path``,
as for any script); the pytest files through ``pythonpath = ["tests"]``."""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

import ctorch
import ctorch.distributed as dist
from ctorch import nn
from ctorch.utils.checkpoint import checkpoint


def shard(a: np.ndarray, rank: int, world: int) -> np.ndarray:
    n = a.shape[0] // world
    return a[rank * n : (rank + 1) * n]


def check_close(a, b, what: str, tol: float = 2e-5) -> None:
    a = a.detach().numpy() if isinstance(a, ctorch.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ctorch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def run_scenarios(namespace: dict) -> None:
    """A worker's ``main``: run ``scenario_<name>`` for each name in ``sys.argv[2:]`` in a
    gloo process group, printing ``OK name rank r``; any failure exits the rank at once."""
    dist.init_process_group(backend="gloo")
    try:
        for name in sys.argv[2:]:
            namespace[f"scenario_{name}"]()
            print(f"OK {name} rank {dist.get_rank()}", flush=True)
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    dist.destroy_process_group()


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        return x + self.fc2(self.fc1(x).tanh())


class CkptNet(nn.Module):
    """Two residual blocks and a head; ``forward(x, ckpt)`` checkpoints each block."""

    def __init__(self, reentrant: bool) -> None:
        super().__init__()
        self.reentrant = reentrant
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(4, 1)

    def forward(self, x, ckpt: bool = True):
        for b in self.blocks:
            x = checkpoint(b, x, use_reentrant=self.reentrant) if ckpt else b(x)
        return self.head(x)
