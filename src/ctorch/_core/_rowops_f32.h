/* float32 softmax-family row kernels for rows that fit in cache (n <= CTR_MAXN), many rows
 * per call: the transformer shapes ((12*64, 128), (64*128, 128), (4096, 1024)).
 *
 * Against the generic row kernels of _reduction_tmpl.h (double accumulators, a NaN-aware
 * max with selects, one dispatched call per pass per row) these sum in 16 float lanes,
 * take the max with plain compares (a NaN anywhere still makes the row's sum, and so the
 * whole row, NaN, as torch), and run all passes of a row inside one call.  The exponential
 * is ct_exp_f32 (no FMA), the lane sums are combined in a fixed pairwise order, so the
 * result depends on n only: the same bits for any thread count and SIMD clone.
 */
#ifndef CT_ROWOPS_F32_H
#define CT_ROWOPS_F32_H

#include "_ct_common.h"
#include "_ct_math.h"

#define CTR_L 16
#define CTR_MAXN 65536

static inline float ctr_lanes_sum(float *acc)
{
    for (int w = CTR_L / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

static inline float ctr_lanes_max(float *acc)
{
    for (int w = CTR_L / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
    return acc[0];
}

/* max ignoring NaN (-inf for an all-NaN row): callers get NaN through the sum instead */
CT_INLINE float ctr_max(const float *x, ptrdiff_t n)
{
    float acc[CTR_L];
    for (int l = 0; l < CTR_L; ++l) acc[l] = -INFINITY;
    ptrdiff_t i0 = 0;
    for (; i0 + CTR_L <= n; i0 += CTR_L) {
        _Pragma("omp simd")
        for (int l = 0; l < CTR_L; ++l) acc[l] = x[i0 + l] > acc[l] ? x[i0 + l] : acc[l];
    }
    for (int l = 0; l < n - i0; ++l) acc[l] = x[i0 + l] > acc[l] ? x[i0 + l] : acc[l];
    return ctr_lanes_max(acc);
}

/* rows [0, rows) of (rows, n): out = softmax (log == 0) or log_softmax (log == 1) */
CT_SIMD static void ctr_softmax_rows_f32(const float *x, float *out, ptrdiff_t rows,
                                         ptrdiff_t n, int log)
{
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const float *xr = x + r * n;
        float *o = out + r * n;
        const float m = ctr_max(xr, n);
        float acc[CTR_L];
        for (int l = 0; l < CTR_L; ++l) acc[l] = 0.0f;
        ptrdiff_t i0 = 0;
        if (log) {
            for (; i0 + CTR_L <= n; i0 += CTR_L) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) acc[l] += ct_exp_f32(xr[i0 + l] - m);
            }
            for (int l = 0; l < n - i0; ++l) acc[l] += ct_exp_f32(xr[i0 + l] - m);
            const float lse = m + logf(ctr_lanes_sum(acc));
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = xr[i] - lse;
        } else {
            for (; i0 + CTR_L <= n; i0 += CTR_L) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) {
                    const float e = ct_exp_f32(xr[i0 + l] - m);
                    o[i0 + l] = e;
                    acc[l] += e;
                }
            }
            for (int l = 0; l < n - i0; ++l) {
                const float e = ct_exp_f32(xr[i0 + l] - m);
                o[i0 + l] = e;
                acc[l] += e;
            }
            const float inv = 1.0f / ctr_lanes_sum(acc);
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = o[i] * inv;
        }
    }
}

/* softmax: gx = y * (gy - sum(gy * y)); log_softmax: gx = gy - exp(y) * sum(gy) */
CT_SIMD static void ctr_softmax_bwd_rows_f32(const float *gy, const float *y, float *gx,
                                             ptrdiff_t rows, ptrdiff_t n, int log)
{
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const float *g = gy + r * n, *yr = y + r * n;
        float *o = gx + r * n;
        float acc[CTR_L];
        for (int l = 0; l < CTR_L; ++l) acc[l] = 0.0f;
        ptrdiff_t i0 = 0;
        if (log) {
            for (; i0 + CTR_L <= n; i0 += CTR_L) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) acc[l] += g[i0 + l];
            }
            for (int l = 0; l < n - i0; ++l) acc[l] += g[i0 + l];
            const float s = ctr_lanes_sum(acc);
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = g[i] - ct_exp_f32(yr[i]) * s;
        } else {
            for (; i0 + CTR_L <= n; i0 += CTR_L) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) acc[l] += g[i0 + l] * yr[i0 + l];
            }
            for (int l = 0; l < n - i0; ++l) acc[l] += g[i0 + l] * yr[i0 + l];
            const float d = ctr_lanes_sum(acc);
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = yr[i] * (g[i] - d);
        }
    }
}

#endif
