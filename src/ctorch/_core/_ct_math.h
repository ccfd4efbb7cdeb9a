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

/* exp(r) * 2^k for a reduced argument r in [-ln2/2, ln2/2] and t = k + 1.5 * 2^23 (the
 * float -> int rounding trick of the callers): exp(r) from the cephes expf minimax
 * polynomial, then 2^k = 2^k1 * 2^k2 with both factors normal for k in [-150, 128]; y * 2^k1
 * is exact, the second product rounds once (correct gradual underflow). */
CT_INLINE float ct_expf_finish(float r, float t)
{
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    ct_fbits tb;
    tb.f = t;
    int32_t ki = tb.i - 0x4B400000;
    int32_t k1 = ki >> 1;
    ct_fbits s1, s2;
    s1.i = (k1 + 127) << 23;
    s2.i = (ki - k1 + 127) << 23;
    return (y * s1.f) * s2.f;
}

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
    return ct_expf_finish(r, t);
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
    float small = copysignf(p * z * x + x, x); /* (the sign: tanh(-0.0) is -0.0) */
    float e = ct_exp_f32(ax + ax);
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

/* exp(hi + lo) for hi <= 0 and |lo| <= 2^-10 |hi|: the argument as an unevaluated sum, so
 * the rounding of hi + lo (up to 2^-24 |hi|, i.e. ~60 ulps of the result for hi = -100) is
 * never made.  Same reduction and polynomial as ct_exp_f32; hi - k*ln2_hi is exact. */
CT_INLINE float ct_exp_hilo_f32(float hi, float lo)
{
    const float magic = 12582912.0f;
    float hc = hi < -104.0f ? -104.0f : hi;
    float t = (hc + lo) * 1.44269504088896341f + magic;
    float k = t - magic;
    float r = (hc - k * 0.693359375f) + lo;
    r = r - k * (-2.12194440e-4f);
    return ct_expf_finish(r, t);
}

/* GELU for float x, through Phi(x) = 0.5 erfc(-x/sqrt 2):
 *    Q = Phi(-|x|) = R(u) E, u = |x|, E = exp(-u^2/2), R(u) = t S(t),
 *    t = 1/(1 + u/4), S a degree-9 least-squares/minimax fit of the scaled complementary
 *    error function (relative error 1e-8).  E is computed in float from u^2/2 formed exactly
 *    as hi + lo (u split into 12 + 12 bits), so the argument rounding that costs an exp-based
 *    erfc ~2 u^2 ulps in the tail never happens; t, the last three steps of S and the final
 *    products are in double (8 lanes), which keeps the result within ~2 ulps where an
 *    all-float R measured 6 (all-double S: same accuracy, 25% slower: AVX-512 here retires
 *    about one 512-bit FP op per cycle, and double ops cover half the elements).
 *    Phi = Q for x < 0 and 1 - Q for x > 0: no cancellation on either side.
 * Measured against a float64 erfc reference on a dense grid of [-15, 10]: gelu within 2.1 ulps
 * (mean 0.3 ulp); tests/core/test_elementwise_kernels.py checks it.  Per element it costs
 * about 2.5 float exps (torch 2.13's vectorised erf is cheaper but only accurate to ~1e-7
 * absolute, i.e. not at all in relative terms below x ~ -4).
 *
 * |x| is capped at 16 (E underflows to 0 there) with integer operations on the bits: a float
 * select on a constant made GCC evaluate the whole function for the constant too, and that
 * exp(-128) ran into denormal assists on every vector (5x slower).
 * gelu(+inf) = inf, gelu(-inf) = -0, gelu(-0) = -0; NaN in, NaN out. */
/* R(v) = t S(t), t = 1/(1 + v/4): the scaled complementary error function of the GELU and
 * erf tails, Phi(-v) = R(v) exp(-v^2/2), for v >= 0 given as float vf and double vd. */
CT_INLINE double ct_erfc_r_f32(float vf, double vd)
{
    /* t = 1/d from a float division (16 lanes) and one Newton step in double (relative
     * error ~2^-46); S's seven high-order terms in float at t0 (their rounding reaches the
     * result scaled by t^3 S_hi/S), the last three steps in double */
    float t0 = 1.0f / (1.0f + 0.25f * vf);
    float ph = 0.017168529331684113f;
    ph = ph * t0 - 0.06607270240783691f;
    ph = ph * t0 + 0.059585075825452805f;
    ph = ph * t0 + 0.017526865005493164f;
    ph = ph * t0 + 0.02209666185081005f;
    ph = ph * t0 + 0.08142891526222229f;
    ph = ph * t0 + 0.0738818421959877f;
    double d = 1.0 + 0.25 * vd;
    double t = (double)t0 * (2.0 - d * (double)t0);
    double p = (double)ph * t + 0.09509397549109341;
    p = p * t + 0.09954583006415599;
    p = p * t + 0.09974501588241522;
    return t * p;
}

typedef struct { float xc, e; double r; } ct_gelu_parts;

CT_INLINE ct_gelu_parts ct_gelu_tail_f32(float x)
{
    ct_gelu_parts g;
    ct_fbits ub, xb;
    xb.f = x;
    int32_t ui = xb.i & 0x7FFFFFFF;
    ui = ui < 0x41800000 ? ui : 0x41800000; /* 16.0f */
    ub.i = ui;
    float u = ub.f;
    xb.i = ui | (xb.i & (int32_t)0x80000000);
    g.xc = xb.f;
    ub.i = ui & (int32_t)0xFFFFF000;
    float uh = ub.f;
    float ul = u - uh;
    g.e = ct_exp_hilo_f32(-0.5f * (uh * uh), -0.5f * (ul * (u + uh)));
    g.r = ct_erfc_r_f32(u, (double)u);
    return g;
}

CT_INLINE float ct_gelu_f32(float x)
{
    ct_gelu_parts g = ct_gelu_tail_f32(x);
    double xq = ((double)g.xc * g.r) * (double)g.e;
    return (float)(x <= 0.0f ? xq : (double)x - xq);
}

/* d gelu / dx = Phi(x) + x phi(x), phi(x) = E / sqrt(2 pi) */
CT_INLINE float ct_gelu_grad_f32(float x)
{
    ct_gelu_parts g = ct_gelu_tail_f32(x);
    double q = g.r * (double)g.e;
    double cdf = x < 0.0f ? q : 1.0 - q;
    float d = (float)(cdf + (double)g.xc * ((double)g.e * 0.39894228040143267794));
    return x != x ? x : d;
}

/* erf for float x: x P(x^2) for |x| < 0.5 (degree-5 fit of erf(x)/x, relative error 1e-9,
 * in float); above, 1 - erfc(|x|) with erfc(u) = 2 Phi(-u sqrt 2) = 2 R(u sqrt 2) exp(-u^2),
 * the exponential again from an exact hi + lo split of u^2 and R as for GELU.  2.4 ulps max,
 * mean 0.2 over a dense grid of [-6, 6] (glibc's scalar erff, which this replaces, ran
 * ~15x slower).  erf(+-inf) = +-1, erf(-0) = -0, NaN in, NaN out. */
CT_INLINE float ct_erf_f32(float x)
{
    ct_fbits ub, xb;
    xb.f = x;
    int32_t ui = xb.i & 0x7FFFFFFF;
    ui = ui < 0x41800000 ? ui : 0x41800000; /* 16.0f, see ct_gelu_tail_f32 */
    ub.i = ui;
    float u = ub.f;
    ub.i = ui & (int32_t)0xFFFFF000;
    float uh = ub.f;
    float ul = u - uh;
    float e = ct_exp_hilo_f32(-(uh * uh), -(ul * (u + uh)));
    double vd = (double)u * 1.41421356237309504880;
    double erfc = 2.0 * ct_erfc_r_f32((float)vd, vd) * (double)e;
    float tail = (float)(1.0 - erfc);
    tail = x < 0.0f ? -tail : tail;
    float z = x * x;
    float p = -0.0006749324384145439f;
    p = p * z + 0.005114317871630192f;
    p = p * z - 0.026834610849618912f;
    p = p * z + 0.11283376067876816f;
    p = p * z - 0.3761261999607086f;
    p = p * z + 1.1283791065216064f;
    float r = u < 0.5f ? x * p : tail;
    return x != x ? x : r;
}

/* float64: glibc's (scalar) functions */
CT_INLINE double ct_tanh_f64(double x) { return tanh(x); }
CT_INLINE double ct_erf_f64(double x) { return erf(x); }
CT_INLINE double ct_gelu_f64(double x) { return x * (0.5 * erfc(-x * M_SQRT1_2)); }
CT_INLINE double ct_gelu_grad_f64(double x)
{
    return 0.5 * erfc(-x * M_SQRT1_2) + x * (ct_exp_f64(-0.5 * x * x) * 0.39894228040143267794);
}

#endif
