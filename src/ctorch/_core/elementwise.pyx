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

# Op codes are not written here: they are the row order of _table/elementwise.def, which the C
# header includes and ctorch._table parses (the BIN_*/UN_* names below come from there).
from ctorch import _table  # noqa: E402

globals().update(_table.code_names())

CHUNK_SIZE = CHUNK
PARALLEL_THRESHOLD = THRESHOLD
HEAVY_PARALLEL_THRESHOLD = HEAVY_THRESHOLD


cdef inline void _apply(int k, int op, const floating *x, const floating *y,
                        const floating *z, const uint8_t *c, floating *out, Py_ssize_t s,
                        Py_ssize_t n, double a, double b, int rev) noexcept nogil:
    """Kernel k (CT_K_*) on elements [s, s + n) of the arrays, in their dtype."""
    if floating is float:
        ct_ew_apply_f32(k, op, x, y, z, c, out, s, n, <float>a, <float>b, rev)
    else:
        ct_ew_apply_f64(k, op, x, y, z, c, out, s, n, a, b, rev)


cdef inline void _chunks(int k, int op, const floating *x, const floating *y, const floating *z,
                         const uint8_t *c, floating *out, Py_ssize_t n, Py_ssize_t thr,
                         double a=0.0, double b=0.0, int rev=0) noexcept nogil:
    """Kernel k on [0, n) in work items of CHUNK elements, on threads when n > thr."""
    cdef Py_ssize_t i, s, nch = (n + CHUNK - 1) // CHUNK
    for i in prange(nch, schedule='static', use_threads_if=n > thr):
        s = i * CHUNK
        _apply(k, op, x, y, z, c, out, s, min(s + CHUNK, n) - s, a, b, rev)


def binary(int op, const floating[::1] x, const floating[::1] y, floating[::1] out):
    """out[i] = x[i] op y[i] for BIN_* op."""
    cdef Py_ssize_t n = out.shape[0]
    _check_bin("binary", op)
    _check("binary", "x", x.shape[0], n)
    _check("binary", "y", y.shape[0], n)
    with nogil:
        _chunks(CT_K_BINARY, op, &x[0], &y[0], NULL, NULL, &out[0], n, THRESHOLD)


def binary_scalar(int op, const floating[::1] x, double s, floating[::1] out, bint reverse=False):
    """out[i] = x[i] op s (or s op x[i] if reverse)."""
    cdef Py_ssize_t n = out.shape[0]
    _check_bin("binary_scalar", op)
    _check("binary_scalar", "x", x.shape[0], n)
    with nogil:
        _chunks(CT_K_BINARY_SCALAR, op, &x[0], NULL, NULL, NULL, &out[0], n, THRESHOLD, s,
                0.0, reverse)


def binary_bcast(int op, const floating[::1] x, const floating[::1] y, floating[::1] out,
                 Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner, bint reverse=False):
    """out[i,j,k] = x[i,j,k] op y[j] (y[j] op x[i,j,k] if reverse); x, out of outer*mid*inner."""
    cdef Py_ssize_t n, t, nch, ntask, rl, row, s
    cdef int rev = reverse
    cdef const floating *xr
    _check_bin("binary_bcast", op)
    n = _bcast_check("binary_bcast", x.shape[0], y.shape[0], out.shape[0], outer, mid, inner)
    if n == 0:
        return
    ntask = _bcast_tasks(outer, mid, inner, &rl, &nch)
    with nogil:
        if inner == 1:
            # pieces of the outer rows of length mid, combined with the whole of y
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                s = (t - row * nch) * CHUNK
                xr = &x[row * mid]
                _apply(CT_K_BINARY, op, &y[0] if rev else xr, xr if rev else &y[0], NULL, NULL,
                       &out[row * mid], s, min(s + CHUNK, rl) - s, 0.0, 0.0, 0)
        else:
            # pieces of the outer * mid rows of length inner, each combined with one y[j]
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                s = (t - row * nch) * CHUNK
                _apply(CT_K_BINARY_SCALAR, op, &x[0], NULL, NULL, NULL, &out[0], row * inner + s,
                       min(s + CHUNK, rl) - s, y[row % mid], 0.0, rev)


def unary(int op, const floating[::1] x, floating[::1] out, double a=0.0, double b=0.0):
    """out[i] = f(x[i]) for UN_* op with parameters a, b (see docs/kernels.md)."""
    cdef Py_ssize_t n = out.shape[0]
    _check_un("unary", op)
    _check("unary", "x", x.shape[0], n)
    _bounds(op, &a, &b)
    with nogil:
        _chunks(CT_K_UNARY, op, &x[0], NULL, NULL, NULL, &out[0], n, _unary_threshold(op), a, b)


def unary_backward(int op, const floating[::1] gy, const floating[::1] x, const floating[::1] y,
                   floating[::1] gx, double a=0.0, double b=0.0):
    """gx = gy * f'(x) for UN_* op; x is the input, y the forward output."""
    cdef Py_ssize_t n = gx.shape[0]
    _check_un("unary_backward", op)
    if not ct_unary_has_backward(op):
        raise ValueError(f"unary_backward: op code {op} has no backward kernel")
    _check("unary_backward", "gy", gy.shape[0], n)
    _check("unary_backward", "x", x.shape[0], n)
    _check("unary_backward", "y", y.shape[0], n)
    _bounds(op, &a, &b)
    with nogil:
        _chunks(CT_K_UNARY_BACKWARD, op, &gy[0], &x[0], &y[0], NULL, &gx[0], n,
                _unary_threshold(op), a, b)


def where(const uint8_t[::1] cond, const floating[::1] x, const floating[::1] y,
          floating[::1] out):
    """out[i] = x[i] if cond[i] else y[i]."""
    cdef Py_ssize_t n = out.shape[0]
    _check("where", "cond", cond.shape[0], n)
    _check("where", "x", x.shape[0], n)
    _check("where", "y", y.shape[0], n)
    with nogil:
        _chunks(CT_K_WHERE, 0, &x[0], &y[0], NULL, &cond[0], &out[0], n, THRESHOLD)


def fill(floating[::1] out, double value):
    """out[:] = value."""
    with nogil:
        _chunks(CT_K_FILL, 0, NULL, NULL, NULL, NULL, &out[0], out.shape[0], THRESHOLD, value)


def copy(const floating[::1] x, floating[::1] out):
    """out[:] = x."""
    cdef Py_ssize_t n = out.shape[0]
    _check("copy", "x", x.shape[0], n)
    with nogil:
        _chunks(CT_K_COPY, 0, &x[0], NULL, NULL, NULL, &out[0], n, THRESHOLD)


def axpy(double alpha, const floating[::1] x, floating[::1] y):
    """y += alpha * x, in place."""
    cdef Py_ssize_t n = y.shape[0]
    _check("axpy", "x", x.shape[0], n)
    with nogil:
        _chunks(CT_K_AXPY, 0, &x[0], NULL, NULL, NULL, &y[0], n, THRESHOLD, alpha)


def scale(const floating[::1] x, double alpha, floating[::1] out):
    """out = alpha * x."""
    cdef Py_ssize_t n = out.shape[0]
    _check("scale", "x", x.shape[0], n)
    with nogil:
        _chunks(CT_K_SCALE, 0, &x[0], NULL, NULL, NULL, &out[0], n, THRESHOLD, alpha)


def _set_gelu_avx512(bint on):
    """Turn the float32 GELU's AVX-512 tables (_gelu_f32.h) on (where the CPU has AVX-512F) or
    off (the erfc scheme of the op table's loop), in this module's kernels; returns whether they
    were on.  For the tests, which check both schemes on one machine."""
    cdef int was = ctge_avx512()
    ctge_set_avx512(on)
    return bool(was)
