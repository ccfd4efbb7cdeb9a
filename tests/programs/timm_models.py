"""The image-model library timm as its users call it: ``timm.create_model`` for resnet18,
vit_tiny_patch16_224, convnext_atto and efficientnet_b0, forward and backward in train and
eval mode, then a few training steps with timm's optimizer/scheduler factories.

The first run (whichever library) saves each model's initial weights in the working
directory and a later run loads them, so torch and ctorch compute with the same weights."""

import os
import sys

import numpy as np
import timm
import torch
from timm.optim import create_optimizer_v2

names = sys.argv[1:] or ["resnet18", "vit_tiny_patch16_224", "convnext_atto", "efficientnet_b0"]
for name in names:
    torch.manual_seed(0)
    kwargs = {"img_size": 64} if name.startswith("vit") else {}
    model = timm.create_model(name, num_classes=10, **kwargs).double()
    path = f"{name}.pt"
    if os.path.exists(path):
        model.load_state_dict(torch.load(path))
    else:
        torch.save(model.state_dict(), path)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 64, 64)))
    x.requires_grad_(True)
    weights = torch.linspace(-1, 1, 10, dtype=torch.float64)
    for mode in ("train", "eval"):
        model.train(mode == "train")
        model.zero_grad()
        x.grad = None
        y = model(x)
        loss = (y * weights).sum()
        loss.backward()
        gnorm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters()))
        print(f"{name} {mode} out {tuple(y.shape)} loss {loss.item():.10e}")
        print(f"{name} {mode} grads x {x.grad.abs().sum().item():.10e} params {gnorm.item():.10e}")
    model.train()
    opt = create_optimizer_v2(model, "adamw", lr=1e-3, weight_decay=0.05)
    target = torch.tensor([1, 7])
    for step in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x.detach()), target)
        loss.backward()
        opt.step()
        print(f"{name} step {step} loss {loss.item():.8e}")

# the default configuration at its native resolution
vit = timm.create_model("vit_tiny_patch16_224")
out = vit(torch.zeros(1, 3, 224, 224))
out.sum().backward()
print("vit_tiny_patch16_224 native", tuple(out.shape), vit.patch_embed.proj.weight.grad is not None)
