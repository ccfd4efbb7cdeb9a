/* The op table's constants for C and CUDA: op codes (the row order of elementwise.def), the
 * flag bits and, on the CPU, per-op flag and backward-kernel queries. Included by
 * _core/_elementwise_simd.h and cuda/kernels/elementwise.cu. */
#ifndef CT_TABLE_ELEMENTWISE_H
#define CT_TABLE_ELEMENTWISE_H

enum { CT_CHEAP = 1, CT_INT = 2, CT_NN = 4, CT_CUSTOM = 8, CT_NOINT = 16 };
enum { CT_SAVES_NONE = 0, CT_SAVES_X = 1, CT_SAVES_Y = 2, CT_SAVES_XY = 3 };

#define UNARY(NAME, ...)
#define BINARY(NAME, ...) CT_BIN_##NAME,
enum {
#include "elementwise.def"
    CT_BIN_COUNT };
#undef UNARY
#undef BINARY

#define UNARY(NAME, ...) CT_UN_##NAME,
#define BINARY(NAME, ...)
enum {
#include "elementwise.def"
    CT_UN_COUNT };
#undef UNARY
#undef BINARY

#ifndef __CUDACC__
/* CT_* flags of a unary op (0 for an unknown code) */
static inline int ct_unary_flags(int op)
{
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, ...) case CT_UN_##NAME: return (FLAGS);
#define BINARY(NAME, ...)
#include "elementwise.def"
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
#include "elementwise.def"
#undef UNARY
#undef BINARY
    default: return 0;
    }
}
#endif

#endif
