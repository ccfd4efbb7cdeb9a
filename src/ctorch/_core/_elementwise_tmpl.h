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

CT_INLINE T FN(ct_max_nan)(T a, T b) { return (a != a) ? a : ((b != b) ? b : (a > b ? a : b)); }
CT_INLINE T FN(ct_min_nan)(T a, T b) { return (a != a) ? a : ((b != b) ? b : (a < b ? a : b)); }
CT_INLINE T FN(ct_sigmoid)(T v) { return C(1) / (C(1) + FN(ct_exp)(-v)); }
CT_INLINE T FN(ct_sign)(T v) { return (v > C(0) ? C(1) : C(0)) - (v < C(0) ? C(1) : C(0)); }

/* ---- binary ---------------------------------------------------------------------------- */
#define CT_BIN_CASES(A, B)                                              \
    case CT_BIN_ADD: CT_LOOP(out[i] = (A) + (B)); break;               \
    case CT_BIN_SUB: CT_LOOP(out[i] = (A) - (B)); break;               \
    case CT_BIN_MUL: CT_LOOP(out[i] = (A) * (B)); break;               \
    case CT_BIN_DIV: CT_LOOP(out[i] = (A) / (B)); break;               \
    case CT_BIN_MAX: CT_LOOP(out[i] = FN(ct_max_nan)((A), (B))); break; \
    case CT_BIN_MIN: CT_LOOP(out[i] = FN(ct_min_nan)((A), (B))); break; \
    case CT_BIN_POW: CT_LOOP(out[i] = LM(pow)((A), (B))); break;

CT_SIMD static void FN(ct_binary)(int op, const T *x, const T *y, T *out, ct_i n)
{
    switch (op) { CT_BIN_CASES(x[i], y[i]) default: break; }
}

CT_SIMD static void FN(ct_binary_scalar)(int op, const T *x, T s, T *out, ct_i n, int reverse)
{
    if (op == CT_BIN_POW && !reverse) {
        /* torch's fast paths; x*x and sqrt are correctly rounded, like pow */
        if (s == C(2)) { CT_LOOP(out[i] = x[i] * x[i]); return; }
        if (s == C(1)) { CT_LOOP(out[i] = x[i]); return; }
        if (s == C(0.5)) { CT_LOOP(out[i] = LM(sqrt)(x[i])); return; }
    }
    if (reverse) {
        switch (op) { CT_BIN_CASES(s, x[i]) default: break; }
    } else {
        switch (op) { CT_BIN_CASES(x[i], s) default: break; }
    }
}

/* ---- unary ----------------------------------------------------------------------------- */
CT_SIMD static void FN(ct_unary)(int op, const T *x, T *out, ct_i n, T a, T b)
{
    switch (op) {
    case CT_UN_NEG: CT_LOOP(out[i] = -x[i]); break;
    case CT_UN_ABS: CT_LOOP(out[i] = LM(fabs)(x[i])); break;
    case CT_UN_EXP: CT_LOOP(out[i] = FN(ct_exp)(x[i])); break;
    case CT_UN_LOG: CT_LOOP(out[i] = LM(log)(x[i])); break;
    case CT_UN_LOG1P: CT_LOOP(out[i] = LM(log1p)(x[i])); break;
    case CT_UN_EXPM1: CT_LOOP(out[i] = LM(expm1)(x[i])); break;
    case CT_UN_SQRT: CT_LOOP(out[i] = LM(sqrt)(x[i])); break;
    case CT_UN_RSQRT: CT_LOOP(out[i] = C(1) / LM(sqrt)(x[i])); break;
    case CT_UN_SIN: CT_LOOP(out[i] = LM(sin)(x[i])); break;
    case CT_UN_COS: CT_LOOP(out[i] = LM(cos)(x[i])); break;
    case CT_UN_TAN: CT_LOOP(out[i] = LM(tan)(x[i])); break;
    case CT_UN_TANH: CT_LOOP(out[i] = FN(ct_tanh)(x[i])); break;
    case CT_UN_SIGMOID: CT_LOOP(out[i] = FN(ct_sigmoid)(x[i])); break;
    case CT_UN_RELU: CT_LOOP(out[i] = x[i] < C(0) ? C(0) : x[i]); break;
    case CT_UN_ERF: CT_LOOP(out[i] = FN(ct_erf)(x[i])); break;
    case CT_UN_SIGN: CT_LOOP(out[i] = FN(ct_sign)(x[i])); break;
    case CT_UN_FLOOR: CT_LOOP(out[i] = LM(floor)(x[i])); break;
    case CT_UN_CEIL: CT_LOOP(out[i] = LM(ceil)(x[i])); break;
    case CT_UN_ROUND: CT_LOOP(out[i] = LM(rint)(x[i])); break;
    case CT_UN_RECIPROCAL: CT_LOOP(out[i] = C(1) / x[i]); break;
    case CT_UN_SQUARE: CT_LOOP(out[i] = x[i] * x[i]); break;
    case CT_UN_GELU: CT_LOOP(out[i] = FN(ct_gelu)(x[i])); break;
    case CT_UN_GELU_TANH:
        /* 0.5 * (1 + tanh(u)) = 1 / (1 + exp(-2u)): no cancellation for x < 0, vectorizes */
        CT_LOOP({
            T v = x[i];
            T inner = C(CT_GELU_BETA) * (v + C(0.044715) * (v * v * v));
            out[i] = v / (C(1) + FN(ct_exp)(C(-2) * inner));
        });
        break;
    case CT_UN_SILU: CT_LOOP(out[i] = x[i] / (C(1) + FN(ct_exp)(-x[i]))); break;
    case CT_UN_SOFTPLUS: /* a = beta, b = threshold */
        CT_LOOP({
            T v = x[i], bv = v * a;
            out[i] = bv > b ? v : LM(log1p)(FN(ct_exp)(bv)) / a;
        });
        break;
    case CT_UN_MISH:
        CT_LOOP(out[i] = x[i] * FN(ct_tanh)(LM(log1p)(FN(ct_exp)(x[i]))));
        break;
    case CT_UN_ELU: /* a = alpha */
        CT_LOOP(out[i] = x[i] > C(0) ? x[i] : a * LM(expm1)(x[i]));
        break;
    case CT_UN_LEAKY_RELU: /* a = negative_slope */
        CT_LOOP(out[i] = x[i] > C(0) ? x[i] : x[i] * a);
        break;
    case CT_UN_HARDTANH:
    case CT_UN_CLAMP: /* a = min, b = max (NaN bounds were replaced by -inf/+inf) */
        CT_LOOP({
            T v = x[i] < a ? a : x[i];
            out[i] = v > b ? b : v;
        });
        break;
    default: break;
    }
}

CT_SIMD static void FN(ct_unary_backward)(int op, const T *gy, const T *x, const T *y, T *gx,
                                          ct_i n, T a, T b)
{
    switch (op) {
    case CT_UN_ABS: CT_LOOP(gx[i] = gy[i] * FN(ct_sign)(x[i])); break;
    case CT_UN_EXP: CT_LOOP(gx[i] = gy[i] * y[i]); break;
    case CT_UN_LOG: CT_LOOP(gx[i] = gy[i] / x[i]); break;
    case CT_UN_LOG1P: CT_LOOP(gx[i] = gy[i] / (x[i] + C(1))); break;
    case CT_UN_EXPM1: CT_LOOP(gx[i] = gy[i] * (y[i] + C(1))); break;
    case CT_UN_SQRT: CT_LOOP(gx[i] = gy[i] / (C(2) * y[i])); break;
    case CT_UN_RSQRT: CT_LOOP(gx[i] = C(-0.5) * gy[i] * (y[i] * y[i] * y[i])); break;
    case CT_UN_SIN: CT_LOOP(gx[i] = gy[i] * LM(cos)(x[i])); break;
    case CT_UN_COS: CT_LOOP(gx[i] = gy[i] * -LM(sin)(x[i])); break;
    case CT_UN_TAN: CT_LOOP(gx[i] = gy[i] * (C(1) + y[i] * y[i])); break;
    case CT_UN_TANH: CT_LOOP(gx[i] = gy[i] * (C(1) - y[i] * y[i])); break;
    case CT_UN_SIGMOID: CT_LOOP(gx[i] = gy[i] * (C(1) - y[i]) * y[i]); break;
    case CT_UN_RELU: CT_LOOP(gx[i] = y[i] <= C(0) ? C(0) : gy[i]); break;
    case CT_UN_ERF:
        CT_LOOP(gx[i] = C(M_2_SQRTPI) * FN(ct_exp)(-(x[i] * x[i])) * gy[i]);
        break;
    case CT_UN_RECIPROCAL: CT_LOOP(gx[i] = -gy[i] * (y[i] * y[i])); break;
    case CT_UN_SQUARE: CT_LOOP(gx[i] = gy[i] * C(2) * x[i]); break;
    case CT_UN_GELU: CT_LOOP(gx[i] = gy[i] * FN(ct_gelu_grad)(x[i])); break;
    case CT_UN_GELU_TANH:
        CT_LOOP({
            T v = x[i], v2 = v * v;
            T inner = C(CT_GELU_BETA) * (v + C(0.044715) * (v2 * v));
            T th = FN(ct_tanh)(inner);
            T left = C(0.5) * v, right = C(1) + th;
            T dleft = C(0.5) * right;
            T dinner = C(CT_GELU_BETA) * (C(1) + C(3 * 0.044715) * v2);
            T dright = left * (C(1) - th * th) * dinner;
            gx[i] = gy[i] * (dleft + dright);
        });
        break;
    case CT_UN_SILU:
        CT_LOOP({
            T s = FN(ct_sigmoid)(x[i]);
            gx[i] = gy[i] * s * (C(1) + x[i] * (C(1) - s));
        });
        break;
    case CT_UN_SOFTPLUS:
        CT_LOOP({
            T bv = x[i] * a, z = FN(ct_exp)(bv);
            gx[i] = bv > b ? gy[i] : gy[i] * z / (z + C(1));
        });
        break;
    case CT_UN_MISH:
        CT_LOOP({
            T v = x[i];
            T s = FN(ct_sigmoid)(v);
            T t = FN(ct_tanh)(LM(log1p)(FN(ct_exp)(v)));
            gx[i] = gy[i] * (t + v * s * (C(1) - t * t));
        });
        break;
    case CT_UN_ELU:
        CT_LOOP(gx[i] = x[i] <= C(0) ? gy[i] * a * FN(ct_exp)(x[i]) : gy[i]);
        break;
    case CT_UN_LEAKY_RELU: CT_LOOP(gx[i] = x[i] > C(0) ? gy[i] : gy[i] * a); break;
    case CT_UN_HARDTANH:
        CT_LOOP(gx[i] = ((x[i] <= a) | (x[i] >= b)) ? C(0) : gy[i]);
        break;
    case CT_UN_CLAMP:
        CT_LOOP(gx[i] = ((x[i] >= a) & (x[i] <= b)) ? gy[i] : C(0));
        break;
    default: break;
    }
}

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

#undef CT_BIN_CASES
#undef FN
#undef LM
#undef C
