"""Binary elementwise ops generated from the op table (``ctorch/_table/elementwise.def``).

Every BINARY row without ``CT_CUSTOM`` becomes one ``Function`` here: forward through
``arithmetic.binary_arrays`` (the ``elementwise.binary*`` kernels for large float32/float64
operands, including bias-style broadcasting; the row's NumPy ufunc otherwise), backward from the
row's ``grad_x``/``grad_y`` expressions over tensors (differentiable, reduced to each operand's
shape). The arithmetic rows (add, mul, ...) are ``CT_CUSTOM``: their hand-tuned Functions live
in ``arithmetic.py`` and only their kernels come from the table.
"""

from __future__ import annotations

from .. import _table
from .._tensor import Tensor
from ..autograd.function import Function
from .arithmetic import _g, _lhs, _meta, _out, binary_arrays
from .unary import compiled

_wrap = Tensor._make


def _make_binary(op):
    code = op.code

    class _Binary(Function):
        _node_name = op.node_name

        @staticmethod
        def forward(ctx, x, y):
            z = _wrap(binary_arrays(code, x, y))
            if True in ctx.needs_input_grad:
                ctx.meta = (_meta(x), _meta(y))
                ctx.save_for_backward(
                    x if isinstance(x, Tensor) else None, y if isinstance(y, Tensor) else None, z
                )
                ctx.scalars = (x, y)
            return z

        @staticmethod
        def backward(ctx, g):
            xs, ys, z = ctx.saved_tensors
            x = xs if xs is not None else ctx.scalars[0]
            y = ys if ys is not None else ctx.scalars[1]
            nx, ny = ctx.needs_input_grad
            gx = _g(compiled(op, 1, "tensor")(g, x, y, z), ctx.meta[0], nx) if nx else None
            gy = _g(compiled(op, 2, "tensor")(g, x, y, z), ctx.meta[1], ny) if ny else None
            return gx, gy

    _Binary.__name__ = _Binary.__qualname__ = op.NAME.capitalize()
    return _Binary


FUNCTIONS = {op.name: _make_binary(op) for op in _table.BINARY if not op.custom}


def _make_public(op):
    fn_cls = FUNCTIONS[op.name]
    name = op.public

    def fn(input, other, *, out=None):
        a, b = _lhs(input, other, name)
        r = fn_cls.apply(a, b)
        return r if out is None else _out(out, r)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.{name}``: {op.forward} elementwise (ctorch op table row {op.NAME})."
    fn.Function = fn_cls
    return fn


#: public name and aliases -> function, for every generated binary row
PUBLIC: dict = _table.public_functions(_table.BINARY, _make_public)
globals().update(PUBLIC)
