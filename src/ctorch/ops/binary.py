"""Binary elementwise ops: the array-level machinery every binary op uses (dtype promotion, the
``elementwise.binary*`` kernels with bias-style broadcasting, ``out=``), and the ops generated from
the op table (``ctorch/_table/elementwise.def``).

Every BINARY row without ``CT_CUSTOM`` becomes one ``Function`` here: forward through
``binary_arrays`` below (the ``elementwise.binary*`` kernels for large float32/float64
operands, including bias-style broadcasting; the row's NumPy ufunc otherwise), backward from the
row's ``grad_x``/``grad_y`` expressions over tensors (differentiable, reduced to each operand's
shape). The arithmetic rows (add, mul, ...) are ``CT_CUSTOM``: their hand-tuned Functions live
in ``arithmetic.py`` and only their kernels come from the table.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import _memfmt as MF
from .. import _table
from .._backend import fp_quiet, kernels_for, xp_of
from .._core import _smallops
from .._half import BF16 as _BF16
from .._half import F16 as _F16
from .._half import hkernel, u16
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..autograd.inplace import _can_cast
from ._util import (
    _F32,
    _F64,
    KERNEL_MIN,
    SCALAR_TYPE_NAMES,
    as_tensor_arg,
    check_out_grad,
    check_out_meta,
    check_same_device,
    named,
    sum_to_shape,
)
from .unary import compiled

_wrap = Tensor._make
_nd = np.ndarray

# op codes shared with the kernels: the binary rows of ctorch/_table/elementwise.def
_BOP = _table.BINARY
_C = _table.BINARY_BY_NAME
ADD, SUB, MUL, DIV, MAX, MIN, POW = (
    _C["add"].code,
    _C["sub"].code,
    _C["mul"].code,
    _C["div"].code,
    _C["max"].code,
    _C["min"].code,
    _C["pow"].code,
)


def _bcast_pattern(xs, ys):
    """If ``ys`` broadcast to ``xs`` is one contiguous block of ``xs``'s dims (bias-style),
    return (outer, mid, inner); else None."""
    nx, ny = len(xs), len(ys)
    if ny > nx:
        return None
    ys = (1,) * (nx - ny) + tuple(ys)
    dims = [i for i in range(nx) if ys[i] != 1]
    if not dims:
        return None
    i, j = dims[0], dims[-1] + 1
    for k in range(i, j):
        if ys[k] != xs[k]:
            return None
    outer = mid = inner = 1
    for k in range(i):
        outer *= xs[k]
    for k in range(i, j):
        mid *= xs[k]
    for k in range(j, nx):
        inner *= xs[k]
    return outer, mid, inner


def _res_dtype(a, b):
    """NumPy result dtype of a binary op between Tensor/scalar operands (torch promotion)."""
    if type(b) is Tensor or isinstance(b, Tensor):
        if isinstance(a, Tensor):
            da, db = a._a.dtype, b._a.dtype
            if da == db:
                return da
        return D.to_numpy_dtype(D.result_type(a, b))
    # a is a Tensor, b a Python scalar
    da = a._a.dtype
    tb = type(b)
    if tb is float:
        return da if da.kind in "fcV" else D.to_numpy_dtype(D.get_default_dtype())
    if tb is int:
        return da if da.kind != "b" else np.dtype(np.int64)
    if tb is bool:
        return da
    return D.to_numpy_dtype(D.result_type(a, b))


def _operand(x, dt):
    if isinstance(x, Tensor):
        a = x._a
        return a if a.dtype == dt else a.astype(dt)
    return D.wrap_int(x, dt)


def binary_arrays(op: int, a, b, reverse: bool = False, out=None):
    """Compute ``a op b`` (or ``b op a``) on arrays; ``a`` is a Tensor, ``b`` Tensor/scalar."""
    if out is None and op in _SMALL_OPS:
        # small float32/float64 operands of one dtype and shape: the SIMD loop called
        # directly (the elementwise kernel's values; +-*/ round as NumPy's), no dtype
        # promotion or NumPy error-state switch to pay for
        tb = type(b)
        if tb is float or (tb is int and -_EXACT_INT <= b <= _EXACT_INT):
            r = _small_scalar(op, a._a, b, reverse)
            if r is not None:
                return r
        elif tb is Tensor or isinstance(b, Tensor):
            r = _small(op, b._a, a._a) if reverse else _small(op, a._a, b._a)
            if r is not None:
                return r
    dt = _res_dtype(a, b)
    if dt.kind in "biu" and not _BOP[op].int_ok:
        _BOP[op].refuse_int(dt)  # CT_NOINT rows: torch has no integer kernel
        dt = D.to_numpy_dtype(D.get_default_dtype())
    if dt == _F16 or dt == _BF16:  # float16/bfloat16: computed in float32, rounded once
        r = _half_binary(op, a, b, dt, reverse, out)
        if out is None or r is out:
            return r
        xp_of(out).copyto(out, r, casting="unsafe")
        return out
    xa = _operand(a, dt)
    yb = _operand(b, dt)
    n = xa.size if not isinstance(yb, _nd) else max(xa.size, yb.size)
    if n >= KERNEL_MIN and (dt == _F32 or dt == _F64):
        k = kernels_for(xa)
        if k.has("binary") and xa.flags.c_contiguous:
            if not isinstance(yb, (np.ndarray,)) and not hasattr(yb, "shape"):
                if out is None:
                    out = xp_of(xa).empty(xa.shape, dt)
                k.binary_scalar(op, xa.reshape(-1), float(yb), out.reshape(-1), reverse)
                return out
            if yb.shape == xa.shape and yb.flags.c_contiguous:
                if out is None:
                    out = xp_of(xa).empty(xa.shape, dt)
                if reverse:
                    k.binary(op, yb.reshape(-1), xa.reshape(-1), out.reshape(-1))
                else:
                    k.binary(op, xa.reshape(-1), yb.reshape(-1), out.reshape(-1))
                return out
            if yb.flags.c_contiguous:
                pat = _bcast_pattern(xa.shape, yb.shape)
                if pat is not None and (out is None or out.shape == xa.shape):
                    if out is None:
                        out = xp_of(xa).empty(xa.shape, dt)
                    k.binary_bcast(
                        op, xa.reshape(-1), yb.reshape(-1), out.reshape(-1), *pat, reverse
                    )
                    return out
        if (
            isinstance(yb, _nd)
            and yb.size >= KERNEL_MIN
            and xa.size < yb.size
            and k.has("binary")
            and yb.flags.c_contiguous
        ):
            pat = _bcast_pattern(yb.shape, xa.shape)
            if pat is not None and xa.flags.c_contiguous and (out is None or out.shape == yb.shape):
                if out is None:
                    out = xp_of(yb).empty(yb.shape, dt)
                k.binary_bcast(
                    op, yb.reshape(-1), xa.reshape(-1), out.reshape(-1), *pat, not reverse
                )
                return out
    xp = np if type(xa) is _nd else xp_of(xa)
    uf = getattr(xp, _BOP[op].ufunc)
    try:
        p, q = (yb, xa) if reverse else (xa, yb)
        if op == POW and dt.kind in "iu" and hasattr(q, "shape") and (q < 0).any():
            return _int_pow(xp, p, q, dt, out)
        if (
            out is None
            and isinstance(q, _nd)
            and isinstance(p, _nd)
            and max(p.ndim, q.ndim) >= 3
            and not p.flags.c_contiguous
        ):  # torch's TensorIterator orders the result's dims by the first operand's strides
            # (channels_last + contiguous, or + a broadcast (N, C, H, 1), is channels_last);
            # NumPy's order "K" would give C order
            if p.shape == q.shape and (q.flags.c_contiguous or p.strides == q.strides):
                if q.flags.c_contiguous:
                    out = np.empty_like(p, dtype=dt)
            elif p.size and q.size:
                shape = np.broadcast_shapes(p.shape, q.shape)
                out = MF.strided_empty(shape, MF.iter_strides(shape, (p, q)), dt)
        r = fp_quiet(uf, p, q, out=out) if out is not None else fp_quiet(uf, p, q)
    except ValueError as e:
        if "broadcast" in str(e):
            sb = tuple(getattr(b, "shape", ()))
            raise RuntimeError(
                f"{_BOP[op].public}: the shapes {tuple(a.shape)} and {sb} cannot be broadcast "
                "together (sizes must match or be 1 at each non-singleton dimension)"
            ) from None
        raise
    if type(r) is not _nd and xp is np:
        r = np.asarray(r, dtype=dt)
    elif r.dtype != dt:
        r = r.astype(dt)
    if (op == MAX or op == MIN) and dt.kind not in "biu":
        keep_first_on_ties(xp, r, p, q)
    if op == POW and not reverse and dt.kind in "fV" and hasattr(yb, "shape") and out is None:
        # NumPy's power takes sqrt for an exponent of 0.5, so (-inf) ** 0.5 is NaN; torch's
        # tensor ** tensor is C's pow (and so is our kernel): +inf
        fix = (xa == -np.inf) & (yb == 0.5)
        if fix.any():
            r = xp.where(fix, xp.asarray(np.inf, dtype=dt), r)
    return r


def keep_first_on_ties(xp, r, p, q) -> None:
    """Where ``p == q`` (+0.0 against -0.0), write ``p`` into the max/min result ``r``: the
    first operand, as the CPU kernels' ``ct_max_nan`` and torch's fmax/fmin. NumPy's
    maximum/minimum return the second for float32/float64/bfloat16 and the first for float16,
    and its fmax/fmin either, by the element's position."""
    with np.errstate(invalid="ignore"):
        xp.copyto(r, p, where=(p == q))


def _int_pow(xp, base, e, dt, out=None):
    """Integer ``base ** e`` with negative exponents in tensor ``e``, as torch's integer pow
    (NumPy refuses them): 1 ** -n = 1, (-1) ** -n = +-1 by parity, any other base ** -n = 0
    (an integer quotient; 0 ** -n too)."""
    neg = e < 0
    r = xp.power(base, xp.where(neg, 0, e).astype(dt))
    inv = xp.where(base == 1, 1, xp.where(base == -1, 1 - 2 * (e & 1), 0)).astype(dt)
    r = xp.where(neg, inv, r).astype(dt)
    if out is not None:
        out[...] = r
        return out
    return r


_SMALL_OPS = frozenset((ADD, SUB, MUL, DIV))
_EXACT_INT = 2**53  # larger ints may not convert to a double exactly: NumPy's path then
_small = _smallops.binary
_small_scalar = _smallops.binary_scalar


def _half_binary(op, a, b, dt, reverse, dest=None):
    """``a op b`` in 16-bit dtype ``dt``; into ``dest`` (an in-place op's or ``out=``'s
    array) when the kernels can write it directly: dtype ``dt``, a's shape, C-contiguous."""
    xa = _operand(a, dt)
    yb = _operand(b, dt) if isinstance(b, Tensor) else b
    n = xa.size if not isinstance(yb, _nd) else max(xa.size, yb.size)
    if n >= KERNEL_MIN and type(xa) is _nd and xa.flags.c_contiguous:
        if (
            dest is not None
            and type(dest) is _nd
            and dest.dtype == dt
            and dest.shape == xa.shape
            and dest.flags.c_contiguous
        ):
            out = dest
        else:
            out = None
        if not isinstance(yb, _nd):
            hk, kind = hkernel("h_binary_scalar", xa)
            if hk is not None and isinstance(yb, (int, float, bool)):
                if out is None:
                    out = np.empty(xa.shape, dt)
                hk(kind, op, u16(xa), float(yb), u16(out), reverse)
                return out
        elif yb.shape == xa.shape:
            hk, kind = hkernel("h_binary", xa, yb)
            if hk is not None:
                if out is None:
                    out = np.empty(xa.shape, dt)
                p, q = (yb, xa) if reverse else (xa, yb)
                hk(kind, op, u16(p), u16(q), u16(out))
                return out
        else:
            pat = _bcast_pattern(xa.shape, yb.shape)
            hk, kind = hkernel("h_binary_bcast", xa, yb) if pat is not None else (None, 0)
            if hk is not None:
                if out is None:
                    out = np.empty(xa.shape, dt)
                hk(kind, op, u16(xa), u16(yb), u16(out), *pat, reverse)
                return out
    return _half_binary_f32(op, a, b, dt, reverse)


def _half_binary_f32(op, a, b, dt, reverse):
    # the operands as float32 (a 16-bit operand widened, a wider one rounded to dt first, as
    # torch's promotion to dt would), the float32 result rounded once to dt
    xa = _operand(a, dt).astype(_F32)
    yb = _operand(b, dt)
    if isinstance(b, Tensor):
        yb = yb.astype(_F32)
    r = binary_arrays(op, _wrap(xa), _wrap(yb) if isinstance(b, Tensor) else yb, reverse)
    return fp_quiet(r.astype, dt)  # (rounding to dt overflows to inf silently, as torch's)


def _shape_of(x):
    return x._a.shape if isinstance(x, Tensor) else None


def _grad_for(g, x):
    """Reduce ``g`` to x's shape and dtype (None when x is not a tensor needing grad)."""
    if not isinstance(x, Tensor):
        return None
    g = sum_to_shape(g, x._a.shape)
    if g._a.dtype.kind == "c" and x._a.dtype.kind != "c":
        g = g.real  # torch's handle_r_to_c: a real operand keeps the real part
    if g._a.dtype != x._a.dtype and x._a.dtype.kind in "fcV":
        g = g.to(x.dtype)
    return g


def _meta(x):
    return (x._a.shape, x._a.dtype) if isinstance(x, Tensor) else None


def _g(g, meta, needed):
    if not needed or meta is None:
        return None
    shape, dt = meta
    ga = g._a
    if ga.shape == shape and ga.dtype == dt:
        return g
    g = sum_to_shape(g, shape)
    if g._a.dtype.kind == "c" and dt.kind != "c":
        g = g.real  # torch's handle_r_to_c: a real operand keeps the real part
    if g._a.dtype != dt and dt.kind in "fcV":
        g = g.to(D.from_numpy_dtype(dt))
    return g


def _needs_graph(a, b):
    return state.enabled and (
        (isinstance(a, Tensor) and a._rg) or (isinstance(b, Tensor) and b._rg)
    )


def _other(b, a, op):
    if isinstance(b, Tensor) or type(b) in (int, float, bool):
        if isinstance(b, Tensor) and type(b._a) is not type(a._a):
            check_same_device(op, a, b)
        return b
    if isinstance(b, (np.generic,)):
        return b.item() if b.ndim == 0 else as_tensor_arg(b, a, op)
    if isinstance(b, complex):
        return b
    return as_tensor_arg(b, a, op)


def _lhs(input, other, op):
    if not isinstance(input, Tensor):
        input = as_tensor_arg(input, other if isinstance(other, Tensor) else None, op)
    return input, _other(other, input, op)


def _out(out, r):
    if not isinstance(out, Tensor):
        raise TypeError("out= must be a Tensor")
    check_out_grad(out, r)
    check_out_meta(out, r)
    if not _can_cast(*(_float_kind(d) for d in (r._a.dtype, out._a.dtype))):
        # torch refuses float -> integer/bool, complex -> real, number -> bool (canCast)
        raise RuntimeError(
            f"result type {_scalar_name(r._a.dtype)} can't be cast to the desired output type "
            f"{_scalar_name(out._a.dtype)}"
        )
    if out._a.shape != r._a.shape:
        out._a = (
            xp_of(out._a).empty(r._a.shape, out._a.dtype)
            if out._a.size == 0
            else _resize_err(out, r)
        )
    xp_of(out._a).copyto(out._a, r._a, casting="unsafe")
    out._bump()
    return out


def _float_kind(dt):
    """bfloat16 (ml_dtypes, kind 'V') counts as floating for the cast rules."""
    return np.dtype(np.float32) if np.dtype(dt).name == "bfloat16" else np.dtype(dt)


def _scalar_name(dt) -> str:
    """torch's ScalarType name of a NumPy dtype (as in torch's error messages)."""
    return SCALAR_TYPE_NAMES.get(np.dtype(dt).name, str(dt))


def _resize_err(out, r):
    raise RuntimeError(
        f"out=: the output tensor has shape {tuple(out.shape)} but the result has shape "
        f"{tuple(r.shape)}"
    )


# ------------------------------------------------------------------ ops generated from the table
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
                # Python numbers only: the tensors are saved above (version-checked, freed
                # with the graph), not held a second time here
                ctx.scalars = tuple(None if isinstance(v, Tensor) else v for v in (x, y))
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

    return named(_Binary, op.NAME.capitalize())


FUNCTIONS = {op.name: _make_binary(op) for op in _table.BINARY if not op.custom}


from . import complex_logexp as _cx  # noqa: E402 - needs this module's helpers loaded

#: rows whose complex operands take a hand-written function (no complex C kernel)
_COMPLEX_ROWS = {"logaddexp": _cx.logaddexp}


def _make_public(op):
    fn_cls = FUNCTIONS[op.name]
    name = op.public

    def fn(input, other, *, out=None):
        a, b = _lhs(input, other, name)
        if cx is not None and (_cx.is_complex_operand(a) or _cx.is_complex_operand(b)):
            r = cx(a, b)
        else:
            r = fn_cls.apply(a, b)
        return r if out is None else _out(out, r)

    cx = _COMPLEX_ROWS.get(name)

    named(fn, name, f"``torch.{name}``: {op.forward} elementwise (ctorch op table row {op.NAME}).")
    fn.Function = fn_cls
    return fn


#: public name and aliases -> function, for every generated binary row
PUBLIC: dict = _table.public_functions(_table.BINARY, _make_public)
globals().update(PUBLIC)


def table_function(op):
    """The public function of op-table row ``op`` (a torch name, not ``CT_NN``): the generated
    one, or for ``CT_CUSTOM`` rows the hand-written one of the same name (``ops.unary`` for
    unary rows, ``ops.arithmetic`` for binary ones). Tensor methods and the NumPy ufunc map
    both take it from here."""
    from . import arithmetic, division, unary  # (they import this module: bound at call time)

    gen = unary.PUBLIC if op.kind == "unary" else PUBLIC
    if op.kind == "unary":
        return gen.get(op.public) or getattr(unary, op.public)
    return (
        gen.get(op.public) or getattr(arithmetic, op.public, None) or getattr(division, op.public)
    )
