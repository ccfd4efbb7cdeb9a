"""Data-parallel training of LeNet-5 with DistributedDataParallel and DistributedSampler.

Each process (rank) trains a replica on its own share of every epoch (DistributedSampler);
DDP averages the gradients across ranks during backward, so the replicas stay identical.
The data is the bundled 8x8 digits upsampled to 28x28 (offline), or MNIST with ``--root``.

Run:
    python -m ctorch.distributed.run --nproc-per-node 2 examples/ddp_mnist.py --epochs 1
    python -m ctorch.distributed.run --launcher subprocess --nproc-per-node 2 \
        examples/ddp_mnist.py                                     # no MPI: ranks meet over TCP
    mpirun -n 2 python examples/ddp_mnist.py --epochs 1          # 2 processes, this machine
    mpirun -n 4 --hostfile hosts python examples/ddp_mnist.py     # across machines
    python examples/ddp_mnist.py                                  # 1 process
(as root, OpenMPI also wants ``--allow-run-as-root``; ``--oversubscribe`` allows more ranks
than cores). The script is torch's DDP recipe with ``torch`` replaced by ``ctorch``.
"""

import argparse
import os
import time

import ctorch
import ctorch.distributed as dist
import ctorch.nn as nn
import ctorch.optim as optim
from ctorch.nn.parallel import DistributedDataParallel as DDP
from ctorch.utils.data import DataLoader, Subset
from ctorch.utils.data.distributed import DistributedSampler
from ctorch.vision import datasets, transforms
from ctorch.vision.models import LeNet5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=64, help="per rank")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--root", default=None, help="MNIST root (default: the bundled digits)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    args = ap.parse_args()

    # One process per rank, started by mpirun or a torchrun-style launcher (which sets
    # WORLD_SIZE and MASTER_ADDR: the ranks then meet over TCP). Started alone, one process.
    launched = any(k in os.environ for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"))
    distributed = launched or "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group(backend="gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    ctorch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    if args.root:
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        train_set = datasets.MNIST(args.root, train=True, transform=tf)
        test_set = datasets.MNIST(args.root, train=False, transform=tf)
    else:
        tf = transforms.Compose(
            [transforms.Resize(28), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]
        )
        train_set = datasets.Digits(train=True, transform=tf)
        test_set = datasets.Digits(train=False, transform=tf)
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))

    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)

    ctorch.manual_seed(0)
    model = LeNet5(num_classes=10)
    if distributed:
        model = DDP(model)  # broadcasts rank 0's weights; averages gradients in backward
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"world size {world}, {len(train_set)} training images, {len(sampler)} per rank")

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        t0 = time.perf_counter()
        total, count = 0.0, 0
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            count += len(y)
        stats = ctorch.tensor([total, count], dtype=ctorch.float64)
        if distributed:
            dist.all_reduce(stats)  # the epoch's mean loss over all ranks
        if rank == 0:
            print(
                f"epoch {epoch + 1}: train loss {stats[0].item() / stats[1].item():.4f} "
                f"({time.perf_counter() - t0:.1f} s)"
            )

    if rank == 0:  # every replica holds the same weights: evaluate on one
        net = model.module if distributed else model
        net.eval()
        correct = 0
        with ctorch.no_grad():
            for x, y in DataLoader(test_set, batch_size=256):
                correct += int((net(x).argmax(1) == y).sum().item())
        print(f"test accuracy {correct / len(test_set):.3f} ({len(test_set)} images)")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
