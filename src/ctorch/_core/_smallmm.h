/* Small matrix products for the per-op overhead of small tensors (_smallops.mm_small).
 *
 * A (M, K) @ (K, N) product of at most a few thousand multiply-adds costs ~1.2 us of NumPy
 * and BLAS call overhead before any arithmetic (an (8, 16) @ (16, 16) nn.Linear forward:
 * 5.9 us in all, torch 2.2 us).  These loops run the product in place of that call: rows of
 * the output accumulate x[i, k] * y[k, :] for k = 0, 1, ... in order (a multiply, then an
 * add: the build has -ffp-contract=off), 64 bytes of columns at a time in a register (the
 * last columns one by one, in the same order), then the bias
 * is added (as the add after a product).  Every output element is the same sequential sum
 * whatever the shape or SIMD clone, so the result depends on the operands only.
 *
 * y is read through element strides (ys0, ys1); a y that is not row-contiguous (the
 * transposed weight of nn.Linear) is first copied into the row-major scratch `yc`
 * (K * N elements, given by the caller).
 */
#ifndef CT_SMALLMM_H
#define CT_SMALLMM_H

#include "_ct_common.h"
#include <string.h>

/* VL lanes of T per GCC vector (64 bytes: one AVX-512 register; two or four narrower ones
 * in the other clones), the accumulator of one row block kept in a register over k. */
typedef float ct_smm_vf __attribute__((vector_size(64)));
typedef double ct_smm_vd __attribute__((vector_size(64)));

#define CT_SMALLMM(T, SUF, V)                                                                \
    CT_SIMD static void ct_mm_small_##SUF(const T *x, ptrdiff_t xs0, ptrdiff_t xs1,          \
                                          const T *y, ptrdiff_t ys0, ptrdiff_t ys1,          \
                                          const T *bias, T *out, ptrdiff_t M, ptrdiff_t K,   \
                                          ptrdiff_t N, T *yc)                                \
    {                                                                                        \
        const ptrdiff_t VL = (ptrdiff_t)(sizeof(V) / sizeof(T));                            \
        if (ys1 != 1 || ys0 != N) {                                                          \
            for (ptrdiff_t k = 0; k < K; ++k)                                                \
                for (ptrdiff_t j = 0; j < N; ++j) yc[k * N + j] = y[k * ys0 + j * ys1];      \
            y = yc;                                                                          \
        }                                                                                    \
        for (ptrdiff_t i = 0; i < M; ++i) {                                                  \
            T *o = out + i * N;                                                              \
            const T *xr = x + i * xs0;                                                       \
            ptrdiff_t j0 = 0;                                                                \
            for (; j0 + VL <= N; j0 += VL) {                                                 \
                V acc = {0}, yv;                                                             \
                for (ptrdiff_t k = 0; k < K; ++k) {                                          \
                    memcpy(&yv, y + k * N + j0, sizeof(V));                                  \
                    acc = acc + xr[k * xs1] * yv;                                            \
                }                                                                            \
                if (bias) {                                                                  \
                    memcpy(&yv, bias + j0, sizeof(V));                                       \
                    acc = acc + yv;                                                          \
                }                                                                            \
                memcpy(o + j0, &acc, sizeof(V));                                             \
            }                                                                                \
            for (ptrdiff_t j = j0; j < N; ++j) {                                             \
                T acc = (T)0;                                                                \
                for (ptrdiff_t k = 0; k < K; ++k) acc = acc + xr[k * xs1] * y[k * N + j];    \
                o[j] = bias ? acc + bias[j] : acc;                                           \
            }                                                                                \
        }                                                                                    \
    }

CT_SMALLMM(float, f32, ct_smm_vf)
CT_SMALLMM(double, f64, ct_smm_vd)

#endif
