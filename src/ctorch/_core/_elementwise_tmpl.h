/* Elementwise SIMD loops, instantiated once per dtype by _elementwise_simd.h.
 *
 * Expects: T (float|double), SFX (_f32|_f64), LMS (f|<empty>: the libm suffix).
 * Each function switches on the op code once, then runs one `#pragma omp simd` loop per op,
 * so every op vectorizes on its own; CT_SIMD emits AVX-512/AVX2/baseline clones.
 * Loops take raw pointers and a length; the Cython caller chunks and threads them.
 */
#define FN(name) CT_X(name, SFX)
#define LM(name) CT_X(name, LMS)
#define C(v) ((T)(v))

/* NaN-propagating max/min; on a tie (+0.0 against -0.0) the first operand, as torch's
 * fmax/fmin and its scalar maximum/minimum loop (torch's AVX lanes give the second: a result
 * that depends on the element's position, so we keep one rule) */
CT_INLINE T FN(ct_max_nan)(T a, T b) { return (a != a) ? a : ((b != b || b > a) ? b : a); }
CT_INLINE T FN(ct_min_nan)(T a, T b) { return (a != a) ? a : ((b != b || b < a) ? b : a); }
CT_INLINE T FN(ct_sigmoid)(T v) { return C(1) / (C(1) + FN(ct_exp)(-v)); }
CT_INLINE T FN(ct_sign)(T v) { return (v > C(0) ? C(1) : C(0)) - (v < C(0) ? C(1) : C(0)); }

/* ---- the op table's expression vocabulary (_table/elementwise.def), for T on the CPU ---------- */
#define K(v) ((T)(v))
#define SEL(c, p, q) ((c) ? (p) : (q))
#define INF INFINITY
#define ZERO(v) K(0)
#define EXP(v) FN(ct_exp)(v)
#define LOG(v) LM(log)(v)
#define LOG1P(v) LM(log1p)(v)
#define EXPM1(v) LM(expm1)(v)
#define SQRT(v) LM(sqrt)(v)
#define SIN(v) LM(sin)(v)
#define COS(v) LM(cos)(v)
#define TAN(v) LM(tan)(v)
#define TANH(v) FN(ct_tanh)(v)
#define ERF(v) FN(ct_erf)(v)
#define FABS(v) LM(fabs)(v)
#define FLOOR(v) LM(floor)(v)
#define CEIL(v) LM(ceil)(v)
#define RINT(v) LM(rint)(v)
#define EXP2(v) LM(exp2)(v)
#define LOG2(v) LM(log2)(v)
#define LOG10(v) LM(log10)(v)
#define ASIN(v) LM(asin)(v)
#define ACOS(v) LM(acos)(v)
#define ATAN(v) LM(atan)(v)
#define SINH(v) LM(sinh)(v)
#define COSH(v) LM(cosh)(v)
#define ASINH(v) LM(asinh)(v)
#define ACOSH(v) LM(acosh)(v)
#define ATANH(v) LM(atanh)(v)
#define TRUNC(v) LM(trunc)(v)
#define SIGMOID(v) FN(ct_sigmoid)(v)
#define SIGN(v) FN(ct_sign)(v)
#define GELU(v) FN(ct_gelu)(v)
#define GELU_GRAD(v) FN(ct_gelu_grad)(v)
#define POW(p, q) LM(pow)(p, q)
#define ATAN2(p, q) LM(atan2)(p, q)
#define HYPOT(p, q) LM(hypot)(p, q)
#define COPYSIGN(p, q) LM(copysign)(p, q)
#define MAXNAN(p, q) FN(ct_max_nan)(p, q)
#define MINNAN(p, q) FN(ct_min_nan)(p, q)

/* ---- binary: one omp-simd loop per op, x and y read through A and B --------------------- */
#define UNARY(NAME, ...)
#define BINARY(NAME, FLAGS, NAMES, UFUNC, FWD, GX, GY) \
    case CT_BIN_##NAME: CT_LOOP({ const T x = (A), y = (B); out[i] = (FWD); }); break;

CT_SIMD static void FN(ct_binary)(int op, const T *xs, const T *ys, T *out, ct_i n)
{
#define A xs[i]
#define B ys[i]
    switch (op) {
#include "../_table/elementwise.def"
    default: break;
    }
#undef A
#undef B
}

CT_SIMD static void FN(ct_binary_scalar)(int op, const T *xs, T s, T *out, ct_i n, int reverse)
{
    if (op == CT_BIN_POW && !reverse) {
        /* torch's fast paths; x*x and sqrt are correctly rounded, like pow */
        if (s == C(2)) { CT_LOOP(out[i] = xs[i] * xs[i]); return; }
        if (s == C(1)) { CT_LOOP(out[i] = xs[i]); return; }
        if (s == C(0.5)) { CT_LOOP(out[i] = LM(sqrt)(xs[i])); return; }
    }
    if (reverse) {
#define A s
#define B xs[i]
        switch (op) {
#include "../_table/elementwise.def"
        default: break;
        }
#undef A
#undef B
    } else {
#define A xs[i]
#define B s
        switch (op) {
#include "../_table/elementwise.def"
        default: break;
        }
#undef A
#undef B
    }
}
#undef UNARY
#undef BINARY

/* ---- unary: forward out = f(x; a, b), backward gx = g * f'(x) given x and y = f(x) ------- */
CT_SIMD static void FN(ct_unary)(int op, const T *xs, T *out, ct_i n, T a, T b)
{
    if (FN(ct_unary_own)(op, xs, out, n)) return;
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, NAMES, UFUNC, FWD, BWD) \
    case CT_UN_##NAME: CT_LOOP({ const T x = xs[i]; out[i] = (FWD); }); break;
#define BINARY(NAME, ...)
#include "../_table/elementwise.def"
#undef UNARY
#undef BINARY
    default: break;
    }
}

/* ops that save nothing have no backward kernel (ct_unary_has_backward) */
#define CT_BWD_CASE_NONE(NAME, BWD)
#define CT_BWD_CASE_X(NAME, BWD) CT_BWD_CASE(NAME, BWD)
#define CT_BWD_CASE_Y(NAME, BWD) CT_BWD_CASE(NAME, BWD)
#define CT_BWD_CASE_XY(NAME, BWD) CT_BWD_CASE(NAME, BWD)
#define CT_BWD_CASE(NAME, BWD) \
    case CT_UN_##NAME: \
        CT_LOOP({ const T x = xs[i], y = ys[i], g = gy[i]; gx[i] = (BWD); }); \
        break;

CT_SIMD static void FN(ct_unary_backward)(int op, const T *gy, const T *xs, const T *ys, T *gx,
                                          ct_i n, T a, T b)
{
    if (FN(ct_unary_backward_own)(op, gy, xs, gx, n)) return;
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, NAMES, UFUNC, FWD, BWD) CT_BWD_CASE_##SAVES(NAME, BWD)
#define BINARY(NAME, ...)
#include "../_table/elementwise.def"
#undef UNARY
#undef BINARY
    default: break;
    }
}
#undef CT_BWD_CASE_NONE
#undef CT_BWD_CASE_X
#undef CT_BWD_CASE_Y
#undef CT_BWD_CASE_XY
#undef CT_BWD_CASE

#undef K
#undef SEL
#undef INF
#undef ZERO
#undef EXP
#undef LOG
#undef LOG1P
#undef EXPM1
#undef SQRT
#undef SIN
#undef COS
#undef TAN
#undef TANH
#undef ERF
#undef FABS
#undef FLOOR
#undef CEIL
#undef RINT
#undef EXP2
#undef LOG2
#undef LOG10
#undef ASIN
#undef ACOS
#undef ATAN
#undef SINH
#undef COSH
#undef ASINH
#undef ACOSH
#undef ATANH
#undef TRUNC
#undef SIGMOID
#undef SIGN
#undef GELU
#undef GELU_GRAD
#undef POW
#undef ATAN2
#undef HYPOT
#undef COPYSIGN
#undef MAXNAN
#undef MINNAN

/* ---- misc ------------------------------------------------------------------------------ */
CT_SIMD static void FN(ct_where)(const uint8_t *cond, const T *x, const T *y, T *out, ct_i n)
{
    CT_LOOP(out[i] = cond[i] ? x[i] : y[i]);
}

CT_SIMD static void FN(ct_fill)(T *out, T v, ct_i n) { CT_LOOP(out[i] = v); }

CT_SIMD static void FN(ct_copy)(const T *x, T *out, ct_i n) { CT_LOOP(out[i] = x[i]); }

CT_SIMD static void FN(ct_axpy)(T alpha, const T *x, T *y, ct_i n)
{
    CT_LOOP(y[i] = y[i] + alpha * x[i]);
}

CT_SIMD static void FN(ct_scale)(const T *x, T alpha, T *out, ct_i n)
{
    CT_LOOP(out[i] = x[i] * alpha);
}

/* ---- one entry for the Cython chunk loops: kernel k (CT_K_*) on elements [s, s + n).
 * Always inlined: where k is a constant (a kernel's own loop) the switch folds away, so a
 * broadcast over many short rows pays no dispatch per piece. */
CT_INLINE void FN(ct_ew_apply)(int k, int op, const T *x, const T *y, const T *z,
                                   const uint8_t *c, T *out, ct_i s, ct_i n, T a, T b, int rev)
{
    switch (k) {
    case CT_K_BINARY: FN(ct_binary)(op, x + s, y + s, out + s, n); break;
    case CT_K_BINARY_SCALAR: FN(ct_binary_scalar)(op, x + s, a, out + s, n, rev); break;
    case CT_K_UNARY: FN(ct_unary)(op, x + s, out + s, n, a, b); break;
    case CT_K_UNARY_BACKWARD:
        FN(ct_unary_backward)(op, x + s, y + s, z + s, out + s, n, a, b);
        break;
    case CT_K_WHERE: FN(ct_where)(c + s, x + s, y + s, out + s, n); break;
    case CT_K_FILL: FN(ct_fill)(out + s, a, n); break;
    case CT_K_COPY: FN(ct_copy)(x + s, out + s, n); break;
    case CT_K_AXPY: FN(ct_axpy)(a, x + s, out + s, n); break;
    case CT_K_SCALE: FN(ct_scale)(x + s, a, out + s, n); break;
    default: break;
    }
}

#undef FN
#undef LM
#undef C
