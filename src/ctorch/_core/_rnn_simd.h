/* Fused LSTM and GRU cell gates for nn.LSTM's and nn.GRU's time loops (one batch row per call).
 *
 * Forward:  a = xg + hh (the pre-activation gates, order i, f, g, o, each H wide),
 *           i, f, o = sigmoid(a_i, a_f, a_o), g = tanh(a_g), c' = f c + i g, h = o tanh(c').
 * Backward: dct = gc + gh o (1 - tanh(c')^2),
 *           d(a_i, a_f, a_g, a_o) = (dct g i(1-i), dct c f(1-f), dct i (1-g^2), gh tanh(c') o(1-o)),
 *           dc = dct f.
 * GRU (gi = W_ih x + b_ih, gh = W_hh h + b_hh, order r, z, n):
 *           r, z = sigmoid(gi_r + gh_r, gi_z + gh_z), n = tanh(gi_n + r gh_n), h' = (1-z) n + z h;
 *           dn = g (1-z)(1-n^2), dz = g (h-n) z(1-z), dr = dn gh_n r(1-r),
 *           dgi = (dr, dz, dn), dgh = (dr, dz, dn r), dh = g z.
 * One pass over the row instead of ~20-25 NumPy passes. The exponential and tanh are
 * _ct_math.h's (<= 1 ulp for float; double uses its exp and libm's tanh); only +,-,*,/ and
 * selects otherwise, so every SIMD clone gives the same bits and the Cython caller may split
 * rows over threads freely.
 */
#ifndef CT_RNN_SIMD_H
#define CT_RNN_SIMD_H

#include "_ct_common.h"
#include "_ct_math.h"

#define CT_RNN_BODY(T, EXP, TANH)                                                            \
    CT_SIMD static void ct_lstm_fwd_##T(const T *restrict xg, const T *restrict hh,          \
                                         const T *restrict c, T *restrict h,                 \
                                         T *restrict c2, T *restrict act,                    \
                                         T *restrict tc, int64_t H)                          \
    {                                                                                        \
        _Pragma("omp simd")                                                                  \
        for (int64_t j = 0; j < H; j++) {                                                    \
            const T ai = xg[j] + hh[j], af = xg[H + j] + hh[H + j];                          \
            const T ag = xg[2 * H + j] + hh[2 * H + j], ao = xg[3 * H + j] + hh[3 * H + j];  \
            const T i = (T)1 / ((T)1 + EXP(-ai));                                            \
            const T f = (T)1 / ((T)1 + EXP(-af));                                            \
            const T g = TANH(ag);                                                            \
            const T o = (T)1 / ((T)1 + EXP(-ao));                                            \
            const T cn = f * c[j] + i * g;                                                   \
            const T t = TANH(cn);                                                            \
            act[j] = i;                                                                      \
            act[H + j] = f;                                                                  \
            act[2 * H + j] = g;                                                              \
            act[3 * H + j] = o;                                                              \
            c2[j] = cn;                                                                      \
            tc[j] = t;                                                                       \
            h[j] = o * t;                                                                    \
        }                                                                                    \
    }                                                                                        \
    CT_SIMD static void ct_lstm_bwd_##T(const T *restrict act, const T *restrict tc,         \
                                         const T *restrict c, const T *restrict gh,          \
                                         const T *restrict gc, T *restrict da,               \
                                         T *restrict dc, int64_t H)                          \
    {                                                                                        \
        _Pragma("omp simd")                                                                  \
        for (int64_t j = 0; j < H; j++) {                                                    \
            const T i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];      \
            const T t = tc[j], ghj = gh[j];                                                  \
            const T dct = gc[j] + ghj * o * ((T)1 - t * t);                                  \
            da[j] = dct * g * i * ((T)1 - i);                                                \
            da[H + j] = dct * c[j] * f * ((T)1 - f);                                         \
            da[2 * H + j] = dct * i * ((T)1 - g * g);                                        \
            da[3 * H + j] = ghj * t * o * ((T)1 - o);                                        \
            dc[j] = dct * f;                                                                 \
        }                                                                                    \
    }

#define CT_GRU_BODY(T, EXP, TANH)                                                            \
    CT_SIMD static void ct_gru_fwd_##T(const T *restrict gi, const T *restrict gh,           \
                                        const T *restrict h, T *restrict out,                \
                                        T *restrict act, int64_t H)                          \
    {                                                                                        \
        _Pragma("omp simd")                                                                  \
        for (int64_t j = 0; j < H; j++) {                                                    \
            const T r = (T)1 / ((T)1 + EXP(-(gi[j] + gh[j])));                               \
            const T z = (T)1 / ((T)1 + EXP(-(gi[H + j] + gh[H + j])));                       \
            const T n = TANH(gi[2 * H + j] + r * gh[2 * H + j]);                             \
            act[j] = r;                                                                      \
            act[H + j] = z;                                                                  \
            act[2 * H + j] = n;                                                              \
            out[j] = ((T)1 - z) * n + z * h[j];                                              \
        }                                                                                    \
    }                                                                                        \
    CT_SIMD static void ct_gru_bwd_##T(const T *restrict act, const T *restrict gh,          \
                                        const T *restrict h, const T *restrict g,            \
                                        T *restrict dgi, T *restrict dgh, T *restrict dh,    \
                                        int64_t H)                                           \
    {                                                                                        \
        _Pragma("omp simd")                                                                  \
        for (int64_t j = 0; j < H; j++) {                                                    \
            const T r = act[j], z = act[H + j], n = act[2 * H + j], gj = g[j];               \
            const T dn = gj * ((T)1 - z) * ((T)1 - n * n);                                   \
            const T dz = gj * (h[j] - n) * z * ((T)1 - z);                                   \
            const T dr = dn * gh[2 * H + j] * r * ((T)1 - r);                                \
            dgi[j] = dr;                                                                     \
            dgi[H + j] = dz;                                                                 \
            dgi[2 * H + j] = dn;                                                             \
            dgh[j] = dr;                                                                     \
            dgh[H + j] = dz;                                                                 \
            dgh[2 * H + j] = dn * r;                                                         \
            dh[j] = gj * z;                                                                  \
        }                                                                                    \
    }

CT_RNN_BODY(float, ct_exp_f32, ct_tanh_f32)
CT_GRU_BODY(float, ct_exp_f32, ct_tanh_f32)
CT_GRU_BODY(double, ct_exp_f64, ct_tanh_f64)
CT_RNN_BODY(double, ct_exp_f64, ct_tanh_f64)

#undef CT_RNN_BODY
#undef CT_GRU_BODY

#endif
