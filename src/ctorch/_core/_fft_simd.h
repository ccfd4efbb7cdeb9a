/* ctorch's own complex FFT for power-of-two lengths (complex64 and complex128): strips of
 * side-by-side radix-4 transforms (_fft_tmpl.h), the four-step split for long ones.  See
 * docs/kernels.md ("fft") for why and what it measured against pocketfft and torch. */
#ifndef CT_FFT_SIMD_H
#define CT_FFT_SIMD_H

#include <stdlib.h>
#include "_ct_common.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CT_CAT(a, b) a##b
#define CT_X(a, b) CT_CAT(a, b)

/* transforms up to this length run in one strip buffer (2 * CTF_L * n values: 512 KiB at
 * 2048 points); longer ones take the four-step split */
#define CTF_DIRECT_MAX 2048
/* the longest strip transform: the four-step halves of up to 2^(2 * CTF_MAXBITS) points */
#define CTF_MAXBITS 20
/* strip rows (128 bytes each) that stay in L1 through all of a block's remaining stages */
#define CTF_L1ROWS 256
/* fewer transforms than a strip holds are split from this length on (16 x 16 at 256) */
#define CTF_SPLIT_MIN 256

/* ---- AVX-512 transposed loads and stores ------------------------------------------------
 * A strip whose transforms each lie contiguous in memory (rows of a matrix: the last axis,
 * the four-step's second pass) needs element r of 16 (8) transforms in one buffer row: the
 * scalar path did that one value at a time and took more time than the butterflies.  Here
 * CTF_L x CTF_L blocks are transposed in registers (the real and imaginary parts split or
 * joined by one permute per vector).  ctf_load_t / ctf_store_t return 0 where they do not
 * apply (no AVX-512, fewer than CTF_L rows) and the template's scalar loops run instead. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include "_tr_avx512.h"
#define CTF_AVX512 __attribute__((target("avx512f")))

static int ctf_avx512 = -1;

static inline int ctf_simd_ok(void)
{
    if (ctf_avx512 < 0) ctf_avx512 = ct_have_avx512();
    return ctf_avx512;
}

/* buf row r + i, lane l <- element r + i of the transform at complex offset offs[l] */
static CTF_AVX512 void ctf_load_t_avx512_f32(const float *x, const long *offs, long n, float *buf)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 re[16], im[16];
    for (long r = 0; r < n; r += 16) {
        for (int l = 0; l < 16; l++) {
            const float *s = x + 2 * (offs[l] + r);
            __m512 a = _mm512_loadu_ps(s), b = _mm512_loadu_ps(s + 16);
            re[l] = _mm512_permutex2var_ps(a, ev, b);
            im[l] = _mm512_permutex2var_ps(a, od, b);
        }
        ct_tr16_avx512(re);
        ct_tr16_avx512(im);
        for (int i = 0; i < 16; i++) {
            _mm512_storeu_ps(buf + (r + i) * 32, re[i]);
            _mm512_storeu_ps(buf + (r + i) * 32 + 16, im[i]);
        }
    }
}

/* element k + i of the transform at offs[l] <- buf row rev[k + i], lane l, times scale */
static CTF_AVX512 void ctf_store_t_avx512_f32(float *y, const long *offs, long n, const float *buf,
                                             const int *rev, float scale)
{
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 re[16], im[16];
    for (long k = 0; k < n; k += 16) {
        for (int i = 0; i < 16; i++) {
            const float *s = buf + (long)rev[k + i] * 32;
            re[i] = _mm512_mul_ps(_mm512_loadu_ps(s), sc);
            im[i] = _mm512_mul_ps(_mm512_loadu_ps(s + 16), sc);
        }
        ct_tr16_avx512(re);
        ct_tr16_avx512(im);
        for (int l = 0; l < 16; l++) {
            float *d = y + 2 * (offs[l] + k);
            _mm512_storeu_ps(d, _mm512_permutex2var_ps(re[l], lo, im[l]));
            _mm512_storeu_ps(d + 16, _mm512_permutex2var_ps(re[l], hi, im[l]));
        }
    }
}

static CTF_AVX512 void ctf_load_t_avx512_f64(const double *x, const long *offs, long n,
                                            double *buf)
{
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    __m512d re[8], im[8];
    for (long r = 0; r < n; r += 8) {
        for (int l = 0; l < 8; l++) {
            const double *s = x + 2 * (offs[l] + r);
            __m512d a = _mm512_loadu_pd(s), b = _mm512_loadu_pd(s + 8);
            re[l] = _mm512_permutex2var_pd(a, ev, b);
            im[l] = _mm512_permutex2var_pd(a, od, b);
        }
        ct_tr8d_avx512(re);
        ct_tr8d_avx512(im);
        for (int i = 0; i < 8; i++) {
            _mm512_storeu_pd(buf + (r + i) * 16, re[i]);
            _mm512_storeu_pd(buf + (r + i) * 16 + 8, im[i]);
        }
    }
}

static CTF_AVX512 void ctf_store_t_avx512_f64(double *y, const long *offs, long n,
                                             const double *buf, const int *rev, double scale)
{
    const __m512i lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    const __m512d sc = _mm512_set1_pd(scale);
    __m512d re[8], im[8];
    for (long k = 0; k < n; k += 8) {
        for (int i = 0; i < 8; i++) {
            const double *s = buf + (long)rev[k + i] * 16;
            re[i] = _mm512_mul_pd(_mm512_loadu_pd(s), sc);
            im[i] = _mm512_mul_pd(_mm512_loadu_pd(s + 8), sc);
        }
        ct_tr8d_avx512(re);
        ct_tr8d_avx512(im);
        for (int l = 0; l < 8; l++) {
            double *d = y + 2 * (offs[l] + k);
            _mm512_storeu_pd(d, _mm512_permutex2var_pd(re[l], lo, im[l]));
            _mm512_storeu_pd(d + 8, _mm512_permutex2var_pd(re[l], hi, im[l]));
        }
    }
}
#define CTF_LOAD_T(SFX_, x, offs, n, buf)                                                    \
    (ctf_simd_ok() && (n) >= CTF_L ? (CT_X(ctf_load_t_avx512, SFX_)(x, offs, n, buf), 1) : 0)
#define CTF_STORE_T(SFX_, y, offs, n, buf, rev, scale)                                       \
    (ctf_simd_ok() && (n) >= CTF_L                                                            \
         ? (CT_X(ctf_store_t_avx512, SFX_)(y, offs, n, buf, rev, scale), 1)                  \
         : 0)
#else
static inline int ctf_simd_ok(void) { return 0; }
#define CTF_LOAD_T(SFX_, x, offs, n, buf) 0
#define CTF_STORE_T(SFX_, y, offs, n, buf, rev, scale) 0
#endif

/* A strip's rows of a matrix lie a whole row apart (8 KiB at 1024 complex64 columns), past
 * what the hardware prefetchers follow: each row's 2 * CTF_L values (two cache lines) are
 * prefetched CTF_PD rows ahead. */
#define CTF_PD 8
#define CTF_PREFETCH(p, w)                                                                   \
    do {                                                                                     \
        __builtin_prefetch((const char *)(p), (w));                                          \
        __builtin_prefetch((const char *)(p) + 64, (w));                                     \
    } while (0)

/* The strip loops: SIMD clones (CT_SIMD), with the multiply-adds of the butterflies and
 * twiddles contracted to FMAs where the clone has them (the build's -ffp-contract=off keeps
 * the other kernels' bits fixed; the FFT promises its bits across thread counts only). */
#if defined(__GNUC__) && !defined(__clang__)
#define CTF_KERNEL CT_SIMD __attribute__((optimize("fp-contract=fast")))
#else
#define CTF_KERNEL CT_SIMD
#endif

/* log2 of a power of two (the smallest b with 2^b >= n) */
static inline int ctf_log2(long n)
{
    int b = 0;
    while ((1L << b) < n) b++;
    return b;
}

/* lanes of a strip: 64 bytes of T (16 floats, 8 doubles) */
#define CTF_L ((int)(64 / sizeof(T)))
#define CT_TMPL "_fft_tmpl.h"
#include "_ct_instances.h"
#undef CTF_L

#endif
