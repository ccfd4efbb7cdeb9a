"""Saving and loading a model's state_dict (in the style of the PyTorch tutorial
"saving_loading_models"), after a short deterministic training loop.

usage: save_load.py DIR
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class TheModelClass(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.bn = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


out_dir = sys.argv[1]
rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((64, 6)).astype(np.float32))
Y = torch.from_numpy(
    (rng.standard_normal(64) > 0).astype(np.int64) + (X[:, 0] > 0.5).long().numpy()
)

model = TheModelClass()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loader = DataLoader(TensorDataset(X, Y), batch_size=16, shuffle=False)
criterion = nn.CrossEntropyLoss()
for epoch in range(5):
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item()
    print(f"epoch {epoch}: loss {running / len(loader):.5f}")

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", tuple(model.state_dict()[param_tensor].size()))
print("Optimizer's state_dict keys:", sorted(optimizer.state_dict().keys()))
print("param_groups lr:", optimizer.state_dict()["param_groups"][0]["lr"])

PATH = os.path.join(out_dir, "model.pt")
torch.save(model.state_dict(), PATH)
torch.save(
    {
        "epoch": 5,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
    },
    os.path.join(out_dir, "ckpt.tar"),
)

model2 = TheModelClass()
print(model2.load_state_dict(torch.load(PATH, weights_only=True)))
model.eval()
model2.eval()
with torch.no_grad():
    a, b = model(X), model2(X)
print("same outputs:", torch.equal(a, b), f"{a.sum().item():.4f}")
print("bn running_mean:", [round(v, 4) for v in model2.bn.running_mean[:4].tolist()])
print("num_batches_tracked:", model2.bn.num_batches_tracked.item())

checkpoint = torch.load(os.path.join(out_dir, "ckpt.tar"), weights_only=True)
model3 = TheModelClass()
optimizer3 = optim.SGD(model3.parameters(), lr=0.01, momentum=0.9)
model3.load_state_dict(checkpoint["model_state_dict"])
optimizer3.load_state_dict(checkpoint["optimizer_state_dict"])
print("checkpoint epoch:", checkpoint["epoch"], "restored lr:", optimizer3.param_groups[0]["lr"])
model3.train()
optimizer3.zero_grad()
criterion(model3(X), Y).backward()
optimizer3.step()
print("after one more step:", f"{model3.fc2.weight.sum().item():.4f}")
