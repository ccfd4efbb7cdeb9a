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
#include <string.h>

#define CTR_L 16
#define CTR_MAXN 65536

/* The 16 lanes combined pairwise, lane l with lane l + w for w = 8, 4, 2, 1, in GCC vector
 * types (a few vector operations in every clone; written as loops over an array, GCC kept
 * the lanes on the stack and added them one by one: ~20% of a 64-wide layer norm row).  The
 * same additions (selects) in the same order as the loops, so the same bits. */
typedef float ctr_v16 __attribute__((vector_size(64)));
typedef float ctr_v8 __attribute__((vector_size(32)));
typedef float ctr_v4 __attribute__((vector_size(16)));
typedef int ctr_i8 __attribute__((vector_size(32)));
typedef int ctr_i4 __attribute__((vector_size(16)));

static inline ctr_v4 ctr_lanes_4(const float *acc, int is_max)
{
    ctr_v16 v;
    memcpy(&v, acc, sizeof v);
    ctr_v8 a8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
    ctr_v8 b8 = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    if (is_max) { /* b8 where b8 > a8, else a8: a bitwise select, as the loop's ?: */
        const ctr_i8 m = b8 > a8;
        a8 = (ctr_v8)(((ctr_i8)b8 & m) | ((ctr_i8)a8 & ~m));
    } else {
        a8 = a8 + b8;
    }
    ctr_v4 a4 = __builtin_shufflevector(a8, a8, 0, 1, 2, 3);
    ctr_v4 b4 = __builtin_shufflevector(a8, a8, 4, 5, 6, 7);
    if (is_max) {
        const ctr_i4 m = b4 > a4;
        return (ctr_v4)(((ctr_i4)b4 & m) | ((ctr_i4)a4 & ~m));
    }
    return a4 + b4;
}

static inline float ctr_lanes_sum(float *acc)
{
    const ctr_v4 a4 = ctr_lanes_4(acc, 0);
    const float s0 = a4[0] + a4[2], s1 = a4[1] + a4[3];
    return s0 + s1;
}

static inline float ctr_lanes_max(float *acc)
{
    const ctr_v4 a4 = ctr_lanes_4(acc, 1);
    const float m0 = a4[2] > a4[0] ? a4[2] : a4[0], m1 = a4[3] > a4[1] ? a4[3] : a4[1];
    return m1 > m0 ? m1 : m0;
}

/* exp(x) for x <= 0 (or NaN) whose only use is a sum that also holds exp(0) = 1 (the
 * log-sum of log_softmax).  Arguments below -87 are clamped there (their terms, < 2^-125,
 * cannot change a float sum >= 1), so 2^k is one normal scale factor.  Evaluated as
 * 2^(x log2 e): one rounding of t = x * log2(e), then 2^f on [-1/2, 1/2] by a degree-6
 * polynomial fitted for relative error (1.75 ulp with float Horner rounding, measured on
 * 200001 points); the rounding of t adds |t| * 2^-24 * ln 2 relative error to a term of
 * size e^x, at most 2.1e-8 absolute for any x (the product peaks at x = -1), below the
 * 1-ulp error of the sum itself.  21 vector operations against the 27 of ct_exp_f32's
 * two-constant reduction: log_softmax over 128-wide rows 0.81-0.92x -> >= 1.0x torch. */
CT_INLINE float ctr_exp_nonpos(float x)
{
    const float magic = 12582912.0f;
    const float xc = x < -87.0f ? -87.0f : x; /* NaN stays NaN */
    const float t = xc * 1.44269504088896341f;
    const float tk = t + magic;
    const float k = tk - magic;
    const float f = t - k;
    float p = 1.535334304207936e-4f;
    p = p * f + 1.3398868031799793e-3f;
    p = p * f + 9.61843691766262e-3f;
    p = p * f + 5.5503323674201965e-2f;
    p = p * f + 2.4022647738456726e-1f;
    p = p * f + 6.931471824645996e-1f;
    p = p * f + 1.0f;
    ct_fbits tb, sc;
    tb.f = tk;
    sc.i = (tb.i - 0x4B400000 + 127) << 23;
    return p * sc.f;
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

/* Four short rows (n <= CTR_SHORT) at once, each pass interleaved over the four: a row's
 * passes are one dependent chain (max, exp, sum, scale) too short to fill the pipeline, and
 * four independent ones side by side keep it busy (softmax over attention's 32-wide rows:
 * 49 -> ~ns a row).  Each row's operations are those of the one-row loop below, in the same
 * order: the same bits. */
#define CTR_SHORT 64
CT_INLINE void ctr_softmax_rows4_short(const float *x, float *out, ptrdiff_t n, int log)
{
    float acc[4][CTR_L], m[4];
    _Pragma("GCC unroll 4")
    for (int k = 0; k < 4; ++k)
        for (int l = 0; l < CTR_L; ++l) acc[k][l] = -INFINITY;
    ptrdiff_t i0 = 0;
    for (; i0 + CTR_L <= n; i0 += CTR_L) {
        _Pragma("GCC unroll 4")
        for (int k = 0; k < 4; ++k) {
            const float *xr = x + k * n + i0;
            _Pragma("omp simd")
            for (int l = 0; l < CTR_L; ++l) acc[k][l] = xr[l] > acc[k][l] ? xr[l] : acc[k][l];
        }
    }
    _Pragma("GCC unroll 4")
    for (int k = 0; k < 4; ++k) {
        const float *xr = x + k * n;
        for (int l = 0; l < n - i0; ++l)
            acc[k][l] = xr[i0 + l] > acc[k][l] ? xr[i0 + l] : acc[k][l];
        m[k] = ctr_lanes_max(acc[k]);
        for (int l = 0; l < CTR_L; ++l) acc[k][l] = 0.0f;
    }
    i0 = 0;
    for (; i0 + CTR_L <= n; i0 += CTR_L) {
        _Pragma("GCC unroll 4")
        for (int k = 0; k < 4; ++k) {
            const float *xr = x + k * n + i0;
            float *o = out + k * n + i0;
            const float mk = m[k];
            if (log) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) acc[k][l] += ctr_exp_nonpos(xr[l] - mk);
            } else {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) {
                    const float e = ct_exp_f32(xr[l] - mk);
                    o[l] = e;
                    acc[k][l] += e;
                }
            }
        }
    }
    _Pragma("GCC unroll 4")
    for (int k = 0; k < 4; ++k) {
        const float *xr = x + k * n;
        float *o = out + k * n;
        const float mk = m[k];
        if (log) {
            for (int l = 0; l < n - i0; ++l) acc[k][l] += ctr_exp_nonpos(xr[i0 + l] - mk);
            const float ls = logf(ctr_lanes_sum(acc[k]));
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = (xr[i] - mk) - ls;
        } else {
            for (int l = 0; l < n - i0; ++l) {
                const float e = ct_exp_f32(xr[i0 + l] - mk);
                o[i0 + l] = e;
                acc[k][l] += e;
            }
            const float inv = 1.0f / ctr_lanes_sum(acc[k]);
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = o[i] * inv;
        }
    }
}

/* rows [0, rows) of (rows, n): out = softmax (log == 0) or log_softmax (log == 1) */
CT_SIMD static void ctr_softmax_rows_f32(const float *x, float *out, ptrdiff_t rows,
                                         ptrdiff_t n, int log)
{
    ptrdiff_t r = 0;
    if (n <= CTR_SHORT)
        for (; r + 4 <= rows; r += 4)
            ctr_softmax_rows4_short(x + r * n, out + r * n, n, log);
    for (; r < rows; ++r) {
        const float *xr = x + r * n;
        float *o = out + r * n;
        const float m = ctr_max(xr, n);
        float acc[CTR_L];
        for (int l = 0; l < CTR_L; ++l) acc[l] = 0.0f;
        ptrdiff_t i0 = 0;
        if (log) {
            for (; i0 + CTR_L <= n; i0 += CTR_L) {
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) acc[l] += ctr_exp_nonpos(xr[i0 + l] - m);
            }
            for (int l = 0; l < n - i0; ++l) acc[l] += ctr_exp_nonpos(xr[i0 + l] - m);
            /* (x - m) - log(s) as torch: x - (m + log(s)) loses log(s) next to a large m */
            const float ls = logf(ctr_lanes_sum(acc));
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < n; ++i) o[i] = (xr[i] - m) - ls;
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

/* ---- layer norm, float32 rows ------------------------------------------------------------ */

CT_INLINE float ctr_sum(const float *x, ptrdiff_t n)
{
    float acc[CTR_L];
    for (int l = 0; l < CTR_L; ++l) acc[l] = 0.0f;
    ptrdiff_t i0 = 0;
    for (; i0 + CTR_L <= n; i0 += CTR_L) {
        _Pragma("omp simd")
        for (int l = 0; l < CTR_L; ++l) acc[l] += x[i0 + l];
    }
    for (int l = 0; l < n - i0; ++l) acc[l] += x[i0 + l];
    return ctr_lanes_sum(acc);
}

/* rows [0, rows) of (rows, D): y = (x - mean) * rstd (* w) (+ b); saves mean, rstd.
 * Two passes for the statistics (sum, then squared deviations: no cancellation), 16 float
 * lanes each, combined in a fixed order. */
CT_SIMD static void ctr_layernorm_fwd_rows_f32(const float *x, float *y, ptrdiff_t rows,
                                               ptrdiff_t D, const float *w, const float *b,
                                               double eps, float *mean, float *rstd)
{
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        const float m = ctr_sum(xr, D) / (float)D;
        float acc[CTR_L];
        for (int l = 0; l < CTR_L; ++l) acc[l] = 0.0f;
        ptrdiff_t i0 = 0;
        for (; i0 + CTR_L <= D; i0 += CTR_L) {
            __builtin_prefetch(xr + D + i0); /* the next row (see the backward) */
            _Pragma("omp simd")
            for (int l = 0; l < CTR_L; ++l) {
                const float d = xr[i0 + l] - m;
                acc[l] += d * d;
            }
        }
        for (int l = 0; l < D - i0; ++l) {
            const float d = xr[i0 + l] - m;
            acc[l] += d * d;
        }
        const float v = ctr_lanes_sum(acc);
        const float rs = (float)(1.0 / sqrt((double)v / (double)D + eps));
        mean[r] = m;
        rstd[r] = rs;
        if (w && b) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) yr[i] = ((xr[i] - m) * rs) * w[i] + b[i];
        } else if (w) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) yr[i] = ((xr[i] - m) * rs) * w[i];
        } else if (b) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) yr[i] = ((xr[i] - m) * rs) + b[i];
        } else {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) yr[i] = (xr[i] - m) * rs;
        }
    }
}

/* rows [0, rows): gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w (both
 * row sums in ONE pass, 16 float lanes each), and the gw/gb partials of this row block:
 * pgw += gy * xhat, pgb += gy (pgw/pgb/gx may each be NULL; pgw/pgb are added to, row by
 * row in order). */
CT_SIMD static void ctr_layernorm_bwd_rows_f32(const float *gy, const float *x, float *gx,
                                               ptrdiff_t rows, ptrdiff_t D, const float *mean,
                                               const float *rstd, const float *w, float *pgw,
                                               float *pgb)
{
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const float *g = gy + r * D, *xr = x + r * D;
        const float m = mean[r], rs = rstd[r];
        if (gx && w && pgw && pgb) {
            /* the usual training case: the gw/gb partials ride on the sums' sweep (one
             * sweep fewer over the row; each value and partial is the same as below) */
            float a[CTR_L], c[CTR_L];
            for (int l = 0; l < CTR_L; ++l) a[l] = c[l] = 0.0f;
            ptrdiff_t i0 = 0;
            for (; i0 + CTR_L <= D; i0 += CTR_L) {
                /* the next row's lines: a 4 KiB row is a page, where the hardware
                 * prefetchers stop (prefetches do not fault past the array's end) */
                __builtin_prefetch(g + D + i0);
                __builtin_prefetch(xr + D + i0);
                _Pragma("omp simd")
                for (int l = 0; l < CTR_L; ++l) {
                    const float gi = g[i0 + l], d = xr[i0 + l] - m;
                    const float gg = gi * w[i0 + l];
                    a[l] += gg;
                    c[l] += gg * d;
                    pgw[i0 + l] += gi * (d * rs);
                    pgb[i0 + l] += gi;
                }
            }
            for (int l = 0; l < D - i0; ++l) {
                const float gi = g[i0 + l], d = xr[i0 + l] - m;
                const float gg = gi * w[i0 + l];
                a[l] += gg;
                c[l] += gg * d;
                pgw[i0 + l] += gi * (d * rs);
                pgb[i0 + l] += gi;
            }
            const double rr = (double)rs, s1 = (double)ctr_lanes_sum(a),
                         s2 = (double)ctr_lanes_sum(c);
            const float A = rs, B = (float)(-(rr * rr * rr) * s2 / (double)D),
                        C0 = (float)(-rr * s1 / (double)D);
            float *o = gx + r * D;
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) o[i] = (A * (g[i] * w[i]) + (xr[i] - m) * B) + C0;
            continue;
        }
        if (gx) {
            float a[CTR_L], c[CTR_L];
            for (int l = 0; l < CTR_L; ++l) a[l] = c[l] = 0.0f;
            ptrdiff_t i0 = 0;
            if (w) {
                for (; i0 + CTR_L <= D; i0 += CTR_L) {
                    __builtin_prefetch(g + D + i0);
                    __builtin_prefetch(xr + D + i0);
                    _Pragma("omp simd")
                    for (int l = 0; l < CTR_L; ++l) {
                        const float gg = g[i0 + l] * w[i0 + l];
                        a[l] += gg;
                        c[l] += gg * (xr[i0 + l] - m);
                    }
                }
                for (int l = 0; l < D - i0; ++l) {
                    const float gg = g[i0 + l] * w[i0 + l];
                    a[l] += gg;
                    c[l] += gg * (xr[i0 + l] - m);
                }
            } else {
                for (; i0 + CTR_L <= D; i0 += CTR_L) {
                    __builtin_prefetch(g + D + i0);
                    __builtin_prefetch(xr + D + i0);
                    _Pragma("omp simd")
                    for (int l = 0; l < CTR_L; ++l) {
                        a[l] += g[i0 + l];
                        c[l] += g[i0 + l] * (xr[i0 + l] - m);
                    }
                }
                for (int l = 0; l < D - i0; ++l) {
                    a[l] += g[i0 + l];
                    c[l] += g[i0 + l] * (xr[i0 + l] - m);
                }
            }
            const double rr = (double)rs, s1 = (double)ctr_lanes_sum(a),
                         s2 = (double)ctr_lanes_sum(c);
            const float A = rs, B = (float)(-(rr * rr * rr) * s2 / (double)D),
                        C0 = (float)(-rr * s1 / (double)D);
            float *o = gx + r * D;
            if (w) {
                _Pragma("omp simd")
                for (ptrdiff_t i = 0; i < D; i++)
                    o[i] = (A * (g[i] * w[i]) + (xr[i] - m) * B) + C0;
            } else {
                _Pragma("omp simd")
                for (ptrdiff_t i = 0; i < D; i++) o[i] = (A * g[i] + (xr[i] - m) * B) + C0;
            }
        }
        if (pgw && pgb) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) {
                pgw[i] += g[i] * ((xr[i] - m) * rs);
                pgb[i] += g[i];
            }
        } else if (pgw) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) pgw[i] += g[i] * ((xr[i] - m) * rs);
        } else if (pgb) {
            _Pragma("omp simd")
            for (ptrdiff_t i = 0; i < D; i++) pgb[i] += g[i];
        }
    }
}

#endif
