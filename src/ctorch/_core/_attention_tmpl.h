/* Fused attention row kernels, instantiated per dtype by _attention_simd.h (after
 * _reduction_simd.h, whose row max, exp-and-sum, dot and softmax-backward blocks they use).
 *
 * Expects: T, SFX, LMS as the reduction template.  One call works one (batch, head) slice
 * serially, row by row, so its result does not depend on the thread count.
 * Query rows go 4 at a time through small register-tiled products (a 4 x one-vector tile of
 * accumulators over the contraction): every inner loop runs along a contiguous row, so it
 * vectorizes without reassociating any sum (the core builds with -ffp-contract=off), and
 * each element is one sequential chain of fused multiply-adds (CTA_FMA) over the contraction
 * index.  For float32 on an AVX-512 CPU, _attention_avx512.h runs the same chains in larger
 * register tiles (CTA_AVX512_F32): the same bits, about twice as fast.
 */
#define FN(name) CT_X(name, SFX)

/* the products' clones: FMA in every vector clone, so fmaf is one instruction there;
 * "default" calls libm's fmaf (same bits, slower).  The second clone is "fma" (AVX + FMA,
 * chosen by the CPU's FMA feature bit), not "arch=haswell": GCC picks an arch= clone only on
 * that exact CPU model, so every other AVX2 CPU (Zen 2/3, Skylake and later client parts)
 * fell through to "default" */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CT_NO_CLONES)
#define CTA_SIMD __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define CTA_SIMD
#endif

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
CTA_SIMD static void FN(cta_gemm4_nt)(const T *a, ct_i D, const T *bT, ct_i ldb, ct_i S, ct_i n,
                                      T *s)
{
#ifdef CTA_AVX512_F32
    if (cta_tiles()) {
        cta_gemm4_nt_avx512(a, D, bT, ldb, S, n, s);
        return;
    }
#endif
    ct_i j0 = 0;
    for (; j0 + CTA_W <= n; j0 += CTA_W) {
        T a0[CTA_W], a1[CTA_W], a2[CTA_W], a3[CTA_W];
        for (ct_i l = 0; l < CTA_W; ++l) a0[l] = a1[l] = a2[l] = a3[l] = 0;
        for (ct_i d = 0; d < D; ++d) {
            const T *br = bT + d * ldb + j0;
            T x0 = a[d], x1 = a[D + d], x2 = a[2 * D + d], x3 = a[3 * D + d];
            _Pragma("omp simd") for (ct_i l = 0; l < CTA_W; ++l) {
                T bv = br[l];
                a0[l] = CTA_FMA(x0, bv, a0[l]);
                a1[l] = CTA_FMA(x1, bv, a1[l]);
                a2[l] = CTA_FMA(x2, bv, a2[l]);
                a3[l] = CTA_FMA(x3, bv, a3[l]);
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
            for (ct_i d = 0; d < D; ++d) acc = CTA_FMA(a[r * D + d], bT[d * ldb + j], acc);
            s[r * S + j] = acc;
        }
}

/* c[r * DD + d] += sum_{j < n} p[r * S + j] * b[j * DD + d] for 4 rows r */
CTA_SIMD static void FN(cta_gemm4_nn)(const T *p, ct_i S, ct_i n, const T *b, ct_i DD, T *c)
{
#ifdef CTA_AVX512_F32
    if (cta_tiles()) {
        cta_gemm4_nn_avx512(p, S, n, b, DD, c);
        return;
    }
#endif
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
                a0[l] = CTA_FMA(x0, bv, a0[l]);
                a1[l] = CTA_FMA(x1, bv, a1[l]);
                a2[l] = CTA_FMA(x2, bv, a2[l]);
                a3[l] = CTA_FMA(x3, bv, a3[l]);
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
            for (ct_i j = 0; j < n; ++j) acc = CTA_FMA(p[r * S + j], b[j * DD + d], acc);
            c[r * DD + d] = acc;
        }
}

/* g[j * DD + d] += sum_r c[r * S + j] * x[r * DD + d] for j < n (rows r = 0..3 in order) */
CTA_SIMD static void FN(cta_rank4)(T *g, ct_i DD, const T *c, ct_i S, const T *x, ct_i n)
{
#ifdef CTA_AVX512_F32
    if (cta_tiles()) {
        cta_rank4_avx512(g, DD, c, S, x, n);
        return;
    }
#endif
    const T *x0 = x, *x1 = x + DD, *x2 = x + 2 * DD, *x3 = x + 3 * DD;
    for (ct_i j = 0; j < n; ++j) {
        T c0 = c[j], c1 = c[S + j], c2 = c[2 * S + j], c3 = c[3 * S + j];
        T *gr = g + j * DD;
        _Pragma("omp simd") for (ct_i d = 0; d < DD; ++d)
            gr[d] = CTA_FMA(c3, x3[d], CTA_FMA(c2, x2[d], CTA_FMA(c1, x1[d], CTA_FMA(c0, x0[d], gr[d]))));
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
    int slow = 1;
    T m = 0;
#ifdef CTA_AVX512_F32
    if (cta_tiles())
        m = cta_rowmax_avx512(s, nv, &slow);
#endif
    if (slow)
        m = FN(ct_rmax)(s, nv, 0);
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

/* Rows are worked CTA_BR at a time (groups of 4) and keys CTA_BC at a time, so a block of K
 * (or V) is reused by all the rows' groups while it is in L1 (FlashAttention's tiling). */
#define CTA_BR 32
#define CTA_BC 64

/* The 4-row groups of rows i0 .. i0 + nr - 1 of a (ld cols): pointers into a, the last group
 * read from pad (4 * cols, zero-padded) when nr is not a multiple of 4; returns the count. */
static int FN(cta_groups)(const T *a, ct_i nr, ct_i cols, T *pad, const T **g)
{
    int ng = (int)((nr + 3) / 4);
    for (int k = 0; k < ng; ++k) {
        ct_i r0 = (ct_i)k * 4;
        g[k] = nr - r0 >= 4 ? a + r0 * cols : FN(cta_rows4)(a + r0 * cols, nr - r0, cols, pad);
    }
    return ng;
}

/* Keys j < gn[g] matter to group g (its last row's visible count); beyond them its scores
 * are not computed and its probabilities are 0.  The tile of keys [j0, j0 + CTA_BC) for
 * group g: its length (<= 0: none). */
static inline ct_i FN(cta_tile)(const ct_i *gn, int g, ct_i j0)
{
    ct_i nb = gn[g] - j0;
    return nb < CTA_BC ? nb : CTA_BC;
}

/* s[g * 4 * S + j] for j < gn[g]: the block's scores (unscaled products), tiled over keys;
 * bT's rows are ldb apart */
static void FN(cta_block_nt)(const T **ag, int ng, const ct_i *gn, ct_i D, const T *bT,
                             ct_i ldb, ct_i S, T *s)
{
    for (ct_i j0 = 0; j0 < gn[ng - 1]; j0 += CTA_BC)
        for (int g = 0; g < ng; ++g) {
            ct_i nb = FN(cta_tile)(gn, g, j0);
            if (nb > 0)
                FN(cta_gemm4_nt)(ag[g], D, bT + j0, ldb, S, nb, s + (ct_i)g * 4 * S + j0);
        }
}

/* c rows (group g at cg[g], 4 x DD) += p (groups at p + g * 4 * S) @ b */
static void FN(cta_block_nn)(const T *p, ct_i S, int ng, const ct_i *gn, const T *b, ct_i DD,
                             T **cg)
{
    for (ct_i j0 = 0; j0 < gn[ng - 1]; j0 += CTA_BC)
        for (int g = 0; g < ng; ++g) {
            ct_i nb = FN(cta_tile)(gn, g, j0);
            if (nb > 0)
                FN(cta_gemm4_nn)(p + (ct_i)g * 4 * S + j0, S, nb, b + j0 * DD, DD, cg[g]);
        }
}

/* gm rows += c^T @ x over the block's groups, in group order for every key */
static void FN(cta_block_rank)(T *gm, ct_i DD, const T *c, ct_i S, const T **xg, int ng,
                               const ct_i *gn)
{
    for (ct_i j0 = 0; j0 < gn[ng - 1]; j0 += CTA_BC)
        for (int g = 0; g < ng; ++g) {
            ct_i nb = FN(cta_tile)(gn, g, j0);
            if (nb > 0)
                FN(cta_rank4)(gm + j0 * DD, DD, c + (ct_i)g * 4 * S + j0, S, xg[g], nb);
        }
}

/* gn[g] for the groups of rows i0 .. i0 + nr - 1 */
static void FN(cta_group_keys)(ct_i i0, ct_i nr, int ng, ct_i S, int causal, ct_i *gn)
{
    for (int g = 0; g < ng; ++g) {
        ct_i last = (ct_i)g * 4 + 3 < nr ? (ct_i)g * 4 + 3 : nr - 1;
        gn[g] = FN(cta_nvis)(i0 + last, S, causal);
    }
}

/* forward of one slice: o (L, DV), lse (L); kT's rows are ldt >= S apart.
 * s: scratch of CTA_BR * S; pad: 4 * max(D, DV); obuf: 4 * DV. */
static void FN(cta_forward)(const T *q, const T *kT, const T *v, const T *mask, ct_i ms0,
                            ct_i ms1, int causal, T scale, T *o, T *lse, ct_i L, ct_i S,
                            ct_i D, ct_i DV, T *s, T *pad, T *obuf, ct_i ldt)
{
    const T *qg[CTA_BR / 4];
    T *og[CTA_BR / 4];
    ct_i gn[CTA_BR / 4];
    for (ct_i i0 = 0; i0 < L; i0 += CTA_BR) {
        ct_i nr = L - i0 < CTA_BR ? L - i0 : CTA_BR;
        int ng = FN(cta_groups)(q + i0 * D, nr, D, pad, qg);
        FN(cta_group_keys)(i0, nr, ng, S, causal, gn);
        FN(cta_block_nt)(qg, ng, gn, D, kT, ldt, S, s);
        for (ct_i r = 0; r < (ct_i)ng * 4; ++r) {
            ct_i i = i0 + r, n = gn[r / 4];
            if (r < nr)
                lse[i] = FN(cta_row_softmax)(s + r * S, FN(cta_nvis)(i, S, causal), n, scale,
                                             mask ? mask + i * ms0 : NULL, ms1);
            else
                for (ct_i j = 0; j < n; ++j) s[r * S + j] = 0;
        }
        for (int g = 0; g < ng; ++g) {
            ct_i r0 = (ct_i)g * 4;
            og[g] = nr - r0 >= 4 ? o + (i0 + r0) * DV : obuf;
            for (ct_i i = 0; i < 4 * DV; ++i) og[g][i] = 0;
        }
        FN(cta_block_nn)(s, S, ng, gn, v, DV, og);
        if (nr % 4)
            for (ct_i i = 0; i < (nr % 4) * DV; ++i) o[(i0 + nr - nr % 4) * DV + i] = obuf[i];
    }
}

/* backward of one slice.  gq (L, D), gk (S, D), gv (S, DV) are overwritten; gmask (L, S),
 * when not NULL, gets the scores' gradient (before the scale).
 * p, dp: scratch of CTA_BR * S each; pad: 8 * max(D, DV); gqb: 4 * D; kT's and vT's rows
 * are ldt >= S apart. */
static void FN(cta_backward)(const T *q, const T *k, const T *kT, const T *vT, const T *mask,
                             ct_i ms0, ct_i ms1, int causal, T scale, const T *o,
                             const T *go, const T *lse, T *gq, T *gk, T *gv, T *gmask,
                             ct_i L, ct_i S, ct_i D, ct_i DV, T *p, T *dp, T *pad, T *gqb,
                             ct_i ldt)
{
    ct_i W = D > DV ? D : DV;
    const T *qg[CTA_BR / 4], *gog[CTA_BR / 4];
    T *gqg[CTA_BR / 4];
    ct_i gn[CTA_BR / 4];
    for (ct_i i = 0; i < L * D; ++i) gq[i] = 0;
    for (ct_i i = 0; i < S * D; ++i) gk[i] = 0;
    for (ct_i i = 0; i < S * DV; ++i) gv[i] = 0;
    if (gmask)
        for (ct_i i = 0; i < L * S; ++i) gmask[i] = 0;
    for (ct_i i0 = 0; i0 < L; i0 += CTA_BR) {
        ct_i nr = L - i0 < CTA_BR ? L - i0 : CTA_BR;
        int ng = FN(cta_groups)(q + i0 * D, nr, D, pad, qg);
        FN(cta_groups)(go + i0 * DV, nr, DV, pad + 4 * W, gog);
        FN(cta_group_keys)(i0, nr, ng, S, causal, gn);
        FN(cta_block_nt)(qg, ng, gn, D, kT, ldt, S, p);
        FN(cta_block_nt)(gog, ng, gn, DV, vT, ldt, S, dp);
        for (ct_i r = 0; r < (ct_i)ng * 4; ++r) {
            ct_i i = i0 + r, n = gn[r / 4], nv = r < nr ? FN(cta_nvis)(i, S, causal) : 0;
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
        for (int g = 0; g < ng; ++g) {
            ct_i r0 = (ct_i)g * 4;
            gqg[g] = nr - r0 >= 4 ? gq + (i0 + r0) * D : gqb;
        }
        if (nr % 4)
            for (ct_i i = 0; i < 4 * D; ++i) gqb[i] = 0;
        FN(cta_block_nn)(dp, S, ng, gn, k, D, gqg);
        if (nr % 4)
            for (ct_i i = 0; i < (nr % 4) * D; ++i) gq[(i0 + nr - nr % 4) * D + i] = gqb[i];
        FN(cta_block_rank)(gk, D, dp, S, qg, ng, gn);
        FN(cta_block_rank)(gv, DV, p, S, gog, ng, gn);
    }
}

#undef CTA_BR
#undef CTA_BC
#undef CTA_W
#undef CTA_SIMD
#undef FN
