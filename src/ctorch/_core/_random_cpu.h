/* The CPU generator's transforms that need libm or torch's own float math, so that ctorch's
 * random numbers are torch's bits under a seed.
 *
 * 1. torch's float32 normal_fill_16 (aten/src/ATen/native/cpu/avx_mathfun.h log256_ps and
 * sincos256_ps, cephes polynomials), so that ctorch's randn gives torch's bits under a seed.
 *
 * torch compiles those AVX2 intrinsics with GCC, which contracts a multiply feeding an add
 * into one FMA (in the order noted below); this file spells every such FMA with fmaf() and is
 * built with -ffp-contract=off, so nothing else is fused. Each lane of torch's 8-wide code is
 * this scalar code: IEEE add/mul/sqrt/fma and the integer steps give the same bits per lane.
 * The loop is compiled twice: for AVX2+FMA CPUs (fmaf is one instruction there) and a generic
 * build (fmaf from libm: the same result, slower), chosen at run time.
 *
 * ct_box_muller16_f32(u, out, nblocks, mean, std): for each block of 16 uniforms in [0, 1),
 * out[j] = r cos(t) * std + mean, out[j + 8] = r sin(t) * std + mean with
 * r = sqrt(-2 log(1 - u[j])), t = 2 pi u[j + 8], j < 8 (the final multiply-add fused). */
#ifndef CT_RANDOM_CPU_H
#define CT_RANDOM_CPU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ct_rng_bits_f(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t ct_rng_f_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

#define CT_RNG_BODY                                                                          \
    for (int64_t blk = 0; blk < nblocks; blk++) {                                            \
        const float *ub = u + 16 * blk;                                                      \
        float *ob = out + 16 * blk;                                                          \
        for (int j = 0; j < 8; j++) {                                                        \
            /* log(1 - u) */                                                                 \
            float x = 1.0f - ub[j];                                                          \
            const int invalid = !(x > 0.0f);                                                 \
            if (x < 1.17549435e-38f) x = 1.17549435e-38f;                                    \
            int32_t bits = ct_rng_f_bits(x);                                                 \
            float e = (float)((bits >> 23) - 0x7f) + 1.0f;                                   \
            x = ct_rng_bits_f((bits & ~0x7f800000) | 0x3f000000);                           \
            const int small = x < 0.707106781186547524f;                                     \
            const float tmp = small ? x : 0.0f;                                              \
            x = x - 1.0f;                                                                    \
            e = e - (small ? 1.0f : 0.0f);                                                   \
            x = x + tmp;                                                                     \
            const float z = x * x;                                                           \
            float y = 7.0376836292e-2f;                                                      \
            y = fmaf(y, x, -1.1514610310e-1f);                                               \
            y = fmaf(y, x, 1.1676998740e-1f);                                                \
            y = fmaf(y, x, -1.2420140846e-1f);                                               \
            y = fmaf(y, x, 1.4249322787e-1f);                                                \
            y = fmaf(y, x, -1.6668057665e-1f);                                               \
            y = fmaf(y, x, 2.0000714765e-1f);                                                \
            y = fmaf(y, x, -2.4999993993e-1f);                                               \
            y = fmaf(y, x, 3.3333331174e-1f);                                                \
            y = y * x;                                                                       \
            y = fmaf(y, z, e * -2.12194440e-4f); /* y*z + e*q1: the first product fused */  \
            y = fmaf(z, -0.5f, y);                                                           \
            x = x + y;                                                                       \
            x = fmaf(e, 0.693359375f, x);                                                    \
            const float lg = invalid ? NAN : x;                                              \
            const float radius = sqrtf(-2.0f * lg);                                          \
            /* sincos(2 pi u[j + 8]) */                                                      \
            float a = 6.2831854820251465f * ub[j + 8];                                       \
            int sign_sin = a < 0.0f || (a == 0.0f && signbit(a));                            \
            a = fabsf(a);                                                                    \
            int32_t q = (int32_t)(a * 1.27323954473516f);                                    \
            q = (q + 1) & ~1;                                                                \
            const float yq = (float)q;                                                       \
            sign_sin ^= (q & 4) != 0;                                                        \
            const int sine_poly = (q & 2) == 0;                                              \
            const int sign_cos = (~(q - 2) & 4) != 0;                                        \
            a = fmaf(yq, -0.78515625f, a);                                                   \
            a = fmaf(yq, -2.4187564849853515625e-4f, a);                                     \
            a = fmaf(yq, -3.77489497744594108e-8f, a);                                       \
            const float zz = a * a;                                                          \
            float yc = fmaf(2.443315711809948e-5f, zz, -1.388731625493765e-3f);              \
            yc = fmaf(yc, zz, 4.166664568298827e-2f);                                        \
            yc = fmaf(yc * zz, zz, -(zz * 0.5f)) + 1.0f;                                     \
            float ys = fmaf(-1.9515295891e-4f, zz, 8.3321608736e-3f);                        \
            ys = fmaf(ys, zz, -1.6666654611e-1f);                                            \
            ys = fmaf(ys * zz, a, a);                                                        \
            float s = sine_poly ? ys : yc, c = sine_poly ? yc : ys;                          \
            if (sign_sin) s = -s;                                                            \
            if (sign_cos) c = -c;                                                            \
            ob[j] = fmaf(radius * c, stdv, mean);                                            \
            ob[j + 8] = fmaf(radius * s, stdv, mean);                                        \
        }                                                                                    \
    }

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("avx2,fma"))) static void ct_box_muller16_f32_fma(
    const float *u, float *out, int64_t nblocks, float mean, float stdv) {
    CT_RNG_BODY
}
#define CT_RNG_HAVE_FMA_BUILD 1
#endif

static void ct_box_muller16_f32_generic(const float *u, float *out, int64_t nblocks, float mean,
                                        float stdv) {
    CT_RNG_BODY
}

#ifdef CT_RNG_HAVE_FMA_BUILD
#include <immintrin.h>
/* The same lanes, 8 at a time, as torch's AVX2 kernel computes them (same operations in the
 * same order as CT_RNG_BODY, so the same bits; tested against the scalar build). */
__attribute__((target("avx2,fma"))) static void ct_box_muller16_f32_avx2(
    const float *u, float *out, int64_t nblocks, float mean, float stdv) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    const __m256i inv1 = _mm256_set1_epi32(~1), i1 = _mm256_set1_epi32(1),
                  i2 = _mm256_set1_epi32(2), i4 = _mm256_set1_epi32(4);
    const __m256 vmean = _mm256_set1_ps(mean), vstd = _mm256_set1_ps(stdv);
    for (int64_t blk = 0; blk < nblocks; blk++) {
        const float *ub = u + 16 * blk;
        float *ob = out + 16 * blk;
        /* log(1 - u) */
        __m256 x = _mm256_sub_ps(one, _mm256_loadu_ps(ub));
        const __m256 invalid = _mm256_cmp_ps(x, zero, _CMP_NGT_UQ);
        x = _mm256_max_ps(x, _mm256_set1_ps(1.17549435e-38f));
        const __m256i bits = _mm256_castps_si256(x);
        const __m256i ex = _mm256_sub_epi32(_mm256_srai_epi32(bits, 23), _mm256_set1_epi32(0x7f));
        __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(ex), one);
        x = _mm256_castsi256_ps(_mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi32(~0x7f800000)), _mm256_set1_epi32(0x3f000000)));
        const __m256 small = _mm256_cmp_ps(x, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
        const __m256 tmp = _mm256_and_ps(x, small);
        x = _mm256_sub_ps(x, one);
        e = _mm256_sub_ps(e, _mm256_and_ps(one, small));
        x = _mm256_add_ps(x, tmp);
        const __m256 z = _mm256_mul_ps(x, x);
        __m256 y = _mm256_set1_ps(7.0376836292e-2f);
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.1514610310e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.1676998740e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.2420140846e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.4249322787e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.6668057665e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(2.0000714765e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-2.4999993993e-1f));
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(3.3333331174e-1f));
        y = _mm256_mul_ps(y, x);
        y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, _mm256_set1_ps(-2.12194440e-4f)));
        y = _mm256_fmadd_ps(z, _mm256_set1_ps(-0.5f), y);
        x = _mm256_add_ps(x, y);
        x = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), x);
        const __m256 lg = _mm256_blendv_ps(x, _mm256_set1_ps(NAN), invalid);
        const __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), lg));
        /* sincos(2 pi u[8..15]); the angle is >= 0, so its sign bit is 0 */
        __m256 a = _mm256_mul_ps(_mm256_set1_ps(6.2831854820251465f), _mm256_loadu_ps(ub + 8));
        const __m256 sign_a = _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
        a = _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)), a);
        __m256i q = _mm256_cvttps_epi32(_mm256_mul_ps(a, _mm256_set1_ps(1.27323954473516f)));
        q = _mm256_and_si256(_mm256_add_epi32(q, i1), inv1);
        const __m256 yq = _mm256_cvtepi32_ps(q);
        const __m256 sign_sin = _mm256_xor_ps(sign_a,
            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(q, i4), 29)));
        const __m256 sine_poly = _mm256_castsi256_ps(
            _mm256_cmpeq_epi32(_mm256_and_si256(q, i2), _mm256_setzero_si256()));
        const __m256 sign_cos = _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_andnot_si256(_mm256_sub_epi32(q, i2), i4), 29));
        a = _mm256_fmadd_ps(yq, _mm256_set1_ps(-0.78515625f), a);
        a = _mm256_fmadd_ps(yq, _mm256_set1_ps(-2.4187564849853515625e-4f), a);
        a = _mm256_fmadd_ps(yq, _mm256_set1_ps(-3.77489497744594108e-8f), a);
        const __m256 zz = _mm256_mul_ps(a, a);
        __m256 yc = _mm256_fmadd_ps(_mm256_set1_ps(2.443315711809948e-5f), zz,
                                    _mm256_set1_ps(-1.388731625493765e-3f));
        yc = _mm256_fmadd_ps(yc, zz, _mm256_set1_ps(4.166664568298827e-2f));
        yc = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(yc, zz), zz,
                                           _mm256_sub_ps(zero, _mm256_mul_ps(zz, _mm256_set1_ps(0.5f)))),
                           one);
        __m256 ys = _mm256_fmadd_ps(_mm256_set1_ps(-1.9515295891e-4f), zz,
                                    _mm256_set1_ps(8.3321608736e-3f));
        ys = _mm256_fmadd_ps(ys, zz, _mm256_set1_ps(-1.6666654611e-1f));
        ys = _mm256_fmadd_ps(_mm256_mul_ps(ys, zz), a, a);
        const __m256 sv = _mm256_xor_ps(_mm256_blendv_ps(yc, ys, sine_poly), sign_sin);
        const __m256 cv = _mm256_xor_ps(_mm256_blendv_ps(ys, yc, sine_poly), sign_cos);
        _mm256_storeu_ps(ob, _mm256_fmadd_ps(_mm256_mul_ps(radius, cv), vstd, vmean));
        _mm256_storeu_ps(ob + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, sv), vstd, vmean));
    }
}
#endif

static int ct_box_muller16_f32_mode = -1; /* forced path, for the test: -1 auto, 0 scalar */

static void ct_box_muller16_f32(const float *u, float *out, int64_t nblocks, float mean,
                                float stdv) {
#ifdef CT_RNG_HAVE_FMA_BUILD
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        if (ct_box_muller16_f32_mode != 0)
            ct_box_muller16_f32_avx2(u, out, nblocks, mean, stdv);
        else
            ct_box_muller16_f32_fma(u, out, nblocks, mean, stdv);
        return;
    }
#endif
    ct_box_muller16_f32_generic(u, out, nblocks, mean, stdv);
}

#undef CT_RNG_BODY

/* 0. The mt19937 engine itself, run on NumPy's MT19937 state in place (its mt19937_state:
 * 624 words and a position; BitGenerator.ctypes.state_address points at it), so ctorch's
 * generator and NumPy's view of it stay one stream. The same algorithm as NumPy's
 * mt19937_next32 (std::mt19937's output), without a Python call per block. */
typedef struct {
    uint32_t key[624];
    int pos;
} ct_mt_state;

static void ct_mt_reload(ct_mt_state *st) {
    uint32_t *mt = st->key;
    int i;
    uint32_t y;
    for (i = 0; i < 624 - 397; i++) {
        y = (mt[i] & 0x80000000u) | (mt[i + 1] & 0x7fffffffu);
        mt[i] = mt[i + 397] ^ (y >> 1) ^ (-(y & 1u) & 0x9908b0dfu);
    }
    for (; i < 623; i++) {
        y = (mt[i] & 0x80000000u) | (mt[i + 1] & 0x7fffffffu);
        mt[i] = mt[i + (397 - 624)] ^ (y >> 1) ^ (-(y & 1u) & 0x9908b0dfu);
    }
    y = (mt[623] & 0x80000000u) | (mt[0] & 0x7fffffffu);
    mt[623] = mt[396] ^ (y >> 1) ^ (-(y & 1u) & 0x9908b0dfu);
    st->pos = 0;
}

static inline uint32_t ct_mt_next(ct_mt_state *st) {
    if (st->pos >= 624) ct_mt_reload(st);
    uint32_t y = st->key[st->pos++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

/* n outputs, widened to uint64 (NumPy's random_raw layout) */
static void ct_mt_raw(ct_mt_state *st, uint64_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = ct_mt_next(st);
}

/* torch's bernoulli_(p) from the engine: a 53-bit uniform (two outputs, the first the high
 * word) below p, i.e. its integer below threshold = ceil(p * 2^53); value where kept */
#define CT_MT_BERNOULLI(NAME, T)                                                             \
    static void NAME(ct_mt_state *st, uint64_t threshold, T *out, int64_t n, T value) {      \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const uint64_t hi = ct_mt_next(st), lo = ct_mt_next(st);                          \
            out[i] = (((hi << 32) | lo) & ((1ULL << 53) - 1)) < threshold ? value : (T)0;    \
        }                                                                                    \
    }
CT_MT_BERNOULLI(ct_mt_bernoulli_f32, float)
CT_MT_BERNOULLI(ct_mt_bernoulli_f64, double)
#undef CT_MT_BERNOULLI

/* torch's uniform_real_distribution<double>(0, 1) and normal_distribution<double>(0, 1) (Box-
 * Muller with the second value cached in the generator: *cache / *has_cache) */
static inline double ct_mt_u53(ct_mt_state *st) {
    const uint64_t hi = ct_mt_next(st), lo = ct_mt_next(st);
    return (double)(((hi << 32) | lo) & ((1ULL << 53) - 1)) * (1.0 / 9007199254740992.0);
}

static inline double ct_mt_normal(ct_mt_state *st, double *cache, int *has_cache) {
    if (*has_cache) {
        *has_cache = 0;
        return *cache;
    }
    const double u1 = ct_mt_u53(st), u2 = ct_mt_u53(st);
    const double radius = sqrt(-2.0 * log1p(-u2));
    const double theta = 2.0 * 3.14159265358979323846 * u1;
    *cache = radius * sin(theta);
    *has_cache = 1;
    return radius * cos(theta);
}

/* torch's sample_gamma (Marsaglia-Tsang, aten/src/ATen/native/Distributions.h) as its CPU
 * _standard_gamma instantiates it: alpha in the tensor's type T (float steps for float32),
 * double accumulation, torch's float literals 1.0f / 3.0f and 0.0331f. That file is built for
 * the baseline CPU, so no multiply-add is fused. A non-positive or NaN alpha gives NaN (torch
 * loops forever on those; 0 gives 0, raised to the smallest normal below). */
#define CT_MT_GAMMA(NAME, T)                                                                 \
    static void NAME(ct_mt_state *st, double *cache, int *has_cache, const T *alpha,         \
                     T *out, int64_t n, T tiny) {                                            \
        const double third = (double)(1.0f / 3.0f), c0331 = (double)0.0331f;                 \
        for (int64_t i = 0; i < n; i++) {                                                    \
            T a = alpha[i];                                                                  \
            double scale = 1.0, x, y, v, u, xx;                                              \
            if (!(a >= 0)) {                                                                 \
                out[i] = (T)NAN;                                                             \
                continue;                                                                    \
            }                                                                                \
            if (a < 1) {                                                                     \
                if (a == 0) {                                                                \
                    out[i] = tiny;                                                           \
                    continue;                                                                \
                }                                                                            \
                scale *= pow(1 - ct_mt_u53(st), (double)((T)1 / a));                          \
                a = a + (T)1;                                                                \
            }                                                                                \
            const double d = (double)(a - (T)third);                                         \
            const double c = 1.0 / sqrt(9.0 * d);                                            \
            for (;;) {                                                                       \
                do {                                                                         \
                    x = ct_mt_normal(st, cache, has_cache);                                  \
                    y = 1.0 + c * x;                                                         \
                } while (y <= 0);                                                            \
                v = y * y * y;                                                               \
                u = 1 - ct_mt_u53(st);                                                       \
                xx = x * x;                                                                  \
                if (u < 1.0 - c0331 * xx * xx) break;                                        \
                if (log(u) < 0.5 * xx + d * (1.0 - v + log(v))) break;                       \
            }                                                                                \
            const T r = (T)(scale * d * v);                                                  \
            out[i] = r < tiny ? tiny : r;                                                    \
        }                                                                                    \
    }
CT_MT_GAMMA(ct_mt_gamma_f32, float)
CT_MT_GAMMA(ct_mt_gamma_f64, double)
#undef CT_MT_GAMMA

/* torch's sample_poisson (aten/src/ATen/native/Distributions.cpp, as its CPU _s_poisson
 * calls it): the rate as a double, Hoermann's transformed rejection from 10 on, the product
 * of uniforms below 10, glibc's log/exp/lgamma, no fused multiply-add. Writes int64 draws;
 * the draw's (int64_t) conversion of an out-of-range double is x86's (INT64_MIN, which an
 * infinite rate gives in torch too). Returns n, or the index of the first negative or NaN
 * rate (torch raises there, after drawing for the elements before it). */
static inline int64_t ct_to_i64(double f) {
    return (f >= -9223372036854775808.0 && f < 9223372036854775808.0) ? (int64_t)f : INT64_MIN;
}

static int64_t ct_mt_poisson(ct_mt_state *st, const double *rate, int64_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double lambda = rate[i];
        if (!(lambda >= 0)) return i;
        if (lambda >= 10) {
            const double slam = sqrt(lambda), loglam = log(lambda);
            const double b = 0.931 + 2.53 * slam;
            const double a = -0.059 + 0.02483 * b;
            const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
            const double vr = 0.9277 - 3.6224 / (b - 2);
            for (;;) {
                const double U = ct_mt_u53(st) - 0.5;
                const double V = ct_mt_u53(st);
                const double us = 0.5 - fabs(U);
                const int64_t k = ct_to_i64(floor((2 * a / us + b) * U + lambda + 0.43));
                if ((us >= 0.07) && (V <= vr)) {
                    out[i] = k;
                    break;
                }
                if ((k < 0) || ((us < 0.013) && (V > us))) continue;
                if ((log(V) + log(invalpha) - log(a / (us * us) + b)) <=
                    (-lambda + (double)k * loglam - lgamma((double)k + 1))) {
                    out[i] = k;
                    break;
                }
            }
        } else if (lambda == 0) {
            out[i] = 0;
        } else {
            const double enlam = exp(-lambda);
            int64_t X = 0;
            double prod = 1.0;
            for (;;) {
                prod *= ct_mt_u53(st);
                if (prod > enlam) X += 1;
                else break;
            }
            out[i] = X;
        }
    }
    return n;
}

/* torch's sample_binomial (aten/src/ATen/native/Distributions.h; from TensorFlow) as its CPU
 * _s_binomial instantiates it: count and prob in the tensor's type T (so float steps, sqrtf
 * and log1pf for float32, as C++'s std:: overloads pick), double accumulation, BTRS where
 * count * prob >= 10, inversion by geometric waiting times otherwise, p > 0.5 through
 * count - draw(count, 1 - p). A NaN count gives NaN (torch's inversion never returns). */
static const double ct_stirling_tail[10] = {
    0.0810614667953272,  0.0413406959554092,  0.0276779256849983, 0.02079067210376509,
    0.0166446911898211,  0.0138761288230707,  0.0118967099458917, 0.0104112652619720,
    0.00925546218271273, 0.00833056343336287};

static inline double ct_stirling_approx_tail(double k) {
    if (k < 10.0) return ct_stirling_tail[(size_t)k];
    const double kp1sq = (k + 1) * (k + 1);
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}

#define CT_MT_BINOMIAL(SUFFIX, T, SQRT, LOG1P, FLOOR)                                        \
    static T ct_binomial_inversion_##SUFFIX(ct_mt_state *st, T count, T prob) {              \
        double geom_sum = 0;                                                                 \
        T num_geom = 0;                                                                      \
        const double logprob = LOG1P(-prob);                                                 \
        for (;;) {                                                                           \
            const double U = ct_mt_u53(st);                                                  \
            const double geom = ceil(log(U) / logprob);                                      \
            geom_sum += geom;                                                                \
            if (geom_sum > count) break;                                                     \
            num_geom = num_geom + 1;                                                         \
        }                                                                                    \
        return num_geom;                                                                     \
    }                                                                                        \
    static T ct_btrs_##SUFFIX(ct_mt_state *st, T count, T prob) {                            \
        T k;                                                                                 \
        double U, V, us;                                                                     \
        const double stddev = SQRT(count * prob * (1 - prob));                               \
        const double b = 1.15 + 2.53 * stddev;                                               \
        const double a = -0.0873 + 0.0248 * b + 0.01 * prob;                                 \
        const double c = count * prob + 0.5;                                                 \
        const double v_r = 0.92 - 4.2 / b;                                                   \
        const double r = prob / (1 - prob);                                                  \
        const double alpha = (2.83 + 5.1 / b) * stddev;                                      \
        const double m = FLOOR((count + 1) * prob);                                          \
        for (;;) {                                                                           \
            U = ct_mt_u53(st) - 0.5;                                                         \
            V = ct_mt_u53(st);                                                               \
            us = 0.5 - fabs(U);                                                              \
            k = (T)floor((2 * a / us + b) * U + c);                                          \
            if (k < 0 || k > count) continue;                                                \
            if (us >= 0.07 && V <= v_r) return k;                                            \
            V = log(V * alpha / (a / (us * us) + b));                                        \
            const double upperbound =                                                        \
                ((m + 0.5) * log((m + 1) / (r * (count - m + 1))) +                          \
                 (count + 1) * log((count - m + 1) / (count - k + 1)) +                      \
                 (k + 0.5) * log(r * (count - k + 1) / (k + 1)) +                            \
                 ct_stirling_approx_tail(m) + ct_stirling_approx_tail(count - m) -           \
                 ct_stirling_approx_tail(k) - ct_stirling_approx_tail(count - k));           \
            if (V <= upperbound) return k;                                                   \
        }                                                                                    \
    }                                                                                        \
    static void ct_mt_binomial_##SUFFIX(ct_mt_state *st, const T *count_, const T *prob_,    \
                                        T *out, int64_t n) {                                 \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T count = count_[i], prob = prob_[i];                                      \
            T r;                                                                             \
            if (count <= 0.0 || prob <= 0.0) {                                               \
                r = 0;                                                                       \
            } else if (prob >= 1.0) {                                                        \
                r = count;                                                                   \
            } else if (count != count) {                                                     \
                r = (T)NAN;                                                                  \
            } else if (prob <= 0.5) {                                                        \
                r = count * prob >= 10.0 ? ct_btrs_##SUFFIX(st, count, prob)                 \
                                         : ct_binomial_inversion_##SUFFIX(st, count, prob);  \
            } else if (prob > 0.5) {                                                         \
                const T qprob = (T)(1.0 - prob);                                             \
                r = count - (count * qprob >= 10.0                                           \
                                 ? ct_btrs_##SUFFIX(st, count, qprob)                        \
                                 : ct_binomial_inversion_##SUFFIX(st, count, qprob));        \
            } else {                                                                         \
                r = (T)NAN;                                                                  \
            }                                                                                \
            out[i] = r;                                                                      \
        }                                                                                    \
    }
CT_MT_BINOMIAL(f32, float, sqrtf, log1pf, floorf)
CT_MT_BINOMIAL(f64, double, sqrt, log1p, floor)
#undef CT_MT_BINOMIAL

/* 2. torch's float64 normal_fill_16 (std::log/cos/sin/sqrt of glibc, as torch calls them;
 * NumPy's own float64 log differs from libm's in the last bit now and then). fma() is one
 * instruction only where the CPU has FMA; elsewhere libm computes the same value. */
static void ct_box_muller16_f64(const double *u, double *out, int64_t nblocks, double mean,
                                double stdv) {
    for (int64_t blk = 0; blk < nblocks; blk++) {
        const double *ub = u + 16 * blk;
        double *ob = out + 16 * blk;
        for (int j = 0; j < 8; j++) {
            const double u1 = 1 - ub[j];
            const double u2 = ub[j + 8];
            const double radius = sqrt(-2 * log(u1));
            const double theta = 2.0f * 3.14159265358979323846 * u2;
            /* GCC contracts torch's "radius * cos * std + mean" into one FMA */
            ob[j] = fma(radius * cos(theta), stdv, mean);
            ob[j + 8] = fma(radius * sin(theta), stdv, mean);
        }
    }
}

/* 3. libm's log, log1p, exp, tan over an array (the exponential, geometric, cauchy and
 * log-normal transforms call these in double). */
/* torch's multinomial draw of one sample per row by the exponential race: per element (C
 * order) q = -log1p(-u), u a 53-bit uniform (two engine outputs, high word first), rounded
 * to T; the row's first index of the largest p / q (NaN counts as largest, as np.argmax). */
#define CT_MT_RACE(NAME, T)                                                                  \
    static void NAME(ct_mt_state *st, const T *p, int64_t rows, int64_t n, int64_t *out) {   \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            int64_t best = 0;                                                                \
            T bv = 0;                                                                        \
            for (int64_t j = 0; j < n; j++) {                                                \
                const uint64_t hi = ct_mt_next(st), lo = ct_mt_next(st);                      \
                const double u = (double)(((hi << 32) | lo) & ((1ULL << 53) - 1)) *           \
                                 (1.0 / 9007199254740992.0);                                  \
                const T q = (T)(-1.0 * log1p(-u));                                           \
                const T v = p[r * n + j] / q;                                                \
                if (j == 0 || (bv == bv && (v > bv || v != v))) {                            \
                    bv = v;                                                                  \
                    best = j;                                                                \
                }                                                                            \
            }                                                                                \
            out[r] = best;                                                                   \
        }                                                                                    \
    }
CT_MT_RACE(ct_mt_race_f32, float)
CT_MT_RACE(ct_mt_race_f64, double)

static void ct_libm_apply(int op, const double *x, double *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        switch (op) {
            case 0: out[i] = log(x[i]); break;
            case 1: out[i] = log1p(x[i]); break;
            case 2: out[i] = exp(x[i]); break;
            default: out[i] = tan(x[i]); break;
        }
    }
}
#endif
