/* Small triangular solves for ctorch._core.lapack_batch (real types): op(A) X = B with A
 * m x m triangular, B m x n, both column-major, X over B. The diagonal blocks of the
 * blocked trsm (and getrs) run here instead of OpenBLAS's dtrsm, whose per-call cost
 * dominates blocks of 16-32. Same operations as reference BLAS per right-hand side (divide by
 * the diagonal; column updates, or dot products for A^T), four right-hand sides at a time so
 * that each element of A is loaded once for four; inner loops over contiguous columns.
 */
#ifndef CT_LAPACK_SMALL_H
#define CT_LAPACK_SMALL_H

#include <stddef.h>
#include "_ct_common.h"

#define CT_TRSM_SMALL(T, NAME)                                                               \
CT_SIMD static void NAME(int lower, int trans, int unit, int m, int n, const T *a, int lda,    \
                         T *b, int ldb)                                                        \
{                                                                                              \
    int j = 0;                                                                                 \
    for (; j < n; j += 4) {                                                                    \
        int nj = n - j < 4 ? n - j : 4;                                                        \
        T *x0 = b + (ptrdiff_t)j * ldb;                                                        \
        T *x1 = nj > 1 ? x0 + ldb : x0;                                                        \
        T *x2 = nj > 2 ? x0 + 2 * (ptrdiff_t)ldb : x0;                                         \
        T *x3 = nj > 3 ? x0 + 3 * (ptrdiff_t)ldb : x0;                                         \
        if (nj < 4) { /* fewer than four columns left: one at a time */                       \
            x1 = x2 = x3 = x0;                                                                 \
        }                                                                                      \
        int step = nj < 4 ? 1 : 4;                                                             \
        for (int jj = 0; jj < (nj < 4 ? nj : 1); jj++) {                                       \
            if (nj < 4) { x0 = x1 = x2 = x3 = b + (ptrdiff_t)(j + jj) * ldb; }                 \
            if (!trans) {                                                                      \
                int k0 = lower ? 0 : m - 1, k1 = lower ? m : -1, dk = lower ? 1 : -1;         \
                for (int k = k0; k != k1; k += dk) {                                           \
                    const T *ak = a + (ptrdiff_t)k * lda;                                      \
                    if (!unit) {                                                               \
                        T d = ak[k];                                                           \
                        x0[k] = x0[k] / d;                                                     \
                        if (step == 4) { x1[k] = x1[k] / d; x2[k] = x2[k] / d;                 \
                                         x3[k] = x3[k] / d; }                                  \
                    }                                                                          \
                    int i0 = lower ? k + 1 : 0, i1 = lower ? m : k;                            \
                    T c0 = x0[k];                                                              \
                    if (step == 4) {                                                           \
                        T c1 = x1[k], c2 = x2[k], c3 = x3[k];                                  \
                        _Pragma("omp simd")                                                    \
                        for (int i = i0; i < i1; i++) {                                        \
                            T av = ak[i];                                                      \
                            x0[i] -= c0 * av; x1[i] -= c1 * av;                                \
                            x2[i] -= c2 * av; x3[i] -= c3 * av;                                \
                        }                                                                      \
                    } else {                                                                   \
                        _Pragma("omp simd")                                                    \
                        for (int i = i0; i < i1; i++) x0[i] -= c0 * ak[i];                     \
                    }                                                                          \
                }                                                                              \
            } else {                                                                           \
                /* A^T: lower A -> backward, upper A -> forward; dot products */               \
                int k0 = lower ? m - 1 : 0, k1 = lower ? -1 : m, dk = lower ? -1 : 1;         \
                for (int k = k0; k != k1; k += dk) {                                           \
                    const T *ak = a + (ptrdiff_t)k * lda;                                      \
                    int i0 = lower ? k + 1 : 0, i1 = lower ? m : k;                            \
                    T s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                          \
                    if (step == 4) {                                                           \
                        _Pragma("omp simd reduction(+:s0, s1, s2, s3)")                        \
                        for (int i = i0; i < i1; i++) {                                        \
                            T av = ak[i];                                                      \
                            s0 += av * x0[i]; s1 += av * x1[i];                                \
                            s2 += av * x2[i]; s3 += av * x3[i];                                \
                        }                                                                      \
                        T d = unit ? (T)1 : ak[k];                                             \
                        x0[k] = unit ? x0[k] - s0 : (x0[k] - s0) / d;                          \
                        x1[k] = unit ? x1[k] - s1 : (x1[k] - s1) / d;                          \
                        x2[k] = unit ? x2[k] - s2 : (x2[k] - s2) / d;                          \
                        x3[k] = unit ? x3[k] - s3 : (x3[k] - s3) / d;                          \
                    } else {                                                                   \
                        _Pragma("omp simd reduction(+:s0)")                                    \
                        for (int i = i0; i < i1; i++) s0 += ak[i] * x0[i];                     \
                        x0[k] = unit ? x0[k] - s0 : (x0[k] - s0) / ak[k];                      \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
}

/* AVX-512 left-side solves without transpose, op(A) X = B with A m x m (m <= 256) lower or
 * upper: blocks of one vector of rows (8 doubles, 16 floats) times four right-hand sides kept
 * in registers.  Each block first takes the rows already solved, one column of A against
 * four broadcasts at a time (GEMM-like), then solves its own triangle in the registers: the
 * solved lane broadcast by a permute, the column below (above) it subtracted under a mask.
 * The diagonal is applied as a reciprocal.  The portable loops above (one column update per
 * solved row, four right-hand sides) ran at ~9 GFLOP/s on 64 x 64 blocks with 16 right-hand
 * sides here, against ~17 for MKL's trsm in torch. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CT_TRSM512 __attribute__((target("avx512f"), optimize("fp-contract=fast")))
#define CT_TRSM_AVX512_DEF(T, SFX, VT, VL, MT, LDZ, STM, SET1, FNMADD, MFNMADD3, MMUL, BCAST) \
static inline CT_TRSM512 __attribute__((always_inline)) void ct_trsm_ln_blk##SFX(            \
    int lower, int unit, int m, const T *a, int lda, T *b, int ldb, const T *rd, int nc)     \
{                                                                                              \
    int nblk = (m + VL - 1) / VL;                                                              \
    for (int bi = 0; bi < nblk; bi++) {                                                        \
        int blk = lower ? bi : nblk - 1 - bi, i0 = blk * VL;                                   \
        int rows = m - i0 < VL ? m - i0 : VL;                                                  \
        MT mk = (MT)((1u << rows) - 1u);                                                       \
        VT acc0, acc1 = SET1(0), acc2 = SET1(0), acc3 = SET1(0);                               \
        acc0 = LDZ(mk, b + i0);                                                                \
        if (nc == 4) {                                                                         \
            acc1 = LDZ(mk, b + i0 + ldb);                                                      \
            acc2 = LDZ(mk, b + i0 + 2 * (ptrdiff_t)ldb);                                       \
            acc3 = LDZ(mk, b + i0 + 3 * (ptrdiff_t)ldb);                                       \
        }                                                                                      \
        int k0 = lower ? 0 : i0 + rows, k1 = lower ? i0 : m;                                   \
        for (int k = k0; k < k1; k++) {                                                        \
            VT av = LDZ(mk, a + i0 + (ptrdiff_t)k * lda);                                      \
            acc0 = FNMADD(av, SET1(b[k]), acc0);                                               \
            if (nc == 4) {                                                                     \
                acc1 = FNMADD(av, SET1(b[k + ldb]), acc1);                                     \
                acc2 = FNMADD(av, SET1(b[k + 2 * (ptrdiff_t)ldb]), acc2);                      \
                acc3 = FNMADD(av, SET1(b[k + 3 * (ptrdiff_t)ldb]), acc3);                      \
            }                                                                                  \
        }                                                                                      \
        for (int s = 0; s < rows; s++) {                                                       \
            int kk = lower ? s : rows - 1 - s;                                                 \
            MT one = (MT)(1u << kk);                                                           \
            MT rest = lower ? (MT)(mk & ~((2u << kk) - 1u)) : (MT)((1u << kk) - 1u);           \
            VT col = LDZ(rest, a + i0 + (ptrdiff_t)(i0 + kk) * lda);                           \
            if (!unit) {                                                                       \
                VT r = SET1(rd[i0 + kk]);                                                      \
                acc0 = MMUL(acc0, one, acc0, r);                                               \
                if (nc == 4) {                                                                 \
                    acc1 = MMUL(acc1, one, acc1, r);                                           \
                    acc2 = MMUL(acc2, one, acc2, r);                                           \
                    acc3 = MMUL(acc3, one, acc3, r);                                           \
                }                                                                              \
            }                                                                                  \
            /* only the unsolved lanes: 0 * inf must not reach a solved one */                  \
            acc0 = MFNMADD3(col, BCAST(kk, acc0), acc0, rest);                                 \
            if (nc == 4) {                                                                     \
                acc1 = MFNMADD3(col, BCAST(kk, acc1), acc1, rest);                             \
                acc2 = MFNMADD3(col, BCAST(kk, acc2), acc2, rest);                             \
                acc3 = MFNMADD3(col, BCAST(kk, acc3), acc3, rest);                             \
            }                                                                                  \
        }                                                                                      \
        STM(b + i0, mk, acc0);                                                                 \
        if (nc == 4) {                                                                         \
            STM(b + i0 + ldb, mk, acc1);                                                       \
            STM(b + i0 + 2 * (ptrdiff_t)ldb, mk, acc2);                                        \
            STM(b + i0 + 3 * (ptrdiff_t)ldb, mk, acc3);                                        \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
static CT_TRSM512 void ct_trsm_ln_avx512##SFX(int lower, int unit, int m, int n, const T *a,   \
                                              int lda, T *b, int ldb)                          \
{                                                                                              \
    T rd[256];                                                                                 \
    if (!unit)                                                                                 \
        for (int i = 0; i < m; i++) rd[i] = (T)1 / a[i + (ptrdiff_t)i * lda];                  \
    int j = 0;                                                                                 \
    for (; j + 4 <= n; j += 4)                                                                 \
        ct_trsm_ln_blk##SFX(lower, unit, m, a, lda, b + (ptrdiff_t)j * ldb, ldb, rd, 4);       \
    for (; j < n; j++)                                                                         \
        ct_trsm_ln_blk##SFX(lower, unit, m, a, lda, b + (ptrdiff_t)j * ldb, ldb, rd, 1);       \
}

#define CT_BCAST_D(k, v) _mm512_permutexvar_pd(_mm512_set1_epi64(k), (v))
#define CT_BCAST_S(k, v) _mm512_permutexvar_ps(_mm512_set1_epi32(k), (v))
CT_TRSM_AVX512_DEF(double, _d, __m512d, 8, __mmask8, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd,
                   _mm512_set1_pd, _mm512_fnmadd_pd, _mm512_mask3_fnmadd_pd, _mm512_mask_mul_pd,
                   CT_BCAST_D)
CT_TRSM_AVX512_DEF(float, _s, __m512, 16, __mmask16, _mm512_maskz_loadu_ps,
                   _mm512_mask_storeu_ps, _mm512_set1_ps, _mm512_fnmadd_ps, _mm512_mask3_fnmadd_ps,
                   _mm512_mask_mul_ps, CT_BCAST_S)

static int ct_trsm512_on = -1;
static inline int ct_trsm512(int trans, int m)
{
    if (ct_trsm512_on < 0) ct_trsm512_on = ct_have_avx512();
    return ct_trsm512_on && !trans && m <= 256;
}
#define CT_TRSM512_TRY(SFX, lower, trans, unit, m, n, a, lda, b, ldb)                         \
    if (ct_trsm512(trans, m)) {                                                                \
        ct_trsm_ln_avx512##SFX(lower, unit, m, n, a, lda, b, ldb);                             \
        return;                                                                                \
    }
#else
#define CT_TRSM512_TRY(SFX, lower, trans, unit, m, n, a, lda, b, ldb)
#endif

/* A^T of order <= 64: solved as the triangle A^T copied column-major (column updates ran
 * 1.3-1.6x faster than the dot products on 64x64 blocks with 16 right-hand sides). */
#define CT_TRSM_SMALL_T(T, NAME, BASE, SFX)                                                  \
static void NAME(int lower, int trans, int unit, int m, int n, const T *a, int lda, T *b,    \
                 int ldb)                                                                      \
{                                                                                              \
    CT_TRSM512_TRY(SFX, lower, trans, unit, m, n, a, lda, b, ldb)                              \
    if (trans && m <= 64) {                                                                    \
        T buf[64 * 64];                                                                        \
        for (int k = 0; k < m; k++)                                                            \
            for (int i = 0; i < m; i++) buf[i + (ptrdiff_t)k * m] = a[k + (ptrdiff_t)i * lda]; \
        BASE(!lower, 0, unit, m, n, buf, m, b, ldb);                                           \
    } else {                                                                                   \
        BASE(lower, trans, unit, m, n, a, lda, b, ldb);                                        \
    }                                                                                          \
}

/* Right side: X op(A) = B, A n x n. Each column of X is an update of B's column by earlier
 * (later) columns of X: axpys over the m contiguous rows, op(A)'s elements read as scalars,
 * so A^T costs nothing extra. Zeros of A are not skipped (reference BLAS skips them):
 * inf * 0 then gives NaN, as OpenBLAS and MKL (torch) do. */
#define CT_TRSM_SMALL_R(T, NAME)                                                             \
CT_SIMD static void NAME(int lower, int trans, int unit, int m, int n, const T *a, int lda,    \
                         T *b, int ldb)                                                        \
{                                                                                              \
    int up = lower == trans; /* op(A) upper */                                                 \
    for (int jj = 0; jj < n; jj++) {                                                           \
        int j = up ? jj : n - 1 - jj;                                                          \
        T *xj = b + (ptrdiff_t)j * ldb;                                                        \
        int k0 = up ? 0 : j + 1, k1 = up ? j : n;                                              \
        for (int k = k0; k < k1; k++) {                                                        \
            T t = trans ? a[j + (ptrdiff_t)k * lda] : a[k + (ptrdiff_t)j * lda];               \
            const T *xk = b + (ptrdiff_t)k * ldb;                                              \
            _Pragma("omp simd")                                                                \
            for (int i = 0; i < m; i++) xj[i] -= t * xk[i];                                    \
        }                                                                                      \
        if (!unit) {                                                                           \
            T d = a[j + (ptrdiff_t)j * lda];                                                   \
            _Pragma("omp simd")                                                                \
            for (int i = 0; i < m; i++) xj[i] = xj[i] / d;                                     \
        }                                                                                      \
    }                                                                                          \
}

CT_TRSM_SMALL_R(float, ct_strsm_small_r)
CT_TRSM_SMALL_R(double, ct_dtrsm_small_r)
CT_TRSM_SMALL(float, ct_strsm_small_)
CT_TRSM_SMALL(double, ct_dtrsm_small_)
CT_TRSM_SMALL_T(float, ct_strsm_small, ct_strsm_small_, _s)
CT_TRSM_SMALL_T(double, ct_dtrsm_small, ct_dtrsm_small_, _d)

/* LU with partial pivoting of a small m x n column-major matrix (getrf's contract: ipiv
 * 1-based, the return value getrf's info): unblocked and right-looking, each step's update
 * four columns at a time along contiguous columns (dgetf2's operations: the pivot is the
 * first largest |a_ik|, the column scaled by the reciprocal unless the pivot is below the
 * smallest normal number, then divided).  For m, n <= CT_GETRF_SMALL OpenBLAS's blocked
 * recursive getrf costs more in calls than in arithmetic: 64 matrices of 64 x 64 took
 * 1.3 ms here against its 1.9 ms (torch's MKL: 1.7 ms). */
#define CT_GETRF_SMALL 64
#define CT_GETRF_SMALL_DEF(T, NAME, TMIN)                                                     \
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))    \
static int NAME(int m, int n, T *a, int lda, int *ipiv)                                       \
{                                                                                              \
    int info = 0, kmax = m < n ? m : n;                                                        \
    for (int k = 0; k < kmax; k++) {                                                           \
        T *ck = a + (ptrdiff_t)k * lda;                                                        \
        int p = k;                                                                             \
        T best = ck[k] < 0 ? -ck[k] : ck[k];                                                   \
        for (int i = k + 1; i < m; i++) {                                                      \
            T v = ck[i] < 0 ? -ck[i] : ck[i];                                                  \
            if (v > best) { best = v; p = i; }                                                 \
        }                                                                                      \
        ipiv[k] = p + 1;                                                                       \
        if (ck[p] != 0) {                                                                      \
            if (p != k)                                                                        \
                for (int j = 0; j < n; j++) {                                                  \
                    T *c = a + (ptrdiff_t)j * lda, t = c[k];                                   \
                    c[k] = c[p];                                                               \
                    c[p] = t;                                                                  \
                }                                                                              \
            T d = ck[k];                                                                       \
            if ((d < 0 ? -d : d) >= TMIN) {                                                    \
                T r = (T)1 / d;                                                                \
                _Pragma("omp simd")                                                            \
                for (int i = k + 1; i < m; i++) ck[i] *= r;                                    \
            } else {                                                                           \
                for (int i = k + 1; i < m; i++) ck[i] /= d;                                    \
            }                                                                                  \
        } else if (!info) {                                                                    \
            info = k + 1;                                                                      \
        }                                                                                      \
        int j = k + 1;                                                                         \
        for (; j + 4 <= n; j += 4) {                                                           \
            T *c0 = a + (ptrdiff_t)j * lda, *c1 = c0 + lda, *c2 = c1 + lda, *c3 = c2 + lda;    \
            T f0 = c0[k], f1 = c1[k], f2 = c2[k], f3 = c3[k];                                  \
            _Pragma("omp simd")                                                                \
            for (int i = k + 1; i < m; i++) {                                                  \
                T l = ck[i];                                                                   \
                c0[i] -= f0 * l;                                                               \
                c1[i] -= f1 * l;                                                               \
                c2[i] -= f2 * l;                                                               \
                c3[i] -= f3 * l;                                                               \
            }                                                                                  \
        }                                                                                      \
        for (; j < n; j++) {                                                                   \
            T *c0 = a + (ptrdiff_t)j * lda, f0 = c0[k];                                        \
            _Pragma("omp simd")                                                                \
            for (int i = k + 1; i < m; i++) c0[i] -= f0 * ck[i];                               \
        }                                                                                      \
    }                                                                                          \
    return info;                                                                               \
}

CT_GETRF_SMALL_DEF(float, ct_sgetrf_small, 1.17549435e-38f)
CT_GETRF_SMALL_DEF(double, ct_dgetrf_small, 2.2250738585072014e-308)

/* Householder QR of a small m x n column-major matrix and the generation of Q, unblocked:
 * LAPACK's geqr2 / org2r (dlarfg's reflectors with its rescaling of tiny norms, dlarf's
 * w = C^T v, C -= tau v w^T one column at a time along contiguous columns).  For orders up to
 * CT_QR_SMALL the blocked geqrf / orgqr of OpenBLAS's LAPACK spend more in dlarft/dlarfb
 * and calls than these loops in arithmetic. */
#define CT_QR_SMALL 64
#define CT_QR_SMALL_DEF(T, SFX, SAFMIN, EPS)                                                    \
/* sqrt(sum x_i^2) for n values, scaled by the largest |x_i| so that it cannot overflow */     \
static T ct_nrm2##SFX(int n, const T *x)                                                       \
{                                                                                              \
    T mx = 0;                                                                                  \
    for (int i = 0; i < n; i++) {                                                              \
        T v = x[i] < 0 ? -x[i] : x[i];                                                         \
        if (v > mx) mx = v;                                                                    \
    }                                                                                          \
    if (mx == 0) { /* zeros, or NaNs that no comparison picked */                             \
        for (int i = 0; i < n; i++)                                                            \
            if (x[i] != x[i]) return x[i];                                                     \
        return 0;                                                                              \
    }                                                                                          \
    if (mx * 0 != 0) return mx; /* inf */                                                      \
    T r = (T)1 / mx, acc = 0;                                                                  \
    for (int i = 0; i < n; i++) {                                                              \
        T v = x[i] * r;                                                                        \
        acc += v * v;                                                                          \
    }                                                                                          \
    return mx * (T)sqrt((double)acc);                                                          \
}                                                                                              \
static T ct_lapy2##SFX(T x, T y)                                                               \
{                                                                                              \
    T ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;                                                \
    T w = ax > ay ? ax : ay, z = ax > ay ? ay : ax;                                            \
    if (x != x) return x;                                                                      \
    if (y != y) return y;                                                                      \
    if (z == 0) return w;                                                                      \
    T q = z / w;                                                                               \
    return w * (T)sqrt((double)(1 + q * q));                                                   \
}                                                                                              \
/* dlarfg: H (alpha; x) = (beta; 0), H = I - tau v v^T, v = (1; x'); x' over x */              \
static void ct_larfg##SFX(int n, T *alpha, T *x, T *tau)                                       \
{                                                                                              \
    if (n <= 1) { *tau = 0; return; }                                                          \
    T xnorm = ct_nrm2##SFX(n - 1, x);                                                          \
    if (xnorm == 0) { *tau = 0; return; }                                                      \
    T beta = ct_lapy2##SFX(*alpha, xnorm);                                                     \
    if (*alpha >= 0) beta = -beta;                                                             \
    const T safmin = (T)(SAFMIN / EPS), rsafmn = (T)1 / safmin;                                \
    int knt = 0;                                                                               \
    T bab = beta < 0 ? -beta : beta;                                                           \
    if (bab < safmin) {                                                                        \
        do {                                                                                   \
            knt++;                                                                             \
            for (int i = 0; i < n - 1; i++) x[i] *= rsafmn;                                    \
            beta *= rsafmn;                                                                    \
            *alpha *= rsafmn;                                                                  \
            bab = beta < 0 ? -beta : beta;                                                     \
        } while (bab < safmin && knt < 20);                                                    \
        xnorm = ct_nrm2##SFX(n - 1, x);                                                        \
        beta = ct_lapy2##SFX(*alpha, xnorm);                                                   \
        if (*alpha >= 0) beta = -beta;                                                         \
    }                                                                                          \
    *tau = (beta - *alpha) / beta;                                                             \
    T sc = (T)1 / (*alpha - beta);                                                             \
    for (int i = 0; i < n - 1; i++) x[i] *= sc;                                                \
    for (int j = 0; j < knt; j++) beta *= safmin;                                              \
    *alpha = beta;                                                                             \
}                                                                                              \
/* dlarf from the left: C (m x n, ldc) -= tau v (v^T C), v of length m with v[0] = 1 */         \
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))    \
static void ct_larf_left##SFX(int m, int n, const T *v, T tau, T *c, int ldc)                  \
{                                                                                              \
    if (tau == 0) return;                                                                      \
    int j = 0;                                                                                 \
    for (; j + 4 <= n; j += 4) { /* four columns per pass over v */                            \
        T *c0 = c + (ptrdiff_t)j * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;         \
        T w0 = 0, w1 = 0, w2 = 0, w3 = 0;                                                      \
        _Pragma("omp simd reduction(+:w0, w1, w2, w3)")                                        \
        for (int i = 0; i < m; i++) {                                                          \
            T vi = v[i];                                                                       \
            w0 += vi * c0[i];                                                                  \
            w1 += vi * c1[i];                                                                  \
            w2 += vi * c2[i];                                                                  \
            w3 += vi * c3[i];                                                                  \
        }                                                                                      \
        w0 *= tau;                                                                             \
        w1 *= tau;                                                                             \
        w2 *= tau;                                                                             \
        w3 *= tau;                                                                             \
        _Pragma("omp simd")                                                                    \
        for (int i = 0; i < m; i++) {                                                          \
            T vi = v[i];                                                                       \
            c0[i] -= w0 * vi;                                                                  \
            c1[i] -= w1 * vi;                                                                  \
            c2[i] -= w2 * vi;                                                                  \
            c3[i] -= w3 * vi;                                                                  \
        }                                                                                      \
    }                                                                                          \
    for (; j < n; j++) {                                                                       \
        T *cj = c + (ptrdiff_t)j * ldc;                                                        \
        T w = 0;                                                                               \
        _Pragma("omp simd reduction(+:w)")                                                     \
        for (int i = 0; i < m; i++) w += v[i] * cj[i];                                         \
        w *= tau;                                                                              \
        _Pragma("omp simd")                                                                    \
        for (int i = 0; i < m; i++) cj[i] -= w * v[i];                                         \
    }                                                                                          \
}                                                                                              \
static void ct_geqr2##SFX(int m, int n, T *a, int lda, T *tau)                                 \
{                                                                                              \
    int k = m < n ? m : n;                                                                     \
    for (int i = 0; i < k; i++) {                                                              \
        T *ci = a + (ptrdiff_t)i * lda;                                                        \
        int r = m - i, i1 = i + 1 < m ? i + 1 : m - 1;                                         \
        ct_larfg##SFX(r, ci + i, ci + i1, tau + i);                                            \
        if (i < n - 1) {                                                                       \
            T aii = ci[i];                                                                     \
            ci[i] = 1;                                                                         \
            ct_larf_left##SFX(r, n - i - 1, ci + i, tau[i], ci + lda + i, lda);                \
            ci[i] = aii;                                                                       \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
static void ct_org2r##SFX(int m, int n, int k, T *a, int lda, const T *tau)                    \
{                                                                                              \
    for (int j = k; j < n; j++) {                                                              \
        T *cj = a + (ptrdiff_t)j * lda;                                                        \
        for (int l = 0; l < m; l++) cj[l] = 0;                                                 \
        cj[j] = 1;                                                                             \
    }                                                                                          \
    for (int i = k - 1; i >= 0; i--) {                                                         \
        T *ci = a + (ptrdiff_t)i * lda;                                                        \
        if (i < n - 1) {                                                                       \
            ci[i] = 1;                                                                         \
            ct_larf_left##SFX(m - i, n - i - 1, ci + i, tau[i], ci + lda + i, lda);            \
        }                                                                                      \
        for (int l = i + 1; l < m; l++) ci[l] *= -tau[i];                                      \
        ci[i] = 1 - tau[i];                                                                    \
        for (int l = 0; l < i; l++) ci[l] = 0;                                                 \
    }                                                                                          \
}

CT_QR_SMALL_DEF(float, _s, 1.17549435e-38, 5.96046448e-08)
CT_QR_SMALL_DEF(double, _d, 2.2250738585072014e-308, 1.1102230246251565e-16)

/* Cholesky A = L L^T of a small real column-major matrix, lower triangle (potrf's contract:
 * the return value its info, the first order whose leading minor is not positive definite,
 * the factorization stopped there; the upper triangle untouched).  Right-looking, the
 * updates four columns at a time along contiguous columns (each column from its diagonal
 * down). */
#define CT_POTRF_SMALL 64
#define CT_POTRF_SMALL_DEF(T, NAME)                                                           \
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))    \
static int NAME(int n, T *a, int lda)                                                          \
{                                                                                              \
    for (int k = 0; k < n; k++) {                                                              \
        T *ck = a + (ptrdiff_t)k * lda;                                                        \
        T akk = ck[k];                                                                         \
        if (!(akk > 0)) return k + 1; /* not positive, or NaN */                               \
        akk = (T)sqrt((double)akk);                                                            \
        ck[k] = akk;                                                                           \
        T r = (T)1 / akk;                                                                      \
        _Pragma("omp simd")                                                                    \
        for (int i = k + 1; i < n; i++) ck[i] *= r;                                            \
        int j = k + 1;                                                                         \
        for (; j + 4 <= n; j += 4) {                                                           \
            T *c0 = a + (ptrdiff_t)j * lda, *c1 = c0 + lda, *c2 = c1 + lda, *c3 = c2 + lda;    \
            T f0 = ck[j], f1 = ck[j + 1], f2 = ck[j + 2], f3 = ck[j + 3];                      \
            _Pragma("omp simd")                                                                \
            for (int i = j; i < n; i++) {                                                      \
                T l = ck[i];                                                                   \
                c0[i] -= f0 * l;                                                               \
                if (i > j) c1[i] -= f1 * l;                                                    \
                if (i > j + 1) c2[i] -= f2 * l;                                                \
                if (i > j + 2) c3[i] -= f3 * l;                                                \
            }                                                                                  \
        }                                                                                      \
        for (; j < n; j++) {                                                                   \
            T *c0 = a + (ptrdiff_t)j * lda, f0 = ck[j];                                        \
            _Pragma("omp simd")                                                                \
            for (int i = j; i < n; i++) c0[i] -= f0 * ck[i];                                   \
        }                                                                                      \
    }                                                                                          \
    return 0;                                                                                  \
}

CT_POTRF_SMALL_DEF(float, ct_spotrf_small)
CT_POTRF_SMALL_DEF(double, ct_dpotrf_small)

#endif
