# Included by elementwise.pyx, half.pyx and _smallops.pyx: the op-table constants, the one
# entry (ct_ew_apply_f32/_f64) to the float32/float64 loops of _elementwise_simd.h, the
# work-item sizes, and the checks they share.
from libc.math cimport INFINITY
from libc.stdint cimport uint8_t

cdef extern from "_elementwise_simd.h" nogil:
    ctypedef Py_ssize_t ct_i
    int CT_BIN_COUNT
    int CT_UN_COUNT
    int CT_UN_HARDTANH
    int CT_UN_CLAMP
    int CT_CHEAP
    int ct_unary_flags(int op)
    int ct_unary_has_backward(int op)
    # kernel k (CT_K_*: the op table's binary, binary_scalar, unary and unary_backward
    # loops, where, fill, copy, axpy, scale) on elements [s, s + n)
    enum:
        CT_K_BINARY
        CT_K_BINARY_SCALAR
        CT_K_UNARY
        CT_K_UNARY_BACKWARD
        CT_K_WHERE
        CT_K_FILL
        CT_K_COPY
        CT_K_AXPY
        CT_K_SCALE
    void ct_ew_apply_f32(int k, int op, const float *x, const float *y, const float *z,
                         const uint8_t *c, float *out, ct_i s, ct_i n, float a, float b,
                         int rev)
    void ct_ew_apply_f64(int k, int op, const double *x, const double *y, const double *z,
                         const uint8_t *c, double *out, ct_i s, ct_i n, double a, double b,
                         int rev)
    # the float32 GELU's AVX-512 tables (_gelu_f32.h): on where the CPU has AVX-512F
    int ctge_avx512()
    void ctge_set_avx512(int on)

# Elements per work item, and the sizes above which work items go to the thread pool:
# THRESHOLD for memory-bound loops, HEAVY_THRESHOLD for unary ops that spend several ns per
# element in exp/erf/tanh/libm.  Both 32768, torch's grain size: since ctorch's OpenMP threads
# spin briefly (GOMP_SPINCOUNT) instead of sleeping on a futex, a second thread pays from
# there (2 threads, 98304 floats: add 22 -> 13 us, relu 17 -> 11 us, with 131072 before).
# See docs/kernels.md, "Threads".
cdef enum:
    CHUNK = 16384
    THRESHOLD = 32768
    HEAVY_THRESHOLD = 32768


include "_check.pxi"


cdef inline void _bounds(int op, double *a, double *b) noexcept:
    # CLAMP: a NaN bound means no bound
    if op == CT_UN_CLAMP or op == CT_UN_HARDTANH:
        if a[0] != a[0]:
            a[0] = -INFINITY
        if b[0] != b[0]:
            b[0] = INFINITY


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


cdef inline Py_ssize_t _bcast_check(str kernel, Py_ssize_t nx, Py_ssize_t ny, Py_ssize_t nout,
                                    Py_ssize_t outer, Py_ssize_t mid,
                                    Py_ssize_t inner) except -1:
    """The shape checks of binary_bcast and h_binary_bcast; returns outer * mid * inner."""
    cdef Py_ssize_t n
    if outer < 0 or mid < 0 or inner < 0:
        raise ValueError(f"{kernel}: negative shape ({outer}, {mid}, {inner})")
    n = outer * mid * inner
    _check(kernel, "x", nx, n)
    _check(kernel, "out", nout, n)
    _check(kernel, "y", ny, mid)
    return n


cdef inline Py_ssize_t _bcast_tasks(Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner,
                                    Py_ssize_t *rl, Py_ssize_t *nch) noexcept nogil:
    """Work items of a (outer, mid, inner) broadcast: rows of rl elements (inner == 1: outer
    rows of mid, combined with the whole of y; else outer * mid rows of inner, each combined
    with one y[j]) cut in nch pieces of CHUNK; returns the number of pieces."""
    rl[0] = mid if inner == 1 else inner
    nch[0] = (rl[0] + CHUNK - 1) // CHUNK
    return (outer if inner == 1 else outer * mid) * nch[0]
