# Included by elementwise.pyx, half.pyx and _smallops.pyx: the op-table constants and the
# float32/float64 op-table loops of _elementwise_simd.h, the work-item sizes, and the checks
# they share.
from libc.math cimport INFINITY

cdef extern from "_elementwise_simd.h" nogil:
    ctypedef Py_ssize_t ct_i
    int CT_BIN_COUNT
    int CT_UN_COUNT
    int CT_UN_HARDTANH
    int CT_UN_CLAMP
    int CT_CHEAP
    int ct_unary_flags(int op)
    int ct_unary_has_backward(int op)
    # the float32/float64 loops of the op table
    void ct_binary_f32(int op, const float *x, const float *y, float *out, ct_i n)
    void ct_binary_f64(int op, const double *x, const double *y, double *out, ct_i n)
    void ct_binary_scalar_f32(int op, const float *x, float s, float *out, ct_i n, int rev)
    void ct_binary_scalar_f64(int op, const double *x, double s, double *out, ct_i n, int rev)
    void ct_unary_f32(int op, const float *x, float *out, ct_i n, float a, float b)
    void ct_unary_f64(int op, const double *x, double *out, ct_i n, double a, double b)
    void ct_unary_backward_f32(int op, const float *gy, const float *x, const float *y,
                               float *gx, ct_i n, float a, float b)
    void ct_unary_backward_f64(int op, const double *gy, const double *x, const double *y,
                               double *gx, ct_i n, double a, double b)
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


cdef inline void _check_len(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except *:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")


cdef inline void _bounds(int op, double *a, double *b) noexcept:
    # CLAMP: a NaN bound means no bound
    if op == CT_UN_CLAMP or op == CT_UN_HARDTANH:
        if a[0] != a[0]:
            a[0] = -INFINITY
        if b[0] != b[0]:
            b[0] = INFINITY
