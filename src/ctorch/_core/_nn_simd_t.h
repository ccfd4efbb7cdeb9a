/* Type-generic body of _nn_simd.h: included once per dtype with CT_T (float/double),
 * CT_SUF (f32/f64) and CT_EXP defined.  No include guard on purpose. */

#define CT_FN(name) CT_NN_CAT(name, CT_SUF)

/* ---- plain reductions (double accumulators) ---- */

CT_SIMD static double CT_FN(ct_nn_sum)(const CT_T *restrict x, int64_t n)
{
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < n; i++) s += (double)x[i];
    return s;
}

/* sum of (x - mean)^2 */
CT_SIMD static double CT_FN(ct_nn_sqdev)(const CT_T *restrict x, int64_t n, double mean)
{
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - mean;
        s += d * d;
    }
    return s;
}

/* *sg += sum(gy); *sgx += sum(gy * (x - mean)) */
CT_SIMD static void CT_FN(ct_nn_sum_dot)(const CT_T *restrict gy, const CT_T *restrict x,
                                         int64_t n, double mean, double *sg, double *sgx)
{
    double a = 0.0, b = 0.0;
#pragma omp simd reduction(+:a, b)
    for (int64_t i = 0; i < n; i++) {
        double g = (double)gy[i];
        a += g;
        b += g * ((double)x[i] - mean);
    }
    *sg += a;
    *sgx += b;
}

/* ---- elementwise helpers ---- */

/* y = x * a + b */
CT_SIMD static void CT_FN(ct_nn_affine)(const CT_T *restrict x, CT_T *restrict y, int64_t n,
                                        CT_T a, CT_T b)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

/* gx = gy * s */
CT_SIMD static void CT_FN(ct_nn_scale)(const CT_T *restrict gy, CT_T *restrict gx, int64_t n,
                                       CT_T s)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * s;
}

/* batch-norm training input gradient: gx = (gy - gm - (x - mean) * k) * s */
CT_SIMD static void CT_FN(ct_nn_bn_gx)(const CT_T *restrict gy, const CT_T *restrict x,
                                       CT_T *restrict gx, int64_t n, CT_T mean, CT_T k,
                                       CT_T gm, CT_T s)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) gx[i] = ((gy[i] - gm) - (x[i] - mean) * k) * s;
}

/* ---- layer norm, one row of D ---- */

CT_SIMD static void CT_FN(ct_nn_ln_fwd_row)(const CT_T *restrict x, CT_T *restrict y, int64_t D,
                                            const CT_T *restrict w, const CT_T *restrict b,
                                            double eps, CT_T *mean_out, CT_T *rstd_out)
{
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (int64_t i = 0; i < D; i++) s += (double)x[i];
    double mean = s / (double)D;
    double v = 0.0;
#pragma omp simd reduction(+:v)
    for (int64_t i = 0; i < D; i++) {
        double d = (double)x[i] - mean;
        v += d * d;
    }
    CT_T m = (CT_T)mean;
    CT_T r = (CT_T)(1.0 / sqrt(v / (double)D + eps));
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
 * The row sums accumulate in double. */
CT_SIMD static void CT_FN(ct_nn_ln_bwd_row)(const CT_T *restrict gy, const CT_T *restrict x,
                                            CT_T *restrict gx, int64_t D, CT_T mean, CT_T rstd,
                                            const CT_T *restrict w, CT_T *restrict pgw,
                                            CT_T *restrict pgb)
{
    double r = (double)rstd;
    CT_T A = rstd, B = 0, C0 = 0;
    if (gx) {
        double s1 = 0.0, s2 = 0.0;
        if (w) {
#pragma omp simd reduction(+:s1, s2)
            for (int64_t i = 0; i < D; i++) {
                double g = (double)(gy[i] * w[i]);
                s1 += g;
                s2 += g * (double)(x[i] - mean);
            }
        } else {
#pragma omp simd reduction(+:s1, s2)
            for (int64_t i = 0; i < D; i++) {
                double g = (double)gy[i];
                s1 += g;
                s2 += g * (double)(x[i] - mean);
            }
        }
        /* gx = A*g + (x - mean)*B + C0 */
        B = (CT_T)(-(r * r * r) * s2 / (double)D);
        C0 = (CT_T)(-r * s1 / (double)D);
    }
    if (gx && pgw && pgb && w) {
#pragma omp simd
        for (int64_t i = 0; i < D; i++) {
            CT_T g = gy[i];
            CT_T xc = x[i] - mean;
            gx[i] = (A * (g * w[i]) + xc * B) + C0;
            pgw[i] += g * (xc * rstd);
            pgb[i] += g;
        }
        return;
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
