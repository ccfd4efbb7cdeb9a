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

ctypedef fused real:
    float
    double

cdef extern from "_attention_simd.h" nogil:
    void cta_set_tiles(int on)
    void cta_forward_f32(const float *q, const float *kT, const float *v, const float *mask,
                         Py_ssize_t ms0, Py_ssize_t ms1, int causal, float scale, float *o,
                         float *lse, Py_ssize_t L, Py_ssize_t S, Py_ssize_t D, Py_ssize_t DV,
                         float *s, float *pad, float *obuf)
    void cta_forward_f64(const double *q, const double *kT, const double *v,
                         const double *mask, Py_ssize_t ms0, Py_ssize_t ms1, int causal,
                         double scale, double *o, double *lse, Py_ssize_t L, Py_ssize_t S,
                         Py_ssize_t D, Py_ssize_t DV, double *s, double *pad, double *obuf)
    void cta_backward_f32(const float *q, const float *k, const float *kT, const float *vT,
                          const float *mask, Py_ssize_t ms0, Py_ssize_t ms1, int causal,
                          float scale, const float *o, const float *go, const float *lse,
                          float *gq, float *gk, float *gv, float *gmask, Py_ssize_t L,
                          Py_ssize_t S, Py_ssize_t D, Py_ssize_t DV, float *p, float *dp,
                          float *pad, float *gqb)
    void cta_backward_f64(const double *q, const double *k, const double *kT,
                          const double *vT, const double *mask, Py_ssize_t ms0,
                          Py_ssize_t ms1, int causal, double scale, const double *o,
                          const double *go, const double *lse, double *gq, double *gk,
                          double *gv, double *gmask, Py_ssize_t L, Py_ssize_t S,
                          Py_ssize_t D, Py_ssize_t DV, double *p, double *dp, double *pad,
                          double *gqb)


def _set_register_tiles(bint on):
    """Turn the AVX-512 register tiles of the float32 kernels off (on: back to the CPU's
    default), so that tests can compare them with the portable loops bit for bit."""
    cta_set_tiles(on)


def sdpa_forward(
    const real[:, :, ::1] q, const real[:, :, ::1] kT, const real[:, :, ::1] v,
    mask, bint causal, double scale, real[:, :, ::1] o, real[:, ::1] lse,
):
    """o = softmax(q k^T * scale + mask) v per slice; lse = each row's log-sum-exp.
    q (BH, L, D), kT (BH, D, S) (k transposed), v (BH, S, DV), mask None or (BH, L, S) of
    any strides."""
    cdef Py_ssize_t BH = q.shape[0], L = q.shape[1], D = q.shape[2]
    cdef Py_ssize_t S = kT.shape[2], DV = v.shape[2], b
    cdef Py_ssize_t W = D if D > DV else DV
    cdef const real[:, :, :] mk
    cdef Py_ssize_t ms[3]
    cdef const real *pm
    cdef real *buf
    cdef int failed = 0
    ms[0] = ms[1] = ms[2] = 0
    cdef bint has_mask = mask is not None
    if has_mask:
        mk = mask
        ms[0] = mk.strides[0] // sizeof(real)
        ms[1] = mk.strides[1] // sizeof(real)
        ms[2] = mk.strides[2] // sizeof(real)
    if BH == 0 or L == 0:
        return
    with nogil:
        for b in prange(BH, schedule='static'):
            buf = <real *> malloc((32 * S + 4 * W + 4 * DV + 1) * sizeof(real))
            if buf == NULL:
                failed = 1
                continue
            pm = &mk[b, 0, 0] if has_mask else NULL
            if real is float:
                cta_forward_f32(&q[b, 0, 0], &kT[b, 0, 0], &v[b, 0, 0], pm, ms[1], ms[2],
                                causal, <float> scale, &o[b, 0, 0], &lse[b, 0], L, S, D, DV,
                                buf, buf + 32 * S, buf + 32 * S + 4 * W)
            else:
                cta_forward_f64(&q[b, 0, 0], &kT[b, 0, 0], &v[b, 0, 0], pm, ms[1], ms[2],
                                causal, scale, &o[b, 0, 0], &lse[b, 0], L, S, D, DV, buf,
                                buf + 32 * S, buf + 32 * S + 4 * W)
            free(buf)
    if failed:
        raise MemoryError("scaled_dot_product_attention: out of memory for the score rows")


def sdpa_backward(
    const real[:, :, ::1] q, const real[:, :, ::1] k, const real[:, :, ::1] kT,
    const real[:, :, ::1] vT, mask, bint causal, double scale, const real[:, :, ::1] o,
    const real[:, :, ::1] go, const real[:, ::1] lse, real[:, :, ::1] gq,
    real[:, :, ::1] gk, real[:, :, ::1] gv, gmask,
):
    """Gradients of sdpa_forward: gq, gk, gv (and the scores', into gmask (BH, L, S)
    C-contiguous, when not None) from go and the forward's o and lse. vT is v transposed
    (BH, DV, S)."""
    cdef Py_ssize_t BH = q.shape[0], L = q.shape[1], D = q.shape[2]
    cdef Py_ssize_t S = k.shape[1], DV = vT.shape[1], b
    cdef Py_ssize_t W = D if D > DV else DV
    cdef const real[:, :, :] mk
    cdef real[:, :, ::1] gm
    cdef Py_ssize_t ms[3]
    cdef const real *pm
    cdef real *pg
    cdef real *buf
    cdef int failed = 0
    ms[0] = ms[1] = ms[2] = 0
    cdef bint has_mask = mask is not None
    if has_mask:
        mk = mask
        ms[0] = mk.strides[0] // sizeof(real)
        ms[1] = mk.strides[1] // sizeof(real)
        ms[2] = mk.strides[2] // sizeof(real)
    cdef bint has_gm = gmask is not None
    if has_gm:
        gm = gmask
    if BH == 0:
        return
    with nogil:
        for b in prange(BH, schedule='static'):
            buf = <real *> malloc((64 * S + 8 * W + 4 * D + 1) * sizeof(real))
            if buf == NULL:
                failed = 1
                continue
            pm = &mk[b, 0, 0] if has_mask else NULL
            pg = &gm[b, 0, 0] if has_gm else NULL
            if real is float:
                cta_backward_f32(&q[b, 0, 0], &k[b, 0, 0], &kT[b, 0, 0], &vT[b, 0, 0], pm,
                                 ms[1], ms[2], causal, <float> scale, &o[b, 0, 0],
                                 &go[b, 0, 0], &lse[b, 0], &gq[b, 0, 0], &gk[b, 0, 0],
                                 &gv[b, 0, 0], pg, L, S, D, DV, buf, buf + 32 * S,
                                 buf + 64 * S, buf + 64 * S + 8 * W)
            else:
                cta_backward_f64(&q[b, 0, 0], &k[b, 0, 0], &kT[b, 0, 0], &vT[b, 0, 0], pm,
                                 ms[1], ms[2], causal, scale, &o[b, 0, 0], &go[b, 0, 0],
                                 &lse[b, 0], &gq[b, 0, 0], &gk[b, 0, 0], &gv[b, 0, 0], pg,
                                 L, S, D, DV, buf, buf + 32 * S, buf + 64 * S,
                                 buf + 64 * S + 8 * W)
            free(buf)
    if failed:
        raise MemoryError("scaled_dot_product_attention: out of memory for the score rows")
