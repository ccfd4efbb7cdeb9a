"""A data pipeline that keeps its features in a np.memmap file and its labels in a np.matrix."""

import os
import sys
import tempfile

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
path = os.path.join(work, "features.f64")
feats = np.memmap(path, dtype=np.float64, mode="w+", shape=(8, 3))
feats[:] = np.arange(24, dtype=np.float64).reshape(8, 3) / 10.0
feats.flush()

x = torch.from_numpy(feats)  # zero-copy over the file
print("memmap tensor", tuple(x.shape), x.dtype, round(x.sum().item(), 6))
print("ops", round((x * 2 + 1).mean().item(), 6), [round(v, 6) for v in x.std(0).tolist()])
x[0, 0] = 42.0  # writes through to the file
x[1].mul_(10)
feats.flush()
on_disk = np.fromfile(path, dtype=np.float64)
print("file sees writes", on_disk[0], [round(v, 6) for v in on_disk[3:6].tolist()])

labels = np.matrix([[0], [1], [0], [1], [1], [0], [1], [0]])
y = torch.tensor(labels, dtype=torch.float64)
print("matrix tensor", tuple(y.shape), y.dtype, y.view(-1).tolist())
print(
    "matmul",
    (torch.tensor(np.matrix([[1.0, 2.0], [3.0, 4.0]])) @ torch.ones(2, 1, dtype=torch.float64))
    .view(-1)
    .tolist(),
)

ro = np.memmap(path, dtype=np.float64, mode="r", shape=(8, 3))
print("read-only memmap sum", round(torch.as_tensor(ro).sum().item(), 6))

ds = TensorDataset(torch.from_numpy(feats), y)
total = 0.0
for xb, yb in DataLoader(ds, batch_size=4):
    total += (xb.sum(1, keepdim=True) * yb).sum().item()
print("loader total", round(total, 6))
del x, feats
