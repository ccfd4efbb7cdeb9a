"""Snapshot every elementwise op's forward and backward on fixed inputs, or compare two
snapshots bit for bit.

    python tools/op_snapshot.py save before.npz     # before a change to the op machinery
    python tools/op_snapshot.py save after.npz
    python tools/op_snapshot.py compare before.npz after.npz

Inputs: float32 and float64, one size below and one above the kernel threshold (so both the
NumPy fallback and the SIMD kernels are covered), with NaN, +-inf, -0.0 and huge values mixed
in. Ops that only exist in one snapshot are listed, not failed.
"""

from __future__ import annotations

import sys

import numpy as np

UNARY = (
    "neg abs exp log log1p expm1 sqrt rsqrt sin cos tan tanh sigmoid relu erf sign floor ceil "
    "round reciprocal square silu mish asin acos atan sinh cosh asinh acosh atanh log2 log10 "
    "exp2 trunc frac"
).split()
PARAM = {
    "gelu": {},
    "gelu_tanh": {"approximate": "tanh"},
    "softplus": {"beta": 1.5, "threshold": 10.0},
    "elu": {"alpha": 0.7},
    "leaky_relu": {"negative_slope": 0.03},
    "hardtanh": {"min_val": -0.5, "max_val": 0.8},
}
BINARY = "add sub mul div maximum minimum pow atan2 hypot logaddexp".split()


def _inputs(dtype, n, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 2).astype(dtype)
    x[:8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 0.5]
    return x


def _snapshot():
    import ctorch
    import ctorch.nn.functional as F

    out = {}
    for dt in (np.float32, np.float64):
        for n in (1000, 40000):
            x0 = _inputs(dt, n, 1)
            y0 = _inputs(dt, n, 2)
            g0 = _inputs(dt, n, 3)
            tag = f"{np.dtype(dt).name}_{n}"
            calls = {}
            for name in UNARY:
                f = getattr(ctorch, name, None) or getattr(F, name)
                calls[name] = (lambda x, y, _f=f: _f(x), 1)
            for name, kw in PARAM.items():
                fname = "gelu" if name.startswith("gelu") else name
                calls[name] = (lambda x, y, _f=fname, _k=kw: getattr(F, _f)(x, **_k), 1)
            calls["clamp"] = (lambda x, y: ctorch.clamp(x, -0.3, 0.9), 1)
            for name in BINARY:
                if hasattr(ctorch, name):
                    calls[name] = (lambda x, y, _n=name: getattr(ctorch, _n)(x, y), 2)
            calls["add_scalar"] = (lambda x, y: x + 1.5, 1)
            calls["rsub_scalar"] = (lambda x, y: 1.5 - x, 1)
            calls["pow_scalar2"] = (lambda x, y: x**2, 1)
            calls["bcast_add"] = (lambda x, y: x.reshape(-1, 10) + y[:10], 2)
            for name, (fn, arity) in calls.items():
                x = ctorch.tensor(x0, requires_grad=True)
                y = ctorch.tensor(y0, requires_grad=True)
                with np.errstate(all="ignore"):
                    r = fn(x, y)
                    out[f"{tag}/{name}/fwd"] = r.detach().numpy().copy()
                    r.backward(ctorch.tensor(g0[: r.numel()].reshape(r.shape)))
                out[f"{tag}/{name}/gx"] = x.grad.numpy().copy()
                if arity == 2 and y.grad is not None:
                    out[f"{tag}/{name}/gy"] = y.grad.numpy().copy()
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "save":
        np.savez(argv[2], **_snapshot())
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        a, b = np.load(argv[2]), np.load(argv[3])
        bad, nan_only = [], []
        for k in sorted(set(a.files) & set(b.files)):
            x, y = a[k], b[k]
            if x.dtype != y.dtype or x.tobytes() != y.tobytes():
                same_nan = np.isnan(x) == np.isnan(y)
                rest = ~np.isnan(x)
                if same_nan.all() and x[rest].tobytes() == y[rest].tobytes():
                    nan_only.append(k)  # only the sign/payload of NaNs differs
                else:
                    bad.append(k)
        only = sorted(set(a.files) ^ set(b.files))
        print(
            f"compared {len(set(a.files) & set(b.files))} arrays; {len(bad)} differ; "
            f"{len(nan_only)} differ only in NaN sign/payload"
        )
        for k in nan_only:
            print("  NaN bits", k)
        for k in bad:
            print("  DIFF", k)
        if only:
            print("only in one snapshot:", ", ".join(only))
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
