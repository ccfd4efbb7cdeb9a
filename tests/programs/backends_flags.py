"""A training script's preamble: cuDNN/TF32 flags, device pick, then a short fit."""

import numpy as np
import torch
import torch.backends.cuda
import torch.backends.cudnn as cudnn
from torch.backends import mps

cudnn.benchmark = True
cudnn.deterministic = True
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
print("benchmark", cudnn.benchmark, "deterministic", cudnn.deterministic)
print("cudnn", cudnn.is_available(), cudnn.version())
print("precision after allow_tf32", torch.get_float32_matmul_precision())
torch.set_float32_matmul_precision("highest")
print("allow_tf32 after highest", torch.backends.cuda.matmul.allow_tf32)
print("deterministic algorithms", torch.are_deterministic_algorithms_enabled())
with torch.backends.cudnn.flags(enabled=False):
    print("in flags block", torch.backends.cudnn.enabled)
print("after flags block", torch.backends.cudnn.enabled)

device = torch.device("cpu")
if torch.cuda.is_available() and torch.backends.cuda.is_built():
    device = torch.device("cpu")  # keep the comparison on the CPU
elif mps.is_available():
    device = torch.device("mps")
print("device", device)

rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((32, 3)))
w_true = torch.tensor([[1.5], [-2.0], [0.5]], dtype=torch.float64)
y = x @ w_true
model = torch.nn.Linear(3, 1).double()
with torch.no_grad():
    model.weight.copy_(torch.from_numpy(rng.standard_normal((1, 3))))
    model.bias.zero_()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(5):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x.to(device)), y.to(device))
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f}")
