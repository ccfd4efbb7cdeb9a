/* Single-precision GEMM for conv-shaped products (Goto/BLIS structure).
 *
 *   C[b] (M x N) (+)= A[b] (M x K) @ B[b] (K x N)        (batched, any element strides)
 *   C    (M x N) (+)= sum_b A[b] @ B[b]                  (reduce_batch: conv's dW)
 *
 * - A is packed into MR-row panels (k-major, MR floats per k), once for all threads when it
 *   is shared by the batch (the conv weight), else per work item.
 * - B is packed one KC x NR micro-panel at a time (stays in L1) and used by all M/MR
 *   micro-kernel calls before the next one is packed.
 * - Micro-kernel: MR=8 rows x NR=48 columns (3 zmm per row, 24 accumulators), broadcast A,
 *   FMA; narrower 32/16-column variants for the right edge.  Partial tiles go through a
 *   small on-stack tile.
 * - Threads split the (batch, column-block) items, never K: each C element is one
 *   sequential FMA chain over k in a fixed K blocking, so the result is bitwise identical
 *   for any thread count (and any column partition).
 * - AVX-512 code is compiled with target("avx512f") and chosen at run time; other CPUs get
 *   a portable C micro-kernel with the same summation order (slow; callers use NumPy there).
 */
#ifndef CT_GEMM_F32_H
#define CT_GEMM_F32_H

#include "_ct_common.h"
#include <stdlib.h>
#include <string.h>

#define CTG_MR 8
#define CTG_NR 48
#define CTG_MC 256 /* rows per block: its packed A (MC x kc, <= 256 KiB) and C block stay in L2 */
/* K block: a kc x 48 B micro-panel is up to 48 KiB, the L1 of the AVX-512 CPUs measured;
 * it streams through L1 in k order.  K <= 256 is one block, so C is written once: with 160,
 * 700x200 @ 200x10000 (an LSTM LM's decoder) wrote its 28 MB C twice and ran at 102
 * GFLOP/s, at 256 at 126 (1 thread, Xeon); conv shapes and K = 512..2048 products were
 * equal or a few % faster.  The blocking never changes the bits: each C element is one FMA
 * chain over k, and a stored partial sum is reloaded exactly. */
#define CTG_KC 256
#define CTG_KC_BIG 512 /* ct_sgemm's K block where B is packed and A is not column-major */

#if defined(__x86_64__) && defined(__GNUC__)
#define CTG_X86 1
#include <immintrin.h>
#include "_tr_avx512.h"
#endif

/* pf/npf: npf cache lines from pf on to prefetch into L2 while computing (next B block). */
/* B's rows are ldb floats apart: w (= 16 * the vectors) in a packed panel, B's own row
 * stride where B is read in place (ctg_b_direct). */
typedef void (*ctg_ukern_t)(int kc, const float *ap, const float *bp, ptrdiff_t ldb, float *c,
                            ptrdiff_t ldc, int load, const char *pf, int npf);
/* the same with A in place: row-major, row stride lda, mr valid rows */
typedef void (*ctg_ukern_d_t)(int kc, const float *a, ptrdiff_t lda, int mr, const float *bp,
                              ptrdiff_t ldb, float *c, ptrdiff_t ldc, int load, const char *pf,
                              int npf);

/* ---------------------------------------------------------------- portable micro-kernel */
static void ctg_ukern_c(int nv, int kc, const float *ap, const float *bp, float *c,
                        ptrdiff_t ldc, int load)
{
    const int w = nv * 16;
    float acc[CTG_MR][CTG_NR];
    for (int i = 0; i < CTG_MR; i++)
        for (int j = 0; j < w; j++)
            acc[i][j] = load ? c[i * ldc + j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        const float *b = bp + (ptrdiff_t)k * w;
        for (int i = 0; i < CTG_MR; i++) {
            const float a = ap[k * CTG_MR + i];
            for (int j = 0; j < w; j++)
                acc[i][j] = fmaf(a, b[j], acc[i][j]);
        }
    }
    for (int i = 0; i < CTG_MR; i++)
        for (int j = 0; j < w; j++)
            c[i * ldc + j] = acc[i][j];
}
/* (the portable path packs every panel: ldb is always w) */
static void ctg_ukern_c1(int kc, const float *ap, const float *bp, ptrdiff_t ldb, float *c,
                         ptrdiff_t ldc, int load, const char *pf, int npf)
{ (void)ldb; (void)pf; (void)npf; ctg_ukern_c(1, kc, ap, bp, c, ldc, load); }
static void ctg_ukern_c2(int kc, const float *ap, const float *bp, ptrdiff_t ldb, float *c,
                         ptrdiff_t ldc, int load, const char *pf, int npf)
{ (void)ldb; (void)pf; (void)npf; ctg_ukern_c(2, kc, ap, bp, c, ldc, load); }
static void ctg_ukern_c3(int kc, const float *ap, const float *bp, ptrdiff_t ldb, float *c,
                         ptrdiff_t ldc, int load, const char *pf, int npf)
{ (void)ldb; (void)pf; (void)npf; ctg_ukern_c(3, kc, ap, bp, c, ldc, load); }

/* ---------------------------------------------------------------- AVX-512 micro-kernel */
#ifdef CTG_X86
#define CTG_AVX512 __attribute__((target("avx512f")))

/* The tile's body: C (+)= A @ B over kc, A's value of row i at step k being AVAL (SETUP
 * declares what AVAL needs, STEP advances it after each k). */
#define CTG_UKERN_BODY(NV, SETUP, AVAL, STEP) CTG_UKERN_BODY_R(NV, CTG_MR, SETUP, AVAL, STEP)
/* ... with MR rows (8, or 4 for a bottom edge of at most 4 rows read in place) */
#define CTG_UKERN_BODY_R(NV, MR, SETUP, AVAL, STEP)                                           \
    SETUP                                                                                    \
    __m512 acc[MR][NV];                                                                  \
    _Pragma("GCC unroll 8")                                                                  \
    for (int i = 0; i < MR; i++) {                                                       \
        _Pragma("GCC unroll 3")                                                              \
        for (int v = 0; v < NV; v++)                                                         \
            acc[i][v] = load ? _mm512_loadu_ps(c + i * ldc + 16 * v) : _mm512_setzero_ps(); \
    }                                                                                        \
    for (int k = 0; k < kc; k++) {                                                           \
        if ((k & 1) == 0 && (k >> 1) < npf)                                                  \
            __builtin_prefetch(pf + 64 * (k >> 1), 0, 2);                                    \
        __m512 b[NV];                                                                        \
        _Pragma("GCC unroll 3")                                                              \
        for (int v = 0; v < NV; v++)                                                         \
            b[v] = _mm512_loadu_ps(bp + 16 * v);                                             \
        _Pragma("GCC unroll 8")                                                              \
        for (int i = 0; i < MR; i++) {                                                   \
            const __m512 a = _mm512_set1_ps(AVAL);                                           \
            _Pragma("GCC unroll 3")                                                          \
            for (int v = 0; v < NV; v++)                                                     \
                acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);                             \
        }                                                                                    \
        STEP                                                                                 \
        bp += ldb;                                                                           \
    }                                                                                        \
    _Pragma("GCC unroll 8")                                                                  \
    for (int i = 0; i < MR; i++) {                                                       \
        _Pragma("GCC unroll 3")                                                              \
        for (int v = 0; v < NV; v++)                                                         \
            _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);                               \
    }

/* A from a packed panel: row i's k-th value at ap[k * MR + i] */
#define CTG_UKERN_AVX512(NV)                                                                  \
static CTG_AVX512 void ctg_ukern_avx512_##NV(int kc, const float *ap, const float *bp,      \
                                             ptrdiff_t ldb, float *c, ptrdiff_t ldc,        \
                                             int load, const char *pf, int npf)             \
{                                                                                            \
    CTG_UKERN_BODY(NV, , ap[i], ap += CTG_MR;)                                               \
}

CTG_UKERN_AVX512(1)
CTG_UKERN_AVX512(2)
CTG_UKERN_AVX512(3)

/* The same tile with A read in place (row-major, row stride lda) instead of from a packed
 * panel: row i's k-th value is a[i * lda + k].  Rows past mr (the bottom edge) re-read row
 * mr - 1; their results land in the caller's scratch tile and are dropped.  Each C element
 * is the same FMA chain as with the packed panel, so the bits do not change. */
#define CTG_UKERN_AVX512_DIRECT(NV)                                                           \
static CTG_AVX512 void ctg_ukern_avx512_d##NV(int kc, const float *a, ptrdiff_t lda, int mr,  \
                                              const float *bp, ptrdiff_t ldb, float *c,      \
                                              ptrdiff_t ldc, int load, const char *pf,       \
                                              int npf)                                       \
{                                                                                            \
    CTG_UKERN_BODY(NV,                                                                       \
                   const float *ar[CTG_MR];                                                  \
                   for (int i = 0; i < CTG_MR; i++) ar[i] = a + (i < mr ? i : mr - 1) * lda;,\
                   ar[i][k], )                                                               \
}

CTG_UKERN_AVX512_DIRECT(1)
CTG_UKERN_AVX512_DIRECT(2)
CTG_UKERN_AVX512_DIRECT(3)

/* A 4-row tile read in place, for a bottom edge of at most 4 rows (M = 20: 8 + 8 + 4 rows
 * instead of 8 + 8 + 8, a sixth of the FMAs wasted); rows past mr re-read row mr - 1 as
 * above.  The same FMA chains. */
#define CTG_UKERN_AVX512_DIRECT4(NV)                                                          \
static CTG_AVX512 void ctg_ukern_avx512_d4r##NV(int kc, const float *a, ptrdiff_t lda, int mr, \
                                                const float *bp, ptrdiff_t ldb, float *c,    \
                                                ptrdiff_t ldc, int load, const char *pf,     \
                                                int npf)                                     \
{                                                                                            \
    CTG_UKERN_BODY_R(NV, 4,                                                                  \
                     const float *ar[4];                                                     \
                     for (int i = 0; i < 4; i++) ar[i] = a + (i < mr ? i : mr - 1) * lda;,   \
                     ar[i][k], )                                                             \
}

CTG_UKERN_AVX512_DIRECT4(1)
CTG_UKERN_AVX512_DIRECT4(2)
CTG_UKERN_AVX512_DIRECT4(3)

/* The tile with a column-major A read in place (column stride lda): row i's k-th value is
 * a[k * lda + i], the eight rows of one k contiguous, as in a packed panel but lda apart.
 * Full 8-row tiles only (a bottom edge is packed: reading past it could leave the buffer).
 * The same FMA chains as the packed panel. */
#define CTG_UKERN_AVX512_DIRECTCM(NV)                                                         \
static CTG_AVX512 void ctg_ukern_avx512_dc##NV(int kc, const float *ac, ptrdiff_t lda, int mr, \
                                               const float *bp, ptrdiff_t ldb, float *c,     \
                                               ptrdiff_t ldc, int load, const char *pf,      \
                                               int npf)                                      \
{                                                                                            \
    (void)mr;                                                                                \
    CTG_UKERN_BODY(NV, , ac[i], ac += lda;)                                                  \
}

CTG_UKERN_AVX512_DIRECTCM(1)
CTG_UKERN_AVX512_DIRECTCM(2)
CTG_UKERN_AVX512_DIRECTCM(3)
#endif

/* ---------------------------------------------------------------- packing */
/* dst[k*MR + i] = A[i*rs + k*cs] for i < mr, zero for mr <= i < MR. */
static void ctg_pack_a(float *dst, const float *a, ptrdiff_t rs, ptrdiff_t cs, int mr, int kc)
{
    if (mr < CTG_MR) {
        for (int k = 0; k < kc; k++)
            for (int i = mr; i < CTG_MR; i++)
                dst[k * CTG_MR + i] = 0.0f;
    }
    if (rs == 1) {
        for (int k = 0; k < kc; k++) {
            const float *s = a + k * cs;
            for (int i = 0; i < mr; i++)
                dst[k * CTG_MR + i] = s[i];
        }
    } else {
        for (int i = 0; i < mr; i++) {
            const float *s = a + i * rs;
            for (int k = 0; k < kc; k++)
                dst[k * CTG_MR + i] = s[k * cs];
        }
    }
}

/* dst[k*w + j] = B[k*rs + j*cs] for j < nr, zero for nr <= j < w. */
static void ctg_pack_b(float *dst, const float *b, ptrdiff_t rs, ptrdiff_t cs, int nr, int w,
                       int kc)
{
    if (nr < w) {
        for (int k = 0; k < kc; k++)
            for (int j = nr; j < w; j++)
                dst[(ptrdiff_t)k * w + j] = 0.0f;
    }
    if (cs == 1) {
        for (int k = 0; k < kc; k++)
            for (int j = 0; j < nr; j++)
                dst[(ptrdiff_t)k * w + j] = b[k * rs + j];
        return;
    }
    for (int j = 0; j < nr; j++) {
        const float *s = b + j * cs;
        for (int k = 0; k < kc; k++)
            dst[(ptrdiff_t)k * w + j] = s[k * rs];
    }
}

#ifdef CTG_X86
/* Row-major B (cs == 1): pack the kc x (j1-j0) block as consecutive micro-panels (each
 * kc x w, w = 16*ceil(nr/16)), reading every row of B once, contiguously (prefetch-friendly:
 * panel-by-panel packing reads 192 bytes per 4 KiB-strided row and stalls on memory). */
static CTG_AVX512 void ctg_pack_b_rows_avx512(float *dst, const float *b, ptrdiff_t rs,
                                              int ncols, int kc)
{
    const int npan = (ncols + CTG_NR - 1) / CTG_NR;
    for (int k = 0; k < kc; k++) {
        const float *src = b + k * rs;
        for (int p = 0; p < npan; p++) {
            const int jr = p * CTG_NR;
            const int nr = (ncols - jr < CTG_NR) ? ncols - jr : CTG_NR;
            const int w = (nr + 15) / 16 * 16;
            float *d = dst + (ptrdiff_t)jr * kc + (ptrdiff_t)k * w;
            for (int v = 0; v < w; v += 16) {
                const int left = nr - v;
                const __mmask16 m = (__mmask16)ct_lanes16(0, left);
                _mm512_store_ps(d + v, _mm512_maskz_loadu_ps(m, src + jr + v));
            }
        }
    }
}
#endif

#ifdef CTG_X86
/* Column-major B (rs == 1, e.g. cols^T in conv's dW): 16 columns x 16 k at a time, each
 * column's 16 k one contiguous load, transposed in registers (gathers of 4 KiB-strided
 * columns all hit one L1 set). */
static CTG_AVX512 void ctg_pack_b_cols_avx512(float *dst, const float *b, ptrdiff_t cs,
                                              int nr, int w, int kc)
{
    __m512 r[16];
    for (int v = 0; v < w; v += 16) {
        for (int k = 0; k < kc; k += 16) {
            const int kl = kc - k < 16 ? kc - k : 16;
            const __mmask16 km = (__mmask16)ct_lanes16(0, kl);
            for (int j = 0; j < 16; j++)
                r[j] = v + j < nr ? _mm512_maskz_loadu_ps(km, b + (v + j) * cs + k)
                                  : _mm512_setzero_ps();
            ct_tr16_avx512(r);
            for (int t = 0; t < kl; t++)
                _mm512_store_ps(dst + (ptrdiff_t)(k + t) * w + v, r[t]);
        }
    }
}

/* Row-major A (cs == 1): dst[k*MR + i] = A[i*rs + k], two k per 16-lane gather. */
static CTG_AVX512 void ctg_pack_a_rows_avx512(float *dst, const float *a, ptrdiff_t rs, int mr,
                                              int kc)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i idx = _mm512_add_epi32(
        _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)rs)),
        _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const __mmask16 rows = (__mmask16)(ct_lanes16(0, mr) | ct_lanes16(8, 8 + mr));
    int k = 0;
    for (; k + 2 <= kc; k += 2)
        _mm512_storeu_ps(dst + k * CTG_MR,
                        _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, idx, a + k, 4));
    if (k < kc) /* last odd k: 8 lanes only (the buffer may end right after them) */
        _mm512_mask_storeu_ps(dst + k * CTG_MR, (__mmask16)0xFF,
                              _mm512_mask_i32gather_ps(_mm512_setzero_ps(),
                                                       (__mmask16)(rows & 0xFF), idx, a + k, 4));
}
#endif

/* gather indices up to n*stride must fit an int32 */
static inline int ctg_fits_i32(ptrdiff_t stride, int n)
{
    return stride > 0 && stride <= 2147483647 / n;
}

static void *ctg_alloc(size_t nfloats)
{
    void *p = NULL;
    if (nfloats == 0)
        nfloats = 1;
    if (posix_memalign(&p, 64, nfloats * sizeof(float)) != 0)
        return NULL;
    return p;
}

typedef struct {
    int nbatch, M, N, K;
    const float *A; ptrdiff_t a_bs, a_rs, a_cs;
    const float *B; ptrdiff_t b_bs, b_rs, b_cs;
    float *C; ptrdiff_t c_bs, c_rs, c_cs;
    int reduce_batch, accumulate;
    const float *bias; /* NULL, or N column values added to C after its last K block */
    int kc, nkb;       /* K blocking: nkb blocks of kc (the last one shorter) */
    int Mp;            /* M rounded up to MR */
    int simd;
    int a_direct;      /* A read in place, not packed (AVX-512): 1 row-major A (the ukd
                        * kernels), 2 column-major A (the ukc kernels, full 8-row tiles) */
    int b_direct;      /* B's full-width panels read in place (row-major B, AVX-512, few rows) */
    ctg_ukern_t uk[4]; /* by number of 16-wide vectors */
    ctg_ukern_d_t ukd[4];
    ctg_ukern_d_t ukd4[4]; /* 4-row tiles for a bottom edge read in place */
    ctg_ukern_d_t ukc[4];  /* column-major A read in place */
} ctg_problem;

/* Pack all of A[b] (every K block, every MR panel) into dst (Mp*K floats). */
/* Pack panel `it` (K block it / (Mp/MR), rows MR * (it % (Mp/MR))) of A. */
static void ctg_pack_a_panel(const ctg_problem *p, const float *a, float *dst, int it)
{
    const int mpan = p->Mp / CTG_MR;
    const int k0 = (it / mpan) * p->kc, ir = (it % mpan) * CTG_MR;
    const int kc = (p->K - k0 < p->kc) ? p->K - k0 : p->kc;
    const int mr = (p->M - ir < CTG_MR) ? p->M - ir : CTG_MR;
    float *d = dst + (ptrdiff_t)k0 * p->Mp + (ptrdiff_t)ir * kc;
    const float *s = a + ir * p->a_rs + k0 * p->a_cs;
#ifdef CTG_X86
    if (p->simd && p->a_cs == 1 && p->a_rs != 1 && ctg_fits_i32(p->a_rs, CTG_MR)) {
        ctg_pack_a_rows_avx512(d, s, p->a_rs, mr, kc);
        return;
    }
#endif
    ctg_pack_a(d, s, p->a_rs, p->a_cs, mr, kc);
}

static void ctg_pack_a_all(const ctg_problem *p, const float *a, float *dst)
{
    const int n = p->nkb * (p->Mp / CTG_MR);
    for (int it = 0; it < n; it++)
        ctg_pack_a_panel(p, a, dst, it);
}

/* One work item: columns [j0, j1) of C[cb] from batches [b0, b1) (summed when reducing). */
/* Software prefetch (into L2) of the next B block's rows while the current block computes:
 * packing is a pure stream from memory, and without this it does not overlap the FMAs. */
typedef struct {
    const char *base; ptrdiff_t rs_bytes; int rows, lines, r, l, quota;
} ctg_pf;

static void ctg_pf_init(ctg_pf *f, const float *row0, ptrdiff_t rs, int rows, int ncols,
                        int calls)
{
    f->base = (const char *)row0;
    f->rs_bytes = rs * (ptrdiff_t)sizeof(float);
    f->rows = rows;
    f->lines = (ncols * (int)sizeof(float) + 63) / 64 + 1;
    f->r = f->l = 0;
    f->quota = calls > 0 ? (rows * f->lines + calls - 1) / calls + 1 : 0;
}

/* The next run of at most quota lines (within one row) for a micro-kernel to prefetch. */
static inline const char *ctg_pf_step(ctg_pf *f, int *n)
{
    if (f->r >= f->rows || f->quota == 0) { *n = 0; return NULL; }
    int run = f->lines - f->l;
    if (run > f->quota) run = f->quota;
    const char *ptr = f->base + f->r * f->rs_bytes + 64 * f->l;
    f->l += run;
    if (f->l == f->lines) { f->l = 0; f->r++; }
    *n = run;
    return ptr;
}

/* One micro-kernel call: A packed (8-row tiles) or read in place (8-row tiles, 4-row ones
 * for a bottom edge of at most 4 rows). */
static inline void ctg_call(const ctg_problem *p, int nv, int mr, int kc, const float *ap,
                            const float *bp, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int load,
                            const char *pf, int npf)
{
    if (p->a_direct == 2)
        p->ukc[nv](kc, ap, p->a_cs, mr, bp, ldb, c, ldc, load, pf, npf);
    else if (p->a_direct)
        (mr <= 4 ? p->ukd4 : p->ukd)[nv](kc, ap, p->a_rs, mr, bp, ldb, c, ldc, load, pf, npf);
    else
        p->uk[nv](kc, ap, bp, ldb, c, ldc, load, pf, npf);
}

/* c[i * ldc + j] += bias[j] for a tile's rows i < mr and columns j < nr (C's columns
 * contiguous): nn.Linear's bias while the tile is in L1, instead of a pass over the whole
 * output after the product; the same single float addition, so the same bits. */
#ifdef CTG_X86
static CTG_AVX512 void ctg_bias_tile_avx512(float *c, ptrdiff_t ldc, const float *bias, int mr,
                                            int nr)
{
    for (int j = 0; j < nr; j += 16) {
        const __mmask16 m = (__mmask16)ct_lanes16(0, nr - j);
        const __m512 bv = _mm512_maskz_loadu_ps(m, bias + j);
        for (int i = 0; i < mr; i++) {
            float *ci = c + i * ldc + j;
            _mm512_mask_storeu_ps(ci, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, ci), bv));
        }
    }
}
#endif

static void ctg_bias_tile(const ctg_problem *p, float *c, ptrdiff_t ldc, const float *bias,
                          int mr, int nr)
{
#ifdef CTG_X86
    if (p->simd) {
        ctg_bias_tile_avx512(c, ldc, bias, mr, nr);
        return;
    }
#endif
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = c[i * ldc + j] + bias[j];
}

static void ctg_item(const ctg_problem *p, int b0, int b1, int cb, int j0, int j1, int m0,
                     int m1, const float *apk_shared, float *apk, float *bpk, int nxb,
                     int nxj0, int nxj1)
{
    float *C = p->C + cb * p->c_bs;
    float tile[CTG_MR * CTG_NR] __attribute__((aligned(64)));
    /* a column-major A's bottom-edge panel, packed (CTG_MR x kc) */
    float aedge[CTG_MR * CTG_KC_BIG] __attribute__((aligned(64)));
    for (int b = b0; b < b1; b++) {
        const float *apb = apk_shared;
        if (apb == NULL && !p->a_direct) {
            ctg_pack_a_all(p, p->A + b * p->a_bs, apk);
            apb = apk;
        }
        const float *B = p->B + b * p->b_bs;
        for (int kb = 0; kb < p->nkb; kb++) {
            const int k0 = kb * p->kc;
            const int kc = (p->K - k0 < p->kc) ? p->K - k0 : p->kc;
            const int load = p->accumulate || kb > 0 || b > b0;
            /* the bias after the last contribution to each C element */
            const float *bias = p->bias && kb == p->nkb - 1 && b == b1 - 1 ? p->bias : NULL;
            const float *Bk = B + k0 * p->b_rs;
#ifdef CTG_X86
            if (p->b_cs == 1 && p->simd && !p->b_direct)
                ctg_pack_b_rows_avx512(bpk, Bk + j0, p->b_rs, j1 - j0, kc);
            else
#endif
            for (int jr = j0; jr < j1; jr += CTG_NR) {
                const int nr = (j1 - jr < CTG_NR) ? j1 - jr : CTG_NR;
                if (p->b_direct && nr % 16 == 0)
                    continue; /* read in place; only a ragged last panel is packed */
#ifdef CTG_X86
                if (p->simd && p->b_rs == 1 && p->b_cs != 1 && ctg_fits_i32(p->b_cs, 16)) {
                    ctg_pack_b_cols_avx512(bpk + (ptrdiff_t)(jr - j0) * kc, Bk + jr * p->b_cs,
                                           p->b_cs, nr, (nr + 15) / 16 * 16, kc);
                    continue;
                }
#endif
                ctg_pack_b(bpk + (ptrdiff_t)(jr - j0) * kc, Bk + jr * p->b_cs, p->b_rs,
                           p->b_cs, nr, (nr + 15) / 16 * 16, kc);
            }
            ctg_pf pf;
            pf.rows = pf.quota = pf.r = pf.l = pf.lines = 0;
            pf.base = NULL; pf.rs_bytes = 0;
            if (p->b_cs == 1) {
                const int calls = ((j1 - j0 + CTG_NR - 1) / CTG_NR) * ((m1 - m0 + CTG_MR - 1) / CTG_MR);
                if (kb + 1 < p->nkb) {
                    const int kcn = (p->K - k0 - kc < p->kc) ? p->K - k0 - kc : p->kc;
                    ctg_pf_init(&pf, Bk + kc * p->b_rs + j0, p->b_rs, kcn, j1 - j0, calls);
                } else if (b + 1 < b1) {
                    ctg_pf_init(&pf, p->B + (b + 1) * p->b_bs + j0, p->b_rs, p->kc, j1 - j0,
                                calls);
                } else if (nxb >= 0) {
                    ctg_pf_init(&pf, p->B + nxb * p->b_bs + nxj0, p->b_rs, p->kc, nxj1 - nxj0,
                                calls);
                }
            } else if (p->b_rs == 1) { /* column-major B: its columns are the memory rows */
                const int calls = ((j1 - j0 + CTG_NR - 1) / CTG_NR) * ((m1 - m0 + CTG_MR - 1) / CTG_MR);
                if (kb + 1 < p->nkb) {
                    const int kcn = (p->K - k0 - kc < p->kc) ? p->K - k0 - kc : p->kc;
                    ctg_pf_init(&pf, Bk + kc + j0 * p->b_cs, p->b_cs, j1 - j0, kcn, calls);
                } else if (b + 1 < b1) {
                    ctg_pf_init(&pf, p->B + (b + 1) * p->b_bs + j0 * p->b_cs, p->b_cs, j1 - j0,
                                p->kc, calls);
                } else if (nxb >= 0) {
                    ctg_pf_init(&pf, p->B + nxb * p->b_bs + nxj0 * p->b_cs, p->b_cs,
                                nxj1 - nxj0, p->kc, calls);
                }
            }
            for (int ib = m0; ib < m1; ib += CTG_MC)
            for (int jr = j0; jr < j1; jr += CTG_NR) {
                const int nr = (j1 - jr < CTG_NR) ? j1 - jr : CTG_NR;
                const int nv = (nr + 15) / 16;
                const int w = nv * 16;
                const int bdir = p->b_direct && nr == w;
                const float *bp = bdir ? Bk + jr : bpk + (ptrdiff_t)(jr - j0) * kc;
                const ptrdiff_t ldb = bdir ? p->b_rs : w;
                const int ie = (ib + CTG_MC < m1) ? ib + CTG_MC : m1;
                for (int ir = ib; ir < ie; ir += CTG_MR) {
                    const int mr = (p->M - ir < CTG_MR) ? p->M - ir : CTG_MR;
                    const float *ap = p->a_direct
                        ? p->A + b * p->a_bs + ir * p->a_rs + k0 * p->a_cs
                        : apb + (ptrdiff_t)k0 * p->Mp + (ptrdiff_t)ir * kc;
                    const int cm_edge = p->a_direct == 2 && mr < CTG_MR;
                    if (cm_edge) { /* packed here, run by the packed-panel kernel */
                        ctg_pack_a(aedge, ap, p->a_rs, p->a_cs, mr, kc);
                        ap = aedge;
                    }
                    float *c = C + ir * p->c_rs + jr * p->c_cs;
                    int npf;
                    const char *pfp = ctg_pf_step(&pf, &npf);
                    if (npf > kc / 2) npf = kc / 2;
                    /* a full tile straight into C, else through the scratch tile */
                    const int rows = p->a_direct == 1 && mr <= 4 ? 4 : CTG_MR;
                    if (mr == rows && nr == w && p->c_cs == 1) {
                        ctg_call(p, nv, mr, kc, ap, bp, ldb, c, p->c_rs, load, pfp, npf);
                        if (bias)
                            ctg_bias_tile(p, c, p->c_rs, bias + jr, mr, nr);
                    } else {
                        if (load)
                            for (int i = 0; i < mr; i++)
                                for (int j = 0; j < nr; j++)
                                    tile[i * w + j] = c[i * p->c_rs + j * p->c_cs];
                        if (cm_edge)
                            p->uk[nv](kc, ap, bp, ldb, tile, w, load, pfp, npf);
                        else
                            ctg_call(p, nv, mr, kc, ap, bp, ldb, tile, w, load, pfp, npf);
                        if (bias)
                            ctg_bias_tile(p, tile, w, bias + jr, mr, nr);
                        for (int i = 0; i < mr; i++)
                            for (int j = 0; j < nr; j++)
                                c[i * p->c_rs + j * p->c_cs] = tile[i * w + j];
                    }
                }
            }
        }
    }
}

/* Fill p for C (+)= A @ B: K blocking, padded M, micro-kernels (AVX-512 when use_simd and
 * the CPU has it).  The K blocking depends on K only, so every caller that runs the same
 * product gets the same summation order. */
static void ctg_setup(ctg_problem *p, int nbatch, int M, int N, int K,
                      const float *A, ptrdiff_t a_bs, ptrdiff_t a_rs, ptrdiff_t a_cs,
                      const float *B, ptrdiff_t b_bs, ptrdiff_t b_rs, ptrdiff_t b_cs,
                      float *C, ptrdiff_t c_bs, ptrdiff_t c_rs, ptrdiff_t c_cs,
                      int reduce_batch, int accumulate, int use_simd)
{
    p->nbatch = nbatch; p->M = M; p->N = N; p->K = K;
    p->A = A; p->a_bs = a_bs; p->a_rs = a_rs; p->a_cs = a_cs;
    p->B = B; p->b_bs = b_bs; p->b_rs = b_rs; p->b_cs = b_cs;
    p->C = C; p->c_bs = c_bs; p->c_rs = c_rs; p->c_cs = c_cs;
    p->reduce_batch = reduce_batch; p->accumulate = accumulate;
    p->bias = NULL;
    const int KCt = CTG_KC;
    p->nkb = K > 0 ? (K + KCt - 1) / KCt : 1;
    p->kc = K > 0 ? (K + p->nkb - 1) / p->nkb : 1;
    p->Mp = (M + CTG_MR - 1) / CTG_MR * CTG_MR;
    p->uk[0] = NULL;
    p->ukd[0] = p->ukd[1] = p->ukd[2] = p->ukd[3] = NULL;
    p->ukd4[0] = p->ukd4[1] = p->ukd4[2] = p->ukd4[3] = NULL;
    p->ukc[0] = p->ukc[1] = p->ukc[2] = p->ukc[3] = NULL;
    p->a_direct = 0;
    p->b_direct = 0;
#ifdef CTG_X86
    if (use_simd && ct_have_avx512()) {
        p->simd = 1;
        p->uk[1] = ctg_ukern_avx512_1; p->uk[2] = ctg_ukern_avx512_2;
        p->uk[3] = ctg_ukern_avx512_3;
        p->ukd[1] = ctg_ukern_avx512_d1; p->ukd[2] = ctg_ukern_avx512_d2;
        p->ukd[3] = ctg_ukern_avx512_d3;
        p->ukd4[1] = ctg_ukern_avx512_d4r1; p->ukd4[2] = ctg_ukern_avx512_d4r2;
        p->ukd4[3] = ctg_ukern_avx512_d4r3;
        p->ukc[1] = ctg_ukern_avx512_dc1; p->ukc[2] = ctg_ukern_avx512_dc2;
        p->ukc[3] = ctg_ukern_avx512_dc3;
        return;
    }
#endif
    (void)use_simd;
    p->simd = 0;
    p->uk[1] = ctg_ukern_c1; p->uk[2] = ctg_ukern_c2; p->uk[3] = ctg_ukern_c3;
}

/* Column-block width in NR panels for one thread: a C block (min(M, MC) x nc) stays in L2 across
 * the K blocks (512 KiB), the packed B block (kc x nc) within 1 MiB. */
static int ctg_block_panels(const ctg_problem *p)
{
    const int mrows = p->M < CTG_MC ? p->M : CTG_MC; /* the rows of one C block */
    int nc = (int)((128 * 1024) / (mrows > 0 ? mrows : 1));
    if (nc > (256 * 1024) / p->kc) nc = (256 * 1024) / p->kc;
    nc = nc / CTG_NR * CTG_NR;
    if (nc < CTG_NR) nc = CTG_NR;
    const int panels = (p->N + CTG_NR - 1) / CTG_NR;
    const int ncol = (p->N + nc - 1) / nc;
    return (panels + ncol - 1) / ncol;
}

/* C (+)= A @ B for batch item 0 of p on the calling thread.  apk_shared: A packed by
 * ctg_pack_a_all, or NULL to pack it into apk (Mp*K floats); bpk: kc*ppb*NR floats, ppb from
 * ctg_block_panels.  Same results as ct_sgemm for the same product (K is blocked alike and
 * each C element is one FMA chain whatever the column partition). */
static void ctg_run_serial(const ctg_problem *p, const float *apk_shared, float *apk,
                           float *bpk, int ppb)
{
    const int span = ppb * CTG_NR;
    for (int j0 = 0; j0 < p->N; j0 += span) {
        const int j1 = (j0 + span < p->N) ? j0 + span : p->N;
        const int nj0 = j0 + span;
        const int nj1 = (nj0 + span < p->N) ? nj0 + span : p->N;
        ctg_item(p, 0, 1, 0, j0, j1, 0, p->M, apk_shared, apk, bpk, nj0 < p->N ? 0 : -1, nj0,
                 nj1);
    }
}

/* Whether ct_sgemm reads a row-major A in place (1; AVX-512) instead of packing it.
 * Packing costs ~0.3 cycles an element, and an element of A feeds only N/16 FMA
 * instructions: for a narrow C (N = 128: 8 of them) the pack was ~10% of the product, and
 * the tall products that ran transposed to avoid it paid as much again in transposes.
 * Measured at 1 thread on an AVX-512 Xeon (GFLOP/s, packed or transposed -> in place):
 * 768x512 @ 512x128 123 -> 142, 768x384 @ 384x128 120 -> 150, 700x10000 @ 10000x200
 * 113 -> 127, 4096x1024 @ 1024x128 112 -> 127, 768x512 @ 512x256 127 -> 141.  From N = 1024
 * the pack is cheap and the packed panels stream better (256x2048 @ 2048x1024 128 -> 123);
 * between, not when A's rows are a multiple of 4 KiB apart (a tile's eight rows then share
 * one L1 set). */
/* ... and a column-major A (the weight gradient of nn.Linear, g^T @ x, and every product
 * with a transposed left operand): in place only where its columns are at most 384 floats
 * apart.  A tile then reads kc rows of 32 bytes across at most 384 KiB; from 512 floats
 * (2 KiB a column) the walk over a page per k or two costs more than the pack saves.
 * Measured at 1 thread on an AVX-512 Xeon (GFLOP/s, packed -> in place): 64x1024 @ 1024x192
 * 125 -> 164, 192x1024 @ 1024x64 109 -> 132, 65x768 @ 768x128 78 -> 117, 384x768 @ 768x128
 * 105 -> 143 (it ran as its transpose before), 128x768 @ 768x512 144 -> 152, 96x4096 @ 4096x96
 * 115 -> 134; but 512x768 @ 768x64 124 -> 109, 1024x512 @ 512x512 150 -> 136. */
#ifndef CTG_CM_RULE
#define CTG_CM_RULE(M, K, N, lda) ((lda) <= 384)
#endif
static int ctg_a_direct(int simd, int M, ptrdiff_t a_rs, ptrdiff_t a_cs, int K, int N)
{
    if (!simd || N >= 1024)
        return 0;
    if (a_cs == 1 && a_rs >= K)
        return N <= 256 || ((a_rs * (ptrdiff_t)sizeof(float)) & 4095) != 0 ? 1 : 0;
    if (a_rs == 1 && a_cs >= M && M >= CTG_MR)
        return CTG_CM_RULE(M, K, N, a_cs) ? 2 : 0;
    return 0;
}

/* Whether ct_sgemm reads a row-major B in place (its full 16-wide panels; a ragged last
 * panel is still packed) instead of packing each kc x nc block.  An element of a packed B
 * block feeds ceil(M / 8) micro-kernel calls, so for a few rows the pack (a read and a write
 * of all of B per call) is a large part of the product: an LSTM's per-step 20x800 @ 800x200
 * (dh = dG W_hh) and a small-batch Linear.  Reading B's rows in place gives every C element
 * the same FMA chain, so the bits do not change.  Measured at 1 thread on an AVX-512 Xeon,
 * us packed -> in place: M = 8: 8x512 @ 512x512 63 -> 34, 1024x1024 350 -> 253; M = 16:
 * 87 -> 54, 453 -> 421; M = 32: 140 -> 126, 656 -> 685; M = 64: 242 -> 249, 1058 -> 1198;
 * 64x200 @ 200x800 140 -> 129.  So: up to 16 rows, and up to 64 where B (K x N) is at most
 * 1 MiB (it then stays in L2 across the row tiles; a bigger one streams better packed). */
static int ctg_b_direct(int simd, int M, int K, int N, ptrdiff_t b_rs, ptrdiff_t b_cs)
{
    if (!simd || b_cs != 1 || b_rs < 16)
        return 0;
    return M <= 16 || (M <= 64 && (double)K * N <= 262144.0);
}

/* C (M x N, strides c_rs, c_cs) from t (its N x M row-major transpose), or t from C when
 * to_t: the two transposes around a tall product. */
#ifdef CTG_X86
/* c[i * c_rs + j] = t[j * M + i] for a full 16 x 16 block at (i0, j0): 16 loads, the
 * in-register transpose, 16 stores (the scalar loop ran at ~1-2 ns an element: 2-4 ms of a
 * 10000x700 @ 700x200 product's 26) */
static CTG_AVX512 void ctg_untranspose16(float *c, ptrdiff_t c_rs, const float *t, int M,
                                         int i0, int j0)
{
    __m512 r[16];
    for (int k = 0; k < 16; k++)
        r[k] = _mm512_loadu_ps(t + (ptrdiff_t)(j0 + k) * M + i0);
    ct_tr16_avx512(r);
    for (int k = 0; k < 16; k++)
        _mm512_storeu_ps(c + (ptrdiff_t)(i0 + k) * c_rs + j0, r[k]);
}
#endif

/* dst[j * drs + i] = src[i * srs + j] for i < rows, j < cols: 16 x 16 blocks through
 * ct_tr16_avx512 (masked at the edges) on AVX-512, else a plain loop; attention's per-slice K^T
 * and V^T (a scalar loop was ~8% of a small causal forward). */
#ifdef CTG_X86
static CTG_AVX512 void ctg_transpose_avx512(float *dst, ptrdiff_t drs, const float *src,
                                            ptrdiff_t srs, int rows, int cols)
{
    __m512 r[16];
    for (int i0 = 0; i0 < rows; i0 += 16) {
        const int ni = rows - i0 < 16 ? rows - i0 : 16;
        const __mmask16 im = (__mmask16)ct_lanes16(0, ni);
        for (int j0 = 0; j0 < cols; j0 += 16) {
            const int nj = cols - j0 < 16 ? cols - j0 : 16;
            const __mmask16 jm = (__mmask16)ct_lanes16(0, nj);
            for (int k = 0; k < 16; k++)
                r[k] = k < ni ? _mm512_maskz_loadu_ps(jm, src + (i0 + k) * srs + j0)
                              : _mm512_setzero_ps();
            ct_tr16_avx512(r);
            for (int t = 0; t < nj; t++)
                _mm512_mask_storeu_ps(dst + (j0 + t) * drs + i0, im, r[t]);
        }
    }
}
#endif

/* dst[i * drs + j] = src[i * srs + j] for i < rows, j < cols: a row at a time in (masked)
 * vectors on AVX-512 (a memcpy call per 128-byte row cost more than the copy) */
#ifdef CTG_X86
static CTG_AVX512 void ctg_copy_rows_avx512(float *dst, ptrdiff_t drs, const float *src,
                                            ptrdiff_t srs, int rows, int cols)
{
    const __mmask16 tm = (__mmask16)ct_lanes16(0, cols % 16);
    const int full = cols - cols % 16;
    for (int i = 0; i < rows; i++) {
        const float *s = src + i * srs;
        float *d = dst + i * drs;
        for (int j = 0; j < full; j += 16)
            _mm512_storeu_ps(d + j, _mm512_loadu_ps(s + j));
        if (tm)
            _mm512_mask_storeu_ps(d + full, tm, _mm512_maskz_loadu_ps(tm, s + full));
    }
}
#endif

/* dst's rows (drs apart) <- src's rows (srs apart), rows x cols; with transpose, dst[j * drs
 * + i] = src[i * srs + j] instead (the cols x rows transpose) */
static void ct_copy_f32(float *dst, ptrdiff_t drs, const float *src, ptrdiff_t srs, int rows,
                        int cols, int transpose)
{
#ifdef CTG_X86
    if (ct_have_avx512()) {
        (transpose ? ctg_transpose_avx512 : ctg_copy_rows_avx512)(dst, drs, src, srs, rows, cols);
        return;
    }
#endif
    for (int i = 0; i < rows; i++) {
        if (!transpose) {
            memcpy(dst + i * drs, src + i * srs, (size_t)cols * sizeof(float));
            continue;
        }
        for (int j = 0; j < cols; j++)
            dst[j * drs + i] = src[i * srs + j];
    }
}

static void ctg_transpose_block(float *c, ptrdiff_t c_rs, ptrdiff_t c_cs, float *t, int M, int N,
                                int to_t, int nthreads)
{
    const int TB = 32;
    const int nib = (M + TB - 1) / TB;
#ifdef CTG_X86
    const int vec = !to_t && c_cs == 1 && ct_have_avx512();
#endif
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (int ib = 0; ib < nib; ib++) {
        const int i0 = ib * TB, i1 = (i0 + TB < M) ? i0 + TB : M;
        for (int j0 = 0; j0 < N; j0 += TB) {
            const int j1 = (j0 + TB < N) ? j0 + TB : N;
#ifdef CTG_X86
            if (vec && i1 - i0 == TB && j1 - j0 == TB) {
                for (int ii = i0; ii < i1; ii += 16)
                    for (int jj = j0; jj < j1; jj += 16)
                        ctg_untranspose16(c, c_rs, t, M, ii, jj);
                continue;
            }
#endif
            if (to_t) {
                for (int j = j0; j < j1; j++)
                    for (int i = i0; i < i1; i++)
                        t[(ptrdiff_t)j * M + i] = c[i * c_rs + j * c_cs];
            } else {
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                        c[i * c_rs + j * c_cs] = t[(ptrdiff_t)j * M + i];
            }
        }
    }
}

/* c[b][i][j] += bias[j] over all of C (the paths that do not add it tile by tile) */
static void ctg_bias_all(float *C, int ncb, ptrdiff_t c_bs, int M, int N, ptrdiff_t c_rs,
                         ptrdiff_t c_cs, const float *bias)
{
    for (int b = 0; b < ncb; b++)
        for (int i = 0; i < M; i++) {
            float *c = C + b * c_bs + i * c_rs;
            for (int j = 0; j < N; j++)
                c[j * c_cs] = c[j * c_cs] + bias[j];
        }
}

/* C (+)= A @ B (+ bias, N values added to each row of C after its sum, when not NULL).
 * Returns 0, or -1 when a buffer could not be allocated. */
static int ct_sgemm_bias(int nbatch, int M, int N, int K,
                         const float *A, ptrdiff_t a_bs, ptrdiff_t a_rs, ptrdiff_t a_cs,
                         const float *B, ptrdiff_t b_bs, ptrdiff_t b_rs, ptrdiff_t b_cs,
                         float *C, ptrdiff_t c_bs, ptrdiff_t c_rs, ptrdiff_t c_cs,
                         int reduce_batch, int accumulate, int nthreads, int use_simd,
                         const float *bias)
{
    ctg_problem p;
    const int ncb = reduce_batch ? 1 : nbatch;
    if (M <= 0 || N <= 0 || ncb <= 0)
        return 0;
    /* A tall product (M > 2N) runs as its transpose, C^T = B^T @ A^T, into a row-major
     * buffer that is then transposed into C: the whole packed A (M x K) otherwise makes a
     * round trip through memory before the micro-kernels read it, while the transposed
     * product packs the big operand block by block in L2 (1 thread: 700x10000 @ 10000x200
     * 95 -> ~190 GFLOP/s, 4096x1024 @ 1024x128 115 -> ~215).  Only where that round trip
     * costs more than the two transposes of C: A (M x K) past 1 MiB and K >= N (an LSTM's
     * per-step dW_hh, 800x20 @ 20x200, fits in L2 and ran 2x slower swapped).  The bits do
     * not change: each C element is the same FMA chain over the same K blocks, the two
     * factors of every product swapped.  Not where A is read in place (ctg_a_direct): that
     * makes no round trip either, and needs no transposes (measured on an AVX-512 Xeon; the
     * numbers above are from an AMD Zen 5, where the in-place read is not measured yet). */
    const int simd_ok = use_simd && ct_have_avx512();
    if (M > 2 * N && K >= N && (double)M * K >= 262144.0 &&
        !ctg_a_direct(simd_ok, M, a_rs, a_cs, K, N)) {
        float *t = (float *)ctg_alloc((size_t)ncb * N * M);
        if (!t) return -1;
        int nt = nthreads < 1 ? 1 : nthreads;
        if ((double)M * N * ncb < 65536.0) nt = 1;
        if (accumulate)
            for (int b = 0; b < ncb; b++)
                ctg_transpose_block(C + b * c_bs, c_rs, c_cs, t + (ptrdiff_t)b * N * M, M, N,
                                    1, nt);
        const int rc = ct_sgemm_bias(nbatch, N, M, K, B, b_bs, b_cs, b_rs, A, a_bs, a_cs,
                                     a_rs, t, (ptrdiff_t)N * M, M, 1, reduce_batch, accumulate,
                                     nthreads, use_simd, NULL);
        if (rc == 0)
            for (int b = 0; b < ncb; b++)
                ctg_transpose_block(C + b * c_bs, c_rs, c_cs, t + (ptrdiff_t)b * N * M, M, N,
                                    0, nt);
        free(t);
        if (rc == 0 && bias)
            ctg_bias_all(C, ncb, c_bs, M, N, c_rs, c_cs, bias);
        return rc;
    }
    if (K <= 0 || (reduce_batch && nbatch <= 0)) { /* C = 0 (or unchanged) */
        if (!accumulate)
            for (int b = 0; b < ncb; b++)
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++)
                        C[b * c_bs + i * c_rs + j * c_cs] = 0.0f;
        if (bias)
            ctg_bias_all(C, ncb, c_bs, M, N, c_rs, c_cs, bias);
        return 0;
    }
    ctg_setup(&p, nbatch, M, N, K, A, a_bs, a_rs, a_cs, B, b_bs, b_rs, b_cs, C, c_bs, c_rs,
              c_cs, reduce_batch, accumulate, use_simd);
    p.bias = bias;
    /* K blocks of up to 512 where B is packed and A is not read column-major in place: a C
     * tile makes half the round trips through L2 (K / 512 instead of K / 256), which the
     * 96 KiB B micro-panel's streaming from L2 does not cost back.  1 thread, AVX-512 Xeon,
     * GFLOP/s 256 -> 512: 1024^3 132 -> 146, 2048^3 89 -> 99, 256x2048 @ 2048x1024 110 ->
     * 138, 4096x1024 @ 1024x128 147 -> 155, 768x1024 @ 1024x192 156 -> 162; but 16x1024 @
     * 1024x1024 (B read in place) 99 -> 88 and a column-major A read in place (384x768 @
     * 768x128: 154 -> 147) lose, so those keep 256.  The blocking never changes the bits. */
    if (p.simd && K > CTG_KC && !ctg_b_direct(p.simd, M, K, N, b_rs, b_cs) &&
        ctg_a_direct(p.simd, M, a_rs, a_cs, K, N) != 2) {
        p.nkb = (K + CTG_KC_BIG - 1) / CTG_KC_BIG;
        p.kc = (K + p.nkb - 1) / p.nkb;
    }

    const int panels = (N + CTG_NR - 1) / CTG_NR;
    const int ppb1 = ctg_block_panels(&p); /* one thread's column block */
    int ncol = (panels + ppb1 - 1) / ppb1;
    const double flops = (double)M * N * K * nbatch;
    if (nthreads < 1) nthreads = 1;
    if (flops < 2.0e6) nthreads = 1;
    /* Balance the items over the threads: when the batch items alone do not divide evenly,
     * make the column blocks per batch item a multiple of the thread count (as far as the
     * panels go; conv's dW has a single batch item and ~6-36 panels). */
    if (nthreads > 1 && ncb % nthreads != 0) {
        int want = (ncol + nthreads - 1) / nthreads * nthreads;
        while (ncb * want < 2 * nthreads && want * 2 <= panels) want *= 2;
        ncol = want < panels ? want : panels;
    }
    int ppb = (panels + ncol - 1) / ncol; /* panels per column block */
    ncol = (panels + ppb - 1) / ppb;
    /* Prefer a column split whose item count divides evenly over the threads (6 panels: 2
     * blocks of 3, not 3 blocks of 2 for 2 threads): no B is packed twice. */
    if (nthreads > 1 && (ncb * ncol) % nthreads != 0) {
        for (int c = ncol - 1; c >= 1; c--) {
            const int pp = (panels + c - 1) / c, nc2 = (panels + pp - 1) / pp;
            if ((ncb * nc2) % nthreads == 0) {
                ppb = pp;
                ncol = nc2;
                break;
            }
        }
    }
    /* One product whose few column panels split unevenly over the threads (N = 128: 3
     * panels, 2 + 1 over 2 threads, one thread doing 2/3 of the work): split its rows
     * instead, every thread taking all the columns of its rows (768x512 @ 512x128 at 2
     * threads: 1.18x -> ~1.9x the 1-thread speed).  Loads per thread in half tiles: a tile
     * (8 x 48 over kc) is 2, packing a B panel ~1 (~2 for a column-major B, packed by
     * transposes), and each row block packs every panel; reading an 8-row panel of A in
     * place ~1. */
    if (nthreads > 1 && ncb == 1 && panels <= ppb1) {
        const int mp = p.Mp / CTG_MR, pk = b_cs == 1 ? 1 : 2;
        const int cpt = (ncol + nthreads - 1) / nthreads, rpt = (mp + nthreads - 1) / nthreads;
        long col_load = (long)cpt * ppb * (2 * mp + pk);
        long row_load = (long)panels * (2 * rpt + pk);
        if (M >= 256 && ctg_a_direct(p.simd, M, a_rs, a_cs, K, N)) {
            /* A read in place: every column block reads its rows of A again (2 threads:
             * 1024x256 @ 256x64 0.25-0.29 -> 0.12-0.13 ms, 1024x64 @ 64x192 0.12-0.14 ->
             * 0.09 ms, 4096x64 @ 64x192 0.53-0.58 -> 0.43-0.44 ms).  Not for a few rows,
             * whose A stays in L2: the MLP b64 step at 2 threads fell to 0.80x torch with
             * it, and is 0.97-0.99x without (with the margin below). */
            col_load += (long)cpt * mp;
            row_load += rpt;
        }
        if (20 * row_load < 19 * col_load) { /* by a margin: near ties went either way */
            ppb = panels;
            ncol = 1;
        }
    }
    /* Row blocks when the (batch, column block) items still do not divide over the threads
     * (one product with a single column panel, or an odd count): each row block packs its
     * own copy of the B block.  Rows never change an element's FMA chain. */
    const int mpan = p.Mp / CTG_MR;
    int nrb = 1;
    if (nthreads > 1 && (ncb * ncol) % nthreads != 0) {
        while (nrb < mpan && (ncb * ncol * nrb) % nthreads != 0) nrb++;
        if ((ncb * ncol * nrb) % nthreads != 0) nrb = 1;
    }
    const int rpb = (mpan + nrb - 1) / nrb * CTG_MR; /* rows per row block */
    nrb = (p.Mp + rpb - 1) / rpb;
    const int nitems = ncb * ncol * nrb;
    if (nthreads > nitems) nthreads = nitems;

    p.a_direct = ctg_a_direct(p.simd, M, a_rs, a_cs, K, N);
    p.b_direct = ctg_b_direct(p.simd, M, K, N, b_rs, b_cs);
    const int a_shared = !p.a_direct && (a_bs == 0 || nbatch == 1);
    float *apk_shared = NULL;
    if (a_shared) {
        apk_shared = (float *)ctg_alloc((size_t)p.Mp * K);
        if (!apk_shared) return -1;
    }
    const int napan = p.nkb * mpan;
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        float *bpk = (float *)ctg_alloc((size_t)p.kc * ppb * CTG_NR);
        const int own_a = !a_shared && !p.a_direct;
        float *apk = own_a ? (float *)ctg_alloc((size_t)p.Mp * K) : NULL;
        if (!bpk || (own_a && !apk)) {
#pragma omp atomic write
            err = 1;
        }
        if (a_shared) { /* the shared A, packed by all threads (ends with a barrier) */
#pragma omp for schedule(static)
            for (int it = 0; it < napan; it++)
                ctg_pack_a_panel(&p, A, apk_shared, it);
        } else {
#pragma omp barrier
        }
        if (!err) {
#pragma omp for schedule(static)
            for (int it = 0; it < nitems; it++) {
                /* item = (batch, column block, row block), row blocks innermost */
                const int rb = it % nrb, cj = it / nrb;
                const int cb = cj / ncol, jb = cj % ncol;
                const int j0 = jb * ppb * CTG_NR;
                const int j1 = (j0 + ppb * CTG_NR < N) ? j0 + ppb * CTG_NR : N;
                const int m0 = rb * rpb, m1 = (m0 + rpb < M) ? m0 + rpb : M;
                /* the next column block (of this thread under a static schedule), to prefetch */
                const int nx = cj + 1 < ncb * ncol ? cj + 1 : -1;
                const int nxb = nx < 0 ? -1 : (reduce_batch ? 0 : nx / ncol);
                const int nxj0 = nx < 0 ? 0 : (nx % ncol) * ppb * CTG_NR;
                const int nxj1 = (nxj0 + ppb * CTG_NR < N) ? nxj0 + ppb * CTG_NR : N;
                if (reduce_batch)
                    ctg_item(&p, 0, nbatch, 0, j0, j1, m0, m1, apk_shared, apk, bpk, nxb, nxj0,
                             nxj1);
                else
                    ctg_item(&p, cb, cb + 1, cb, j0, j1, m0, m1, apk_shared, apk, bpk, nxb,
                             nxj0, nxj1);
            }
        }
        free(bpk);
        free(apk);
    }
    free(apk_shared);
    return err ? -1 : 0;
}

static int ct_sgemm(int nbatch, int M, int N, int K,
                    const float *A, ptrdiff_t a_bs, ptrdiff_t a_rs, ptrdiff_t a_cs,
                    const float *B, ptrdiff_t b_bs, ptrdiff_t b_rs, ptrdiff_t b_cs,
                    float *C, ptrdiff_t c_bs, ptrdiff_t c_rs, ptrdiff_t c_cs,
                    int reduce_batch, int accumulate, int nthreads, int use_simd)
{
    return ct_sgemm_bias(nbatch, M, N, K, A, a_bs, a_rs, a_cs, B, b_bs, b_rs, b_cs, C, c_bs,
                         c_rs, c_cs, reduce_batch, accumulate, nthreads, use_simd, NULL);
}

#endif
