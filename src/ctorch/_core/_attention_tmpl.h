/* Fused attention row kernels, instantiated per dtype by _attention_simd.h (after
 * _reduction_simd.h, whose row max, exp-and-sum, dot and softmax-backward blocks they use).
 *
 * Expects: T, SFX, LMS as the reduction template.  One call works one (batch, head) slice
 * serially, row by row, so its result does not depend on the thread count.
 * Query rows go 4 at a time through small register-tiled products (a 4 x one-vector tile of
 * accumulators over the contraction): every inner loop runs along a contiguous row, so it
 * vectorizes without reassociating any sum (the core builds with -ffp-contract=off), and
 * each element is one sequential chain over the contraction index.
 */
#define FN(name) CT_X(name, SFX)

CT_SIMD static void FN(cta_scale_mask)(T *s, ct_i n, T scale, const T *mrow, ct_i ms1)
{
    if (!mrow) {
        _Pragma("omp simd") for (ct_i j = 0; j < n; ++j) s[j] = s[j] * scale;
    } else if (ms1 == 1) {
        _Pragma("omp simd") for (ct_i j = 0; j < n; ++j) s[j] = s[j] * scale + mrow[j];
    } else {
        for (ct_i j = 0; j < n; ++j) s[j] = s[j] * scale + mrow[j * ms1];
    }
}

CT_SIMD static void FN(cta_exp_shift)(T *s, ct_i n, T m)
{
    _Pragma("omp simd") for (ct_i j = 0; j < n; ++j) s[j] = FN(ct_exp)(s[j] - m);
}

#define CTA_W ((ct_i)(64 / sizeof(T))) /* one 64-byte vector of T */

/* s[r * S + j] = sum_d a[r * D + d] * bT[d * S + j] for 4 rows r and j < n: a 4 x W tile of
 * accumulators stays in registers over d (one load of bT per 4 products). */
CT_SIMD static void FN(cta_gemm4_nt)(const T *a, ct_i D, const T *bT, ct_i S, ct_i n, T *s)
{
    ct_i j0 = 0;
    for (; j0 + CTA_W <= n; j0 += CTA_W) {
        T a0[CTA_W], a1[CTA_W], a2[CTA_W], a3[CTA_W];
        for (ct_i l = 0; l < CTA_W; ++l) a0[l] = a1[l] = a2[l] = a3[l] = 0;
        for (ct_i d = 0; d < D; ++d) {
            const T *br = bT + d * S + j0;
            T x0 = a[d], x1 = a[D + d], x2 = a[2 * D + d], x3 = a[3 * D + d];
            _Pragma("omp simd") for (ct_i l = 0; l < CTA_W; ++l) {
                T bv = br[l];
                a0[l] = a0[l] + x0 * bv;
                a1[l] = a1[l] + x1 * bv;
                a2[l] = a2[l] + x2 * bv;
                a3[l] = a3[l] + x3 * bv;
            }
        }
        for (ct_i l = 0; l < CTA_W; ++l) {
            s[j0 + l] = a0[l];
            s[S + j0 + l] = a1[l];
            s[2 * S + j0 + l] = a2[l];
            s[3 * S + j0 + l] = a3[l];
        }
    }
    for (ct_i r = 0; r < 4; ++r)
        for (ct_i j = j0; j < n; ++j) {
            T acc = 0;
            for (ct_i d = 0; d < D; ++d) acc = acc + a[r * D + d] * bT[d * S + j];
            s[r * S + j] = acc;
        }
}

/* c[r * DD + d] += sum_{j < n} p[r * S + j] * b[j * DD + d] for 4 rows r */
CT_SIMD static void FN(cta_gemm4_nn)(const T *p, ct_i S, ct_i n, const T *b, ct_i DD, T *c)
{
    ct_i d0 = 0;
    for (; d0 + CTA_W <= DD; d0 += CTA_W) {
        T a0[CTA_W], a1[CTA_W], a2[CTA_W], a3[CTA_W];
        for (ct_i l = 0; l < CTA_W; ++l) {
            a0[l] = c[d0 + l];
            a1[l] = c[DD + d0 + l];
            a2[l] = c[2 * DD + d0 + l];
            a3[l] = c[3 * DD + d0 + l];
        }
        for (ct_i j = 0; j < n; ++j) {
            const T *br = b + j * DD + d0;
            T x0 = p[j], x1 = p[S + j], x2 = p[2 * S + j], x3 = p[3 * S + j];
            _Pragma("omp simd") for (ct_i l = 0; l < CTA_W; ++l) {
                T bv = br[l];
                a0[l] = a0[l] + x0 * bv;
                a1[l] = a1[l] + x1 * bv;
                a2[l] = a2[l] + x2 * bv;
                a3[l] = a3[l] + x3 * bv;
            }
        }
        for (ct_i l = 0; l < CTA_W; ++l) {
            c[d0 + l] = a0[l];
            c[DD + d0 + l] = a1[l];
            c[2 * DD + d0 + l] = a2[l];
            c[3 * DD + d0 + l] = a3[l];
        }
    }
    for (ct_i r = 0; r < 4; ++r)
        for (ct_i d = d0; d < DD; ++d) {
            T acc = c[r * DD + d];
            for (ct_i j = 0; j < n; ++j) acc = acc + p[r * S + j] * b[j * DD + d];
            c[r * DD + d] = acc;
        }
}

/* g[j * DD + d] += sum_r c[r * S + j] * x[r * DD + d] for j < n (rows r = 0..3 in order) */
CT_SIMD static void FN(cta_rank4)(T *g, ct_i DD, const T *c, ct_i S, const T *x, ct_i n)
{
    const T *x0 = x, *x1 = x + DD, *x2 = x + 2 * DD, *x3 = x + 3 * DD;
    for (ct_i j = 0; j < n; ++j) {
        T c0 = c[j], c1 = c[S + j], c2 = c[2 * S + j], c3 = c[3 * S + j];
        T *gr = g + j * DD;
        _Pragma("omp simd") for (ct_i d = 0; d < DD; ++d)
            gr[d] = (((gr[d] + c0 * x0[d]) + c1 * x1[d]) + c2 * x2[d]) + c3 * x3[d];
    }
}

/* The rows i0 .. i0 + nr - 1 (nr <= 4) of a slice as a block of 4: q, go (and o) rows past
 * nr are read from a zero-padded copy by the callers. */

/* one query row's probabilities in place: s[0:nv] scores -> p, zeros in [nv, n); returns
 * the row's log-sum-exp (-inf, with p all 0, when no key is visible) */
static T FN(cta_row_softmax)(T *s, ct_i nv, ct_i n, T scale, const T *mrow, ct_i ms1)
{
    for (ct_i j = nv; j < n; ++j) s[j] = 0;
    if (nv == 0) return -(T)INFINITY;
    FN(cta_scale_mask)(s, nv, scale, mrow, ms1);
    T m = FN(ct_rmax)(s, nv, 0);
    if (m == -(T)INFINITY) { /* nothing visible: a zero row (torch's _safe_softmax) */
        for (ct_i j = 0; j < nv; ++j) s[j] = 0;
        return m;
    }
    double tot = 0.0;
    for (ct_i b = 0; b < nv; b += CT_RBLK)
        tot += FN(ct_bexpstore)(s + b, s + b, nv - b < CT_RBLK ? nv - b : CT_RBLK, m);
    FN(ct_bmul)(s, nv, (T)(1.0 / tot));
    return (T)((double)m + log(tot));
}

static inline ct_i FN(cta_nvis)(ct_i i, ct_i S, int causal)
{
    return causal ? (i + 1 < S ? i + 1 : S) : S;
}

/* rows r < nr of a (ld cols) into a 4-row block, zeros past nr (pad has 4 * cols room) */
static const T *FN(cta_rows4)(const T *a, ct_i nr, ct_i cols, T *pad)
{
    if (nr == 4) return a;
    for (ct_i i = 0; i < 4 * cols; ++i) pad[i] = i < nr * cols ? a[i] : 0;
    return pad;
}

/* forward of one slice: o (L, DV), lse (L).  s: scratch of 4 * S; pad: 4 * max(D, DV) */
static void FN(cta_forward)(const T *q, const T *kT, const T *v, const T *mask, ct_i ms0,
                            ct_i ms1, int causal, T scale, T *o, T *lse, ct_i L, ct_i S,
                            ct_i D, ct_i DV, T *s, T *pad, T *obuf)
{
    for (ct_i i0 = 0; i0 < L; i0 += 4) {
        ct_i nr = L - i0 < 4 ? L - i0 : 4;
        ct_i n = FN(cta_nvis)(i0 + nr - 1, S, causal);
        FN(cta_gemm4_nt)(FN(cta_rows4)(q + i0 * D, nr, D, pad), D, kT, S, n, s);
        for (ct_i r = 0; r < 4; ++r) {
            ct_i i = i0 + r;
            if (r < nr)
                lse[i] = FN(cta_row_softmax)(s + r * S, FN(cta_nvis)(i, S, causal), n, scale,
                                             mask ? mask + i * ms0 : NULL, ms1);
            else
                for (ct_i j = 0; j < n; ++j) s[r * S + j] = 0;
        }
        T *ob = nr == 4 ? o + i0 * DV : obuf;
        for (ct_i i = 0; i < 4 * DV; ++i) ob[i] = 0;
        FN(cta_gemm4_nn)(s, S, n, v, DV, ob);
        if (nr < 4)
            for (ct_i i = 0; i < nr * DV; ++i) o[i0 * DV + i] = ob[i];
    }
}

/* backward of one slice.  gq (L, D), gk (S, D), gv (S, DV) are overwritten; gmask (L, S),
 * when not NULL, gets the scores' gradient (before the scale).
 * p, dp: scratch of 4 * S each; pad: 8 * max(D, DV); gqb: 4 * D. */
static void FN(cta_backward)(const T *q, const T *k, const T *kT, const T *vT, const T *mask,
                             ct_i ms0, ct_i ms1, int causal, T scale, const T *o,
                             const T *go, const T *lse, T *gq, T *gk, T *gv, T *gmask,
                             ct_i L, ct_i S, ct_i D, ct_i DV, T *p, T *dp, T *pad, T *gqb)
{
    ct_i W = D > DV ? D : DV;
    for (ct_i i = 0; i < L * D; ++i) gq[i] = 0;
    for (ct_i i = 0; i < S * D; ++i) gk[i] = 0;
    for (ct_i i = 0; i < S * DV; ++i) gv[i] = 0;
    if (gmask)
        for (ct_i i = 0; i < L * S; ++i) gmask[i] = 0;
    for (ct_i i0 = 0; i0 < L; i0 += 4) {
        ct_i nr = L - i0 < 4 ? L - i0 : 4;
        ct_i n = FN(cta_nvis)(i0 + nr - 1, S, causal);
        const T *qb = FN(cta_rows4)(q + i0 * D, nr, D, pad);
        const T *gob = FN(cta_rows4)(go + i0 * DV, nr, DV, pad + 4 * W);
        FN(cta_gemm4_nt)(qb, D, kT, S, n, p);
        FN(cta_gemm4_nt)(gob, DV, vT, S, n, dp);
        for (ct_i r = 0; r < 4; ++r) {
            ct_i i = i0 + r, nv = r < nr ? FN(cta_nvis)(i, S, causal) : 0;
            T *pr = p + r * S, *dr = dp + r * S;
            T li = r < nr ? lse[i] : -(T)INFINITY;
            if (nv == 0 || li == -(T)INFINITY) {
                for (ct_i j = 0; j < n; ++j) pr[j] = dr[j] = 0;
                continue;
            }
            for (ct_i j = nv; j < n; ++j) pr[j] = 0;
            FN(cta_scale_mask)(pr, nv, scale, mask ? mask + i * ms0 : NULL, ms1);
            FN(cta_exp_shift)(pr, nv, li);
            T di = (T)FN(ct_rdot)(go + i * DV, o + i * DV, DV);
            FN(ct_bsoftmax_bwd)(dr, pr, dr, n, di); /* dp <- ds = p * (dp - di) */
            if (gmask)
                for (ct_i j = 0; j < nv; ++j) gmask[i * S + j] = dr[j];
            FN(ct_bmul)(dr, n, scale);
        }
        T *gb = nr == 4 ? gq + i0 * D : gqb;
        if (nr < 4)
            for (ct_i i = 0; i < 4 * D; ++i) gb[i] = 0;
        FN(cta_gemm4_nn)(dp, S, n, k, D, gb);
        if (nr < 4)
            for (ct_i i = 0; i < nr * D; ++i) gq[i0 * D + i] = gb[i];
        FN(cta_rank4)(gk, D, dp, S, qb, n);
        FN(cta_rank4)(gv, DV, p, S, gob, n);
    }
}

#undef CTA_W
#undef FN
