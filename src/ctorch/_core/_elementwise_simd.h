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
enum { CT_CHEAP = 1, CT_INT = 2, CT_NN = 4, CT_CUSTOM = 8 };
enum { CT_SAVES_NONE = 0, CT_SAVES_X = 1, CT_SAVES_Y = 2, CT_SAVES_XY = 3 };

#define UNARY(NAME, ...)
#define BINARY(NAME, ...) CT_BIN_##NAME,
enum {
#include "../_table/elementwise.def"
    CT_BIN_COUNT };
#undef UNARY
#undef BINARY

#define UNARY(NAME, ...) CT_UN_##NAME,
#define BINARY(NAME, ...)
enum {
#include "../_table/elementwise.def"
    CT_UN_COUNT };
#undef UNARY
#undef BINARY

/* CT_* flags of a unary op (0 for an unknown code) */
static inline int ct_unary_flags(int op)
{
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, ...) case CT_UN_##NAME: return (FLAGS);
#define BINARY(NAME, ...)
#include "../_table/elementwise.def"
#undef UNARY
#undef BINARY
    default: return 0;
    }
}

/* 1 if the unary op has a backward kernel (it saves its input or output) */
static inline int ct_unary_has_backward(int op)
{
    switch (op) {
#define UNARY(NAME, SAVES, ...) case CT_UN_##NAME: return CT_SAVES_##SAVES != CT_SAVES_NONE;
#define BINARY(NAME, ...)
#include "../_table/elementwise.def"
#undef UNARY
#undef BINARY
    default: return 0;
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
