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

/* Blocks of CT_OP_BLK elements: loop A (vectorized) updates the state and writes the sqrt
 * arguments to t, CT_VSQRT takes the roots, loop C (vectorized) updates p. */
/* Adam, RMSprop, Adagrad and Adadelta run in blocks of CT_OP_BLK elements: loop A
 * (vectorized) updates the state and writes the sqrt arguments to t, CT_VSQRT takes the
 * roots, loop C (vectorized) updates p. */

/* Adam / AdamW.  wd_mode: 0 none, 1 L2 (d += wd*p), 2 decoupled (p *= wd_mul).
 * vmax != NULL: amsgrad. */
CT_SIMD static void CT_FN(ct_adam)(CT_T *restrict p, const CT_T *restrict g, CT_T *restrict m,
                                   CT_T *restrict v, CT_T *restrict vmax, int64_t n,
                                   int wd_mode, CT_T wd, CT_T wd_mul, int small, CT_T w1,
                                   CT_T w1m1, CT_T beta2, CT_T b2c, CT_T bc2_sqrt, CT_T eps,
                                   CT_T neg_step, int maximize)
{
    int coupled = wd_mode == 1, decoupled = wd_mode == 2;
    CT_T t[CT_OP_BLK];
    for (int64_t i0 = 0; i0 < n; i0 += CT_OP_BLK) {
        int64_t nb = n - i0 < CT_OP_BLK ? n - i0 : CT_OP_BLK;
        CT_T *restrict pp = p + i0;
        const CT_T *restrict gg = g + i0;
        CT_T *restrict mm = m + i0;
        CT_T *restrict vv = v + i0;
        if (!vmax) {
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_T pi = pp[j];
                pi = decoupled ? pi * wd_mul : pi;
                CT_GRAD(gg[j], pi, maximize, coupled, wd)
                CT_T mi = mm[j];
                mi = CT_LERP(mi, d, small, w1, w1m1);
                CT_T vi = vv[j] * beta2 + (b2c * d) * d;
                mm[j] = mi;
                vv[j] = vi;
                pp[j] = pi;
                t[j] = vi;
            }
        } else {
            CT_T *restrict vx = vmax + i0;
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_T pi = pp[j];
                pi = decoupled ? pi * wd_mul : pi;
                CT_GRAD(gg[j], pi, maximize, coupled, wd)
                CT_T mi = mm[j];
                mi = CT_LERP(mi, d, small, w1, w1m1);
                CT_T vi = vv[j] * beta2 + (b2c * d) * d;
                mm[j] = mi;
                vv[j] = vi;
                pp[j] = pi;
                CT_T vm = vx[j];
                /* torch.maximum: NaN propagates */
                vm = (vi > vm || vi != vi) ? vi : vm;
                vx[j] = vm;
                t[j] = vm;
            }
        }
        CT_VSQRT(t, nb);
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            CT_T den = t[j] / bc2_sqrt + eps;
            pp[j] = pp[j] + (neg_step * mm[j]) / den;
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
    CT_T t[CT_OP_BLK];
    for (int64_t i0 = 0; i0 < n; i0 += CT_OP_BLK) {
        int64_t nb = n - i0 < CT_OP_BLK ? n - i0 : CT_OP_BLK;
        CT_T *restrict pp = p + i0;
        const CT_T *restrict gg = g + i0;
        CT_T *restrict ss = sq + i0;
        if (ga) {
            CT_T *restrict gav = ga + i0;
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_GRAD(gg[j], pp[j], maximize, has_wd, wd)
                CT_T s = ss[j] * alpha + (a1 * d) * d;
                ss[j] = s;
                CT_T gi = gav[j];
                gi = CT_LERP(gi, d, small, a1, a1m1);
                gav[j] = gi;
                t[j] = s + (-gi) * gi;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_GRAD(gg[j], pp[j], maximize, has_wd, wd)
                CT_T s = ss[j] * alpha + (a1 * d) * d;
                ss[j] = s;
                t[j] = s;
            }
        }
        CT_VSQRT(t, nb);
        if (buf) {
            CT_T *restrict bb = buf + i0;
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_T pi = pp[j];
                CT_GRAD(gg[j], pi, maximize, has_wd, wd)
                CT_T avg = t[j] + eps;
                CT_T b = bb[j] * momentum + d / avg;
                bb[j] = b;
                pp[j] = pi + neg_lr * b;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < nb; j++) {
                CT_T pi = pp[j];
                CT_GRAD(gg[j], pi, maximize, has_wd, wd)
                CT_T avg = t[j] + eps;
                pp[j] = pi + (neg_lr * d) / avg;
            }
        }
    }
}

/* Adagrad (dense): sum += d*d; p += (-clr * d) / (sqrt(sum) + eps). */
CT_SIMD static void CT_FN(ct_adagrad)(CT_T *restrict p, const CT_T *restrict g,
                                      CT_T *restrict ssum, int64_t n, CT_T neg_clr, CT_T eps,
                                      CT_T wd, int has_wd, int maximize)
{
    CT_T t[CT_OP_BLK];
    for (int64_t i0 = 0; i0 < n; i0 += CT_OP_BLK) {
        int64_t nb = n - i0 < CT_OP_BLK ? n - i0 : CT_OP_BLK;
        CT_T *restrict pp = p + i0;
        const CT_T *restrict gg = g + i0;
        CT_T *restrict ss = ssum + i0;
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            CT_GRAD(gg[j], pp[j], maximize, has_wd, wd)
            CT_T s = ss[j] + d * d;
            ss[j] = s;
            t[j] = s;
        }
        CT_VSQRT(t, nb);
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            CT_T pi = pp[j];
            CT_GRAD(gg[j], pi, maximize, has_wd, wd)
            CT_T std = t[j] + eps;
            pp[j] = pi + (neg_clr * d) / std;
        }
    }
}

/* Adadelta. */
CT_SIMD static void CT_FN(ct_adadelta)(CT_T *restrict p, const CT_T *restrict g,
                                       CT_T *restrict sq, CT_T *restrict acc, int64_t n,
                                       CT_T neg_lr, CT_T rho, CT_T r1, CT_T eps, CT_T wd,
                                       int has_wd, int maximize)
{
    CT_T t1[CT_OP_BLK], t2[CT_OP_BLK];
    for (int64_t i0 = 0; i0 < n; i0 += CT_OP_BLK) {
        int64_t nb = n - i0 < CT_OP_BLK ? n - i0 : CT_OP_BLK;
        CT_T *restrict pp = p + i0;
        const CT_T *restrict gg = g + i0;
        CT_T *restrict ss = sq + i0;
        CT_T *restrict aa = acc + i0;
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            CT_GRAD(gg[j], pp[j], maximize, has_wd, wd)
            CT_T s = ss[j] * rho + (r1 * d) * d;
            ss[j] = s;
            t1[j] = s + eps;
            t2[j] = aa[j] + eps;
        }
        CT_VSQRT(t1, nb);
        CT_VSQRT(t2, nb);
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
            CT_T pi = pp[j];
            CT_GRAD(gg[j], pi, maximize, has_wd, wd)
            CT_T delta = t2[j] / t1[j];
            delta = delta * d;
            aa[j] = aa[j] * rho + (r1 * delta) * delta;
            pp[j] = pi + neg_lr * delta;
        }
    }
}

/* One chunk [s, s + n) of update kernel k (CT_OPT_*), the one call of optim.pyx's chunk loop:
 * a holds the kernel's arrays in its parameter order (p, g, then its state; NULL where
 * unused), v its dtype scalars and f its int flags, each in parameter order.  Always
 * inlined, so the switch costs a branch per chunk. */
#define CT_A(i) (a[i] ? a[i] + s : NULL)
static inline __attribute__((always_inline)) void CT_FN(ct_optim_apply)(
    int k, CT_T *const *a, const CT_T *v, const int *f, int64_t s, int64_t n)
{
    switch (k) {
    case CT_OPT_SGD:
        CT_FN(ct_sgd)(CT_A(0), CT_A(1), CT_A(2), n, v[0], v[1], v[2], v[3], f[0], f[1], f[2],
                      f[3]);
        break;
    case CT_OPT_ADAM:
        CT_FN(ct_adam)(CT_A(0), CT_A(1), CT_A(2), CT_A(3), CT_A(4), n, f[0], v[0], v[1], f[1],
                       v[2], v[3], v[4], v[5], v[6], v[7], v[8], f[2]);
        break;
    case CT_OPT_RMSPROP:
        CT_FN(ct_rmsprop)(CT_A(0), CT_A(1), CT_A(2), CT_A(3), CT_A(4), n, v[0], v[1], v[2], f[0],
                          v[3], v[4], v[5], f[1], v[6], f[2]);
        break;
    case CT_OPT_ADAGRAD:
        CT_FN(ct_adagrad)(CT_A(0), CT_A(1), CT_A(2), n, v[0], v[1], v[2], f[0], f[1]);
        break;
    case CT_OPT_ADADELTA:
        CT_FN(ct_adadelta)(CT_A(0), CT_A(1), CT_A(2), CT_A(3), n, v[0], v[1], v[2], v[3], v[4],
                           f[0], f[1]);
        break;
    default: break;
    }
}
#undef CT_A

#undef CT_FN
#undef CT_LERP
#undef CT_GRAD
