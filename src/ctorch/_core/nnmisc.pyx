# cython: language_level=3
"""ctorch CPU kernels: nnmisc family (embedding backward, dropout mask, LSTM/GRU gates,
the row copies of a concatenation)."""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

cdef extern from "_nn_simd.h" nogil:
    void ct_nn_acc_f32(const float *x, float *y, int64_t n)
    void ct_nn_acc_f64(const double *x, double *y, int64_t n)
    void ct_nn_dropout_mask_f32(const float *u, float *mask, int64_t n, float p, float scale)
    void ct_nn_dropout_mask_f64(const double *u, double *mask, int64_t n, double p,
                                double scale)

cdef extern from "_rnn_simd.h" nogil:
    void ct_lstm_fwd_float(const float *xg, const float *hh, const float *c, float *h,
                           float *c2, float *act, float *tc, int64_t H)
    void ct_lstm_fwd_double(const double *xg, const double *hh, const double *c, double *h,
                            double *c2, double *act, double *tc, int64_t H)
    void ct_lstm_bwd_float(const float *act, const float *tc, const float *c, const float *gh,
                           const float *gc, float *da, float *dc, int64_t H)
    void ct_lstm_bwd_double(const double *act, const double *tc, const double *c,
                            const double *gh, const double *gc, double *da, double *dc,
                            int64_t H)

    void ct_gru_fwd_float(const float *gi, const float *gh, const float *h, float *out,
                          float *act, int64_t H)
    void ct_gru_fwd_double(const double *gi, const double *gh, const double *h, double *out,
                           double *act, int64_t H)
    void ct_gru_bwd_float(const float *act, const float *gh, const float *h, const float *g,
                          float *dgi, float *dgh, float *dh, int64_t H)
    void ct_gru_bwd_double(const double *act, const double *gh, const double *h,
                           const double *g, double *dgi, double *dgh, double *dh, int64_t H)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t CHUNK = 16384
# embedding_backward tiles gw into (row range) x (column chunk) tasks
cdef Py_ssize_t EMB_COLS = 64
cdef Py_ssize_t EMB_ROW_RANGES = 8


include "_check.pxi"


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
    cdef Py_ssize_t bad = _bad_index(idx, n_idx, V, pad)
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
    cdef Py_ssize_t t, cj, rk, j0, j1, r0, r1, r, i
    cdef int64_t k
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


cdef inline int _lstm_shape(str kernel, str name, Py_ssize_t rows, Py_ssize_t cols,
                            Py_ssize_t B, Py_ssize_t want) except -1:
    if rows != B or cols != want:
        raise ValueError(f"{kernel}: {name} is ({rows}, {cols}), expected ({B}, {want})")
    return 0


def lstm_gates_forward(const floating[:, ::1] xg, const floating[:, ::1] hh,
                       const floating[:, ::1] c, floating[:, ::1] h, floating[:, ::1] c2,
                       floating[:, ::1] act, floating[:, ::1] tc):
    """One LSTM step's gates (nn.LSTM): a = xg + hh (B, 4H; order i, f, g, o),
    c2 = f c + i g, h = o tanh(c2); act (B, 4H) receives (i, f, g, o) and tc (B, H) tanh(c2)
    for the backward.  Rows are split over the threads from 32768 elements; every element
    is computed alone, so the bits do not depend on the thread count."""
    cdef Py_ssize_t B = c.shape[0], H = c.shape[1], b
    cdef str k = "lstm_gates_forward"
    _lstm_shape(k, "xg", xg.shape[0], xg.shape[1], B, 4 * H)
    _lstm_shape(k, "hh", hh.shape[0], hh.shape[1], B, 4 * H)
    _lstm_shape(k, "act", act.shape[0], act.shape[1], B, 4 * H)
    _lstm_shape(k, "h", h.shape[0], h.shape[1], B, H)
    _lstm_shape(k, "c2", c2.shape[0], c2.shape[1], B, H)
    _lstm_shape(k, "tc", tc.shape[0], tc.shape[1], B, H)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in prange(B, schedule='static', use_threads_if=B * H * 4 > THRESHOLD):
            if floating is float:
                ct_lstm_fwd_float(&xg[b, 0], &hh[b, 0], &c[b, 0], &h[b, 0], &c2[b, 0],
                                  &act[b, 0], &tc[b, 0], H)
            else:
                ct_lstm_fwd_double(&xg[b, 0], &hh[b, 0], &c[b, 0], &h[b, 0], &c2[b, 0],
                                   &act[b, 0], &tc[b, 0], H)


def lstm_gates_backward(const floating[:, ::1] act, const floating[:, ::1] tc,
                        const floating[:, ::1] c, const floating[:, ::1] gh,
                        const floating[:, ::1] gc, floating[:, ::1] da, floating[:, ::1] dc):
    """The gradient of lstm_gates_forward: da (B, 4H) for the pre-activation gates and dc
    (B, H) for c, from gh and gc (the gradients of h and c2) and the saved act and tc."""
    cdef Py_ssize_t B = c.shape[0], H = c.shape[1], b
    cdef str k = "lstm_gates_backward"
    _lstm_shape(k, "act", act.shape[0], act.shape[1], B, 4 * H)
    _lstm_shape(k, "da", da.shape[0], da.shape[1], B, 4 * H)
    _lstm_shape(k, "tc", tc.shape[0], tc.shape[1], B, H)
    _lstm_shape(k, "gh", gh.shape[0], gh.shape[1], B, H)
    _lstm_shape(k, "gc", gc.shape[0], gc.shape[1], B, H)
    _lstm_shape(k, "dc", dc.shape[0], dc.shape[1], B, H)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in prange(B, schedule='static', use_threads_if=B * H * 4 > THRESHOLD):
            if floating is float:
                ct_lstm_bwd_float(&act[b, 0], &tc[b, 0], &c[b, 0], &gh[b, 0], &gc[b, 0],
                                  &da[b, 0], &dc[b, 0], H)
            else:
                ct_lstm_bwd_double(&act[b, 0], &tc[b, 0], &c[b, 0], &gh[b, 0], &gc[b, 0],
                                   &da[b, 0], &dc[b, 0], H)


def gru_gates_forward(const floating[:, ::1] gi, const floating[:, ::1] gh,
                      const floating[:, ::1] h, floating[:, ::1] out, floating[:, ::1] act):
    """One GRU step's gates (nn.GRU): gi, gh (B, 3H; order r, z, n), h (B, H) -> out (B, H);
    act (B, 3H) receives (r, z, n) for the backward."""
    cdef Py_ssize_t B = h.shape[0], H = h.shape[1], b
    cdef str k = "gru_gates_forward"
    _lstm_shape(k, "gi", gi.shape[0], gi.shape[1], B, 3 * H)
    _lstm_shape(k, "gh", gh.shape[0], gh.shape[1], B, 3 * H)
    _lstm_shape(k, "act", act.shape[0], act.shape[1], B, 3 * H)
    _lstm_shape(k, "out", out.shape[0], out.shape[1], B, H)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in prange(B, schedule='static', use_threads_if=B * H * 3 > THRESHOLD):
            if floating is float:
                ct_gru_fwd_float(&gi[b, 0], &gh[b, 0], &h[b, 0], &out[b, 0], &act[b, 0], H)
            else:
                ct_gru_fwd_double(&gi[b, 0], &gh[b, 0], &h[b, 0], &out[b, 0], &act[b, 0], H)


def gru_gates_backward(const floating[:, ::1] act, const floating[:, ::1] gh,
                       const floating[:, ::1] h, const floating[:, ::1] g,
                       floating[:, ::1] dgi, floating[:, ::1] dgh, floating[:, ::1] dh):
    """The gradient of gru_gates_forward: dgi, dgh (B, 3H) and dh (B, H) from g (B, H)."""
    cdef Py_ssize_t B = h.shape[0], H = h.shape[1], b
    cdef str k = "gru_gates_backward"
    _lstm_shape(k, "act", act.shape[0], act.shape[1], B, 3 * H)
    _lstm_shape(k, "gh", gh.shape[0], gh.shape[1], B, 3 * H)
    _lstm_shape(k, "dgi", dgi.shape[0], dgi.shape[1], B, 3 * H)
    _lstm_shape(k, "dgh", dgh.shape[0], dgh.shape[1], B, 3 * H)
    _lstm_shape(k, "g", g.shape[0], g.shape[1], B, H)
    _lstm_shape(k, "dh", dh.shape[0], dh.shape[1], B, H)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in prange(B, schedule='static', use_threads_if=B * H * 3 > THRESHOLD):
            if floating is float:
                ct_gru_bwd_float(&act[b, 0], &gh[b, 0], &h[b, 0], &g[b, 0], &dgi[b, 0],
                                 &dgh[b, 0], &dh[b, 0], H)
            else:
                ct_gru_bwd_double(&act[b, 0], &gh[b, 0], &h[b, 0], &g[b, 0], &dgi[b, 0],
                                  &dgh[b, 0], &dh[b, 0], H)


cdef inline void _copy_bytes(unsigned char *dst, const unsigned char *src,
                             Py_ssize_t n) noexcept nogil:
    """memcpy for the short runs of a row join: 64-byte blocks of fixed size (inlined as
    vector moves; a libc call per few hundred bytes cost as much as the copy), then the tail."""
    cdef Py_ssize_t j = 0
    while j + 64 <= n:
        memcpy(dst + j, src + j, 64)
        j += 64
    if j < n:
        memcpy(dst + j, src + j, n - j)


def cat_rows(list parts, unsigned char[:, ::1] out):
    """out[r] = parts[0][r] ++ parts[1][r] ++ ... for 2-D C-contiguous byte arrays with
    ``out``'s row count (``torch.cat`` of contiguous arrays viewed as (outer, bytes from the
    joined dim on)): one memcpy per part and row. NumPy's concatenate copies a part at a
    time through its strided iterator, ~2.5x slower for a (1024, 3 x 64) float32 join."""
    cdef Py_ssize_t n = len(parts), rows = out.shape[0], width = out.shape[1], r, i, off
    cdef const unsigned char[:, ::1] p
    cdef const unsigned char **src
    cdef Py_ssize_t *w
    cdef list views = []
    src = <const unsigned char **> malloc((n + 1) * sizeof(void *))
    w = <Py_ssize_t *> malloc((n + 1) * sizeof(Py_ssize_t))
    if src == NULL or w == NULL:
        free(src)
        free(w)
        raise MemoryError()
    try:
        off = 0
        for i in range(n):
            p = parts[i]
            views.append(p)  # keeps the buffer held while src[i] points into it
            if p.shape[0] != rows:
                raise ValueError(f"cat_rows: part {i} has {p.shape[0]} rows, expected {rows}")
            w[i] = p.shape[1]
            src[i] = &p[0, 0] if rows > 0 and w[i] > 0 else NULL
            off += w[i]
        if off != width:
            raise ValueError(f"cat_rows: parts have {off} bytes a row, out has {width}")
        if rows == 0 or width == 0:
            return
        with nogil:
            for r in prange(rows, schedule='static', use_threads_if=rows * width > 16 * THRESHOLD):
                off = 0
                for i in range(n):
                    _copy_bytes(&out[r, 0] + off, src[i] + r * w[i], w[i])
                    off = off + w[i]
    finally:
        free(src)
        free(w)
