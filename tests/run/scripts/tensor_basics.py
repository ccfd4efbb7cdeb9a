"""Tensors: the basics (in the style of the PyTorch "Tensors" tutorial)."""

import numpy as np
import torch

# Initializing a tensor
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print("x_data:", x_data.tolist(), x_data.dtype)

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print("x_np:", x_np.tolist())

x_ones = torch.ones_like(x_data)
print("ones_like:", x_ones.tolist())
x_full = torch.full((2, 3), 0.5)
print("full:", x_full.tolist(), "zeros:", torch.zeros(2, 2).tolist())

# Attributes of a tensor
tensor = torch.from_numpy(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
print(f"Shape of tensor: {tuple(tensor.shape)}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

# Operations on tensors
if torch.cuda.is_available():
    tensor = tensor.to("cuda")
print("First row:", [round(v, 4) for v in tensor[0].tolist()])
print("First column:", [round(v, 4) for v in tensor[:, 0].tolist()])
print("Last column:", [round(v, 4) for v in tensor[..., -1].tolist()])
tensor[:, 1] = 0
print("col 1 zeroed:", [round(v, 4) for v in tensor[:, 1].tolist()])

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print("cat shape:", tuple(t1.shape))

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print("matmul:", round(y1.sum().item(), 3), round(y2.sum().item(), 3), round(y3.sum().item(), 3))

z1 = tensor * tensor
z2 = tensor.mul(tensor)
print("mul:", round(z1.sum().item(), 3), round(z2.sum().item(), 3))

agg = tensor.sum()
agg_item = agg.item()
print("sum:", round(agg_item, 4), type(agg_item).__name__)

print(
    "mean/std/max:",
    round(tensor.mean().item(), 4),
    round(tensor.std().item(), 4),
    round(tensor.max().item(), 4),
)
values, indices = tensor.max(dim=1)
print("max(dim=1):", [round(v, 4) for v in values.tolist()], indices.tolist())
print("argmax:", tensor.argmax().item(), tensor.argmax(dim=0).tolist())

tensor.add_(5)
print("add_:", round(tensor.sum().item(), 3))

# Bridge with NumPy
t = torch.ones(5)
n = t.numpy()
t.add_(1)
print("numpy shares memory:", n.tolist())
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print("from_numpy shares memory:", t.tolist(), t.dtype)

# Shapes
a = torch.arange(12, dtype=torch.float32)
print("view:", a.view(3, 4).shape, a.view(-1, 6).shape, a.reshape(2, 2, 3).transpose(0, 1).shape)
print("unsqueeze/squeeze:", tuple(a.unsqueeze(0).shape), tuple(a.view(1, 12, 1).squeeze().shape))
print("flatten:", tuple(torch.flatten(a.view(2, 2, 3), 1).shape))
b = a.view(3, 4)
print("b[1:, ::2]:", b[1:, ::2].tolist())
print("where:", torch.where(a > 5, a, torch.zeros_like(a)).tolist())
print("exp/log:", round(torch.exp(a / 10).sum().item(), 4), round(torch.log1p(a).sum().item(), 4))
print("compare:", (a > 3).sum().item(), (a == 4).nonzero().flatten().tolist())

# names as printed: programs parse them (ctorch.run prints torch's package name)
print("names:", torch.float16, str(torch.float32).replace("torch.", ""), torch.Size([2, 3]))
print("layouts:", torch.strided, torch.channels_last, torch.zeros(2, 1, dtype=torch.int8))
print("info:", torch.iinfo(torch.int16), torch.iinfo(torch.uint8).bits, torch.finfo(torch.float16))
print("return type:", type(torch.ones(2, 2).max(1)).__name__, torch.ones(1, 1).max(1))
