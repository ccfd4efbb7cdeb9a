/* AVX-512 register tiles for the float32 attention kernels (_attention_tmpl.h's
 * cta_gemm4_nt, cta_gemm4_nn and cta_rank4 on a CPU with AVX-512F).
 *
 * The portable loops keep a 4 x one-vector tile, whose accumulators GCC spills to the stack;
 * here a 4 x 4-vector tile (16 zmm accumulators) stays in registers, so each loaded vector
 * feeds 4 FMAs and each broadcast 4.  Every element is still one FMA chain over the
 * contraction index in the same order as the portable loops (which use fmaf), so both paths
 * give the same bits, on any CPU and at any thread count (tests/nn/test_sdpa_fused.py turns
 * the tiles off through attention._set_register_tiles and compares).
 *
 * Tiles come in two kinds: full ones (every vector inside the row: plain loads and stores)
 * and edge ones (the last vector masked; a masked lane is the same fmaf as a scalar one).
 * Masked loads throughout ran the tile ~20% slower.
 */
#ifndef CT_ATTENTION_AVX512_H
#define CT_ATTENTION_AVX512_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CTA_AVX512 1
#define CTA_TGT __attribute__((target("avx512f")))

/* whether the float32 kernels take these tiles: the CPU's AVX-512F, unless a test turned
 * them off (attention._set_register_tiles) to compare them with the portable loops */
static int cta_tiles_on = -1;

static inline int cta_tiles(void)
{
    if (cta_tiles_on < 0) cta_tiles_on = ct_have_avx512();
    return cta_tiles_on;
}

static inline void cta_set_tiles(int on) { cta_tiles_on = on && ct_have_avx512(); }

/* mk[v]: the 16-lane masks of the NV vectors from column c0 of a row of n columns;
 * CTA_LD/CTA_ST: vector v's load or store, plain when FULL, else through its mask */
#define CTA_MASKS(NV, c0, n)                                                                 \
    __mmask16 mk[NV];                                                                        \
    for (int v = 0; v < NV; v++)                                                             \
        mk[v] = (__mmask16)ct_lanes16(0, (int)((n) - (c0) - 16 * v));
#define CTA_LD(FULL, m, p) ((FULL) ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((m), (p)))
#define CTA_ST(FULL, m, p, x)                                                                \
    do {                                                                                     \
        if (FULL) _mm512_storeu_ps((p), (x));                                                \
        else _mm512_mask_storeu_ps((p), (m), (x));                                           \
    } while (0)
#define CTA_R4 _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)
#define CTA_V(NV) _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)

/* One tile of both products: out[r * ldo + c] (= or +=) sum_{i < cnt} x[r * ldx + i] *
 * y[i * ldy + c] for 4 rows r and the columns c in [c0, c0 + 16 NV) of ncols, the
 * accumulators starting from zero, or from out when ACC.  cta_gemm4_nt is
 * (x, y, out) = (a, bT, s) over d; cta_gemm4_nn is (p, b, c) over the keys j. */
#define CTA_TILE(NAME, NV, FULL, ACC)                                                        \
    static CTA_TGT void NAME(const float *x, ct_i ldx, ct_i cnt, const float *y, ct_i ldy,  \
                             ct_i c0, ct_i ncols, float *out, ct_i ldo)                      \
    {                                                                                        \
        CTA_MASKS(NV, c0, ncols)                                                             \
        __m512 acc[4][NV];                                                                   \
        CTA_R4 CTA_V(NV) acc[r][v] = (ACC) ? CTA_LD(FULL, mk[v], out + r * ldo + c0 + 16 * v) \
                                           : _mm512_setzero_ps();                            \
        for (ct_i i = 0; i < cnt; ++i) {                                                     \
            const float *yr = y + i * ldy + c0;                                              \
            __m512 b[NV];                                                                    \
            CTA_V(NV) b[v] = CTA_LD(FULL, mk[v], yr + 16 * v);                               \
            CTA_R4 {                                                                         \
                const __m512 xb = _mm512_set1_ps(x[r * ldx + i]);                            \
                CTA_V(NV) acc[r][v] = _mm512_fmadd_ps(xb, b[v], acc[r][v]);                  \
            }                                                                                \
        }                                                                                    \
        CTA_R4 CTA_V(NV) CTA_ST(FULL, mk[v], out + r * ldo + c0 + 16 * v, acc[r][v]);        \
    }
CTA_TILE(cta_nt_full4, 4, 1, 0)
CTA_TILE(cta_nt_full1, 1, 1, 0)
CTA_TILE(cta_nt_edge1, 1, 0, 0)

/* s[r * S + j] = sum_d a[r * D + d] * bT[d * ldb + j], 4 rows, j < n */
static CTA_TGT void cta_gemm4_nt_avx512(const float *a, ct_i D, const float *bT, ct_i ldb,
                                        ct_i S, ct_i n, float *s)
{
    ct_i j0 = 0;
    for (; j0 + 64 <= n; j0 += 64) cta_nt_full4(a, D, D, bT, ldb, j0, n, s, S);
    for (; j0 + 16 <= n; j0 += 16) cta_nt_full1(a, D, D, bT, ldb, j0, n, s, S);
    if (j0 < n) cta_nt_edge1(a, D, D, bT, ldb, j0, n, s, S);
}

CTA_TILE(cta_nn_full4, 4, 1, 1)
CTA_TILE(cta_nn_full3, 3, 1, 1)
CTA_TILE(cta_nn_full2, 2, 1, 1)
CTA_TILE(cta_nn_full1, 1, 1, 1)
CTA_TILE(cta_nn_edge4, 4, 0, 1)
CTA_TILE(cta_nn_edge3, 3, 0, 1)
CTA_TILE(cta_nn_edge2, 2, 0, 1)
CTA_TILE(cta_nn_edge1, 1, 0, 1)

/* c[r * DD + d] += sum_{j < n} p[r * S + j] * b[j * DD + d], 4 rows, d < DD */
static CTA_TGT void cta_gemm4_nn_avx512(const float *p, ct_i S, ct_i n, const float *b,
                                        ct_i DD, float *c)
{
    for (ct_i d0 = 0; d0 < DD; d0 += 64) {
        const ct_i left = DD - d0;
        const int nv = left >= 64 ? 4 : (int)((left + 15) / 16);
        if (left >= 64 || left % 16 == 0) {
            switch (nv) {
            case 4: cta_nn_full4(p, S, n, b, DD, d0, DD, c, DD); break;
            case 3: cta_nn_full3(p, S, n, b, DD, d0, DD, c, DD); break;
            case 2: cta_nn_full2(p, S, n, b, DD, d0, DD, c, DD); break;
            default: cta_nn_full1(p, S, n, b, DD, d0, DD, c, DD); break;
            }
        } else {
            switch (nv) {
            case 4: cta_nn_edge4(p, S, n, b, DD, d0, DD, c, DD); break;
            case 3: cta_nn_edge3(p, S, n, b, DD, d0, DD, c, DD); break;
            case 2: cta_nn_edge2(p, S, n, b, DD, d0, DD, c, DD); break;
            default: cta_nn_edge1(p, S, n, b, DD, d0, DD, c, DD); break;
            }
        }
    }
}

/* g[j * DD + d] = fma(c3, x3, fma(c2, x2, fma(c1, x1, fma(c0, x0, g)))) for j < n: x's rows
 * stay in registers over the keys (up to 4 vectors of them at a time) */
static CTA_TGT void cta_rank4_avx512(float *g, ct_i DD, const float *c, ct_i S, const float *x,
                                     ct_i n)
{
    for (ct_i d0 = 0; d0 < DD; d0 += 64) {
        int nv = (int)((DD - d0 + 15) / 16);
        if (nv > 4) nv = 4;
        __mmask16 mk[4];
        __m512 xv[4][4];
        for (int v = 0; v < 4; v++) {
            mk[v] = v < nv ? (__mmask16)ct_lanes16(0, (int)(DD - d0 - 16 * v)) : 0;
            CTA_R4 xv[r][v] = _mm512_maskz_loadu_ps(mk[v], x + r * DD + d0 + 16 * v);
        }
        for (ct_i j = 0; j < n; ++j) {
            const __m512 c0 = _mm512_set1_ps(c[j]), c1 = _mm512_set1_ps(c[S + j]);
            const __m512 c2 = _mm512_set1_ps(c[2 * S + j]), c3 = _mm512_set1_ps(c[3 * S + j]);
            float *gr = g + j * DD + d0;
            for (int v = 0; v < nv; v++) {
                const int full = mk[v] == 0xFFFF;
                __m512 acc = CTA_LD(full, mk[v], gr + 16 * v);
                acc = _mm512_fmadd_ps(c0, xv[0][v], acc);
                acc = _mm512_fmadd_ps(c1, xv[1][v], acc);
                acc = _mm512_fmadd_ps(c2, xv[2][v], acc);
                acc = _mm512_fmadd_ps(c3, xv[3][v], acc);
                CTA_ST(full, mk[v], gr + 16 * v, acc);
            }
        }
    }
}

/* The largest of x[0:n) (n >= 1) in vector steps (the tail one masked, a vector max to
 * finish): ct_rmax's value, ~4x faster on attention's short causal rows, whose scalar tail
 * and lane chain took ~20% of the forward.  *nan is set when a NaN is present (the callers
 * then take ct_rmax's NaN).  Between a +0 and a -0 either may come back: the callers only
 * subtract the maximum before an exp, where x - (+0) and x - (-0) differ only in the sign
 * of a zero and exp(+-0) = 1, so their results keep their bits. */
static CTA_TGT float cta_rowmax_avx512(const float *x, ct_i n, int *nan)
{
    __m512 acc = _mm512_set1_ps(x[0]);
    __mmask16 un = 0;
    ct_i i0 = 0;
    for (; i0 + 16 <= n; i0 += 16) {
        const __m512 v = _mm512_loadu_ps(x + i0);
        un |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        acc = _mm512_max_ps(acc, v);
    }
    if (i0 < n) {
        const __mmask16 k = (__mmask16)ct_lanes16(0, (int)(n - i0));
        const __m512 v = _mm512_mask_loadu_ps(acc, k, x + i0);
        un |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        acc = _mm512_max_ps(acc, v);
    }
    *nan = un != 0;
    return _mm512_reduce_max_ps(acc);
}

#undef CTA_MASKS
#undef CTA_LD
#undef CTA_ST
#undef CTA_R4
#undef CTA_V
#undef CTA_TILE
#undef CTA_TGT
#endif

#endif
