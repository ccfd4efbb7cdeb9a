/* Power-of-two complex FFTs over "strips" of CTF_L transforms, instantiated per dtype by
 * _fft_simd.h.  Expects: T (float|double), SFX (_f32|_f64), CTF_L (lanes: 64 bytes of T).
 *
 * A strip is CTF_L transforms of length n done side by side: the strip buffer holds row r
 * (element r of every transform) as CTF_L real parts then CTF_L imaginary parts, so each
 * butterfly is the same few vector operations on whole rows, with scalar (broadcast)
 * twiddles and no shuffles.  The butterflies are radix-4 decimation in frequency (a last
 * radix-2 stage when log2 n is odd), in place, so the buffer ends in bit-reversed order and
 * the store reads row bitrev(k) for output k.
 *
 * Where a strip's transforms come from (and go to) is a lane map: transform b starts at
 * complex offset (b / inner) * ostride + (b % inner) * lstride, and its element r lies rs
 * further on per step.  One map serves an axis of a C-contiguous (outer, n, inner) array
 * (lanes contiguous when inner >= CTF_L; transposed loads when inner == 1) and both passes of
 * the four-step split of one long transform (ctf_c2c_axis below).
 */
#define FN(name) CT_X(name, SFX)

typedef struct {
    long inner, ostride, lstride, rs;
} FN(ctf_map);

static inline long FN(ctf_off)(const FN(ctf_map) * m, long b)
{
    return (b / m->inner) * m->ostride + (b % m->inner) * m->lstride;
}

/* The tables of length n = 2^bits, built once and kept: the forward twiddles
 * tw[k] = exp(-2 pi i k / n) (computed in double) and the bit-reversal permutation.  The
 * inverse transform negates the imaginary parts as it reads them. */
static T *FN(ctf_twr)[CTF_MAXBITS + 1], *FN(ctf_twi)[CTF_MAXBITS + 1];
static int *FN(ctf_rev)[CTF_MAXBITS + 1];

static int FN(ctf_tables)(int bits)
{
    if (__atomic_load_n(&FN(ctf_rev)[bits], __ATOMIC_ACQUIRE)) return 0;
    int ok = 1;
#pragma omp critical(ctf_tables)
    if (!FN(ctf_rev)[bits]) {
        long n = 1L << bits;
        T *twr = (T *)malloc(sizeof(T) * (size_t)n), *twi = (T *)malloc(sizeof(T) * (size_t)n);
        int *rev = (int *)malloc(sizeof(int) * (size_t)n);
        if (!twr || !twi || !rev) {
            free(twr);
            free(twi);
            free(rev);
            ok = 0;
        } else {
            for (long k = 0; k < n; k++) {
                double a = -2.0 * M_PI * (double)k / (double)n;
                twr[k] = (T)cos(a);
                twi[k] = (T)sin(a);
                long r = 0;
                for (int i = 0; i < bits; i++)
                    if (k >> i & 1) r |= 1L << (bits - 1 - i);
                rev[k] = (int)r;
            }
            FN(ctf_twr)[bits] = twr;
            FN(ctf_twi)[bits] = twi;
            __atomic_store_n(&FN(ctf_rev)[bits], rev, __ATOMIC_RELEASE);
        }
    }
    return ok ? 0 : -1;
}

/* lt[k][l] (k < n1 = 2^(bits / 2), l < CTF_L) = exp(-2 pi i k l / 2^bits), real parts then
 * imaginary parts per row like a strip: the lane part of the four-step's twiddles; kept */
static T *FN(ctf_lt)[2 * CTF_MAXBITS + 1];

static const T *FN(ctf_lane_table)(int bits)
{
    T *t = __atomic_load_n(&FN(ctf_lt)[bits], __ATOMIC_ACQUIRE);
    if (t) return t;
#pragma omp critical(ctf_tables)
    if (!FN(ctf_lt)[bits]) {
        long n1 = 1L << (bits / 2), n = 1L << bits;
        T *u = (T *)malloc(sizeof(T) * 2 * CTF_L * (size_t)n1);
        if (u) {
            for (long k = 0; k < n1; k++)
                for (int l = 0; l < CTF_L; l++) {
                    double a = -2.0 * M_PI * (double)(k * l) / (double)n;
                    u[k * 2 * CTF_L + l] = (T)cos(a);
                    u[k * 2 * CTF_L + CTF_L + l] = (T)sin(a);
                }
            __atomic_store_n(&FN(ctf_lt)[bits], u, __ATOMIC_RELEASE);
        }
    }
    return __atomic_load_n(&FN(ctf_lt)[bits], __ATOMIC_ACQUIRE);
}

/* one radix-4 DIF stage on the rows [b, b + m) of a strip of a length-n transform; sg = -1
 * forward, +1 inverse (the tables' imaginary parts negated), a constant in each caller */
static inline __attribute__((always_inline)) void FN(ctf_stage4)(T *restrict buf, long n,
                                                                long b, long m,
                                                                const T *restrict twr,
                                                                const T *restrict twi,
                                                                const T sg)
{
    const long L2 = 2 * CTF_L, q = m / 4, s = n / m;
    for (long j = 0; j < q; j++) {
        T *restrict p0 = buf + (b + j) * L2;
        T *restrict p1 = p0 + q * L2;
        T *restrict p2 = p1 + q * L2;
        T *restrict p3 = p2 + q * L2;
        const T w1r = twr[j * s], w1i = -sg * twi[j * s];
        const T w2r = twr[2 * j * s], w2i = -sg * twi[2 * j * s];
        const T w3r = twr[3 * j * s], w3i = -sg * twi[3 * j * s];
#pragma omp simd
        for (int l = 0; l < CTF_L; l++) {
            T x0r = p0[l], x0i = p0[CTF_L + l], x1r = p1[l], x1i = p1[CTF_L + l];
            T x2r = p2[l], x2i = p2[CTF_L + l], x3r = p3[l], x3i = p3[CTF_L + l];
            T t0r = x0r + x2r, t0i = x0i + x2i, t1r = x0r - x2r, t1i = x0i - x2i;
            T t2r = x1r + x3r, t2i = x1i + x3i;
            /* (x1 - x3) times sg * i */
            T t3r = -sg * (x1i - x3i), t3i = sg * (x1r - x3r);
            T y1r = t0r - t2r, y1i = t0i - t2i;
            T y2r = t1r + t3r, y2i = t1i + t3i;
            T y3r = t1r - t3r, y3i = t1i - t3i;
            p0[l] = t0r + t2r;
            p0[CTF_L + l] = t0i + t2i;
            if (q == 1) { /* the last radix-4 stage: every twiddle is 1 */
                p1[l] = y1r;
                p1[CTF_L + l] = y1i;
                p2[l] = y2r;
                p2[CTF_L + l] = y2i;
                p3[l] = y3r;
                p3[CTF_L + l] = y3i;
            } else {
                p1[l] = y1r * w2r - y1i * w2i;
                p1[CTF_L + l] = y1r * w2i + y1i * w2r;
                p2[l] = y2r * w1r - y2i * w1i;
                p2[CTF_L + l] = y2r * w1i + y2i * w1r;
                p3[l] = y3r * w3r - y3i * w3i;
                p3[CTF_L + l] = y3r * w3i + y3i * w3r;
            }
        }
    }
}

/* the in-place DIF butterflies of one strip of length n (n >= 2, a power of two).  The
 * stages run breadth-first only while a block is larger than CTF_L1ROWS rows; then each
 * block takes all its remaining stages in turn while it sits in L1 (a strip of 1024 points
 * is 128 KiB, and sweeping it once per stage ran at the L2's bandwidth). */
static inline __attribute__((always_inline)) void FN(ctf_dif_body)(T *restrict buf, long n,
                                                                  const T *restrict twr,
                                                                  const T *restrict twi,
                                                                  const T sg)
{
    const long L2 = 2 * CTF_L;
    long m = n;
    for (; m >= 4 && m > CTF_L1ROWS; m /= 4)
        for (long b = 0; b < n; b += m) FN(ctf_stage4)(buf, n, b, m, twr, twi, sg);
    for (long b = 0; b < n; b += m) {
        long mm = m;
        for (; mm >= 4; mm /= 4)
            for (long bb = b; bb < b + m; bb += mm) FN(ctf_stage4)(buf, n, bb, mm, twr, twi, sg);
        if (mm == 2) {
            for (long r = b; r < b + m; r += 2) {
                T *restrict p0 = buf + r * L2;
                T *restrict p1 = p0 + L2;
#pragma omp simd
                for (int l = 0; l < 2 * CTF_L; l++) {
                    T x = p0[l], c = p1[l];
                    p0[l] = x + c;
                    p1[l] = x - c;
                }
            }
        }
    }
}

CTF_KERNEL static void FN(ctf_dif_fwd)(T *restrict buf, long n, const T *restrict twr,
                                      const T *restrict twi)
{
    FN(ctf_dif_body)(buf, n, twr, twi, (T)-1);
}

CTF_KERNEL static void FN(ctf_dif_inv)(T *restrict buf, long n, const T *restrict twr,
                                      const T *restrict twi)
{
    FN(ctf_dif_body)(buf, n, twr, twi, (T)1);
}

/* rows r < n of lanes b0 .. b0+nl-1 into the strip buffer (unused lanes zero) */
CTF_KERNEL static void FN(ctf_load)(const T *restrict x, const FN(ctf_map) * m, long b0, int nl,
                                 long n, T *restrict buf)
{
    const long L2 = 2 * CTF_L;
    long o0 = FN(ctf_off)(m, b0);
    int contiguous = nl == CTF_L && m->lstride == 1 && b0 / m->inner == (b0 + nl - 1) / m->inner;
    if (contiguous) {
        for (long r = 0; r < n; r++) {
            const T *restrict s = x + 2 * (o0 + r * m->rs);
            T *restrict d = buf + r * L2;
            CTF_PREFETCH(s + 2 * CTF_PD * m->rs, 0);
#pragma omp simd
            for (int l = 0; l < CTF_L; l++) {
                d[l] = s[2 * l];
                d[CTF_L + l] = s[2 * l + 1];
            }
        }
        return;
    }
    if (nl == CTF_L && m->rs == 1) {
        long offs[CTF_L];
        for (int l = 0; l < CTF_L; l++) offs[l] = FN(ctf_off)(m, b0 + l);
        if (CTF_LOAD_T(SFX, x, offs, n, buf)) return;
    }
    if (nl < CTF_L)
        for (long r = 0; r < n; r++)
            for (int l = nl; l < CTF_L; l++) buf[r * L2 + l] = buf[r * L2 + CTF_L + l] = 0;
    for (int l = 0; l < nl; l++) {
        const T *restrict s = x + 2 * FN(ctf_off)(m, b0 + l);
        const long rs2 = 2 * m->rs;
        for (long r = 0; r < n; r++) {
            buf[r * L2 + l] = s[r * rs2];
            buf[r * L2 + CTF_L + l] = s[r * rs2 + 1];
        }
    }
}

/* output k of lanes b0 .. b0+nl-1 from buffer row rev[k], times scale, and (when lt is
 * given) times the four-step twiddle exp(sign 2 pi i k b / tn) of global lane b = b0 + l,
 * as exp(sign 2 pi i k b0 / tn) (a double recurrence over k, re-anchored on exact values
 * every 256 rows) times lt[k][l] = exp(sign 2 pi i k l / tn) (a table; inverse: conjugated) */
CTF_KERNEL static void FN(ctf_store)(T *restrict y, const FN(ctf_map) * m, long b0, int nl, long n,
                                  const T *restrict buf, const int *restrict rev, T scale,
                                  const T *restrict lt, long tn, int sign)
{
    const long L2 = 2 * CTF_L;
    long o0 = FN(ctf_off)(m, b0);
    int contiguous = nl == CTF_L && m->lstride == 1 && b0 / m->inner == (b0 + nl - 1) / m->inner;
    if (lt) {
        const T sg = (T)(-sign);
        double a0 = (double)sign * 2.0 * M_PI * (double)(b0 % tn) / (double)tn;
        double sr = cos(a0), si = sin(a0), cr = 0, ci = 0;
        for (long k = 0; k < n; k++) {
            if ((k & 255) == 0) {
                long e = (long)(((unsigned long long)k * (unsigned long long)b0) %
                                (unsigned long long)tn);
                double a = (double)sign * 2.0 * M_PI * (double)e / (double)tn;
                cr = cos(a) * (double)scale;
                ci = sin(a) * (double)scale;
            }
            const T ar = (T)cr, ai = (T)ci;
            const T *restrict s = buf + (long)rev[k] * L2;
            const T *restrict w = lt + k * L2;
            if (contiguous) {
                T *restrict d = y + 2 * (o0 + k * m->rs);
                CTF_PREFETCH(d + 2 * CTF_PD * m->rs, 1);
#pragma omp simd
                for (int l = 0; l < CTF_L; l++) {
                    T wi0 = sg * w[CTF_L + l];
                    T wr = ar * w[l] - ai * wi0, wi = ar * wi0 + ai * w[l];
                    d[2 * l] = s[l] * wr - s[CTF_L + l] * wi;
                    d[2 * l + 1] = s[l] * wi + s[CTF_L + l] * wr;
                }
            } else {
                for (int l = 0; l < nl; l++) {
                    T wi0 = sg * w[CTF_L + l];
                    T wr = ar * w[l] - ai * wi0, wi = ar * wi0 + ai * w[l];
                    T *d = y + 2 * (FN(ctf_off)(m, b0 + l) + k * m->rs);
                    d[0] = s[l] * wr - s[CTF_L + l] * wi;
                    d[1] = s[l] * wi + s[CTF_L + l] * wr;
                }
            }
            double t = cr * sr - ci * si;
            ci = cr * si + ci * sr;
            cr = t;
        }
        return;
    }
    if (contiguous) {
        for (long k = 0; k < n; k++) {
            const T *restrict s = buf + (long)rev[k] * L2;
            T *restrict d = y + 2 * (o0 + k * m->rs);
            CTF_PREFETCH(d + 2 * CTF_PD * m->rs, 1);
#pragma omp simd
            for (int l = 0; l < CTF_L; l++) {
                d[2 * l] = s[l] * scale;
                d[2 * l + 1] = s[CTF_L + l] * scale;
            }
        }
        return;
    }
    if (nl == CTF_L && m->rs == 1) {
        long offs[CTF_L];
        for (int l = 0; l < CTF_L; l++) offs[l] = FN(ctf_off)(m, b0 + l);
        if (CTF_STORE_T(SFX, y, offs, n, buf, rev, scale)) return;
    }
    for (int l = 0; l < nl; l++) {
        T *restrict d = y + 2 * FN(ctf_off)(m, b0 + l);
        const long rs2 = 2 * m->rs;
        for (long k = 0; k < n; k++) {
            const T *s = buf + (long)rev[k] * L2;
            d[k * rs2] = s[l] * scale;
            d[k * rs2 + 1] = s[CTF_L + l] * scale;
        }
    }
}

/* nlanes transforms of length n from x (map mx) to y (map my), strips over the threads */
static int FN(ctf_run)(const T *x, const FN(ctf_map) * mx, T *y, const FN(ctf_map) * my,
                       long nlanes, long n, int sign, T scale, const T *lt, long tn,
                       int nthreads)
{
    int bits = ctf_log2(n), fail = 0;
    if (bits > CTF_MAXBITS || FN(ctf_tables)(bits)) return -1;
    const T *twr = FN(ctf_twr)[bits], *twi = FN(ctf_twi)[bits];
    const int *rev = FN(ctf_rev)[bits];
    long nstrips = (nlanes + CTF_L - 1) / CTF_L;
    if (nthreads > nstrips) nthreads = (int)nstrips;
    if (nthreads < 1) nthreads = 1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        T *buf = (T *)aligned_alloc(64, sizeof(T) * 2 * CTF_L * (size_t)n);
        if (!buf) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(static)
        for (long st = 0; st < nstrips; st++) {
            if (!buf) continue;
            long b0 = st * CTF_L;
            int nl = (int)(nlanes - b0 < CTF_L ? nlanes - b0 : CTF_L);
            FN(ctf_load)(x, mx, b0, nl, n, buf);
            if (sign < 0) FN(ctf_dif_fwd)(buf, n, twr, twi);
            else FN(ctf_dif_inv)(buf, n, twr, twi);
            FN(ctf_store)(y, my, b0, nl, n, buf, rev, scale, lt, tn, sign);
        }
        free(buf);
    }
    return fail ? -1 : 0;
}

/* y = the length-n DFT (exp(sign 2 pi i jk / n)) times scale along the middle axis of the
 * C-contiguous complex (outer, n, inner) array x; n a power of two >= 2, y its own array of
 * the same shape.  Along the last axis (inner == 1) a transform longer than CTF_DIRECT_MAX,
 * or one of fewer than CTF_L (whose strips would be mostly empty) of at least CTF_SPLIT_MIN
 * points, is split as n = n1 * n2 (four-step): n2 transforms of length n1 down the columns
 * of x viewed as (n1, n2) into work (a scratch of n complex values, or NULL to allocate
 * one), times the twiddles exp(sign 2 pi i k1 j2 / n), then n1 transforms of length n2 along
 * the rows of work, stored transposed so the result is in natural order.
 * Returns 0, or -1 when out of memory or the case is not handled: ctf_takes says which
 * (not 1 < inner < CTF_L, whose lanes the strips would gather one value at a time). */
static int FN(ctf_takes)(long n, long inner)
{
    return n >= 2 && !(n & (n - 1)) && (inner == 1 || (inner >= CTF_L && n <= CTF_DIRECT_MAX)) &&
           n <= (1L << 2 * CTF_MAXBITS);
}

static int FN(ctf_c2c_axis)(const T *x, T *y, T *work, long outer, long n, long inner,
                            int sign, double scale, int nthreads)
{
    if (!FN(ctf_takes)(n, inner)) return -1;
    int split = inner == 1 && (n > CTF_DIRECT_MAX || (outer < CTF_L && n >= CTF_SPLIT_MIN));
    if (!split) {
        FN(ctf_map) m = {inner, n * inner, 1, inner};
        return FN(ctf_run)(x, &m, y, &m, outer * inner, n, sign, (T)scale, NULL, 0, nthreads);
    }
    int bits = ctf_log2(n), rc = 0;
    long n1 = 1L << (bits / 2), n2 = n / n1;
    const T *lt = FN(ctf_lane_table)(bits);
    T *own = NULL;
    if (!work) work = own = (T *)malloc(sizeof(T) * 2 * (size_t)n);
    if (!lt || !work) return -1;
    for (long o = 0; o < outer && !rc; o++) {
        const T *xo = x + 2 * o * n;
        T *yo = y + 2 * o * n;
        /* pass 1: lane j2 (a column of the (n1, n2) view), element j1 at j1 * n2 */
        FN(ctf_map) m1 = {n2, 0, 1, n2};
        rc = FN(ctf_run)(xo, &m1, work, &m1, n2, n1, sign, (T)1, lt, n, nthreads);
        /* pass 2: lane k1 (a row of work), element j2 at k1 * n2 + j2; out[k2 * n1 + k1] */
        FN(ctf_map) ms = {n1, 0, n2, 1}, md = {n1, 0, 1, n1};
        if (!rc) rc = FN(ctf_run)(work, &ms, yo, &md, n1, n2, sign, (T)scale, NULL, 0, nthreads);
    }
    free(own);
    return rc;
}

/* Real transforms of even length n = 2M along the last axis, through a complex one of
 * length M: x[2j] + i x[2j+1] is z[j] (the real array read as complex), Z = DFT_M(z), and
 *   X[k] = E[k] + exp(-2 pi i k / n) O[k],  E[k] = (Z[k] + conj Z[M-k]) / 2,
 *                                          O[k] = (Z[k] - conj Z[M-k]) / 2i   (Z[M] = Z[0]).
 * ctf_r2c_post turns the rows of Z (outer, M) into the half spectrum y (outer, M + 1) times
 * scale; ctf_c2r_pre the half spectrum x (outer, M + 1) into the rows 2 Z (outer, M) of the
 * real sequence it is the spectrum of (x's imaginary parts at 0 and M ignored, as pocketfft
 * and torch do).  Each pair k, M - k is done together from the same two inputs. */
static void FN(ctf_r2c_post)(const T *z, T *y, long outer, long M, double scale, int nthreads)
{
    int bits = ctf_log2(2 * M);
    const T *twr = FN(ctf_twr)[bits], *twi = FN(ctf_twi)[bits];
    const T h = (T)(0.5 * scale), sc = (T)scale;
#pragma omp parallel for num_threads(nthreads) if (nthreads > 1 && outer * M >= 32768) schedule(static)
    for (long o = 0; o < outer; o++) {
        const T *zo = z + 2 * o * M;
        T *yo = y + 2 * o * (M + 1);
        yo[0] = (zo[0] + zo[1]) * sc;
        yo[1] = 0;
        yo[2 * M] = (zo[0] - zo[1]) * sc;
        yo[2 * M + 1] = 0;
#pragma omp simd
        for (long k = 1; k <= M / 2; k++) {
            T ar = zo[2 * k], ai = zo[2 * k + 1];                  /* Z[k] */
            T br = zo[2 * (M - k)], bi = -zo[2 * (M - k) + 1];     /* conj Z[M-k] */
            T er = ar + br, ei = ai + bi;                          /* 2 E[k] */
            T orr = ai - bi, oi = br - ar;                         /* 2 O[k] = -i (a - b) */
            T wr = twr[k], wi = twi[k];
            yo[2 * k] = h * (er + wr * orr - wi * oi);
            yo[2 * k + 1] = h * (ei + wr * oi + wi * orr);
            /* k' = M - k: X[k'] = conj(E[k] - w^k O[k]) */
            yo[2 * (M - k)] = h * (er - wr * orr + wi * oi);
            yo[2 * (M - k) + 1] = h * (-ei + wr * oi + wi * orr);
        }
    }
}

static void FN(ctf_c2r_pre)(const T *x, T *z, long outer, long M, int nthreads)
{
    int bits = ctf_log2(2 * M);
    const T *twr = FN(ctf_twr)[bits], *twi = FN(ctf_twi)[bits];
#pragma omp parallel for num_threads(nthreads) if (nthreads > 1 && outer * M >= 32768) schedule(static)
    for (long o = 0; o < outer; o++) {
        const T *xo = x + 2 * o * (M + 1);
        T *zo = z + 2 * o * M;
        /* k = 0: E = (x0 + xM) / 2, O = (x0 - xM) / 2 (real parts only); Z = E + i O, doubled */
        zo[0] = xo[0] + xo[2 * M];
        zo[1] = xo[0] - xo[2 * M];
#pragma omp simd
        for (long k = 1; k <= M / 2; k++) {
            T ar = xo[2 * k], ai = xo[2 * k + 1];              /* X[k] */
            T br = xo[2 * (M - k)], bi = -xo[2 * (M - k) + 1]; /* conj X[M-k] */
            T er = ar + br, ei = ai + bi;                      /* 2 E[k] */
            T dr = ar - br, di = ai - bi;                      /* 2 w^k O[k] */
            T wr = twr[k], wi = -twi[k];                       /* conj w^k = exp(+2 pi i k/n) */
            T orr = dr * wr - di * wi, oi = dr * wi + di * wr; /* 2 O[k] */
            zo[2 * k] = er - oi;                               /* 2 (E + i O) */
            zo[2 * k + 1] = ei + orr;
            /* k' = M - k: E[k'] = conj E[k], O[k'] = conj O[k] */
            zo[2 * (M - k)] = er + oi;
            zo[2 * (M - k) + 1] = -ei + orr;
        }
    }
}

/* 0 when the real transforms take length n (a power of two >= 4 whose half the complex
 * kernel takes) and its twiddle table is built, else -1 */
static int FN(ctf_real_ready)(long n)
{
    if (n < 4 || (n & (n - 1)) || !FN(ctf_takes)(n / 2, 1)) return -1;
    int bits = ctf_log2(n);
    return bits > CTF_MAXBITS ? -1 : FN(ctf_tables)(bits);
}

static int FN(ctf_r2c)(const T *x, T *y, T *z, long outer, long n, double scale, int nthreads)
{
    long M = n / 2;
    if (FN(ctf_real_ready)(n)) return -1;
    if (FN(ctf_c2c_axis)(x, z, NULL, outer, M, 1, -1, 1.0, nthreads)) return -1;
    FN(ctf_r2c_post)(z, y, outer, M, scale, nthreads);
    return 0;
}

/* y (outer, n) real = the inverse real transform of x (outer, n / 2 + 1) times scale (the
 * unnormalized inverse would be scale 1); z a scratch (outer, n / 2) */
static int FN(ctf_c2r)(const T *x, T *y, T *z, long outer, long n, double scale, int nthreads)
{
    long M = n / 2;
    if (FN(ctf_real_ready)(n)) return -1;
    FN(ctf_c2r_pre)(x, z, outer, M, nthreads);
    /* the unnormalized inverse DFT_M of the rows (2 Z) is n (x[2j] + i x[2j+1]) */
    return FN(ctf_c2c_axis)(z, y, NULL, outer, M, 1, 1, scale, nthreads);
}

#undef FN
