"""A training script that relies on torch's random streams, as most do: the data, the initial
weights, the shuffling, the dropout masks and the augmentation noise all come from
torch.manual_seed(0). Nothing is copied from NumPy, so the printed losses agree with torch's
only if every draw is torch's. float64 so that the arithmetic agrees to rounding."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

x = torch.randn(200, 10)
w_true = torch.rand(10, 3) * 2 - 1
y = (x @ w_true + 0.1 * torch.randn(200, 3)).argmax(1)
train, val = random_split(TensorDataset(x, y), [160, 40])
loader = DataLoader(train, batch_size=32, shuffle=True)

model = nn.Sequential(
    nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 32), nn.GELU(),
    nn.Dropout(0.1), nn.Linear(32, 3),
)  # fmt: skip
nn.init.trunc_normal_(model[3].weight, std=0.05)
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
for epoch in range(3):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb = xb + 0.01 * torch.randn_like(xb)  # noise augmentation
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    model.eval()
    with torch.no_grad():
        xv, yv = val[:]
        acc = (model(xv).argmax(1) == yv).double().mean().item()
    print(f"epoch {epoch} train loss {total / 160:.10f} val acc {acc:.4f}")
print("first val indices", val.indices[:5])
print("perm", torch.randperm(8).tolist(), "randint", torch.randint(0, 100, (4,)).tolist())
