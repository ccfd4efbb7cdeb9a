# cython: language_level=3
"""ctorch CPU kernels: nnmisc family (embedding backward, dropout mask)."""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memset

cdef extern from "_nn_simd.h" nogil:
    void ct_nn_acc_f32(const float *x, float *y, int64_t n)
    void ct_nn_acc_f64(const double *x, double *y, int64_t n)
    void ct_nn_dropout_mask_f32(const float *u, float *mask, int64_t n, float p, float scale)
    void ct_nn_dropout_mask_f64(const double *u, double *mask, int64_t n, double p,
                                double scale)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t CHUNK = 16384
# embedding_backward tiles gw into (row range) x (column chunk) tasks
cdef Py_ssize_t EMB_COLS = 64
cdef Py_ssize_t EMB_ROW_RANGES = 8


cdef inline int _check(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")
    return 0


cdef inline void _acc(const floating *x, floating *y, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ct_nn_acc_f32(x, y, n)
    else:
        ct_nn_acc_f64(x, y, n)


def embedding_backward(const floating[::1] gy, const int64_t[::1] idx, floating[::1] gw,
                       Py_ssize_t n_idx, Py_ssize_t D, padding_idx=-1):
    """gw (V, D) = scatter-add of the rows of gy (n_idx, D) at idx; gw is zeroed here first.

    Rows whose index equals padding_idx are skipped (padding_idx None or < 0: none).  gw is split
    into (row range, column chunk) tiles, each owned by one thread that adds the rows of gy
    in index order: no atomics, deterministic for any thread count.  Raises IndexError for
    an index outside [0, V).
    """
    if n_idx < 0 or D < 0:
        raise ValueError(f"embedding_backward: negative size ({n_idx}, {D})")
    cdef int64_t pad = -1 if padding_idx is None else padding_idx
    _check("embedding_backward", "gy", gy.shape[0], n_idx * D)
    _check("embedding_backward", "idx", idx.shape[0], n_idx)
    if D == 0:
        return
    if gw.shape[0] % D != 0:
        raise ValueError(f"embedding_backward: gw has {gw.shape[0]} elements, not a multiple "
                         f"of D={D}")
    cdef Py_ssize_t V = gw.shape[0] // D
    cdef Py_ssize_t i, bad = -1
    cdef int64_t k
    with nogil:
        for i in range(n_idx):
            k = idx[i]
            if k != pad and (k < 0 or k >= V):
                bad = i
                break
    if bad >= 0:
        raise IndexError(f"embedding_backward: index {idx[bad]} at position {bad} is out of "
                         f"range for {V} embeddings")
    if V == 0:
        return
    cdef Py_ssize_t ncol = (D + EMB_COLS - 1) // EMB_COLS
    cdef Py_ssize_t nrow = 1 if ncol >= 4 else EMB_ROW_RANGES
    if nrow > V:
        nrow = V
    cdef Py_ssize_t rlen = (V + nrow - 1) // nrow
    cdef Py_ssize_t t, cj, rk, j0, j1, r0, r1, r
    cdef floating *gwp = &gw[0]
    with nogil:
        for t in prange(ncol * nrow, schedule='static',
                        use_threads_if=(n_idx + V) * D > THRESHOLD):
            cj = t % ncol
            rk = t // ncol
            j0 = cj * EMB_COLS
            j1 = j0 + EMB_COLS
            if j1 > D:
                j1 = D
            r0 = rk * rlen
            r1 = r0 + rlen
            if r1 > V:
                r1 = V
            for r in range(r0, r1):
                memset(gwp + r * D + j0, 0, (j1 - j0) * sizeof(floating))
            for i in range(n_idx):
                k = idx[i]
                if k == pad or k < r0 or k >= r1:
                    continue
                _acc(&gy[i * D + j0], gwp + k * D + j0, j1 - j0)


def dropout_mask(const floating[::1] u_rand, floating[::1] mask_out, double p, double scale):
    """mask = (u >= p) * scale, elementwise (u uniform in [0, 1))."""
    _check("dropout_mask", "mask_out", mask_out.shape[0], u_rand.shape[0])
    cdef Py_ssize_t n = u_rand.shape[0]
    if n == 0:
        return
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    cdef floating fp = <floating>p, fs = <floating>scale
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = s + CHUNK
            if e > n:
                e = n
            if floating is float:
                ct_nn_dropout_mask_f32(&u_rand[s], &mask_out[s], e - s, fp, fs)
            else:
                ct_nn_dropout_mask_f64(&u_rand[s], &mask_out[s], e - s, fp, fs)
