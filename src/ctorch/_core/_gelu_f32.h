/* float32 GELU and its gradient over arrays: piecewise polynomials, no exp on the common path.
 *
 * gelu(x) = x Phi(x), gelu'(x) = Phi(x) + x phi(x).  With u = |x| and Q(u) = Phi(-u):
 *    x < 0:  gelu = x Q,        gelu' = Q - u phi
 *    x >= 0: gelu = x - x Q,    gelu' = 1 - (Q - u phi)
 * Q and phi come from degree-6 polynomials in s = u - center[j] on 32 intervals of [0, 5.875)
 * (tools/gen_gelu_tables.py writes _gelu_tables.h; relative fit error below 4e-9, i.e. under
 * 0.1 ulp).  The constant term is a float hi + lo pair, so for x < 0 the result is
 * fma(x, c0h, x * t) with t = c0l + s P(s): its error is the last rounding plus a fraction of
 * an ulp.  For x >= 0 the error of Q is damped by Q / (1 - Q) <= 1.
 *
 * Outside that range: x >= 5.875 gives x (Q < 2^-28 there, so x (1 - Q) rounds to x) and a
 * gradient of 1 (off by u phi(u) < 8e-8 absolute); x <= -5.875, -inf and NaN lanes take
 * ct_gelu_f32 / ct_gelu_grad_f32 (_ct_math.h: the erfc scheme with its exponential), which
 * real activations reach rarely.  Measured on a dense grid of [-14, 10] against a float64
 * reference: the same <= 2.5 ulp bound as the erfc scheme (tests/core/
 * test_elementwise_kernels.py; here <= 1.4 ulp where the tables apply, mean 0.25), at about
 * 3x its speed forward and 2x backward (768x512 floats, one thread, AVX-512 Xeon).
 *
 * AVX-512F only: the table lookup is one two-register permute (vpermt2ps) per coefficient.
 * Without AVX-512 a lookup is a gather, and a portable loop of this scheme stayed scalar
 * (GCC's generic tuning emits no gathers): 10x slower than the erfc scheme's vector loop.  So
 * without AVX-512 the op table's loop runs the erfc scheme.  Either way the bits depend on the CPU
 * alone, not on the chunking or the thread count (masked tail vectors take the same steps;
 * the erfc scheme's scalar calls give its vector loop's bits).  elementwise._set_gelu_avx512
 * turns the tables off so the tests check both schemes on one machine. */
#ifndef CT_GELU_F32_H
#define CT_GELU_F32_H

#include "_ct_common.h"
#include "_ct_math.h"
#include "_gelu_tables.h"

/* the erfc scheme (_ct_math.h) for the lanes the tables do not cover (x <= -CUT, -inf, NaN),
 * one at a time; it gives the bits its vector loop gives */
__attribute__((noinline)) static float ctge_slow_fwd(float x) { return ct_gelu_f32(x); }
__attribute__((noinline)) static float ctge_slow_grad(float x) { return ct_gelu_grad_f32(x); }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CTGE_TGT __attribute__((target("avx512f")))

/* the tables as two registers each, in one struct so GCC keeps what fits in zmm registers */
typedef struct { __m512 lo, hi; } ctge_tab;

CTGE_TGT static inline ctge_tab ctge_load(const float *t)
{
    ctge_tab r = {_mm512_load_ps(t), _mm512_load_ps(t + 16)};
    return r;
}

/* r with the lanes in `slow` replaced by f(x) (the erfc scheme), before anything is stored:
 * out may alias the input */
CTGE_TGT static __m512 ctge_fix(unsigned slow, __m512 x, __m512 r, float (*f)(float))
{
    float xv[16], rv[16];
    _mm512_storeu_ps(xv, x);
    _mm512_storeu_ps(rv, r);
    for (; slow; slow &= slow - 1) {
        int k = __builtin_ctz(slow);
        rv[k] = f(xv[k]);
    }
    return _mm512_loadu_ps(rv);
}

#define CTGE_LK(tab, j) _mm512_permutex2var_ps((tab).lo, (j), (tab).hi)

CTGE_TGT static inline __m512i ctge_index16(__m512 u)
{
    __mmask16 low = _mm512_cmp_ps_mask(u, _mm512_set1_ps(3.875f), _CMP_LT_OQ);
    /* 4u + 1/2 for u < 3.875 (intervals centred on j/4), else 8u - 15: u * 4 and u * 8 are
     * exact, so one fma each */
    __m512 a = _mm512_fmadd_ps(u, _mm512_set1_ps(4.0f), _mm512_set1_ps(0.5f));
    __m512 b = _mm512_fmsub_ps(u, _mm512_set1_ps(8.0f), _mm512_set1_ps(15.0f));
    __m512 sel = _mm512_mask_blend_ps(low, b, a);
    return _mm512_cvttps_epi32(_mm512_min_ps(sel, _mm512_set1_ps(31.0f)));
}

#define CTGE_POLY16(T, j, s)                                                                  \
    _mm512_fmadd_ps(                                                                          \
        _mm512_fmadd_ps(                                                                      \
            _mm512_fmadd_ps(                                                                  \
                _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_fmadd_ps(CTGE_LK(T[6], j), s,          \
                                                                CTGE_LK(T[5], j)),            \
                                                s, CTGE_LK(T[4], j)),                         \
                                s, CTGE_LK(T[3], j)),                                         \
                s, CTGE_LK(T[2], j)),                                                         \
            s, CTGE_LK(T[1], j)),                                                             \
        s, CTGE_LK(T[7], j))

/* T[0] = c0h, T[1..6] = c1..c6, T[7] = c0l */
#define CTGE_TABLES(T, nm)                                                                    \
    ctge_tab T[8] = {ctge_load(ctge_##nm##0h), ctge_load(ctge_##nm##1),                      \
                     ctge_load(ctge_##nm##2),  ctge_load(ctge_##nm##3),                      \
                     ctge_load(ctge_##nm##4),  ctge_load(ctge_##nm##5),                      \
                     ctge_load(ctge_##nm##6),  ctge_load(ctge_##nm##0l)}

CTGE_TGT static void ctge_fwd_avx512(const float *xs, float *out, ct_i n)
{
    CTGE_TABLES(Tq, q);
    ctge_tab tc = ctge_load(ctge_center);
    const __m512i absm = _mm512_set1_epi32(0x7FFFFFFF), sgn = _mm512_set1_epi32((int)0x80000000);
    for (ct_i i = 0; i < n; i += 16) {
        __mmask16 m = (__mmask16)ct_lanes16(0, (int)(n - i < 16 ? n - i : 16));
        __m512 x = _mm512_maskz_loadu_ps(m, xs + i);
        __m512i xi = _mm512_castps_si512(x);
        __m512 u = _mm512_castsi512_ps(_mm512_and_si512(xi, absm));
        __m512i j = ctge_index16(u);
        __m512 s = _mm512_sub_ps(u, CTGE_LK(tc, j));
        __m512 t = CTGE_POLY16(Tq, j, s);
        __m512 c0 = CTGE_LK(Tq[0], j);
        __m512 rn = _mm512_fmadd_ps(x, c0, _mm512_mul_ps(x, t));
        __m512 rp = _mm512_fnmadd_ps(x, _mm512_add_ps(c0, t), x);
        __m512 r = _mm512_mask_blend_ps(_mm512_test_epi32_mask(xi, sgn), rp, rn);
        r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(CTGE_CUT), _CMP_GE_OQ), r, x);
        unsigned slow = m & _mm512_cmp_ps_mask(x, _mm512_set1_ps(-CTGE_CUT), _CMP_NGT_UQ);
        if (slow) r = ctge_fix(slow, x, r, ctge_slow_fwd);
        _mm512_mask_storeu_ps(out + i, m, r);
    }
}

CTGE_TGT static void ctge_bwd_avx512(const float *gy, const float *xs, float *gx, ct_i n)
{
    CTGE_TABLES(Tq, q);
    CTGE_TABLES(Tp, p);
    ctge_tab tc = ctge_load(ctge_center);
    const __m512i absm = _mm512_set1_epi32(0x7FFFFFFF), sgn = _mm512_set1_epi32((int)0x80000000);
    for (ct_i i = 0; i < n; i += 16) {
        __mmask16 m = (__mmask16)ct_lanes16(0, (int)(n - i < 16 ? n - i : 16));
        __m512 x = _mm512_maskz_loadu_ps(m, xs + i);
        __m512i xi = _mm512_castps_si512(x);
        __m512 u = _mm512_castsi512_ps(_mm512_and_si512(xi, absm));
        __m512i j = ctge_index16(u);
        __m512 s = _mm512_sub_ps(u, CTGE_LK(tc, j));
        __m512 q = _mm512_add_ps(CTGE_LK(Tq[0], j), CTGE_POLY16(Tq, j, s));
        __m512 p = _mm512_add_ps(CTGE_LK(Tp[0], j), CTGE_POLY16(Tp, j, s));
        __m512 d = _mm512_fnmadd_ps(u, p, q);
        __m512 r = _mm512_mask_blend_ps(_mm512_test_epi32_mask(xi, sgn),
                                        _mm512_sub_ps(_mm512_set1_ps(1.0f), d), d);
        __mmask16 big = _mm512_cmp_ps_mask(x, _mm512_set1_ps(CTGE_CUT), _CMP_GE_OQ);
        r = _mm512_mask_blend_ps(big, r, _mm512_set1_ps(1.0f));
        unsigned slow = m & _mm512_cmp_ps_mask(x, _mm512_set1_ps(-CTGE_CUT), _CMP_NGT_UQ);
        if (slow) r = ctge_fix(slow, x, r, ctge_slow_grad);
        _mm512_mask_storeu_ps(gx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, gy + i), r));
    }
}
#define CTGE_HAVE_AVX512 1
#endif

/* whether the AVX-512 loops run: the CPU's AVX-512F, unless a test turned them off */
static int ctge_avx512_on = -1;

static inline int ctge_avx512(void)
{
    if (ctge_avx512_on < 0) ctge_avx512_on = ct_have_avx512();
    return ctge_avx512_on;
}

static inline void ctge_set_avx512(int on) { ctge_avx512_on = on && ct_have_avx512(); }

/* the float32 GELU forward / backward over an array when this CPU takes the AVX-512 loops;
 * 0 when not (the caller then runs the op table's loop: the erfc scheme everywhere) */
static inline int ct_gelu_fwd_f32(const float *xs, float *out, ct_i n)
{
#ifdef CTGE_HAVE_AVX512
    if (ctge_avx512()) {
        ctge_fwd_avx512(xs, out, n);
        return 1;
    }
#endif
    (void)xs, (void)out, (void)n;
    return 0;
}

static inline int ct_gelu_bwd_f32(const float *gy, const float *xs, float *gx, ct_i n)
{
#ifdef CTGE_HAVE_AVX512
    if (ctge_avx512()) {
        ctge_bwd_avx512(gy, xs, gx, n);
        return 1;
    }
#endif
    (void)gy, (void)xs, (void)gx, (void)n;
    return 0;
}

#endif
