/* float32 3x3 convolution, stride 1, padding 1, dilation 1, groups 1, by Winograd's minimal
 * filtering F(2x2, 3x3) (Lavin & Gray 2016): each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A
 * for its 4x4 input patch d, so the 16 elementwise products over the channels become 16 GEMMs
 * (OC x C) @ (C x tiles): 16 multiplies per 4 outputs instead of 36 (2.25x fewer flops).
 *
 * Layout: the images go to the innermost axis (x transposed to (C, H+pad, W+pad, Np), Np =
 * N rounded up to 16, zero padding), so that both transforms run on 16 images per vector
 * with no lane wasted on small planes (ResNet's 7x7 / 4x4 / 2x2 stages):
 *   V[xi][c][t*Np + n]  = (B^T d B)[xi]      input transform, tile t of image n
 *   U[xi][c][o]         = (G g G^T)[xi]      weight transform (A column-major)
 *   M[xi]               = U[xi] @ V[xi]      ct_sgemm, batch 16 (x groups: block-diagonal)
 *   y tile              = A^T m A (+ bias)   output transform, then images back outermost
 *
 * Every step is a fixed sequence of float operations per element (the GEMM is ct_sgemm:
 * threads split column blocks, never K), so results are bitwise identical for any thread
 * count.  The transforms' extra roundings give errors of a few float32 ulps of the inputs'
 * magnitude, as torch's own Winograd/oneDNN paths.
 */
#ifndef CT_WINOGRAD_F32_H
#define CT_WINOGRAD_F32_H

#include "_gemm_f32.h"

#ifdef CTG_X86

/* xt[c][h+pad][w+pad][n] = x[n][c][h][w] (pitch 2*ceil(W/2) + 2*pad; border and n >= N stay
 * zero); 16 images x 16 pixels per in-register transpose */
static CTG_AVX512 void ctw_to_inner(const float *x, float *xt, int N, int C, int H, int W,
                                    int Np, int c, int pad)
{
    const int HW = H * W, Wp = (W + 1) / 2 * 2 + 2 * pad;
    __m512 r[16];
    for (int n0 = 0; n0 < N; n0 += 16) {
        const int nn = N - n0 < 16 ? N - n0 : 16;
        for (int p0 = 0; p0 < HW; p0 += 16) {
            const int pp = HW - p0 < 16 ? HW - p0 : 16;
            const __mmask16 m = (__mmask16)ct_lanes16(0, pp);
            for (int i = 0; i < 16; i++)
                r[i] = i < nn ? _mm512_maskz_loadu_ps(m, x + ((ptrdiff_t)(n0 + i) * C + c) * HW + p0)
                              : _mm512_setzero_ps();
            ct_tr16_avx512(r);
            for (int j = 0; j < pp; j++) {
                const int p = p0 + j, h = p / W, w = p - h * W;
                _mm512_storeu_ps(xt + ((ptrdiff_t)(h + pad) * Wp + (w + pad)) * Np + n0, r[j]);
            }
        }
    }
}

/* y[n][o][h][w] = yt[h][w][n] for the plane of output channel o (yt: (2*th, 2*tw, Np)) */
static CTG_AVX512 void ctw_to_outer(const float *yt, float *y, int N, int OC, int H, int W,
                                    int Np, int o)
{
    const int HW = H * W, W2 = (W + 1) / 2 * 2;
    __m512 r[16];
    for (int n0 = 0; n0 < N; n0 += 16) {
        const int nn = N - n0 < 16 ? N - n0 : 16;
        for (int p0 = 0; p0 < HW; p0 += 16) {
            const int pp = HW - p0 < 16 ? HW - p0 : 16;
            for (int j = 0; j < 16; j++) {
                if (j < pp) {
                    const int p = p0 + j, h = p / W, w = p - h * W;
                    r[j] = _mm512_loadu_ps(yt + ((ptrdiff_t)h * W2 + w) * Np + n0);
                } else {
                    r[j] = _mm512_setzero_ps();
                }
            }
            ct_tr16_avx512(r);
            const __mmask16 m = (__mmask16)ct_lanes16(0, pp);
            for (int i = 0; i < nn; i++)
                _mm512_mask_storeu_ps(y + ((ptrdiff_t)(n0 + i) * OC + o) * HW + p0, m, r[i]);
        }
    }
}

/* V[xi][c][t*Np + n] from xt of channel c (Hp x Wp x Np) */
static CTG_AVX512 void ctw_input_tf(const float *xt, float *V, int C, int th, int tw, int Np,
                                    int c)
{
    const int Wp = tw * 2 + 2;
    const ptrdiff_t TN = (ptrdiff_t)th * tw * Np, xs = (ptrdiff_t)C * TN;
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++)
            for (int n0 = 0; n0 < Np; n0 += 16) {
                __m512 d[4][4], t[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        d[i][j] = _mm512_loadu_ps(
                            xt + ((ptrdiff_t)(2 * ty + i) * Wp + 2 * tx + j) * Np + n0);
                for (int j = 0; j < 4; j++) { /* B^T d */
                    t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                    t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                    t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                    t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
                }
                float *v = V + (ptrdiff_t)c * TN + ((ptrdiff_t)ty * tw + tx) * Np + n0;
                for (int i = 0; i < 4; i++) { /* (B^T d) B */
                    _mm512_storeu_ps(v + (4 * i + 0) * xs, _mm512_sub_ps(t[i][0], t[i][2]));
                    _mm512_storeu_ps(v + (4 * i + 1) * xs, _mm512_add_ps(t[i][1], t[i][2]));
                    _mm512_storeu_ps(v + (4 * i + 2) * xs, _mm512_sub_ps(t[i][2], t[i][1]));
                    _mm512_storeu_ps(v + (4 * i + 3) * xs, _mm512_sub_ps(t[i][1], t[i][3]));
                }
            }
}

/* yt (2*th, 2*tw, Np) of output channel o from M[xi][o][t*Np + n] (+ bias) */
static CTG_AVX512 void ctw_output_tf(const float *M, float *yt, int OC, int th, int tw, int Np,
                                     int o, float bias)
{
    const int W2 = 2 * tw;
    const ptrdiff_t TN = (ptrdiff_t)th * tw * Np, ms = (ptrdiff_t)OC * TN;
    const __m512 b = _mm512_set1_ps(bias);
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++)
            for (int n0 = 0; n0 < Np; n0 += 16) {
                const float *mp = M + (ptrdiff_t)o * TN + ((ptrdiff_t)ty * tw + tx) * Np + n0;
                __m512 m[4][4], s[2][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        m[i][j] = _mm512_loadu_ps(mp + (4 * i + j) * ms);
                for (int j = 0; j < 4; j++) { /* A^T m */
                    s[0][j] = _mm512_add_ps(_mm512_add_ps(m[0][j], m[1][j]), m[2][j]);
                    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[1][j], m[2][j]), m[3][j]);
                }
                for (int i = 0; i < 2; i++) { /* (A^T m) A */
                    const __m512 y0 = _mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]);
                    const __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3]);
                    float *d = yt + ((ptrdiff_t)(2 * ty + i) * W2 + 2 * tx) * Np + n0;
                    _mm512_storeu_ps(d, _mm512_add_ps(y0, b));
                    _mm512_storeu_ps(d + Np, _mm512_add_ps(y1, b));
                }
            }
}

/* U[xi][c][o] = (G g G^T)[xi] for g = w[o][c] (3x3), o in [o0, o0 + 16) (flip: g = w[c][o]
 * rotated by 180 degrees, the input gradient's kernel, w then (C, OC, 3, 3)): the GEMM's A
 * column-major, which sgemm packs with contiguous loads (a row-major A is packed with
 * gathers); 16 output channels per pass, one per lane (9 gathers of their taps), so that U
 * is written in 64-byte runs (one output channel per pass strode through w by C*9 floats,
 * a TLB miss per read: 4.8 ms for 256x256 against 0.4 ms for the GEMM; scalar 16-channel
 * passes took ~0.3 ms).  The same float operations per element as a scalar loop. */
static CTG_AVX512 void ctw_weight_tf(const float *w, float *U, int OC, int C, int G, int gi,
                                     int o0, int flip)
{
    const int Cg = C / G, OCg = OC / G;
    const ptrdiff_t us = (ptrdiff_t)OCg * Cg; /* one (xi, group) block of U */
    const int no = OCg - o0 < 16 ? OCg - o0 : 16;
    const __mmask16 m = (__mmask16)ct_lanes16(0, no);
    const __m512 half = _mm512_set1_ps(0.5f);
    /* lane oo reads tap q of its 3x3 kernel at base + oo*lane + (flip ? 8 - q : q) */
    const int lane = flip ? 9 : Cg * 9;
    const __m512i lanes = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(lane));
    for (int cl = 0; cl < Cg; cl++) {
        const float *base = flip ? w + ((ptrdiff_t)(gi * Cg + cl) * OCg + o0) * 9
                                 : w + ((ptrdiff_t)(gi * OCg + o0) * Cg + cl) * 9;
        __m512 g[9];
        for (int q = 0; q < 9; q++)
            g[q] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, lanes,
                                            base + (flip ? 8 - q : q), 4);
        __m512 t[4][3];
        for (int j = 0; j < 3; j++) { /* G g */
            t[0][j] = g[j];
            t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(g[j], g[3 + j]), g[6 + j]));
            t[2][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(g[j], g[3 + j]), g[6 + j]));
            t[3][j] = g[6 + j];
        }
        float *u = U + (ptrdiff_t)gi * us + (ptrdiff_t)cl * OCg + o0;
        const ptrdiff_t xs = (ptrdiff_t)G * us;
        for (int i = 0; i < 4; i++) { /* (G g) G^T */
            const __m512 s0 = _mm512_add_ps(t[i][0], t[i][1]);
            const __m512 s1 = _mm512_sub_ps(t[i][0], t[i][1]);
            _mm512_mask_storeu_ps(u + (4 * i + 0) * xs, m, t[i][0]);
            _mm512_mask_storeu_ps(u + (4 * i + 1) * xs, m,
                                  _mm512_mul_ps(half, _mm512_add_ps(s0, t[i][2])));
            _mm512_mask_storeu_ps(u + (4 * i + 2) * xs, m,
                                  _mm512_mul_ps(half, _mm512_add_ps(s1, t[i][2])));
            _mm512_mask_storeu_ps(u + (4 * i + 3) * xs, m, t[i][2]);
        }
    }
}

/* floats of the work buffer ctw_conv3x3_f23 needs */
static ptrdiff_t ctw_work_size(int N, int C, int H, int W, int OC)
{
    const ptrdiff_t Np = (N + 15) / 16 * 16, th = (H + 1) / 2, tw = (W + 1) / 2;
    const ptrdiff_t TN = th * tw * Np;
    return (ptrdiff_t)C * (2 * th + 2) * (2 * tw + 2) * Np + 16 * C * TN + 16 * (ptrdiff_t)OC * C +
           16 * OC * TN + 64;
}

/* y (N, OC, H, W) = conv2d(x (N, C, H, W), w (OC, C, 3, 3), padding 1) (+ bias) (flip: with
 * the kernel w[c][o] rotated, w (C, OC, 3, 3): the input gradient of that conv), with the
 * caller's work buffer (ctw_work_size floats, reused across calls: fresh buffers cost more in
 * page faults than the transforms); returns 0, -1 when a buffer could not be allocated. */
static int ctw_conv3x3_f23(const float *x, const float *w, const float *bias, float *y, int N,
                           int C, int H, int W, int OC, int G, float *work, int flip,
                           int nthreads)
{
    const int Np = (N + 15) / 16 * 16, th = (H + 1) / 2, tw = (W + 1) / 2;
    const int Hp = 2 * th + 2, Wp = 2 * tw + 2, T = th * tw;
    const ptrdiff_t TN = (ptrdiff_t)T * Np, xps = (ptrdiff_t)Hp * Wp * Np;
    float *xt = work, *V = xt + C * xps, *U = V + 16 * C * TN, *M = U + 16 * (ptrdiff_t)OC * C;
    int err = 0;
    if (nthreads < 1) nthreads = 1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
#pragma omp for schedule(static)
        for (int c = 0; c < C; c++) {
            memset(xt + c * xps, 0, sizeof(float) * xps);
            ctw_to_inner(x, xt + c * xps, N, C, H, W, Np, c, 1);
            ctw_input_tf(xt + c * xps, V, C, th, tw, Np, c);
        }
        const int nob = (OC / G + 15) / 16; /* 16-channel blocks per group */
#pragma omp for schedule(static)
        for (int it = 0; it < G * nob; it++)
            ctw_weight_tf(w, U, OC, C, G, it / nob, 16 * (it % nob), flip);
    }
    const int Cg = C / G, OCg = OC / G;
    err = ct_sgemm(16 * G, OCg, (int)TN, Cg, U, (ptrdiff_t)OCg * Cg, 1, OCg, V,
                   (ptrdiff_t)Cg * TN, TN, 1, M, (ptrdiff_t)OCg * TN, TN, 1, 0, 0, nthreads,
                   1) != 0;
    if (err)
        return -1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        float *yt = (float *)ctg_alloc((size_t)4 * T * Np);
        if (!yt) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp for schedule(static)
        for (int o = 0; o < OC; o++) {
            if (!yt) continue;
            ctw_output_tf(M, yt, OC, th, tw, Np, o, bias ? bias[o] : 0.0f);
            ctw_to_outer(yt, y, N, OC, H, W, Np, o);
        }
        free(yt);
    }
    return err ? -1 : 0;
}

/* dM[xi][o][t*Np + n] = (A gy_tile A^T)[xi] for output channel o (gyt: (2*th, 2*tw, Np),
 * zero past the plane): the output transform's adjoint */
static CTG_AVX512 void ctw_output_tf_adj(const float *gyt, float *dM, int OC, int th, int tw,
                                         int Np, int o)
{
    const int W2 = 2 * tw;
    const ptrdiff_t TN = (ptrdiff_t)th * tw * Np, ms = (ptrdiff_t)OC * TN;
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++)
            for (int n0 = 0; n0 < Np; n0 += 16) {
                __m512 g[2][2], t[4][2];
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                        g[i][j] = _mm512_loadu_ps(
                            gyt + ((ptrdiff_t)(2 * ty + i) * W2 + 2 * tx + j) * Np + n0);
                for (int j = 0; j < 2; j++) { /* A g */
                    t[0][j] = g[0][j];
                    t[1][j] = _mm512_add_ps(g[0][j], g[1][j]);
                    t[2][j] = _mm512_sub_ps(g[0][j], g[1][j]);
                    t[3][j] = _mm512_sub_ps(_mm512_setzero_ps(), g[1][j]);
                }
                float *d = dM + (ptrdiff_t)o * TN + ((ptrdiff_t)ty * tw + tx) * Np + n0;
                for (int i = 0; i < 4; i++) { /* (A g) A^T */
                    _mm512_storeu_ps(d + (4 * i + 0) * ms, t[i][0]);
                    _mm512_storeu_ps(d + (4 * i + 1) * ms, _mm512_add_ps(t[i][0], t[i][1]));
                    _mm512_storeu_ps(d + (4 * i + 2) * ms, _mm512_sub_ps(t[i][0], t[i][1]));
                    _mm512_storeu_ps(d + (4 * i + 3) * ms, _mm512_sub_ps(_mm512_setzero_ps(),
                                                                         t[i][1]));
                }
            }
}

/* gw[o][c] = G^T dU[o][c] G (4x4 -> 3x3) for the C/G input channels c of output channel o
 * (dU: (16, G, OC/G, C/G)) */
static void ctw_weight_tf_adj(const float *dU, float *gw, int OC, int C, int G, int o)
{
    const int Cg = C / G, OCg = OC / G, gi = o / OCg, ol = o - gi * OCg;
    const ptrdiff_t us = (ptrdiff_t)OC * Cg; /* one xi */
    for (int c = 0; c < Cg; c++) {
        const float *u = dU + ((ptrdiff_t)gi * OCg + ol) * Cg + c;
        float t[3][4];
        for (int j = 0; j < 4; j++) { /* G^T u */
            const float u0 = u[(0 + j) * us], u1 = u[(4 + j) * us];
            const float u2 = u[(8 + j) * us], u3 = u[(12 + j) * us];
            t[0][j] = u0 + 0.5f * (u1 + u2);
            t[1][j] = 0.5f * (u1 - u2);
            t[2][j] = 0.5f * (u1 + u2) + u3;
        }
        float *g = gw + ((ptrdiff_t)o * Cg + c) * 9;
        for (int i = 0; i < 3; i++) { /* (G^T u) G */
            g[3 * i + 0] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
            g[3 * i + 1] = 0.5f * (t[i][1] - t[i][2]);
            g[3 * i + 2] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
        }
    }
}

/* floats of the work buffer ctw_conv3x3_f23_wgrad needs */
static ptrdiff_t ctw_wgrad_work_size(int N, int C, int H, int W, int OC)
{
    const ptrdiff_t Np = (N + 15) / 16 * 16, th = (H + 1) / 2, tw = (W + 1) / 2;
    const ptrdiff_t TN = th * tw * Np;
    return (ptrdiff_t)C * (2 * th + 2) * (2 * tw + 2) * Np + 16 * C * TN + OC * 4 * TN +
           16 * OC * TN + 16 * (ptrdiff_t)OC * C + 64;
}

/* gw (OC, C, 3, 3) of conv2d(x, w, padding 1) from gy (N, OC, H, W): the gradient of the
 * Winograd forward, dU[xi] = dM[xi] @ V[xi]^T (one sgemm over all tiles and images: K never
 * split over threads), gw = G^T dU G.  Returns 0, -1 when a buffer could not be allocated. */
static int ctw_conv3x3_f23_wgrad(const float *x, const float *gy, float *gw, int N, int C,
                                 int H, int W, int OC, int G, float *work, int nthreads)
{
    const int Np = (N + 15) / 16 * 16, th = (H + 1) / 2, tw = (W + 1) / 2;
    const int Hp = 2 * th + 2, Wp = 2 * tw + 2, T = th * tw;
    const ptrdiff_t TN = (ptrdiff_t)T * Np, xps = (ptrdiff_t)Hp * Wp * Np, gps = 4 * TN;
    float *xt = work, *V = xt + C * xps, *gyt = V + 16 * C * TN, *dM = gyt + OC * gps;
    float *dU = dM + 16 * (ptrdiff_t)OC * TN;
    if (nthreads < 1) nthreads = 1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
#pragma omp for schedule(static)
        for (int c = 0; c < C; c++) {
            memset(xt + c * xps, 0, sizeof(float) * xps);
            ctw_to_inner(x, xt + c * xps, N, C, H, W, Np, c, 1);
            ctw_input_tf(xt + c * xps, V, C, th, tw, Np, c);
        }
#pragma omp for schedule(static)
        for (int o = 0; o < OC; o++) {
            memset(gyt + o * gps, 0, sizeof(float) * gps);
            ctw_to_inner(gy, gyt + o * gps, N, OC, H, W, Np, o, 0);
            ctw_output_tf_adj(gyt + o * gps, dM, OC, th, tw, Np, o);
        }
    }
    const int Cg = C / G, OCg = OC / G;
    if (ct_sgemm(16 * G, OCg, Cg, (int)TN, dM, (ptrdiff_t)OCg * TN, TN, 1, V, (ptrdiff_t)Cg * TN,
                 1, TN, dU, (ptrdiff_t)OCg * Cg, Cg, 1, 0, 0, nthreads, 1) != 0)
        return -1;
#pragma omp parallel for num_threads(nthreads) if (nthreads > 1) schedule(static)
    for (int o = 0; o < OC; o++)
        ctw_weight_tf_adj(dU, gw, OC, C, G, o);
    return 0;
}

#endif /* CTG_X86 */

#endif
