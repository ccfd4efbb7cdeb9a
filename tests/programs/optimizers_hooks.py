"""Optimizers and their hooks as training code uses them: RAdam, NAdam (decoupled and
momentum decay), Adamax, ASGD, Rprop and Adagrad on the same model; a step pre-hook clipping
gradients and a post-hook counting steps; state_dict pre/post hooks and load_state_dict hooks
(torch 2.x's API); CyclicLR and OneCycleLR schedules; save and resume an optimizer."""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((32, 6)))
Y = torch.from_numpy(rng.integers(0, 3, 32))


def make_model():
    model = nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 3)).double()
    r = np.random.default_rng(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(r.standard_normal(tuple(p.shape)) * 0.4))
    return model


def train(model, opt, steps=6, sched=None):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return losses


factories = {
    "RAdam": lambda p: torch.optim.RAdam(p, lr=0.05, weight_decay=0.01),
    "RAdam decoupled": lambda p: torch.optim.RAdam(
        p, lr=0.05, weight_decay=0.01, decoupled_weight_decay=True
    ),
    "NAdam": lambda p: torch.optim.NAdam(p, lr=0.05, momentum_decay=0.004),
    "NAdam decoupled": lambda p: torch.optim.NAdam(
        p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True
    ),
    "Adamax": lambda p: torch.optim.Adamax(p, lr=0.05),
    "ASGD": lambda p: torch.optim.ASGD(p, lr=0.1, t0=2),
    "Rprop": lambda p: torch.optim.Rprop(p, lr=0.01),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}
for name, make in factories.items():
    model = make_model()
    losses = train(model, make(model.parameters()))
    print(f"{name} first {losses[0]:.10f} last {losses[-1]:.10f}")

# hooks
model = make_model()
opt = torch.optim.Adam(model.parameters(), lr=0.05)
calls = {"pre": 0, "post": 0}


def clip_before_step(optimizer, args, kwargs):
    calls["pre"] += 1
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)


def count_after_step(optimizer, args, kwargs):
    calls["post"] += 1


h_pre = opt.register_step_pre_hook(clip_before_step)
h_post = opt.register_step_post_hook(count_after_step)
losses = train(model, opt, steps=4)
h_pre.remove()
train(model, opt, steps=1)
print("hooks", calls, f"last {losses[-1]:.10f}")


def add_note(optimizer, state_dict):
    state_dict["note"] = "saved with a hook"
    return state_dict


seen = []
opt.register_state_dict_post_hook(add_note)
opt.register_state_dict_pre_hook(lambda optimizer: seen.append("pre"))
opt.register_load_state_dict_pre_hook(lambda optimizer, sd: seen.append(("load", sd.get("note"))))
opt.register_load_state_dict_post_hook(lambda optimizer: seen.append("loaded"))
sd = opt.state_dict()
print("state_dict note", sd["note"], "step", int(sd["state"][0]["step"]))
buf = io.BytesIO()
torch.save({"model": model.state_dict(), "opt": sd}, buf)
buf.seek(0)
ckpt = torch.load(buf)
resumed_model = make_model()
resumed_model.load_state_dict(ckpt["model"])
resumed = torch.optim.Adam(resumed_model.parameters(), lr=0.05)
resumed.register_load_state_dict_pre_hook(
    lambda optimizer, sd: seen.append(("load", sd.get("note")))
)
resumed.register_load_state_dict_post_hook(lambda optimizer: seen.append("loaded"))
resumed.load_state_dict(ckpt["opt"])
print("hook calls", seen)
a, b = train(model, opt, steps=2), train(resumed_model, resumed, steps=2)
print("resumed identical", a == b)

# schedules
model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
sched = torch.optim.lr_scheduler.CyclicLR(
    opt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"
)
lrs = []
for _ in range(8):
    train(model, opt, steps=1)
    sched.step()
    lrs.append(round(sched.get_last_lr()[0], 10))
print("CyclicLR", lrs)
model = make_model()
opt = torch.optim.AdamW(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=6)
losses = train(model, opt, steps=6, sched=sched)
print("OneCycleLR", f"last loss {losses[-1]:.10f}", f"final lr {sched.get_last_lr()[0]:.10e}")
