/* nn.LSTM's fused float32 layer time loops (ctorch.nn.modules.rnn's _LSTMLayer), in C.
 *
 * Forward, per step s (time t = s, or T-1-s when reverse):
 *   gh = h @ W_hh^T + b_hh          (sgemm, the bias in its tiles; h = h0, then out[previous t])
 *   gates(xg[t], gh, cs[s]) -> out[t], cs[s+1], act[t], tc[t]     (_rnn_simd.h)
 * Backward, per step from the last taken:
 *   gh = go[t] + dh;  gates'(act[t], tc[t], cs[s], gh, dc) -> dG[t], dc;  dh = dG[t] @ W_hh
 *
 * The whole loop is ONE OpenMP region: each step's product is split by columns over the
 * threads (aligned to 16 columns) and its gates by rows, with a barrier after each, so the
 * threads are woken once per layer instead of once per step (the per-step products are
 * small: 20x200x800 takes ~35 us, a wake-up of the pool ~10 us).  sgemm's bits do not depend
 * on the column partition (each element is one FMA chain over K) and the gates compute each
 * element alone, so the results are bitwise those of one thread and of the Python loop.
 */
#ifndef CT_RNN_LAYER_H
#define CT_RNN_LAYER_H

#include <stdlib.h>

#include "_ct_common.h"
#include "_gemm_f32.h"
#include "_rnn_simd.h"

/* [lo, hi) of n columns for thread tid of nt, in whole 16-column units. */
static inline void ctr_split16(int n, int tid, int nt, int *lo, int *hi)
{
    const int units = (n + 15) / 16;
    const int u0 = (int)((long)units * tid / nt), u1 = (int)((long)units * (tid + 1) / nt);
    *lo = u0 * 16 < n ? u0 * 16 : n;
    *hi = u1 * 16 < n ? u1 * 16 : n;
}

static inline int ctr_tid(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int ctr_nthreads(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

static int ct_lstm_layer_fwd_f32(int T, int B, int H, const float *xg, const float *wt,
                                 const float *bias, const float *h0, float *out, float *cs,
                                 float *act, float *tc, int reverse, int nthreads)
{
    const int G = 4 * H;
    const ptrdiff_t BG = (ptrdiff_t)B * G, BH = (ptrdiff_t)B * H;
    float *gh = (float *)malloc((size_t)BG * sizeof(float));
    if (!gh) return -1;
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        const int nt = ctr_nthreads(), tid = ctr_tid();
        int c0, c1;
        ctr_split16(G, tid, nt, &c0, &c1);
        const int r0 = (int)((long)B * tid / nt), r1 = (int)((long)B * (tid + 1) / nt);
        const float *hp = h0;
        for (int s = 0; s < T; s++) {
            const int t = reverse ? T - 1 - s : s;
            if (c1 > c0 && !err) {
                if (ct_sgemm_bias(1, B, c1 - c0, H, hp, 0, H, 1, wt + c0, 0, G, 1, gh + c0, 0,
                                  G, 1, 0, 0, 1, 1, bias ? bias + c0 : NULL) != 0) {
#pragma omp atomic write
                    err = 1;
                }
            }
#pragma omp barrier
            if (!err)
                for (int b = r0; b < r1; b++)
                    ct_lstm_fwd_float(xg + t * BG + (ptrdiff_t)b * G, gh + (ptrdiff_t)b * G,
                                      cs + s * BH + (ptrdiff_t)b * H,
                                      out + t * BH + (ptrdiff_t)b * H,
                                      cs + (s + 1) * BH + (ptrdiff_t)b * H,
                                      act + t * BG + (ptrdiff_t)b * G,
                                      tc + t * BH + (ptrdiff_t)b * H, H);
#pragma omp barrier
            hp = out + t * BH;
        }
    }
    free(gh);
    return err ? -1 : 0;
}

static int ct_lstm_layer_bwd_f32(int T, int B, int H, const float *act, const float *tc,
                                 const float *cs, const float *go, const float *w, float *dh,
                                 float *dc, float *dG, int reverse, int nthreads)
{
    const int G = 4 * H;
    const ptrdiff_t BG = (ptrdiff_t)B * G, BH = (ptrdiff_t)B * H;
    float *gh = (float *)malloc((size_t)2 * BH * sizeof(float));
    if (!gh) return -1;
    float *dcn = gh + BH;
    int err = 0;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        const int nt = ctr_nthreads(), tid = ctr_tid();
        int c0, c1;
        ctr_split16(H, tid, nt, &c0, &c1);
        const int r0 = (int)((long)B * tid / nt), r1 = (int)((long)B * (tid + 1) / nt);
        for (int s = T - 1; s >= 0; s--) {
            const int t = reverse ? T - 1 - s : s;
            const ptrdiff_t e0 = (ptrdiff_t)r0 * H, e1 = (ptrdiff_t)r1 * H;
            for (ptrdiff_t j = e0; j < e1; j++) /* h_t's two gradients: the output's, the next step's */
                gh[j] = go[t * BH + j] + dh[j];
            for (int b = r0; b < r1; b++)
                ct_lstm_bwd_float(act + t * BG + (ptrdiff_t)b * G, tc + t * BH + (ptrdiff_t)b * H,
                                  cs + s * BH + (ptrdiff_t)b * H, gh + (ptrdiff_t)b * H,
                                  dc + (ptrdiff_t)b * H, dG + t * BG + (ptrdiff_t)b * G,
                                  dcn + (ptrdiff_t)b * H, H);
            for (ptrdiff_t j = e0; j < e1; j++)
                dc[j] = dcn[j];
#pragma omp barrier
            if (c1 > c0 && !err) {
                if (ct_sgemm_bias(1, B, c1 - c0, G, dG + t * BG, 0, G, 1, w + c0, 0, H, 1,
                                  dh + c0, 0, H, 1, 0, 0, 1, 1, NULL) != 0) {
#pragma omp atomic write
                    err = 1;
                }
            }
#pragma omp barrier
        }
    }
    free(gh);
    return err ? -1 : 0;
}

#endif
