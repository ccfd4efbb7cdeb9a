"""Discrete Fourier transforms (``ctorch.fft``): three differentiable primitives over
``scipy.fft`` (pocketfft) on the CPU and ``cupy.fft`` on the GPU, as torch builds its ``fft``
module on ``_fft_c2c``/``_fft_r2c``/``_fft_c2r``.

* ``c2c``: complex (or real, promoted) to complex over ``dims``, forward or inverse;
* ``r2c``: real to the one-sided (Hermitian half) spectrum, the last of ``dims`` halved;
* ``c2r``: one-sided spectrum to real, the last of ``dims`` of output length ``n``.

Every public function of ``ctorch.fft`` is one of these, possibly around a ``conj``
(``hfft``/``ihfft``). ``norm`` follows torch/NumPy: ``"backward"`` (default: no scaling
forward, 1/n inverse), ``"forward"`` (the reverse), ``"ortho"`` (1/sqrt(n) both ways).

Gradients (torch's ``fft_*_backward``): each transform is linear, so with torch's conjugate
convention the gradient is the adjoint applied to the incoming gradient. The adjoint of a
forward transform with norm ``m`` is the inverse transform with the dual norm (backward <->
forward, ortho unchanged); zero-padding (``s`` larger than the input) and truncation (``s``
smaller) are each other's adjoints. ``r2c`` keeps half the spectrum, so its adjoint zero-fills
the other half before the inverse ``c2c`` and keeps the real part; ``c2r`` reads each
non-DC/non-Nyquist bin of the half spectrum for two output bins, so its gradient is ``r2c``
of the incoming gradient with those bins doubled.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function

_wrap = Tensor._make

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_NORMS = (None, "backward", "forward", "ortho")


def _workers() -> int:
    from .. import get_num_threads

    return max(1, int(get_num_threads()))


def _lib(a):
    if type(a) is np.ndarray:
        import scipy.fft as sf

        return sf, True
    import cupy

    return cupy.fft, False


def check_norm(norm, name):
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm or "backward"


def _resize(a, shape):
    """``a`` zero-padded or truncated (at the end of each dim) to ``shape``."""
    if tuple(a.shape) == tuple(shape):
        return a
    xp = np if type(a) is np.ndarray else __import__("cupy")
    out = xp.zeros(shape, a.dtype)
    sl = tuple(slice(0, min(i, o)) for i, o in zip(a.shape, shape, strict=True))
    out[sl] = a[sl]
    return out


def _resize_t(t: Tensor, shape) -> Tensor:
    """Differentiable ``_resize`` (pad or narrow each dim)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return _Resize.apply(t, tuple(shape))


class _Resize(Function):
    _node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._a.shape
        return _wrap(_resize(x._a, shape))

    @staticmethod
    def backward(ctx, g):
        return _resize_t(g, ctx.shape), None


def _complex_dtype(a):
    return np.complex64 if a.dtype in (np.float32, np.complex64, np.float16) else np.complex128


def _real_dtype(a):
    return np.float32 if a.dtype in (np.float32, np.complex64, np.float16) else np.float64


# ------------------------------------------------------------------ array level
def c2c_array(a, dims, s, norm, forward):
    lib, cpu = _lib(a)
    f = lib.fftn if forward else lib.ifftn
    a = a.astype(_complex_dtype(a), copy=False)
    kw = {"workers": _workers()} if cpu else {}
    r = f(a, s=s, axes=dims, norm=norm, **kw) if a.size else _empty_like(a, dims, s)
    return r.astype(_complex_dtype(a), copy=False)


def r2c_array(a, dims, s, norm):
    lib, cpu = _lib(a)
    a = a.astype(_real_dtype(a), copy=False)
    kw = {"workers": _workers()} if cpu else {}
    r = lib.rfftn(a, s=s, axes=dims, norm=norm, **kw)
    return r.astype(_complex_dtype(a), copy=False)


def c2r_array(a, dims, s, norm):
    lib, cpu = _lib(a)
    a = a.astype(_complex_dtype(a), copy=False)
    kw = {"workers": _workers()} if cpu else {}
    r = lib.irfftn(a, s=s, axes=dims, norm=norm, **kw)
    return r.astype(_real_dtype(a), copy=False)


def _empty_like(a, dims, s):
    shape = list(a.shape)
    for d, n in zip(dims, s or [a.shape[d] for d in dims], strict=True):
        shape[d] = n
    return np.zeros(shape, _complex_dtype(a))


# ------------------------------------------------------------------ Functions
class C2C(Function):
    _node_name = "FftC2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, s, norm, forward):
        ctx.args = (x._a.shape, x._a.dtype, dims, norm, forward)
        return _wrap(c2c_array(x._a, dims, s, norm, forward))

    @staticmethod
    def backward(ctx, g):
        shape, dt, dims, norm, forward = ctx.args
        gi = c2c(g, dims, None, _DUAL[norm], not forward)
        gi = _resize_t(gi, shape)
        if dt.kind != "c":
            from .complex import real

            gi = real(gi)
        return gi, None, None, None, None


class R2C(Function):
    _node_name = "FftR2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, s, norm):
        n = list(s) if s is not None else [x._a.shape[d] for d in dims]
        ctx.args = (x._a.shape, dims, n, norm)
        return _wrap(r2c_array(x._a, dims, s, norm))

    @staticmethod
    def backward(ctx, g):
        from .complex import real

        shape, dims, n, norm = ctx.args
        full = list(g.shape)
        full[dims[-1]] = n[-1]
        gi = real(c2c(_resize_t(g, full), dims, None, _DUAL[norm], False))
        return _resize_t(gi, shape), None, None, None


class C2R(Function):
    _node_name = "FftC2RBackward0"

    @staticmethod
    def forward(ctx, x, dims, s, norm):
        ctx.args = (x._a.shape, x._a.dtype, dims, norm)
        return _wrap(c2r_array(x._a, dims, s, norm))

    @staticmethod
    def backward(ctx, g):
        shape, dt, dims, norm = ctx.args
        gi = r2c(g, dims, None, _DUAL[norm])
        last = dims[-1]
        n, m = g.shape[last], gi.shape[last]
        double = n - m  # bins 1 .. n - m stand for two output bins each
        if double > 0:
            w = np.ones(m, dtype=_real_dtype(gi._a))
            w[1 : 1 + double] = 2.0
            wshape = [1] * gi.dim()
            wshape[last] = m
            w = w.reshape(wshape)
            if type(gi._a) is not np.ndarray:
                import cupy

                w = cupy.asarray(w)
            gi = gi * _wrap(w)
        gi = _resize_t(gi, shape)
        if dt.kind != "c":
            from .complex import real

            gi = real(gi)
        return gi, None, None, None


def c2c(x: Tensor, dims, s, norm, forward) -> Tensor:
    return C2C.apply(x, tuple(dims), None if s is None else tuple(s), norm, forward)


def r2c(x: Tensor, dims, s, norm) -> Tensor:
    return R2C.apply(x, tuple(dims), None if s is None else tuple(s), norm)


def c2r(x: Tensor, dims, s, norm) -> Tensor:
    return C2R.apply(x, tuple(dims), tuple(s), norm)


def float_input(x: Tensor, name: str) -> Tensor:
    """Integer and bool inputs are transformed in the default dtype (torch)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    k = x._a.dtype.kind
    if k in "biu":
        return x.to(D.get_default_dtype())
    if x._a.dtype not in (np.float32, np.float64, np.complex64, np.complex128):
        from .binary import _scalar_name

        raise RuntimeError(f"Unsupported dtype {_scalar_name(x._a.dtype)}")
    return x
