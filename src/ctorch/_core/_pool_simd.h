/* Max pooling 2x2 / stride 2 / no padding over one output row, branch-free so that the
 * compiler vectorises it (`omp simd`, CT_SIMD target_clones): the scalar kernel's
 * data-dependent branches mispredicted on every other window (~10 ns per output).
 * Semantics are the scalar kernel's: taps in order (0,0) (0,1) (1,0) (1,1), a tap replaces
 * the max when it is greater or NaN, so the first max wins ties and the last NaN wins.
 * r0/r1 are the two input rows, j0 the plane offset of r0[0], W the plane width. */
#ifndef CT_POOL_SIMD_H
#define CT_POOL_SIMD_H

#include <stdint.h>
#include "_ct_common.h"

#define CT_MAXPOOL22_ROW(SUF, T)                                                            \
static CT_SIMD void ct_maxpool22_row_##SUF(const T *r0, const T *r1, T *y, int64_t *idx,   \
                                           int64_t ow, int64_t j0, int64_t W)               \
{                                                                                           \
    _Pragma("omp simd")                                                                     \
    for (int64_t ox = 0; ox < ow; ox++) {                                                   \
        const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];    \
        const int64_t j = j0 + 2 * ox;                                                      \
        T m = a;                                                                            \
        int64_t mi = j;                                                                     \
        int t = (b > m) | (b != b);                                                         \
        m = t ? b : m;                                                                      \
        mi = t ? j + 1 : mi;                                                                \
        t = (c > m) | (c != c);                                                             \
        m = t ? c : m;                                                                      \
        mi = t ? j + W : mi;                                                                \
        t = (d > m) | (d != d);                                                             \
        m = t ? d : m;                                                                      \
        mi = t ? j + W + 1 : mi;                                                            \
        y[ox] = m;                                                                          \
        idx[ox] = mi;                                                                       \
    }                                                                                       \
}

CT_MAXPOOL22_ROW(f32_c, float)
CT_MAXPOOL22_ROW(f64, double)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* float32 with AVX-512 masks: rows shorter than a vector (LeNet's 14-wide pooling) or with
 * a ragged tail stay vectorised, where the compiler's epilogue was scalar. */
static __attribute__((target("avx512f"))) void ct_maxpool22_row_f32_avx512(
    const float *r0, const float *r1, float *y, int64_t *idx, int64_t ow, int64_t j0,
    int64_t W)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const __m512i two = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                                            11, 12, 13, 14, 15), 1);
    for (int64_t o = 0; o < ow; o += 16) {
        const int n = ow - o < 16 ? (int)(ow - o) : 16;
        const __mmask16 om = (__mmask16)ct_lanes16(0, n);
        /* the 2n inputs of each row: lanes [0, 2n) of two vectors */
        const __mmask16 ml = (__mmask16)ct_lanes16(0, 2 * n);
        const __mmask16 mh = (__mmask16)ct_lanes16(0, 2 * n - 16);
        const float *p0 = r0 + 2 * o, *p1 = r1 + 2 * o;
        const __m512 x0a = _mm512_maskz_loadu_ps(ml, p0), x0b = _mm512_maskz_loadu_ps(mh, p0 + 16);
        const __m512 x1a = _mm512_maskz_loadu_ps(ml, p1), x1b = _mm512_maskz_loadu_ps(mh, p1 + 16);
        const __m512 a = _mm512_permutex2var_ps(x0a, ev, x0b);
        const __m512 b = _mm512_permutex2var_ps(x0a, od, x0b);
        const __m512 c = _mm512_permutex2var_ps(x1a, ev, x1b);
        const __m512 d = _mm512_permutex2var_ps(x1a, od, x1b);
        /* offsets within the window: 0, 1, W, W + 1 (int32 lanes; W < 2**31 - 1) */
        __m512 m = a;
        __m512i off = _mm512_setzero_si512();
        __mmask16 t = _mm512_cmp_ps_mask(b, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
        m = _mm512_mask_mov_ps(m, t, b);
        off = _mm512_mask_mov_epi32(off, t, _mm512_set1_epi32(1));
        t = _mm512_cmp_ps_mask(c, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
        m = _mm512_mask_mov_ps(m, t, c);
        off = _mm512_mask_mov_epi32(off, t, _mm512_set1_epi32((int)W));
        t = _mm512_cmp_ps_mask(d, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q);
        m = _mm512_mask_mov_ps(m, t, d);
        off = _mm512_mask_mov_epi32(off, t, _mm512_set1_epi32((int)W + 1));
        _mm512_mask_storeu_ps(y + o, om, m);
        const __m512i rel = _mm512_add_epi32(off, two); /* 2*lane + window offset */
        const __m512i base = _mm512_set1_epi64(j0 + 2 * o);
        const __m512i i0 = _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(rel)));
        const __m512i i1 = _mm512_add_epi64(base,
                                            _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(rel, 1)));
        _mm512_mask_storeu_epi64(idx + o, (__mmask8)(om & 0xFF), i0);
        _mm512_mask_storeu_epi64(idx + o + 8, (__mmask8)(om >> 8), i1);
    }
}
#endif

/* set once at module import (ct_pool_init), read by the OpenMP threads */
static int ct_pool_avx512 = 0;

static void ct_pool_init(void)
{
    ct_pool_avx512 = ct_have_avx512();
}

static inline void ct_maxpool22_row_f32(const float *r0, const float *r1, float *y,
                                        int64_t *idx, int64_t ow, int64_t j0, int64_t W)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (ct_pool_avx512 && W < 2147483647) {
        ct_maxpool22_row_f32_avx512(r0, r1, y, idx, ow, j0, W);
        return;
    }
#endif
    ct_maxpool22_row_f32_c(r0, r1, y, idx, ow, j0, W);
}

#endif
