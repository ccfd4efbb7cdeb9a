# cython: language_level=3
"""ctorch's complex FFT for power-of-two lengths (``_fft_simd.h``), CPU only.

``c2c_axis(x, y, work, outer, n, inner, sign, scale, nthreads)``: y = the length-n DFT with
``exp(sign 2 pi i jk / n)``, times ``scale``, along the middle axis of the C-contiguous
complex64 or complex128 array x viewed as (outer, n, inner); y the same shape and dtype,
``work`` None or a scratch of n values (for the four-step split of one long transform).
Returns False where the kernel does not take the case (``takes``; the caller falls back to
pocketfft) or runs out of memory.
"""

cimport cython
from cython cimport floating

import numpy as np

cdef extern from "_fft_simd.h" nogil:
    int ctf_c2c_axis_f32(const float *x, float *y, float *work, long outer, long n,
                         long inner, int sign, double scale, int nthreads)
    int ctf_takes_f32(long n, long inner)
    int ctf_takes_f64(long n, long inner)
    int ctf_c2c_axis_f64(const double *x, double *y, double *work, long outer, long n,
                         long inner, int sign, double scale, int nthreads)
    int ctf_r2c_f32(const float *x, float *y, float *z, long outer, long n, double scale,
                    int nthreads)
    int ctf_r2c_f64(const double *x, double *y, double *z, long outer, long n, double scale,
                    int nthreads)
    int ctf_c2r_f32(const float *x, float *y, float *z, long outer, long n, double scale,
                    int nthreads)
    int ctf_c2r_f64(const double *x, double *y, double *z, long outer, long n, double scale,
                    int nthreads)


def takes(dtype, long n, long inner):
    """Whether c2c_axis transforms length n along an axis with ``inner`` values after it
    (a power of two >= 2; the last axis, or at least a strip's lanes after it)."""
    if dtype == np.complex64:
        return bool(ctf_takes_f32(n, inner))
    return dtype == np.complex128 and bool(ctf_takes_f64(n, inner))


cdef int _c2c(const floating[::1] x, floating[::1] y, floating[::1] w, long outer, long n,
              long inner, int sign, double scale, int nthreads) noexcept nogil:
    cdef floating *wp = &w[0] if w.shape[0] else NULL
    if floating is float:
        return ctf_c2c_axis_f32(&x[0], &y[0], wp, outer, n, inner, sign, scale, nthreads)
    return ctf_c2c_axis_f64(&x[0], &y[0], wp, outer, n, inner, sign, scale, nthreads)


cdef int _real(const floating[::1] x, floating[::1] y, floating[::1] z, long outer, long n,
               double scale, int nthreads, bint forward) noexcept nogil:
    if floating is float:
        if forward:
            return ctf_r2c_f32(&x[0], &y[0], &z[0], outer, n, scale, nthreads)
        return ctf_c2r_f32(&x[0], &y[0], &z[0], outer, n, scale, nthreads)
    if forward:
        return ctf_r2c_f64(&x[0], &y[0], &z[0], outer, n, scale, nthreads)
    return ctf_c2r_f64(&x[0], &y[0], &z[0], outer, n, scale, nthreads)


def _flat(a, rdt):
    """a's buffer as a flat array of its real dtype (complex values as pairs)."""
    return a.reshape(-1).view(rdt)


_REAL = {np.dtype(np.complex64): np.dtype(np.float32),
         np.dtype(np.complex128): np.dtype(np.float64)}


def c2c_axis(x, y, work, long outer, long n, long inner, int sign, double scale,
             int nthreads):
    """See the module docstring."""
    cdef int rc
    rdt = _REAL.get(x.dtype)
    if rdt is None or y.dtype != x.dtype:
        return False
    if outer * n * inner == 0 or x.size != outer * n * inner or y.size != x.size:
        return False
    if work is not None and (work.size < n or work.dtype != x.dtype):
        return False
    xr, yr = _flat(x, rdt), _flat(y, rdt)
    wr = _flat(work, rdt) if work is not None else np.empty(0, rdt)
    if rdt == np.float32:
        rc = _c2c[cython.float](xr, yr, wr, outer, n, inner, sign, scale, nthreads)
    else:
        rc = _c2c[cython.double](xr, yr, wr, outer, n, inner, sign, scale, nthreads)
    return rc == 0


def _real_pair(x, y, z, long outer, long n, double scale, int nthreads, bint forward):
    cdef int rc
    cdef long m = n // 2
    cdef long nx = outer * (n if forward else m + 1)
    cdef long ny = outer * (m + 1 if forward else n)
    real, cplx = (x, y) if forward else (y, x)
    rdt = _REAL.get(cplx.dtype)
    if rdt is None or real.dtype != rdt or z.dtype != cplx.dtype:
        return False
    if outer <= 0 or x.size != nx or y.size != ny or z.size < outer * m:
        return False
    xr, yr, zr = _flat(x, rdt), _flat(y, rdt), _flat(z, rdt)
    if rdt == np.float32:
        rc = _real[cython.float](xr, yr, zr, outer, n, scale, nthreads, forward)
    else:
        rc = _real[cython.double](xr, yr, zr, outer, n, scale, nthreads, forward)
    return rc == 0


def r2c_last(x, y, z, long outer, long n, double scale, int nthreads):
    """y (outer, n / 2 + 1) complex = the DFT of the real C-contiguous x (outer, n) along its
    last axis, times scale (n a power of two >= 4, through a complex DFT of n / 2 points into
    the scratch z of outer * n / 2 complex values). False where not taken."""
    return _real_pair(x, y, z, outer, n, scale, nthreads, True)


def c2r_last(x, y, z, long outer, long n, double scale, int nthreads):
    """y (outer, n) real = the inverse DFT of the half spectrum x (outer, n / 2 + 1) along the
    last axis times scale (1: unnormalized), imaginary parts of bins 0 and n / 2 ignored."""
    return _real_pair(x, y, z, outer, n, scale, nthreads, False)
