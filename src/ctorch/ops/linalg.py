"""Matrix products with autograd: matmul/mm/bmm/mv/dot/inner/outer, addmm and friends, linear,
bilinear, tensordot. Which kernel computes an array product (ctorch's sgemm, NumPy/OpenBLAS,
the 16-bit kernels, cuBLAS through CuPy) is ``mm_arrays.py``."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._core._smallops import mm_small as _mm_small
from .._half import convert, is_half
from .._tensor import NestedInput, Tensor, nested_call
from ..autograd import function as _fn_mod
from ..autograd.function import Function, saved_names
from ..autograd.grad_mode import state
from ._util import _F32, _F64, check_same_device, node_variants, sum_to_shape, with_out
from ._util import conj_if_complex as _cj
from .binary import ADD, binary_arrays
from .mm_arrays import _half_bias_grad, _linear_mm, _matmul_arr, _sgemm_2d
from .shape import _named

_wrap = Tensor._make


class MatMul(Function):
    _node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(
            a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None
        )
        ctx.sa, ctx.sb = a._a.shape, b._a.shape
        return _wrap(_matmul_arr(a._a, b._a))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.sa, ctx.sb
        ga = gb = None
        if len(sa) == 1 and len(sb) == 1:
            if ctx.needs_input_grad[0]:
                ga = g * _cj(b)
            if ctx.needs_input_grad[1]:
                gb = g * _cj(a)
            return ga, gb
        # promote 1-D operands to matrices as matmul does
        g2 = g
        if len(sa) == 1:
            g2 = g2.unsqueeze(-2)
        if len(sb) == 1:
            g2 = g2.unsqueeze(-1)
        if ctx.needs_input_grad[0]:
            bb = b.unsqueeze(-1) if len(sb) == 1 else b
            ga = matmul(g2, _cj(bb).transpose(-1, -2))
            if len(sa) == 1:
                ga = ga.squeeze(-2)
            ga = sum_to_shape(ga, sa)
        if ctx.needs_input_grad[1]:
            aa = a.unsqueeze(-2) if len(sa) == 1 else a
            gb = matmul(_cj(aa).transpose(-1, -2), g2)
            if len(sb) == 1:
                gb = gb.squeeze(-1)
            gb = sum_to_shape(gb, sb)
        return ga, gb


saved_names(MatMul, self=0, mat2=1)  # torch's MmBackward0._saved_self / _saved_mat2


def matmul(input, other, *, out=None):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(
            f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}"
            if isinstance(input, Tensor)
            else f"matmul(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    a, b = input._a, other._a
    try:
        if (
            a.ndim == b.ndim
            and 2 <= a.ndim <= 3
            and out is None
            and not (state.enabled and (input._rg or other._rg))
            and _fn_mod._autocast is None
        ):  # small matrices with nothing to record or cast (_smallops.mm_small says which)
            r = _mm_small(a, b)
            if r is not None:
                return _wrap(r)
        if (
            a.ndim == 1
            and b.ndim == 1
            and out is None
            and type(a) is np.ndarray
            and type(b) is np.ndarray
            and a.shape == b.shape
            and a.dtype == b.dtype
            and (a.dtype == _F32 or a.dtype == _F64)
            and not (state.enabled and (input._rg or other._rg))
            and _fn_mod._autocast is None
        ):
            # a dot product with nothing to record or cast: MatMul.forward's own NumPy call
            # (same bits) without the checks and frames the general case needs
            return _wrap(np.asarray(np.matmul(a, b), a.dtype))
    except NestedInput:  # a nested lhs (ctorch.nested): no cost on the dense path
        return nested_call("matmul", input, other, out=out)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    if a.dtype == np.bool_ and b.dtype == np.bool_:  # torch has no bool GEMM (slow path only)
        kernel = (
            "dot"
            if a.ndim == 1 and b.ndim == 1
            else "addmv_impl_cpu"
            if b.ndim == 1
            else "bmm"
            if a.ndim >= 3 and b.ndim >= 3
            else "addmm_impl_cpu_"
        )
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if a.dtype != b.dtype:
        dt = D.promote_types(input.dtype, other.dtype)
        if (input.dtype.is_floating_point or input.dtype.is_complex) and (
            other.dtype.is_floating_point or other.dtype.is_complex
        ):
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {input.dtype} != {other.dtype}"
            )
        input, other = input.to(dt), other.to(dt)
    check_same_device("matmul", input, other)
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
                "to have the same number of elements, but got "
                f"{a.shape[0]} and {b.shape[0]} elements respectively"
            )
        if b.ndim == 1:  # torch's matrix-vector product: the leading dims fold into rows
            rows = math.prod(a.shape[:-1])
            raise RuntimeError(
                f"size mismatch, got input ({rows}), mat ({rows}x{ka}), vec ({b.shape[0]})"
            )
        # torch folds a's batch dims into rows when b is a matrix
        rows = math.prod(a.shape[:-1]) if b.ndim == 2 else a.shape[-2] if a.ndim > 1 else 1
        sb = "x".join(str(s) for s in b.shape[-2:])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {sb})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
        except ValueError:
            raise RuntimeError(
                f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} cannot be broadcast"
            ) from None
    a, b = input._a, other._a
    if (
        out is not None
        and isinstance(out, Tensor)
        and a.ndim == 2
        and b.ndim == 2
        and xp_of(a) is np
        and out._a.shape == (a.shape[0], b.shape[1])
        and out._a.dtype == np.result_type(a, b)
        and out._a.flags.c_contiguous
        and not (state.enabled and (input.requires_grad or other.requires_grad))
        and not np.shares_memory(out._a, a)
        and not np.shares_memory(out._a, b)
    ):
        # GEMM straight into out's buffer, as torch does: no temporary of the result's size
        # (which a memory limit may not leave room for).
        np.matmul(a, b, out=out._a)
        out._bump()
        return out
    r = _MATMUL_NODES.get((a.ndim, b.ndim), MatMul).apply(input, other)
    if out is not None:
        from .binary import _out

        return _out(out, r)
    return r


def mm(input, mat2, *, out=None):
    if input._a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._a.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    try:
        if input._a.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if mat2._a.ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
    except NestedInput:  # a nested operand (ctorch.nested)
        return nested_call("bmm", input, mat2, out=out)
    if input._a.shape[0] != mat2._a.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input._a.shape[0]} and {mat2._a.shape[0]}")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    if input._a.ndim != 2 or vec._a.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got 2, 1 dims")
    return matmul(input, vec)


def dot(input, other):
    if input._a.ndim != 1 or other._a.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._a.ndim}D and {other._a.ndim}D tensors"
        )
    return matmul(input, other)


def inner(input, other, *, out=None):
    """``torch.inner``: the sum over the last dimension of both, shape ``input.shape[:-1] +
    other.shape[:-1]`` (``dot`` for vectors, ``A @ B.T`` for matrices); a 0-d operand
    multiplies."""
    if input._a.ndim == 0 or other._a.ndim == 0:
        r = input * other
    else:
        if input._a.shape[-1] != other._a.shape[-1]:
            raise RuntimeError(
                "inner() the last dimension must match on both input tensors but got shapes "
                f"{list(input._a.shape)} and {list(other._a.shape)}"
            )
        r = (
            dot(input, other)
            if input._a.ndim == other._a.ndim == 1
            else (tensordot(input, other, dims=([-1], [-1])))
        )
    if out is not None:
        from .binary import _out

        return _out(out, r)
    return r


def vdot(input, other):
    """``torch.vdot``: the dot product with the first argument conjugated."""
    return dot(_cj(input), other)


def outer(input, vec2):
    for t, what in ((input, "self"), (vec2, "vec2")):
        if isinstance(t, Tensor) and t._a.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {what}, but got {t._a.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


class _AddProduct(Function):
    """beta * input + alpha * (m1 @ m2) as one node (torch's AddmmBackward0, AddmvBackward0,
    BaddbmmBackward0): the product's gradients scaled by alpha, input's by beta and summed
    to its (broadcast) shape; beta == 0 ignores input, NaN and inf included, as torch."""

    @staticmethod
    def forward(ctx, input, m1, m2, beta, alpha):
        ctx.beta, ctx.alpha, ctx.ishape = beta, alpha, input._a.shape
        ctx.save_for_backward(m1, m2)
        a1, a2, ia = m1._a, m2._a, input._a
        half = type(a1) is np.ndarray and a1.dtype == a2.dtype and is_half(a1.dtype)
        if half:  # float16/bfloat16: all in float32, rounded once at the end (as torch)
            a1, a2 = convert(a1, np.float32), convert(a2, np.float32)
            if is_half(ia.dtype):
                ia = convert(ia, np.float32)
        p = _matmul_arr(a1, a2)
        xp = xp_of(p)
        if alpha != 1:
            p = p * alpha
        if beta == 0:
            out = xp.ascontiguousarray(xp.broadcast_to(p, p.shape))
        else:
            out = xp.asarray(p + (ia if beta == 1 else ia * beta))
        if half and out.dtype == np.float32:
            out = convert(out, m1._a.dtype)
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        m1, m2 = ctx.saved_tensors
        gi = g1 = g2 = None
        n = ctx.needs_input_grad
        if n[0]:  # (beta == 0: zeros, NaN where g is not finite, as torch's maybe_multiply)
            gi = (g if ctx.beta == 1 else g * ctx.beta).sum_to_size(ctx.ishape)
        ga = g if ctx.alpha == 1 else g * ctx.alpha
        if n[1]:
            g1 = (
                ga.unsqueeze(-1) * _cj(m2).unsqueeze(-2)
                if m2.ndim == 1
                else matmul(ga, _cj(m2).transpose(-1, -2))
            )
        if n[2]:
            g2 = matmul(_cj(m1).transpose(-1, -2), ga)
        return gi, g1, g2, None, None


def _add_product(node, name, input, m1, m2, beta, alpha, nd):
    if (
        nd == (2, 2)
        and beta == 1
        and alpha == 1
        and _fn_mod._autocast is None
        and not (state.enabled and (input._rg or m1._rg or m2._rg))
    ):  # addmm(bias, x, w) of small float32/float64 CPU operands: one compiled call
        r = _mm_small(m1._a, m2._a, input._a)
        if r is not None:
            return _wrap(r)
    if m1.ndim != nd[0] or m2.ndim != nd[1]:
        raise RuntimeError(
            f"{name}: expected {nd[0]}-D and {nd[1]}-D operands, got {m1.ndim}-D and {m2.ndim}-D"
        )
    out_shape = tuple(m1.shape[:-1]) + (tuple(m2.shape[-1:]) if nd[1] > 1 else ())
    try:
        if np.broadcast_shapes(input._a.shape, out_shape) != out_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(
            f"{name}: the input of shape {list(input.shape)} cannot broadcast to the "
            f"product's shape {list(out_shape)}"
        ) from None
    if m1.shape[-1] != m2.shape[-2 if nd[1] > 1 else 0]:
        raise RuntimeError(
            f"{name}: mat1 and mat2 shapes cannot be multiplied "
            f"({'x'.join(map(str, m1.shape))} and {'x'.join(map(str, m2.shape))})"
        )
    return _named(_AddProduct, node).apply(input, m1, m2, beta, alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if out is not None:
        return with_out(addmm(input, mat1, mat2, beta=beta, alpha=alpha), out)
    return _add_product("AddmmBackward0", "addmm", input, mat1, mat2, beta, alpha, (2, 2))


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    if out is not None:
        return with_out(addmv(input, mat, vec, beta=beta, alpha=alpha), out)
    return _add_product("AddmvBackward0", "addmv", input, mat, vec, beta, alpha, (2, 1))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    if out is not None:
        return with_out(baddbmm(input, batch1, batch2, beta=beta, alpha=alpha), out)
    if batch1.ndim == 3 and batch2.ndim == 3 and batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(
            f"baddbmm: batch1 and batch2 must have the same batch size, got {batch1.shape[0]} "
            f"and {batch2.shape[0]}"
        )
    return _add_product("BaddbmmBackward0", "baddbmm", input, batch1, batch2, beta, alpha, (3, 3))


def linear(input, weight, bias=None):
    """y = x W^T + b (the functional behind nn.Linear)."""
    if input._a.ndim == 0:
        raise RuntimeError("linear: input must have at least one dimension")
    if weight._a.ndim == 1:  # torch: input @ weight (a bias makes it addmm, which refuses)
        if bias is not None:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        if input._a.shape[-1] != weight._a.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({input._a.shape[0]}), mat "
                f"({'x'.join(map(str, input._a.shape))}), vec ({weight._a.shape[0]})"
            )
        return input.matmul(weight)
    if input._a.shape[-1] != weight._a.shape[-1]:
        n = 1
        for s in input._a.shape[:-1]:
            n *= s
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({n}x{input._a.shape[-1]} and "
            f"{weight._a.shape[-1]}x{weight._a.shape[0]})"
        )
    xa, wa = input._a, weight._a
    if (
        xa.ndim == 2
        and wa.ndim == 2
        and not (state.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)))
        and _fn_mod._autocast is None
    ):  # small float32/float64 CPU operands, nothing to record or cast: one compiled call
        r = _mm_small(xa, wa.T, None if bias is None else bias._a)
        if r is not None:
            return _wrap(r)
    if bias is None and xa.ndim == 2:
        return _LinearNoBias.apply(input, weight, bias)
    return Linear.apply(input, weight, bias)


class Linear(Function):
    """Fused x @ W^T + b: one GEMM into a preallocated output, bias added in place."""

    _node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(
            x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None
        )
        xa, wa = x._a, w._a
        if xa.dtype != wa.dtype:
            raise RuntimeError(
                f"linear: expected input and weight to have the same dtype, but got {x.dtype} and {w.dtype}"
            )
        check_same_device("linear", x, w, b)
        lead = xa.shape[:-1]
        # explicit row count: reshape(-1, 0) is ambiguous for NumPy (in_features == 0)
        x2 = xa.reshape(math.prod(lead), xa.shape[-1])
        ba = None if b is None else b._a
        out = _mm_small(x2, wa.T, ba)  # small products: one compiled call, bias included
        if out is None and (
            ba is not None
            and xa.dtype == _F32
            and type(ba) is np.ndarray
            and ba.dtype == _F32
            and ba.shape == (wa.shape[0],)
            and ba.flags.c_contiguous
        ):  # the bias added in the product's tiles (the same bits as the add below)
            out = _sgemm_2d(x2, wa.T, bias=ba)
        if out is None:
            out = _linear_mm(x2, wa.T)
            if b is not None:
                binary_arrays(ADD, _wrap(out), b, out=out)
        ctx.xshape = xa.shape
        ctx.has_b = b is not None
        return _wrap(out.reshape(lead + (wa.shape[0],)))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        rows = math.prod(ctx.xshape[:-1])
        g2 = g.reshape(rows, g._a.shape[-1])
        gx = gw = gb = None
        if g._a.dtype.kind == "c":  # torch's convention: conjugated operands
            x = _cj(x) if x is not None else None
            w = _cj(w) if w is not None else None
        if state.enabled:  # create_graph: differentiable products
            if ctx.needs_input_grad[0]:
                gx = matmul(g2, w).reshape(ctx.xshape)
            if ctx.needs_input_grad[1]:
                gw = matmul(g2.t(), x.reshape(rows, ctx.xshape[-1]))
        else:
            if ctx.needs_input_grad[0]:
                gx = _wrap(_linear_mm(g2._a, w._a)).reshape(ctx.xshape)
            if ctx.needs_input_grad[1]:
                gw = _wrap(_linear_mm(g2._a.T, x._a.reshape(rows, ctx.xshape[-1])))
        if ctx.has_b and ctx.needs_input_grad[2]:
            gb = None if state.enabled else _half_bias_grad(g2)
            if gb is None:
                gb = g2.sum(0)
        return gx, gw, gb


def bilinear(input1, input2, weight, bias=None):
    # y_k = x1^T W_k x2 + b_k
    from .einsum import einsum

    y = einsum("...i,kij,...j->...k", input1, weight, input2)
    return y + bias if bias is not None else y


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (an int), or the
    listed dims (two lists), through ``einsum``; torch's checks and messages."""
    from ._util import wrap_dim
    from .einsum import einsum

    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    wa = [wrap_dim(int(i), a.ndim) for i in da]
    wb = [wrap_dim(int(j), b.ndim) for j in db]
    for w, given in ((wa, da), (wb, db)):
        for k, d in enumerate(w):
            if d in w[:k]:
                raise RuntimeError(f"dim {given[k]} appears multiple times in the list of dims")
    for i, j, gi, gj in zip(wa, wb, da, db, strict=True):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{gi} and second has size {b.shape[j]} in dim {gj}"
            )
    if a.ndim + b.ndim > 52:
        raise RuntimeError(f"tensordot: at most 52 dims in all, got {a.ndim} + {b.ndim}")
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sa = list(letters[: a.ndim])
    sb = list(letters[a.ndim : a.ndim + b.ndim])
    for i, j in zip(wa, wb, strict=True):
        sb[j] = sa[i]
    res = [c for k, c in enumerate(sa) if k not in wa] + [
        c for k, c in enumerate(sb) if k not in wb
    ]
    r = einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(res)}", a, b).contiguous()  # as torch
    if out is not None:
        out.resize_(r.shape).copy_(r)
        return out
    return r


# torch's node names for the products MatMul and Linear compute (the same code; the name
# follows the operand ranks as torch's dispatch to dot / mv / bmm / mm does)
_Dot, _Mv, _Bmm = node_variants(MatMul, _Dot="DotBackward0", _Mv="MvBackward0", _Bmm="BmmBackward0")


class _LinearNoBias(Linear):
    _node_name = "MmBackward0"


_MATMUL_NODES = {(1, 1): _Dot, (2, 1): _Mv, (3, 3): _Bmm}
