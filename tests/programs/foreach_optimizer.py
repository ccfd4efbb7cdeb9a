# ruff: noqa: B905 - written the way real training scripts are
"""A hand-written AdamW with the multi-tensor (_foreach) path, gradient clipping by
_foreach_norm, an EMA copy of the weights kept with lerp_, and a few of the small ops real
training code calls (Tensor.unfold patches, allclose, addcmul, cdist, erfinv init)."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ForeachAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            beta1, beta2 = group["betas"]
            exp_avgs, exp_avg_sqs = [], []
            for p in params:
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                exp_avgs.append(st["exp_avg"])
                exp_avg_sqs.append(st["exp_avg_sq"])
            step = self.state[params[0]]["step"]
            torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
            bc1 = 1 - beta1**step
            bc2 = 1 - beta2**step
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denom, math.sqrt(bc2))
            torch._foreach_add_(denom, group["eps"])
            torch._foreach_addcdiv_(params, exp_avgs, denom, -group["lr"] / bc1)


def clip_grads(params, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.stack(norms).norm()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)
    return total


rng = np.random.default_rng(0)
signal = torch.from_numpy(rng.standard_normal((16, 12)))
patches = signal.unfold(1, 4, 2)  # (16, 5, 4) windows
x = patches.reshape(16, -1)
y = torch.from_numpy(rng.standard_normal((16, 1)))

model = nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 1)).double()
with torch.no_grad():
    for p in model.parameters():
        u = torch.from_numpy(rng.uniform(-0.99, 0.99, tuple(p.shape)))
        p.copy_(torch.erfinv(u) * 0.3)  # a truncated-normal style init
ema = [p.detach().clone() for p in model.parameters()]
opt = ForeachAdamW(model.parameters(), lr=0.05)
for it in range(6):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    total = clip_grads(list(model.parameters()), 1.0)
    opt.step()
    with torch.no_grad():
        torch._foreach_lerp_(ema, [p.detach() for p in model.parameters()], 0.1)
    print(f"it {it} loss {loss.item():.8f} grad_norm {total.item():.8f}")

ema_sum = sum(t.sum().item() for t in ema)
print(f"ema sum {ema_sum:.8f}")
print(
    "params close to ema",
    all(torch.allclose(p, e, atol=1.0) for p, e in zip(model.parameters(), ema)),
)
a = torch.addcmul(
    torch.zeros(3, dtype=torch.float64), patches[0, 0, :3], patches[0, 1, :3], value=0.5
)
print("addcmul", [round(v, 8) for v in a.tolist()])
d = torch.cdist(x[:3], x[3:5])
print("cdist", tuple(d.shape), round(d.sum().item(), 8))
print("diff", [round(v, 8) for v in torch.diff(signal[0, :4]).tolist()])
print("is_cpu", signal.is_cpu)
