"""Hogwild training written the way pytorch/examples ``mnist_hogwild`` is: one model put in
shared memory with ``model.share_memory()``, ``torch.multiprocessing`` with the ``spawn`` start
method, several ``mp.Process(target=train, ...)`` workers each running SGD on that shared model
without locks, then a test pass in the parent. MNIST is replaced by a generated 10-class problem
(no download); the starting weights come from NumPy so torch and ctorch start alike.
"""

import argparse
import os

import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import TensorDataset

parser = argparse.ArgumentParser(description="PyTorch MNIST-like Hogwild Example")
parser.add_argument("--batch-size", type=int, default=32, metavar="N")
parser.add_argument("--test-batch-size", type=int, default=100, metavar="N")
parser.add_argument("--epochs", type=int, default=2, metavar="N")
parser.add_argument("--lr", type=float, default=0.05, metavar="LR")
parser.add_argument("--momentum", type=float, default=0.5, metavar="M")
parser.add_argument("--seed", type=int, default=1, metavar="S")
parser.add_argument("--log-interval", type=int, default=4, metavar="N")
parser.add_argument("--num-processes", type=int, default=2, metavar="N")
parser.add_argument("--shuffle", action="store_true", default=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = x.view(-1, 64)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def make_datasets():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((10, 64))

    def split(n):
        y = rng.integers(0, 10, n)
        x = centers[y] + 0.9 * rng.standard_normal((n, 64))
        return TensorDataset(torch.from_numpy(x).float().view(n, 1, 8, 8), torch.from_numpy(y))

    return split(512), split(200)


def train(rank, args, model, device, dataset, dataloader_kwargs):
    torch.manual_seed(args.seed + rank)
    train_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    for epoch in range(1, args.epochs + 1):
        train_epoch(epoch, args, model, device, train_loader, optimizer)


def test(args, model, device, dataset, dataloader_kwargs):
    torch.manual_seed(args.seed)
    test_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)
    return test_epoch(model, device, test_loader)


def train_epoch(epoch, args, model, device, data_loader, optimizer):
    model.train()
    pid = os.getpid()
    for batch_idx, (data, target) in enumerate(data_loader):
        optimizer.zero_grad()
        output = model(data.to(device))
        loss = F.nll_loss(output, target.to(device))
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "{}\tTrain Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(  # noqa: UP032
                    pid,
                    epoch,
                    batch_idx * len(data),
                    len(data_loader.dataset),
                    100.0 * batch_idx / len(data_loader),
                    loss.item(),
                ),
                flush=True,
            )


def test_epoch(model, device, data_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in data_loader:
            output = model(data.to(device))
            test_loss += F.nll_loss(output, target.to(device), reduction="sum").item()
            pred = output.max(1)[1]
            correct += pred.eq(target.to(device)).sum().item()
    test_loss /= len(data_loader.dataset)
    print(
        "\nTest set: Average loss: {:.6f}, Accuracy: {}/{} ({:.0f}%)\n".format(  # noqa: UP032
            test_loss,
            correct,
            len(data_loader.dataset),
            100.0 * correct / len(data_loader.dataset),
        ),
        flush=True,
    )
    return test_loss


if __name__ == "__main__":
    args = parser.parse_args()
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    dataset1, dataset2 = make_datasets()
    kwargs = {"batch_size": args.batch_size, "shuffle": args.shuffle}
    if use_cuda:
        kwargs.update({"num_workers": 1, "pin_memory": True})

    torch.manual_seed(args.seed)
    mp.set_start_method("spawn", force=True)

    model = Net().to(device)
    rng = np.random.default_rng(3)
    with torch.no_grad():  # the same start in both libraries
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.15, 0.15, tuple(p.shape))))
    model.share_memory()  # gradients are allocated lazily, so they are not shared here
    print("shared", all(p.is_shared() for p in model.parameters()))
    before = [p.detach().clone() for p in model.parameters()]
    test_kwargs = {"batch_size": args.test_batch_size, "shuffle": False}
    loss0 = test(args, model, device, dataset2, test_kwargs)

    processes = []
    for rank in range(args.num_processes):
        p = mp.Process(target=train, args=(rank, args, model, device, dataset1, kwargs))
        # We first train the model across `num_processes` processes
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    print("exit codes", [p.exitcode for p in processes])
    changed = [
        not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters(), strict=True)
    ]
    print("workers changed the shared parameters", changed)

    # Once training is complete, we can test the model
    loss1 = test(args, model, device, dataset2, test_kwargs)
    print("test loss decreased", loss1 < loss0 / 2)
