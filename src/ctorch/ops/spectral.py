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

import math

import numpy as np

from .. import _dtype as D
from .._meta import MetaArray, NoMetaImpl
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
    if type(a) is MetaArray:  # (c2c/r2c/c2r_array answer meta arrays before asking)
        raise NoMetaImpl("this transform has no meta implementation")
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
    if type(a) is MetaArray:  # (torch's pad: a contiguous result)
        return MetaArray(shape, a.dtype)
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


# ------------------------------------------------------------------ the meta device
# torch 2.13's meta FFTs lay their results out as its meta registrations do (its cuFFT plan
# order, ``_exec_fft`` of aten/src/ATen/native/cuda/SpectralOps.cpp): each stage puts the
# batch (untransformed) dims outermost, in the input's stride order, then the dims it
# transforms; c2c runs its dims sorted by stride (largest first), up to 3 per stage from the
# end; r2c and c2r transform all their dims in one stage unless the dims start (0, 1) or are
# more than 3, when they run the halved dim alone and the others as c2c stages.
_CUFFT_MAX_NDIM = 3


def _contiguous(shape):
    st, acc = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        st[i] = acc
        acc *= max(int(shape[i]), 1)
    return st


def _exec_fft_strides(in_strides, out_sizes, dims):
    nd = len(out_sizes)
    batch = sorted((d for d in range(nd) if d not in dims), key=lambda d: -in_strides[d])
    cs = _contiguous([math.prod(out_sizes[d] for d in batch)] + [out_sizes[d] for d in dims])
    out = [0] * nd
    n = 1
    for d in reversed(batch):
        out[d] = n * cs[0]
        n *= out_sizes[d]
    for i, d in enumerate(dims):
        out[d] = cs[1 + i]
    return out


def _one_stage(dims) -> bool:
    return not (len(dims) > _CUFFT_MAX_NDIM or (len(dims) >= 2 and dims[0] == 0 and dims[1] == 1))


def _c2c_stages(strides, sizes, dims):
    todo = list(dims)
    while True:
        todo.sort(key=lambda d: -strides[d])
        k = min(_CUFFT_MAX_NDIM, len(todo))
        strides = _exec_fft_strides(strides, sizes, todo[len(todo) - k :])
        todo = todo[: len(todo) - k]
        if not todo:
            return strides


def _meta_in(a, dims, s):
    """(element strides, shape) of ``a`` after torch's resize to ``s``: a pad makes a
    contiguous copy, a truncation is a narrowed view."""
    shape = _sized(a.shape, dims, s)
    if any(n > a.shape[d] for d, n in enumerate(shape)):
        return _contiguous(shape), shape
    return [st // a.itemsize for st in a.strides], shape


def _meta_result(shape, strides, dtype):
    dt = np.dtype(dtype)
    return MetaArray(shape, dt, tuple(int(st) * dt.itemsize for st in strides))


def _meta_c2c(a, dims, s):
    st, shape = _meta_in(a, dims, s)
    if dims:
        st = _c2c_stages(st, shape, dims)
    return _meta_result(shape, st, _complex_dtype(a))


def _meta_r2c(a, dims, s):
    st, shape = _meta_in(a, dims, s)
    out = list(shape)
    out[dims[-1]] = shape[dims[-1]] // 2 + 1
    if _one_stage(dims):
        st = _exec_fft_strides(st, out, list(dims))
    else:
        st = _exec_fft_strides(st, out, [dims[-1]])
        if len(dims) > 1:
            st = _c2c_stages(st, out, dims[:-1])
    return _meta_result(out, st, _complex_dtype(a))


def meta_ihfftn_strides(a, dims, s):
    """Element strides of torch's meta ``ihfftn``/``ihfft2`` result: an r2c of the last dim,
    then c2c stages over the others, whatever the dims (torch's fft_ihfftn composite)."""
    st, shape = _meta_in(a, dims, s)
    out = list(shape)
    out[dims[-1]] = shape[dims[-1]] // 2 + 1
    st = _exec_fft_strides(st, out, [dims[-1]])
    return _c2c_stages(st, out, dims[:-1]) if len(dims) > 1 else st


def _meta_c2r(a, dims, s):
    last = dims[-1]
    n = s[-1] if s is not None else 2 * (a.shape[last] - 1)
    half = _sized(a.shape, dims, s)
    half[last] = n // 2 + 1
    st, shape = _meta_in(a, dims, [half[d] for d in dims])
    out = list(shape)
    out[last] = n
    if _one_stage(dims):  # (on a contiguous clone of the input)
        st = _exec_fft_strides(_contiguous(shape), out, list(dims))
    else:
        st = _c2c_stages(st, shape, dims[:-1]) if len(dims) > 1 else _contiguous(shape)
        st = _exec_fft_strides(st, out, [last])
    return _meta_result(out, st, _real_dtype(a))


# ------------------------------------------------------------------ array level
def c2c_array(a, dims, s, norm, forward):
    if type(a) is MetaArray:
        return _meta_c2c(a, dims, s)
    lib, cpu = _lib(a)
    cdt = _complex_dtype(a)
    if not a.size:
        return _empty_like(a, dims, s)
    if not cpu:
        f = lib.fftn if forward else lib.ifftn
        return f(a.astype(cdt, copy=False), s=s, axes=dims, norm=norm).astype(cdt, copy=False)
    r = _pow2_c2c(a.astype(cdt, copy=False), dims, s, norm, forward)
    if r is not None:
        return r
    w = _workers()
    if forward:
        if _four_step_ok(a, dims, s):
            return _four_step(a.astype(cdt, copy=False).reshape(-1), norm, w, False)
        r = lib.fftn(a.astype(cdt, copy=False), s=s, axes=dims, norm=norm, workers=w)
        return r.astype(cdt, copy=False)
    if _four_step_ok(a, dims, s):
        return _four_step(np.conj(a).astype(cdt, copy=False).reshape(-1), _DUAL[norm], w, True)
    # pocketfft's backward (inverse) pass measured up to 1.6x slower than its forward pass on
    # 2^20 complex64 points here (scipy 1.17): ifft(x) = conj(fft(conj(x))) with the dual norm,
    # the conjugated copy transformed in place
    r = lib.fftn(
        np.conj(a).astype(cdt, copy=False),
        s=s,
        axes=dims,
        norm=_DUAL[norm],
        workers=w,
        overwrite_x=True,
    )
    r = r.astype(cdt, copy=False)
    return np.conjugate(r, out=r)


# ------------------------------------------------------------------ power-of-two lengths
# ctorch's own kernel (_core/fft.pyx, _core/_fft_simd.h) takes every transform whose lengths
# are powers of two: strips of 16 (complex64) or 8 (complex128) transforms side by side,
# radix-4 butterflies on whole rows of the strip, and one long transform split in two passes
# of such strips (the four-step FFT). pocketfft, which does the rest, runs one long transform
# on one thread and past the caches it is slow: 2^20 complex64 points took 9-20 ms here
# against ~5 ms for the kernel (docs/kernels.md, "fft").
def _norm_scale(norm, total, forward):
    """The factor a transform of ``total`` points carries under ``norm``."""
    if norm == "ortho":
        return total**-0.5
    return 1.0 / total if (norm == "forward") == forward else 1.0


def _sized(shape, dims, s):
    shape = list(shape)
    for d, n in zip(dims, s or (), strict=False):
        shape[d] = n
    return shape


def _kernel_takes(dtype, shape, dims):
    from .._core import fft as kernel

    return all(
        shape[d] == 1 or kernel.takes(dtype, shape[d], math.prod(shape[d + 1 :])) for d in dims
    )


def _pow2_passes(x, dims, forward, scale):
    """x (C-contiguous complex) transformed along each of dims by the kernel, the last pass
    times scale; None if the kernel refuses one (see _kernel_takes)."""
    from .._core import fft as kernel

    todo = [d for d in dims if x.shape[d] > 1]
    if not todo:
        return x * x.dtype.type(scale) if scale != 1.0 else x
    w = _workers()
    shape = x.shape
    for i, d in enumerate(todo):
        outer, inner = math.prod(shape[:d]), math.prod(shape[d + 1 :])
        y = np.empty_like(x)
        sc = scale if i == len(todo) - 1 else 1.0
        if not kernel.c2c_axis(x, y, None, outer, shape[d], inner, -1 if forward else 1, sc, w):
            return None
        x = y
    return x


def _pow2_c2c(a, dims, s, norm, forward):
    """The transform by ctorch's kernel, or None where it does not take the case."""
    shape = _sized(a.shape, dims, s)
    if not _kernel_takes(a.dtype, shape, dims):
        return None
    x = np.ascontiguousarray(_resize(a, shape) if s is not None else a)
    total = math.prod(shape[d] for d in dims)
    r = _pow2_passes(x, dims, forward, _norm_scale(norm, total, forward))
    return r if r is None or r is not a else r.copy()


def _pow2_real_ok(shape, dims, cdt):
    """The last of dims is the array's last axis, of a power-of-two length >= 4 whose half
    the kernel takes, and the kernel takes the other dims of the half-spectrum shape."""
    from .._core import fft as kernel

    n = shape[-1]
    if dims[-1] != len(shape) - 1 or n < 4 or n & (n - 1) or not kernel.takes(cdt, n // 2, 1):
        return False
    return _kernel_takes(cdt, shape[:-1] + [n // 2 + 1], dims[:-1])


def _pow2_r2c(a, dims, s, norm):
    from .._core import fft as kernel

    cdt = np.dtype(_complex_dtype(a))
    shape = _sized(a.shape, dims, s)
    if not _pow2_real_ok(shape, dims, cdt):
        return None
    x = np.ascontiguousarray(_resize(a, shape) if s is not None else a)
    n = shape[-1]
    scale = _norm_scale(norm, math.prod(shape[d] for d in dims), True)
    others = [d for d in dims[:-1] if shape[d] > 1]
    y = np.empty(shape[:-1] + [n // 2 + 1], cdt)
    z = np.empty(shape[:-1] + [n // 2], cdt)
    outer = math.prod(shape[:-1])
    if not kernel.r2c_last(x, y, z, outer, n, 1.0 if others else scale, _workers()):
        return None
    return _pow2_passes(y, others, True, scale) if others else y


def _pow2_c2r(a, dims, s, norm):
    from .._core import fft as kernel

    last = dims[-1]
    n = s[-1] if s is not None else 2 * (a.shape[last] - 1)
    out_shape = _sized(a.shape, dims, s)
    out_shape[last] = n
    if not _pow2_real_ok(out_shape, dims, a.dtype):
        return None
    half = out_shape[:-1] + [n // 2 + 1]
    x = np.ascontiguousarray(_resize(a, half))
    x = _pow2_passes(x, [d for d in dims[:-1] if half[d] > 1], False, 1.0)
    if x is None:
        return None
    y = np.empty(out_shape, _real_dtype(a))
    z = np.empty(out_shape[:-1] + [n // 2], a.dtype)
    scale = _norm_scale(norm, math.prod(out_shape[d] for d in dims), False)
    if not kernel.c2r_last(x, y, z, math.prod(out_shape[:-1]), n, scale, _workers()):
        return None
    return y


# ------------------------------------------------------------------ one large 1-D transform
# pocketfft runs one long 1-D transform on one thread (``workers`` threads over a batch only),
# and past the caches it is slow: 2^20 complex64 points took 9-20 ms here, while the same work
# as 2 x 1024 batched transforms of length 1024 took ~6 ms. So a single transform of at least
# _FOUR_STEP_MIN points whose length is not a power of two (those go to ctorch's kernel above)
# is split as n = n1 * n2 (the "four-step" FFT) with pocketfft doing both passes:
#   d[j2, k1] = FFT_n1 over j1 of x[n2 j1 + j2]   (scipy reads the transposed view and writes
#                                                   a contiguous result: the transpose is free)
#   d *= w_n^(j2 k1) * scale                        (twiddles, cached; the norm folded in)
#   X[k1 + n1 k2] = FFT_n2 over j2 of d[j2, k1]     (down the columns: natural order out)
# Both transforms are batched, so both use the workers.
_FOUR_STEP_MIN = 1 << 16
_TWIDDLES: dict = {}


def _split(n):
    """n1 * n2 = n with n1 the largest divisor <= sqrt(n), or None when n1 < 32."""
    import math

    r = math.isqrt(n)
    if n & (n - 1) == 0:
        return 1 << ((n.bit_length() - 1) // 2)
    for d in range(r, 31, -1):
        if n % d == 0:
            return d
    return None


def _four_step_ok(a, dims, s):
    if len(dims) != 1 or (s is not None and s[0] != a.shape[dims[0]]):
        return False
    n = a.shape[dims[0]]
    return a.size == n and n >= _FOUR_STEP_MIN and _split(n) is not None


def _twiddle(n1, n2, dt, scale):
    key = (n1, n2, np.dtype(dt).str, scale)
    t = _TWIDDLES.get(key)
    if t is None:
        if len(_TWIDDLES) > 8:
            _TWIDDLES.clear()
        n = n1 * n2
        # the exponent reduced mod n in integers first: exact angles however large j2 * k1
        e = (np.arange(n2, dtype=np.int64)[:, None] * np.arange(n1, dtype=np.int64)) % n
        t = (np.exp(e * (-2j * np.pi / n)) * scale).astype(dt)
        _TWIDDLES[key] = t
    return t


def _four_step(x, norm, w, conj_out):
    import scipy.fft as sf

    n = x.size
    n1 = _split(n)
    n2 = n // n1
    scale = {"backward": 1.0, "forward": 1.0 / n, "ortho": 1.0 / np.sqrt(n)}[norm]
    d = sf.fft(x.reshape(n1, n2).T, axis=1, workers=w)  # d[j2, k1], C-contiguous
    if not d.flags.c_contiguous:  # pragma: no cover - scipy returns a fresh C array
        d = np.ascontiguousarray(d)
    np.multiply(d, _twiddle(n1, n2, x.dtype, scale), out=d)
    e = sf.fft(d, axis=0, workers=w, overwrite_x=True).reshape(-1)
    if conj_out:
        np.conjugate(e, out=e)
    return e


def _real_complex_array(a, dims, s, norm, fn, in_dtype, out_dtype):
    """``lib.<fn>`` (rfftn or irfftn) of ``a`` cast to ``in_dtype(a)``, cast to ``out_dtype``
    of that input (scipy's workers on the CPU), or ctorch's kernel where it takes the case."""
    lib, cpu = _lib(a)
    a = a.astype(in_dtype(a), copy=False)
    if cpu and a.size:
        r = (_pow2_r2c if fn == "rfftn" else _pow2_c2r)(a, dims, s, norm)
        if r is not None:
            return r
    kw = {"workers": _workers()} if cpu else {}
    r = getattr(lib, fn)(a, s=s, axes=dims, norm=norm, **kw)
    return r.astype(out_dtype(a), copy=False)


def r2c_array(a, dims, s, norm):
    if type(a) is MetaArray:
        return _meta_r2c(a, dims, s)
    return _real_complex_array(a, dims, s, norm, "rfftn", _real_dtype, _complex_dtype)


def c2r_array(a, dims, s, norm):
    if type(a) is MetaArray:
        return _meta_c2r(a, dims, s)
    return _real_complex_array(a, dims, s, norm, "irfftn", _complex_dtype, _real_dtype)


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
            if type(gi._a) is MetaArray:
                w = MetaArray(w.shape, w.dtype)
            elif type(gi._a) is not np.ndarray:
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
