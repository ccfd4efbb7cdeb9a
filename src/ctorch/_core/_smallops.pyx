# cython: language_level=3
"""Small-array entry points of the elementwise kernels, for the per-op overhead of small
tensors (``a + b`` on 16 elements, the backward formulas of a deep graph of small ops).

``elementwise.unary`` & co. take typed memoryviews over fused types: acquiring four views
and dispatching on the element type cost about a microsecond a call, many times the work
on a small array. These functions take the NumPy arrays as objects, read them through the
buffer protocol, allocate the output and call the same SIMD loops (``_elementwise_simd.h``,
built with the same flags) on one chunk: the values are those of ``elementwise``'s kernels.
Each returns None when its arrays do not qualify (not NumPy, not C-contiguous, not one
float32/float64 dtype, sizes differ, more than ``MAX_SMALL`` elements): callers then take
their general path. Single-threaded by design: small arrays only.
"""
from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from cpython.contextvars cimport PyContextVar_Reset, PyContextVar_Set

cimport cython
from cython cimport floating

import numpy as np

include "_elementwise_common.pxi"

cdef enum:
    # one chunk of elementwise.pyx (CHUNK): the kernels there run arrays up to this size
    # as one call on the calling thread too
    MAX_SMALL = CHUNK

MAX_SMALL_SIZE = MAX_SMALL

cdef object _ndarray = np.ndarray
cdef object _empty = np.empty


cdef inline int _get(object a, Py_buffer *b):
    """Fill ``b`` from ndarray ``a``: 1 float32, 2 float64, 0 (nothing held) otherwise."""
    cdef const char *f
    cdef char c
    if type(a) is not _ndarray:
        return 0
    try:
        PyObject_GetBuffer(a, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
    except (BufferError, ValueError, TypeError):
        return 0
    f = b.format
    if f == NULL or b.len > MAX_SMALL * b.itemsize:
        PyBuffer_Release(b)
        return 0
    c = f[0]
    if c == b'<' or c == b'=' or c == b'@':
        c = f[1]
        if f[2] != 0:
            c = 0
    elif f[1] != 0:
        c = 0
    if c == b'f' and b.itemsize == 4:
        return 1
    if c == b'd' and b.itemsize == 8:
        return 2
    PyBuffer_Release(b)
    return 0


cdef object _new_out(object shape, object dtype, int k, int op, Py_buffer *x, Py_buffer *y,
                     Py_buffer *z, double a, double b, int rev):
    """A new array of ``shape`` and ``dtype`` holding kernel k (CT_K_*) of the held buffers
    x, y, z (float32 if x's items are 4 bytes, else float64; y, z may be NULL)."""
    cdef Py_buffer bo
    cdef Py_ssize_t n
    out = _empty(shape, dtype)
    PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
    if x.itemsize == 4:
        n = x.len // 4
        ct_ew_apply_f32(k, op, <const float *>x.buf, <const float *>(y.buf if y else NULL),
                        <const float *>(z.buf if z else NULL), NULL, <float *>bo.buf, 0, n,
                        <float>a, <float>b, rev)
    else:
        n = x.len // 8
        ct_ew_apply_f64(k, op, <const double *>x.buf, <const double *>(y.buf if y else NULL),
                        <const double *>(z.buf if z else NULL), NULL, <double *>bo.buf, 0, n,
                        a, b, rev)
    PyBuffer_Release(&bo)
    return out


cdef object _one(object x, int k, int op, double a, double b, int rev):
    """Kernel k on the one array x as a new array, or None when x does not qualify."""
    cdef Py_buffer bx
    if _get(x, &bx) == 0:
        return None
    try:
        return _new_out(x.shape, x.dtype, k, op, &bx, NULL, NULL, a, b, rev)
    finally:
        PyBuffer_Release(&bx)


def unary(int op, x, double a=0.0, double b=0.0):
    """``f(x)`` for UN_* op ``op`` as a new array, or None (see the module docstring)."""
    if op < 0 or op >= CT_UN_COUNT:
        return None
    _bounds(op, &a, &b)
    return _one(x, CT_K_UNARY, op, a, b, 0)


def unary_backward(int op, gy, x, y, double a=0.0, double b=0.0):
    """``gy * f'(x)`` for UN_* op ``op`` (``y`` its forward output) as a new array, or None
    (see the module docstring; also None when the op has no backward kernel)."""
    cdef Py_buffer bg, bx, by
    cdef int kg, kx, ky
    if op < 0 or op >= CT_UN_COUNT or not ct_unary_has_backward(op):
        return None
    kg = _get(gy, &bg)
    if kg == 0:
        return None
    kx = _get(x, &bx)
    if kx == 0:
        PyBuffer_Release(&bg)
        return None
    ky = _get(y, &by)
    if ky == 0:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&bx)
        return None
    try:
        if kx != kg or ky != kg or bx.len != bg.len or by.len != bg.len:
            return None
        _bounds(op, &a, &b)
        return _new_out(gy.shape, gy.dtype, CT_K_UNARY_BACKWARD, op, &bg, &bx, &by, a, b, 0)
    finally:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)


def binary(int op, x, y):
    """``x op y`` for BIN_* op ``op`` on two arrays of one shape, as a new array, or None
    (see the module docstring)."""
    cdef Py_buffer bx, by
    cdef int kx, ky
    if op < 0 or op >= CT_BIN_COUNT:
        return None
    kx = _get(x, &bx)
    if kx == 0:
        return None
    ky = _get(y, &by)
    if ky == 0:
        PyBuffer_Release(&bx)
        return None
    try:
        if kx != ky or bx.len != by.len:
            return None
        shape = x.shape
        if y.shape != shape:
            return None
        return _new_out(shape, x.dtype, CT_K_BINARY, op, &bx, &by, NULL, 0.0, 0.0, 0)
    finally:
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)


def binary_scalar(int op, x, double s, bint reverse=False):
    """``x op s`` (``s op x`` when ``reverse``) for BIN_* op ``op`` as a new array, or None
    (see the module docstring)."""
    if op < 0 or op >= CT_BIN_COUNT:
        return None
    return _one(x, CT_K_BINARY_SCALAR, op, s, 0.0, reverse)


# ---------------------------------------------------------------- NumPy's error state
cdef object _fp_cv = None
cdef object _fp_ignore = None


def set_fp_context(cv, ignore):
    """Bind NumPy's error-state context variable and its all-ignore value
    (``ctorch._backend`` does, when NumPy has them)."""
    global _fp_cv, _fp_ignore
    _fp_cv = cv
    _fp_ignore = ignore


def fp_quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with NumPy's floating-point warnings off
    (``ctorch._backend.fp_quiet``, compiled: the context switch costs ~0.1 us, not ~0.3)."""
    token = PyContextVar_Set(_fp_cv, _fp_ignore)
    try:
        return fn(*args, **kwargs)
    finally:
        PyContextVar_Reset(_fp_cv, token)


def view_shape(tuple args, Py_ssize_t numel):
    """The target shape of ``view``/``reshape(*args)`` on ``numel`` elements as a tuple of
    ints, for the common spelling only: plain ints (or one tuple/list/Size of them), at most
    one -1, sizes that multiply to ``numel``. Anything else (tensors as sizes, negative
    sizes, a size that does not fit) returns None: the caller's general path then resolves
    it or raises torch's error."""
    cdef Py_ssize_t i, n, s, p = 1, neg = -1
    cdef object o
    if not args:
        return None  # x.view(): torch's "missing size" error comes from the general path
    if len(args) == 1 and type(args[0]) is not int:
        o = args[0]
        if type(o) is not tuple:
            if not isinstance(o, (tuple, list)):
                return None
            o = tuple(o)
        args = <tuple>o
    n = len(args)
    for i in range(n):
        o = args[i]
        if type(o) is not int:
            return None
        s = o
        if s < 0:
            if s != -1 or neg >= 0:
                return None
            neg = i
        else:
            p *= s
    if neg >= 0:
        if p == 0 or numel % p:
            return None
        return args[:neg] + (numel // p,) + args[neg + 1:]
    if p != numel:
        return None
    return args


def fisher_yates(long long[::1] r, const long long[::1] z):
    """torch's randperm swaps in place: for i from 0, swap r[i] and r[i + z[i]]
    (``z[i] = draw % (n - i)``, computed by the caller)."""
    cdef Py_ssize_t i, j, m = z.shape[0]
    cdef long long t
    if m >= r.shape[0]:
        raise ValueError("fisher_yates: need len(z) < len(r)")
    with nogil:
        for i in range(m):
            j = i + z[i]
            t = r[i]
            r[i] = r[j]
            r[j] = t


cdef extern from "_random_cpu.h" nogil:
    ctypedef struct ct_mt_state:
        pass
    void ct_mt_raw(ct_mt_state *st, unsigned long long *out, long long n)
    void ct_mt_bernoulli_f32(ct_mt_state *st, unsigned long long threshold, float *out,
                             long long n, float value)
    void ct_mt_bernoulli_f64(ct_mt_state *st, unsigned long long threshold, double *out,
                             long long n, double value)
    void ct_mt_gamma_f32(ct_mt_state *st, double *cache, int *has_cache, const float *alpha,
                         float *out, long long n, float tiny)
    void ct_mt_gamma_f64(ct_mt_state *st, double *cache, int *has_cache, const double *alpha,
                         double *out, long long n, double tiny)
    long long ct_mt_poisson(ct_mt_state *st, const double *rate, long long *out, long long n)
    void ct_mt_binomial_f32(ct_mt_state *st, const float *count, const float *prob,
                            float *out, long long n)
    void ct_mt_binomial_f64(ct_mt_state *st, const double *count, const double *prob,
                            double *out, long long n)
    void ct_box_muller16_f32(const float *u, float *out, long long nblocks, float mean,
                             float stdv)
    int ct_box_muller16_f32_mode
    void ct_box_muller16_f64(const double *u, double *out, long long nblocks, double mean,
                             double stdv)
    void ct_libm_apply(int op, const double *x, double *out, long long n)


def box_muller16_f32(const float[::1] u, float[::1] out, float mean, float std,
                     int vector=1):
    """torch's float32 ``normal_fill_16`` over len(u) // 16 blocks (``_random_cpu.h``):
    torch's randn bits from torch's uniforms. ``vector=0`` forces the scalar loop (for the
    test that the 8-wide one gives the same bits)."""
    global ct_box_muller16_f32_mode
    cdef long long nb = u.shape[0] // 16
    ct_box_muller16_f32_mode = -1 if vector else 0
    if out.shape[0] < nb * 16:
        raise ValueError("box_muller16_f32: out is shorter than u")
    with nogil:
        ct_box_muller16_f32(&u[0] if nb else NULL, &out[0] if nb else NULL, nb, mean, std)


def box_muller16_f64(const double[::1] u, double[::1] out, double mean, double std):
    """torch's float64 ``normal_fill_16`` (glibc's log/cos/sin) over len(u) // 16 blocks."""
    cdef long long nb = u.shape[0] // 16
    if out.shape[0] < nb * 16:
        raise ValueError("box_muller16_f64: out is shorter than u")
    with nogil:
        ct_box_muller16_f64(&u[0] if nb else NULL, &out[0] if nb else NULL, nb, mean, std)


def libm_apply(int op, const double[::1] x, double[::1] out):
    """out = log (op 0), log1p (1), exp (2) or tan (3) of x, by the C library (as torch's
    CPU transforms compute them; NumPy's own float64 versions differ in the last bit)."""
    cdef long long n = x.shape[0]
    if out.shape[0] != n:
        raise ValueError("libm_apply: x and out differ in length")
    with nogil:
        ct_libm_apply(op, &x[0] if n else NULL, &out[0] if n else NULL, n)


def mt_raw(size_t state_address, unsigned long long[::1] out):
    """Fill ``out`` with the next outputs of the mt19937 engine whose NumPy state lives at
    ``state_address`` (``MT19937().ctypes.state_address``; hold its lock): NumPy's
    random_raw, compiled."""
    cdef long long n = out.shape[0]
    with nogil:
        if n:
            ct_mt_raw(<ct_mt_state *>state_address, &out[0], n)


def mt_bernoulli(size_t state_address, unsigned long long threshold, out, double value):
    """out[i] = value where torch's 53-bit uniform (two engine outputs, the first the high
    word) is below p (threshold = ceil(p * 2^53)), else 0: torch's ``bernoulli_(p)`` and
    dropout keep flags, drawn and written in one pass. ``out``: float32 or float64, 1-D."""
    cdef float[::1] o32
    cdef double[::1] o64
    cdef ct_mt_state *st = <ct_mt_state *>state_address
    if out.dtype == np.float32:
        o32 = out
        with nogil:
            if o32.shape[0]:
                ct_mt_bernoulli_f32(st, threshold, &o32[0], o32.shape[0], <float>value)
    else:
        o64 = out
        with nogil:
            if o64.shape[0]:
                ct_mt_bernoulli_f64(st, threshold, &o64[0], o64.shape[0], value)


cdef void _gamma(ct_mt_state *st, double *cache, int *has, const floating[::1] a,
                 floating[::1] o) noexcept nogil:
    if a.shape[0] == 0:
        return
    if floating is float:
        ct_mt_gamma_f32(st, cache, has, &a[0], &o[0], a.shape[0], 1.1754943508222875e-38)
    else:
        ct_mt_gamma_f64(st, cache, has, &a[0], &o[0], a.shape[0], 2.2250738585072014e-308)


def mt_gamma(size_t state_address, alpha, out, normal_cache):
    """torch's ``_standard_gamma`` draws for the 1-D float32/float64 ``alpha`` into ``out``
    (same dtype) from the engine at ``state_address``; ``normal_cache`` is the generator's
    cached normal (None or a float) going in, and the return value is the one coming out."""
    cdef double cache = 0.0 if normal_cache is None else normal_cache
    cdef int has = normal_cache is not None
    cdef ct_mt_state *st = <ct_mt_state *>state_address
    if alpha.dtype == np.float32:
        _gamma[cython.float](st, &cache, &has, alpha, out)
    else:
        _gamma[cython.double](st, &cache, &has, alpha, out)
    return cache if has else None


def mt_poisson(size_t state_address, const double[::1] rate, long long[::1] out):
    """torch's ``poisson`` draws (``sample_poisson``) for the float64 ``rate`` into the int64
    ``out`` from the engine at ``state_address``; returns len(rate), or the index of the first
    negative or NaN rate, where it stopped (the elements before it drawn, as torch's are)."""
    cdef ct_mt_state *st = <ct_mt_state *>state_address
    cdef long long n = rate.shape[0], r = 0
    with nogil:
        if n:
            r = ct_mt_poisson(st, &rate[0], &out[0], n)
    return r


cdef void _binomial(ct_mt_state *st, const floating[::1] c, const floating[::1] p,
                    floating[::1] o) noexcept nogil:
    if c.shape[0] == 0:
        return
    if floating is float:
        ct_mt_binomial_f32(st, &c[0], &p[0], &o[0], c.shape[0])
    else:
        ct_mt_binomial_f64(st, &c[0], &p[0], &o[0], c.shape[0])


def mt_binomial(size_t state_address, count, prob, out):
    """torch's ``binomial`` draws (``sample_binomial``) for the 1-D ``count`` and ``prob``
    (both float32 or both float64, as ``out``) from the engine at ``state_address``."""
    cdef ct_mt_state *st = <ct_mt_state *>state_address
    if count.dtype == np.float32:
        _binomial[cython.float](st, count, prob, out)
    else:
        _binomial[cython.double](st, count, prob, out)
