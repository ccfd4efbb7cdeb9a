"""Save and load a whole model the way many scripts do: ``torch.save(model, path)`` after
training, ``torch.load(path, weights_only=False)`` in a later run. ``save`` trains and saves;
``load`` loads (whichever library wrote the file) and evaluates on the same data."""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.rnn = nn.GRU(4 * 4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.features(x)  # (N, 4, 4, 4)
        seq = h.permute(0, 2, 1, 3).flatten(2)  # rows as a sequence
        out, _ = self.rnn(seq)
        return self.head(out[:, -1])


rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((16, 1, 8, 8)))
y = torch.from_numpy(rng.integers(0, 3, 16))
mode = sys.argv[1]
if mode == "save":
    torch.manual_seed(0)
    model = Net().double()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    print("trained loss below 1.2", loss.item() < 1.2)
    model.eval()
    torch.save(model, "model.pt")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.pt")
    np.save("expected.npy", model(x).detach().numpy())
else:
    model = torch.load("model.pt", weights_only=False)
    print("loaded", type(model).__name__, type(model.rnn).__module__.split(".")[-1])
    print("training mode", model.training)
    with torch.no_grad():
        out = model(x).numpy()
    print("same outputs", np.allclose(out, np.load("expected.npy"), rtol=1e-10, atol=1e-12))
    ckpt = torch.load("ckpt.pt")
    fresh = Net().double()
    fresh.load_state_dict(ckpt["model"])
    fresh.eval()
    with torch.no_grad():
        print("state_dict copy agrees", np.allclose(fresh(x).numpy(), out, rtol=1e-12))
    opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    opt.load_state_dict(ckpt["optimizer"])
    print("optimizer steps", int(opt.state_dict()["state"][0]["step"]))
