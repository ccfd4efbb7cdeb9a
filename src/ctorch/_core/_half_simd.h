/* float16 / bfloat16 kernels: load 16-bit, compute in float32, store 16-bit.
 *
 * Every kernel walks its chunk in blocks of CT_HBLK elements: the 16-bit inputs of a block are
 * widened into float32 scratch on the stack (L1-resident), the float32 SIMD loop of the op
 * table (_elementwise_simd.h) runs on the scratch, and the float32 result is rounded once to
 * the 16-bit type. Memory traffic is the 16-bit bytes only; the arithmetic is the float32
 * kernels' own, so results equal "compute in float32, round once" bit for bit, whatever the
 * thread count.
 *
 * Conversions:
 *  - float16: F16C (vcvtph2ps / vcvtps2ph, round to nearest even) in an AVX-512 and an AVX2
 *    clone picked once at run time; a portable bit-exact fallback otherwise.
 *  - bfloat16: widening is a 16-bit shift; narrowing rounds to nearest even by integer
 *    arithmetic (torch's round_to_nearest_even; NaN -> 0xFFFF as torch's vectorized CPU
 *    conversion writes it), vectorized by target_clones.
 */
#ifndef CT_HALF_SIMD_H
#define CT_HALF_SIMD_H

#include "_elementwise_simd.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define CT_HBLK 512
enum { CT_KIND_F16 = 0, CT_KIND_BF16 = 1 };

/* ---- bfloat16 ------------------------------------------------------------------------- */
CT_SIMD static void ct_bf16_to_f32(const uint16_t *src, float *dst, ct_i n)
{
    uint32_t *d = (uint32_t *)dst;
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) d[i] = ((uint32_t)src[i]) << 16;
}

CT_SIMD static void ct_f32_to_bf16(const float *src, uint16_t *dst, ct_i n)
{
    const uint32_t *s = (const uint32_t *)src;
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) {
        uint32_t u = s[i];
        uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
        int nan = (u & 0x7FFFFFFFu) > 0x7F800000u;
        dst[i] = (uint16_t)(nan ? 0xFFFFu : r); /* NaN as torch's vectorized conversion */
    }
}

/* ---- float16 -------------------------------------------------------------------------- */
static float ct_h2f_soft(uint16_t h)
{
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, u;
    if (exp == 0x1F) {
        u = sign | 0x7F800000u | (man << 13);
    } else if (exp == 0) {
        float f = (float)man * 5.9604644775390625e-08f; /* man * 2^-24 */
        memcpy(&u, &f, 4);
        u |= sign;
    } else {
        u = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint16_t ct_f2h_soft(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u); /* NaN */
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds to inf */
    if (a < 0x38800000u) { /* subnormal half (or zero): scale into integer ulps, RNE */
        float v;
        memcpy(&v, &a, 4);
        v = v * 16777216.0f; /* 2^24: half subnormal ulp is 2^-24 */
        float r = rintf(v);
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t r = a + 0x0FFFu + ((a >> 13) & 1u) - 0x38000000u; /* rebias 127 -> 15 */
    return (uint16_t)(sign | (r >> 13));
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static void ct_f16_to_f32_512(const uint16_t *s, float *d,
                                                                   ct_i n)
{
    ct_i i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(d + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i))));
    for (; i < n; ++i) d[i] = ct_h2f_soft(s[i]);
}

__attribute__((target("avx512f"))) static void ct_f32_to_f16_512(const float *s, uint16_t *d,
                                                                   ct_i n)
{
    ct_i i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(d + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i) d[i] = ct_f2h_soft(s[i]);
}

__attribute__((target("avx2,f16c"))) static void ct_f16_to_f32_f16c(const uint16_t *s, float *d,
                                                                      ct_i n)
{
    ct_i i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; ++i) d[i] = ct_h2f_soft(s[i]);
}

__attribute__((target("avx2,f16c"))) static void ct_f32_to_f16_f16c(const float *s, uint16_t *d,
                                                                      ct_i n)
{
    ct_i i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i) d[i] = ct_f2h_soft(s[i]);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* bfloat16 with explicit AVX-512 (the target_clones loops above leave ~half the speed on the
 * table: the narrowing's NaN select and 32->16 pack do not vectorize well) */
__attribute__((target("avx512f,avx512bw"))) static void ct_bf16_to_f32_512(const uint16_t *s,
                                                                             float *d, ct_i n)
{
    ct_i i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s + i)));
        _mm512_storeu_si512(d + i, _mm512_slli_epi32(w, 16));
    }
    ct_bf16_to_f32(s + i, d + i, n - i);
}

__attribute__((target("avx512f,avx512bw"))) static void ct_f32_to_bf16_512(const float *s,
                                                                             uint16_t *d, ct_i n)
{
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7FFF);
    const __m512i absm = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const __m512i nanv = _mm512_set1_epi32(0xFFFF);
    ct_i i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i u = _mm512_loadu_si512(s + i);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, bias), lsb), 16);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, absm), inf);
        r = _mm512_mask_blend_epi32(nan, r, nanv);
        _mm256_storeu_si256((__m256i *)(d + i), _mm512_cvtepi32_epi16(r));
    }
    ct_f32_to_bf16(s + i, d + i, n - i);
}
#endif

static void ct_f16_to_f32_soft(const uint16_t *s, float *d, ct_i n)
{
    for (ct_i i = 0; i < n; ++i) d[i] = ct_h2f_soft(s[i]);
}

static void ct_f32_to_f16_soft(const float *s, uint16_t *d, ct_i n)
{
    for (ct_i i = 0; i < n; ++i) d[i] = ct_f2h_soft(s[i]);
}

typedef void (*ct_widen_fn)(const uint16_t *, float *, ct_i);
typedef void (*ct_narrow_fn)(const float *, uint16_t *, ct_i);
static ct_widen_fn ct_f16_widen = 0;
static ct_narrow_fn ct_f16_narrow = 0;
static ct_widen_fn ct_bf16_widen = ct_bf16_to_f32;
static ct_narrow_fn ct_bf16_narrow = ct_f32_to_bf16;

/* bit k: 16-bit kind k takes the fused arithmetic loops (below; set with the ISA) */
static int ct_h_fused_kinds = 0;

/* 2: AVX-512, 1: F16C, 0: portable; forced by ct_half_set_isa (tests), else the CPU's best */
static int ct_half_isa = -1;

static int ct_half_init(void)
{
    if (ct_half_isa < 0) {
        int isa = 0;
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) isa = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) isa = 1;
#endif
        ct_half_isa = isa;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    ct_bf16_widen = ct_bf16_to_f32;
    ct_bf16_narrow = ct_f32_to_bf16;
    ct_h_fused_kinds = 0;
    if (ct_half_isa == 2) {
        ct_f16_widen = ct_f16_to_f32_512;
        ct_f16_narrow = ct_f32_to_f16_512;
        if (__builtin_cpu_supports("avx512bw")) {
            ct_bf16_widen = ct_bf16_to_f32_512;
            ct_bf16_narrow = ct_f32_to_bf16_512;
            ct_h_fused_kinds = (1 << CT_KIND_F16) | (1 << CT_KIND_BF16);
        }
    }
    else if (ct_half_isa == 1) { ct_f16_widen = ct_f16_to_f32_f16c; ct_f16_narrow = ct_f32_to_f16_f16c; }
    else
#endif
    { ct_f16_widen = ct_f16_to_f32_soft; ct_f16_narrow = ct_f32_to_f16_soft; }
    return ct_half_isa;
}

/* tests: turn the fused arithmetic loops off (0) or back to what the ISA allows (1) */
static int ct_half_set_fused(int on)
{
    ct_half_init();
    if (!on) ct_h_fused_kinds = 0;
    return ct_h_fused_kinds != 0;
}

static int ct_half_set_isa(int isa)
{
    ct_half_isa = isa;
    return ct_half_init();
}

static inline void ct_widen(int kind, const uint16_t *s, float *d, ct_i n)
{
    if (kind == CT_KIND_BF16) ct_bf16_widen(s, d, n);
    else ct_f16_widen(s, d, n);
}

static inline void ct_narrow(int kind, const float *s, uint16_t *d, ct_i n)
{
    if (kind == CT_KIND_BF16) ct_bf16_narrow(s, d, n);
    else ct_f16_narrow(s, d, n);
}

/* ---- fused AVX-512 loops: the four arithmetic ops, relu and neg -------------------------
 * load 16 values, widen in registers, one float32 operation, narrow, store: no float32
 * scratch. The conversions are the ones ct_bf16/f16_*_512 do and +,-,*,/ are the table's
 * float32 expressions, so the bits equal the blocked kernels' (tests force the blocked ones
 * through set_half_isa). In cache the blocked add ran ~0.8 cycles an element, this ~0.2:
 * at 16M elements bfloat16 add becomes memory bound like float32's. */

#if defined(__x86_64__) && defined(__GNUC__)
#define CT_H512 __attribute__((target("avx512f,avx512bw"))) static inline
CT_H512 __m512 ct_ld_bf16(const uint16_t *p)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
CT_H512 void ct_st_bf16(uint16_t *p, __m512 v)
{
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb), 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                            _mm512_set1_epi32(0x7F800000));
    r = _mm512_mask_blend_epi32(nan, r, _mm512_set1_epi32(0xFFFF));
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(r));
}
CT_H512 __m512 ct_ld_f16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
CT_H512 void ct_st_f16(uint16_t *p, __m512 v)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

#define CT_H_ARITH(LD, ST, A, B)                                                           \
    switch (op) {                                                                          \
    case CT_BIN_ADD: for (; i + 16 <= n; i += 16) ST(out + i, _mm512_add_ps(A, B)); break; \
    case CT_BIN_SUB: for (; i + 16 <= n; i += 16) ST(out + i, _mm512_sub_ps(A, B)); break; \
    case CT_BIN_MUL: for (; i + 16 <= n; i += 16) ST(out + i, _mm512_mul_ps(A, B)); break; \
    case CT_BIN_DIV: for (; i + 16 <= n; i += 16) ST(out + i, _mm512_div_ps(A, B)); break; \
    default: break;                                                                        \
    }

/* elements of x op y done (a multiple of 16; 0 where the op has no fused loop) */
__attribute__((target("avx512f,avx512bw"))) static ct_i
ct_h_binary_fused(int kind, int op, const uint16_t *x, const uint16_t *y, uint16_t *out, ct_i n)
{
    ct_i i = 0;
    if (kind == CT_KIND_BF16) {
        CT_H_ARITH(ct_ld_bf16, ct_st_bf16, ct_ld_bf16(x + i), ct_ld_bf16(y + i))
    } else {
        CT_H_ARITH(ct_ld_f16, ct_st_f16, ct_ld_f16(x + i), ct_ld_f16(y + i))
    }
    return i;
}

__attribute__((target("avx512f,avx512bw"))) static ct_i
ct_h_binary_scalar_fused(int kind, int op, const uint16_t *x, float sc, uint16_t *out, ct_i n,
                         int rev)
{
    ct_i i = 0;
    const __m512 s = _mm512_set1_ps(sc);
    if (kind == CT_KIND_BF16) {
        if (rev) { CT_H_ARITH(ct_ld_bf16, ct_st_bf16, s, ct_ld_bf16(x + i)) }
        else { CT_H_ARITH(ct_ld_bf16, ct_st_bf16, ct_ld_bf16(x + i), s) }
    } else {
        if (rev) { CT_H_ARITH(ct_ld_f16, ct_st_f16, s, ct_ld_f16(x + i)) }
        else { CT_H_ARITH(ct_ld_f16, ct_st_f16, ct_ld_f16(x + i), s) }
    }
    return i;
}
/* relu and neg forward, relu backward (torch's rules: relu(NaN) = NaN, relu(-0) = -0; the
 * gradient is 0 where y <= 0) */
#define CT_H_UN(LD, ST)                                                                    \
    switch (op) {                                                                          \
    case CT_UN_RELU:                                                                       \
        for (; i + 16 <= n; i += 16) {                                                     \
            __m512 v = LD(x + i);                                                          \
            ST(out + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, z, _CMP_LT_OQ), v, z)); \
        }                                                                                  \
        break;                                                                             \
    case CT_UN_NEG:                                                                        \
        for (; i + 16 <= n; i += 16)                                                       \
            ST(out + i, _mm512_castsi512_ps(_mm512_xor_si512(                               \
                            _mm512_castps_si512(LD(x + i)), _mm512_set1_epi32(INT32_MIN)))); \
        break;                                                                             \
    default: break;                                                                        \
    }

__attribute__((target("avx512f,avx512bw"))) static ct_i
ct_h_unary_fused(int kind, int op, const uint16_t *x, uint16_t *out, ct_i n)
{
    ct_i i = 0;
    const __m512 z = _mm512_setzero_ps();
    if (kind == CT_KIND_BF16) { CT_H_UN(ct_ld_bf16, ct_st_bf16) }
    else { CT_H_UN(ct_ld_f16, ct_st_f16) }
    return i;
}

#define CT_H_RELU_BWD(LD, ST)                                                              \
    for (; i + 16 <= n; i += 16) {                                                         \
        __m512 g = LD(gy + i);                                                             \
        __mmask16 m = _mm512_cmp_ps_mask(LD(y + i), z, _CMP_LE_OQ);                        \
        ST(gx + i, _mm512_mask_blend_ps(m, g, z));                                         \
    }

__attribute__((target("avx512f,avx512bw"))) static ct_i
ct_h_unary_backward_fused(int kind, int op, const uint16_t *gy, const uint16_t *y, uint16_t *gx,
                          ct_i n)
{
    ct_i i = 0;
    const __m512 z = _mm512_setzero_ps();
    if (op != CT_UN_RELU) return 0;
    if (kind == CT_KIND_BF16) { CT_H_RELU_BWD(ct_ld_bf16, ct_st_bf16) }
    else { CT_H_RELU_BWD(ct_ld_f16, ct_st_f16) }
    return i;
}
#undef CT_H_UN
#undef CT_H_RELU_BWD
#undef CT_H_ARITH
#undef CT_H512
#endif

/* ---- blocked kernels ------------------------------------------------------------------ */
static void ct_h_binary(int kind, int op, const uint16_t *x, const uint16_t *y, uint16_t *out,
                        ct_i n)
{
    float xb[CT_HBLK], yb[CT_HBLK], ob[CT_HBLK];
#if defined(__x86_64__) && defined(__GNUC__)
    if ((ct_h_fused_kinds >> kind) & 1) {
        ct_i d = ct_h_binary_fused(kind, op, x, y, out, n);
        x += d, y += d, out += d, n -= d;
    }
#endif
    for (ct_i s = 0; s < n; s += CT_HBLK) {
        ct_i m = n - s < CT_HBLK ? n - s : CT_HBLK;
        ct_widen(kind, x + s, xb, m);
        ct_widen(kind, y + s, yb, m);
        ct_binary_f32(op, xb, yb, ob, m);
        ct_narrow(kind, ob, out + s, m);
    }
}

static void ct_h_binary_scalar(int kind, int op, const uint16_t *x, float sc, uint16_t *out,
                               ct_i n, int rev)
{
    float xb[CT_HBLK], ob[CT_HBLK];
#if defined(__x86_64__) && defined(__GNUC__)
    if ((ct_h_fused_kinds >> kind) & 1) {
        ct_i d = ct_h_binary_scalar_fused(kind, op, x, sc, out, n, rev);
        x += d, out += d, n -= d;
    }
#endif
    for (ct_i s = 0; s < n; s += CT_HBLK) {
        ct_i m = n - s < CT_HBLK ? n - s : CT_HBLK;
        ct_widen(kind, x + s, xb, m);
        ct_binary_scalar_f32(op, xb, sc, ob, m, rev);
        ct_narrow(kind, ob, out + s, m);
    }
}

/* x (outer, mid, inner) op y (outer or 1, mid, 1 or inner) patterns are done by the caller as
 * rows: y_row repeats; here one row of x against one row of y of the same length */
static void ct_h_unary(int kind, int op, const uint16_t *x, uint16_t *out, ct_i n, float a,
                       float b)
{
    float xb[CT_HBLK], ob[CT_HBLK];
#if defined(__x86_64__) && defined(__GNUC__)
    if ((ct_h_fused_kinds >> kind) & 1) {
        ct_i d = ct_h_unary_fused(kind, op, x, out, n);
        x += d, out += d, n -= d;
    }
#endif
    for (ct_i s = 0; s < n; s += CT_HBLK) {
        ct_i m = n - s < CT_HBLK ? n - s : CT_HBLK;
        ct_widen(kind, x + s, xb, m);
        ct_unary_f32(op, xb, ob, m, a, b);
        ct_narrow(kind, ob, out + s, m);
    }
}

static void ct_h_unary_backward(int kind, int op, const uint16_t *gy, const uint16_t *x,
                                const uint16_t *y, uint16_t *gx, ct_i n, float a, float b)
{
    float gb[CT_HBLK], xb[CT_HBLK], yb[CT_HBLK], ob[CT_HBLK];
#if defined(__x86_64__) && defined(__GNUC__)
    if ((ct_h_fused_kinds >> kind) & 1) {
        ct_i d = ct_h_unary_backward_fused(kind, op, gy, y, gx, n);
        gy += d, x += d, y += d, gx += d, n -= d;
    }
#endif
    for (ct_i s = 0; s < n; s += CT_HBLK) {
        ct_i m = n - s < CT_HBLK ? n - s : CT_HBLK;
        ct_widen(kind, gy + s, gb, m);
        ct_widen(kind, x + s, xb, m);
        ct_widen(kind, y + s, yb, m);
        ct_unary_backward_f32(op, gb, xb, yb, ob, m, a, b);
        ct_narrow(kind, ob, gx + s, m);
    }
}

/* sum of n 16-bit values in float32: blocks of CT_HBLK summed pairwise-free in 16 lanes, the
 * lane partials added in a fixed order (the caller fixes the chunking: thread-count free) */
static float ct_h_sum(int kind, const uint16_t *x, ct_i n)
{
    float xb[CT_HBLK];
    float acc[16] = {0};
    for (ct_i s = 0; s < n; s += CT_HBLK) {
        ct_i m = n - s < CT_HBLK ? n - s : CT_HBLK;
        ct_widen(kind, x + s, xb, m);
        ct_i j = 0;
        for (; j + 16 <= m; j += 16)
            for (int l = 0; l < 16; ++l) acc[l] += xb[j + l];
        for (; j < m; ++j) acc[j & 15] += xb[j];
    }
    float t = 0.0f;
    for (int l = 0; l < 16; ++l) t += acc[l];
    return t;
}

/* ---- bfloat16 GEMM with AVX-512 BF16 dot products ------------------------------------------
 * C (M x N, bfloat16) = A (M x K) @ B (K x N), bfloat16 inputs with any element strides.
 * Pack time: A into 8-row panels of k-pairs (one uint32 = A[i][2p] | A[i][2p+1] << 16 per row
 * and pair), B into 48-column panels of k-pairs (16 pairs per zmm); both zero-padded. The
 * micro-kernel keeps an 8 x 48 float32 tile in 24 zmm accumulators and runs vdpbf16ps (two
 * products added to each float32 lane per instruction) over all of K, then rounds the tile
 * once to bfloat16. Each C element is one fixed sequence of dot-product steps over k, so the
 * result does not depend on the thread count (threads split tiles, never K).
 */
#define CTB_MR 8
#define CTB_NR 48

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

static int ct_have_avx512bf16(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1u;
#else
    return 0;
#endif
}

/* Packing. The reference loops below handle any strides and the ragged edges; the common
 * layouts take SIMD paths that produce the same words (a pair word is the two bfloat16 of
 * k = 2kp, 2kp + 1 side by side, exactly the 32 bits at &x[2kp] when k runs along memory):
 *  - k contiguous (A row-major, B = W^T of a row-major W): 8 x 8 transposes of 32-bit words;
 *  - the other index contiguous (A = G^T, B row-major): two rows interleaved 16 bits at a time.
 * The packed panels, and so the products, are bitwise those of the reference loops. */

/* panel p of A, pairs kp0 <= kp < Kp, rows i0 <= i < 8 */
static void ctb_pack_a_ref(uint32_t *dst, const uint16_t *a, ptrdiff_t rs, ptrdiff_t cs, int M,
                           int K, int p, int kp0, int i0)
{
    int Kp = (K + 1) / 2;
    for (int kp = kp0; kp < Kp; ++kp) {
        for (int i = i0; i < CTB_MR; ++i) {
            int r = p * CTB_MR + i, k0 = 2 * kp;
            uint32_t lo = 0, hi = 0;
            if (r < M) {
                lo = a[r * rs + k0 * cs];
                if (k0 + 1 < K) hi = a[r * rs + (k0 + 1) * cs];
            }
            dst[(ptrdiff_t)kp * CTB_MR + i] = lo | (hi << 16);
        }
    }
}

/* panel q of B (nr columns: 48 for the AVX-512 kernel, 32 for AMX), pairs kp0 <= kp < Kp,
 * columns j0 <= j < nr */
static void ctb_pack_b_ref(uint32_t *dst, const uint16_t *b, ptrdiff_t rs, ptrdiff_t cs, int K,
                           int N, int q, int kp0, int j0, int nr)
{
    int Kp = (K + 1) / 2;
    for (int kp = kp0; kp < Kp; ++kp) {
        int k0 = 2 * kp;
        uint32_t *d = dst + (ptrdiff_t)kp * nr;
        for (int j = j0; j < nr; ++j) {
            int c = q * nr + j;
            uint32_t lo = 0, hi = 0;
            if (c < N) {
                lo = b[k0 * rs + c * cs];
                if (k0 + 1 < K) hi = b[(k0 + 1) * rs + c * cs];
            }
            d[j] = lo | (hi << 16);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 8 sources (src + i * ss, i < 8, ss in uint16), each 8 pair words: word k of source i goes to
 * dst[k * ds + i] */
__attribute__((target("avx2"))) static inline void ctb_tr8(const uint16_t *src, ptrdiff_t ss,
                                                           uint32_t *dst, ptrdiff_t ds)
{
#define CTB_LD(I) __m256i r##I = _mm256_loadu_si256((const __m256i *)(src + (I) * ss));
    CTB_LD(0) CTB_LD(1) CTB_LD(2) CTB_LD(3) CTB_LD(4) CTB_LD(5) CTB_LD(6) CTB_LD(7)
#undef CTB_LD
    __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
    __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
    __m256i t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5);
    __m256i t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    _mm256_storeu_si256((__m256i *)(dst + 0 * ds), _mm256_permute2x128_si256(u0, u4, 0x20));
    _mm256_storeu_si256((__m256i *)(dst + 1 * ds), _mm256_permute2x128_si256(u1, u5, 0x20));
    _mm256_storeu_si256((__m256i *)(dst + 2 * ds), _mm256_permute2x128_si256(u2, u6, 0x20));
    _mm256_storeu_si256((__m256i *)(dst + 3 * ds), _mm256_permute2x128_si256(u3, u7, 0x20));
    _mm256_storeu_si256((__m256i *)(dst + 4 * ds), _mm256_permute2x128_si256(u0, u4, 0x31));
    _mm256_storeu_si256((__m256i *)(dst + 5 * ds), _mm256_permute2x128_si256(u1, u5, 0x31));
    _mm256_storeu_si256((__m256i *)(dst + 6 * ds), _mm256_permute2x128_si256(u2, u6, 0x31));
    _mm256_storeu_si256((__m256i *)(dst + 7 * ds), _mm256_permute2x128_si256(u3, u7, 0x31));
}

/* 16 pair words (lo from x[0..15], hi from y[0..15]) to dst[0..15] */
__attribute__((target("avx2"))) static inline void ctb_zip16(const uint16_t *x, const uint16_t *y,
                                                             uint32_t *dst)
{
    __m256i lo = _mm256_loadu_si256((const __m256i *)x);
    __m256i hi = _mm256_loadu_si256((const __m256i *)y);
    __m256i l = _mm256_unpacklo_epi16(lo, hi), h = _mm256_unpackhi_epi16(lo, hi);
    _mm256_storeu_si256((__m256i *)dst, _mm256_permute2x128_si256(l, h, 0x20));
    _mm256_storeu_si256((__m256i *)(dst + 8), _mm256_permute2x128_si256(l, h, 0x31));
}

/* 8 pair words (lo from x[0..7], hi from y[0..7]) to dst[0..7] */
__attribute__((target("avx2"))) static inline void ctb_zip8(const uint16_t *x, const uint16_t *y,
                                                            uint32_t *dst)
{
    __m128i lo = _mm_loadu_si128((const __m128i *)x), hi = _mm_loadu_si128((const __m128i *)y);
    _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(lo, hi));
    _mm_storeu_si128((__m128i *)(dst + 4), _mm_unpackhi_epi16(lo, hi));
}
#define CTB_HAVE_SIMD_PACK 1
#else
#define CTB_HAVE_SIMD_PACK 0
#endif

/* panel p of A: Kp pairs x 8 rows */
static void ctb_pack_a(uint32_t *dst, const uint16_t *a, ptrdiff_t rs, ptrdiff_t cs, int M,
                       int K, int p)
{
    int kp = 0;
#if CTB_HAVE_SIMD_PACK
    int Kf = K / 2; /* pairs with both halves inside K */
    const uint16_t *a0 = a + (ptrdiff_t)p * CTB_MR * rs;
    if (p * CTB_MR + CTB_MR <= M) {
        if (cs == 1) {
            for (; kp + 8 <= Kf; kp += 8) ctb_tr8(a0 + 2 * kp, rs, dst + (ptrdiff_t)kp * CTB_MR, CTB_MR);
        } else if (rs == 1) {
            for (; kp < Kf; ++kp)
                ctb_zip8(a0 + 2 * kp * cs, a0 + (2 * kp + 1) * cs, dst + (ptrdiff_t)kp * CTB_MR);
        }
    }
#endif
    ctb_pack_a_ref(dst, a, rs, cs, M, K, p, kp, 0);
}

/* panel q of B: Kp pairs x nr columns (nr a multiple of 16) */
static void ctb_pack_b_nr(uint32_t *dst, const uint16_t *b, ptrdiff_t rs, ptrdiff_t cs, int K,
                          int N, int q, int nr)
{
    int kp = 0;
#if CTB_HAVE_SIMD_PACK
    int Kf = K / 2;
    int c0 = q * nr;
    int jn = N - c0 < nr ? N - c0 : nr; /* valid columns of this panel */
    const uint16_t *b0 = b + (ptrdiff_t)c0 * cs;
    if (cs == 1 && jn >= 16) {
        int jf = jn / 16 * 16;
        for (; kp < Kf; ++kp) {
            const uint16_t *x = b0 + 2 * kp * rs, *y = x + rs;
            uint32_t *d = dst + (ptrdiff_t)kp * nr;
            for (int j = 0; j < jf; j += 16) ctb_zip16(x + j, y + j, d + j);
        }
        ctb_pack_b_ref(dst, b, rs, cs, Kf * 2, N, q, 0, jf, nr); /* columns past jf, k < 2 Kf */
        /* ctb_pack_b_ref with K = 2 Kf pads nothing wrong: k0 + 1 < 2 Kf for every kp < Kf */
    } else if (rs == 1 && jn >= 8) {
        int jf = jn / 8 * 8;
        for (; kp + 8 <= Kf; kp += 8)
            for (int j = 0; j < jf; j += 8)
                ctb_tr8(b0 + (ptrdiff_t)j * cs + 2 * kp, cs, dst + (ptrdiff_t)kp * nr + j, nr);
        if (kp > 0) ctb_pack_b_ref(dst, b, rs, cs, 2 * kp, N, q, 0, jf, nr);
    }
#endif
    ctb_pack_b_ref(dst, b, rs, cs, K, N, q, kp, 0, nr);
}

static void ctb_pack_b(uint32_t *dst, const uint16_t *b, ptrdiff_t rs, ptrdiff_t cs, int K,
                       int N, int q)
{
    ctb_pack_b_nr(dst, b, rs, cs, K, N, q, CTB_NR);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void
ctb_ukern(int Kp, const uint32_t *ap, const uint32_t *bp, float *tile)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    __m512 c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (int kp = 0; kp < Kp; ++kp) {
        const uint32_t *b = bp + (ptrdiff_t)kp * CTB_NR;
        const uint32_t *a = ap + (ptrdiff_t)kp * CTB_MR;
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        __m512bh b2 = (__m512bh)_mm512_loadu_si512(b + 32);
#define CTB_ROW(I)                                                                         \
        {                                                                                  \
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[I]);                          \
            c##I##0 = _mm512_dpbf16_ps(c##I##0, av, b0);                                   \
            c##I##1 = _mm512_dpbf16_ps(c##I##1, av, b1);                                   \
            c##I##2 = _mm512_dpbf16_ps(c##I##2, av, b2);                                   \
        }
        CTB_ROW(0) CTB_ROW(1) CTB_ROW(2) CTB_ROW(3) CTB_ROW(4) CTB_ROW(5) CTB_ROW(6) CTB_ROW(7)
#undef CTB_ROW
    }
#define CTB_ST(I)                                                                          \
    _mm512_storeu_ps(tile + I * CTB_NR, c##I##0);                                          \
    _mm512_storeu_ps(tile + I * CTB_NR + 16, c##I##1);                                     \
    _mm512_storeu_ps(tile + I * CTB_NR + 32, c##I##2);
    CTB_ST(0) CTB_ST(1) CTB_ST(2) CTB_ST(3) CTB_ST(4) CTB_ST(5) CTB_ST(6) CTB_ST(7)
#undef CTB_ST
}
#else
static void ctb_ukern(int Kp, const uint32_t *ap, const uint32_t *bp, float *tile)
{
    (void)Kp; (void)ap; (void)bp;
    for (int i = 0; i < CTB_MR * CTB_NR; ++i) tile[i] = 0.0f;
}
#endif

/* tile (p, q): multiply and store the valid part rounded to bfloat16 */
static void ctb_tile(const uint32_t *apk, const uint32_t *bpk, uint16_t *c, ptrdiff_t ldc,
                     int M, int N, int K, int p, int q)
{
    float tile[CTB_MR * CTB_NR];
    int Kp = (K + 1) / 2;
    ctb_ukern(Kp, apk + (ptrdiff_t)p * Kp * CTB_MR, bpk + (ptrdiff_t)q * Kp * CTB_NR, tile);
    int rows = M - p * CTB_MR < CTB_MR ? M - p * CTB_MR : CTB_MR;
    int cols = N - q * CTB_NR < CTB_NR ? N - q * CTB_NR : CTB_NR;
    for (int i = 0; i < rows; ++i)
        ct_bf16_narrow(tile + i * CTB_NR, c + (ptrdiff_t)(p * CTB_MR + i) * ldc + q * CTB_NR, cols);
}

/* ---- bfloat16 GEMM on AMX (Sapphire Rapids and later) -------------------------------------
 * Where the CPU has AMX-TILE and AMX-BF16 and Linux grants the tile data state
 * (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)), bgemm runs on the tile unit: a
 * 32 x 32 float32 block of C lives in four 16 x 16 accumulator tiles; each step over K loads
 * two 16 x 32 bfloat16 tiles of A (packed blocks, rows of 64 bytes) and two 16-pair x 16
 * column tiles of B (the AVX-512 kernel's pair-word panel layout, 32 columns wide), and issues
 * four TDPBF16PS, so every tile loaded feeds two products (a 16 x 48 block with one A and
 * three B tiles ran at 1100 GFLOP/s in L2, this one at 1700). K is zero-padded to a multiple
 * of 32.
 * Each C element is one fixed chain over K inside one tile, so the result does not depend on
 * the thread count; it may differ in the last bits from the AVX-512 BF16 kernel (another
 * accumulation order), as torch's AMX and AVX-512 paths differ. The tile configuration is
 * loaded at the start of every task and released at its end, so no tile state is left for
 * other code on the thread (torch's oneDNN configures tiles its own way). */
#define CTB_AMX_MR 16
#define CTB_AMX_NR 32 /* B panel width for AMX: two 16-column tiles */
#define CTB_AMX_KB 32 /* bfloat16 per A tile row (16 pair words) */

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) &&                             \
    (defined(__clang__) || __GNUC__ >= 11)
#include <sys/syscall.h>
#include <unistd.h>
#define CTB_HAVE_AMX_BUILD 1
#else
#define CTB_HAVE_AMX_BUILD 0
#endif

static int ctb_amx_state = -1; /* -1 unknown, 0 absent/off, 1 in use */
static int ctb_amx_present = 0;

static int ct_have_amx_bf16(void)
{
    if (ctb_amx_state >= 0) return ctb_amx_present;
    ctb_amx_state = 0;
#if CTB_HAVE_AMX_BUILD
    unsigned a, b, c, d, lo, hi;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !((c >> 27) & 1u)) return 0; /* OSXSAVE */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((d >> 24) & 1u) || !((d >> 22) & 1u)) return 0; /* AMX-TILE, AMX-BF16 */
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) != 0)
        return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (((lo >> 17) & 3u) != 3u) return 0; /* XTILECFG and XTILEDATA enabled by the OS */
    ctb_amx_present = 1;
    ctb_amx_state = 1;
#endif
    return ctb_amx_present;
}

/* 1: bgemm uses AMX (where present); 0: the AVX-512 BF16 kernel (tests compare the two) */
static int ctb_amx_set(int on)
{
    ct_have_amx_bf16();
    ctb_amx_state = on && ctb_amx_present;
    return ctb_amx_state;
}

static inline int ctb_amx_on(void) { return ctb_amx_state == 1; }

/* Packed AMX operands start on a 64-byte line: a tile row (64 bytes) that straddles two lines
 * halves the kernel's speed (measured: 256x512x512 at 470 against 1100 GFLOP/s). Free with
 * free(). */
static void *ctb_alloc64(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, 64, n ? n : 64) == 0 ? p : NULL;
}

/* A block (panel p of 16 rows, K block kb of 32): dst[i * 32 + k] = A[16p + i, 32kb + k], zero
 * outside M x K */
static void ctb_amx_pack_a(uint16_t *dst, const uint16_t *a, ptrdiff_t rs, ptrdiff_t cs, int M,
                           int K, int p, int kb)
{
    int r0 = p * CTB_AMX_MR, k0 = kb * CTB_AMX_KB;
    if (r0 + CTB_AMX_MR <= M && k0 + CTB_AMX_KB <= K) {
        if (cs == 1) {
            for (int i = 0; i < CTB_AMX_MR; ++i)
                memcpy(dst + i * CTB_AMX_KB, a + (r0 + i) * rs + k0, CTB_AMX_KB * 2);
            return;
        }
#if CTB_HAVE_SIMD_PACK
        if (rs == 1) { /* A = G^T: pair words per k pair (16 rows each), then a word transpose */
            uint32_t tmp[16 * 16];
            const uint16_t *s = a + r0 + (ptrdiff_t)k0 * cs;
            for (int kp = 0; kp < 16; ++kp)
                ctb_zip16(s + 2 * kp * cs, s + (2 * kp + 1) * cs, tmp + kp * 16);
            uint32_t *d = (uint32_t *)dst; /* d[i * 16 + kp] */
            for (int qa = 0; qa < 2; ++qa)
                for (int qb = 0; qb < 2; ++qb)
                    ctb_tr8((const uint16_t *)(tmp + qa * 8 * 16 + qb * 8), 32,
                            d + qb * 8 * 16 + qa * 8, 16);
            return;
        }
#endif
    }
    for (int i = 0; i < CTB_AMX_MR; ++i)
        for (int k = 0; k < CTB_AMX_KB; ++k) {
            int r = r0 + i, kk = k0 + k;
            dst[i * CTB_AMX_KB + k] = (r < M && kk < K) ? a[r * rs + kk * cs] : 0;
        }
}

/* B panel q (32 columns) with its pairs zero-padded to Kb * 16 */
static void ctb_amx_pack_b(uint32_t *dst, const uint16_t *b, ptrdiff_t rs, ptrdiff_t cs, int K,
                           int N, int q, int Kb)
{
    int Kp = (K + 1) / 2;
    ctb_pack_b_nr(dst, b, rs, cs, K, N, q, CTB_AMX_NR);
    memset(dst + (ptrdiff_t)Kp * CTB_AMX_NR, 0, (size_t)(Kb * 16 - Kp) * CTB_AMX_NR * 4);
}

#if CTB_HAVE_AMX_BUILD
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} ctb_tilecfg;

/* C blocks for row panels p0 <= p < p1 (p0 even) and column panel q: two row panels at a time
 * (a 32 x 32 block: tiles 0-3 C, 4-5 A, 6-7 B; each A and B tile feeds two products), a last
 * odd panel alone (16 x 32). Either way each C element is the same chain over K. */
__attribute__((target("amx-tile,amx-bf16"))) static void
ctb_amx_blocks(const uint16_t *apk, const uint32_t *bpk, int Kb, uint16_t *c, ptrdiff_t ldc,
               int M, int N, int p0, int p1, int q)
{
    ctb_tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
    float tile[2 * CTB_AMX_MR * CTB_AMX_NR] __attribute__((aligned(64)));
    const ptrdiff_t ast = (ptrdiff_t)Kb * CTB_AMX_MR * CTB_AMX_KB, bst = 16 * CTB_AMX_NR;
    const uint32_t *bq = bpk + (ptrdiff_t)q * Kb * bst;
    int cols = N - q * CTB_AMX_NR < CTB_AMX_NR ? N - q * CTB_AMX_NR : CTB_AMX_NR;
    for (int p = p0; p < p1; p += 2) {
        const uint16_t *a0 = apk + p * ast;
        int two = p + 1 < p1;
        _tile_zero(0);
        _tile_zero(1);
        if (two) {
            const uint16_t *a1 = a0 + ast;
            _tile_zero(2);
            _tile_zero(3);
            for (int kb = 0; kb < Kb; ++kb) {
                const uint32_t *bk = bq + kb * bst;
                _tile_loadd(4, a0 + kb * CTB_AMX_MR * CTB_AMX_KB, CTB_AMX_KB * 2);
                _tile_loadd(6, bk, CTB_AMX_NR * 4);
                _tile_dpbf16ps(0, 4, 6);
                _tile_loadd(7, bk + 16, CTB_AMX_NR * 4);
                _tile_dpbf16ps(1, 4, 7);
                _tile_loadd(5, a1 + kb * CTB_AMX_MR * CTB_AMX_KB, CTB_AMX_KB * 2);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(2, tile + CTB_AMX_MR * CTB_AMX_NR, CTB_AMX_NR * 4);
            _tile_stored(3, tile + CTB_AMX_MR * CTB_AMX_NR + 16, CTB_AMX_NR * 4);
        } else {
            for (int kb = 0; kb < Kb; ++kb) {
                const uint32_t *bk = bq + kb * bst;
                _tile_loadd(4, a0 + kb * CTB_AMX_MR * CTB_AMX_KB, CTB_AMX_KB * 2);
                _tile_loadd(6, bk, CTB_AMX_NR * 4);
                _tile_dpbf16ps(0, 4, 6);
                _tile_loadd(7, bk + 16, CTB_AMX_NR * 4);
                _tile_dpbf16ps(1, 4, 7);
            }
        }
        _tile_stored(0, tile, CTB_AMX_NR * 4);
        _tile_stored(1, tile + 16, CTB_AMX_NR * 4);
        int rows = M - p * CTB_AMX_MR;
        if (rows > (two ? 2 : 1) * CTB_AMX_MR) rows = (two ? 2 : 1) * CTB_AMX_MR;
        for (int i = 0; i < rows; ++i)
            ct_bf16_narrow(tile + i * CTB_AMX_NR,
                           c + (ptrdiff_t)(p * CTB_AMX_MR + i) * ldc + q * CTB_AMX_NR, cols);
    }
    _tile_release();
}
#else
static void ctb_amx_blocks(const uint16_t *apk, const uint32_t *bpk, int Kb, uint16_t *c,
                           ptrdiff_t ldc, int M, int N, int p0, int p1, int q)
{
    (void)apk; (void)bpk; (void)Kb; (void)c; (void)ldc; (void)M; (void)N; (void)p0; (void)p1;
    (void)q; /* never called: ct_have_amx_bf16() is 0 in such a build */
}
#endif

/* ---- row-wise softmax family: one row widened into float32 scratch, the float32 row kernel
 * of _reduction_simd.h (same blocking and summation order as for float32 input), one rounding.
 * mode 0 softmax, 1 log_softmax (a = x); 2 softmax backward, 3 log_softmax backward
 * (a = gy, b = y). Scratch: 3 rows of n floats (the caller's buffer). */
#include "_reduction_simd.h"

static void ct_h_softmax_row(int kind, int mode, const uint16_t *a, const uint16_t *b,
                             uint16_t *out, ct_i n, float *scratch)
{
    float *fa = scratch, *fb = scratch + n, *fo = scratch + 2 * n;
    ct_widen(kind, a, fa, n);
    if (mode == 0) ct_softmax_row_f32(fa, fo, n);
    else if (mode == 1) ct_log_softmax_row_f32(fa, fo, n);
    else {
        ct_widen(kind, b, fb, n);
        if (mode == 2) ct_softmax_bwd_row_f32(fa, fb, fo, n);
        else ct_log_softmax_bwd_row_f32(fa, fb, fo, n);
    }
    ct_narrow(kind, fo, out, n);
}

#endif
