/* SIMD inner loops for ctorch's nn kernels (normalization, loss, pooling helpers).
 *
 * Each routine is instantiated for float and double by including _nn_simd_t.h twice.
 * Loops carry `#pragma omp simd` and the functions CT_SIMD (target_clones), so one build
 * runs AVX-512/AVX2/SSE2 code picked at load time.  Only +,-,*,/,sqrt and selects are used
 * (the core builds with -ffp-contract=off, no fast-math), so results are reproducible:
 * one machine gives bitwise-identical results for any thread count, because the Cython
 * callers split work at fixed boundaries and every reduction runs inside one call.
 *
 * Reductions accumulate in double for both dtypes.
 *
 * The exponential is a local copy of the usual Cody-Waite + polynomial scheme (glibc's
 * expf/exp do not vectorize without -ffast-math).  It lives here, not in a shared header,
 * so this family builds independently of the elementwise family's headers.
 */
#ifndef CT_NN_SIMD_H
#define CT_NN_SIMD_H

#include "_ct_common.h"

typedef union { float f; int32_t i; } ct_nn_fbits;
typedef union { double f; int64_t i; } ct_nn_dbits;

/* exp for float: ~1 ulp; NaN -> NaN, +inf -> inf, -inf -> 0, subnormal results flushed
 * only below -103.97 (where expf is 0 too). */
static inline __attribute__((always_inline)) float ct_nn_exp_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float xc = x > 88.75f ? 88.75f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    float t = xc * 1.44269504088896341f + magic;
    float k = t - magic;
    float r = xc - k * 0.693359375f;
    r = r - k * (-2.12194440e-4f);
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    /* 2^k as 2^(k+adj) * 2^-adj so both ends stay representable */
    float adj = k < -125.0f ? 30.0f : (k > 127.0f ? -1.0f : 0.0f);
    float fac = k < -125.0f ? 9.31322574615478516e-10f : (k > 127.0f ? 2.0f : 1.0f);
    ct_nn_fbits a;
    a.f = (k + adj) + magic;
    a.i = (a.i - 0x4B400000 + 127) << 23;
    float res = (y * a.f) * fac;
    res = x > 88.72283935546875f ? (float)INFINITY : res;
    res = x < -103.972084045410f ? 0.0f : res;
    return res;
}

/* exp for double: < 1 ulp on the normal range (degree-13 Taylor on |r| <= ln2/2). */
static inline __attribute__((always_inline)) double ct_nn_exp_f64(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -746.0 ? -746.0 : xc;
    double t = xc * 1.4426950408889634074 + magic;
    double k = t - magic;
    double r = xc - k * 6.93147180369123816490e-01;
    r = r - k * 1.90821492927058770002e-10;
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
    double adj = k < -1021.0 ? 60.0 : (k > 1023.0 ? -1.0 : 0.0);
    double fac = k < -1021.0 ? 8.67361737988403547e-19 : (k > 1023.0 ? 2.0 : 1.0);
    ct_nn_dbits a;
    a.f = (k + adj) + magic;
    a.i = (a.i - (int64_t)0x4338000000000000LL + 1023) << 52;
    double res = (y * a.f) * fac;
    res = x > 709.782712893384 ? (double)INFINITY : res;
    res = x < -745.1332191019412 ? 0.0 : res;
    return res;
}

#define CT_NN_CAT2(a, b) a##_##b
#define CT_NN_CAT(a, b) CT_NN_CAT2(a, b)

#define CT_T float
#define CT_SUF f32
#define CT_EXP ct_nn_exp_f32
#include "_nn_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_EXP

#define CT_T double
#define CT_SUF f64
#define CT_EXP ct_nn_exp_f64
#include "_nn_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_EXP

#endif
