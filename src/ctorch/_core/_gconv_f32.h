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
 *   grad w    gw[o, c, t] = sum_n sum_rows gy[n, o] . x_pad[n, c] (shifted): 16 float
 *             lanes per tap summed over the rows and images in order (masked FMA, so lanes
 *             past a row's end never multiply anything), reduced once at the end; a work
 *             item is a whole group, so no sum is split over threads.
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

/* forward / grad-w input planes: the zero-padded plane split into sw column phases (phase q
 * holds padded columns q, q + sw, ...), so that every tap reads 16 consecutive floats; per
 * channel sw phases of Hp rows, pitch Wq (a multiple of 16) */
static inline void ctgd_xpad_dims(const ctgd_geom *g, int *Hp, int *Wq)
{
    const int nch = (g->ow + 15) / 16;
    int need = nch * 16 + ((g->kw - 1) * g->dw) / g->sw + 16;
    const int cols = (g->pw + g->W + g->sw - 1) / g->sw + 16;
    if (need < cols) need = cols;
    *Hp = (g->oh + 3) / 4 * 4 * g->sh + (g->kh - 1) * g->dh + 1;
    if (*Hp < g->ph + g->H) *Hp = g->ph + g->H;
    *Wq = ctgd_r16(need);
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

/* copy plane x (H, W) into the padded phases at (ph, pw) (sw == 2: the even and odd padded
 * columns of each row, 32 at a time); the rest stays zero */
static CTGD_AVX512 void ctgd_fill_xpad(float *dst, const float *x, const ctgd_geom *g, int Wq,
                                       ptrdiff_t phs)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const int end = g->pw + g->W;
    for (int iy = 0; iy < g->H; iy++) {
        const float *s = x + (ptrdiff_t)iy * g->W;
        float *d = dst + (ptrdiff_t)(iy + g->ph) * Wq;
        if (g->sw == 1) {
            for (int o = 0; o < g->W; o += 16) {
                const __mmask16 m = ctgd_mask(g->W - o);
                _mm512_mask_storeu_ps(d + g->pw + o, m, _mm512_maskz_loadu_ps(m, s + o));
            }
            continue;
        }
        /* phase q column j: padded column 2j + q = x column 2j + q - pw (zero outside) */
        for (int j = 0; 2 * j < end; j += 16) {
            const int b0 = 2 * j - g->pw;
            const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)ct_lanes16(-b0, g->W - b0), s + b0);
            const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)ct_lanes16(-b0 - 16, g->W - b0 - 16),
                                                    s + b0 + 16);
            _mm512_storeu_ps(d + j, _mm512_permutex2var_ps(lo, ev, hi));
            _mm512_storeu_ps(d + phs + j, _mm512_permutex2var_ps(lo, od, hi));
        }
    }
}

/* Output planes y[o] (oh, ow), o < nout, from nin input planes (plane stride ps, column
 * phases phs apart, pitch Wq):
 * y[o][oy][ox] = bias[o] + sum_{c, ki, kj} w[o][c][ki][kj] * in_c[oy*sh + ki*dh][ox*sw + kj*dw]
 * with padded column ox*sw + kj*dw at phase (kj*dw) % sw, column ox + (kj*dw) / sw;
 * w element (o, c, ki, kj) at w[o*wo + c*wc + ki*wki + kj*wkj] (grad x reads flipped taps).
 * NO output channels at a time share each load; KH/KW/SW/DW are constants where inlined. */
static CTGD_AVX512 inline __attribute__((always_inline)) void
ctgd_planes_body(const float *in, ptrdiff_t ps, ptrdiff_t phs, int Wq, int nin, const float *w,
                 ptrdiff_t wo, ptrdiff_t wc, ptrdiff_t wki, ptrdiff_t wkj, const float *bias,
                 float *y, ptrdiff_t ys, int o0, int oh, int ow, int KH, int KW, int sh, int SW,
                 int dh, int DW, int NO)
{
    const float *wo0 = w + o0 * wo;
    ptrdiff_t toff[64];
    for (int kj = 0; kj < KW && kj < 64; kj++)
        toff[kj] = ((kj * DW) % SW) * phs + (kj * DW) / SW;
    for (int oy0 = 0; oy0 < oh; oy0 += 4) {
        const int R = oh - oy0 < 4 ? oh - oy0 : 4;
        for (int ox0 = 0; ox0 < ow; ox0 += 16) {
            __m512 a[2][4];
            for (int j = 0; j < NO; j++)
                for (int r = 0; r < 4; r++)
                    a[j][r] = _mm512_set1_ps(bias ? bias[o0 + j] : 0.0f);
            for (int c = 0; c < nin; c++) {
                const float *pc = in + c * ps + (ptrdiff_t)oy0 * sh * Wq + ox0;
                const float *wc_ = wo0 + c * wc;
                for (int ki = 0; ki < KH; ki++) {
                    const float *r0 = pc + (ptrdiff_t)ki * dh * Wq;
                    const ptrdiff_t rs = (ptrdiff_t)sh * Wq;
                    for (int kj = 0; kj < KW; kj++) {
                        const float *p = r0 + toff[kj];
                        const __m512 v0 = _mm512_loadu_ps(p), v1 = _mm512_loadu_ps(p + rs);
                        const __m512 v2 = _mm512_loadu_ps(p + 2 * rs);
                        const __m512 v3 = _mm512_loadu_ps(p + 3 * rs);
                        for (int j = 0; j < NO; j++) {
                            const __m512 wv = _mm512_set1_ps(wc_[j * wo + ki * wki + kj * wkj]);
                            a[j][0] = _mm512_fmadd_ps(wv, v0, a[j][0]);
                            a[j][1] = _mm512_fmadd_ps(wv, v1, a[j][1]);
                            a[j][2] = _mm512_fmadd_ps(wv, v2, a[j][2]);
                            a[j][3] = _mm512_fmadd_ps(wv, v3, a[j][3]);
                        }
                    }
                }
            }
            const __mmask16 m = ctgd_mask(ow - ox0);
            for (int j = 0; j < NO; j++) {
                float *d = y + (o0 + j) * ys + (ptrdiff_t)oy0 * ow + ox0;
                for (int r = 0; r < R; r++)
                    _mm512_mask_storeu_ps(d + r * ow, m, a[j][r]);
            }
        }
    }
}

#define CTGD_PLANES_ARGS                                                                     \
    const float *in, ptrdiff_t ps, ptrdiff_t phs, int Wq, int nin, const float *w,           \
        ptrdiff_t wo, ptrdiff_t wc, ptrdiff_t wki, ptrdiff_t wkj, const float *bias,         \
        float *y, ptrdiff_t ys, int o0, int oh, int ow, int kh, int kw, int sh, int sw,      \
        int dh, int dw

/* one output channel (depthwise): the same sums as ctgd_planes_body with NO = 1, written
 * with named accumulators (measured ~15% faster there than the array form) */
static CTGD_AVX512 inline __attribute__((always_inline)) void
ctgd_planes_1_body(CTGD_PLANES_ARGS, int SW)
{
    (void)sw;
    const float b = bias ? bias[o0] : 0.0f;
    const float *wo_ = w + o0 * wo;
    float *yo = y + o0 * ys;
    const ptrdiff_t rs = (ptrdiff_t)sh * Wq;
    for (int oy0 = 0; oy0 < oh; oy0 += 4) {
        const int R = oh - oy0 < 4 ? oh - oy0 : 4;
        for (int ox0 = 0; ox0 < ow; ox0 += 16) {
            __m512 a0 = _mm512_set1_ps(b), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < nin; c++) {
                const float *pc = in + c * ps + (ptrdiff_t)oy0 * rs + ox0;
                const float *wc_ = wo_ + c * wc;
                for (int ki = 0; ki < kh; ki++) {
                    const float *r0 = pc + (ptrdiff_t)ki * dh * Wq;
                    for (int kj = 0; kj < kw; kj++) {
                        const __m512 wv = _mm512_set1_ps(wc_[ki * wki + kj * wkj]);
                        const float *p = r0 + ((kj * dw) % SW) * phs + (kj * dw) / SW;
                        a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
                        a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + rs), a1);
                        a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 2 * rs), a2);
                        a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 3 * rs), a3);
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

static CTGD_AVX512 void ctgd_planes_1s1(CTGD_PLANES_ARGS)
{
    ctgd_planes_1_body(in, ps, phs, Wq, nin, w, wo, wc, wki, wkj, bias, y, ys, o0, oh, ow, kh,
                       kw, sh, sw, dh, dw, 1);
}

static CTGD_AVX512 void ctgd_planes_1s2(CTGD_PLANES_ARGS)
{
    ctgd_planes_1_body(in, ps, phs, Wq, nin, w, wo, wc, wki, wkj, bias, y, ys, o0, oh, ow, kh,
                       kw, sh, sw, dh, dw, 2);
}

/* two output channels sharing each load (groups with several output channels) */
static CTGD_AVX512 void ctgd_planes_2(CTGD_PLANES_ARGS)
{
    ctgd_planes_body(in, ps, phs, Wq, nin, w, wo, wc, wki, wkj, bias, y, ys, o0, oh, ow, kh, kw,
                     sh, sw, dh, dw, 2);
}

/* all nout output planes, two output channels per pass while they last; the same chain of
 * sums for each element either way */
static void ctgd_planes(CTGD_PLANES_ARGS, int nout)
{
    for (int o0 = 0; o0 < nout;) {
        const int two = nout - o0 >= 2;
        (two ? ctgd_planes_2 : sw == 1 ? ctgd_planes_1s1 : ctgd_planes_1s2)(in, ps, phs, Wq, nin, w, wo, wc, wki, wkj, bias, y,
                                              ys, o0, oh, ow, kh, kw, sh, sw, dh, dw);
        o0 += two ? 2 : 1;
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

/* acc[t] (16 float lanes per tap, kept across the images) += gy rows . shifted input rows
 * (phases as in ctgd_planes), for the kh*kw taps; lanes past a row's end are masked (never
 * multiplied).  KH/KW/SW/DW are constants where inlined (the accumulators in registers). */
static CTGD_AVX512 inline __attribute__((always_inline)) void
ctgd_wdot_body(const float *gy, const float *xp, ptrdiff_t phs, int Wq, int oh, int ow, int sh,
               int dh, float *accm, int KH, int KW, int SW, int DW)
{
    __m512 acc[CTGD_MAXKK];
    for (int t = 0; t < KH * KW; t++)
        acc[t] = _mm512_loadu_ps(accm + 16 * t);
    for (int oy = 0; oy < oh; oy++) {
        const float *gr = gy + (ptrdiff_t)oy * ow;
        const float *xr = xp + (ptrdiff_t)oy * sh * Wq;
        for (int ox0 = 0; ox0 < ow; ox0 += 16) {
            const __mmask16 m = ctgd_mask(ow - ox0);
            const __m512 gv = _mm512_maskz_loadu_ps(m, gr + ox0);
            for (int ki = 0; ki < KH; ki++) {
                const float *r = xr + (ptrdiff_t)ki * dh * Wq + ox0;
                for (int kj = 0; kj < KW; kj++) {
                    const int t = kj * DW;
                    const __m512 v = _mm512_loadu_ps(r + (t % SW) * phs + t / SW);
                    acc[ki * KW + kj] = _mm512_mask3_fmadd_ps(gv, v, acc[ki * KW + kj], m);
                }
            }
        }
    }
    for (int t = 0; t < KH * KW; t++)
        _mm512_storeu_ps(accm + 16 * t, acc[t]);
}

#define CTGD_WDOT_ARGS                                                                       \
    const float *gy, const float *xp, ptrdiff_t phs, int Wq, int oh, int ow, int sh, int dh, \
        float *accm, int kh, int kw, int sw, int dw
#define CTGD_WDOT_VARIANT(NAME, KH, KW, SW, DW)                                              \
    static CTGD_AVX512 void NAME(CTGD_WDOT_ARGS)                                             \
    {                                                                                        \
        (void)kh; (void)kw; (void)sw; (void)dw;                                              \
        ctgd_wdot_body(gy, xp, phs, Wq, oh, ow, sh, dh, accm, KH, KW, SW, DW);               \
    }
CTGD_WDOT_VARIANT(ctgd_wdot_33s1, 3, 3, 1, 1)
CTGD_WDOT_VARIANT(ctgd_wdot_33s2, 3, 3, 2, 1)
CTGD_WDOT_VARIANT(ctgd_wdot_any, kh, kw, sw, dw)

static CTGD_AVX512 float ctgd_sum16(const float *p)
{
    return _mm512_reduce_add_ps(_mm512_loadu_ps(p));
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
    int Hp, Wq;
    ctgd_xpad_dims(g, &Hp, &Wq);
    const ptrdiff_t phs = (ptrdiff_t)Hp * Wq, ps = phs * g->sw, HW = (ptrdiff_t)g->H * g->W;
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
                ctgd_fill_xpad(buf + c * ps, x + ((ptrdiff_t)n * g->C + gi * Cg + c) * HW, g, Wq,
                               phs);
            ctgd_planes(buf, ps, phs, Wq, Cg, w + (ptrdiff_t)gi * OCg * Cg * KK,
                        (ptrdiff_t)Cg * KK, KK, g->kw, 1, bias ? bias + gi * OCg : NULL,
                        y + ((ptrdiff_t)n * g->OC + gi * OCg) * OHW, OHW, 0, g->oh, g->ow,
                        g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, OCg);
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
            ctgd_planes(buf, ps, 0, Wu, OCg, wg, KK, (ptrdiff_t)Cg * KK, -g->kw, -1, NULL,
                        gx + ((ptrdiff_t)n * g->C + gi * Cg) * HW, HW, 0, g->H, g->W, g->kh,
                        g->kw, 1, 1, g->dh, g->dw, Cg);
        }
        free(buf);
    }
    return err ? -1 : 0;
}

static int ctgd_backward_weight(const float *gy, const float *x, float *gw, const ctgd_geom *g,
                                int nthreads)
{
    const int G = g->G, Cg = g->C / G, OCg = g->OC / G, KK = g->kh * g->kw;
    int Hp, Wq;
    ctgd_xpad_dims(g, &Hp, &Wq);
    const ptrdiff_t phs = (ptrdiff_t)Hp * Wq, ps = phs * g->sw, HW = (ptrdiff_t)g->H * g->W;
    const ptrdiff_t OHW = (ptrdiff_t)g->oh * g->ow;
    const int items = G;
    nthreads = ctgd_nthreads(nthreads, (double)g->N * g->OC * OHW * Cg * KK, items);
    const int k33 = g->kh == 3 && g->kw == 3 && g->dw == 1;
    void (*wdot)(CTGD_WDOT_ARGS) = !k33 ? ctgd_wdot_any
                                        : (g->sw == 1 ? ctgd_wdot_33s1 : ctgd_wdot_33s2);
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        const size_t nacc = (size_t)OCg * Cg * KK;
        float *buf = (float *)calloc((size_t)Cg * ps + 32, sizeof(float));
        float *acc = (float *)malloc(sizeof(float) * 16 * (nacc + 1));
        if (!buf || !acc) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp for schedule(static)
        for (int gi = 0; gi < items; gi++) {
            if (!buf || !acc) continue;
            memset(acc, 0, sizeof(float) * 16 * nacc);
            for (int n = 0; n < g->N; n++) {
                for (int c = 0; c < Cg; c++)
                    ctgd_fill_xpad(buf + c * ps, x + ((ptrdiff_t)n * g->C + gi * Cg + c) * HW, g,
                                   Wq, phs);
                for (int o = 0; o < OCg; o++) {
                    const float *gyo = gy + ((ptrdiff_t)n * g->OC + gi * OCg + o) * OHW;
                    for (int c = 0; c < Cg; c++)
                        wdot(gyo, buf + c * ps, phs, Wq, g->oh, g->ow, g->sh, g->dh,
                             acc + 16 * ((ptrdiff_t)o * Cg + c) * KK, g->kh, g->kw, g->sw,
                             g->dw);
                }
            }
            float *d = gw + (ptrdiff_t)gi * OCg * Cg * KK;
            for (size_t i = 0; i < nacc; i++)
                d[i] = ctgd_sum16(acc + 16 * i);
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
