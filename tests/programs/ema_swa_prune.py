"""A training script's extras: a custom conv built on torch.nn.modules.utils, an EMA of the
weights (AveragedModel + get_ema_multi_avg_fn, the diffusion-code idiom), SWA with SWALR and
update_bn, then global magnitude pruning with a fine-tuning step, and a masked mean."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune
from torch.cuda import nvtx
from torch.functional import einsum
from torch.multiprocessing.spawn import ProcessRaisedException  # noqa: F401 - import only
from torch.nn.modules.utils import _pair, _reverse_repeat_tuple
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)


class ReflectConv(nn.Module):
    def __init__(self, cin, cout, kernel_size, padding):
        super().__init__()
        self.kernel_size, self.padding = _pair(kernel_size), _pair(padding)
        self._pad = _reverse_repeat_tuple(self.padding, 2)
        w = rng.standard_normal((cout, cin, *self.kernel_size)) * 0.3
        self.weight = nn.Parameter(torch.tensor(w))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return F.conv2d(F.pad(x, self._pad, mode="reflect"), self.weight, self.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = ReflectConv(1, 4, 3, 1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 6 * 6, 3)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor(rng.standard_normal((3, 144)) * 0.05))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).flatten(1))


X = torch.tensor(rng.standard_normal((64, 1, 6, 6)))
Y = torch.tensor(rng.integers(0, 3, 64))
loader = [(X[i : i + 16], Y[i : i + 16]) for i in range(0, 64, 16)]

model = Net()
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
swa = AveragedModel(model)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
swa_sched = SWALR(opt, swa_lr=0.01, anneal_epochs=2, anneal_strategy="linear")
print("custom conv", model.conv.kernel_size, model.conv._pad)

for epoch in range(6):
    for x, y in loader:
        if torch.cuda.is_available():
            nvtx.range_push("step")
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        ema.update_parameters(model)
        if torch.cuda.is_available():
            nvtx.range_pop()
    if epoch >= 3:
        swa.update_parameters(model)
        swa_sched.step()
    print(f"epoch {epoch} loss {loss.item():.8f} lr {opt.param_groups[0]['lr']:.6f}")

update_bn(loader, swa)
print("ema n_averaged", int(ema.n_averaged), "swa n_averaged", int(swa.n_averaged))
print("swa bn mean", " ".join(f"{v:.8f}" for v in swa.module.bn.running_mean.tolist()))
for name, m in (("model", model), ("ema", ema), ("swa", swa)):
    m.eval()
    with torch.no_grad():
        print(name, "eval loss", f"{F.cross_entropy(m(X), Y).item():.8f}")
model.train()

params = [(model.conv, "weight"), (model.fc, "weight")]
prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.5)
print(
    "pruned",
    prune.is_pruned(model),
    sorted(k for k in model.state_dict() if "orig" in k or "mask" in k),
)
zeros = sum(int((getattr(m, n) == 0).sum()) for m, n in params)
total = sum(getattr(m, n).numel() for m, n in params)
print("sparsity", f"{zeros / total:.4f}")
opt.zero_grad()
F.cross_entropy(model(X), Y).backward()
opt.step()
for m, n in params:
    prune.remove(m, n)
print(
    "after remove", prune.is_pruned(model), f"{float((model.fc.weight == 0).double().mean()):.4f}"
)

model.eval()
with torch.no_grad():
    per_sample = F.cross_entropy(model(X), Y, reduction="none").reshape(8, 8)
keep = torch.tensor(rng.random((8, 8)) > 0.3)
keep[2] = False
row_mean = torch.masked.mean(per_sample, 1, mask=keep)
print("masked mean", " ".join(f"{v:.8f}" for v in row_mean.tolist()))
print("masked sum", f"{torch.masked.sum(per_sample, mask=keep).item():.8f}")
print("einsum", f"{einsum('ij,ij->', per_sample, per_sample).item():.8f}")
