/* Type-generic body of _optim_simd.h (included once per dtype; no include guard). */

#define CT_FN(name) CT_OP_CAT(name, CT_SUF)

/* torch.lerp with a scalar weight w (wm1 = w - 1): small = |w| < 0.5 */
#define CT_LERP(a, b, small, w, wm1) ((small) ? (a) + (w) * ((b) - (a)) : (b) + (wm1) * ((b) - (a)))

/* d = (maximize ? -g : g) (+ wd * p when has_wd) */
#define CT_GRAD(gi, pi, maximize, has_wd, wd) \
    CT_T d = (maximize) ? -(gi) : (gi);       \
    d = (has_wd) ? d + (wd) * (pi) : d;

/* SGD.  buf == NULL: no momentum.  first: buf = d.  Else buf = buf*momentum + damp1*d. */
CT_SIMD static void CT_FN(ct_sgd)(CT_T *restrict p, const CT_T *restrict g, CT_T *restrict buf,
                                  int64_t n, CT_T neg_lr, CT_T momentum, CT_T damp1, CT_T wd,
                                  int has_wd, int nesterov, int maximize, int first)
{
    if (!buf) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            p[i] = pi + neg_lr * d;
        }
    } else if (first) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T b = d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
            p[i] = pi + neg_lr * d;
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T b = buf[i] * momentum + damp1 * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
            p[i] = pi + neg_lr * d;
        }
    }
}

/* Adam / AdamW.  wd_mode: 0 none, 1 L2 (d += wd*p), 2 decoupled (p *= wd_mul).
 * vmax != NULL: amsgrad. */
CT_SIMD static void CT_FN(ct_adam)(CT_T *restrict p, const CT_T *restrict g, CT_T *restrict m,
                                   CT_T *restrict v, CT_T *restrict vmax, int64_t n,
                                   int wd_mode, CT_T wd, CT_T wd_mul, int small, CT_T w1,
                                   CT_T w1m1, CT_T beta2, CT_T b2c, CT_T bc2_sqrt, CT_T eps,
                                   CT_T neg_step, int maximize)
{
    int coupled = wd_mode == 1, decoupled = wd_mode == 2;
    if (!vmax) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            pi = decoupled ? pi * wd_mul : pi;
            CT_GRAD(g[i], pi, maximize, coupled, wd)
            CT_T mi = m[i];
            mi = CT_LERP(mi, d, small, w1, w1m1);
            CT_T vi = v[i] * beta2 + (b2c * d) * d;
            m[i] = mi;
            v[i] = vi;
            CT_T den = CT_SQRT(vi) / bc2_sqrt + eps;
            p[i] = pi + (neg_step * mi) / den;
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            pi = decoupled ? pi * wd_mul : pi;
            CT_GRAD(g[i], pi, maximize, coupled, wd)
            CT_T mi = m[i];
            mi = CT_LERP(mi, d, small, w1, w1m1);
            CT_T vi = v[i] * beta2 + (b2c * d) * d;
            m[i] = mi;
            v[i] = vi;
            CT_T vm = vmax[i];
            /* torch.maximum: NaN propagates */
            vm = (vi > vm || vi != vi) ? vi : vm;
            vmax[i] = vm;
            CT_T den = CT_SQRT(vm) / bc2_sqrt + eps;
            p[i] = pi + (neg_step * mi) / den;
        }
    }
}

/* RMSprop.  ga != NULL: centered.  buf != NULL: momentum > 0. */
CT_SIMD static void CT_FN(ct_rmsprop)(CT_T *restrict p, const CT_T *restrict g,
                                      CT_T *restrict sq, CT_T *restrict ga,
                                      CT_T *restrict buf, int64_t n, CT_T neg_lr, CT_T alpha,
                                      CT_T a1, int small, CT_T a1m1, CT_T eps, CT_T wd,
                                      int has_wd, CT_T momentum, int maximize)
{
    if (ga && buf) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T s = sq[i] * alpha + (a1 * d) * d;
            sq[i] = s;
            CT_T gi = ga[i];
            gi = CT_LERP(gi, d, small, a1, a1m1);
            ga[i] = gi;
            CT_T avg = CT_SQRT(s + (-gi) * gi) + eps;
            CT_T b = buf[i] * momentum + d / avg;
            buf[i] = b;
            p[i] = pi + neg_lr * b;
        }
    } else if (ga) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T s = sq[i] * alpha + (a1 * d) * d;
            sq[i] = s;
            CT_T gi = ga[i];
            gi = CT_LERP(gi, d, small, a1, a1m1);
            ga[i] = gi;
            CT_T avg = CT_SQRT(s + (-gi) * gi) + eps;
            p[i] = pi + (neg_lr * d) / avg;
        }
    } else if (buf) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T s = sq[i] * alpha + (a1 * d) * d;
            sq[i] = s;
            CT_T avg = CT_SQRT(s) + eps;
            CT_T b = buf[i] * momentum + d / avg;
            buf[i] = b;
            p[i] = pi + neg_lr * b;
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            CT_T pi = p[i];
            CT_GRAD(g[i], pi, maximize, has_wd, wd)
            CT_T s = sq[i] * alpha + (a1 * d) * d;
            sq[i] = s;
            CT_T avg = CT_SQRT(s) + eps;
            p[i] = pi + (neg_lr * d) / avg;
        }
    }
}

/* Adagrad (dense): sum += d*d; p += (-clr * d) / (sqrt(sum) + eps). */
CT_SIMD static void CT_FN(ct_adagrad)(CT_T *restrict p, const CT_T *restrict g,
                                      CT_T *restrict ssum, int64_t n, CT_T neg_clr, CT_T eps,
                                      CT_T wd, int has_wd, int maximize)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        CT_T pi = p[i];
        CT_GRAD(g[i], pi, maximize, has_wd, wd)
        CT_T s = ssum[i] + d * d;
        ssum[i] = s;
        CT_T std = CT_SQRT(s) + eps;
        p[i] = pi + (neg_clr * d) / std;
    }
}

/* Adadelta. */
CT_SIMD static void CT_FN(ct_adadelta)(CT_T *restrict p, const CT_T *restrict g,
                                       CT_T *restrict sq, CT_T *restrict acc, int64_t n,
                                       CT_T neg_lr, CT_T rho, CT_T r1, CT_T eps, CT_T wd,
                                       int has_wd, int maximize)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        CT_T pi = p[i];
        CT_GRAD(g[i], pi, maximize, has_wd, wd)
        CT_T s = sq[i] * rho + (r1 * d) * d;
        sq[i] = s;
        CT_T std = CT_SQRT(s + eps);
        CT_T a = acc[i];
        CT_T delta = CT_SQRT(a + eps);
        delta = delta / std;
        delta = delta * d;
        acc[i] = a * rho + (r1 * delta) * delta;
        p[i] = pi + neg_lr * delta;
    }
}

#undef CT_FN
#undef CT_LERP
#undef CT_GRAD
