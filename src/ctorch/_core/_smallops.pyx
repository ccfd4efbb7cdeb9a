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
    PyBUF_STRIDES,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from cpython.contextvars cimport PyContextVar_Reset, PyContextVar_Set
from cpython.float cimport PyFloat_AsDouble
from cpython.long cimport PyLong_AsLongLong, PyLong_AsLongLongAndOverflow
from libc.math cimport INFINITY, fma, fmaf, sqrt
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

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
cdef object _int64 = np.dtype(np.int64)
cdef object _empty = np.empty


cdef inline char _fmt_char(Py_buffer *b) noexcept:
    """The one type character of held buffer ``b``'s format (after a native byte-order
    prefix), or 0 for another format."""
    cdef const char *f = b.format
    cdef char c
    if f == NULL:
        return 0
    c = f[0]
    if c == b'<' or c == b'=' or c == b'@':
        c = f[1]
        if f[2] != 0:
            return 0
    elif f[1] != 0:
        return 0
    return c


cdef inline int _float_kind(Py_buffer *b) noexcept:
    """1 when held buffer ``b`` holds native float32 items, 2 float64, else 0."""
    cdef char c = _fmt_char(b)
    if c == b'f' and b.itemsize == 4:
        return 1
    if c == b'd' and b.itemsize == 8:
        return 2
    return 0


cdef inline int _int_kind(Py_buffer *b) noexcept:
    """8 when held buffer ``b`` holds native int64 items, 4 int32, else 0."""
    cdef char c = _fmt_char(b)
    if (c == b'l' or c == b'q') and b.itemsize == 8:
        return 8
    if (c == b'i' or c == b'l') and b.itemsize == 4:
        return 4
    return 0


cdef inline bint _acquire(object a, Py_buffer *b, int flags):
    """Whether ndarray ``a``'s buffer is now held in ``b`` with ``flags`` (False: not an
    ndarray, or a layout the flags refuse; nothing held)."""
    if type(a) is not _ndarray:
        return False
    try:
        PyObject_GetBuffer(a, b, flags)
    except (BufferError, ValueError, TypeError):
        return False
    return True


cdef inline int _get(object a, Py_buffer *b):
    """Fill ``b`` from ndarray ``a``: 1 float32, 2 float64, 0 (nothing held) otherwise."""
    cdef int k
    if not _acquire(a, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT):
        return 0
    k = _float_kind(b) if b.len <= MAX_SMALL * b.itemsize else 0
    if k == 0:
        PyBuffer_Release(b)
    return k


cdef int _get_pair(object x, object y, Py_buffer *bx, Py_buffer *by, bint strided):
    """Both of ``x`` and ``y`` held (``_get``, or ``_kindmm`` when ``strided``) with one
    element kind, returned (1 float32, 2 float64); 0 with nothing held otherwise."""
    cdef int kx = _kindmm(x, bx) if strided else _get(x, bx)
    cdef int ky
    if kx == 0:
        return 0
    ky = _kindmm(y, by) if strided else _get(y, by)
    if ky == kx:
        return kx
    if ky:
        PyBuffer_Release(by)
    PyBuffer_Release(bx)
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
    cdef int kg, ky
    if op < 0 or op >= CT_UN_COUNT or not ct_unary_has_backward(op):
        return None
    kg = _get_pair(gy, x, &bg, &bx, False)
    if kg == 0:
        return None
    ky = _get(y, &by)
    if ky == 0:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&bx)
        return None
    try:
        if ky != kg or bx.len != bg.len or by.len != bg.len:
            return None
        _bounds(op, &a, &b)
        return _new_out(gy.shape, gy.dtype, CT_K_UNARY_BACKWARD, op, &bg, &bx, &by, a, b, 0)
    finally:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)


cdef bint _suffix(object s, object t):
    """Whether shape ``s`` (leading 1s dropped) is a trailing part of shape ``t``."""
    cdef Py_ssize_t i = 0, ns = len(s), nt = len(t)
    while i < ns and s[i] == 1:
        i += 1
    if ns - i > nt:
        return False
    return tuple(s[i:]) == tuple(t[nt - (ns - i):])


cdef inline void _ew(int kk, int op, const floating *x, const floating *y, floating *out,
                     Py_ssize_t n, double a, int rev) noexcept nogil:
    """Elementwise kernel kk (CT_K_BINARY or CT_K_BINARY_SCALAR with scalar ``a``) on n items."""
    if floating is float:
        ct_ew_apply_f32(kk, op, x, y, NULL, NULL, out, 0, n, <float>a, 0, rev)
    else:
        ct_ew_apply_f64(kk, op, x, y, NULL, NULL, out, 0, n, a, 0, rev)


cdef void _rows_apply(int op, const floating *x, const floating *y, floating *out,
                      Py_ssize_t rows, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t sy,
                      int mode) noexcept nogil:
    """``rows`` rows of n elements of x op y (row strides sx, sy in elements: 0 repeats a
    row); mode 1: y holds one scalar per row (x op y[r]); mode 2: the same reversed
    (y[r] op x)."""
    cdef Py_ssize_t r
    for r in range(rows):
        if mode:
            _ew(CT_K_BINARY_SCALAR, op, x + r * n, NULL, out + r * n, n, y[r], mode == 2)
        else:
            _ew(CT_K_BINARY, op, x + r * sx, y + r * sy, out + r * n, n, 0.0, 0)


cdef void _rows_apply_k(int k, int op, const char *x, const char *y, char *out,
                        Py_ssize_t rows, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t sy,
                        int mode) noexcept nogil:
    """``_rows_apply`` on float32 (k = 1) or float64 buffers."""
    if k == 1:
        _rows_apply(op, <const float *>x, <const float *>y, <float *>out, rows, n, sx, sy, mode)
    else:
        _rows_apply(op, <const double *>x, <const double *>y, <double *>out, rows, n, sx, sy,
                    mode)


def binary(int op, x, y):
    """``x op y`` for BIN_* op ``op`` on two arrays of one shape, or where one's shape is a
    trailing part of the other's (a bias row), or ``y`` is ``x``'s shape with a last dim
    of 1 (a per-row scalar), as a new array, or None (see the module docstring)."""
    cdef Py_buffer bx, by, bo
    cdef int kx, isz, mode
    cdef Py_ssize_t nx, ny, rows, n, sx, sy
    cdef bint swap = False
    if op < 0 or op >= CT_BIN_COUNT:
        return None
    kx = _get_pair(x, y, &bx, &by, False)
    if kx == 0:
        return None
    try:
        shape = x.shape
        yshape = y.shape
        if yshape == shape:
            return _new_out(shape, x.dtype, CT_K_BINARY, op, &bx, &by, NULL, 0.0, 0.0, 0)
        isz = bx.itemsize
        nx = bx.len // isz
        ny = by.len // isz
        if nx == 0 or ny == 0:
            return None
        if ny == 1 and len(yshape) <= len(shape):  # a one-element y: x op scalar
            oshape, rows, n, sx, sy, mode = shape, 1, nx, 0, 0, 1
        elif nx == 1 and len(shape) <= len(yshape):  # a one-element x: scalar op y
            oshape, rows, n, sx, sy, mode, swap = yshape, 1, ny, 0, 0, 2, True
        elif nx > ny and nx % ny == 0 and len(yshape) <= len(shape) and _suffix(yshape, shape):
            oshape, rows, n, sx, sy, mode = shape, nx // ny, ny, ny, 0, 0  # y over x's rows
        elif ny > nx and ny % nx == 0 and len(shape) <= len(yshape) and _suffix(shape, yshape):
            oshape, rows, n, sx, sy, mode = yshape, ny // nx, nx, 0, nx, 0  # x over y's rows
        elif (len(yshape) == len(shape) and yshape[len(shape) - 1] == 1
              and yshape[:len(shape) - 1] == shape[:len(shape) - 1]):
            oshape, rows, n, sx, sy, mode = shape, ny, nx // ny, 0, 0, 1  # a scalar per row
        else:
            return None
        out = _empty(oshape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if swap:
            _rows_apply_k(kx, op, <const char *>by.buf, <const char *>bx.buf, <char *>bo.buf,
                          rows, n, sx, sy, mode)
        else:
            _rows_apply_k(kx, op, <const char *>bx.buf, <const char *>by.buf, <char *>bo.buf,
                          rows, n, sx, sy, mode)
        PyBuffer_Release(&bo)
        return out
    finally:
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)


def binary_scalar(int op, x, double s, bint reverse=False):
    """``x op s`` (``s op x`` when ``reverse``) for BIN_* op ``op`` as a new array, or None
    (see the module docstring)."""
    if op < 0 or op >= CT_BIN_COUNT:
        return None
    return _one(x, CT_K_BINARY_SCALAR, op, s, 0.0, reverse)


# ---------------------------------------------------------------- softmax rows
cdef extern from "_rowops_f32.h" nogil:
    void ctr_softmax_rows_f32(const float *x, float *out, ct_i rows, ct_i n, int log)
    void ctr_softmax_bwd_rows_f32(const float *gy, const float *y, float *gx, ct_i rows,
                                  ct_i n, int log)
    void ctr_layernorm_fwd_rows_f32(const float *x, float *y, ct_i rows, ct_i D,
                                    const float *w, const float *b, double eps, float *mean,
                                    float *rstd)

cdef extern from "_reduction_simd.h" nogil:
    void ct_softmax_row_f64(const double *x, double *out, ct_i n)
    void ct_log_softmax_row_f64(const double *x, double *out, ct_i n)
    void ct_softmax_bwd_row_f64(const double *gy, const double *y, double *gx, ct_i n)
    void ct_log_softmax_bwd_row_f64(const double *gy, const double *y, double *gx, ct_i n)


cdef inline Py_ssize_t _rowlen(object a):
    """The last-axis length of ``a`` (0 for a 0-d or empty array: the caller's general path)."""
    shape = a.shape
    if len(shape) == 0:
        return 0
    return shape[len(shape) - 1]


cdef void _sm_row(int k, bint log, bint bwd, const char *a, const char *b, char *out,
                  Py_ssize_t rows, Py_ssize_t n) noexcept nogil:
    """``rows`` contiguous rows of n: the softmax family's row kernels (``a`` x, or gy with
    ``b`` = y when ``bwd``), float32 (k = 1) or float64."""
    cdef Py_ssize_t r
    if k == 1:
        if bwd:
            ctr_softmax_bwd_rows_f32(<const float *>a, <const float *>b, <float *>out, rows, n,
                                     log)
        else:
            ctr_softmax_rows_f32(<const float *>a, <float *>out, rows, n, log)
        return
    for r in range(rows):
        if bwd and log:
            ct_log_softmax_bwd_row_f64(<const double *>a + r * n, <const double *>b + r * n,
                                       <double *>out + r * n, n)
        elif bwd:
            ct_softmax_bwd_row_f64(<const double *>a + r * n, <const double *>b + r * n,
                                   <double *>out + r * n, n)
        elif log:
            ct_log_softmax_row_f64(<const double *>a + r * n, <double *>out + r * n, n)
        else:
            ct_softmax_row_f64(<const double *>a + r * n, <double *>out + r * n, n)


cdef int _sm_lines(int k, bint log, bint bwd, const char *a, const char *b, char *out,
                   Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner) noexcept nogil:
    """The row kernels over the ``mid`` axis of (outer, mid, inner) arrays: rows as they are
    when ``inner`` is 1, else the lines of each outer index transposed into contiguous
    scratch rows, one kernel call over them and the results transposed back (the values of
    the same kernel on the moved-axis copy).
    Returns -1 when the scratch cannot be allocated."""
    cdef Py_ssize_t isz = 4 if k == 1 else 8, o, j, m, base
    cdef char *sa
    cdef char *sb
    cdef char *so
    if inner == 1:
        _sm_row(k, log, bwd, a, b, out, outer, mid)
        return 0
    # per outer index: its inner lines transposed into inner contiguous rows, one kernel
    # call over all of them, the results transposed back
    sa = <char *>malloc(3 * mid * inner * isz)
    if sa == NULL:
        return -1
    sb = sa + mid * inner * isz
    so = sb + mid * inner * isz
    for o in range(outer):
        base = o * mid * inner
        if k == 1:
            for m in range(mid):
                for j in range(inner):
                    (<float *>sa)[j * mid + m] = (<const float *>a)[base + m * inner + j]
                    if bwd:
                        (<float *>sb)[j * mid + m] = (<const float *>b)[base + m * inner + j]
        else:
            for m in range(mid):
                for j in range(inner):
                    (<double *>sa)[j * mid + m] = (<const double *>a)[base + m * inner + j]
                    if bwd:
                        (<double *>sb)[j * mid + m] = (<const double *>b)[base + m * inner + j]
        _sm_row(k, log, bwd, sa, sb, so, inner, mid)
        if k == 1:
            for m in range(mid):
                for j in range(inner):
                    (<float *>out)[base + m * inner + j] = (<float *>so)[j * mid + m]
        else:
            for m in range(mid):
                for j in range(inner):
                    (<double *>out)[base + m * inner + j] = (<double *>so)[j * mid + m]
    free(sa)
    return 0


cdef bint _omi_of(object shape, Py_ssize_t ax, Py_ssize_t *outer, Py_ssize_t *mid,
                  Py_ssize_t *inner):
    """(outer, mid, inner) of ``shape`` around axis ``ax`` (wrapped); False when ``ax`` is
    out of range or the mid extent is empty."""
    cdef Py_ssize_t nd = len(shape), i
    if ax < 0:
        ax += nd
    if ax < 0 or ax >= nd:
        return False
    outer[0] = 1
    inner[0] = 1
    for i in range(ax):
        outer[0] *= <Py_ssize_t>shape[i]
    for i in range(ax + 1, nd):
        inner[0] *= <Py_ssize_t>shape[i]
    mid[0] = shape[ax]
    return mid[0] > 0


def softmax_rows(x, bint log, Py_ssize_t ax=-1):
    """softmax (``log``: log_softmax) over axis ``ax`` of ``x`` as a new array, or None
    (see the module docstring; also None for a 0-d or empty array). The row kernels of
    ``reduction.softmax_lastdim`` on one thread: the same values, without its memoryviews
    (another axis: each line through a scratch row)."""
    cdef Py_buffer bx, bo
    cdef Py_ssize_t outer, mid, inner
    cdef int rc
    cdef int k = _get(x, &bx)
    if k == 0:
        return None
    try:
        if bx.len == 0 or not _omi_of(x.shape, ax, &outer, &mid, &inner):
            return None
        out = _empty(x.shape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        rc = _sm_lines(k, log, False, <const char *>bx.buf, NULL, <char *>bo.buf, outer, mid,
                       inner)
        PyBuffer_Release(&bo)
        if rc < 0:
            raise MemoryError()
        return out
    finally:
        PyBuffer_Release(&bx)


def softmax_rows_backward(gy, y, bint log, Py_ssize_t ax=-1):
    """The gradient of ``softmax_rows`` (``log``: log_softmax) over axis ``ax`` given its
    output ``y`` and the output gradient ``gy`` (same shape and dtype), as a new array, or
    None."""
    cdef Py_buffer bg, by, bo
    cdef Py_ssize_t outer, mid, inner
    cdef int rc
    cdef int kg = _get_pair(gy, y, &bg, &by, False)
    if kg == 0:
        return None
    try:
        if bg.len != by.len or bg.len == 0 or gy.shape != y.shape:
            return None
        if not _omi_of(y.shape, ax, &outer, &mid, &inner):
            return None
        out = _empty(y.shape, y.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        rc = _sm_lines(kg, log, True, <const char *>bg.buf, <const char *>by.buf,
                       <char *>bo.buf, outer, mid, inner)
        PyBuffer_Release(&bo)
        if rc < 0:
            raise MemoryError()
        return out
    finally:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&by)


# ---------------------------------------------------------------- layer norm rows
def layernorm_rows(x, Py_ssize_t D, w, b, double eps):
    """Layer norm of a float32 ``x`` over its last ``D`` elements (``w``, ``b``: None or
    C-contiguous float32 (D,) arrays) as ``(y, mean, rstd)`` new arrays, or None (see the
    module docstring; also None for other dtypes, ``D`` not ``x``'s last dim, an empty
    ``x``). The row kernel of ``normalization.layernorm_forward`` on one thread."""
    cdef Py_buffer bx, bw, bb, by, bm, br
    cdef int held_w = 0, held_b = 0
    cdef const float *pw = NULL
    cdef const float *pb = NULL
    cdef Py_ssize_t M
    cdef int kx = _get(x, &bx)
    if kx == 0:
        return None
    if kx != 1:  # float64: the general path
        PyBuffer_Release(&bx)
        return None
    try:
        if D <= 0 or _rowlen(x) != D or bx.len == 0:
            return None
        if w is not None:
            held_w = _get(w, &bw)
            if held_w != 1 or bw.len != D * 4 or w.ndim != 1:
                return None
            pw = <const float *>bw.buf
        if b is not None:
            held_b = _get(b, &bb)
            if held_b != 1 or bb.len != D * 4 or b.ndim != 1:
                return None
            pb = <const float *>bb.buf
        M = bx.len // 4 // D
        y = _empty(x.shape, x.dtype)
        mean = _empty((M,), x.dtype)
        rstd = _empty((M,), x.dtype)
        PyObject_GetBuffer(y, &by, PyBUF_C_CONTIGUOUS)
        PyObject_GetBuffer(mean, &bm, PyBUF_C_CONTIGUOUS)
        PyObject_GetBuffer(rstd, &br, PyBUF_C_CONTIGUOUS)
        ctr_layernorm_fwd_rows_f32(<const float *>bx.buf, <float *>by.buf, M, D, pw, pb, eps,
                                   <float *>bm.buf, <float *>br.buf)
        PyBuffer_Release(&by)
        PyBuffer_Release(&bm)
        PyBuffer_Release(&br)
        return y, mean, rstd
    finally:
        PyBuffer_Release(&bx)
        if held_w:
            PyBuffer_Release(&bw)
        if held_b:
            PyBuffer_Release(&bb)


# ---------------------------------------------------------------- max / min over one dim
cdef void _extreme(const floating *a, floating *v, long long *ix, Py_ssize_t outer,
                   Py_ssize_t mid, Py_ssize_t inner, bint is_max) noexcept nogil:
    cdef Py_ssize_t o, m, j, k
    cdef floating best, x
    for o in range(outer):
        for j in range(inner):
            best = a[o * mid * inner + j]
            k = 0
            if best == best:
                for m in range(1, mid):
                    x = a[(o * mid + m) * inner + j]
                    if x != x:
                        best = x
                        k = m
                        break
                    if (x > best) if is_max else (x < best):
                        best = x
                        k = m
            v[o * inner + j] = best
            ix[o * inner + j] = k


def extreme_small(a, Py_ssize_t ax, bint is_max):
    """The max (``is_max``) or min of a small C-contiguous float32/float64 array over axis
    ``ax`` (in range, non-empty extent) and the int64 index of the first one, torch's rule:
    a NaN wins at the first NaN. ``(values, indices)`` new arrays without axis ``ax``, or None
    (see the module docstring; also None for an empty array or extent)."""
    cdef Py_buffer ba, bv, bi
    cdef Py_ssize_t outer, mid, inner
    cdef int k = _get(a, &ba)
    if k == 0:
        return None
    try:
        shape = a.shape
        if ax < 0 or ba.len == 0 or not _omi_of(shape, ax, &outer, &mid, &inner):
            return None
        oshape = shape[:ax] + shape[ax + 1:]
        vals = _empty(oshape, a.dtype)
        idx = _empty(oshape, _int64)
        PyObject_GetBuffer(vals, &bv, PyBUF_C_CONTIGUOUS)
        PyObject_GetBuffer(idx, &bi, PyBUF_C_CONTIGUOUS)
        if k == 1:
            _extreme(<const float *>ba.buf, <float *>bv.buf, <long long *>bi.buf, outer, mid,
                     inner, is_max)
        else:
            _extreme(<const double *>ba.buf, <double *>bv.buf, <long long *>bi.buf, outer,
                     mid, inner, is_max)
        PyBuffer_Release(&bv)
        PyBuffer_Release(&bi)
        return vals, idx
    finally:
        PyBuffer_Release(&ba)


# ---------------------------------------------------------------- small matrix products
cdef extern from "_smallmm.h" nogil:
    void ct_mm_small_f32(const float *x, ct_i xs0, ct_i xs1, const float *y, ct_i ys0, ct_i ys1,
                         const float *bias, float *out, ct_i M, ct_i K, ct_i N, float *yc)
    void ct_mm_small_f64(const double *x, ct_i xs0, ct_i xs1, const double *y, ct_i ys0,
                         ct_i ys1, const double *bias, double *out, ct_i M, ct_i K, ct_i N,
                         double *yc)

cdef enum:
    # products of at most this many multiply-adds times the item size run here: on one
    # AVX-512 core an (8, 16) @ (16, 16) float32 product takes 0.5 us here against 0.8 us
    # through np.matmul, and from ~16384 float32 multiply-adds (8192 float64) on, OpenBLAS's
    # register-blocked kernels catch up with these plain loops
    MAX_MM_BYTES = 32768

MAX_MM_SMALL_BYTES = MAX_MM_BYTES


cdef inline int _kindmm(object a, Py_buffer *b):
    """Fill ``b`` (strided) from a 2-D or 3-D ndarray ``a``: 1 float32, 2 float64, 0
    (nothing held) otherwise, or when a stride is not a multiple of the item size."""
    cdef int i, k
    if not _acquire(a, b, PyBUF_STRIDES | PyBUF_FORMAT):
        return 0
    k = _float_kind(b) if b.ndim == 2 or b.ndim == 3 else 0
    for i in range(b.ndim if k else 0):
        if b.strides[i] % b.itemsize:
            k = 0
    if k == 0:
        PyBuffer_Release(b)
    return k


def mm_small(x, y, bias=None):
    """``x @ y (+ bias)`` of a float32/float64 (M, K) ``x`` and (K, N) ``y``, or of
    (B, M, K) and (B, K, N) batches (any strides), as a new C-contiguous (M, N) / (B, M, N)
    array, or None: other dtypes or devices, mixed dtypes or ranks, more than
    MAX_MM_BYTES / itemsize multiply-adds in all, an empty product, a ``bias`` (2-D only)
    that is not a C-contiguous (N,) array of the same dtype (``_smallmm.h``: the arithmetic)."""
    cdef Py_buffer bx, by, bb, bo
    cdef int kx, kb, nd
    cdef Py_ssize_t M, K, N, isz, B = 1, bi, sxb = 0, syb = 0
    cdef void *pb = NULL
    cdef void *yc = NULL
    cdef bint has_b = False
    kx = _get_pair(x, y, &bx, &by, True)
    if kx == 0:
        return None
    try:
        nd = bx.ndim
        if by.ndim != nd:
            return None
        if nd == 3:
            B = bx.shape[0]
            if by.shape[0] != B or bias is not None:
                return None
            sxb = bx.strides[0] // bx.itemsize
            syb = by.strides[0] // by.itemsize
        M = bx.shape[nd - 2]
        K = bx.shape[nd - 1]
        N = by.shape[nd - 1]
        if by.shape[nd - 2] != K or B * M * K * N == 0:
            return None
        if B * M * K * N * bx.itemsize > MAX_MM_BYTES:
            return None
        if bias is not None:
            kb = _get(bias, &bb)
            if kb == 0:
                return None
            has_b = True
            if kb != kx or bb.len != N * bx.itemsize or bias.ndim != 1:
                return None
            pb = bb.buf
        isz = bx.itemsize
        oshape = (M, N)
        if nd == 3:
            oshape = (B, M, N)
        out = _empty(oshape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if by.strides[nd - 1] != isz or by.strides[nd - 2] != N * isz:
            yc = malloc(K * N * isz)
            if yc == NULL:
                PyBuffer_Release(&bo)
                raise MemoryError()
        for bi in range(B):
            if kx == 1:
                ct_mm_small_f32(<const float *>bx.buf + bi * sxb, bx.strides[nd - 2] // 4,
                                bx.strides[nd - 1] // 4, <const float *>by.buf + bi * syb,
                                by.strides[nd - 2] // 4, by.strides[nd - 1] // 4,
                                <const float *>pb, <float *>bo.buf + bi * M * N, M, K, N,
                                <float *>yc)
            else:
                ct_mm_small_f64(<const double *>bx.buf + bi * sxb, bx.strides[nd - 2] // 8,
                                bx.strides[nd - 1] // 8, <const double *>by.buf + bi * syb,
                                by.strides[nd - 2] // 8, by.strides[nd - 1] // 8,
                                <const double *>pb, <double *>bo.buf + bi * M * N, M, K, N,
                                <double *>yc)
        free(yc)
        PyBuffer_Release(&bo)
        return out
    finally:
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)
        if has_b:
            PyBuffer_Release(&bb)


# ---------------------------------------------------------------- cat / stack
cdef enum:
    MAX_JOIN_BYTES = 262144  # larger joins take ops.join's general path (threaded row copies)


def join_small(seq, Py_ssize_t dim, tensor_cls, bint grad_on, bint stack):
    """``cat(seq, dim)`` (``stack``: ``stack(seq, dim)``) of ctorch tensors as a new NumPy
    array, or None when the general path must run: ``seq`` not a list or tuple of at most 32
    plain ``tensor_cls`` tensors holding C-contiguous NumPy arrays of one dtype and rank >= 1,
    an empty part, ``dim`` out of range, shapes that do not match, a part needing grad while
    ``grad_on``, or more than MAX_JOIN_BYTES in all. The general path raises torch's errors.
    Each part is copied as one block per outer index, as ``nnmisc.cat_rows``."""
    cdef Py_ssize_t n, i, j, nd, ax, outer, inner, total, off, cat_len
    cdef Py_ssize_t[32] chunk
    cdef Py_buffer[32] bp
    cdef Py_buffer bo
    cdef Py_ssize_t held = 0
    cdef char *dst
    if type(seq) is not list and type(seq) is not tuple:
        return None
    n = len(seq)
    if n == 0 or n > 32:
        return None
    try:
        for i in range(n):
            t = seq[i]
            if type(t) is not tensor_cls or (grad_on and t._rg):
                return None
            a = t._a
            if type(a) is not _ndarray:
                return None
            if i == 0:
                dt = a.dtype
                shape0 = a.shape
                nd = len(shape0)
                if nd == 0:
                    return None
                ax = dim + (nd + 1 if stack else nd) if dim < 0 else dim
                if ax < 0 or ax > nd or (ax == nd and not stack):
                    return None
                inner = 1
                for j in range(ax + (0 if stack else 1), nd):
                    inner *= <Py_ssize_t>shape0[j]
                outer = 1
                for j in range(ax):
                    outer *= <Py_ssize_t>shape0[j]
                total = 0
                cat_len = 0
            else:
                if a.dtype != dt:
                    return None
                sh = a.shape
                if stack:
                    if sh != shape0:
                        return None
                elif len(sh) != nd or sh[:ax] != shape0[:ax] or sh[ax + 1:] != shape0[ax + 1:]:
                    return None
            try:
                PyObject_GetBuffer(a, &bp[i], PyBUF_C_CONTIGUOUS)
            except (BufferError, ValueError, TypeError):
                return None
            held = i + 1
            if bp[i].len == 0:
                return None
            chunk[i] = bp[i].len // outer
            total += chunk[i]
            if not stack:
                cat_len += <Py_ssize_t>a.shape[ax]
        if total * outer > MAX_JOIN_BYTES:
            return None
        if stack:
            oshape = shape0[:ax] + (n,) + shape0[ax:]
        else:
            oshape = list(shape0)
            oshape[ax] = cat_len
        out = _empty(oshape, dt)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        dst = <char *>bo.buf
        off = 0
        for i in range(n):
            for j in range(outer):
                memcpy(dst + j * total + off, <char *>bp[i].buf + j * chunk[i], chunk[i])
            off += chunk[i]
        PyBuffer_Release(&bo)
        return out
    finally:
        for i in range(held):
            PyBuffer_Release(&bp[i])


# ---------------------------------------------------------------- fused multiply-add
def fma_apply(double a, const floating[::1] b, const floating[::1] c, floating[::1] out):
    """out = a * b + c with one rounding each, in b's float32/float64 (C's ``fmaf``/``fma``:
    torch's linspace/arange values; ``a`` is exact in the items' type)."""
    cdef Py_ssize_t i, n = b.shape[0]
    if c.shape[0] != n or out.shape[0] != n:
        raise ValueError("fma_apply: b, c and out differ in length")
    with nogil:
        for i in range(n):
            if floating is float:
                out[i] = fmaf(<float>a, b[i], c[i])
            else:
                out[i] = fma(a, b[i], c[i])


# ---------------------------------------------------------------- tensor(list)
cdef object _bool_dt = np.dtype(np.bool_)


def list_array(data, fdtype):
    """A new 1-D array of a non-empty flat list of Python numbers with torch's dtype
    inference: all ``bool`` -> bool; ``int``s (not bool) -> int64; ``float``s, possibly with
    ``int``s -> ``fdtype`` (float32 or float64: the default dtype), each value rounded once
    from its double (or its int's correctly rounded double, as NumPy's float64 parse), past
    float32's range to +-inf silently as torch; or None: other elements (bools mixed with
    numbers, complex, NumPy scalars, tensors, nested lists), an int past int64, more than
    MAX_SMALL elements."""
    cdef Py_ssize_t n, i
    cdef int kind = 0  # 1 bool, 2 int, 3 float
    cdef int ovf
    cdef Py_buffer bo
    cdef object v
    if type(data) is not list:
        return None
    n = len(data)
    if n == 0 or n > MAX_SMALL:
        return None
    for i in range(n):
        v = data[i]
        if type(v) is float:
            if kind == 1:
                return None
            kind = 3
        elif type(v) is int:
            if kind == 1:
                return None
            PyLong_AsLongLongAndOverflow(v, &ovf)
            if ovf:
                return None
            if kind == 0:
                kind = 2
        elif type(v) is bool:
            if kind > 1:
                return None
            kind = 1
        else:
            return None
    if kind == 1:
        out = _empty((n,), _bool_dt)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        for i in range(n):
            (<char *>bo.buf)[i] = data[i] is True
    elif kind == 2:
        out = _empty((n,), _int64)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        for i in range(n):
            (<long long *>bo.buf)[i] = PyLong_AsLongLong(data[i])
    else:
        out = _empty((n,), fdtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
        if _float_kind(&bo) == 1:
            for i in range(n):
                (<float *>bo.buf)[i] = _to_f32(PyFloat_AsDouble(data[i]))
        elif _float_kind(&bo) == 2:
            for i in range(n):
                (<double *>bo.buf)[i] = PyFloat_AsDouble(data[i])
        else:
            PyBuffer_Release(&bo)
            return None
    PyBuffer_Release(&bo)
    return out


cdef inline float _to_f32(double d) noexcept:
    """``d`` rounded to float32 as IEEE (and NumPy's cast) rounds it: +-inf from FLT_MAX +
    half an ulp on (spelled out: a C cast of an out-of-range value is undefined)."""
    if d >= 3.4028235677973366e38:
        return INFINITY
    if d <= -3.4028235677973366e38:
        return -INFINITY
    return <float>d


# ---------------------------------------------------------------- cross-entropy rows
def ce_rows_small(x, t, long long ignore_index):
    """The per-row losses ``-log_softmax(x)[i, t[i]]`` (0 where ``t[i] == ignore_index``) of
    small (M, C) C-contiguous float32/float64 logits and C-contiguous int64 targets (M,),
    with the row kernels ``loss.cross_entropy_forward`` uses (same bits), and the number of
    rows not ignored: ``(rows, count)``; or None: other arrays or shapes, M or C zero, a
    target outside [0, C) that is not ``ignore_index`` (the general path raises)."""
    cdef Py_buffer bx, bt, bo
    cdef Py_ssize_t M, C, i, count = 0
    cdef long long tv
    cdef const long long *tp
    cdef char *lp
    cdef int k = _get(x, &bx)
    if k == 0:
        return None
    try:
        if bx.ndim != 2 or bx.shape[0] == 0 or bx.shape[1] == 0:
            return None
        M = bx.shape[0]
        C = bx.shape[1]
        if not _acquire(t, &bt, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT):
            return None
        try:
            if _int_kind(&bt) != 8 or bt.ndim != 1 or bt.shape[0] != M:
                return None
            tp = <const long long *>bt.buf
            for i in range(M):
                tv = tp[i]
                if tv != ignore_index:
                    if tv < 0 or tv >= C:
                        return None
                    count += 1
            lp = <char *>malloc(bx.len)
            if lp == NULL:
                raise MemoryError()
            _sm_row(k, True, False, <const char *>bx.buf, NULL, lp, M, C)
            rows = _empty((M,), x.dtype)
            PyObject_GetBuffer(rows, &bo, PyBUF_C_CONTIGUOUS)
            for i in range(M):
                tv = tp[i]
                if k == 1:
                    (<float *>bo.buf)[i] = 0.0 if tv == ignore_index else -(<float *>lp)[i * C + tv]
                else:
                    (<double *>bo.buf)[i] = (0.0 if tv == ignore_index
                                             else -(<double *>lp)[i * C + tv])
            PyBuffer_Release(&bo)
            free(lp)
            return rows, count
        finally:
            PyBuffer_Release(&bt)
    finally:
        PyBuffer_Release(&bx)


# ---------------------------------------------------------------- var / std / 2-norm
cdef void _moment_lines(const floating *x, floating *out, Py_ssize_t outer, Py_ssize_t mid,
                        Py_ssize_t inner, int op, double denom) noexcept nogil:
    """Per (outer, :, inner) line of ``x``, accumulated in float64 and rounded once: op 0
    the variance (the corrected two-pass sum of ``moments._two_pass``) over ``denom``, op 1
    its square root, op 2 the 2-norm."""
    cdef Py_ssize_t o, i, m
    cdef const floating *p
    cdef double s, mu, d, c, ss
    for o in range(outer):
        for i in range(inner):
            p = x + o * mid * inner + i
            ss = 0.0
            if op == 2:
                for m in range(mid):
                    d = p[m * inner]
                    ss += d * d
                out[o * inner + i] = <floating>sqrt(ss)
                continue
            s = 0.0
            for m in range(mid):
                s += p[m * inner]
            mu = s / mid
            c = 0.0
            for m in range(mid):
                d = p[m * inner] - mu
                c += d
                ss += d * d
            ss = ss - c * c / mid
            if ss < 0.0:
                ss = 0.0
            ss = ss / denom
            out[o * inner + i] = <floating>(sqrt(ss) if op == 1 else ss)


def moments_small(a, tuple axes, int op, double correction, bint keepdim):
    """op 0 ``var``, 1 ``std`` (with ``correction``), 2 the 2-norm of a small C-contiguous
    float32/float64 NumPy array over ``axes`` (sorted, in range: one axis or all of them)
    as a new array of its dtype, float64 accumulation; or None: another array, an empty
    one, other axes, a divisor ``n - correction`` that is not positive (the general path
    warns as torch)."""
    cdef Py_buffer ba, bo
    cdef Py_ssize_t outer, mid, inner, nd, ax
    cdef int k = _get(a, &ba)
    if k == 0:
        return None
    try:
        nd = ba.ndim
        shape = a.shape
        if ba.len == 0:
            return None
        if len(axes) == nd:
            outer = 1
            inner = 1
            mid = ba.len // ba.itemsize
            oshape = (1,) * nd if keepdim else ()
        elif len(axes) == 1:
            ax = axes[0]
            if not _omi_of(shape, ax, &outer, &mid, &inner):
                return None
            if keepdim:
                oshape = shape[:ax] + (1,) + shape[ax + 1:]
            else:
                oshape = shape[:ax] + shape[ax + 1:]
        else:
            return None
        if op != 2 and mid - correction <= 0:
            return None
        out = _empty(oshape, a.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if k == 1:
            _moment_lines(<const float *>ba.buf, <float *>bo.buf, outer, mid, inner, op,
                          mid - correction)
        else:
            _moment_lines(<const double *>ba.buf, <double *>bo.buf, outer, mid, inner, op,
                          mid - correction)
        PyBuffer_Release(&bo)
        return out
    finally:
        PyBuffer_Release(&ba)


# ---------------------------------------------------------------- sum / mean
cdef floating _pairwise(const floating *a, Py_ssize_t n) noexcept nogil:
    """NumPy's pairwise sum of ``n`` contiguous items (``loops_utils.h``: eight partial sums
    per block of at most 128, halves above), in the items' own precision: ``np.add.reduce``'s
    bits for a contiguous reduction."""
    cdef Py_ssize_t i, n2
    cdef floating res
    cdef floating r0, r1, r2, r3, r4, r5, r6, r7
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[i]
        return res
    if n <= 128:
        r0 = a[0]
        r1 = a[1]
        r2 = a[2]
        r3 = a[3]
        r4 = a[4]
        r5 = a[5]
        r6 = a[6]
        r7 = a[7]
        i = 8
        while i < n - (n % 8):
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(a, n2) + _pairwise(a + n2, n - n2)


def sum_small(a, bint last, bint keepdim, double div):
    """The sum of a small C-contiguous float32/float64 NumPy array over all its axes, or
    (``last``) over its last axis, divided by ``div`` (1 for a sum, n for a mean) in its
    dtype, as a new array: the bits of ``np.add.reduce`` (the identity 0 plus the pairwise
    sum) and of ``np.true_divide``; or None (see the module docstring; also a 0-d or empty
    array)."""
    cdef Py_buffer ba, bo
    cdef Py_ssize_t n, rows, r
    cdef float s32
    cdef double s64
    cdef int k = _get(a, &ba)
    if k == 0:
        return None
    try:
        if ba.ndim == 0 or ba.len == 0:
            return None
        shape = a.shape
        if last:
            n = shape[ba.ndim - 1]
            oshape = shape[:-1] + (1,) if keepdim else shape[:-1]
        else:
            n = ba.len // ba.itemsize
            oshape = (1,) * ba.ndim if keepdim else ()
        rows = ba.len // ba.itemsize // n
        out = _empty(oshape, a.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        for r in range(rows):
            if k == 1:
                s32 = <float>0.0 + _pairwise(<const float *>ba.buf + r * n, n)
                (<float *>bo.buf)[r] = s32 if div == 1.0 else s32 / <float>div
            else:
                s64 = 0.0 + _pairwise(<const double *>ba.buf + r * n, n)
                (<double *>bo.buf)[r] = s64 if div == 1.0 else s64 / div
        PyBuffer_Release(&bo)
        return out
    finally:
        PyBuffer_Release(&ba)


# ---------------------------------------------------------------- cumsum
cdef void _cumsum_lines(const floating *x, floating *out, Py_ssize_t outer, Py_ssize_t mid,
                        Py_ssize_t inner) noexcept nogil:
    cdef Py_ssize_t o, i, m, at
    cdef double acc
    for o in range(outer):
        for i in range(inner):
            acc = 0.0
            for m in range(mid):
                at = (o * mid + m) * inner + i
                acc += x[at]
                out[at] = <floating>acc


def cumsum_small(a, Py_ssize_t ax):
    """``cumsum`` of a small C-contiguous float32/float64 NumPy array along axis ``ax`` (in
    range) as a new array of its dtype, the running sum in float64 rounded per element (the
    bits of ``scan._scan``'s float64 NumPy cumsum); or None (see the module docstring; also
    a 0-d or empty array)."""
    cdef Py_buffer ba, bo
    cdef Py_ssize_t outer, mid, inner
    cdef int k = _get(a, &ba)
    if k == 0:
        return None
    try:
        if ba.ndim == 0 or ba.len == 0 or not _omi_of(a.shape, ax, &outer, &mid, &inner):
            return None
        out = _empty(a.shape, a.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if k == 1:
            _cumsum_lines(<const float *>ba.buf, <float *>bo.buf, outer, mid, inner)
        else:
            _cumsum_lines(<const double *>ba.buf, <double *>bo.buf, outer, mid, inner)
        PyBuffer_Release(&bo)
        return out
    finally:
        PyBuffer_Release(&ba)


# ---------------------------------------------------------------- sort / topk
cdef enum:
    MAX_SORT = 64  # longest slice the insertion sort below takes

ctypedef fused sortable:
    float
    double
    long long
    int


cdef inline bint _before(sortable a, sortable b, bint desc) noexcept nogil:
    """Whether ``a`` sorts strictly before ``b``: NaN is the largest value, as torch has it."""
    if desc:
        return a > b or (a != a and b == b)
    return a < b or (b != b and a == a)


cdef void _sort_lines(const sortable *x, sortable *v, long long *ix, Py_ssize_t outer,
                      Py_ssize_t mid, Py_ssize_t inner, Py_ssize_t k, bint desc) noexcept nogil:
    """The first ``k`` of each (outer, :, inner) slice of ``x`` in stable sorted order: their
    values to ``v`` and positions to ``ix`` (both (outer, k, inner))."""
    cdef Py_ssize_t o, i, m, j
    cdef long long[MAX_SORT] order
    cdef const sortable *base
    cdef sortable key
    for o in range(outer):
        for i in range(inner):
            base = x + o * mid * inner + i
            for m in range(mid):
                key = base[m * inner]
                j = m
                while j > 0 and _before(key, base[order[j - 1] * inner], desc):
                    order[j] = order[j - 1]
                    j -= 1
                order[j] = m
            for m in range(k):
                v[(o * k + m) * inner + i] = base[order[m] * inner]
                ix[(o * k + m) * inner + i] = order[m]


cdef inline int _sort_kind(Py_buffer *b) noexcept:
    """1 float32, 2 float64, 3 int64, 4 int32 (native) items in held buffer ``b``, else 0."""
    cdef int k = _float_kind(b)
    if k:
        return k
    k = _int_kind(b)
    return 3 if k == 8 else (4 if k == 4 else 0)


def sort_small(a, Py_ssize_t ax, bint descending, Py_ssize_t k):
    """The first ``k`` values of a stable sort of a small C-contiguous float32/float64/int64/
    int32 NumPy array along axis ``ax`` (in range; NaN largest, as torch) and their int64
    positions, ``(values, indices)`` new arrays with extent ``k`` at ``ax``; or None: another
    array, an empty or 0-d one, a slice longer than MAX_SORT, ``k`` outside [0, extent],
    more than MAX_SMALL elements."""
    cdef Py_buffer ba, bv, bi
    cdef Py_ssize_t outer, mid, inner
    cdef int kind
    if not _acquire(a, &ba, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT):
        return None
    try:
        kind = _sort_kind(&ba)
        if kind == 0 or ba.len == 0 or ba.len > MAX_SMALL * ba.itemsize or ba.ndim == 0:
            return None
        shape = a.shape
        if ax < 0 or not _omi_of(shape, ax, &outer, &mid, &inner):
            return None
        if mid > MAX_SORT or k < 0 or k > mid:
            return None
        oshape = shape[:ax] + (k,) + shape[ax + 1:]
        vals = _empty(oshape, a.dtype)
        idx = _empty(oshape, _int64)
        PyObject_GetBuffer(vals, &bv, PyBUF_C_CONTIGUOUS)
        PyObject_GetBuffer(idx, &bi, PyBUF_C_CONTIGUOUS)
        if kind == 1:
            _sort_lines(<const float *>ba.buf, <float *>bv.buf, <long long *>bi.buf, outer,
                        mid, inner, k, descending)
        elif kind == 2:
            _sort_lines(<const double *>ba.buf, <double *>bv.buf, <long long *>bi.buf, outer,
                        mid, inner, k, descending)
        elif kind == 3:
            _sort_lines(<const long long *>ba.buf, <long long *>bv.buf, <long long *>bi.buf,
                        outer, mid, inner, k, descending)
        else:
            _sort_lines(<const int *>ba.buf, <int *>bv.buf, <long long *>bi.buf, outer,
                        mid, inner, k, descending)
        PyBuffer_Release(&bv)
        PyBuffer_Release(&bi)
        return vals, idx
    finally:
        PyBuffer_Release(&ba)


# ---------------------------------------------------------------- gather / index_select
cdef inline void _next_index(Py_ssize_t nd, Py_ssize_t *cnt, const Py_ssize_t *shape,
                             Py_ssize_t *o1, const Py_ssize_t *s1, Py_ssize_t *o2,
                             const Py_ssize_t *s2, Py_ssize_t *o3,
                             const Py_ssize_t *s3) noexcept nogil:
    """Advance the C-order multi-index ``cnt`` over ``shape`` by one, keeping the byte offsets
    ``o1``, ``o2`` (and ``o3`` unless NULL) of arrays with strides ``s1``, ``s2``, ``s3``."""
    cdef Py_ssize_t d = nd - 1
    while d >= 0:
        cnt[d] += 1
        o1[0] += s1[d]
        o2[0] += s2[d]
        if o3 != NULL:
            o3[0] += s3[d]
        if cnt[d] < shape[d]:
            return
        o1[0] -= s1[d] * shape[d]
        o2[0] -= s2[d] * shape[d]
        if o3 != NULL:
            o3[0] -= s3[d] * shape[d]
        cnt[d] = 0
        d -= 1


cdef inline void _copy_item(char *dst, const char *src, Py_ssize_t isz) noexcept nogil:
    if isz == 4:
        memcpy(dst, src, 4)
    elif isz == 8:
        memcpy(dst, src, 8)
    elif isz == 2:
        memcpy(dst, src, 2)
    elif isz == 1:
        dst[0] = src[0]
    else:
        memcpy(dst, src, 16)


def take_small(x, index, Py_ssize_t dim, bint gather, bint int64_only):
    """``gather(x, dim, index)`` (``gather``: ``index`` of x's rank, each output element
    ``x[i with i[dim] -> index[i]]``) or ``index_select(x, dim, index)`` (a 1-D ``index``)
    of a small NumPy array ``x`` (a numeric dtype, any strides, rank 1 to 8, ``dim`` in
    range) as a new C-contiguous array, or None: not NumPy, an index that is not int64 (or
    int32 unless ``int64_only``), an index shape the op refuses, an index outside
    ``[0, x.shape[dim])``, more than MAX_SMALL output elements. The general paths raise
    torch's errors for what this refuses."""
    cdef Py_buffer bx, bi, bo
    cdef Py_ssize_t nd, d, total, isz, ik, lim, v, off = 0, ioff = 0, xsd, _j
    cdef Py_ssize_t[8] oshape
    cdef Py_ssize_t[8] xs
    cdef Py_ssize_t[8] ist
    cdef Py_ssize_t[8] cnt
    cdef char *dst
    cdef const char *xb
    cdef const char *ib
    cdef bint bad = False
    if not _acquire(x, &bx, PyBUF_STRIDES | PyBUF_FORMAT):
        return None
    try:
        nd = bx.ndim
        isz = bx.itemsize
        if nd < 1 or nd > 8 or dim < 0 or dim >= nd or x.dtype.hasobject:
            return None
        if not (isz == 1 or isz == 2 or isz == 4 or isz == 8 or isz == 16):
            return None
        if not _acquire(index, &bi, PyBUF_STRIDES | PyBUF_FORMAT):
            return None
        try:
            ik = _int_kind(&bi)
            if ik == 0 or (int64_only and ik != 8):
                return None
            if gather:
                if bi.ndim != nd:
                    return None
                for d in range(nd):
                    oshape[d] = bi.shape[d]
                    ist[d] = bi.strides[d]
                    if d != dim and oshape[d] > bx.shape[d]:
                        return None
            else:
                if bi.ndim != 1:
                    return None
                for d in range(nd):
                    oshape[d] = bx.shape[d]
                    ist[d] = 0
                oshape[dim] = bi.shape[0]
                ist[dim] = bi.strides[0]
            total = 1
            for d in range(nd):
                total *= oshape[d]
                xs[d] = bx.strides[d]
                cnt[d] = 0
            if total > MAX_SMALL:
                return None
            lim = bx.shape[dim]
            xsd = xs[dim]
            xs[dim] = 0
            out = _empty(tuple([oshape[d] for d in range(nd)]), x.dtype)
            PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
            dst = <char *>bo.buf
            xb = <const char *>bx.buf
            ib = <const char *>bi.buf
            for _j in range(total):
                if ik == 8:
                    v = <Py_ssize_t>(<const long long *>(ib + ioff))[0]
                else:
                    v = (<const int *>(ib + ioff))[0]
                if v < 0 or v >= lim:
                    bad = True
                    break
                _copy_item(dst, xb + off + v * xsd, isz)
                dst += isz
                _next_index(nd, cnt, oshape, &off, xs, &ioff, ist, NULL, NULL)
            PyBuffer_Release(&bo)
            return None if bad else out
        finally:
            PyBuffer_Release(&bi)
    finally:
        PyBuffer_Release(&bx)


def gather_backward_small(g, index, Py_ssize_t dim, tuple shape):
    """The gradient of ``gather(x, dim, index)`` for a small float32/float64 ``g`` (index's
    shape, any strides): a new C-contiguous array of ``shape`` (x's, rank 1 to 8) holding
    zeros plus each ``g`` element at its gathered place, added in the index's C order as
    ``np.add.at`` adds them (the same bits); or None: another dtype or device, an index
    that is not int64 or does not fit (the forward checked it), more than MAX_SMALL
    elements."""
    cdef Py_buffer bg, bi, bo
    cdef Py_ssize_t nd, d, total, lim, v, goff = 0, ioff = 0, xsd, _j, outn = 1
    cdef Py_ssize_t[8] ishape
    cdef Py_ssize_t[8] xs
    cdef Py_ssize_t[8] ist
    cdef Py_ssize_t[8] gst
    cdef Py_ssize_t[8] cnt
    cdef Py_ssize_t off = 0, isz
    cdef char *ob
    cdef const char *gb
    cdef const char *ib
    cdef int k
    if not _acquire(g, &bg, PyBUF_STRIDES | PyBUF_FORMAT):
        return None
    try:
        k = _float_kind(&bg)
        nd = bg.ndim
        if k == 0 or nd < 1 or nd > 8 or len(shape) != nd or dim < 0 or dim >= nd:
            return None
        if not _acquire(index, &bi, PyBUF_STRIDES | PyBUF_FORMAT):
            return None
        try:
            if _int_kind(&bi) != 8 or bi.ndim != nd:
                return None
            total = 1
            for d in range(nd):
                ishape[d] = bi.shape[d]
                if bg.shape[d] != ishape[d] or (d != dim and ishape[d] > <Py_ssize_t>shape[d]):
                    return None
                ist[d] = bi.strides[d]
                gst[d] = bg.strides[d]
                total *= ishape[d]
                outn *= <Py_ssize_t>shape[d]
                cnt[d] = 0
            if total > MAX_SMALL or outn > MAX_SMALL:
                return None
            isz = bg.itemsize
            xs[nd - 1] = isz
            for d in range(nd - 2, -1, -1):
                xs[d] = xs[d + 1] * <Py_ssize_t>shape[d + 1]
            lim = shape[dim]
            xsd = xs[dim]
            xs[dim] = 0
            out = np.zeros(shape, g.dtype)
            PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
            ob = <char *>bo.buf
            gb = <const char *>bg.buf
            ib = <const char *>bi.buf
            for _j in range(total):
                v = <Py_ssize_t>(<const long long *>(ib + ioff))[0]
                if v < 0 or v >= lim:
                    PyBuffer_Release(&bo)
                    return None
                if k == 1:
                    (<float *>(ob + off + v * xsd))[0] += (<const float *>(gb + goff))[0]
                else:
                    (<double *>(ob + off + v * xsd))[0] += (<const double *>(gb + goff))[0]
                _next_index(nd, cnt, ishape, &off, xs, &ioff, ist, &goff, gst)
            PyBuffer_Release(&bo)
            return out
        finally:
            PyBuffer_Release(&bi)
    finally:
        PyBuffer_Release(&bg)


# ---------------------------------------------------------------- basic indices
cdef object _ellipsis = Ellipsis


cdef inline bint _basic_one(object v):
    cdef object st
    if type(v) is int or v is None or v is _ellipsis:
        return True
    if type(v) is slice:
        st = (<slice>v).step
        if st is not None and (type(st) is not int or st <= 0):
            return False
        return ((<slice>v).start is None or type((<slice>v).start) is int) and (
            (<slice>v).stop is None or type((<slice>v).stop) is int
        )
    return False


def basic_index(idx):
    """Whether ``idx`` (a subscript) holds only what NumPy and torch read alike as a basic
    index: Python ints (not bools), slices of int/None parts whose step is None or positive,
    None and ``...``; a tuple of those, or one of them. Anything else (tensors, lists,
    bools, negative steps: torch raises) goes to ``ops.subscript``'s general conversion."""
    cdef Py_ssize_t i, n
    if type(idx) is tuple:
        n = len(idx)
        for i in range(n):
            if not _basic_one(idx[i]):
                return False
        return True
    return _basic_one(idx)


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
    if not args:
        return None  # x.view(): torch's "missing size" error comes from the general path
    args = _int_seq(args)
    if args is None:
        return None
    n = len(args)
    for i in range(n):
        s = args[i]
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


cdef tuple _int_seq(tuple args):
    """``args`` as one tuple of Python ints, spelled as separate ints or as one tuple/list
    (or Size) of them, or None for any other spelling."""
    cdef object o
    if len(args) == 1 and type(args[0]) is not int:
        o = args[0]
        if type(o) is not tuple:
            if not isinstance(o, (tuple, list)):
                return None
            o = tuple(o)
        args = <tuple>o
    for o in args:
        if type(o) is not int:
            return None
    return args


def plain_shape(tuple args):
    """``zeros(*args)``'s shape when given as non-negative Python ints (separately or as one
    tuple/list/Size), else None (the caller's general path converts or raises)."""
    cdef tuple a = _int_seq(args)
    if a is None:
        return None
    for o in a:
        if <Py_ssize_t>o < 0:
            return None
    return a


def perm_dims(tuple args, Py_ssize_t nd):
    """``permute(*args)``'s order for a tensor of ``nd`` dims, negative dims wrapped, when it
    is a permutation of plain ints; None otherwise (the caller's general path raises)."""
    cdef tuple a = _int_seq(args)
    cdef Py_ssize_t i, d, n
    cdef unsigned long long seen = 0
    if a is None:
        return None
    n = len(a)
    if n != nd or nd > 64:
        return None
    out = []
    for i in range(n):
        d = a[i]
        if d < 0:
            d += nd
        if d < 0 or d >= nd or (seen >> d) & 1:
            return None
        seen |= 1ULL << d
        out.append(d)
    return tuple(out)


def expand_shape(tuple args, tuple shape):
    """``expand(*args)``'s target shape for an array of ``shape`` (sizes as ints or one
    sequence, -1 keeping an existing size), or None where it is not a plain valid expand
    (the caller's general path resolves it or raises torch's error)."""
    cdef tuple a = _int_seq(args)
    cdef Py_ssize_t i, n, nd, lead, s, cur
    if a is None:
        return None
    n = len(a)
    nd = len(shape)
    lead = n - nd
    if lead < 0:
        return None
    out = []
    for i in range(n):
        s = a[i]
        if i < lead:
            if s < 0:
                return None
        else:
            cur = shape[i - lead]
            if s == -1:
                s = cur
            elif s != cur and cur != 1:
                return None
            if s < 0:
                return None
        out.append(s)
    return tuple(out)


def expand_view(a, tuple target):
    """The expand of a C-contiguous, non-empty NumPy array ``a`` to ``target`` (what
    ``expand_shape`` gave) as a view, built directly (0.7 us where ``np.broadcast_to`` takes
    2.4), or None for other arrays. Read-only when an element repeats (a dim of 1 grown, as
    torch refuses in-place writes there); writable otherwise, as torch's view is."""
    cdef Py_ssize_t i, n, nd, lead
    cdef bint repeats = False
    if type(a) is not _ndarray or a.size == 0 or not a.flags.c_contiguous:
        return None
    shape = a.shape
    n = len(target)
    nd = len(shape)
    lead = n - nd
    st = a.strides
    strides = []
    for i in range(n):
        if i < lead or (shape[i - lead] == 1 and target[i] != 1):
            strides.append(0)
            repeats = repeats or target[i] > 1
        else:
            strides.append(st[i - lead])
    r = _ndarray(target, a.dtype, a, 0, tuple(strides))
    if repeats or not a.flags.writeable:
        r.setflags(write=False)  # (half the cost of ``r.flags.writeable = False``)
    return r


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
    void ct_mt_race_f32(ct_mt_state *st, const float *p, long long rows, long long n,
                        long long *out)
    void ct_mt_race_f64(ct_mt_state *st, const double *p, long long rows, long long n,
                        long long *out)


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


def mt_race(size_t state_address, p):
    """torch's one-sample multinomial of the rows of a C-contiguous 2-D float32/float64
    ``p`` (validated: finite, non-negative), drawn from the mt19937 engine at
    ``state_address`` (hold its lock): a new (rows, 1) int64 array."""
    cdef const float[:, ::1] p32
    cdef const double[:, ::1] p64
    cdef ct_mt_state *st = <ct_mt_state *>state_address
    out = _empty((p.shape[0], 1), _int64)
    cdef long long[:, ::1] o = out
    if p.shape[0] == 0 or p.shape[1] == 0:
        return out
    if p.dtype == np.float32:
        p32 = p
        with nogil:
            ct_mt_race_f32(st, &p32[0, 0], p32.shape[0], p32.shape[1], &o[0, 0])
    else:
        p64 = p
        with nogil:
            ct_mt_race_f64(st, &p64[0, 0], p64.shape[0], p64.shape[1], &o[0, 0])
    return out


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
