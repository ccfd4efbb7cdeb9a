# cython: language_level=3
"""ctorch CPU kernels: reduction family (see docs/kernels.md).

Axis reductions view the input as (outer, mid, inner) and reduce the middle axis.

Determinism: sums are taken over 16 explicit lanes within fixed blocks of ``BLOCK`` elements
(``_reduction_simd.h``) with double accumulators, and block partials are combined serially in
block order.  The blocking depends only on the shape, so results are bitwise identical for any
thread count.  Work items are (row, block) or (outer, row-block, column-chunk) tasks spread
over OpenMP threads when the input has more than ``THRESHOLD`` elements.
"""
from cython.parallel cimport prange
from libc.math cimport INFINITY, NAN, fabs, log
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from cython cimport floating

cdef extern from "_reduction_simd.h" nogil:
    ctypedef Py_ssize_t ct_i
    int CT_RBLK
    int CT_KC

    double ct_bsum_f32(const float *x, ct_i n)
    double ct_bsum_f64(const double *x, ct_i n)
    void ct_bsum4_f32(const float *x, ct_i stride, ct_i n, double *out)
    void ct_bsum4_f64(const double *x, ct_i stride, ct_i n, double *out)
    double ct_bsqdev_f32(const float *x, ct_i n, double mean)
    double ct_bsqdev_f64(const double *x, ct_i n, double mean)
    double ct_bexpsum_f32(const float *x, ct_i n, float m)
    double ct_bexpsum_f64(const double *x, ct_i n, double m)
    double ct_bexpstore_f32(const float *x, float *out, ct_i n, float m)
    double ct_bexpstore_f64(const double *x, double *out, ct_i n, double m)
    double ct_bdot_f32(const float *x, const float *y, ct_i n)
    double ct_bdot_f64(const double *x, const double *y, ct_i n)
    float ct_bmax_f32(const float *x, ct_i n)
    double ct_bmax_f64(const double *x, ct_i n)
    float ct_bmin_f32(const float *x, ct_i n)
    double ct_bmin_f64(const double *x, ct_i n)
    ct_i ct_find_f32(const float *x, ct_i n, float v)
    ct_i ct_find_f64(const double *x, ct_i n, double v)
    void ct_bmul_f32(float *out, ct_i n, float s)
    void ct_bmul_f64(double *out, ct_i n, double s)
    void ct_bsub_f32(const float *x, float *out, ct_i n, float s)
    void ct_bsub_f64(const double *x, double *out, ct_i n, double s)
    void ct_bsoftmax_bwd_f32(const float *gy, const float *y, float *gx, ct_i n, float d)
    void ct_bsoftmax_bwd_f64(const double *gy, const double *y, double *gx, ct_i n, double d)
    void ct_blogsoftmax_bwd_f32(const float *gy, const float *y, float *gx, ct_i n, float s)
    void ct_blogsoftmax_bwd_f64(const double *gy, const double *y, double *gx, ct_i n, double s)

    double ct_rsum_f32(const float *x, ct_i n)
    double ct_rsum_f64(const double *x, ct_i n)
    double ct_rsqdev_f32(const float *x, ct_i n, double mean)
    double ct_rsqdev_f64(const double *x, ct_i n, double mean)
    void ct_softmax_row_f32(const float *x, float *out, ct_i n)
    void ct_softmax_row_f64(const double *x, double *out, ct_i n)
    void ct_log_softmax_row_f32(const float *x, float *out, ct_i n)
    void ct_log_softmax_row_f64(const double *x, double *out, ct_i n)
    float ct_logsumexp_row_f32(const float *x, ct_i n)
    double ct_logsumexp_row_f64(const double *x, ct_i n)
    void ct_softmax_bwd_row_f32(const float *gy, const float *y, float *gx, ct_i n)
    void ct_softmax_bwd_row_f64(const double *gy, const double *y, double *gx, ct_i n)
    void ct_log_softmax_bwd_row_f32(const float *gy, const float *y, float *gx, ct_i n)
    void ct_log_softmax_bwd_row_f64(const double *gy, const double *y, double *gx, ct_i n)

    void ct_colsum_f32(const float *x, ct_i rows, ct_i stride, ct_i cols, double *dst)
    void ct_colsum_f64(const double *x, ct_i rows, ct_i stride, ct_i cols, double *dst)
    void ct_colext_f32(const float *x, ct_i rows, ct_i stride, ct_i cols, float *vals,
                       int64_t *idx, int64_t j0, int is_min)
    void ct_colext_f64(const double *x, ct_i rows, ct_i stride, ct_i cols, double *vals,
                       int64_t *idx, int64_t j0, int is_min)
    void ct_colvar_f32(const float *x, ct_i rows, ct_i stride, ct_i cols, float *out,
                       double denom)
    void ct_colvar_f64(const double *x, ct_i rows, ct_i stride, ct_i cols, double *out,
                       double denom)

cdef extern from "_rowops_f32.h" nogil:
    void ctr_softmax_rows_f32(const float *x, float *out, ct_i rows, ct_i n, int log)
    void ctr_softmax_bwd_rows_f32(const float *gy, const float *y, float *gx, ct_i rows,
                                  ct_i n, int log)

cdef enum:
    THRESHOLD = 131072  # total elements above which work goes to the thread pool (kernels.md)
    ROWPAR = 65536      # row length above which a single row is split over threads
    # softmax-family rows cost an exp per element (~20 vector ops): worth the thread pool
    # from a quarter of THRESHOLD, as elementwise.pyx's HEAVY_THRESHOLD (a GPT block's
    # (12*64, 128) attention rows: 41 us on 1 thread, 0.54-0.59x torch at 2 threads before)
    HEAVY_THRESHOLD = 32768
    JBLK = 512          # rows per block of an inner-axis (column) reduction

BLOCK = CT_RBLK
PARALLEL_THRESHOLD = THRESHOLD
ROW_SPLIT = ROWPAR


include "_check.pxi"


cdef inline void _check_shape(str kernel, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c) except *:
    if a < 0 or b < 0 or c < 0:
        raise ValueError(f"{kernel}: negative shape ({a}, {b}, {c})")


cdef inline Py_ssize_t _nblk(Py_ssize_t n) noexcept nogil:
    return (n + CT_RBLK - 1) // CT_RBLK


cdef inline Py_ssize_t _blen(Py_ssize_t n, Py_ssize_t b) noexcept nogil:
    return min(n - b * CT_RBLK, <Py_ssize_t>CT_RBLK)


cdef void* _alloc(size_t nbytes) except NULL:
    cdef void *p = malloc(nbytes if nbytes > 0 else 1)
    if p == NULL:
        raise MemoryError()
    return p


# ---------------------------------------------------------------------------------------------
# sums
# ---------------------------------------------------------------------------------------------

cdef void _row_block_sums(const floating *x, Py_ssize_t rows, Py_ssize_t n,
                          double *part) noexcept nogil:
    """part[r * nb + b] = sum of block b of row r (rows of length n, nb blocks each)."""
    cdef Py_ssize_t nb = _nblk(n), t, r, b, q = rows // 4
    # short rows: 4 at a time (ct_bsum's bits, its latency hidden); from 1024 elements a
    # row streams alone (4 rows 4-16 KiB apart ran at 0.6x one stream's bandwidth: sum(-1)
    # of (4096, 4096) float32 2.3-2.6 ms against 1.4 ms, on an AMD EPYC)
    if nb == 1 and q > 0 and n < 1024:
        for t in prange(q, schedule='static', use_threads_if=rows * n > THRESHOLD):
            if floating is float:
                ct_bsum4_f32(x + 4 * t * n, n, n, part + 4 * t)
            else:
                ct_bsum4_f64(x + 4 * t * n, n, n, part + 4 * t)
        for r in range(4 * q, rows):
            if floating is float:
                part[r] = ct_bsum_f32(x + r * n, n)
            else:
                part[r] = ct_bsum_f64(x + r * n, n)
        return
    for t in prange(rows * nb, schedule='static', use_threads_if=rows * n > THRESHOLD):
        r = t // nb
        b = t - r * nb
        if floating is float:
            part[t] = ct_bsum_f32(x + r * n + b * CT_RBLK, _blen(n, b))
        else:
            part[t] = ct_bsum_f64(x + r * n + b * CT_RBLK, _blen(n, b))


def sum_all(const floating[::1] x):
    """Sum of all elements (float64 accumulation, fixed blocks) -> float."""
    cdef Py_ssize_t n = x.shape[0], nb = _nblk(n), b
    cdef double s = 0.0
    cdef double *part
    if n == 0:
        return 0.0
    part = <double *> _alloc(nb * sizeof(double))
    try:
        with nogil:
            _row_block_sums(&x[0], 1, n, part)
            for b in range(nb):
                s += part[b]
    finally:
        free(part)
    return s


cdef void _colsum_tasks(const floating *x, Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner,
                        double *part) noexcept nogil:
    """part[(o * njb + jb) * inner + k] = sum over row block jb of x[o, :, k]."""
    cdef Py_ssize_t njb = (mid + JBLK - 1) // JBLK, nkc = (inner + CT_KC - 1) // CT_KC
    cdef Py_ssize_t ntask = outer * njb * nkc, t, o, jb, kc, rem
    for t in prange(ntask, schedule='static', use_threads_if=outer * mid * inner > THRESHOLD):
        o = t // (njb * nkc)
        rem = t - o * (njb * nkc)
        jb = rem // nkc
        kc = rem - jb * nkc
        if floating is float:
            ct_colsum_f32(x + (o * mid + jb * JBLK) * inner + kc * CT_KC,
                          min(mid - jb * JBLK, <Py_ssize_t>JBLK), inner,
                          min(inner - kc * CT_KC, <Py_ssize_t>CT_KC),
                          part + (o * njb + jb) * inner + kc * CT_KC)
        else:
            ct_colsum_f64(x + (o * mid + jb * JBLK) * inner + kc * CT_KC,
                          min(mid - jb * JBLK, <Py_ssize_t>JBLK), inner,
                          min(inner - kc * CT_KC, <Py_ssize_t>CT_KC),
                          part + (o * njb + jb) * inner + kc * CT_KC)


def sum_axis(const floating[::1] x, floating[::1] out, Py_ssize_t outer, Py_ssize_t mid,
             Py_ssize_t inner):
    """out[o, k] = sum_j x[o, j, k]; x of outer*mid*inner, out of outer*inner."""
    cdef Py_ssize_t nb, njb, o, b, k, jb, i
    cdef double s
    cdef double *part
    _check_shape("sum_axis", outer, mid, inner)
    _check("sum_axis", "x", x.shape[0], outer * mid * inner)
    _check("sum_axis", "out", out.shape[0], outer * inner)
    if outer * inner == 0:
        return
    if mid == 0:
        out[:] = 0
        return
    if inner == 1:
        nb = _nblk(mid)
        part = <double *> _alloc(outer * nb * sizeof(double))
        try:
            with nogil:
                _row_block_sums(&x[0], outer, mid, part)
                for o in prange(outer, schedule='static', use_threads_if=outer > THRESHOLD):
                    s = 0.0
                    for b in range(nb):
                        s = s + part[o * nb + b]
                    out[o] = <floating>s
        finally:
            free(part)
    else:
        njb = (mid + JBLK - 1) // JBLK
        part = <double *> _alloc(outer * njb * inner * sizeof(double))
        try:
            with nogil:
                _colsum_tasks(&x[0], outer, mid, inner, part)
                for i in prange(outer * inner, schedule='static',
                                use_threads_if=outer * inner > THRESHOLD):
                    o = i // inner
                    k = i - o * inner
                    s = 0.0
                    for jb in range(njb):
                        s = s + part[(o * njb + jb) * inner + k]
                    out[i] = <floating>s
        finally:
            free(part)


# ---------------------------------------------------------------------------------------------
# max / min with first index (a NaN wins, like torch)
# ---------------------------------------------------------------------------------------------

cdef inline bint _better(double v, double a, bint is_min) noexcept nogil:
    if a != a:
        return False
    if v != v:
        return True
    return v < a if is_min else v > a


cdef void _ext_rows(const floating *x, Py_ssize_t rows, Py_ssize_t n, floating *vals,
                    int64_t *idx, bint is_min, floating *part) noexcept nogil:
    """Extreme and its first index of each row of length n >= 1."""
    cdef Py_ssize_t nb = _nblk(n), t, r, b, j
    cdef floating best
    cdef Py_ssize_t bb
    for t in prange(rows * nb, schedule='static', use_threads_if=rows * n > THRESHOLD):
        r = t // nb
        b = t - r * nb
        if floating is float:
            if is_min:
                part[t] = ct_bmin_f32(x + r * n + b * CT_RBLK, _blen(n, b))
            else:
                part[t] = ct_bmax_f32(x + r * n + b * CT_RBLK, _blen(n, b))
        else:
            if is_min:
                part[t] = ct_bmin_f64(x + r * n + b * CT_RBLK, _blen(n, b))
            else:
                part[t] = ct_bmax_f64(x + r * n + b * CT_RBLK, _blen(n, b))
    for r in prange(rows, schedule='static', use_threads_if=rows * n > THRESHOLD):
        best = part[r * nb]
        bb = 0
        for b in range(1, nb):
            if _better(part[r * nb + b], best, is_min):
                best = part[r * nb + b]
                bb = b
        if floating is float:
            j = ct_find_f32(x + r * n + bb * CT_RBLK, _blen(n, bb), best)
        else:
            j = ct_find_f64(x + r * n + bb * CT_RBLK, _blen(n, bb), best)
        vals[r] = best
        idx[r] = bb * CT_RBLK + j


cdef void _ext_cols(const floating *x, Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner,
                    floating *vals, int64_t *idx, bint is_min, floating *pv,
                    int64_t *pi) noexcept nogil:
    """Column extremes: task (o, row block, column chunk) -> pv/pi, then combined in order."""
    cdef Py_ssize_t njb = (mid + JBLK - 1) // JBLK, nkc = (inner + CT_KC - 1) // CT_KC
    cdef Py_ssize_t ntask = outer * njb * nkc, t, o, jb, kc, rem, k, i, base, nk, nr, q
    cdef const floating *xs
    for t in prange(ntask, schedule='static', use_threads_if=outer * mid * inner > THRESHOLD):
        o = t // (njb * nkc)
        rem = t - o * (njb * nkc)
        jb = rem // nkc
        kc = rem - jb * nkc
        base = (o * njb + jb) * inner + kc * CT_KC
        nk = min(inner - kc * CT_KC, <Py_ssize_t>CT_KC)
        nr = min(mid - jb * JBLK, <Py_ssize_t>JBLK)
        xs = x + (o * mid + jb * JBLK) * inner + kc * CT_KC
        for q in range(nk):
            pv[base + q] = xs[q]
            pi[base + q] = jb * JBLK
        if floating is float:
            ct_colext_f32(xs + inner, nr - 1, inner, nk, pv + base, pi + base,
                          jb * JBLK + 1, is_min)
        else:
            ct_colext_f64(xs + inner, nr - 1, inner, nk, pv + base, pi + base,
                          jb * JBLK + 1, is_min)
    for i in prange(outer * inner, schedule='static', use_threads_if=outer * inner > THRESHOLD):
        o = i // inner
        k = i - o * inner
        base = o * njb * inner + k
        vals[i] = pv[base]
        idx[i] = pi[base]
        for jb in range(1, njb):
            if _better(pv[base + jb * inner], vals[i], is_min):
                vals[i] = pv[base + jb * inner]
                idx[i] = pi[base + jb * inner]


cdef _ext_axis(str kernel, const floating[::1] x, floating[::1] vals, int64_t[::1] idx,
               Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner, bint is_min):
    cdef Py_ssize_t nb, njb
    cdef floating *pv
    cdef int64_t *pi
    _check_shape(kernel, outer, mid, inner)
    _check(kernel, "x", x.shape[0], outer * mid * inner)
    _check(kernel, "vals", vals.shape[0], outer * inner)
    _check(kernel, "idx", idx.shape[0], outer * inner)
    if outer * inner == 0:
        return
    if mid == 0:
        raise ValueError(f"{kernel}: cannot reduce an axis of length 0")
    if inner == 1:
        nb = _nblk(mid)
        pv = <floating *> _alloc(outer * nb * sizeof(floating))
        try:
            with nogil:
                _ext_rows(&x[0], outer, mid, &vals[0], &idx[0], is_min, pv)
        finally:
            free(pv)
    else:
        njb = (mid + JBLK - 1) // JBLK
        pv = <floating *> _alloc(outer * njb * inner * sizeof(floating))
        pi = <int64_t *> malloc(outer * njb * inner * sizeof(int64_t))
        try:
            if pi == NULL:
                raise MemoryError()
            with nogil:
                _ext_cols(&x[0], outer, mid, inner, &vals[0], &idx[0], is_min, pv, pi)
        finally:
            free(pv)
            free(pi)


def max_axis(const floating[::1] x, floating[::1] vals, int64_t[::1] idx, Py_ssize_t outer,
             Py_ssize_t mid, Py_ssize_t inner):
    """vals[o, k], idx[o, k] = max over j of x[o, j, k] and its first index (NaN wins)."""
    _ext_axis("max_axis", x, vals, idx, outer, mid, inner, False)


def min_axis(const floating[::1] x, floating[::1] vals, int64_t[::1] idx, Py_ssize_t outer,
             Py_ssize_t mid, Py_ssize_t inner):
    """vals[o, k], idx[o, k] = min over j of x[o, j, k] and its first index (NaN wins)."""
    _ext_axis("min_axis", x, vals, idx, outer, mid, inner, True)


cdef _ext_all(str kernel, const floating[::1] x, bint is_min):
    cdef Py_ssize_t n = x.shape[0], nb
    cdef floating v
    cdef int64_t i
    cdef floating *pv
    if n == 0:
        raise ValueError(f"{kernel}: empty input")
    nb = _nblk(n)
    pv = <floating *> _alloc(nb * sizeof(floating))
    try:
        with nogil:
            _ext_rows(&x[0], 1, n, &v, &i, is_min, pv)
    finally:
        free(pv)
    return float(v), int(i)


def max_all(const floating[::1] x):
    """(max value, first index of it) over all elements; a NaN wins."""
    return _ext_all("max_all", x, False)


def min_all(const floating[::1] x):
    """(min value, first index of it) over all elements; a NaN wins."""
    return _ext_all("min_all", x, True)


# ---------------------------------------------------------------------------------------------
# last-dim row kernels: softmax, log_softmax, their backwards, logsumexp
# ---------------------------------------------------------------------------------------------

cdef enum:
    K_SOFTMAX = 0
    K_LOG_SOFTMAX = 1
    K_SOFTMAX_BWD = 2
    K_LOG_SOFTMAX_BWD = 3


cdef void _rows_fused(int kind, const floating *a, const floating *b, floating *out,
                      Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """Rows of moderate length: one task per row, all passes while the row is in cache."""
    cdef Py_ssize_t r
    for r in prange(m, schedule='static', use_threads_if=m * n > HEAVY_THRESHOLD):
        if floating is float:
            if kind == K_SOFTMAX:
                ct_softmax_row_f32(a + r * n, out + r * n, n)
            elif kind == K_LOG_SOFTMAX:
                ct_log_softmax_row_f32(a + r * n, out + r * n, n)
            elif kind == K_SOFTMAX_BWD:
                ct_softmax_bwd_row_f32(a + r * n, b + r * n, out + r * n, n)
            else:
                ct_log_softmax_bwd_row_f32(a + r * n, b + r * n, out + r * n, n)
        else:
            if kind == K_SOFTMAX:
                ct_softmax_row_f64(a + r * n, out + r * n, n)
            elif kind == K_LOG_SOFTMAX:
                ct_log_softmax_row_f64(a + r * n, out + r * n, n)
            elif kind == K_SOFTMAX_BWD:
                ct_softmax_bwd_row_f64(a + r * n, b + r * n, out + r * n, n)
            else:
                ct_log_softmax_bwd_row_f64(a + r * n, b + r * n, out + r * n, n)


cdef void _rows_f32(int kind, const float *a, const float *b, float *out, Py_ssize_t m,
                    Py_ssize_t n) noexcept nogil:
    """float32 rows in cache (_rowops_f32.h): chunks of rows per task, float lane sums."""
    cdef Py_ssize_t rb = (4096 + n - 1) // n  # rows per task (~16 KiB of input)
    cdef Py_ssize_t nt = (m + rb - 1) // rb, t, r0, r1
    cdef int lg = kind == K_LOG_SOFTMAX or kind == K_LOG_SOFTMAX_BWD
    cdef int bwd = kind == K_SOFTMAX_BWD or kind == K_LOG_SOFTMAX_BWD
    for t in prange(nt, schedule='static', use_threads_if=m * n > HEAVY_THRESHOLD):
        r0 = t * rb
        r1 = min(r0 + rb, m)
        if bwd:
            ctr_softmax_bwd_rows_f32(a + r0 * n, b + r0 * n, out + r0 * n, r1 - r0, n, lg)
        else:
            ctr_softmax_rows_f32(a + r0 * n, out + r0 * n, r1 - r0, n, lg)


cdef void _rows_split(int kind, const floating *a, const floating *b, floating *out,
                      Py_ssize_t m, Py_ssize_t n, floating *pmax,
                      double *psum) noexcept nogil:
    """Long rows: (row, block) tasks in phases, block partials combined in block order.

    Same blocks and combination order as the fused row kernels, so the result is the same.
    """
    cdef Py_ssize_t nb = _nblk(n), t, r, bk, off, ln
    cdef floating mx, c
    cdef double s
    cdef bint par = m * n > THRESHOLD
    cdef floating *shift = pmax + m * nb   # per-row constant of the write phase
    if kind == K_SOFTMAX or kind == K_LOG_SOFTMAX:
        for t in prange(m * nb, schedule='static', use_threads_if=par):
            r = t // nb
            bk = t - r * nb
            if floating is float:
                pmax[t] = ct_bmax_f32(a + r * n + bk * CT_RBLK, _blen(n, bk))
            else:
                pmax[t] = ct_bmax_f64(a + r * n + bk * CT_RBLK, _blen(n, bk))
        for r in range(m):
            mx = a[r * n]
            for bk in range(nb):
                if _better(pmax[r * nb + bk], mx, False):
                    mx = pmax[r * nb + bk]
            shift[r] = mx
    # sum pass (softmax also writes exp(x - max))
    for t in prange(m * nb, schedule='static', use_threads_if=par):
        r = t // nb
        bk = t - r * nb
        off = r * n + bk * CT_RBLK
        ln = _blen(n, bk)
        if floating is float:
            if kind == K_SOFTMAX:
                psum[t] = ct_bexpstore_f32(a + off, out + off, ln, shift[r])
            elif kind == K_LOG_SOFTMAX:
                psum[t] = ct_bexpsum_f32(a + off, ln, shift[r])
            elif kind == K_SOFTMAX_BWD:
                psum[t] = ct_bdot_f32(a + off, b + off, ln)
            else:
                psum[t] = ct_bsum_f32(a + off, ln)
        else:
            if kind == K_SOFTMAX:
                psum[t] = ct_bexpstore_f64(a + off, out + off, ln, shift[r])
            elif kind == K_LOG_SOFTMAX:
                psum[t] = ct_bexpsum_f64(a + off, ln, shift[r])
            elif kind == K_SOFTMAX_BWD:
                psum[t] = ct_bdot_f64(a + off, b + off, ln)
            else:
                psum[t] = ct_bsum_f64(a + off, ln)
    for r in range(m):
        s = 0.0
        for bk in range(nb):
            s = s + psum[r * nb + bk]
        if kind == K_SOFTMAX:
            shift[r] = <floating>(1.0 / s)
        elif kind == K_LOG_SOFTMAX:
            shift[r] = <floating>(<double>shift[r] + log(s))
        else:
            shift[r] = <floating>s
    # write pass
    for t in prange(m * nb, schedule='static', use_threads_if=par):
        r = t // nb
        bk = t - r * nb
        off = r * n + bk * CT_RBLK
        ln = _blen(n, bk)
        c = shift[r]
        if floating is float:
            if kind == K_SOFTMAX:
                ct_bmul_f32(out + off, ln, c)
            elif kind == K_LOG_SOFTMAX:
                ct_bsub_f32(a + off, out + off, ln, c)
            elif kind == K_SOFTMAX_BWD:
                ct_bsoftmax_bwd_f32(a + off, b + off, out + off, ln, c)
            else:
                ct_blogsoftmax_bwd_f32(a + off, b + off, out + off, ln, c)
        else:
            if kind == K_SOFTMAX:
                ct_bmul_f64(out + off, ln, c)
            elif kind == K_LOG_SOFTMAX:
                ct_bsub_f64(a + off, out + off, ln, c)
            elif kind == K_SOFTMAX_BWD:
                ct_bsoftmax_bwd_f64(a + off, b + off, out + off, ln, c)
            else:
                ct_blogsoftmax_bwd_f64(a + off, b + off, out + off, ln, c)


cdef _rowwise(str kernel, int kind, const floating[::1] a, const floating[::1] b,
              floating[::1] out, Py_ssize_t m, Py_ssize_t n):
    cdef Py_ssize_t nb
    cdef floating *pmax
    cdef double *psum
    if m < 0 or n < 0:
        raise ValueError(f"{kernel}: negative shape ({m}, {n})")
    _check(kernel, "out", out.shape[0], m * n)
    if kind == K_SOFTMAX or kind == K_LOG_SOFTMAX:
        _check(kernel, "x", a.shape[0], m * n)
    else:
        _check(kernel, "gy", a.shape[0], m * n)
        _check(kernel, "y", b.shape[0], m * n)
    if m * n == 0:
        return
    if floating is float:
        if n <= ROWPAR:
            with nogil:
                _rows_f32(kind, &a[0], &b[0], &out[0], m, n)
            return
    if n <= ROWPAR:
        with nogil:
            _rows_fused(kind, &a[0], &b[0], &out[0], m, n)
        return
    nb = _nblk(n)
    pmax = <floating *> _alloc((m * nb + m) * sizeof(floating))
    psum = <double *> malloc(m * nb * sizeof(double))
    try:
        if psum == NULL:
            raise MemoryError()
        with nogil:
            _rows_split(kind, &a[0], &b[0], &out[0], m, n, pmax, psum)
    finally:
        free(pmax)
        free(psum)


def softmax_lastdim(const floating[::1] x, floating[::1] out, Py_ssize_t m, Py_ssize_t n):
    """Softmax over each row of the (m, n) array x."""
    _rowwise("softmax_lastdim", K_SOFTMAX, x, x, out, m, n)


def log_softmax_lastdim(const floating[::1] x, floating[::1] out, Py_ssize_t m, Py_ssize_t n):
    """Log-softmax over each row of the (m, n) array x."""
    _rowwise("log_softmax_lastdim", K_LOG_SOFTMAX, x, x, out, m, n)


def softmax_backward_lastdim(const floating[::1] gy, const floating[::1] y, floating[::1] gx,
                             Py_ssize_t m, Py_ssize_t n):
    """gx = y * (gy - sum(gy * y)) per row."""
    _rowwise("softmax_backward_lastdim", K_SOFTMAX_BWD, gy, y, gx, m, n)


def log_softmax_backward_lastdim(const floating[::1] gy, const floating[::1] y,
                                 floating[::1] gx, Py_ssize_t m, Py_ssize_t n):
    """gx = gy - exp(y) * sum(gy) per row."""
    _rowwise("log_softmax_backward_lastdim", K_LOG_SOFTMAX_BWD, gy, y, gx, m, n)


def logsumexp_lastdim(const floating[::1] x, floating[::1] out, Py_ssize_t m, Py_ssize_t n):
    """out[r] = log(sum(exp(x[r, :]))), computed stably (torch semantics for infinities)."""
    cdef Py_ssize_t r, nb, t, bk
    cdef floating mx
    cdef floating *pmax
    cdef double *psum
    cdef double s
    if m < 0 or n < 0:
        raise ValueError(f"logsumexp_lastdim: negative shape ({m}, {n})")
    _check("logsumexp_lastdim", "x", x.shape[0], m * n)
    _check("logsumexp_lastdim", "out", out.shape[0], m)
    if m == 0:
        return
    if n == 0:
        out[:] = -INFINITY
        return
    if n <= ROWPAR:
        with nogil:
            for r in prange(m, schedule='static', use_threads_if=m * n > THRESHOLD):
                if floating is float:
                    out[r] = ct_logsumexp_row_f32(&x[r * n], n)
                else:
                    out[r] = ct_logsumexp_row_f64(&x[r * n], n)
        return
    nb = _nblk(n)
    pmax = <floating *> _alloc((m * nb + m) * sizeof(floating))
    psum = <double *> malloc(m * nb * sizeof(double))
    try:
        if psum == NULL:
            raise MemoryError()
        with nogil:
            for t in prange(m * nb, schedule='static'):
                r = t // nb
                bk = t - r * nb
                if floating is float:
                    pmax[t] = ct_bmax_f32(&x[r * n + bk * CT_RBLK], _blen(n, bk))
                else:
                    pmax[t] = ct_bmax_f64(&x[r * n + bk * CT_RBLK], _blen(n, bk))
            for r in range(m):
                mx = x[r * n]
                for bk in range(nb):
                    if _better(pmax[r * nb + bk], mx, False):
                        mx = pmax[r * nb + bk]
                if fabs(mx) == INFINITY:
                    mx = 0
                pmax[m * nb + r] = mx
            for t in prange(m * nb, schedule='static'):
                r = t // nb
                bk = t - r * nb
                if floating is float:
                    psum[t] = ct_bexpsum_f32(&x[r * n + bk * CT_RBLK], _blen(n, bk),
                                             pmax[m * nb + r])
                else:
                    psum[t] = ct_bexpsum_f64(&x[r * n + bk * CT_RBLK], _blen(n, bk),
                                             pmax[m * nb + r])
            for r in range(m):
                s = 0.0
                for bk in range(nb):
                    s = s + psum[r * nb + bk]
                out[r] = <floating>(log(s) + <double>pmax[m * nb + r])
    finally:
        free(pmax)
        free(psum)


# ---------------------------------------------------------------------------------------------
# variance
# ---------------------------------------------------------------------------------------------

def var_axis(const floating[::1] x, floating[::1] out, Py_ssize_t outer, Py_ssize_t mid,
             Py_ssize_t inner, double correction=1.0):
    """Two-pass variance over the middle axis, divided by max(0, mid - correction)."""
    cdef Py_ssize_t nb, t, r, bk, o, nkc, kc
    cdef double denom, s
    cdef double *part
    cdef double *means
    _check_shape("var_axis", outer, mid, inner)
    _check("var_axis", "x", x.shape[0], outer * mid * inner)
    _check("var_axis", "out", out.shape[0], outer * inner)
    if outer * inner == 0:
        return
    denom = max(0.0, <double>mid - correction)
    if mid == 0:
        out[:] = NAN
        return
    if inner == 1:
        nb = _nblk(mid)
        part = <double *> _alloc((outer * nb + outer) * sizeof(double))
        means = part + outer * nb
        try:
            with nogil:
                _row_block_sums(&x[0], outer, mid, part)
                for o in prange(outer, schedule='static', use_threads_if=outer > THRESHOLD):
                    s = 0.0
                    for bk in range(nb):
                        s = s + part[o * nb + bk]
                    means[o] = s / <double>mid
                for t in prange(outer * nb, schedule='static',
                                use_threads_if=outer * mid > THRESHOLD):
                    r = t // nb
                    bk = t - r * nb
                    if floating is float:
                        part[t] = ct_bsqdev_f32(&x[r * mid + bk * CT_RBLK], _blen(mid, bk),
                                                means[r])
                    else:
                        part[t] = ct_bsqdev_f64(&x[r * mid + bk * CT_RBLK], _blen(mid, bk),
                                                means[r])
                for o in prange(outer, schedule='static', use_threads_if=outer > THRESHOLD):
                    s = 0.0
                    for bk in range(nb):
                        s = s + part[o * nb + bk]
                    out[o] = <floating>(s / denom)
        finally:
            free(part)
    else:
        nkc = (inner + CT_KC - 1) // CT_KC
        with nogil:
            for t in prange(outer * nkc, schedule='static',
                            use_threads_if=outer * mid * inner > THRESHOLD):
                o = t // nkc
                kc = t - o * nkc
                if floating is float:
                    ct_colvar_f32(&x[o * mid * inner + kc * CT_KC], mid, inner,
                                  min(inner - kc * CT_KC, <Py_ssize_t>CT_KC),
                                  &out[o * inner + kc * CT_KC], denom)
                else:
                    ct_colvar_f64(&x[o * mid * inner + kc * CT_KC], mid, inner,
                                  min(inner - kc * CT_KC, <Py_ssize_t>CT_KC),
                                  &out[o * inner + kc * CT_KC], denom)
