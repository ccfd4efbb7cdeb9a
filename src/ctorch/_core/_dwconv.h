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
 * order; gw: images in order, each image's plane sum in float then added in double), and
 * threads only split independent planes / output channels, so results are bitwise identical
 * for any thread count.
 */
#ifndef CT_DWCONV_H
#define CT_DWCONV_H

#include <stddef.h>
#include <string.h>

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
static void ctdw_fwd_plane_##SUF(const T *restrict x, const T *restrict w, T bias,           \
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
static void ctdw_bwdx_plane_##SUF(const T *restrict gy, const T *restrict w, T *restrict gx, \
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
/* acc[t] += sum over the plane of gy * shift_t(x), for every tap t (float plane sums) */    \
static void ctdw_bwdw_plane_##SUF(const T *restrict gy, const T *restrict x,                 \
                                  double *restrict acc, const ctdw_geom *g)                  \
{                                                                                            \
    const int oh = g->oh, ow = g->ow;                                                        \
    for (int ki = 0; ki < g->kh; ki++)                                                       \
        for (int kj = 0; kj < g->kw; kj++) {                                                 \
            const int ix0 = kj * g->dw - g->pw;                                              \
            int lo, hi;                                                                      \
            ctdw_range(ix0, g->W, g->sw, ow, &lo, &hi);                                      \
            T s = 0;                                                                         \
            for (int oy = 0; oy < oh; oy++) {                                                \
                const int iy = oy * g->sh - g->ph + ki * g->dh;                              \
                if (iy < 0 || iy >= g->H)                                                    \
                    continue;                                                                \
                const T *restrict xr = x + (ptrdiff_t)iy * g->W + ix0;                       \
                const T *restrict yr = gy + (ptrdiff_t)oy * ow;                              \
                T r0 = 0, r1 = 0, r2 = 0, r3 = 0;                                            \
                int ox = lo;                                                                 \
                if (g->sw == 1) {                                                            \
                    for (; ox + 4 <= hi; ox += 4) {                                          \
                        r0 += yr[ox] * xr[ox];                                               \
                        r1 += yr[ox + 1] * xr[ox + 1];                                       \
                        r2 += yr[ox + 2] * xr[ox + 2];                                       \
                        r3 += yr[ox + 3] * xr[ox + 3];                                       \
                    }                                                                        \
                    for (; ox < hi; ox++)                                                    \
                        r0 += yr[ox] * xr[ox];                                               \
                } else                                                                       \
                    for (; ox < hi; ox++)                                                    \
                        r0 += yr[ox] * xr[(ptrdiff_t)ox * g->sw];                            \
                s += (r0 + r1) + (r2 + r3);                                                  \
            }                                                                                \
            acc[ki * g->kw + kj] += (double)s;                                               \
        }                                                                                    \
}

CTDW_DEFINE(f32, float)
CTDW_DEFINE(f64, double)

#endif
