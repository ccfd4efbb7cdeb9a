/* Fused float32 conv2d (groups == 1) on the sgemm kernel of _gemm_f32.h.
 *
 * The unfused path writes im2col columns for the whole batch (N*C*kh*kw*oh*ow floats, 9x
 * the input for a 3x3 kernel: 38 MB for the benchmark layer), reads them back in the GEMM,
 * and does the same with dcols before col2im.  Here each thread works one image at a time
 * with its own column buffer (C*kh*kw*oh*ow floats, ~1.2 MB: it stays in L2):
 *
 *   forward   cols = im2col(x[n]);  y[n] = W @ cols (+ bias)
 *   backward  cols = im2col(x[n]);  dW_part[chunk(n)] (+)= gy[n] @ cols^T
 *             cols = W^T @ gy[n];   gx[n] = col2im(cols)
 *
 * Determinism: y and gx of one image are computed the same way whichever thread takes the
 * image (and bitwise equal to the unfused sgemm path: same K blocking, same FMA chains).
 * dW sums the images in fixed chunks (up to CTC_CHUNKS, fewer for big weights; each a
 * sequential chain in image order) and then the chunk partials in chunk order; the chunking
 * depends on the shapes only, so dW is bitwise identical for any thread count.
 */
#ifndef CT_CONV_F32_H
#define CT_CONV_F32_H

#include "_gemm_f32.h"

#define CTC_CHUNKS 16
/* dW partials of all chunks together stay under this (fewer chunks for big weights: a
 * 512->512 3x3 weight is 9.4 MB, 16 partials would be 151 MB); at least 2 chunks. */
#define CTC_PARTS_BYTES ((size_t)32 << 20)

typedef struct {
    int N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
} ctc_geom;

static inline int ctc_is_1x1(const ctc_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* Output columns ox in [lo, hi) read input column ix0 + ox*sw inside [0, W). */
static inline void ctc_col_range(int ix0, int W, int sw, int ow, int *lo, int *hi)
{
    int b = W - 1 - ix0 >= 0 ? (W - 1 - ix0) / sw + 1 : 0;
    if (b > ow) b = ow;
    int a = ix0 < 0 ? (-ix0 + sw - 1) / sw : 0;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Row operations of im2col (copy one output row, zero outside [lo, hi)) and col2im (add one
 * output row back).  The scalar ones take any column stride; the AVX-512 ones (stride 1)
 * use masked loads, which never touch memory outside [lo, hi): one memset/memcpy/memset
 * triple per 32-wide row was most of im2col's time. */
#define CTC_ROW_OPS(SUF, T)                                                                 \
static inline void ctc_row_copy_##SUF(T *d, const T *s, int lo, int hi, int ow, int sw)     \
{                                                                                            \
    for (int ox = 0; ox < lo; ox++)                                                          \
        d[ox] = 0;                                                                           \
    if (sw == 1 && hi - lo >= 64)                                                            \
        memcpy(d + lo, s + lo, (size_t)(hi - lo) * sizeof(T));                               \
    else                                                                                     \
        for (int ox = lo; ox < hi; ox++)                                                     \
            d[ox] = s[(ptrdiff_t)ox * sw];                                                   \
    for (int ox = hi > lo ? hi : lo; ox < ow; ox++)                                          \
        d[ox] = 0;                                                                           \
}                                                                                            \
static inline void ctc_row_add_##SUF(T *t, const T *d, int lo, int hi, int sw)              \
{                                                                                            \
    for (int ox = lo; ox < hi; ox++)                                                         \
        t[(ptrdiff_t)ox * sw] += d[ox];                                                      \
}

CTC_ROW_OPS(f32, float)
CTC_ROW_OPS(f64, double)

/* The (c, ki, kj, oy) loops shared by every variant of each function below; ROW is the
 * row operation.  Rows of cols are in (c, ki, kj) order, as conv.pyx's layout; L is the
 * row stride of cols (oh*ow for one image's columns, N*oh*ow for the columns of a whole
 * batch side by side, with cols pointing at image n's first column). */
#define CTC_IM2COL(NAME, ATTR, T, ROW)                                                       \
static ATTR void NAME(const T *x, T *cols, const ctc_geom *g, ptrdiff_t L)                  \
{                                                                                            \
    const int ow = g->ow;                                                                    \
    for (int c = 0; c < g->C; c++) {                                                         \
        const T *xp = x + (ptrdiff_t)c * g->H * g->W;                                        \
        for (int ki = 0; ki < g->kh; ki++)                                                   \
            for (int kj = 0; kj < g->kw; kj++) {                                             \
                T *row = cols + ((ptrdiff_t)(c * g->kh + ki) * g->kw + kj) * L;              \
                const int ix0 = kj * g->dw - g->pw;                                          \
                int lo, hi;                                                                  \
                ctc_col_range(ix0, g->W, g->sw, ow, &lo, &hi);                               \
                for (int oy = 0; oy < g->oh; oy++) {                                         \
                    const int iy = oy * g->sh - g->ph + ki * g->dh;                          \
                    const int in = iy >= 0 && iy < g->H;                                     \
                    ROW(row + (ptrdiff_t)oy * ow, xp + (ptrdiff_t)(in ? iy : 0) * g->W + ix0, \
                        in ? lo : 0, in ? hi : 0, ow, g->sw);                                \
                }                                                                            \
            }                                                                                \
    }                                                                                        \
}

#define CTC_COL2IM(NAME, ATTR, T, ROW)                                                       \
static ATTR void NAME(const T *cols, T *x, const ctc_geom *g, ptrdiff_t L)                  \
{                                                                                            \
    const int ow = g->ow;                                                                    \
    memset(x, 0, (size_t)g->C * g->H * g->W * sizeof(T));                                   \
    for (int c = 0; c < g->C; c++) {                                                         \
        T *xp = x + (ptrdiff_t)c * g->H * g->W;                                              \
        for (int ki = 0; ki < g->kh; ki++)                                                   \
            for (int kj = 0; kj < g->kw; kj++) {                                             \
                const T *row = cols + ((ptrdiff_t)(c * g->kh + ki) * g->kw + kj) * L;        \
                const int ix0 = kj * g->dw - g->pw;                                          \
                int lo, hi;                                                                  \
                ctc_col_range(ix0, g->W, g->sw, ow, &lo, &hi);                               \
                if (hi <= lo)                                                                \
                    continue;                                                                \
                for (int oy = 0; oy < g->oh; oy++) {                                         \
                    const int iy = oy * g->sh - g->ph + ki * g->dh;                          \
                    if (iy >= 0 && iy < g->H)                                                \
                        ROW(xp + (ptrdiff_t)iy * g->W + ix0, row + (ptrdiff_t)oy * ow, lo,   \
                            hi, g->sw);                                                      \
                }                                                                            \
            }                                                                                \
    }                                                                                        \
}

CTC_IM2COL(ctc_im2col1_c, , float, ctc_row_copy_f32)
CTC_COL2IM(ctc_col2im1_c, , float, ctc_row_add_f32)
/* float64 (conv.pyx's double kernels): scalar only */
CTC_IM2COL(ctc_im2col1_f64, , double, ctc_row_copy_f64)
CTC_COL2IM(ctc_col2im1_f64, , double, ctc_row_add_f64)

#ifdef CTG_X86
static CTG_AVX512 inline void ctc_row_copy_avx512(float *d, const float *s, int lo, int hi,
                                                  int ow, int sw)
{
    (void)sw; /* 1 */
    for (int o = 0; o < ow; o += 16) {
        const int n = ow - o < 16 ? ow - o : 16;
        const __mmask16 m = (__mmask16)ct_lanes16(lo - o, hi - o < n ? hi - o : n);
        _mm512_mask_storeu_ps(d + o, (__mmask16)ct_lanes16(0, n), _mm512_maskz_loadu_ps(m, s + o));
    }
}

/* same rounding as ctc_row_add: one float add per element */
static CTG_AVX512 inline void ctc_row_add_avx512(float *t, const float *d, int lo, int hi,
                                                 int sw)
{
    (void)sw; /* 1 */
    int o = lo;
    for (; o + 16 <= hi; o += 16)
        _mm512_storeu_ps(t + o, _mm512_add_ps(_mm512_loadu_ps(t + o), _mm512_loadu_ps(d + o)));
    if (o < hi) {
        const __mmask16 m = (__mmask16)ct_lanes16(0, hi - o);
        _mm512_mask_storeu_ps(t + o, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, t + o),
                                                      _mm512_maskz_loadu_ps(m, d + o)));
    }
}

CTC_IM2COL(ctc_im2col1_avx512_rows, CTG_AVX512, float, ctc_row_copy_avx512)

/* Output rows of at most 64 columns (stride 1): the load/store masks of a (c, ki, kj) row
 * depend only on [lo, hi) and ow, so they are made once per row of cols instead of once per
 * output row (LeNet's 10-wide rows: the mask arithmetic was most of the time). */
static CTG_AVX512 void ctc_im2col1_avx512(const float *x, float *cols, const ctc_geom *g,
                                          ptrdiff_t L)
{
    const int ow = g->ow;
    if (ow > 64) {
        ctc_im2col1_avx512_rows(x, cols, g, L);
        return;
    }
    const int nch = (ow + 15) / 16;
    for (int c = 0; c < g->C; c++) {
        const float *xp = x + (ptrdiff_t)c * g->H * g->W;
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = cols + ((ptrdiff_t)(c * g->kh + ki) * g->kw + kj) * L;
                const int ix0 = kj * g->dw - g->pw;
                int lo, hi;
                ctc_col_range(ix0, g->W, 1, ow, &lo, &hi);
                __mmask16 lm[4], sm[4];
                for (int q = 0; q < nch; q++) {
                    const int o = 16 * q, n = ow - o < 16 ? ow - o : 16;
                    lm[q] = (__mmask16)ct_lanes16(lo - o, hi - o < n ? hi - o : n);
                    sm[q] = (__mmask16)ct_lanes16(0, n);
                }
                for (int oy = 0; oy < g->oh; oy++) {
                    const int iy = oy * g->sh - g->ph + ki * g->dh;
                    float *d = row + (ptrdiff_t)oy * ow;
                    if (iy < 0 || iy >= g->H) {
                        for (int q = 0; q < nch; q++)
                            _mm512_mask_storeu_ps(d + 16 * q, sm[q], _mm512_setzero_ps());
                        continue;
                    }
                    const float *src = xp + (ptrdiff_t)iy * g->W + ix0;
                    for (int q = 0; q < nch; q++)
                        _mm512_mask_storeu_ps(d + 16 * q, sm[q],
                                              _mm512_maskz_loadu_ps(lm[q], src + 16 * q));
                }
            }
    }
}
CTC_COL2IM(ctc_col2im1_avx512, CTG_AVX512, float, ctc_row_add_avx512)

/* col2im at horizontal stride 2, gathered per row of x instead of scattered per row of cols:
 * the even and odd columns of a row of x are two vectors of accumulators, each tap adds one
 * contiguous (masked) slice of its row of cols to one of them, then the two are interleaved
 * and stored once.  Each element gets its taps' terms in (ki, kj) order starting from zero,
 * as the scatter loop's memset-and-add, so the results are the same bits; no
 * read-modify-write of x (the scatter form's masked stores on alternate lanes stalled on the
 * next tap's loads: slower than scalar there). */
static CTG_AVX512 void ctc_col2im1_avx512_s2(const float *cols, float *x, const ctc_geom *g,
                                             ptrdiff_t L) /* sh == sw == 2 */
{
    const int ow = g->ow, W = g->W;
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                             7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    const int nm = (W + 1) / 2; /* even/odd column pairs */
    for (int c = 0; c < g->C; c++) {
        float *xp = x + (ptrdiff_t)c * g->H * W;
        const float *cc = cols + (ptrdiff_t)c * g->kh * g->kw * L;
        for (int iy = 0; iy < g->H; iy++) {
            float *xr = xp + (ptrdiff_t)iy * W;
            for (int m0 = 0; m0 < nm; m0 += 16) {
                __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
                for (int ki = 0; ki < g->kh; ki++) {
                    const int r = iy + g->ph - ki * g->dh;
                    if (r < 0 || (r & 1) || (r >> 1) >= g->oh) /* sh == 2 */
                        continue;
                    const int oy = r >> 1;
                    for (int kj = 0; kj < g->kw; kj++) {
                        const int e = kj * g->dw - g->pw; /* ix = 2*ox + e */
                        const int q = e & 1, sft = (e - q) / 2; /* ix = 2*(ox + sft) + q */
                        const float *d = cc + ((ptrdiff_t)ki * g->kw + kj) * L +
                                         (ptrdiff_t)oy * ow;
                        const __mmask16 mk = (__mmask16)ct_lanes16(sft - m0, ow + sft - m0);
                        if (!mk)
                            continue;
                        acc[q] = _mm512_add_ps(acc[q],
                                               _mm512_maskz_loadu_ps(mk, d + m0 - sft));
                    }
                }
                const int x0 = 2 * m0;
                _mm512_mask_storeu_ps(xr + x0, (__mmask16)ct_lanes16(0, W - x0),
                                      _mm512_permutex2var_ps(acc[0], lo_idx, acc[1]));
                _mm512_mask_storeu_ps(xr + x0 + 16, (__mmask16)ct_lanes16(0, W - x0 - 16),
                                      _mm512_permutex2var_ps(acc[0], hi_idx, acc[1]));
            }
        }
    }
}

/* Stride 2, output rows of at most 64 columns: each 16-lane chunk of a row is two masked
 * loads of the input row (only [2*lo, 2*hi - 1) read) and an even-lane permute; the masks
 * are made once per row of cols.  Same values as the scalar loop (a copy). */
static CTG_AVX512 void ctc_im2col1_avx512_s2(const float *x, float *cols, const ctc_geom *g,
                                             ptrdiff_t L)
{
    const int ow = g->ow;
    const int nch = (ow + 15) / 16;
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    for (int c = 0; c < g->C; c++) {
        const float *xp = x + (ptrdiff_t)c * g->H * g->W;
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
                float *row = cols + ((ptrdiff_t)(c * g->kh + ki) * g->kw + kj) * L;
                const int ix0 = kj * g->dw - g->pw;
                int lo, hi;
                ctc_col_range(ix0, g->W, 2, ow, &lo, &hi);
                __mmask16 la[4], lb[4], sm[4];
                for (int q = 0; q < nch; q++) {
                    const int o = 16 * q, n = ow - o < 16 ? ow - o : 16;
                    const int e0 = 2 * lo - 2 * o, e1 = hi > lo ? 2 * hi - 1 - 2 * o : e0;
                    la[q] = (__mmask16)ct_lanes16(e0, e1);
                    lb[q] = (__mmask16)ct_lanes16(e0 - 16, e1 - 16);
                    sm[q] = (__mmask16)ct_lanes16(0, n);
                }
                for (int oy = 0; oy < g->oh; oy++) {
                    const int iy = oy * g->sh - g->ph + ki * g->dh;
                    float *d = row + (ptrdiff_t)oy * ow;
                    if (iy < 0 || iy >= g->H) {
                        for (int q = 0; q < nch; q++)
                            _mm512_mask_storeu_ps(d + 16 * q, sm[q], _mm512_setzero_ps());
                        continue;
                    }
                    const float *src = xp + (ptrdiff_t)iy * g->W + ix0;
                    for (int q = 0; q < nch; q++) {
                        const float *s = src + 32 * q;
                        const __m512 a = _mm512_maskz_loadu_ps(la[q], s);
                        const __m512 b = _mm512_maskz_loadu_ps(lb[q], s + 16);
                        _mm512_mask_storeu_ps(d + 16 * q, sm[q],
                                              _mm512_permutex2var_ps(a, ev, b));
                    }
                }
            }
    }
}
#endif

#ifdef CTG_X86
/* im2col_wide for planes of at most 16 outputs (L = oh*ow): one 16-lane gather takes
 * 16 / L images' patches of one tap (the lane pattern, and which lanes read padding, is the
 * same for every image and channel), so a row of cols is written 16 floats at a time instead
 * of one tiny row per (image, channel) plane (128x4x4 -> 2x2 3x3: per-plane overhead was
 * most of the time).  Channel c's kh*kw rows of the N images (g: one plane's geometry);
 * the caller checks 16 * C*H*W < 2**31. */
static CTG_AVX512 void ctc_im2col_wide_small(const float *x, float *cols, const ctc_geom *g,
                                             int N, int C, int c)
{
    const int ow = g->ow, L = g->oh * ow, per = 16 / L, HW = g->H * g->W;
    const ptrdiff_t LD = (ptrdiff_t)N * L, CHW = (ptrdiff_t)C * HW;
    const float *xc = x + (ptrdiff_t)c * HW;
    for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++) {
            int idx[16];
            unsigned valid = 0;
            for (int j = 0; j < 16; j++) {
                idx[j] = 0;
                if (j >= per * L)
                    continue;
                const int n = j / L, l = j - n * L, oy = l / ow, ox = l - oy * ow;
                const int iy = oy * g->sh - g->ph + ki * g->dh;
                const int ix = ox * g->sw - g->pw + kj * g->dw;
                if (iy >= 0 && iy < g->H && ix >= 0 && ix < g->W) {
                    idx[j] = (int)(n * CHW + (ptrdiff_t)iy * g->W + ix);
                    valid |= 1u << j;
                }
            }
            const __m512i vi = _mm512_loadu_si512((const void *)idx);
            float *row = cols + ((ptrdiff_t)(c * g->kh + ki) * g->kw + kj) * LD;
            for (int n0 = 0; n0 < N; n0 += per) {
                const int lanes = (N - n0 < per ? N - n0 : per) * L;
                const __mmask16 st = (__mmask16)ct_lanes16(0, lanes);
                const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(),
                                                          (__mmask16)(valid & st), vi,
                                                          xc + n0 * CHW, 4);
                _mm512_mask_storeu_ps(row + (ptrdiff_t)n0 * L, st, v);
            }
        }
}
#endif

/* cols (C*kh*kw, oh*ow) (row stride ld) = patches of one image x (C, H, W); zero outside
 * the input. */
static void ctc_im2col1_ld(const float *x, float *cols, const ctc_geom *g, ptrdiff_t ld,
                           int simd)
{
#ifdef CTG_X86
    if (simd && g->sw == 1) {
        ctc_im2col1_avx512(x, cols, g, ld);
        return;
    }
    /* measured per plane set, 1 thread: 3x3 7->4 0.24 -> 0.20 ms, 7x7 28->14 0.39 -> 0.14,
     * 4x4 32->16 2.2 -> 1.3; outputs under 4 wide and 1x1 kernels were faster scalar */
    if (simd && g->sw == 2 && g->ow <= 64 && g->ow >= 4 && g->kh * g->kw > 1) {
        ctc_im2col1_avx512_s2(x, cols, g, ld);
        return;
    }
#endif
    (void)simd;
    ctc_im2col1_c(x, cols, g, ld);
}

/* x (C, H, W) = sum of the patches in cols (row stride ld; adjoint of ctc_im2col1_ld). */
static void ctc_col2im1_ld(const float *cols, float *x, const ctc_geom *g, ptrdiff_t ld,
                           int simd)
{
#ifdef CTG_X86
    /* rows shorter than a vector stay scalar: the masked stores then overlap the next tap's
     * masked loads (store forwarding fails); measured per plane set, 3x3 stride 1: 7x7 0.39
     * scalar vs 0.55 ms masked, 4x4 0.34 vs 0.62, 14x14 1.65 vs 2.0; from 16 wide the
     * masked rows win (16x16 0.29 vs 1.0, 28x28 1.6 vs 3.0).  Same adds, same bits. */
    if (simd && g->sw == 1 && g->ow >= 16) {
        ctc_col2im1_avx512(cols, x, g, ld);
        return;
    }
    /* stride 2 both ways, rows of x from 32 wide: per plane set, 4x4 kernels, 1 thread:
     * 32x32 5.8 -> 4.3 ms, 64x64 0.62 -> 0.33 ms; at 8 and 16 wide the vectors run mostly
     * empty and the scalar scatter is 2-3x faster */
    if (simd && g->sw == 2 && g->sh == 2 && g->W >= 32) {
        ctc_col2im1_avx512_s2(cols, x, g, ld);
        return;
    }
#endif
    (void)simd;
    ctc_col2im1_c(cols, x, g, ld);
}

static void ctc_im2col1(const float *x, float *cols, const ctc_geom *g, int simd)
{
    ctc_im2col1_ld(x, cols, g, (ptrdiff_t)g->oh * g->ow, simd);
}

static void ctc_col2im1(const float *cols, float *x, const ctc_geom *g, int simd)
{
    ctc_col2im1_ld(cols, x, g, (ptrdiff_t)g->oh * g->ow, simd);
}

static inline int ctc_threads(int nthreads, int items)
{
    if (nthreads < 1) nthreads = 1;
    return nthreads < items ? nthreads : (items > 0 ? items : 1);
}

/* y (N, OC, oh*ow) = conv2d(x, w) (+ bias).  Returns 0, or -1 when out of memory. */
static int ct_conv2d_fwd_f32(const float *x, const float *w, const float *bias, float *y,
                             const ctc_geom *g, int nthreads, int use_simd)
{
    const int K = g->C * g->kh * g->kw, L = g->oh * g->ow, OC = g->OC;
    const int one = ctc_is_1x1(g);
    if (g->N <= 0 || OC <= 0 || L <= 0)
        return 0;
    ctg_problem pa;
    ctg_setup(&pa, 1, OC, L, K, w, 0, K, 1, NULL, 0, L, 1, NULL, 0, L, 1, 0, 0, use_simd);
    const int ppb = ctg_block_panels(&pa);
    float *apk = (float *)ctg_alloc((size_t)pa.Mp * (K > 0 ? K : 1));
    if (!apk) return -1;
    if (K > 0)
        ctg_pack_a_all(&pa, w, apk);
    int err = 0;
    const int nt = ctc_threads(nthreads, g->N);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *cols = one ? NULL : (float *)ctg_alloc((size_t)K * L);
        float *bpk = (float *)ctg_alloc((size_t)pa.kc * ppb * CTG_NR);
        if (!bpk || (!one && !cols)) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp barrier
        if (!err) {
#pragma omp for schedule(static)
            for (int n = 0; n < g->N; n++) {
                const float *xn = x + (ptrdiff_t)n * g->C * g->H * g->W;
                float *yn = y + (ptrdiff_t)n * OC * L;
                ctg_problem q = pa;
                if (K == 0) {
                    memset(yn, 0, (size_t)OC * L * sizeof(float));
                } else {
                    if (!one)
                        ctc_im2col1(xn, cols, g, pa.simd);
                    q.B = one ? xn : cols;
                    q.C = yn;
                    ctg_run_serial(&q, apk, NULL, bpk, ppb);
                }
                if (bias)
                    for (int o = 0; o < OC; o++) {
                        float *r = yn + (ptrdiff_t)o * L;
                        const float bo = bias[o];
                        for (int l = 0; l < L; l++)
                            r[l] += bo;
                    }
            }
        }
        free(cols);
        free(bpk);
    }
    free(apk);
    return err ? -1 : 0;
}

/* gx (N, C, H, W) (when not NULL) and gw (OC, C*kh*kw) (when not NULL) from gy (N, OC, L).
 * Returns 0, or -1 when out of memory. */
static int ct_conv2d_bwd_f32(const float *gy, const float *x, const float *w, float *gx,
                             float *gw, const ctc_geom *g, int nthreads, int use_simd)
{
    const int K = g->C * g->kh * g->kw, L = g->oh * g->ow, OC = g->OC, N = g->N;
    const int one = ctc_is_1x1(g);
    const ptrdiff_t xsz = (ptrdiff_t)g->C * g->H * g->W, wsz = (ptrdiff_t)OC * K;
    if (N <= 0 || OC <= 0 || L <= 0 || K <= 0) {
        if (gx) memset(gx, 0, (size_t)(N > 0 ? N : 0) * xsz * sizeof(float));
        if (gw) memset(gw, 0, (size_t)wsz * sizeof(float));
        return 0;
    }
    /* chunking from the shapes only (never the thread count): bitwise-stable dW */
    size_t want = CTC_PARTS_BYTES / ((size_t)wsz * sizeof(float));
    if (want > CTC_CHUNKS) want = CTC_CHUNKS;
    if (want < 2) want = 2;
    const int per = (N + (int)want - 1) / (int)want; /* images per chunk */
    const int nch = (N + per - 1) / per;
    /* dW: (OC, L) @ (L, K) per image; A = gy[n] (packed per image), B = cols^T */
    ctg_problem pw_;
    ctg_setup(&pw_, 1, OC, K, L, NULL, 0, L, 1, NULL, 0, 1, L, NULL, 0, K, 1, 0, 0, use_simd);
    /* dcols: (K, OC) @ (OC, L); A = W^T (packed once) */
    ctg_problem pd;
    ctg_setup(&pd, 1, K, L, OC, w, 0, 1, K, NULL, 0, L, 1, NULL, 0, L, 1, 0, 0, use_simd);
    const int ppb_w = ctg_block_panels(&pw_), ppb_d = ctg_block_panels(&pd);
    size_t bneed = 0, aneed = 0;
    if (gw) {
        bneed = (size_t)pw_.kc * ppb_w * CTG_NR;
        aneed = (size_t)pw_.Mp * L;
    }
    if (gx && (size_t)pd.kc * ppb_d * CTG_NR > bneed)
        bneed = (size_t)pd.kc * ppb_d * CTG_NR;
    float *parts = gw ? (float *)ctg_alloc((size_t)nch * wsz) : NULL;
    float *apk_d = gx ? (float *)ctg_alloc((size_t)pd.Mp * OC) : NULL;
    if ((gw && !parts) || (gx && !apk_d)) {
        free(parts);
        free(apk_d);
        return -1;
    }
    if (gx)
        ctg_pack_a_all(&pd, w, apk_d);
    int err = 0;
    const int nt = ctc_threads(nthreads, nch);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int need_cols = !one;
        float *cols = need_cols ? (float *)ctg_alloc((size_t)K * L) : NULL;
        float *bpk = (float *)ctg_alloc(bneed);
        float *apk = aneed ? (float *)ctg_alloc(aneed) : NULL;
        if (!bpk || (need_cols && !cols) || (aneed && !apk)) {
#pragma omp atomic write
            err = 1;
        }
#pragma omp barrier
        if (!err) {
#pragma omp for schedule(static)
            for (int c = 0; c < nch; c++) {
                const int n0 = c * per, n1 = (n0 + per < N) ? n0 + per : N;
                for (int n = n0; n < n1; n++) {
                    const float *xn = x + (ptrdiff_t)n * xsz;
                    const float *gyn = gy + (ptrdiff_t)n * OC * L;
                    if (gw) {
                        ctg_problem q = pw_;
                        if (!one)
                            ctc_im2col1(xn, cols, g, pw_.simd);
                        q.A = gyn;
                        q.B = one ? xn : cols;
                        q.C = parts + (ptrdiff_t)c * wsz;
                        q.accumulate = n > n0;
                        ctg_run_serial(&q, NULL, apk, bpk, ppb_w);
                    }
                    if (gx) {
                        ctg_problem q = pd;
                        float *gxn = gx + (ptrdiff_t)n * xsz;
                        q.B = gyn;
                        q.C = one ? gxn : cols;
                        ctg_run_serial(&q, apk_d, NULL, bpk, ppb_d);
                        if (!one)
                            ctc_col2im1(cols, gxn, g, pd.simd);
                    }
                }
            }
        }
        free(cols);
        free(bpk);
        free(apk);
    }
    if (!err && gw) {
        memcpy(gw, parts, (size_t)wsz * sizeof(float));
        for (int c = 1; c < nch; c++) {
            const float *s = parts + (ptrdiff_t)c * wsz;
            for (ptrdiff_t i = 0; i < wsz; i++)
                gw[i] += s[i];
        }
    }
    free(parts);
    free(apk_d);
    return err ? -1 : 0;
}

#endif
