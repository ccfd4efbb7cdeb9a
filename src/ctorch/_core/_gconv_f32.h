/* Direct float32 grouped conv2d (AVX-512) for groups with few channels: depthwise
 * (1 input channel per group) and grouped convolutions such as ResNeXt's 4-channel groups.
 * The GEMM formulation has M = OC/groups rows and K = C/groups*kh*kw per group there, which
 * no GEMM runs well (the old depthwise plane loops ran mostly scalar remainders).
 *
 * One work item is (image, group): the group's input planes are copied into zero-padded
 * per-thread planes (pitch a multiple of 16, borders zeroed once per call), so every tap of
 * an output row chunk is one unmasked 16-lane load (stride 2: two loads and an even-lane
 * permute) and one FMA; four output rows are accumulated at once in registers.
 *
 *   forward   y[n, o] = b[o] + sum_{c in group} sum_taps w[o, c, t] * x_pad[n, c] (shifted)
 *   grad x    the same machinery at stride 1 over U_o, gy[n, o] scattered into a zero plane
 *             at its stride (zero insertion) and padding (k-1)*d - p, with the flipped taps
 *   grad w    gw[o, c, t] = sum_n sum_rows gy[n, o] . x_pad[n, c] (shifted): per image a
 *             16-lane float sum over the rows (masked FMA, so lanes past the row end never
 *             multiply anything), reduced in a fixed order and added in double, images in
 *             order; a work item is a whole group, so no sum is split over threads.
 *
 * Every output element is one fixed chain (bias, then c, ki, kj in order), and threads only
 * split independent items, so results are bitwise identical for any thread count.
 * Preconditions (checked by the caller): sw in {1, 2}; for grad x, ph <= (kh-1)*dh and
 * pw <= (kw-1)*dw and finite weights (a flipped tap over the zero plane must not make
 * inf*0); kh*kw <= CTGD_MAXKK.
 */
#ifndef CT_GCONV_F32_H
#define CT_GCONV_F32_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "_ct_common.h"

#define CTGD_MAXKK 49

typedef struct {
    int N, C, H, W, OC, G, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
} ctgd_geom;

static inline int ctgd_r16(int v) { return (v + 15) / 16 * 16; }

/* forward / grad-w padded input plane: rows Hp, pitch Wp */
static inline void ctgd_xpad_dims(const ctgd_geom *g, int *Hp, int *Wp)
{
    const int nch = (g->ow + 15) / 16;
    int need = nch * 16 * g->sw + (g->kw - 1) * g->dw + 16;
    if (need < g->pw + g->W) need = g->pw + g->W;
    *Hp = (g->oh + 3) / 4 * 4 * g->sh + (g->kh - 1) * g->dh + 1;
    if (*Hp < g->ph + g->H) *Hp = g->ph + g->H;
    *Wp = ctgd_r16(need);
}

/* grad-x zero-inserted plane: rows Hu, pitch Wu */
static inline void ctgd_u_dims(const ctgd_geom *g, int *Hu, int *Wu)
{
    const int nch = (g->W + 15) / 16;
    const int P1 = (g->kw - 1) * g->dw - g->pw;
    int need = nch * 16 + (g->kw - 1) * g->dw + 16;
    const int span = P1 + (g->ow - 1) * g->sw + 16 * g->sw + 1;
    if (need < span) need = span;
    *Hu = (g->H + 3) / 4 * 4 + (g->kh - 1) * g->dh;
    const int P0 = (g->kh - 1) * g->dh - g->ph;
    if (*Hu < P0 + (g->oh - 1) * g->sh + 1) *Hu = P0 + (g->oh - 1) * g->sh + 1;
    *Wu = ctgd_r16(need);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CTGD_AVX512 __attribute__((target("avx512f")))
#define CTGD_HAVE 1

static inline __mmask16 ctgd_mask(int n) { return (__mmask16)ct_lanes16(0, n); }

/* copy plane x (H, W) into the padded plane at (ph, pw); the rest stays zero */
static CTGD_AVX512 void ctgd_fill_xpad(float *dst, const float *x, const ctgd_geom *g, int Wp)
{
    for (int iy = 0; iy < g->H; iy++) {
        const float *s = x + (ptrdiff_t)iy * g->W;
        float *d = dst + (ptrdiff_t)(iy + g->ph) * Wp + g->pw;
        for (int o = 0; o < g->W; o += 16) {
            const __mmask16 m = ctgd_mask(g->W - o);
            _mm512_mask_storeu_ps(d + o, m, _mm512_maskz_loadu_ps(m, s + o));
        }
    }
}

/* 16 output columns starting at column p of a padded row, horizontal stride sw (1 or 2) */
static CTGD_AVX512 inline __m512 ctgd_ld(const float *p, int sw, __m512i ev)
{
    if (sw == 1)
        return _mm512_loadu_ps(p);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), ev, _mm512_loadu_ps(p + 16));
}

/* Output planes y[o] (oh, ow), o < nout, from nin padded planes (pitch Wp, plane stride ps):
 * y[o][oy][ox] = bias[o] + sum_{c, ki, kj} w[o][c][ki][kj] * in_c[oy*sh + ki*dh][ox*sw + kj*dw]
 * w element (o, c, ki, kj) at w[o*wo + c*wc + ki*wki + kj*wkj] (grad x reads flipped taps) */
static CTGD_AVX512 void ctgd_planes(const float *in, ptrdiff_t ps, int Wp, int nin,
                                    const float *w, ptrdiff_t wo, ptrdiff_t wc, ptrdiff_t wki,
                                    ptrdiff_t wkj, const float *bias, float *y, ptrdiff_t ys,
                                    int nout, int oh, int ow, int kh, int kw, int sh, int sw,
                                    int dh, int dw)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    for (int o = 0; o < nout; o++) {
        const float b = bias ? bias[o] : 0.0f;
        const float *wo_ = w + o * wo;
        float *yo = y + o * ys;
        for (int oy0 = 0; oy0 < oh; oy0 += 4) {
            const int R = oh - oy0 < 4 ? oh - oy0 : 4;
            for (int ox0 = 0; ox0 < ow; ox0 += 16) {
                __m512 a0 = _mm512_set1_ps(b), a1 = a0, a2 = a0, a3 = a0;
                for (int c = 0; c < nin; c++) {
                    const float *pc = in + c * ps + (ptrdiff_t)oy0 * sh * Wp + ox0 * sw;
                    const float *wc_ = wo_ + c * wc;
                    for (int ki = 0; ki < kh; ki++) {
                        const float *r0 = pc + (ptrdiff_t)ki * dh * Wp;
                        const float *r1 = r0 + (ptrdiff_t)sh * Wp;
                        const float *r2 = r1 + (ptrdiff_t)sh * Wp;
                        const float *r3 = r2 + (ptrdiff_t)sh * Wp;
                        for (int kj = 0; kj < kw; kj++) {
                            const __m512 wv = _mm512_set1_ps(wc_[ki * wki + kj * wkj]);
                            const int off = kj * dw;
                            a0 = _mm512_fmadd_ps(wv, ctgd_ld(r0 + off, sw, ev), a0);
                            a1 = _mm512_fmadd_ps(wv, ctgd_ld(r1 + off, sw, ev), a1);
                            a2 = _mm512_fmadd_ps(wv, ctgd_ld(r2 + off, sw, ev), a2);
                            a3 = _mm512_fmadd_ps(wv, ctgd_ld(r3 + off, sw, ev), a3);
                        }
                    }
                }
                const __mmask16 m = ctgd_mask(ow - ox0);
                float *d = yo + (ptrdiff_t)oy0 * ow + ox0;
                _mm512_mask_storeu_ps(d, m, a0);
                if (R > 1) _mm512_mask_storeu_ps(d + ow, m, a1);
                if (R > 2) _mm512_mask_storeu_ps(d + 2 * ow, m, a2);
                if (R > 3) _mm512_mask_storeu_ps(d + 3 * ow, m, a3);
            }
        }
    }
}

/* scatter gy plane (oh, ow) into the zero plane U at rows oy*sh + P0, columns ox*sw + P1
 * (the positions in between are never written, so they stay zero) */
static CTGD_AVX512 void ctgd_fill_u(float *U, const float *gy, const ctgd_geom *g, int Wu)
{
    const int P0 = (g->kh - 1) * g->dh - g->ph, P1 = (g->kw - 1) * g->dw - g->pw;
    for (int oy = 0; oy < g->oh; oy++) {
        const float *s = gy + (ptrdiff_t)oy * g->ow;
        float *d = U + (ptrdiff_t)(oy * g->sh + P0) * Wu + P1;
        if (g->sw == 1) {
            for (int o = 0; o < g->ow; o += 16) {
                const __mmask16 m = ctgd_mask(g->ow - o);
                _mm512_mask_storeu_ps(d + o, m, _mm512_maskz_loadu_ps(m, s + o));
            }
        } else { /* sw == 2: 8 values to the even lanes of 16, zeros to the odd ones */
            for (int o = 0; o < g->ow; o += 8) {
                const int n = g->ow - o < 8 ? g->ow - o : 8;
                const __mmask16 m = (__mmask16)(0x5555u & ct_lanes16(0, 2 * n));
                _mm512_storeu_ps(d + 2 * o, _mm512_maskz_expandloadu_ps(m, s + o));
            }
        }
    }
}

/* one dot block: acc[t] += gy rows . shifted padded x rows, for the kh*kw taps */
static CTGD_AVX512 void ctgd_wdot(const float *gy, const float *xp, int Wp, const ctgd_geom *g,
                                  double *out)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const int KK = g->kh * g->kw, sw = g->sw;
    __m512 acc[CTGD_MAXKK];
    for (int t = 0; t < KK; t++)
        acc[t] = _mm512_setzero_ps();
    for (int oy = 0; oy < g->oh; oy++) {
        const float *gr = gy + (ptrdiff_t)oy * g->ow;
        const float *xr = xp + (ptrdiff_t)oy * g->sh * Wp;
        for (int ox0 = 0; ox0 < g->ow; ox0 += 16) {
            const __mmask16 m = ctgd_mask(g->ow - ox0);
            const __m512 gv = _mm512_maskz_loadu_ps(m, gr + ox0);
            for (int ki = 0; ki < g->kh; ki++) {
                const float *r = xr + (ptrdiff_t)ki * g->dh * Wp + ox0 * sw;
                for (int kj = 0; kj < g->kw; kj++) {
                    const int t = ki * g->kw + kj;
                    acc[t] = _mm512_mask3_fmadd_ps(gv, ctgd_ld(r + kj * g->dw, sw, ev), acc[t],
                                                   m);
                }
            }
        }
    }
    for (int t = 0; t < KK; t++)
        out[t] += (double)_mm512_reduce_add_ps(acc[t]);
}

static int ctgd_nthreads(int nthreads, double work, int items)
{
    if (nthreads < 1 || work < 32768.0) nthreads = 1;
    if (nthreads > items) nthreads = items;
    return nthreads < 1 ? 1 : nthreads;
}

/* Returns 0, or -1 when a buffer could not be allocated. */
static int ctgd_forward(const float *x, const float *w, const float *bias, float *y,
                        const ctgd_geom *g, int nthreads)
{
    const int G = g->G, Cg = g->C / G, OCg = g->OC / G, KK = g->kh * g->kw;
    int Hp, Wp;
    ctgd_xpad_dims(g, &Hp, &Wp);
    const ptrdiff_t ps = (ptrdiff_t)Hp * Wp, HW = (ptrdiff_t)g->H * g->W;
    const ptrdiff_t OHW = (ptrdiff_t)g->oh * g->ow;
    const int items = g->N * G;
    nthreads = ctgd_nthreads(nthreads, (double)g->N * g->OC * OHW * Cg * KK, items);
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        float *buf = (float *)calloc((size_t)Cg * ps + 32, sizeof(float));
        if (!buf) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp for schedule(static)
        for (int it = 0; it < items; it++) {
            if (!buf) continue;
            const int n = it / G, gi = it - n * G;
            for (int c = 0; c < Cg; c++)
                ctgd_fill_xpad(buf + c * ps, x + ((ptrdiff_t)n * g->C + gi * Cg + c) * HW, g, Wp);
            ctgd_planes(buf, ps, Wp, Cg, w + (ptrdiff_t)gi * OCg * Cg * KK, (ptrdiff_t)Cg * KK,
                        KK, g->kw, 1, bias ? bias + gi * OCg : NULL,
                        y + ((ptrdiff_t)n * g->OC + gi * OCg) * OHW, OHW, OCg, g->oh, g->ow,
                        g->kh, g->kw, g->sh, g->sw, g->dh, g->dw);
        }
        free(buf);
    }
    return err ? -1 : 0;
}

static int ctgd_backward_input(const float *gy, const float *w, float *gx, const ctgd_geom *g,
                               int nthreads)
{
    const int G = g->G, Cg = g->C / G, OCg = g->OC / G, KK = g->kh * g->kw;
    int Hu, Wu;
    ctgd_u_dims(g, &Hu, &Wu);
    const ptrdiff_t ps = (ptrdiff_t)Hu * Wu, HW = (ptrdiff_t)g->H * g->W;
    const ptrdiff_t OHW = (ptrdiff_t)g->oh * g->ow;
    const int items = g->N * G;
    nthreads = ctgd_nthreads(nthreads, (double)g->N * g->OC * OHW * Cg * KK, items);
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        float *buf = (float *)calloc((size_t)OCg * ps + 32, sizeof(float));
        if (!buf) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp for schedule(static)
        for (int it = 0; it < items; it++) {
            if (!buf) continue;
            const int n = it / G, gi = it - n * G;
            for (int o = 0; o < OCg; o++)
                ctgd_fill_u(buf + o * ps, gy + ((ptrdiff_t)n * g->OC + gi * OCg + o) * OHW, g,
                            Wu);
            /* outputs: the Cg input channels; inputs: the OCg planes U; weight (o, c, ki, kj)
             * read as (c, o, kh-1-ki, kw-1-kj) */
            const float *wg = w + (ptrdiff_t)gi * OCg * Cg * KK + (KK - 1);
            ctgd_planes(buf, ps, Wu, OCg, wg, KK, (ptrdiff_t)Cg * KK, -g->kw, -1, NULL,
                        gx + ((ptrdiff_t)n * g->C + gi * Cg) * HW, HW, Cg, g->H, g->W, g->kh,
                        g->kw, 1, 1, g->dh, g->dw);
        }
        free(buf);
    }
    return err ? -1 : 0;
}

static int ctgd_backward_weight(const float *gy, const float *x, float *gw, const ctgd_geom *g,
                                int nthreads)
{
    const int G = g->G, Cg = g->C / G, OCg = g->OC / G, KK = g->kh * g->kw;
    int Hp, Wp;
    ctgd_xpad_dims(g, &Hp, &Wp);
    const ptrdiff_t ps = (ptrdiff_t)Hp * Wp, HW = (ptrdiff_t)g->H * g->W;
    const ptrdiff_t OHW = (ptrdiff_t)g->oh * g->ow;
    const int items = G;
    nthreads = ctgd_nthreads(nthreads, (double)g->N * g->OC * OHW * Cg * KK, items);
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        float *buf = (float *)calloc((size_t)Cg * ps + 32, sizeof(float));
        double *acc = (double *)malloc(sizeof(double) * ((size_t)OCg * Cg * KK + 1));
        if (!buf || !acc) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp for schedule(static)
        for (int gi = 0; gi < items; gi++) {
            if (!buf || !acc) continue;
            memset(acc, 0, sizeof(double) * (size_t)OCg * Cg * KK);
            for (int n = 0; n < g->N; n++) {
                for (int c = 0; c < Cg; c++)
                    ctgd_fill_xpad(buf + c * ps, x + ((ptrdiff_t)n * g->C + gi * Cg + c) * HW, g,
                                   Wp);
                for (int o = 0; o < OCg; o++) {
                    const float *gyo = gy + ((ptrdiff_t)n * g->OC + gi * OCg + o) * OHW;
                    for (int c = 0; c < Cg; c++)
                        ctgd_wdot(gyo, buf + c * ps, Wp, g, acc + ((ptrdiff_t)o * Cg + c) * KK);
                }
            }
            float *d = gw + (ptrdiff_t)gi * OCg * Cg * KK;
            for (ptrdiff_t i = 0; i < (ptrdiff_t)OCg * Cg * KK; i++)
                d[i] = (float)acc[i];
        }
        free(buf);
        free(acc);
    }
    return err ? -1 : 0;
}

#else
#define CTGD_HAVE 0
static int ctgd_forward(const float *x, const float *w, const float *bias, float *y,
                        const ctgd_geom *g, int nthreads)
{ (void)x; (void)w; (void)bias; (void)y; (void)g; (void)nthreads; return -2; }
static int ctgd_backward_input(const float *gy, const float *w, float *gx, const ctgd_geom *g,
                               int nthreads)
{ (void)gy; (void)w; (void)gx; (void)g; (void)nthreads; return -2; }
static int ctgd_backward_weight(const float *gy, const float *x, float *gw, const ctgd_geom *g,
                                int nthreads)
{ (void)gy; (void)x; (void)gw; (void)g; (void)nthreads; return -2; }
#endif

static inline int ctgd_available(void) { return CTGD_HAVE && ct_have_avx512(); }

#endif
