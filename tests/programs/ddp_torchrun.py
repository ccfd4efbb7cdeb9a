"""A DDP training script written for torchrun (``torchrun --nproc-per-node 2 ddp_torchrun.py``):
env:// initialisation with the gloo backend, LOCAL_RANK from the environment, a
DistributedSampler, DDP, an all_reduce of the loss, and rank 0 saving the checkpoint."""

import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main():
    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])
    print(
        f"rank {rank} local_rank {local_rank} world {world} backend {dist.get_backend()}",
        flush=True,
    )

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((64, 5)))
    y = x @ torch.from_numpy(rng.standard_normal((5, 1))) + 0.5
    data = TensorDataset(x, y)
    # no shuffle: the two libraries' random streams differ, the shards must not
    loader = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, shuffle=False))
    torch.manual_seed(0)
    model = nn.Linear(5, 1).double()
    with torch.no_grad():  # the same start on every rank and in both libraries
        model.weight.copy_(torch.linspace(-0.5, 0.5, 5, dtype=torch.float64).reshape(1, 5))
        model.bias.zero_()
    model = DDP(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(3):
        loader.sampler.set_epoch(epoch)
        total = torch.zeros((), dtype=torch.float64)
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        if rank == 0:
            print(f"epoch {epoch} summed loss {total.item() / world:.6f}", flush=True)
    w = model.module.weight.detach().clone()
    gathered = [torch.zeros_like(w) for _ in range(world)]
    dist.all_gather(gathered, w)
    agree = all(torch.equal(g, gathered[0]) for g in gathered)
    print(f"rank {rank} replicas agree {agree}", flush=True)
    if rank == 0:
        torch.save(model.module.state_dict(), "ddp_model.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
