"""No-grad cost of the hot view ops: today's direct path vs going through Function.apply
(NullContext), same process. Usage: python tools/bench_views.py"""

import timeit

import ctorch
from ctorch.ops import shape as S
from ctorch.ops import subscript as SB

x = ctorch.arange(4.0)
m = ctorch.arange(16.0).reshape(4, 4)

direct_view_op = S._view_op


def apply_view_op(x, fwd, bwd, node):
    cls = S._VIEW_FNS.get(node)
    if cls is None:
        cls = S._VIEW_FNS[node] = S._make_view_fn(node)
    return cls.apply(x, fwd, bwd, node)


direct_getitem = SB.getitem


def apply_getitem(self, idx):
    a = self._a
    index, adv = SB._conv_index(idx, a)
    return SB._index_fn(index, adv).apply(self, index, adv)


cases = {
    "x.view(2,2)": lambda: x.view(2, 2),
    "x.reshape(2,2)": lambda: x.reshape(2, 2),
    "m.transpose(0,1)": lambda: m.transpose(0, 1),
    "m.select(0,1)": lambda: m.select(0, 1),
    "x[0]": lambda: x[0],
    "m[1:3]": lambda: m[1:3],
}


def best(fn, n=20000, r=7):
    return min(timeit.repeat(fn, number=n, repeat=r)) / n * 1e6


res = {}
for mode in ("direct", "apply", "direct", "apply"):
    S._view_op = direct_view_op if mode == "direct" else apply_view_op
    ctorch.Tensor.__getitem__ = direct_getitem if mode == "direct" else apply_getitem
    for name, fn in cases.items():
        t = best(fn)
        res.setdefault((name, mode), []).append(t)
S._view_op = direct_view_op
ctorch.Tensor.__getitem__ = direct_getitem
print(f"{'op':20s} {'direct us':>10s} {'apply us':>10s} {'delta us':>9s}")
for name in cases:
    d = min(res[(name, "direct")])
    a = min(res[(name, "apply")])
    print(f"{name:20s} {d:10.3f} {a:10.3f} {a - d:9.3f}")
