/* Fused one-pass optimizer updates for ctorch (SGD, Adam/AdamW, RMSprop, Adagrad, Adadelta).
 *
 * Each routine updates one contiguous chunk in place.  The per-element arithmetic follows
 * torch/optim/<name>.py's single-tensor path operation by operation, in the parameter's
 * dtype, with the scalar coefficients computed in double by the caller (as Python does)
 * and rounded to the dtype once.  torch's vectorized CPU kernels use FMA in add/lerp, so
 * results agree with torch to ~1 ulp per step, not bitwise.  No FMA here
 * (-ffp-contract=off): every target_clones variant gives the same bits.
 * Loop-invariant flags are selects, so every combination vectorizes.
 */
#ifndef CT_OPTIM_SIMD_H
#define CT_OPTIM_SIMD_H

#include "_ct_common.h"

#define CT_OP_CAT2(a, b) a##_##b
#define CT_OP_CAT(a, b) CT_OP_CAT2(a, b)

#define CT_T float
#define CT_SUF f32
#define CT_SQRT sqrtf
#include "_optim_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_SQRT

#define CT_T double
#define CT_SUF f64
#define CT_SQRT sqrt
#include "_optim_simd_t.h"
#undef CT_T
#undef CT_SUF
#undef CT_SQRT

#endif
