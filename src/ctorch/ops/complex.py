"""Complex tensors: ``real``/``imag``/``view_as_real``/``view_as_complex`` (zero-copy views),
``conj``/``conj_physical``/``resolve_conj``, ``complex``, ``polar``, ``angle``, ``sgn`` and the
complex branch of ``abs``, with torch's autograd convention.

The convention (torch's "conjugate Wirtinger"): the gradient of a real loss ``L`` with respect to
a complex tensor ``z`` is ``dL/dRe(z) + i dL/dIm(z)``, and a backward receives that quantity for
its output. A holomorphic ``f`` then has ``grad_in = grad_out * conj(f'(z))``. The op table's
real backward expressions are linear in ``g`` with a coefficient that is a real-coefficient
power series in ``x``/``y`` (exp, log, sin, tanh, sigmoid, ...), so evaluating them at
``conj(x)``/``conj(y)`` gives exactly ``g * conj(f'(x))``: ``ops/unary.py`` does that for complex
inputs (:func:`conj_inputs`). The non-holomorphic ops (abs, angle, sgn, real, imag, conj,
complex, polar) have their own Functions here. Ops whose table row torch does not define for
complex tensors (floor, relu, erf, sign, ...) raise as torch does (:func:`check_unary`).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import SCALAR_TYPE_NAMES, sum_to_shape
from ._util import conj_if_complex as cj

_wrap = Tensor._make

__all__ = [
    "real",
    "imag",
    "view_as_real",
    "view_as_complex",
    "conj",
    "conj_physical",
    "resolve_conj",
    "resolve_neg",
    "is_conj",
    "complex",
    "polar",
    "angle",
    "sgn",
    "isreal",
]

# torch ScalarType names for error messages
#: unary table rows torch defines for complex tensors (holomorphic: backward via conj_inputs)
HOLOMORPHIC = frozenset(
    "neg exp exp2 log log2 log10 log1p expm1 sqrt rsqrt sin cos tan tanh sinh cosh asin acos "
    "atan asinh acosh atanh sigmoid reciprocal square silu".split()
)


#: backward expressions that differ on complex inputs (branch cuts), over conj(x)
COMPLEX_GRADS = {
    # acosh' = 1 / sqrt(z*z - 1) on the reals, 1 / (sqrt(z - 1) sqrt(z + 1)) with torch's cuts
    "acosh": lambda g, x, y: g / ((x - 1).sqrt() * (x + 1).sqrt()),
}


def scalar_name(a) -> str:
    return SCALAR_TYPE_NAMES.get(a.dtype.name, a.dtype.name)


def _is_c(t) -> bool:
    return isinstance(t, Tensor) and t._a.dtype.kind == "c"


def conj_inputs(x, y):
    """The unary backward's saved tensors, conjugated when complex (see the module doc)."""
    return cj(x) if x is not None else None, cj(y) if y is not None else None


def real_grad(g: Tensor, like_dtype) -> Tensor:
    """A complex gradient flowing into a real tensor keeps its real part (torch's
    ``handle_r_to_c``)."""
    if g._a.dtype.kind == "c" and np.dtype(like_dtype).kind != "c":
        return real(g)
    return g


def check_unary(name: str, x: Tensor):
    """Raise for a table op torch does not define on complex tensors."""
    if name == "silu" and x._rg and state.enabled:
        # torch computes complex silu, but not with autograd
        raise RuntimeError(
            "silu does not support automatic differentiation for outputs with complex dtype."
        )
    if name in HOLOMORPHIC:
        return
    if name == "gelu":
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{scalar_name(x._a)}'")
    if name == "sign":
        raise NotImplementedError(
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
            "torch.sgn instead."
        )
    if name in ("floor", "ceil", "trunc"):
        raise NotImplementedError(f"{name} is not supported for complex inputs")
    if name in ("relu", "hardtanh", "clamp"):
        raise NotImplementedError("clamp is not supported for complex types")
    raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{scalar_name(x._a)}'")


# ------------------------------------------------------------------ views
def _real_view(a):
    return a.real


def _imag_view(a):
    return a.imag


def _view_op(x, fwd, bwd, node):
    from .shape import _view_op as v

    return v(x, fwd, bwd, node)


def real(input: Tensor) -> Tensor:
    """``torch.real``: a view of the real parts (the tensor itself for real dtypes)."""
    if not _is_c(input):
        return input
    return _view_op(input, _real_view, lambda g: complex(g, g.new_zeros(())), "RealBackward0")


def imag(input: Tensor) -> Tensor:
    """``torch.imag``: a view of the imaginary parts (complex tensors only)."""
    if not _is_c(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _view_op(input, _imag_view, lambda g: complex(g.new_zeros(()), g), "ImagBackward0")


def _as_real_array(a):
    r = a.real  # same strides, the real dtype
    return np.lib.stride_tricks.as_strided(
        r, shape=a.shape + (2,), strides=r.strides + (r.itemsize,), writeable=r.flags.writeable
    )


def view_as_real(input: Tensor) -> Tensor:
    """``torch.view_as_real``: a complex tensor as a real one with a trailing dim of 2 (a view)."""
    if not _is_c(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    a = input._a
    if type(a) is MetaArray:  # the meta device: the same byte strides, a last dim of 2

        def fwd(arr):
            st = arr.strides + (arr.itemsize // 2,)
            return MetaArray(arr.shape + (2,), arr.real.dtype, st, arr.offset * 2)

    elif type(a) is not np.ndarray:  # CuPy: a float view of the same memory
        fwd = lambda arr: arr.view(arr.real.dtype).reshape(arr.shape + (2,))
    else:
        fwd = _as_real_array
    return _view_op(input, fwd, lambda g: view_as_complex(g.contiguous()), "ViewAsRealBackward0")


def _storage_offset(a) -> int:
    """Elements between the start of ``a``'s memory block and its first element."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize


def view_as_complex(input: Tensor) -> Tensor:
    """``torch.view_as_complex``: a real tensor with a last dim of 2 as a complex one (a view)."""
    a = input._a
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            "view_as_complex is only supported for float and double tensors, but got a tensor "
            f"of scalar type: {input.dtype}"
        )
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * a.itemsize) for s in a.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if type(a) is np.ndarray and _storage_offset(a) % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    cdt = np.complex64 if a.dtype == np.float32 else np.complex128
    return _view_op(
        input,
        lambda arr: arr.view(cdt)[..., 0],
        lambda g: view_as_real(g),
        "ViewAsComplexBackward0",
    )


# ------------------------------------------------------------------ conj
class _Conj(Function):
    _node_name = "ConjPhysicalBackward0"

    @staticmethod
    def forward(ctx, x):
        return _wrap(xp_of(x._a).conj(x._a))

    @staticmethod
    def backward(ctx, g):
        return conj_physical(g)


class _ConjView(_Conj):
    _node_name = "ConjBackward0"


def conj_physical(input: Tensor) -> Tensor:
    """``torch.conj_physical``: the complex conjugate (a copy; real tensors unchanged)."""
    if not _is_c(input):
        return input
    return _Conj.apply(input)


def conj(input: Tensor) -> Tensor:
    """``torch.conj``. torch returns a lazily-conjugated view; ctorch has no conj bit and
    returns the conjugate as a new tensor (``is_conj()`` is False, ``resolve_conj`` is a no-op)."""
    if not _is_c(input):
        return input
    return _ConjView.apply(input)


def resolve_conj(input: Tensor) -> Tensor:
    return input


def resolve_neg(input: Tensor) -> Tensor:
    return input


def is_conj(input: Tensor) -> bool:
    return False


def isreal(input: Tensor) -> Tensor:
    a = input._a
    if a.dtype.kind != "c":
        return _wrap(xp_of(a).ones(a.shape, bool))
    return _wrap(a.imag == 0)


# ------------------------------------------------------------------ complex, polar
def _check_pair(name, a, b, what):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): arguments must be Tensors")
    da, db = a._a.dtype, b._a.dtype
    if da == np.float16 and db == np.float16:
        # torch gives complex32 (chalf); NumPy has no complex32, so ctorch has none
        raise RuntimeError(
            f"{name}(): float16 parts would make a complex32 (chalf) tensor, which ctorch does "
            "not have (NumPy has no complex32); convert the parts to float32 first"
        )
    if da.kind != "f" or da not in (np.float32, np.float64) or db.kind != "f":
        raise RuntimeError(
            f"Expected both inputs to be Half, Float or Double tensors but got {a.dtype} and "
            f"{b.dtype}"
        )
    if da != db:
        raise RuntimeError(
            f"Expected object of scalar type {D.from_numpy_dtype(da)} but got scalar type "
            f"{D.from_numpy_dtype(db)} for second argument"
        )


def _complex_array(ra, re, im):
    """A new complex array of ``re`` + i ``im`` (broadcast): complex64 when ``ra`` (the real
    or magnitude input) is float32, complex128 otherwise."""
    out = xp_of(ra).empty(
        np.broadcast_shapes(re.shape, im.shape),
        np.complex64 if ra.dtype == np.float32 else np.complex128,
    )
    out.real = re
    out.imag = im
    return out


class _Complex(Function):
    _node_name = "ComplexBackward0"

    @staticmethod
    def forward(ctx, re, im):
        ra, ia = re._a, im._a
        ctx.shapes = (ra.shape, ia.shape)
        return _wrap(_complex_array(ra, ra, ia))

    @staticmethod
    def backward(ctx, g):
        sr, si = ctx.shapes
        gr = sum_to_shape(real(g), sr) if ctx.needs_input_grad[0] else None
        gi = sum_to_shape(imag(g), si) if ctx.needs_input_grad[1] else None
        return gr, gi


def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:  # noqa: A001 - torch.complex
    """``torch.complex(real, imag)``: real + i imag (float32 -> complex64, float64 -> complex128)."""
    _check_pair("complex", real, imag, "real")
    r = _Complex.apply(real, imag)
    return r if out is None else _out(out, r)


class _Polar(Function):
    _node_name = "PolarBackward0"

    @staticmethod
    def forward(ctx, r, theta):
        ra, ta = r._a, theta._a
        xp = xp_of(ra)
        ctx.shapes = (ra.shape, ta.shape)
        ctx.save_for_backward(r, theta)
        return _wrap(_complex_array(ra, ra * xp.cos(ta), ra * xp.sin(ta)))

    @staticmethod
    def backward(ctx, g):
        r, theta = ctx.saved_tensors
        sr, st = ctx.shapes
        unit = complex(theta.cos(), theta.sin())
        gc = conj_physical(g)
        gr = sum_to_shape(real(gc * unit), sr) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            # d z / d theta = i z: dL/dtheta = Re(conj(g) * i * r * unit)
            gt = sum_to_shape(-(imag(gc * unit) * r), st)
        return gr, gt


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``torch.polar(abs, angle)``: abs * (cos(angle) + i sin(angle))."""
    _check_pair("polar", abs, angle, "abs")
    r = _Polar.apply(abs, angle)
    return r if out is None else _out(out, r)


def _out(out, r):
    from .binary import _out as o

    return o(out, r)


# ------------------------------------------------------------------ abs, angle, sgn
class _AbsC(Function):
    _node_name = "AbsBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _wrap(xp_of(x._a).abs(x._a))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sgn(x)


def abs_complex(x: Tensor) -> Tensor:
    """``abs`` of a complex tensor: a real tensor (float32 for complex64)."""
    return _AbsC.apply(x)


class _Angle(Function):
    _node_name = "AngleBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._a
        xp = xp_of(a)
        ctx.save_for_backward(x)
        if a.dtype.kind == "c":
            return _wrap(xp.angle(a))
        # torch: 0 for x >= 0, pi for x < 0, NaN stays NaN
        r = xp.where(a < 0, xp.asarray(np.pi, a.dtype), xp.zeros((), a.dtype))
        return _wrap(xp.where(xp.isnan(a), a, r).astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not _is_c(x):
            return g.new_zeros(g.shape)  # torch's zeros, also for an inf or NaN g
        # theta = atan2(b, a): grad = g * i z / |z|^2, zero at z == 0
        s = x.abs()
        d = s * s
        z0 = d == 0
        from .compare import where

        return where(z0, 0.0, (g * x) * 1j / where(z0, 1.0, d))


def angle(input: Tensor, *, out=None) -> Tensor:
    """``torch.angle``: the argument of complex numbers (0 or pi for real ones), real dtype."""
    a = input._a
    if a.dtype.kind not in "fcV":  # V: bfloat16 keeps its dtype, as float16 does
        input = input.to(D.get_default_dtype())
    r = _Angle.apply(input)
    return r if out is None else _out(out, r)


class _Sgn(Function):
    _node_name = "SgnBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._a
        xp = xp_of(a)
        m = xp.abs(a)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = xp.where(m == 0, xp.zeros((), a.dtype), a / xp.where(m == 0, 1, m))
        y = _wrap(y.astype(a.dtype, copy=False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        from .compare import where

        m = x.abs()
        z0 = m == 0
        # d(z/|z|): grad = (g - Re(conj(g) s) s) / |z|
        r = (g - real(conj_physical(g) * s) * s) / where(z0, 1.0, m)
        return where(z0, 0.0, r)


def sgn(input: Tensor, *, out=None) -> Tensor:
    """``torch.sgn``: z / |z| (0 at 0) for complex tensors, ``sign`` for real ones."""
    if not _is_c(input):
        from .unary import PUBLIC

        return PUBLIC["sign"](input, out=out)
    r = _Sgn.apply(input)
    return r if out is None else _out(out, r)


def unary_complex(name: str, x: Tensor):
    """The complex branch of a table op's public function: None means "use the table's
    Function" (holomorphic ops), else the result."""
    if name in ("abs", "absolute"):
        return abs_complex(x)
    if name == "sgn":
        return sgn(x)
    check_unary(name, x)
    return None
