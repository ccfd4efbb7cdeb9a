/* Depthwise conv2d (groups == C, OC = C * mult) as direct loops over one (image, channel)
 * plane at a time: the GEMM formulation has one output row per group (M = mult, K = kh*kw),
 * which no GEMM runs well.
 *
 *   forward   y[n, o] = b[o] + sum_taps w[o, t] * shift_t(x[n, o / mult])
 *   grad x    gx[n, c] = sum_{o in c's group} sum_taps w[o, t] * unshift_t(gy[n, o])
 *   grad w    gw[o, t] = sum_n sum_pixels gy[n, o] * shift_t(x[n, o / mult])
 *
 * One tap at a time over whole output rows (a contiguous axpy when the stride is 1, which the
 * compiler vectorizes).  Every output element is summed in a fixed order (taps in (ki, kj)
 * order; gw: per output column a float sum over images and rows in order, then the columns
 * of each tap in order in double), and
 * threads only split independent planes / output channels, so results are bitwise identical
 * for any thread count (and, without FMA contraction and with in-order sums, for any
 * target_clones variant: CT_SIMD builds AVX-512/AVX2 copies of the plane loops).
 */
#ifndef CT_DWCONV_H
#define CT_DWCONV_H

#include <stddef.h>
#include <string.h>

#include "_ct_common.h"

typedef struct {
    int N, C, H, W, mult, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
} ctdw_geom;

/* output columns ox in [lo, hi) read input column ix0 + ox*sw inside [0, W) */
static inline void ctdw_range(int ix0, int W, int sw, int ow, int *lo, int *hi)
{
    int b = W - 1 - ix0 >= 0 ? (W - 1 - ix0) / sw + 1 : 0;
    if (b > ow) b = ow;
    int a = ix0 < 0 ? (-ix0 + sw - 1) / sw : 0;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

#define CTDW_DEFINE(SUF, T)                                                                  \
/* y plane (oh, ow) of output channel o from x plane (H, W) of its input channel */          \
CT_SIMD static void ctdw_fwd_plane_##SUF(const T *restrict x, const T *restrict w, T bias,           \
                                 T *restrict y, const ctdw_geom *g)                          \
{                                                                                            \
    const int oh = g->oh, ow = g->ow;                                                        \
    for (ptrdiff_t i = 0; i < (ptrdiff_t)oh * ow; i++)                                       \
        y[i] = bias;                                                                         \
    for (int ki = 0; ki < g->kh; ki++)                                                       \
        for (int kj = 0; kj < g->kw; kj++) {                                                 \
            const T wv = w[ki * g->kw + kj];                                                 \
            const int ix0 = kj * g->dw - g->pw;                                              \
            int lo, hi;                                                                      \
            ctdw_range(ix0, g->W, g->sw, ow, &lo, &hi);                                      \
            for (int oy = 0; oy < oh; oy++) {                                                \
                const int iy = oy * g->sh - g->ph + ki * g->dh;                              \
                if (iy < 0 || iy >= g->H)                                                    \
                    continue;                                                                \
                const T *restrict xr = x + (ptrdiff_t)iy * g->W + ix0;                       \
                T *restrict yr = y + (ptrdiff_t)oy * ow;                                     \
                if (g->sw == 1)                                                              \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        yr[ox] += wv * xr[ox];                                               \
                else                                                                         \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        yr[ox] += wv * xr[(ptrdiff_t)ox * g->sw];                            \
            }                                                                                \
        }                                                                                    \
}                                                                                            \
                                                                                             \
/* gx plane (H, W) += the taps of gy plane (oh, ow) of one output channel */                 \
CT_SIMD static void ctdw_bwdx_plane_##SUF(const T *restrict gy, const T *restrict w, T *restrict gx, \
                                  const ctdw_geom *g)                                        \
{                                                                                            \
    const int oh = g->oh, ow = g->ow;                                                        \
    for (int ki = 0; ki < g->kh; ki++)                                                       \
        for (int kj = 0; kj < g->kw; kj++) {                                                 \
            const T wv = w[ki * g->kw + kj];                                                 \
            const int ix0 = kj * g->dw - g->pw;                                              \
            int lo, hi;                                                                      \
            ctdw_range(ix0, g->W, g->sw, ow, &lo, &hi);                                      \
            for (int oy = 0; oy < oh; oy++) {                                                \
                const int iy = oy * g->sh - g->ph + ki * g->dh;                              \
                if (iy < 0 || iy >= g->H)                                                    \
                    continue;                                                                \
                T *restrict xr = gx + (ptrdiff_t)iy * g->W + ix0;                            \
                const T *restrict yr = gy + (ptrdiff_t)oy * ow;                              \
                if (g->sw == 1)                                                              \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        xr[ox] += wv * yr[ox];                                               \
                else                                                                         \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        xr[(ptrdiff_t)ox * g->sw] += wv * yr[ox];                            \
            }                                                                                \
        }                                                                                    \
}                                                                                            \
                                                                                             \
/* acc[t * ow + ox] += sum over rows oy of gy[oy, ox] * shift_t(x)[oy, ox] for every tap t:  \
 * per-column partial sums (vectorized elementwise adds, in row order); the caller adds the    \
 * images in order and reduces the ow columns of each tap at the end, in order */             \
CT_SIMD static void ctdw_bwdw_plane_##SUF(const T *restrict gy, const T *restrict x,         \
                                          T *restrict acc, const ctdw_geom *g)               \
{                                                                                            \
    const int oh = g->oh, ow = g->ow;                                                        \
    for (int ki = 0; ki < g->kh; ki++)                                                       \
        for (int kj = 0; kj < g->kw; kj++) {                                                 \
            const int ix0 = kj * g->dw - g->pw;                                              \
            int lo, hi;                                                                      \
            ctdw_range(ix0, g->W, g->sw, ow, &lo, &hi);                                      \
            T *restrict a = acc + (ptrdiff_t)(ki * g->kw + kj) * ow;                         \
            for (int oy = 0; oy < oh; oy++) {                                                \
                const int iy = oy * g->sh - g->ph + ki * g->dh;                              \
                if (iy < 0 || iy >= g->H)                                                    \
                    continue;                                                                \
                const T *restrict xr = x + (ptrdiff_t)iy * g->W + ix0;                       \
                const T *restrict yr = gy + (ptrdiff_t)oy * ow;                              \
                if (g->sw == 1)                                                              \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        a[ox] += yr[ox] * xr[ox];                                            \
                else                                                                         \
                    for (int ox = lo; ox < hi; ox++)                                         \
                        a[ox] += yr[ox] * xr[(ptrdiff_t)ox * g->sw];                         \
            }                                                                                \
        }                                                                                    \
}

CTDW_DEFINE(f32, float)
CTDW_DEFINE(f64, double)

#endif
