# cython: language_level=3
"""ctorch CPU kernels: elementwise family (see docs/kernels.md).

Flat, C-contiguous float32/float64 arrays; the caller allocates ``out``.  Work is cut into
fixed chunks of ``CHUNK`` elements, each handed to a SIMD loop from ``_elementwise_simd.h``
(AVX-512/AVX2/baseline clones chosen at load time); chunks run on OpenMP threads when the
array has more than ``THRESHOLD`` elements.  Every element is computed by the same
arithmetic whatever the thread count, so results are bitwise identical for 1..N threads.
"""
from cython.parallel cimport prange
from libc.stdint cimport uint8_t

from cython cimport floating

include "_elementwise_common.pxi"

cdef extern from "_elementwise_simd.h" nogil:
    void ct_where_f32(const uint8_t *c, const float *x, const float *y, float *out, ct_i n)
    void ct_where_f64(const uint8_t *c, const double *x, const double *y, double *out, ct_i n)
    void ct_fill_f32(float *out, float v, ct_i n)
    void ct_fill_f64(double *out, double v, ct_i n)
    void ct_copy_f32(const float *x, float *out, ct_i n)
    void ct_copy_f64(const double *x, double *out, ct_i n)
    void ct_axpy_f32(float alpha, const float *x, float *y, ct_i n)
    void ct_axpy_f64(double alpha, const double *x, double *y, ct_i n)
    void ct_scale_f32(const float *x, float alpha, float *out, ct_i n)
    void ct_scale_f64(const double *x, double alpha, double *out, ct_i n)

# Op codes are not written here: they are the row order of _table/elementwise.def, which the C
# header includes and ctorch._table parses (the BIN_*/UN_* names below come from there).
from ctorch import _table  # noqa: E402

globals().update(_table.code_names())

CHUNK_SIZE = CHUNK
PARALLEL_THRESHOLD = THRESHOLD
HEAVY_PARALLEL_THRESHOLD = HEAVY_THRESHOLD


cdef inline Py_ssize_t _unary_threshold(int op) noexcept nogil:
    """Parallel threshold of a unary op: cheap ops (a few cycles per element) use THRESHOLD."""
    if ct_unary_flags(op) & CT_CHEAP:
        return THRESHOLD
    return HEAVY_THRESHOLD


cdef inline void _check_bin(str kernel, int op) except *:
    if op < 0 or op >= CT_BIN_COUNT:
        raise ValueError(f"{kernel}: unknown binary op code {op}")


cdef inline void _check_un(str kernel, int op) except *:
    if op < 0 or op >= CT_UN_COUNT:
        raise ValueError(f"{kernel}: unknown unary op code {op}")


def binary(int op, const floating[::1] x, const floating[::1] y, floating[::1] out):
    """out[i] = x[i] op y[i] for BIN_* op."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch
    _check_bin("binary", op)
    _check_len("binary", "x", x.shape[0], n)
    _check_len("binary", "y", y.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_binary_f32(op, &x[s], &y[s], &out[s], e - s)
            else:
                ct_binary_f64(op, &x[s], &y[s], &out[s], e - s)


def binary_scalar(int op, const floating[::1] x, double s, floating[::1] out, bint reverse=False):
    """out[i] = x[i] op s (or s op x[i] if reverse)."""
    cdef Py_ssize_t n = out.shape[0], c, b, e, nch
    cdef int rev = reverse
    _check_bin("binary_scalar", op)
    _check_len("binary_scalar", "x", x.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            b = c * CHUNK
            e = min(b + CHUNK, n)
            if floating is float:
                ct_binary_scalar_f32(op, &x[b], <float>s, &out[b], e - b, rev)
            else:
                ct_binary_scalar_f64(op, &x[b], s, &out[b], e - b, rev)


def binary_bcast(int op, const floating[::1] x, const floating[::1] y, floating[::1] out,
                 Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner, bint reverse=False):
    """out[i,j,k] = x[i,j,k] op y[j] (y[j] op x[i,j,k] if reverse); x, out of outer*mid*inner."""
    cdef Py_ssize_t n, t, ntask, nch, row, c, s, e, j
    cdef int rev = reverse
    _check_bin("binary_bcast", op)
    if outer < 0 or mid < 0 or inner < 0:
        raise ValueError(f"binary_bcast: negative shape ({outer}, {mid}, {inner})")
    n = outer * mid * inner
    _check_len("binary_bcast", "x", x.shape[0], n)
    _check_len("binary_bcast", "out", out.shape[0], n)
    _check_len("binary_bcast", "y", y.shape[0], mid)
    if n == 0:
        return
    if inner == 1:
        # rows of length mid combined with the whole of y
        nch = (mid + CHUNK - 1) // CHUNK
        ntask = outer * nch
        with nogil:
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                c = t - row * nch
                s = c * CHUNK
                e = min(s + CHUNK, mid)
                if floating is float:
                    if rev:
                        ct_binary_f32(op, &y[s], &x[row * mid + s], &out[row * mid + s], e - s)
                    else:
                        ct_binary_f32(op, &x[row * mid + s], &y[s], &out[row * mid + s], e - s)
                else:
                    if rev:
                        ct_binary_f64(op, &y[s], &x[row * mid + s], &out[row * mid + s], e - s)
                    else:
                        ct_binary_f64(op, &x[row * mid + s], &y[s], &out[row * mid + s], e - s)
    else:
        # rows of length inner, each combined with the scalar y[j]
        nch = (inner + CHUNK - 1) // CHUNK
        ntask = outer * mid * nch
        with nogil:
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                c = t - row * nch
                j = row % mid
                s = row * inner + c * CHUNK
                e = min(c * CHUNK + CHUNK, inner) - c * CHUNK
                if floating is float:
                    ct_binary_scalar_f32(op, &x[s], y[j], &out[s], e, rev)
                else:
                    ct_binary_scalar_f64(op, &x[s], y[j], &out[s], e, rev)


def unary(int op, const floating[::1] x, floating[::1] out, double a=0.0, double b=0.0):
    """out[i] = f(x[i]) for UN_* op with parameters a, b (see docs/kernels.md)."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch, thr
    _check_un("unary", op)
    _check_len("unary", "x", x.shape[0], n)
    _bounds(op, &a, &b)
    thr = _unary_threshold(op)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > thr):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_unary_f32(op, &x[s], &out[s], e - s, <float>a, <float>b)
            else:
                ct_unary_f64(op, &x[s], &out[s], e - s, a, b)


def unary_backward(int op, const floating[::1] gy, const floating[::1] x, const floating[::1] y,
                   floating[::1] gx, double a=0.0, double b=0.0):
    """gx = gy * f'(x) for UN_* op; x is the input, y the forward output."""
    cdef Py_ssize_t n = gx.shape[0], c, s, e, nch, thr
    _check_un("unary_backward", op)
    if not ct_unary_has_backward(op):
        raise ValueError(f"unary_backward: op code {op} has no backward kernel")
    _check_len("unary_backward", "gy", gy.shape[0], n)
    _check_len("unary_backward", "x", x.shape[0], n)
    _check_len("unary_backward", "y", y.shape[0], n)
    _bounds(op, &a, &b)
    thr = _unary_threshold(op)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > thr):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_unary_backward_f32(op, &gy[s], &x[s], &y[s], &gx[s], e - s,
                                      <float>a, <float>b)
            else:
                ct_unary_backward_f64(op, &gy[s], &x[s], &y[s], &gx[s], e - s, a, b)


def where(const uint8_t[::1] cond, const floating[::1] x, const floating[::1] y,
          floating[::1] out):
    """out[i] = x[i] if cond[i] else y[i]."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch
    _check_len("where", "cond", cond.shape[0], n)
    _check_len("where", "x", x.shape[0], n)
    _check_len("where", "y", y.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_where_f32(&cond[s], &x[s], &y[s], &out[s], e - s)
            else:
                ct_where_f64(&cond[s], &x[s], &y[s], &out[s], e - s)


def fill(floating[::1] out, double value):
    """out[:] = value."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_fill_f32(&out[s], <float>value, e - s)
            else:
                ct_fill_f64(&out[s], value, e - s)


def copy(const floating[::1] x, floating[::1] out):
    """out[:] = x."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch
    _check_len("copy", "x", x.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_copy_f32(&x[s], &out[s], e - s)
            else:
                ct_copy_f64(&x[s], &out[s], e - s)


def axpy(double alpha, const floating[::1] x, floating[::1] y):
    """y += alpha * x, in place."""
    cdef Py_ssize_t n = y.shape[0], c, s, e, nch
    _check_len("axpy", "x", x.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_axpy_f32(<float>alpha, &x[s], &y[s], e - s)
            else:
                ct_axpy_f64(alpha, &x[s], &y[s], e - s)


def scale(const floating[::1] x, double alpha, floating[::1] out):
    """out = alpha * x."""
    cdef Py_ssize_t n = out.shape[0], c, s, e, nch
    _check_len("scale", "x", x.shape[0], n)
    nch = (n + CHUNK - 1) // CHUNK
    with nogil:
        for c in prange(nch, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = min(s + CHUNK, n)
            if floating is float:
                ct_scale_f32(&x[s], <float>alpha, &out[s], e - s)
            else:
                ct_scale_f64(&x[s], alpha, &out[s], e - s)


def _set_gelu_avx512(bint on):
    """Turn the float32 GELU's AVX-512 tables (_gelu_f32.h) on (where the CPU has AVX-512F) or
    off (the erfc scheme of the op table's loop), in this module's kernels; returns whether they
    were on.  For the tests, which check both schemes on one machine."""
    cdef int was = ctge_avx512()
    ctge_set_avx512(on)
    return bool(was)
