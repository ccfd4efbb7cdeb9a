"""gradcheck with sparse inputs and outputs (torch's ``masked`` semantics).

A sparse input that requires grad is checked through its values: the function is called on a
sparse tensor rebuilt from a dense values tensor (the one gradcheck perturbs), so the
Jacobian is taken at the input's specified entries only. Sparse outputs are compared through
their dense views.
"""

from __future__ import annotations

from .._tensor import Tensor
from ._autograd import rebuild
from ._tensor import SparseTensor


def adapt(func, inputs: tuple):
    """``(func2, inputs2)``: dense stand-ins for sparse inputs, dense views of sparse outputs."""
    if not any(isinstance(x, SparseTensor) for x in inputs):
        pats = None
        new_inputs = inputs
    else:
        pats, new_inputs = [], []
        for x in inputs:
            if isinstance(x, SparseTensor):
                v = Tensor._make(x._val._a.copy())
                if x._rg:
                    v.requires_grad_(True)
                pats.append(x)
                new_inputs.append(v)
            else:
                pats.append(None)
                new_inputs.append(x)
        new_inputs = tuple(new_inputs)

    def func2(*args):
        if pats is not None:
            args = tuple(a if p is None else rebuild(p, a) for a, p in zip(args, pats, strict=True))
        out = func(*args)
        many = isinstance(out, tuple)
        outs = tuple(
            o.to_dense() if isinstance(o, SparseTensor) else o for o in (out if many else (out,))
        )
        return outs if many else outs[0]

    return func2, new_inputs
