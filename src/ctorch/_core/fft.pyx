# cython: language_level=3
"""ctorch's complex FFT for power-of-two lengths (``_fft_simd.h``), CPU only.

``c2c_axis(x, y, work, outer, n, inner, sign, scale, nthreads)``: y = the length-n DFT with
``exp(sign 2 pi i jk / n)``, times ``scale``, along the middle axis of the C-contiguous
complex64 or complex128 array x viewed as (outer, n, inner); y the same shape and dtype,
``work`` None or a scratch of n values (for the four-step split of one long transform).
Returns False where the kernel does not take the case (``takes``; the caller falls back to
pocketfft) or runs out of memory.
"""

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


def c2c_axis(x, y, work, long outer, long n, long inner, int sign, double scale,
             int nthreads):
    """See the module docstring."""
    cdef const float[::1] x32
    cdef float[::1] y32, w32
    cdef const double[::1] x64
    cdef double[::1] y64, w64
    cdef float *wp32 = NULL
    cdef double *wp64 = NULL
    cdef int rc
    if outer * n * inner == 0 or x.size != outer * n * inner or y.size != x.size:
        return False
    if work is not None and (work.size < n or work.dtype != x.dtype):
        return False
    if x.dtype == np.complex64 and y.dtype == np.complex64:
        x32 = x.reshape(-1).view(np.float32)
        y32 = y.reshape(-1).view(np.float32)
        if work is not None:
            w32 = work.reshape(-1).view(np.float32)
            wp32 = &w32[0]
        with nogil:
            rc = ctf_c2c_axis_f32(&x32[0], &y32[0], wp32, outer, n, inner, sign, scale,
                                  nthreads)
    elif x.dtype == np.complex128 and y.dtype == np.complex128:
        x64 = x.reshape(-1).view(np.float64)
        y64 = y.reshape(-1).view(np.float64)
        if work is not None:
            w64 = work.reshape(-1).view(np.float64)
            wp64 = &w64[0]
        with nogil:
            rc = ctf_c2c_axis_f64(&x64[0], &y64[0], wp64, outer, n, inner, sign, scale,
                                  nthreads)
    else:
        return False
    return rc == 0


def _real_pair(x, y, z, long outer, long n, double scale, int nthreads, bint forward):
    cdef const float[::1] x32
    cdef float[::1] y32, z32
    cdef const double[::1] x64
    cdef double[::1] y64, z64
    cdef int rc
    cdef long m = n // 2
    cdef long nx = outer * (n if forward else m + 1)
    cdef long ny = outer * (m + 1 if forward else n)
    if outer <= 0 or x.size != nx or y.size != ny or z.size < outer * m:
        return False
    real = x if forward else y
    cplx = y if forward else x
    if real.dtype == np.float32 and cplx.dtype == np.complex64 and z.dtype == np.complex64:
        x32 = x.reshape(-1).view(np.float32)
        y32 = y.reshape(-1).view(np.float32)
        z32 = z.reshape(-1).view(np.float32)
        with nogil:
            if forward:
                rc = ctf_r2c_f32(&x32[0], &y32[0], &z32[0], outer, n, scale, nthreads)
            else:
                rc = ctf_c2r_f32(&x32[0], &y32[0], &z32[0], outer, n, scale, nthreads)
    elif real.dtype == np.float64 and cplx.dtype == np.complex128 and z.dtype == np.complex128:
        x64 = x.reshape(-1).view(np.float64)
        y64 = y.reshape(-1).view(np.float64)
        z64 = z.reshape(-1).view(np.float64)
        with nogil:
            if forward:
                rc = ctf_r2c_f64(&x64[0], &y64[0], &z64[0], outer, n, scale, nthreads)
            else:
                rc = ctf_c2r_f64(&x64[0], &y64[0], &z64[0], outer, n, scale, nthreads)
    else:
        return False
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
