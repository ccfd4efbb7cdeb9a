# cython: freethreading_compatible=True
"""Fused scaled-dot-product attention (``F.scaled_dot_product_attention``) on the CPU.

Flash-style: the (L, S) attention matrix is never stored. Each query row's scores are
computed into a per-thread scratch row of length S, softmaxed there and applied to V; the
forward keeps only the output and each row's log-sum-exp. The backward recomputes each row's
probabilities from Q, K and the log-sum-exp (FlashAttention's recomputation), so an attention
layer's memory is O(L * D) instead of O(L * S). Row kernels: ``_attention_tmpl.h``.

Parallel over the (batch x head) slices with OpenMP; one slice is worked by one thread in a
fixed order, so results are bitwise identical for any thread count (docs/kernels.md).
Masks: ``causal`` (key j visible to query i when j <= i, torch's top-left ``tril``) and an
additive float mask of any strides (a broadcast view: stride 0 allowed). A row with no
visible key gives an output row of zeros (torch's ``_safe_softmax``) and zero gradients.
"""

from cython.parallel cimport prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

ctypedef fused real:
    float
    double

cdef extern from "_gemm_f32.h" nogil:
    void ct_copy_f32(float *dst, Py_ssize_t drs, const float *src, Py_ssize_t srs, int rows,
                     int cols, int transpose)

cdef extern from "_attention_simd.h" nogil:
    void cta_set_tiles(int on)
    void cta_forward_f32(const float *q, const float *kT, const float *v, const float *mask,
                         Py_ssize_t ms0, Py_ssize_t ms1, int causal, float scale, float *o,
                         float *lse, Py_ssize_t L, Py_ssize_t S, Py_ssize_t D, Py_ssize_t DV,
                         float *s, float *pad, float *obuf, Py_ssize_t ldt)
    void cta_forward_f64(const double *q, const double *kT, const double *v,
                         const double *mask, Py_ssize_t ms0, Py_ssize_t ms1, int causal,
                         double scale, double *o, double *lse, Py_ssize_t L, Py_ssize_t S,
                         Py_ssize_t D, Py_ssize_t DV, double *s, double *pad, double *obuf,
                         Py_ssize_t ldt)
    void cta_backward_f32(const float *q, const float *k, const float *kT, const float *vT,
                          const float *mask, Py_ssize_t ms0, Py_ssize_t ms1, int causal,
                          float scale, const float *o, const float *go, const float *lse,
                          float *gq, float *gk, float *gv, float *gmask, Py_ssize_t L,
                          Py_ssize_t S, Py_ssize_t D, Py_ssize_t DV, float *p, float *dp,
                          float *pad, float *gqb, Py_ssize_t ldt)
    void cta_backward_f64(const double *q, const double *k, const double *kT,
                          const double *vT, const double *mask, Py_ssize_t ms0,
                          Py_ssize_t ms1, int causal, double scale, const double *o,
                          const double *go, const double *lse, double *gq, double *gk,
                          double *gv, double *gmask, Py_ssize_t L, Py_ssize_t S,
                          Py_ssize_t D, Py_ssize_t DV, double *p, double *dp, double *pad,
                          double *gqb, Py_ssize_t ldt)


def _set_register_tiles(bint on):
    """Turn the AVX-512 register tiles of the float32 kernels off (on: back to the CPU's
    default), so that tests can compare them with the portable loops bit for bit."""
    cta_set_tiles(on)


cdef inline void _copy_rows(real *dst, Py_ssize_t drs, const real *src, Py_ssize_t srs,
                            Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """dst's rows (drs apart) <- src's rows (srs apart), cols elements each: a slice's rows
    gathered into a C-contiguous block (drs = cols) or scattered back out of one (srs = cols)"""
    cdef Py_ssize_t i
    if real is float:
        ct_copy_f32(dst, drs, src, srs, <int> rows, <int> cols, 0)
        return
    for i in range(rows):
        memcpy(dst + i * drs, src + i * srs, cols * sizeof(real))


cdef inline Py_ssize_t _ldt(Py_ssize_t S) noexcept nogil:
    """The row stride of the per-slice K^T and V^T blocks (S keys a row): S rounded up to an
    odd number of 16-element units, so that the rows a product tile walks down start in
    different L1 sets (rows 4 KiB apart, S = 1024 float32, all fell in one set: 8 heads of
    1024 x 64 ran 0.81x torch)"""
    cdef Py_ssize_t n16 = (S + 15) // 16
    if n16 % 2 == 0:
        n16 += 1
    return 16 * n16


cdef inline void _transpose(real *dst, Py_ssize_t ld, const real *src, Py_ssize_t rows,
                            Py_ssize_t cols, Py_ssize_t rs) noexcept nogil:
    """dst (cols, rows), rows ld apart <- the transpose of src (rows, cols), rows rs apart
    (float32: 16 x 16 register transposes; else in 8-row strips, so each strip's rows stay
    in L1 while their columns are written)"""
    cdef Py_ssize_t i0, i1, i, j
    if real is float:
        ct_copy_f32(dst, ld, src, rs, <int> rows, <int> cols, 1)
        return
    for i0 in range(0, rows, 8):
        i1 = i0 + 8 if i0 + 8 < rows else rows
        for j in range(cols):
            for i in range(i0, i1):
                dst[j * ld + i] = src[i * rs + j]


cdef inline const real *_rows(const real *src, Py_ssize_t rs, Py_ssize_t rows,
                              Py_ssize_t cols, real *scratch) noexcept nogil:
    """src's (rows, cols) slice as a C-contiguous block: src itself when its rows are
    adjacent, else gathered into scratch"""
    if rs == cols:
        return src
    _copy_rows(scratch, cols, src, rs, rows, cols)
    return scratch


cdef _unit_last(str op, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2, Py_ssize_t s3,
                Py_ssize_t isz):
    if s0 != isz or s1 != isz or s2 != isz or s3 != isz:
        raise ValueError(f"{op}: every operand's last dimension must have unit stride")


def sdpa_forward(
    const real[:, :, :, :] q, const real[:, :, :, :] k, const real[:, :, :, :] v,
    mask, bint causal, double scale, real[:, :, :, :] o, real[:, :, ::1] lse,
):
    """o = softmax(q k^T * scale + mask) v per (batch, head) slice; lse = each row's
    log-sum-exp.  q (B, H, L, D), k (B, H, S, D), v (B, H, S, DV) and o (B, H, L, DV) of any
    strides but a unit last one (the transposed (B, T, H, D) views of a transformer need no
    copy: a slice's rows are gathered into a per-thread block, k transposed there);
    lse (B, H, L) C-contiguous; mask None or (B, H, L, S) of any strides."""
    cdef Py_ssize_t B = q.shape[0], H = q.shape[1], L = q.shape[2], D = q.shape[3]
    cdef Py_ssize_t S = k.shape[2], DV = v.shape[3], b, bi, hi
    cdef Py_ssize_t W = D if D > DV else DV
    cdef Py_ssize_t isz = sizeof(real)
    cdef Py_ssize_t qrs = q.strides[2] // isz, krs = k.strides[2] // isz
    cdef Py_ssize_t vrs = v.strides[2] // isz, ors = o.strides[2] // isz
    cdef Py_ssize_t ldt = _ldt(S)
    cdef Py_ssize_t nbuf = 32 * S + 4 * W + 4 * DV + 1 + D * ldt + L * D + S * DV + L * DV
    cdef const real[:, :, :, :] mk
    cdef Py_ssize_t ms[4]
    cdef const real *pm
    cdef const real *qp
    cdef const real *vp
    cdef real *kT
    cdef real *op
    cdef real *buf
    cdef int failed = 0
    _unit_last("sdpa_forward", q.strides[3], k.strides[3], v.strides[3], o.strides[3], isz)
    ms[0] = ms[1] = ms[2] = ms[3] = 0
    cdef bint has_mask = mask is not None
    if has_mask:
        mk = mask
        ms[2] = mk.strides[2] // isz
        ms[3] = mk.strides[3] // isz
    if B * H == 0 or L == 0:
        return
    with nogil:
        for b in prange(B * H, schedule='static'):
            bi = b // H
            hi = b % H
            buf = <real *> malloc(nbuf * sizeof(real))
            if buf == NULL:
                failed = 1
                continue
            # buf: scores (32 S), pad (4 W), obuf (4 DV), kT (D S), q, v and o blocks
            kT = buf + 32 * S + 4 * W + 4 * DV + 1
            _transpose(kT, ldt, &k[bi, hi, 0, 0], S, D, krs)
            qp = _rows(&q[bi, hi, 0, 0], qrs, L, D, kT + D * ldt)
            vp = _rows(&v[bi, hi, 0, 0], vrs, S, DV, kT + D * ldt + L * D)
            op = &o[bi, hi, 0, 0] if ors == DV else kT + D * ldt + L * D + S * DV
            pm = &mk[bi, hi, 0, 0] if has_mask else NULL
            if real is float:
                cta_forward_f32(qp, kT, vp, pm, ms[2], ms[3], causal, <float> scale, op,
                                &lse[bi, hi, 0], L, S, D, DV, buf, buf + 32 * S,
                                buf + 32 * S + 4 * W, ldt)
            else:
                cta_forward_f64(qp, kT, vp, pm, ms[2], ms[3], causal, scale, op,
                                &lse[bi, hi, 0], L, S, D, DV, buf, buf + 32 * S,
                                buf + 32 * S + 4 * W, ldt)
            if ors != DV:
                _copy_rows(&o[bi, hi, 0, 0], ors, op, DV, L, DV)
            free(buf)
    if failed:
        raise MemoryError("scaled_dot_product_attention: out of memory for the score rows")


def sdpa_backward(
    const real[:, :, :, :] q, const real[:, :, :, :] k, const real[:, :, :, :] v,
    mask, bint causal, double scale, const real[:, :, :, :] o,
    const real[:, :, :, :] go, const real[:, :, ::1] lse, real[:, :, :, :] gq,
    real[:, :, :, :] gk, real[:, :, :, :] gv, gmask,
):
    """Gradients of sdpa_forward: gq, gk, gv (and the scores', into gmask (B, H, L, S)
    C-contiguous, when not None) from go and the forward's o and lse.  q, k, v, o, go and the
    gradients: any strides but a unit last one, as in sdpa_forward."""
    cdef Py_ssize_t B = q.shape[0], H = q.shape[1], L = q.shape[2], D = q.shape[3]
    cdef Py_ssize_t S = k.shape[2], DV = v.shape[3], b, bi, hi
    cdef Py_ssize_t W = D if D > DV else DV
    cdef Py_ssize_t isz = sizeof(real)
    cdef Py_ssize_t qrs = q.strides[2] // isz, krs = k.strides[2] // isz
    cdef Py_ssize_t vrs = v.strides[2] // isz, ors = o.strides[2] // isz
    cdef Py_ssize_t gors = go.strides[2] // isz, gqrs = gq.strides[2] // isz
    cdef Py_ssize_t gkrs = gk.strides[2] // isz, gvrs = gv.strides[2] // isz
    cdef Py_ssize_t nfix = 64 * S + 8 * W + 4 * D + 1
    cdef Py_ssize_t ldt = _ldt(S)
    # + kT (D ldt), vT (DV ldt), k, gk (S D each), gv (S DV), q, gq (L D), o, go (L DV)
    cdef Py_ssize_t nbuf = nfix + (D + DV) * ldt + 2 * S * D + S * DV + 2 * L * D + 2 * L * DV
    cdef const real[:, :, :, :] mk
    cdef real[:, :, :, :] gm
    cdef Py_ssize_t ms[4]
    cdef const real *pm
    cdef real *pg
    cdef real *buf
    cdef real *kT
    cdef real *vT
    cdef real *nxt
    cdef const real *qp
    cdef const real *kp
    cdef const real *op
    cdef const real *gop
    cdef real *gqp
    cdef real *gkp
    cdef real *gvp
    cdef int failed = 0
    _unit_last("sdpa_backward", q.strides[3], k.strides[3], v.strides[3], o.strides[3], isz)
    _unit_last("sdpa_backward", go.strides[3], gq.strides[3], gk.strides[3], gv.strides[3],
               isz)
    ms[0] = ms[1] = ms[2] = ms[3] = 0
    cdef bint has_mask = mask is not None
    if has_mask:
        mk = mask
        ms[2] = mk.strides[2] // isz
        ms[3] = mk.strides[3] // isz
    cdef bint has_gm = gmask is not None
    if has_gm:
        gm = gmask
    if B * H == 0:
        return
    with nogil:
        for b in prange(B * H, schedule='static'):
            bi = b // H
            hi = b % H
            buf = <real *> malloc(nbuf * sizeof(real))
            if buf == NULL:
                failed = 1
                continue
            # buf: p, dp (32 S each), pad (8 W), gqb (4 D), then kT, vT and the gathered
            # or scattered row blocks
            kT = buf + nfix
            vT = kT + D * ldt
            _transpose(kT, ldt, &k[bi, hi, 0, 0], S, D, krs)
            _transpose(vT, ldt, &v[bi, hi, 0, 0], S, DV, vrs)
            nxt = vT + DV * ldt
            qp = _rows(&q[bi, hi, 0, 0], qrs, L, D, nxt)
            nxt = nxt + L * D
            kp = _rows(&k[bi, hi, 0, 0], krs, S, D, nxt)
            nxt = nxt + S * D
            op = _rows(&o[bi, hi, 0, 0], ors, L, DV, nxt)
            nxt = nxt + L * DV
            gop = _rows(&go[bi, hi, 0, 0], gors, L, DV, nxt)
            nxt = nxt + L * DV
            gqp = &gq[bi, hi, 0, 0] if gqrs == D else nxt
            nxt = nxt + L * D
            gkp = &gk[bi, hi, 0, 0] if gkrs == D else nxt
            nxt = nxt + S * D
            gvp = &gv[bi, hi, 0, 0] if gvrs == DV else nxt
            pm = &mk[bi, hi, 0, 0] if has_mask else NULL
            pg = &gm[bi, hi, 0, 0] if has_gm else NULL
            if real is float:
                cta_backward_f32(qp, kp, kT, vT, pm, ms[2], ms[3], causal, <float> scale, op,
                                 gop, &lse[bi, hi, 0], gqp, gkp, gvp, pg, L, S, D, DV, buf,
                                 buf + 32 * S, buf + 64 * S, buf + 64 * S + 8 * W, ldt)
            else:
                cta_backward_f64(qp, kp, kT, vT, pm, ms[2], ms[3], causal, scale, op, gop,
                                 &lse[bi, hi, 0], gqp, gkp, gvp, pg, L, S, D, DV, buf,
                                 buf + 32 * S, buf + 64 * S, buf + 64 * S + 8 * W, ldt)
            if gqrs != D:
                _copy_rows(&gq[bi, hi, 0, 0], gqrs, gqp, D, L, D)
            if gkrs != D:
                _copy_rows(&gk[bi, hi, 0, 0], gkrs, gkp, D, S, D)
            if gvrs != DV:
                _copy_rows(&gv[bi, hi, 0, 0], gvrs, gvp, DV, S, DV)
            free(buf)
    if failed:
        raise MemoryError("scaled_dot_product_attention: out of memory for the score rows")
