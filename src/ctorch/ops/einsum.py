"""einsum with autograd: each operand's gradient is another einsum."""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._half import convert, is_half
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import conj_if_complex as _cj

_wrap = Tensor._make
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse(eq: str, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(shapes) > len(ins)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    # expand ellipses into fresh letters
    used = set(c for c in eq if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes, strict=False):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    ins = [
        s.replace("...", ell[ell_n - (len(shp) - (len(s) - 3)) :] if "..." in s else "")
        for s, shp in zip(ins, shapes, strict=False)
    ]
    if out is None:
        counts = {}
        for s in ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return ins, out


class Einsum(Function):
    _node_name = "EinsumBackward0"

    @staticmethod
    def forward(ctx, eq, *ops):
        ins, out = _parse(eq, [o._a.shape for o in ops])
        ctx.ins, ctx.out = ins, out
        ctx.save_for_backward(*ops)
        xp = xp_of(ops[0]._a)
        spec = ",".join(ins) + "->" + out
        return _wrap(xp.asarray(xp.einsum(spec, *[o._a for o in ops], optimize=len(ops) > 2)))

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        grads = [None]
        for i, (sub, op) in enumerate(zip(ctx.ins, ops, strict=False)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            if len(set(sub)) != len(sub):
                raise RuntimeError(
                    "einsum backward with repeated subscripts in one operand is not supported"
                )
            others = [(s, o) for j, (s, o) in enumerate(zip(ctx.ins, ops, strict=False)) if j != i]
            avail = set(ctx.out) | set("".join(s for s, _ in others))
            target = "".join(c for c in sub if c in avail)
            eq = ",".join([ctx.out] + [s for s, _ in others]) + "->" + target
            gi = einsum(eq, g, *[_cj(o) for _, o in others])
            if target != sub:
                shape = []
                for c in sub:
                    shape.append(op._a.shape[sub.index(c)] if c in target else 1)
                view = [op._a.shape[sub.index(c)] if c in target else 1 for c in sub]
                gi = gi.reshape(view).expand(op._a.shape)
            grads.append(gi)
        return tuple(grads)


def _take_diagonals(sub, op):
    while True:
        c = next((c for c in sub if sub.count(c) > 1), None)
        if c is None:
            return sub, op
        i = sub.index(c)
        j = sub.index(c, i + 1)
        op = op.diagonal(0, i, j)  # drops dims i and j, appends the diagonal last
        sub = sub[:i] + sub[i + 1 : j] + sub[j + 1 :] + c


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if state.enabled and any(o._rg for o in operands):
        ins, out = _parse(equation, [o._a.shape for o in operands])
        if any(len(set(s)) != len(s) for s in ins):
            # repeated subscripts in one operand ("ii->i"): take those diagonals first
            # (differentiable views), so Einsum's backward sees distinct subscripts only
            pairs = [_take_diagonals(s, o) for s, o in zip(ins, operands, strict=True)]
            ins = [s for s, _ in pairs]
            operands = tuple(o for _, o in pairs)
            equation = ",".join(ins) + "->" + out
        return Einsum.apply(equation, *operands)
    ins, out = _parse(equation, [o._a.shape for o in operands])
    xp = xp_of(operands[0]._a)
    spec = ",".join(ins) + "->" + out
    arrs = [o._a for o in operands]
    dt = arrs[0].dtype
    if is_half(dt) and all(a.dtype == dt for a in arrs):  # 16-bit: in float32, rounded once
        arrs = [convert(a, np.float32) for a in arrs]
        r = xp.einsum(spec, *arrs, optimize=len(arrs) > 2)
        return _wrap(convert(xp.asarray(r), dt))
    return _wrap(xp.asarray(xp.einsum(spec, *arrs, optimize=len(operands) > 2)))
