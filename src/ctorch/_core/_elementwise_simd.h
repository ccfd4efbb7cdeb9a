/* SIMD inner loops of ctorch's elementwise kernels (float32 and float64 instances).
 * The ops themselves are rows of _table/elementwise.def (see docs/contributing.md). */
#ifndef CT_ELEMENTWISE_SIMD_H
#define CT_ELEMENTWISE_SIMD_H

#include "_ct_common.h"
#include "_ct_math.h"

#ifndef CT_X
#define CT_CAT(a, b) a##b
#define CT_X(a, b) CT_CAT(a, b)
typedef ptrdiff_t ct_i;
#endif

/* one vectorizable loop over i in [0, n) */
#define CT_LOOP(...) do { _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) { __VA_ARGS__; } } while (0)

/* Op codes, flags and backward availability come from the op table (_table/elementwise.def). */
#include "../_table/elementwise.h"

/* Hand-written kernels that run ahead of the table's loop when they apply (return 1), e.g. the
 * float32 GELU's AVX-512 tables (_gelu_f32.h). */
#include "_gelu_f32.h"

static inline int ct_unary_own_f32(int op, const float *xs, float *out, ct_i n)
{
    return op == CT_UN_GELU && ct_gelu_fwd_f32(xs, out, n);
}

static inline int ct_unary_backward_own_f32(int op, const float *gy, const float *xs, float *gx,
                                            ct_i n)
{
    return op == CT_UN_GELU && ct_gelu_bwd_f32(gy, xs, gx, n);
}

static inline int ct_unary_own_f64(int op, const double *xs, double *out, ct_i n)
{
    (void)op, (void)xs, (void)out, (void)n;
    return 0;
}

static inline int ct_unary_backward_own_f64(int op, const double *gy, const double *xs,
                                            double *gx, ct_i n)
{
    (void)op, (void)gy, (void)xs, (void)gx, (void)n;
    return 0;
}

/* The kernels of ct_ew_apply_f32/_f64 (the Cython side's one chunk loop calls them by number):
 * x, y, z are inputs (unary_backward: gy, x, y), c the mask of where, a and b the scalars
 * (binary_scalar's s, fill's value, axpy's and scale's alpha, unary's parameters). */
enum {
    CT_K_BINARY, CT_K_BINARY_SCALAR, CT_K_UNARY, CT_K_UNARY_BACKWARD, CT_K_WHERE, CT_K_FILL,
    CT_K_COPY, CT_K_AXPY, CT_K_SCALE
};

#define CT_TMPL "_elementwise_tmpl.h"
#include "_ct_instances.h"

#endif
