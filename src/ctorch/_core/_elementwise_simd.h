/* SIMD inner loops of ctorch's elementwise kernels (float32 and float64 instances).
 * Op codes must match BIN_* / UN_* in elementwise.pyx and docs/kernels.md. */
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

enum { CT_BIN_ADD = 0, CT_BIN_SUB, CT_BIN_MUL, CT_BIN_DIV, CT_BIN_MAX, CT_BIN_MIN, CT_BIN_POW,
       CT_BIN_COUNT };

enum { CT_UN_NEG = 0, CT_UN_ABS, CT_UN_EXP, CT_UN_LOG, CT_UN_LOG1P, CT_UN_EXPM1, CT_UN_SQRT,
       CT_UN_RSQRT, CT_UN_SIN, CT_UN_COS, CT_UN_TAN, CT_UN_TANH, CT_UN_SIGMOID, CT_UN_RELU,
       CT_UN_ERF, CT_UN_SIGN, CT_UN_FLOOR, CT_UN_CEIL, CT_UN_ROUND, CT_UN_RECIPROCAL,
       CT_UN_SQUARE, CT_UN_GELU, CT_UN_GELU_TANH, CT_UN_SILU, CT_UN_SOFTPLUS, CT_UN_MISH,
       CT_UN_ELU, CT_UN_LEAKY_RELU, CT_UN_HARDTANH, CT_UN_CLAMP, CT_UN_COUNT };

#define CT_GELU_BETA 0.79788456080286535588  /* sqrt(2/pi) */
#define CT_GELU_PDF 0.39894228040143267794   /* 1/sqrt(2*pi) */

/* 1 if the unary op has a backward kernel */
static inline int ct_unary_has_backward(int op)
{
    switch (op) {
    case CT_UN_NEG: case CT_UN_SIGN: case CT_UN_FLOOR: case CT_UN_CEIL: case CT_UN_ROUND:
        return 0;
    default:
        return op >= 0 && op < CT_UN_COUNT;
    }
}

#define T float
#define SFX _f32
#define LMS f
#include "_elementwise_tmpl.h"
#undef T
#undef SFX
#undef LMS

#define T double
#define SFX _f64
#define LMS
#include "_elementwise_tmpl.h"
#undef T
#undef SFX
#undef LMS

#endif
