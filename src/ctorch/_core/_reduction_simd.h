/* SIMD building blocks of ctorch's reduction kernels (float32 and float64 instances). */
#ifndef CT_REDUCTION_SIMD_H
#define CT_REDUCTION_SIMD_H

#include "_ct_common.h"
#include "_ct_math.h"

#ifndef CT_X
#define CT_CAT(a, b) a##b
#define CT_X(a, b) CT_CAT(a, b)
typedef ptrdiff_t ct_i;
#endif

#define CT_LANES 16   /* explicit accumulator lanes of every sum */
#define CT_RBLK 4096  /* elements per reduction block (partials combined in block order) */
#define CT_KC 256     /* columns per task of an inner-axis reduction */

#define CT_TMPL "_reduction_tmpl.h"
#include "_ct_instances.h"

#endif
