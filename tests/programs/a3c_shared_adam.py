"""Asynchronous workers with a shared optimizer, written the way A3C implementations are
(ikostrikov/pytorch-a3c's ``my_optim.SharedAdam``, ``train.ensure_shared_grads``, ``main.py``;
the optimizer in its current form: an ``optim.Adam`` subclass whose pre-filled state, ``step``
counter too, is moved to shared memory, so Adam's own ``step`` updates it for every worker;
``p.data.new().resize_as_(p.data).zero_()``): each worker copies the shared
weights into a local model (``load_state_dict(shared_model.state_dict())``), backpropagates
locally, hands its gradients over with ``shared_param._grad = param.grad`` and steps the shared
optimizer; an ``mp.Value`` counter under an ``mp.Lock`` counts the steps. The environment is
replaced by a fixed regression task (no gym), the starting weights come from NumPy.
"""

import argparse

import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

parser = argparse.ArgumentParser(description="A3C-style shared optimizer")
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--num-processes", type=int, default=2)
parser.add_argument("--num-steps", type=int, default=30)
parser.add_argument("--max-grad-norm", type=float, default=50)
parser.add_argument("--seed", type=int, default=1)


class SharedAdam(optim.Adam):
    """Implements Adam algorithm with shared states (Adam's own step updates them in place)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        # State initialization
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = torch.zeros(1)
                state["exp_avg"] = p.data.new().resize_as_(p.data).zero_()
                state["exp_avg_sq"] = torch.zeros_like(p.data)

    def share_memory(self):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"].share_memory_()
                state["exp_avg"].share_memory_()
                state["exp_avg_sq"].share_memory_()


class ActorCritic(nn.Module):
    def __init__(self, num_inputs, num_outputs):
        super().__init__()
        self.fc = nn.Linear(num_inputs, 16)
        self.critic_linear = nn.Linear(16, 1)
        self.actor_linear = nn.Linear(16, num_outputs)

    def forward(self, x):
        x = torch.tanh(self.fc(x))
        return self.critic_linear(x), self.actor_linear(x)


def task():
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.standard_normal((64, 6))).float()
    w = torch.from_numpy(rng.standard_normal((6, 1))).float()
    return x, x @ w, (x @ w > 0).long().view(-1)


def evaluate(model):
    x, value, action = task()
    with torch.no_grad():
        v, logits = model(x)
    return (F.mse_loss(v, value) + F.cross_entropy(logits, action)).item()


def ensure_shared_grads(model, shared_model):
    for param, shared_param in zip(model.parameters(), shared_model.parameters()):  # noqa: B905
        if shared_param.grad is not None:
            return
        shared_param._grad = param.grad


def train(rank, args, shared_model, counter, lock, optimizer=None):
    torch.manual_seed(args.seed + rank)
    model = ActorCritic(6, 2)
    if optimizer is None:
        optimizer = optim.Adam(shared_model.parameters(), lr=args.lr)
    model.train()
    x, value, action = task()
    for _ in range(args.num_steps):
        # Sync with the shared model
        model.load_state_dict(shared_model.state_dict())
        v, logits = model(x)
        loss = F.mse_loss(v, value) + F.cross_entropy(logits, action)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        ensure_shared_grads(model, shared_model)
        optimizer.step()
        with lock:
            counter.value += 1


if __name__ == "__main__":
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    mp.set_start_method("spawn")
    shared_model = ActorCritic(6, 2)
    rng = np.random.default_rng(9)
    with torch.no_grad():
        for p in shared_model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
    shared_model.share_memory()
    optimizer = SharedAdam(shared_model.parameters(), lr=args.lr)
    optimizer.share_memory()
    state = optimizer.state[shared_model.fc.weight]
    print("shared", shared_model.fc.weight.is_shared(), state["exp_avg"].is_shared())
    before = evaluate(shared_model)
    print(f"loss before {before:.6f}")

    processes = []
    counter = mp.Value("i", 0)
    lock = mp.Lock()
    for rank in range(0, args.num_processes):
        p = mp.Process(target=train, args=(rank, args, shared_model, counter, lock, optimizer))
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    print("exit codes", [p.exitcode for p in processes])
    print("counter", counter.value)
    print("shared step", int(state["step"].item()))
    print("moments moved", bool(state["exp_avg_sq"].abs().sum() > 0))
    after = evaluate(shared_model)
    print(f"loss after {after:.6f}")
    print("loss decreased", after < before / 2)
