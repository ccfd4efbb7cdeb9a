"""A tiny DDPM trainer written the way diffusion code is: a UNet with GroupNorm, SiLU, sinusoidal
time embeddings, self-attention through F.scaled_dot_product_attention, an EMA copy of the weights
(torch._foreach_lerp_), AdamW with warmup (LambdaLR), gradient clipping, and a short ancestral
sampling loop under torch.inference_mode. float64 throughout so that torch and ctorch agree."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    args = t[:, None].to(torch.float64) * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.norm1 = nn.GroupNorm(4, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(4, cout)
        self.drop = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, heads=2):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(4, c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, hgt, wid = x.shape
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=1)
        q, k, v = (
            t.reshape(b, self.heads, c // self.heads, hgt * wid).transpose(-1, -2)
            for t in (q, k, v)
        )
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(-1, -2).reshape(b, c, hgt, wid)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, ch=8, tdim=16):
        super().__init__()
        self.tdim = tdim
        self.time_mlp = nn.Sequential(
            nn.Linear(tdim, tdim * 2), nn.SiLU(), nn.Linear(tdim * 2, tdim)
        )
        self.inc = nn.Conv2d(1, ch, 3, padding=1)
        self.down1 = ResBlock(ch, ch, tdim)
        self.pool = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.down2 = ResBlock(ch, 2 * ch, tdim)
        self.mid_attn = AttnBlock(2 * ch)
        self.mid = ResBlock(2 * ch, 2 * ch, tdim)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.up1 = ResBlock(3 * ch, ch, tdim)
        self.out = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x, t):
        temb = self.time_mlp(timestep_embedding(t, self.tdim))
        h0 = self.down1(self.inc(x), temb)
        h = self.down2(self.pool(h0), temb)
        h = self.mid(self.mid_attn(h), temb)
        h = self.up1(torch.cat([self.up(h), h0], dim=1), temb)
        return self.out(h)


def cosine_betas(steps, s=0.008):
    x = torch.linspace(0, steps, steps + 1)
    ac = torch.cos(((x / steps) + s) / (1 + s) * math.pi * 0.5) ** 2
    ac = ac / ac[0]
    return torch.clip(1 - (ac[1:] / ac[:-1]), 0.0001, 0.9999)


def main():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = UNet()
    # Same weights in torch and ctorch: overwrite every parameter from NumPy, in order.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.2))
    ema = copy.deepcopy(model).requires_grad_(False)
    T = 50
    betas = cosine_betas(T)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    sqrt_ac, sqrt_1mac = alphas_cumprod.sqrt(), (1.0 - alphas_cumprod).sqrt()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))
    data = torch.from_numpy(rng.standard_normal((6, 4, 1, 8, 8)))
    for step in range(6):
        x0 = data[step]
        t = torch.from_numpy(rng.integers(0, T, size=4))
        noise = torch.from_numpy(rng.standard_normal(x0.shape))
        xt = sqrt_ac[t].view(-1, 1, 1, 1) * x0 + sqrt_1mac.gather(0, t)[:, None, None, None] * noise
        loss = F.mse_loss(model(xt, t), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 0.1)
        print(
            f"step {step} loss {loss.item():.10f} gradnorm {gn.item():.8f} lr {sched.get_last_lr()[0]:.6f}"
        )
    # Ancestral sampling with the EMA model.
    x = torch.from_numpy(rng.standard_normal((2, 1, 8, 8)))
    with torch.inference_mode():
        for i in reversed(range(0, T, 10)):
            t = torch.full((2,), i, dtype=torch.long)
            eps = ema(x, t)
            a, ab, b = 1 - betas[i], alphas_cumprod[i], betas[i]
            mean = (x - b / torch.sqrt(1 - ab) * eps) / torch.sqrt(a)
            z = torch.from_numpy(rng.standard_normal(x.shape)) if i > 0 else torch.zeros_like(x)
            x = mean + torch.sqrt(b) * z
    print(f"sample mean {x.mean().item():.10f} std {x.std().item():.10f}")
    print(f"sample min {x.amin().item():.10f} max {x.amax(dim=(1, 2, 3)).max().item():.10f}")
    print(f"ema param sum {sum(p.sum() for p in ema.parameters()).item():.10f}")
    print("inference mode after", torch.is_inference_mode_enabled())


if __name__ == "__main__":
    main()
