/* Type-generic body of _nn_simd.h: included once per dtype with CT_T (float/double),
 * CT_SUF (f32/f64) and CT_EXP defined.  No include guard on purpose. */

#define CT_FN(name) CT_NN_CAT(name, CT_SUF)

/* ---- reductions split into 4 contiguous quarters: 4 independent vector accumulators
 * (a single omp-simd accumulator is add-latency bound), fixed order, deterministic ---- */

/* Quarters shorter than this run plain scalar loops (CT_NN_QLOOP: the same sums, in the same
 * order, as the vector loop's scalar remainder, which is all it ran for them on AVX-512),
 * without the vector set-up and four horizontal sums that cost more than the sums
 * themselves: a BatchNorm2d over 16x512x4x4 spent 0.4 ms in its statistics. */
#ifndef CT_NN_SHORT
#define CT_NN_SHORT 8
#endif
#ifndef CT_NN_QLOOP
/* for (i = 0; i < q; i++) { body }: a plain loop below CT_NN_SHORT, else under the pragma
 * RED (omp simd with the loop's reductions) */
#define CT_NN_QLOOP(RED, ...)                                                                 \
    if (q < CT_NN_SHORT) {                                                                   \
        for (int64_t i = 0; i < q; i++) { __VA_ARGS__ }                                      \
    } else {                                                                                 \
        _Pragma(RED)                                                                         \
        for (int64_t i = 0; i < q; i++) { __VA_ARGS__ }                                      \
    }
#endif

static inline __attribute__((always_inline)) double
CT_FN(ct_nn_q_sum)(const CT_T *restrict x, int64_t n)
{
    int64_t q = n / 4;
    const CT_T *x1 = x + q, *x2 = x + 2 * q, *x3 = x + 3 * q;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    CT_NN_QLOOP("omp simd reduction(+:s0, s1, s2, s3)",
        s0 += (double)x[i];
        s1 += (double)x1[i];
        s2 += (double)x2[i];
        s3 += (double)x3[i];)
    for (int64_t i = 4 * q; i < n; i++) s0 += (double)x[i];
    return (s0 + s1) + (s2 + s3);
}

static inline __attribute__((always_inline)) double
CT_FN(ct_nn_q_sqdev)(const CT_T *restrict x, int64_t n, double mean)
{
    int64_t q = n / 4;
    const CT_T *x1 = x + q, *x2 = x + 2 * q, *x3 = x + 3 * q;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    CT_NN_QLOOP("omp simd reduction(+:s0, s1, s2, s3)",
        double d0 = (double)x[i] - mean, d1 = (double)x1[i] - mean;
        double d2 = (double)x2[i] - mean, d3 = (double)x3[i] - mean;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;)
    for (int64_t i = 4 * q; i < n; i++) {
        double d = (double)x[i] - mean;
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

/* *sg = sum(g), *sgx = sum(g * (x - mean)) with g = gy (w NULL) or gy*w (in CT_T) */
static inline __attribute__((always_inline)) void
CT_FN(ct_nn_q_sum_dot)(const CT_T *restrict gy, const CT_T *restrict w, const CT_T *restrict x,
                       int64_t n, CT_T mean, double *sg, double *sgx)
{
    int64_t q = n / 4;
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0;
    if (w) {
        CT_NN_QLOOP("omp simd reduction(+:a0, a1, a2, a3, b0, b1, b2, b3)",
            double g0 = (double)(gy[i] * w[i]), g1 = (double)(gy[i + q] * w[i + q]);
            double g2 = (double)(gy[i + 2 * q] * w[i + 2 * q]);
            double g3 = (double)(gy[i + 3 * q] * w[i + 3 * q]);
            a0 += g0; a1 += g1; a2 += g2; a3 += g3;
            b0 += g0 * (double)(x[i] - mean);
            b1 += g1 * (double)(x[i + q] - mean);
            b2 += g2 * (double)(x[i + 2 * q] - mean);
            b3 += g3 * (double)(x[i + 3 * q] - mean);)
        for (int64_t i = 4 * q; i < n; i++) {
            double g = (double)(gy[i] * w[i]);
            a0 += g;
            b0 += g * (double)(x[i] - mean);
        }
    } else {
        CT_NN_QLOOP("omp simd reduction(+:a0, a1, a2, a3, b0, b1, b2, b3)",
            double g0 = (double)gy[i], g1 = (double)gy[i + q];
            double g2 = (double)gy[i + 2 * q], g3 = (double)gy[i + 3 * q];
            a0 += g0; a1 += g1; a2 += g2; a3 += g3;
            b0 += g0 * (double)(x[i] - mean);
            b1 += g1 * (double)(x[i + q] - mean);
            b2 += g2 * (double)(x[i + 2 * q] - mean);
            b3 += g3 * (double)(x[i + 3 * q] - mean);)
        for (int64_t i = 4 * q; i < n; i++) {
            double g = (double)gy[i];
            a0 += g;
            b0 += g * (double)(x[i] - mean);
        }
    }
    *sg = (a0 + a1) + (a2 + a3);
    *sgx = (b0 + b1) + (b2 + b3);
}

/* Layer-norm row reductions accumulate in CT_T (like torch): rows are short and the four
 * quarters times the vector lanes give a blocked, pairwise-like summation. */
static inline __attribute__((always_inline)) CT_T
CT_FN(ct_nn_qt_sum)(const CT_T *restrict x, int64_t n)
{
    int64_t q = n / 4;
    const CT_T *x1 = x + q, *x2 = x + 2 * q, *x3 = x + 3 * q;
    CT_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+:s0, s1, s2, s3)
    for (int64_t i = 0; i < q; i++) {
        s0 += x[i];
        s1 += x1[i];
        s2 += x2[i];
        s3 += x3[i];
    }
    for (int64_t i = 4 * q; i < n; i++) s0 += x[i];
    return (s0 + s1) + (s2 + s3);
}

static inline __attribute__((always_inline)) CT_T
CT_FN(ct_nn_qt_sqdev)(const CT_T *restrict x, int64_t n, CT_T mean)
{
    int64_t q = n / 4;
    const CT_T *x1 = x + q, *x2 = x + 2 * q, *x3 = x + 3 * q;
    CT_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+:s0, s1, s2, s3)
    for (int64_t i = 0; i < q; i++) {
        CT_T d0 = x[i] - mean, d1 = x1[i] - mean, d2 = x2[i] - mean, d3 = x3[i] - mean;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (int64_t i = 4 * q; i < n; i++) {
        CT_T d = x[i] - mean;
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

/* sum(g) and sum(g * (x - mean)), g = gy * w (w may be NULL), CT_T accumulators */
static inline __attribute__((always_inline)) void
CT_FN(ct_nn_qt_sum_dot)(const CT_T *restrict gy, const CT_T *restrict w, const CT_T *restrict x,
                        int64_t n, CT_T mean, CT_T *sg, CT_T *sgx)
{
    int64_t q = n / 4;
    CT_T a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    if (w) {
#pragma omp simd reduction(+:a0, a1, a2, a3, b0, b1, b2, b3)
        for (int64_t i = 0; i < q; i++) {
            CT_T g0 = gy[i] * w[i], g1 = gy[i + q] * w[i + q];
            CT_T g2 = gy[i + 2 * q] * w[i + 2 * q], g3 = gy[i + 3 * q] * w[i + 3 * q];
            a0 += g0; a1 += g1; a2 += g2; a3 += g3;
            b0 += g0 * (x[i] - mean);
            b1 += g1 * (x[i + q] - mean);
            b2 += g2 * (x[i + 2 * q] - mean);
            b3 += g3 * (x[i + 3 * q] - mean);
        }
        for (int64_t i = 4 * q; i < n; i++) {
            CT_T g = gy[i] * w[i];
            a0 += g;
            b0 += g * (x[i] - mean);
        }
    } else {
#pragma omp simd reduction(+:a0, a1, a2, a3, b0, b1, b2, b3)
        for (int64_t i = 0; i < q; i++) {
            CT_T g0 = gy[i], g1 = gy[i + q], g2 = gy[i + 2 * q], g3 = gy[i + 3 * q];
            a0 += g0; a1 += g1; a2 += g2; a3 += g3;
            b0 += g0 * (x[i] - mean);
            b1 += g1 * (x[i + q] - mean);
            b2 += g2 * (x[i + 2 * q] - mean);
            b3 += g3 * (x[i + 3 * q] - mean);
        }
        for (int64_t i = 4 * q; i < n; i++) {
            a0 += gy[i];
            b0 += gy[i] * (x[i] - mean);
        }
    }
    *sg = (a0 + a1) + (a2 + a3);
    *sgx = (b0 + b1) + (b2 + b3);
}

/* ---- batch norm's per-channel loops (double accumulators) ----
 * A channel of x (N, C, HW) is nseg = N segments of n = HW elements, st = C * HW apart.
 * Each function walks all of them in one call, segment by segment in order (one call per
 * segment cost ~50 ns, which dominated small planes: BatchNorm2d over 16x512x4x4 spent
 * 0.39 ms in its statistics); each segment's partial result, and the order they are added
 * in, is what the per-segment calls gave, so the bits are too. */

/* the sum of every segment, added segment by segment */
CT_SIMD static double CT_FN(ct_nn_sum)(const CT_T *restrict x, int64_t nseg, int64_t st,
                                       int64_t n)
{
    double s = 0.0;
    for (int64_t k = 0; k < nseg; k++) s = s + CT_FN(ct_nn_q_sum)(x + k * st, n);
    return s;
}

/* the sum of (x - mean)^2, likewise */
CT_SIMD static double CT_FN(ct_nn_sqdev)(const CT_T *restrict x, int64_t nseg, int64_t st,
                                         int64_t n, double mean)
{
    double s = 0.0;
    for (int64_t k = 0; k < nseg; k++) s = s + CT_FN(ct_nn_q_sqdev)(x + k * st, n, mean);
    return s;
}

/* *sg += sum(gy); *sgx += sum(gy * (x - mean)), segment by segment */
CT_SIMD static void CT_FN(ct_nn_sum_dot)(const CT_T *restrict gy, const CT_T *restrict x,
                                         int64_t nseg, int64_t st, int64_t n, double mean,
                                         double *sg, double *sgx)
{
    for (int64_t k = 0; k < nseg; k++) {
        double a, b;
        CT_FN(ct_nn_q_sum_dot)(gy + k * st, NULL, x + k * st, n, (CT_T)mean, &a, &b);
        *sg += a;
        *sgx += b;
    }
}

/* ---- elementwise helpers ---- */

/* y = x * a + b */
CT_SIMD static void CT_FN(ct_nn_affine)(const CT_T *restrict x, CT_T *restrict y, int64_t n,
                                        CT_T a, CT_T b)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

/* gx = gy * s, over nseg segments of n elements st apart (a batch-norm channel) */
CT_SIMD static void CT_FN(ct_nn_scale)(const CT_T *restrict gy, CT_T *restrict gx,
                                       int64_t nseg, int64_t st, int64_t n, CT_T s)
{
    for (int64_t k = 0; k < nseg; k++) {
        const CT_T *restrict g = gy + k * st;
        CT_T *restrict o = gx + k * st;
#pragma omp simd
        for (int64_t i = 0; i < n; i++) o[i] = g[i] * s;
    }
}

/* batch-norm training input gradient: gx = (gy - gm - (x - mean) * k) * s, likewise */
CT_SIMD static void CT_FN(ct_nn_bn_gx)(const CT_T *restrict gy, const CT_T *restrict x,
                                       CT_T *restrict gx, int64_t nseg, int64_t st, int64_t n,
                                       CT_T mean, CT_T k, CT_T gm, CT_T s)
{
    for (int64_t j = 0; j < nseg; j++) {
        const CT_T *restrict g = gy + j * st, *restrict xs = x + j * st;
        CT_T *restrict o = gx + j * st;
#pragma omp simd
        for (int64_t i = 0; i < n; i++) o[i] = ((g[i] - gm) - (xs[i] - mean) * k) * s;
    }
}

/* ---- layer norm, one row of D ---- */

CT_SIMD static void CT_FN(ct_nn_ln_fwd_row)(const CT_T *restrict x, CT_T *restrict y, int64_t D,
                                            const CT_T *restrict w, const CT_T *restrict b,
                                            double eps, CT_T *mean_out, CT_T *rstd_out)
{
    CT_T m = CT_FN(ct_nn_qt_sum)(x, D) / (CT_T)D;
    CT_T v = CT_FN(ct_nn_qt_sqdev)(x, D, m);
    CT_T r = (CT_T)(1.0 / sqrt((double)v / (double)D + eps));
    *mean_out = m;
    *rstd_out = r;
    if (w && b) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) y[i] = ((x[i] - m) * r) * w[i] + b[i];
    } else if (w) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) y[i] = ((x[i] - m) * r) * w[i];
    } else if (b) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) y[i] = ((x[i] - m) * r) + b[i];
    } else {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) y[i] = (x[i] - m) * r;
    }
}

/* gx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * w, xhat = (x - mean) * rstd.
 * pgw += gy * xhat and pgb += gy (row-block partials in CT_T; any of gx/pgw/pgb may be NULL).
 * One loop per output: a fused three-store loop measured slower (the row-sized streams
 * alias at 4 KiB).
 * The row sums accumulate in double. */
CT_SIMD static void CT_FN(ct_nn_ln_bwd_row)(const CT_T *restrict gy, const CT_T *restrict x,
                                            CT_T *restrict gx, int64_t D, CT_T mean, CT_T rstd,
                                            const CT_T *restrict w, CT_T *restrict pgw,
                                            CT_T *restrict pgb)
{
    double r = (double)rstd;
    CT_T A = rstd, B = 0, C0 = 0;
    if (gx) {
        CT_T t1, t2;
        CT_FN(ct_nn_qt_sum_dot)(gy, w, x, D, mean, &t1, &t2);
        double s1 = (double)t1, s2 = (double)t2;
        /* gx = A*g + (x - mean)*B + C0 */
        B = (CT_T)(-(r * r * r) * s2 / (double)D);
        C0 = (CT_T)(-r * s1 / (double)D);
    }
    if (gx) {
        if (w) {
#pragma omp simd
            for (int64_t i = 0; i < D; i++) gx[i] = (A * (gy[i] * w[i]) + (x[i] - mean) * B) + C0;
        } else {
#pragma omp simd
            for (int64_t i = 0; i < D; i++) gx[i] = (A * gy[i] + (x[i] - mean) * B) + C0;
        }
    }
    if (pgw) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) pgw[i] += gy[i] * ((x[i] - mean) * rstd);
    }
    if (pgb) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) pgb[i] += gy[i];
    }
}

/* out[j] = sum_b part[b*D + j0 + j] for j < j1 - j0 <= 256, over b in order, in double
 * (the layer-norm gw/gb block partials; row-wise traversal, vectorized over j). */
CT_SIMD static void CT_FN(ct_nn_colsum)(const CT_T *restrict part, int64_t nb, int64_t D,
                                        int64_t j0, int64_t j1, CT_T *restrict out)
{
    double acc[256];
    int64_t m = j1 - j0;
    for (int64_t j = 0; j < m; j++) acc[j] = 0.0;
    for (int64_t b = 0; b < nb; b++) {
        const CT_T *r = part + b * D + j0;
#pragma omp simd
        for (int64_t j = 0; j < m; j++) acc[j] += (double)r[j];
    }
    for (int64_t j = 0; j < m; j++) out[j] = (CT_T)acc[j];
}

/* ---- cross entropy, one row of C logits ---- */

/* lp = log_softmax(x); returns sum(w * lp) (sum(lp) when w is NULL) if `smooth`, else 0. */
CT_SIMD static double CT_FN(ct_nn_ce_fwd_row)(const CT_T *restrict x, CT_T *restrict lp,
                                              int64_t C, const CT_T *restrict w, int smooth)
{
    CT_T m = x[0];
#pragma omp simd reduction(max:m)
    for (int64_t i = 0; i < C; i++) m = x[i] > m ? x[i] : m;
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < C; i++) s += (double)CT_EXP(x[i] - m);
    CT_T ls = (CT_T)log(s);
    double acc = 0.0;
    if (!smooth) {
#pragma omp simd
        for (int64_t i = 0; i < C; i++) lp[i] = (x[i] - m) - ls;
    } else if (w) {
#pragma omp simd reduction(+:acc)
        for (int64_t i = 0; i < C; i++) {
            CT_T v = (x[i] - m) - ls;
            lp[i] = v;
            acc += (double)w[i] * (double)v;
        }
    } else {
#pragma omp simd reduction(+:acc)
        for (int64_t i = 0; i < C; i++) {
            CT_T v = (x[i] - m) - ls;
            lp[i] = v;
            acc += (double)v;
        }
    }
    return acc;
}

/* gx = a * exp(lp) - b * w   (w NULL: - b) */
CT_SIMD static void CT_FN(ct_nn_ce_bwd_row)(const CT_T *restrict lp, CT_T *restrict gx, int64_t C,
                                            CT_T a, CT_T b, const CT_T *restrict w)
{
    if (w) {
#pragma omp simd
        for (int64_t i = 0; i < C; i++) gx[i] = a * CT_EXP(lp[i]) - b * w[i];
    } else {
#pragma omp simd
        for (int64_t i = 0; i < C; i++) gx[i] = a * CT_EXP(lp[i]) - b;
    }
}

/* dropout: mask = (u >= p) * scale */
CT_SIMD static void CT_FN(ct_nn_dropout_mask)(const CT_T *restrict u, CT_T *restrict mask,
                                              int64_t n, CT_T p, CT_T scale)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) mask[i] = u[i] >= p ? scale : (CT_T)0;
}

/* y += x */
CT_SIMD static void CT_FN(ct_nn_acc)(const CT_T *restrict x, CT_T *restrict y, int64_t n)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

#undef CT_FN
