/* Vectorizable elementary functions for ctorch's SIMD loops.
 *
 * glibc's scalar expf/exp are not vectorized without -ffast-math, so the hot exponential
 * (exp, sigmoid, silu, softmax, ...) is implemented here with plain IEEE arithmetic and
 * integer bit tricks that GCC turns into AVX2/AVX-512 code inside `#pragma omp simd` loops.
 *
 * - Only +,-,*,/ and selects (no FMA: the core builds with -ffp-contract=off), so every
 *   target_clones variant, the scalar tail and every thread give bitwise-identical results.
 * - Cody-Waite reduction x = k*ln2 + r, |r| <= ln2/2, then a polynomial for exp(r) and
 *   2^k assembled from exponent bits; the subnormal and near-overflow ranges are scaled in
 *   two steps.  Measured error vs a float64/long double reference: < 1 ulp (float),
 *   < 1 ulp (double).  NaN in, NaN out; exp(+inf) = inf, exp(-inf) = 0.
 */
#ifndef CT_MATH_H
#define CT_MATH_H

#include <stdint.h>
#include <math.h>

/* force inlining: inside the big per-op switch functions GCC's inliner otherwise gives up,
 * and a call in the loop body stops vectorization (measured: sigmoid 6x slower) */
#define CT_INLINE static inline __attribute__((always_inline))

typedef union { float f; int32_t i; } ct_fbits;
typedef union { double f; int64_t i; } ct_dbits;

CT_INLINE float ct_exp_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 : float -> int rounding trick */
    /* the clamps make overflow (k = 128) and underflow (k = -150) come out of the
     * arithmetic below as inf and 0; NaN passes through */
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    /* k = rint(x / ln2) */
    float t = xc * 1.44269504088896341f + magic;
    float k = t - magic;
    /* r = x - k*ln2 (ln2_hi has 9 significant bits so k*ln2_hi is exact) */
    float r = xc - k * 0.693359375f;
    r = r - k * (-2.12194440e-4f);
    /* exp(r) on [-ln2/2, ln2/2] (cephes expf minimax coefficients) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    /* 2^k = 2^k1 * 2^k2 with both factors normal for k in [-150, 128]; y * 2^k1 is exact,
     * the second product rounds once (correct gradual underflow) */
    ct_fbits tb;
    tb.f = t;
    int32_t ki = tb.i - 0x4B400000;
    int32_t k1 = ki >> 1;
    ct_fbits s1, s2;
    s1.i = (k1 + 127) << 23;
    s2.i = (ki - k1 + 127) << 23;
    return (y * s1.f) * s2.f;
}

CT_INLINE double ct_exp_f64(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -746.0 ? -746.0 : xc;
    double t = xc * 1.4426950408889634074 + magic;
    double k = t - magic;
    /* fdlibm ln2 split: ln2_hi has 32 trailing zero bits, so k*ln2_hi is exact */
    double r = xc - k * 6.93147180369123816490e-01;
    r = r - k * 1.90821492927058770002e-10;
    /* Taylor series to degree 13: truncation error < 5e-18 on |r| <= ln2/2 */
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    double y = (p * (r * r) + r) + 1.0;
    double adj = k < -1021.0 ? 54.0 : (k > 1023.0 ? -1.0 : 0.0);
    double fac = k < -1021.0 ? 5.5511151231257827e-17 /* 2^-54 */
                             : (k > 1023.0 ? 2.0 : 1.0);
    ct_dbits tb;
    tb.f = (k + adj) + magic;
    ct_dbits sb;
    sb.i = (tb.i - (int64_t)0x4338000000000000LL + 1023) << 52;
    double res = (y * sb.f) * fac;
    res = x > 709.782712893383973096 ? INFINITY : res;
    res = x < -745.133219101941108420 ? 0.0 : res;
    return res;
}

/* tanh (cephes tanhf scheme): odd polynomial below 0.625, 1 - 2/(exp(2|x|)+1) above. */
CT_INLINE float ct_tanh_f32(float x)
{
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float e = ct_exp_f32(ax + ax);
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

/* Phi(x) = 0.5 * erfc(-x / sqrt(2)) (the GELU cdf) for float x, evaluated in double so the
 * scaled argument is not rounded to float (that alone costs ~2 z^2 ulps in the tail).
 * erfc: Chebyshev fit of Numerical Recipes' erfcc, fractional error < 1.2e-7 everywhere
 * (about 1 float ulp); vectorizable. */
CT_INLINE float ct_gelu_cdf_f32(float xf)
{
    double x = -(double)xf * 0.70710678118654752440;
    double z = x < 0.0 ? -x : x;
    double t = 1.0 / (1.0 + 0.5 * z);
    double p = 0.17087277;
    p = p * t - 0.82215223;
    p = p * t + 1.48851587;
    p = p * t - 1.13520398;
    p = p * t + 0.27886807;
    p = p * t - 0.18628806;
    p = p * t + 0.09678418;
    p = p * t + 0.37409196;
    p = p * t + 1.00002368;
    p = p * t - 1.26551223;
    double ans = t * ct_exp_f64(p - z * z);
    return (float)(0.5 * (x >= 0.0 ? ans : 2.0 - ans));
}

/* float64: glibc's (scalar) functions */
CT_INLINE double ct_tanh_f64(double x) { return tanh(x); }
CT_INLINE double ct_gelu_cdf_f64(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }

#endif
