/* Reduction SIMD building blocks, instantiated once per dtype by _reduction_simd.h.
 *
 * Expects: T (float|double), SFX (_f32|_f64), LMS (f|<empty>).
 *
 * Determinism: every sum is taken over CT_LANES explicit lanes (lane l takes elements
 * i = l mod CT_LANES), lanes are combined in one fixed order, and long ranges are cut into
 * CT_RBLK-element blocks whose partials the callers add in block order.  The result thus
 * depends only on the shape, never on the thread count or the SIMD width of the clone.
 * Accumulation is in double for both dtypes (float32 column sums: each block of 8 rows in
 * float first, see ct_colsum).
 */
#define FN(name) CT_X(name, SFX)
#define LM(name) CT_X(name, LMS)
#define C(v) ((T)(v))

/* lanes -> one double, fixed pairwise order */
CT_INLINE double FN(ct_lanes_sum)(double *acc)
{
    for (int w = CT_LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

/* Software prefetch CT_PFBYTES ahead of the streaming loops, one per 64-byte line: with the
 * float -> double conversion in the loop the hardware prefetcher alone left a 16M-element
 * sum at ~60% of the bandwidth a plain float loop reaches (measured 8 ms -> 4 ms here).
 * Prefetching past the end of an array is harmless (no fault), and it warms the next block. */
#define CT_PFBYTES 8192
#define CT_PREFETCH(p, i)                                                                \
    do {                                                                                 \
        __builtin_prefetch((const char *)((p) + (i)) + CT_PFBYTES);                      \
        if (sizeof(T) * CT_LANES > 64)                                                   \
            __builtin_prefetch((const char *)((p) + (i)) + CT_PFBYTES + 64);             \
    } while (0)

/* ---- sums over one block (n <= CT_RBLK, any n works) ------------------------------------ */
#define CT_LANE_SUM(TERM, PF)                                               \
    double acc[CT_LANES];                                                   \
    for (int l = 0; l < CT_LANES; ++l) acc[l] = 0.0;                        \
    ct_i i0 = 0;                                                            \
    for (; i0 + CT_LANES <= n; i0 += CT_LANES) {                            \
        PF;                                                                 \
        _Pragma("omp simd")                                                 \
        for (int l = 0; l < CT_LANES; ++l) { ct_i i = i0 + l; acc[l] += (TERM); } \
    }                                                                       \
    for (int l = 0; l < n - i0; ++l) { ct_i i = i0 + l; acc[l] += (TERM); } \
    return FN(ct_lanes_sum)(acc);

CT_SIMD static double FN(ct_bsum)(const T *x, ct_i n)
{
    CT_LANE_SUM((double)x[i], CT_PREFETCH(x, i0))
}

/* ct_bsum of 4 rows at once (rows of n <= CT_RBLK elements, `stride` apart): each row's
 * lanes and combining order are ct_bsum's, so each result has its bits; the four independent
 * accumulator chains hide the add latency that bounds one short row (x.sum(-1) of a
 * (1024, 64) array: a 16-lane tree and 4 dependent adds a row). */
CT_SIMD static void FN(ct_bsum4)(const T *x, ct_i stride, ct_i n, double *out)
{
    double a0[CT_LANES], a1[CT_LANES], a2[CT_LANES], a3[CT_LANES];
    for (int l = 0; l < CT_LANES; ++l) a0[l] = a1[l] = a2[l] = a3[l] = 0.0;
    const T *x0 = x, *x1 = x + stride, *x2 = x + 2 * stride, *x3 = x + 3 * stride;
    ct_i i0 = 0;
    for (; i0 + CT_LANES <= n; i0 += CT_LANES) {
        CT_PREFETCH(x0, i0);
        CT_PREFETCH(x1, i0);
        CT_PREFETCH(x2, i0);
        CT_PREFETCH(x3, i0);
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            a0[l] += (double)x0[i0 + l];
            a1[l] += (double)x1[i0 + l];
            a2[l] += (double)x2[i0 + l];
            a3[l] += (double)x3[i0 + l];
        }
    }
    for (int l = 0; l < n - i0; ++l) {
        a0[l] += (double)x0[i0 + l];
        a1[l] += (double)x1[i0 + l];
        a2[l] += (double)x2[i0 + l];
        a3[l] += (double)x3[i0 + l];
    }
    out[0] = FN(ct_lanes_sum)(a0);
    out[1] = FN(ct_lanes_sum)(a1);
    out[2] = FN(ct_lanes_sum)(a2);
    out[3] = FN(ct_lanes_sum)(a3);
}

CT_SIMD static double FN(ct_bdot)(const T *x, const T *y, ct_i n)
{
    CT_LANE_SUM((double)x[i] * (double)y[i], CT_PREFETCH(x, i0); CT_PREFETCH(y, i0))
}

/* sum of squared deviations from mean */
CT_SIMD static double FN(ct_bsqdev)(const T *x, ct_i n, double mean)
{
    CT_LANE_SUM(((double)x[i] - mean) * ((double)x[i] - mean), CT_PREFETCH(x, i0))
}

/* sum exp(x - m), grouped like ct_bexpstore below */
CT_SIMD static double FN(ct_bexpsum)(const T *x, ct_i n, T m)
{
    double acc[CT_LANES];
    for (int l = 0; l < CT_LANES; ++l) acc[l] = 0.0;
    ct_i i0 = 0;
    for (; i0 + 4 * CT_LANES <= n; i0 += 4 * CT_LANES) {
        CT_PREFETCH(x, i0);
        CT_PREFETCH(x, i0 + CT_LANES);
        CT_PREFETCH(x, i0 + 2 * CT_LANES);
        CT_PREFETCH(x, i0 + 3 * CT_LANES);
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            T e0 = FN(ct_exp)(x[i0 + l] - m);
            T e1 = FN(ct_exp)(x[i0 + CT_LANES + l] - m);
            T e2 = FN(ct_exp)(x[i0 + 2 * CT_LANES + l] - m);
            T e3 = FN(ct_exp)(x[i0 + 3 * CT_LANES + l] - m);
            acc[l] += (double)((e0 + e1) + (e2 + e3));
        }
    }
    for (; i0 + CT_LANES <= n; i0 += CT_LANES) {
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) acc[l] += (double)FN(ct_exp)(x[i0 + l] - m);
    }
    if (i0 < n) { /* the last < 16 terms as one masked vector step (see ct_bexpstore) */
        const int rem = (int)(n - i0);
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            T e = FN(ct_exp)((l < rem ? x[i0 + l] : m) - m);
            acc[l] += (double)(l < rem ? e : (T)0);
        }
    }
    return FN(ct_lanes_sum)(acc);
}

/* out = exp(x - m); returns the sum of out.  Each lane first adds four consecutive terms in
 * T (all in [0, 1], so at most 3 roundings of 2^-24 relative each for float), then the
 * partial to its double accumulator: a quarter of the conversions and double additions of a
 * per-term double sum, which made this softmax pass ~15% slower than torch's. */
CT_SIMD static double FN(ct_bexpstore)(const T *x, T *out, ct_i n, T m)
{
    double acc[CT_LANES];
    for (int l = 0; l < CT_LANES; ++l) acc[l] = 0.0;
    ct_i i0 = 0;
    for (; i0 + 4 * CT_LANES <= n; i0 += 4 * CT_LANES) {
        CT_PREFETCH(x, i0);
        CT_PREFETCH(x, i0 + CT_LANES);
        CT_PREFETCH(x, i0 + 2 * CT_LANES);
        CT_PREFETCH(x, i0 + 3 * CT_LANES);
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            T e0 = FN(ct_exp)(x[i0 + l] - m);
            T e1 = FN(ct_exp)(x[i0 + CT_LANES + l] - m);
            T e2 = FN(ct_exp)(x[i0 + 2 * CT_LANES + l] - m);
            T e3 = FN(ct_exp)(x[i0 + 3 * CT_LANES + l] - m);
            out[i0 + l] = e0;
            out[i0 + CT_LANES + l] = e1;
            out[i0 + 2 * CT_LANES + l] = e2;
            out[i0 + 3 * CT_LANES + l] = e3;
            acc[l] += (double)((e0 + e1) + (e2 + e3));
        }
    }
    for (; i0 + CT_LANES <= n; i0 += CT_LANES) {
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            T e = FN(ct_exp)(x[i0 + l] - m);
            out[i0 + l] = e;
            acc[l] += (double)e;
        }
    }
    if (i0 < n) { /* the last < 16 terms: one masked vector step (was a scalar loop: the
                   * short causal rows of attention spent most of their exps there) */
        const int rem = (int)(n - i0);
        _Pragma("omp simd")
        for (int l = 0; l < CT_LANES; ++l) {
            T e = FN(ct_exp)((l < rem ? x[i0 + l] : m) - m);
            e = l < rem ? e : (T)0; /* lanes past the row add an exact +0 */
            if (l < rem) out[i0 + l] = e;
            acc[l] += (double)e;
        }
    }
    return FN(ct_lanes_sum)(acc);
}
#undef CT_LANE_SUM

/* ---- extremes: NaN propagates, first index wins ------------------------------------------ */
#define CT_LANE_EXT(BETTER)                                                 \
    T acc[CT_LANES];                                                        \
    for (int l = 0; l < CT_LANES; ++l) acc[l] = x[0];                       \
    ct_i i0 = 0;                                                            \
    for (; i0 + CT_LANES <= n; i0 += CT_LANES) {                            \
        CT_PREFETCH(x, i0);                                                 \
        _Pragma("omp simd")                                                 \
        for (int l = 0; l < CT_LANES; ++l) {                                \
            T v = x[i0 + l], a = acc[l];                                    \
            acc[l] = ((BETTER) | (v != v)) ? v : a;                         \
        }                                                                   \
    }                                                                       \
    T r = acc[0];                                                           \
    for (int l = 1; l < CT_LANES; ++l) {                                    \
        T v = acc[l], a = r;                                                \
        r = ((BETTER) | (v != v)) & (a == a) ? v : a;                       \
    }                                                                       \
    for (ct_i i = i0; i < n; ++i) {                                         \
        T v = x[i], a = r;                                                  \
        r = ((BETTER) | (v != v)) & (a == a) ? v : a;                       \
    }                                                                       \
    return r;

/* n >= 1 */
CT_SIMD static T FN(ct_bmax)(const T *x, ct_i n) { CT_LANE_EXT(v > a) }
CT_SIMD static T FN(ct_bmin)(const T *x, ct_i n) { CT_LANE_EXT(v < a) }
#undef CT_LANE_EXT

/* first index i with x[i] == v (x[i] is NaN if v is NaN); -1 if none */
static inline ct_i FN(ct_find)(const T *x, ct_i n, T v)
{
    if (v != v) {
        for (ct_i i = 0; i < n; ++i)
            if (x[i] != x[i]) return i;
    } else {
        for (ct_i i = 0; i < n; ++i)
            if (x[i] == v) return i;
    }
    return -1;
}

/* ---- elementwise writes with a per-row constant ------------------------------------------ */
CT_SIMD static void FN(ct_bmul)(T *out, ct_i n, T s)
{
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) out[i] = out[i] * s;
}

CT_SIMD static void FN(ct_bsub)(const T *x, T *out, ct_i n, T s)
{
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) out[i] = x[i] - s;
}

/* gx = y * (gy - d) */
CT_SIMD static void FN(ct_bsoftmax_bwd)(const T *gy, const T *y, T *gx, ct_i n, T d)
{
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) gx[i] = y[i] * (gy[i] - d);
}

/* gx = gy - exp(y) * s */
CT_SIMD static void FN(ct_blogsoftmax_bwd)(const T *gy, const T *y, T *gx, ct_i n, T s)
{
    _Pragma("omp simd") for (ct_i i = 0; i < n; ++i) gx[i] = gy[i] - FN(ct_exp)(y[i]) * s;
}

/* ---- whole ranges cut into CT_RBLK blocks, partials added in block order ----------------- */
static double FN(ct_rsum)(const T *x, ct_i n)
{
    double s = 0.0;
    for (ct_i b = 0; b < n; b += CT_RBLK) s += FN(ct_bsum)(x + b, n - b < CT_RBLK ? n - b : CT_RBLK);
    return s;
}

static T FN(ct_rmax)(const T *x, ct_i n, int is_min)
{
    T r = x[0];
    for (ct_i b = 0; b < n; b += CT_RBLK) {
        ct_i len = n - b < CT_RBLK ? n - b : CT_RBLK;
        T v = is_min ? FN(ct_bmin)(x + b, len) : FN(ct_bmax)(x + b, len), a = r;
        if (a != a) break;
        r = (v != v || (is_min ? v < a : v > a)) ? v : a;
    }
    return r;
}

/* ---- row kernels (one row of length n >= 1, in cache between passes) --------------------- */
static void FN(ct_softmax_row)(const T *x, T *out, ct_i n)
{
    T m = FN(ct_rmax)(x, n, 0);
    double s = 0.0;
    for (ct_i b = 0; b < n; b += CT_RBLK)
        s += FN(ct_bexpstore)(x + b, out + b, n - b < CT_RBLK ? n - b : CT_RBLK, m);
    FN(ct_bmul)(out, n, (T)(1.0 / s));
}

static double FN(ct_rexpsum)(const T *x, ct_i n, T m)
{
    double s = 0.0;
    for (ct_i b = 0; b < n; b += CT_RBLK)
        s += FN(ct_bexpsum)(x + b, n - b < CT_RBLK ? n - b : CT_RBLK, m);
    return s;
}

static void FN(ct_log_softmax_row)(const T *x, T *out, ct_i n)
{
    T m = FN(ct_rmax)(x, n, 0);
    double s = FN(ct_rexpsum)(x, n, m);
    FN(ct_bsub)(x, out, n, (T)((double)m + log(s)));
}

/* torch.logsumexp: an infinite max is replaced by 0 before shifting */
static T FN(ct_logsumexp_row)(const T *x, ct_i n)
{
    T m = FN(ct_rmax)(x, n, 0);
    if (LM(fabs)(m) == (T)INFINITY) m = C(0);
    double s = FN(ct_rexpsum)(x, n, m);
    return (T)(log(s) + (double)m);
}

static double FN(ct_rdot)(const T *x, const T *y, ct_i n)
{
    double s = 0.0;
    for (ct_i b = 0; b < n; b += CT_RBLK)
        s += FN(ct_bdot)(x + b, y + b, n - b < CT_RBLK ? n - b : CT_RBLK);
    return s;
}

static void FN(ct_softmax_bwd_row)(const T *gy, const T *y, T *gx, ct_i n)
{
    FN(ct_bsoftmax_bwd)(gy, y, gx, n, (T)FN(ct_rdot)(gy, y, n));
}

static void FN(ct_log_softmax_bwd_row)(const T *gy, const T *y, T *gx, ct_i n)
{
    FN(ct_blogsoftmax_bwd)(gy, y, gx, n, (T)FN(ct_rsum)(gy, n));
}

static double FN(ct_rsqdev)(const T *x, ct_i n, double mean)
{
    double s = 0.0;
    for (ct_i b = 0; b < n; b += CT_RBLK)
        s += FN(ct_bsqdev)(x + b, n - b < CT_RBLK ? n - b : CT_RBLK, mean);
    return s;
}

/* ---- column kernels: reduce `rows` rows of `cols` (<= CT_KC) columns, row stride `stride` */
CT_SIMD static void FN(ct_colsum)(const T *x, ct_i rows, ct_i stride, ct_i cols, double *dst)
{
    /* Blocks of 8 rows x 32 columns with the 32 accumulators in registers: acc[] is
     * loaded and stored once per 8 rows (a memory-resident acc[] per row cost a load and a
     * store per element), and the 8 rows stream side by side, so a wide stride (a (32, 2048)
     * column sum) does not walk one cache set row after row.  nn.Linear's bias gradient and
     * every broadcast gradient are such sums.  float64 columns are summed over the rows in
     * row order in double (the plain loop's bits); float32 ones in float within each block of
     * 8 rows, the blocks' sums then in double in row order.  Either way the result depends on
     * the shape only, never on the thread count. */
    double acc[CT_KC];
    for (ct_i k = 0; k < cols; ++k) acc[k] = 0.0;
    ct_i r = 0;
    for (; r + 8 <= rows; r += 8) {
        const T *x0 = x + r * stride;
        ct_i k = 0;
        for (; k + 32 <= cols; k += 32) {
            if (sizeof(T) == 4) {
                /* float: the block's 8 rows summed in float (8 terms: a few ulps at most),
                 * then added to the column's double accumulator: a quarter of the float ->
                 * double conversions, which bounded this loop (1024 x 192: ~1.5x torch's
                 * time, an nn.Linear bias gradient every backward) */
                T f32[32];
                for (int l = 0; l < 32; ++l) f32[l] = 0;
                for (int rr = 0; rr < 8; ++rr) {
                    const T *xr = x0 + rr * stride + k;
                    _Pragma("omp simd") for (int l = 0; l < 32; ++l) f32[l] += xr[l];
                }
                _Pragma("omp simd") for (int l = 0; l < 32; ++l) acc[k + l] += (double)f32[l];
                continue;
            }
            double a32[32];
            for (int l = 0; l < 32; ++l) a32[l] = acc[k + l];
            for (int rr = 0; rr < 8; ++rr) {
                const T *xr = x0 + rr * stride + k;
                _Pragma("omp simd") for (int l = 0; l < 32; ++l) a32[l] += (double)xr[l];
            }
            for (int l = 0; l < 32; ++l) acc[k + l] = a32[l];
        }
        for (; k < cols; ++k) {
            double sk = acc[k];
            for (int rr = 0; rr < 8; ++rr) sk += (double)x0[rr * stride + k];
            acc[k] = sk;
        }
    }
    for (; r < rows; ++r) {
        const T *xr = x + r * stride;
        _Pragma("omp simd") for (ct_i k = 0; k < cols; ++k) acc[k] += (double)xr[k];
    }
    for (ct_i k = 0; k < cols; ++k) dst[k] = acc[k];
}

/* running extreme over rows; vals/idx hold the state (initialised by the caller from row 0
 * or from a previous block), `j0` is the index of the first row given */
CT_SIMD static void FN(ct_colext)(const T *x, ct_i rows, ct_i stride, ct_i cols, T *vals,
                                  int64_t *idx, int64_t j0, int is_min)
{
    if (is_min) {
        for (ct_i r = 0; r < rows; ++r) {
            const T *xr = x + r * stride;
            _Pragma("omp simd") for (ct_i k = 0; k < cols; ++k) {
                T v = xr[k], a = vals[k];
                int take = ((v < a) | (v != v)) & (a == a);
                vals[k] = take ? v : a;
                idx[k] = take ? j0 + r : idx[k];
            }
        }
    } else {
        for (ct_i r = 0; r < rows; ++r) {
            const T *xr = x + r * stride;
            _Pragma("omp simd") for (ct_i k = 0; k < cols; ++k) {
                T v = xr[k], a = vals[k];
                int take = ((v > a) | (v != v)) & (a == a);
                vals[k] = take ? v : a;
                idx[k] = take ? j0 + r : idx[k];
            }
        }
    }
}

/* two-pass variance over rows for `cols` (<= CT_KC) columns */
CT_SIMD static void FN(ct_colvar)(const T *x, ct_i rows, ct_i stride, ct_i cols, T *out,
                                  double denom)
{
    double mean[CT_KC], acc[CT_KC];
    for (ct_i k = 0; k < cols; ++k) { mean[k] = 0.0; acc[k] = 0.0; }
    for (ct_i r = 0; r < rows; ++r) {
        const T *xr = x + r * stride;
        _Pragma("omp simd") for (ct_i k = 0; k < cols; ++k) mean[k] += (double)xr[k];
    }
    for (ct_i k = 0; k < cols; ++k) mean[k] = mean[k] / (double)rows;
    for (ct_i r = 0; r < rows; ++r) {
        const T *xr = x + r * stride;
        _Pragma("omp simd") for (ct_i k = 0; k < cols; ++k) {
            double d = (double)xr[k] - mean[k];
            acc[k] += d * d;
        }
    }
    for (ct_i k = 0; k < cols; ++k) out[k] = (T)(acc[k] / denom);
}

#undef FN
#undef LM
#undef C
