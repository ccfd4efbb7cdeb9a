"""Big-model initialisation as litgpt/torchtitan/HF ``init_empty_weights`` write it: build
nanoGPT on the meta device (no memory), count its parameters, run a forward on meta inputs
for the output shapes, ``to_empty(device="cpu")`` and re-initialise with ``apply``, train
three steps; then the checkpoint pattern: a meta skeleton filled by
``load_state_dict(sd, assign=True)`` gives the source model's outputs."""

import math

import torch
import torch.nn as nn
from nanogpt_model import GPT, GPTConfig

cfg = GPTConfig(
    block_size=16, vocab_size=32, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=True
)

with torch.device("meta"):
    model = GPT(cfg)
params = list(model.parameters())
print("meta params", all(p.is_meta for p in params), params[0].device, type(params[0]).__name__)
print("param count", sum(p.numel() for p in model.parameters()))
print("wte", model.transformer.wte.weight)
print("tied", model.lm_head.weight is model.transformer.wte.weight)
print("state_dict", len(model.state_dict()), model.state_dict()["lm_head.weight"].shape)
print(model.transformer.h[0].mlp)

idx = torch.zeros(2, 8, dtype=torch.long, device="meta")
logits, loss = model(idx, idx)
print("meta forward", tuple(logits.shape), logits.device, tuple(loss.shape), loss.dtype)
loss.backward()
g = model.transformer.wpe.weight.grad
print("meta grad", tuple(g.shape), g.device)
model.zero_grad(set_to_none=True)

# allocate and re-initialise (the weights a CPU GPT(cfg) would draw under the same seed)
torch.manual_seed(0)
model.to_empty(device="cpu")
model.apply(model._init_weights)
for pn, p in model.named_parameters():
    if pn.endswith("c_proj.weight"):
        torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))
for m in model.modules():  # nanoGPT's own LayerNorm has no reset_parameters()
    if type(m).__name__ == "LayerNorm":
        torch.nn.init.ones_(m.weight)
        torch.nn.init.zeros_(m.bias)
print("cpu params", all(p.device.type == "cpu" for p in model.parameters()))
# to_empty gives every parameter new storage, tied ones apart (as torch): tie them again
print("still tied", model.lm_head.weight is model.transformer.wte.weight)
model.transformer.wte.weight = model.lm_head.weight
print("wpe std", round(model.transformer.wpe.weight.std().item(), 6))
print("ln weight", model.transformer.ln_f.weight.tolist()[:4])
print("param count", sum(p.numel() for p in model.parameters()))

torch.manual_seed(1)
data = torch.randint(0, cfg.vocab_size, (4, 9))
x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
for step in range(3):
    _, loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    print("step", step, "loss", round(loss.item(), 5), "finite", math.isfinite(loss.item()))

# the checkpoint pattern: a meta skeleton, then the weights assigned in place of it
src = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))
with torch.device("meta"):
    skel = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))
result = skel.load_state_dict(src.state_dict(), assign=True)
print("assign", result.missing_keys, result.unexpected_keys)
print("assigned", all(p.device.type == "cpu" for p in skel.parameters()))
print("parameters", all(isinstance(p, nn.Parameter) and p.requires_grad for p in skel.parameters()))
inp = torch.randn(5, 6)
print("same outputs", torch.equal(skel(inp), src(inp)))
print("shares storage", skel[0].weight.data_ptr() == src[0].weight.data_ptr())
