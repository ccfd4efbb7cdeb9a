"""Is a tests/nn/test_training_parity.py configuration well-conditioned in float32?

The parity test compares ctorch's float32 loss curve with torch's.  That only means something
if the run does not hinge on rounding, which this tool checks with torch alone:

* perm: torch's run with the Linear layers' input-feature axis permuted (the same kernel with
  another summation order: a different but equally valid float32 rounding of every product);
* noise: torch's run with every gradient entry moved by -1, 0 or +1 ulp at every step;
* margin: the nearest approach of any ReLU input fed by a Linear to the kink, in units of that
  dot product's float32 roundoff, |z| / (2**-24 * (sum_k |x_k w_k| + |b|)); below ~1 the
  sign of that input, and with it whether the ReLU passes gradient, is set by rounding.

Each perturbed run is compared with the plain one under the test's own band.  A configuration
on which some of them leave the band cannot be checked for parity in float32.

usage: python tools/parity_conditioning.py mlp adam_onecycle [--seeds 12]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "nn"))
import test_training_parity as T  # noqa: E402


def _permuted_linear(seed):
    rng = np.random.default_rng(seed)
    perms = {}

    def forward(self, x):
        k = self.weight.shape[1]
        if k not in perms:
            perms[k] = torch.from_numpy(rng.permutation(k))
        p = perms[k]
        return torch.nn.functional.linear(x[..., p], self.weight[:, p], self.bias)

    return forward


def run(model_name, optim_name, variant=None, seed=0):
    """torch's float32 run as in the test; returns (losses, min ReLU margin per step)."""
    build = T.MODELS[model_name][0]
    train, _ = T._data(model_name)
    torch.manual_seed(0)
    model = build(torch.nn)
    opt_name, opt_kw, sched_fn, clip = T.OPTIMS[optim_name]
    opt = getattr(torch.optim, opt_name)(model.parameters(), **opt_kw)
    sched = sched_fn(torch, opt) if sched_fn is not None else None
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    margins = []

    def margin_hook(mod, inp, out):
        x = inp[0].detach().double()
        w, b = mod.weight.detach().double(), mod.bias.detach().double()
        scale = 2.0**-24 * (x.abs() @ w.abs().t() + b.abs())
        margins[-1] = min(margins[-1], (out.detach().double().abs() / scale).min().item())

    mods = list(model.modules())
    hooks = [
        m.register_forward_hook(margin_hook)
        for m, nxt in zip(mods, mods[1:], strict=False)
        if isinstance(m, torch.nn.Linear) and isinstance(nxt, torch.nn.ReLU)
    ]
    orig = torch.nn.Linear.forward
    if variant == "perm":
        torch.nn.Linear.forward = _permuted_linear(seed)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses = []
        for x, y in train:
            margins.append(np.inf)
            opt.zero_grad()
            loss = loss_fn(model(torch.from_numpy(x.astype(np.float32))), torch.from_numpy(y))
            loss.backward()
            if variant == "noise":
                for p in model.parameters():
                    g = p.grad.numpy()
                    s = rng.integers(-1, 2, g.shape)
                    up, down = np.nextafter(g, np.float32(np.inf)), np.nextafter(g, -np.inf)
                    g[...] = np.where(s > 0, up, np.where(s < 0, down, g))
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(loss.item())
        return np.array(losses), np.array(margins)
    finally:
        torch.nn.Linear.forward = orig
        torch.set_num_threads(old_threads)
        for h in hooks:
            h.remove()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=sorted(T.MODELS))
    ap.add_argument("optim", choices=sorted(T.OPTIMS))
    ap.add_argument("--seeds", type=int, default=12)
    args = ap.parse_args()
    band = T._loss_rtol("float32")
    ref, margins = run(args.model, args.optim)
    if np.isfinite(margins).any():
        print(f"min ReLU margin {margins.min():.2f} roundoff units (step {margins.argmin()})")
    else:
        print("min ReLU margin: no Linear -> ReLU pair in this model")
    print(f"last/first loss {ref[-5:].mean() / ref[:5].mean():.2f}")
    failed = 0
    for variant in ("perm", "noise"):
        for seed in range(args.seeds):
            losses, _ = run(args.model, args.optim, variant, seed)
            rel = np.abs(losses - ref) / np.abs(ref)
            bad = np.nonzero(rel > band)[0]
            failed += bool(bad.size)
            first = bad[0] if bad.size else "-"
            print(
                f"{variant:5s} seed {seed:2d}: max rel {rel.max():.1e}, first out of band {first}"
            )
    print(f"{failed} of {2 * args.seeds} perturbed torch runs leave the test's band")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
