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


def unary(int op, x, double a=0.0, double b=0.0):
    """``f(x)`` for UN_* op ``op`` as a new array, or None (see the module docstring)."""
    cdef Py_buffer bx, bo
    cdef int k
    cdef Py_ssize_t n
    if op < 0 or op >= CT_UN_COUNT:
        return None
    k = _get(x, &bx)
    if k == 0:
        return None
    try:
        out = _empty(x.shape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        _bounds(op, &a, &b)
        if k == 1:
            n = bx.len // 4
            ct_unary_f32(op, <const float *>bx.buf, <float *>bo.buf, n, <float>a, <float>b)
        else:
            n = bx.len // 8
            ct_unary_f64(op, <const double *>bx.buf, <double *>bo.buf, n, a, b)
        PyBuffer_Release(&bo)
    finally:
        PyBuffer_Release(&bx)
    return out


def unary_backward(int op, gy, x, y, double a=0.0, double b=0.0):
    """``gy * f'(x)`` for UN_* op ``op`` (``y`` its forward output) as a new array, or None
    (see the module docstring; also None when the op has no backward kernel)."""
    cdef Py_buffer bg, bx, by, bo
    cdef int kg, kx, ky
    cdef Py_ssize_t n
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
        out = _empty(gy.shape, gy.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        _bounds(op, &a, &b)
        if kg == 1:
            n = bg.len // 4
            ct_unary_backward_f32(op, <const float *>bg.buf, <const float *>bx.buf,
                                  <const float *>by.buf, <float *>bo.buf, n,
                                  <float>a, <float>b)
        else:
            n = bg.len // 8
            ct_unary_backward_f64(op, <const double *>bg.buf, <const double *>bx.buf,
                                  <const double *>by.buf, <double *>bo.buf, n, a, b)
        PyBuffer_Release(&bo)
    finally:
        PyBuffer_Release(&bg)
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)
    return out


def binary(int op, x, y):
    """``x op y`` for BIN_* op ``op`` on two arrays of one shape, as a new array, or None
    (see the module docstring)."""
    cdef Py_buffer bx, by, bo
    cdef int kx, ky
    cdef Py_ssize_t n
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
        out = _empty(shape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if kx == 1:
            n = bx.len // 4
            ct_binary_f32(op, <const float *>bx.buf, <const float *>by.buf, <float *>bo.buf, n)
        else:
            n = bx.len // 8
            ct_binary_f64(op, <const double *>bx.buf, <const double *>by.buf,
                          <double *>bo.buf, n)
        PyBuffer_Release(&bo)
    finally:
        PyBuffer_Release(&bx)
        PyBuffer_Release(&by)
    return out


def binary_scalar(int op, x, double s, bint reverse=False):
    """``x op s`` (``s op x`` when ``reverse``) for BIN_* op ``op`` as a new array, or None
    (see the module docstring)."""
    cdef Py_buffer bx, bo
    cdef int kx
    cdef Py_ssize_t n
    if op < 0 or op >= CT_BIN_COUNT:
        return None
    kx = _get(x, &bx)
    if kx == 0:
        return None
    try:
        out = _empty(x.shape, x.dtype)
        PyObject_GetBuffer(out, &bo, PyBUF_C_CONTIGUOUS)
        if kx == 1:
            n = bx.len // 4
            ct_binary_scalar_f32(op, <const float *>bx.buf, <float>s, <float *>bo.buf, n,
                                 reverse)
        else:
            n = bx.len // 8
            ct_binary_scalar_f64(op, <const double *>bx.buf, s, <double *>bo.buf, n, reverse)
        PyBuffer_Release(&bo)
    finally:
        PyBuffer_Release(&bx)
    return out


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
