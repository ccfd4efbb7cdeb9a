/* In-register transposes with AVX-512F (callers include <immintrin.h> and call these only
 * from target("avx512f") code on a CPU that has it): the GEMM packing (_gemm_f32.h) and the
 * FFT's transposed strip loads and stores (_fft_simd.h). */
#ifndef CT_TR_AVX512_H
#define CT_TR_AVX512_H

#define CT_TR_AVX512 __attribute__((target("avx512f")))

/* 16x16 floats: r[i] lane j -> r[j] lane i. */
static CT_TR_AVX512 inline void ct_tr16_avx512(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 16; i += 8)
        for (int q = 0; q < 4; q++) {
            t[i + q] = _mm512_shuffle_f32x4(u[i + q], u[i + 4 + q], 0x88);
            t[i + 4 + q] = _mm512_shuffle_f32x4(u[i + q], u[i + 4 + q], 0xDD);
        }
    for (int q = 0; q < 8; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
        r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);
    }
}

/* 8x8 doubles: r[i] lane j -> r[j] lane i (pairs, then 128-bit blocks twice). */
static CT_TR_AVX512 inline void ct_tr8d_avx512(__m512d r[8])
{
    __m512d t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    /* t[2p] / t[2p + 1]: rows 2p, 2p + 1 paired in the even / odd columns, as four 128-bit
     * blocks; u gathers blocks 0, 2 (then 1, 3) of two such, and the last step pairs rows
     * 0-3 with rows 4-7 */
    for (int h = 0; h < 8; h += 4)
        for (int p = 0; p < 2; p++) {
            u[h + p] = _mm512_shuffle_f64x2(t[h + p], t[h + 2 + p], 0x88);
            u[h + 2 + p] = _mm512_shuffle_f64x2(t[h + p], t[h + 2 + p], 0xDD);
        }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f64x2(u[q], u[4 + q], 0x88);
        r[4 + q] = _mm512_shuffle_f64x2(u[q], u[4 + q], 0xDD);
    }
}

#endif
