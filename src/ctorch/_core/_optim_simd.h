/* Fused one-pass optimizer updates for ctorch (SGD, Adam/AdamW, RMSprop, Adagrad, Adadelta).
 *
 * Each routine updates one contiguous chunk in place.  The per-element arithmetic follows
 * torch/optim/<name>.py's single-tensor path operation by operation, in the parameter's
 * dtype, with the scalar coefficients computed in double by the caller (as Python does)
 * and rounded to the dtype once.  torch's vectorized CPU kernels use FMA in add/lerp, so
 * results agree with torch to ~1 ulp per step, not bitwise.  No FMA here
 * (-ffp-contract=off): every target_clones variant gives the same bits.
 * Loop-invariant flags are selects, so every combination vectorizes; square roots go
 * through ct_op_sqrt_* on L1-resident blocks (see below).
 */
#ifndef CT_OPTIM_SIMD_H
#define CT_OPTIM_SIMD_H

#include "_ct_common.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
#define CT_OP_HAVE_SSE2 1
#endif

/* Square roots of a small block in place.  libm's sqrt may set errno, so GCC (without
 * -fno-math-errno) will not vectorize a loop that calls it; the updates therefore run in
 * blocks: one vectorized loop writes the sqrt arguments to a stack buffer, this routine
 * takes the roots with SSE2 sqrtps/sqrtpd (baseline x86-64, correctly rounded like
 * sqrtf/sqrt, NaN for negative input), and a second vectorized loop finishes the update. */
static inline __attribute__((always_inline)) void ct_op_sqrt_f32(float *x, int64_t n)
{
    int64_t j = 0;
#ifdef CT_OP_HAVE_SSE2
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(x + j, _mm_sqrt_ps(_mm_loadu_ps(x + j)));
#endif
    for (; j < n; j++) x[j] = sqrtf(x[j]);
}

static inline __attribute__((always_inline)) void ct_op_sqrt_f64(double *x, int64_t n)
{
    int64_t j = 0;
#ifdef CT_OP_HAVE_SSE2
    for (; j + 2 <= n; j += 2) _mm_storeu_pd(x + j, _mm_sqrt_pd(_mm_loadu_pd(x + j)));
#endif
    for (; j < n; j++) x[j] = sqrt(x[j]);
}

#define CT_OP_BLK 256

/* the update kernels of ct_optim_apply_f32/_f64 */
enum { CT_OPT_SGD, CT_OPT_ADAM, CT_OPT_RMSPROP, CT_OPT_ADAGRAD, CT_OPT_ADADELTA };

#define CT_OP_CAT2(a, b) a##_##b
#define CT_OP_CAT(a, b) CT_OP_CAT2(a, b)

#define CT_T float
#define CT_SUF f32
#define CT_SQRT sqrtf
#define CT_VSQRT ct_op_sqrt_f32
#include "_optim_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_SQRT
#undef CT_VSQRT

#define CT_T double
#define CT_SUF f64
#define CT_SQRT sqrt
#define CT_VSQRT ct_op_sqrt_f64
#include "_optim_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_SQRT
#undef CT_VSQRT

#endif
