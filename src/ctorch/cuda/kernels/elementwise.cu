// elementwise family: binary / unary ops, their gradients, where, fill, copy, axpy, scale.
// Contract: docs/kernels.md "elementwise".  The ops are the rows of _table/elementwise.def.
#include "common.cuh"

template <typename T> __device__ __forceinline__ T sigmoid_of(T x) {
    return (T)1 / ((T)1 + ct_exp(-x));
}

// torch.sign: -1, 0 or 1, and 0 for NaN (torch's (0 < x) - (x < 0), unlike numpy.sign).
template <typename T> __device__ __forceinline__ T sign_of(T x) {
    return (T)(x > (T)0) - (T)(x < (T)0);
}

template <typename T> __device__ __forceinline__ T gelu_of(T x) {
    return (T)0.5 * x * ((T)1 + ct_erf(x * (T)0.70710678118654752440));
}

template <typename T> __device__ __forceinline__ T gelu_grad_of(T x) {
    const T cdf = (T)0.5 * ((T)1 + ct_erf(x * (T)0.70710678118654752440));
    const T pdf = ct_exp((T)-0.5 * x * x) * (T)0.39894228040143267794;
    return cdf + x * pdf;
}

__device__ __forceinline__ float ct_atan2(float x, float y) { return atan2f(x, y); }
__device__ __forceinline__ double ct_atan2(double x, double y) { return atan2(x, y); }
__device__ __forceinline__ float ct_hypot(float x, float y) { return hypotf(x, y); }
__device__ __forceinline__ double ct_hypot(double x, double y) { return hypot(x, y); }
__device__ __forceinline__ float ct_copysign(float x, float y) { return copysignf(x, y); }
__device__ __forceinline__ double ct_copysign(double x, double y) { return copysign(x, y); }

// The op table (_table/elementwise.def) and its expression vocabulary for T on the GPU.
#define K(v) ((T)(v))
#define SEL(c, p, q) ((c) ? (p) : (q))
#define INF (ct_inf<T>())
#define ZERO(v) ((T)0)
#define EXP(v) ct_exp(v)
#define LOG(v) ct_log(v)
#define LOG1P(v) ct_log1p(v)
#define EXPM1(v) ct_expm1(v)
#define SQRT(v) ct_sqrt(v)
#define SIN(v) ct_sin(v)
#define COS(v) ct_cos(v)
#define TAN(v) ct_tan(v)
#define TANH(v) ct_tanh(v)
#define ERF(v) ct_erf(v)
#define FABS(v) ct_fabs(v)
#define FLOOR(v) ct_floor(v)
#define CEIL(v) ct_ceil(v)
#define RINT(v) ct_rint(v)
#define EXP2(v) ct_exp2(v)
#define LOG2(v) ct_log2(v)
#define LOG10(v) ct_log10(v)
#define ASIN(v) ct_asin(v)
#define ACOS(v) ct_acos(v)
#define ATAN(v) ct_atan(v)
#define SINH(v) ct_sinh(v)
#define COSH(v) ct_cosh(v)
#define ASINH(v) ct_asinh(v)
#define ACOSH(v) ct_acosh(v)
#define ATANH(v) ct_atanh(v)
#define TRUNC(v) ct_trunc(v)
#define SIGMOID(v) sigmoid_of(v)
#define SIGN(v) sign_of(v)
#define GELU(v) gelu_of(v)
#define GELU_GRAD(v) gelu_grad_of(v)
#define POW(p, q) ct_pow(p, q)
#define ATAN2(p, q) ct_atan2(p, q)
#define HYPOT(p, q) ct_hypot(p, q)
#define COPYSIGN(p, q) ct_copysign(p, q)
#define MAXNAN(p, q) ct_max_nan(p, q)
#define MINNAN(p, q) ct_min_nan(p, q)

// Op codes and flag bits: the row order of the table.
#include "../../_table/elementwise.h"

template <typename T> __device__ __forceinline__ T bin_apply(int op, T x, T y) {
    switch (op) {
#define UNARY(NAME, ...)
#define BINARY(NAME, FLAGS, NAMES, UFUNC, FWD, GX, GY) case CT_BIN_##NAME: return (FWD);
#include "../../_table/elementwise.def"
#undef UNARY
#undef BINARY
        default: return ct_nan<T>();
    }
}

// a, b: the op's parameters (CLAMP/HARDTANH: the launcher passes -inf/+inf for no bound).
template <typename T> __device__ __forceinline__ T un_apply(int op, T x, T a, T b) {
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, NAMES, UFUNC, FWD, BWD) case CT_UN_##NAME: return (FWD);
#define BINARY(NAME, ...)
#include "../../_table/elementwise.def"
#undef UNARY
#undef BINARY
        default: return ct_nan<T>();
    }
}

// Ops that save nothing (NEG, SIGN, FLOOR, ...) have no kernel gradient: NaN marks misuse.
#define CT_GRAD_CASE_NONE(NAME, BWD)
#define CT_GRAD_CASE_X(NAME, BWD) case CT_UN_##NAME: return (BWD);
#define CT_GRAD_CASE_Y(NAME, BWD) case CT_UN_##NAME: return (BWD);
#define CT_GRAD_CASE_XY(NAME, BWD) case CT_UN_##NAME: return (BWD);
template <typename T> __device__ __forceinline__ T un_grad(int op, T g, T x, T y, T a, T b) {
    switch (op) {
#define UNARY(NAME, SAVES, FLAGS, NAMES, UFUNC, FWD, BWD) CT_GRAD_CASE_##SAVES(NAME, BWD)
#define BINARY(NAME, ...)
#include "../../_table/elementwise.def"
#undef UNARY
#undef BINARY
        default: return ct_nan<T>();
    }
}

// ---------------------------------------------------------------------------------------
// binary: out[i] = x[i] op y[i].  Vectorized (float4 / double2) when all three pointers are
// 16-byte aligned (CuPy allocations are 256-byte aligned; views may not be).
// ---------------------------------------------------------------------------------------
template <typename T>
__global__ void binary_kernel(int op, const T* __restrict__ x, const T* __restrict__ y,
                              T* __restrict__ out, ct_i64 n) {
    typedef typename ct_vec<T>::type V;
    const int W = ct_vec<T>::width;
    ct_i64 head = 0;
    if (ct_aligned16(x) && ct_aligned16(y) && ct_aligned16(out)) {
        const ct_i64 nv = n / W;
        const V* xv = reinterpret_cast<const V*>(x);
        const V* yv = reinterpret_cast<const V*>(y);
        V* ov = reinterpret_cast<V*>(out);
        CT_LOOP(i, nv) {
            V a = xv[i], b = yv[i], r;
            const T* pa = reinterpret_cast<const T*>(&a);
            const T* pb = reinterpret_cast<const T*>(&b);
            T* pr = reinterpret_cast<T*>(&r);
#pragma unroll
            for (int k = 0; k < W; ++k) pr[k] = bin_apply(op, pa[k], pb[k]);
            ov[i] = r;
        }
        head = nv * W;
    }
    CT_LOOP(j, n - head) {
        const ct_i64 i = head + j;
        out[i] = bin_apply(op, x[i], y[i]);
    }
}

template <typename T>
__global__ void binary_scalar_kernel(int op, const T* __restrict__ x, T s, T* __restrict__ out,
                                     ct_i64 n, int reverse) {
    typedef typename ct_vec<T>::type V;
    const int W = ct_vec<T>::width;
    ct_i64 head = 0;
    if (ct_aligned16(x) && ct_aligned16(out)) {
        const ct_i64 nv = n / W;
        const V* xv = reinterpret_cast<const V*>(x);
        V* ov = reinterpret_cast<V*>(out);
        CT_LOOP(i, nv) {
            V a = xv[i], r;
            const T* pa = reinterpret_cast<const T*>(&a);
            T* pr = reinterpret_cast<T*>(&r);
#pragma unroll
            for (int k = 0; k < W; ++k)
                pr[k] = reverse ? bin_apply(op, s, pa[k]) : bin_apply(op, pa[k], s);
            ov[i] = r;
        }
        head = nv * W;
    }
    CT_LOOP(j, n - head) {
        const ct_i64 i = head + j;
        out[i] = reverse ? bin_apply(op, s, x[i]) : bin_apply(op, x[i], s);
    }
}

// out[i,j,k] = x[i,j,k] op y[j]; 32-bit index arithmetic when the size allows (64-bit
// division is several times slower on the GPU).
template <typename T>
__global__ void binary_bcast_kernel(int op, const T* __restrict__ x, const T* __restrict__ y,
                                    T* __restrict__ out, ct_i64 outer, ct_i64 mid, ct_i64 inner,
                                    int reverse) {
    const ct_i64 n = outer * mid * inner;
    if (n <= 0xffffffffLL) {
        const ct_u32 um = (ct_u32)mid, ui = (ct_u32)inner;
        CT_LOOP(i, n) {
            const T yv = y[(((ct_u32)i) / ui) % um];
            out[i] = reverse ? bin_apply(op, yv, x[i]) : bin_apply(op, x[i], yv);
        }
    } else {
        CT_LOOP(i, n) {
            const T yv = y[(i / inner) % mid];
            out[i] = reverse ? bin_apply(op, yv, x[i]) : bin_apply(op, x[i], yv);
        }
    }
}

template <typename T>
__global__ void unary_kernel(int op, const T* __restrict__ x, T* __restrict__ out, ct_i64 n,
                             T a, T b) {
    typedef typename ct_vec<T>::type V;
    const int W = ct_vec<T>::width;
    ct_i64 head = 0;
    if (ct_aligned16(x) && ct_aligned16(out)) {
        const ct_i64 nv = n / W;
        const V* xv = reinterpret_cast<const V*>(x);
        V* ov = reinterpret_cast<V*>(out);
        CT_LOOP(i, nv) {
            V v = xv[i], r;
            const T* pv = reinterpret_cast<const T*>(&v);
            T* pr = reinterpret_cast<T*>(&r);
#pragma unroll
            for (int k = 0; k < W; ++k) pr[k] = un_apply(op, pv[k], a, b);
            ov[i] = r;
        }
        head = nv * W;
    }
    CT_LOOP(j, n - head) {
        const ct_i64 i = head + j;
        out[i] = un_apply(op, x[i], a, b);
    }
}

template <typename T>
__global__ void unary_backward_kernel(int op, const T* __restrict__ gy, const T* __restrict__ x,
                                      const T* __restrict__ y, T* __restrict__ gx, ct_i64 n, T a,
                                      T b) {
    CT_LOOP(i, n) gx[i] = un_grad(op, gy[i], x[i], y[i], a, b);
}

template <typename T>
__global__ void where_kernel(const ct_u8* __restrict__ cond, const T* __restrict__ x,
                             const T* __restrict__ y, T* __restrict__ out, ct_i64 n) {
    CT_LOOP(i, n) out[i] = cond[i] ? x[i] : y[i];
}

template <typename T> __global__ void fill_kernel(T* __restrict__ out, T value, ct_i64 n) {
    typedef typename ct_vec<T>::type V;
    const int W = ct_vec<T>::width;
    ct_i64 head = 0;
    if (ct_aligned16(out)) {
        V r;
        T* pr = reinterpret_cast<T*>(&r);
#pragma unroll
        for (int k = 0; k < W; ++k) pr[k] = value;
        V* ov = reinterpret_cast<V*>(out);
        const ct_i64 nv = n / W;
        CT_LOOP(i, nv) ov[i] = r;
        head = nv * W;
    }
    CT_LOOP(j, n - head) out[head + j] = value;
}

template <typename T>
__global__ void copy_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 n) {
    typedef typename ct_vec<T>::type V;
    const int W = ct_vec<T>::width;
    ct_i64 head = 0;
    if (ct_aligned16(x) && ct_aligned16(out)) {
        const V* xv = reinterpret_cast<const V*>(x);
        V* ov = reinterpret_cast<V*>(out);
        const ct_i64 nv = n / W;
        CT_LOOP(i, nv) ov[i] = xv[i];
        head = nv * W;
    }
    CT_LOOP(j, n - head) out[head + j] = x[head + j];
}

// y += alpha * x (in place)
template <typename T>
__global__ void axpy_kernel(T alpha, const T* __restrict__ x, T* __restrict__ y, ct_i64 n) {
    CT_LOOP(i, n) y[i] += alpha * x[i];
}

template <typename T>
__global__ void scale_kernel(const T* __restrict__ x, T alpha, T* __restrict__ out, ct_i64 n) {
    CT_LOOP(i, n) out[i] = x[i] * alpha;
}

// ---------------------------------------------------------------------------------------
// float16 / bfloat16 storage: load 16-bit, compute the table's float expression, round once
// (__float2half_rn / __float2bfloat16_rn).  Plain extern "C" kernels, one per storage type
// (<name>_f16, <name>_bf16), compiled only where the toolkit's fp16/bf16 headers are visible
// (NVRTC without them keeps the rest of the family working).
// ---------------------------------------------------------------------------------------
#if defined(__has_include)
#if __has_include(<cuda_fp16.h>) && __has_include(<cuda_bf16.h>)
#define CT_HAVE_HALF_KERNELS 1
#endif
#endif

#ifdef CT_HAVE_HALF_KERNELS
#include <cuda_bf16.h>
#include <cuda_fp16.h>

__device__ __forceinline__ float ct_ld(__half v) { return __half2float(v); }
__device__ __forceinline__ float ct_ld(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ void ct_st(__half* p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void ct_st(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }

#define CT_HALF_FAMILY(S, SFX)                                                                \
    extern "C" __global__ void binary_##SFX(int op, const S* __restrict__ x,                  \
                                            const S* __restrict__ y, S* __restrict__ out,     \
                                            ct_i64 n) {                                       \
        CT_LOOP(i, n) ct_st(out + i, bin_apply(op, ct_ld(x[i]), ct_ld(y[i])));                \
    }                                                                                         \
    extern "C" __global__ void binary_scalar_##SFX(int op, const S* __restrict__ x, float s,  \
                                                   S* __restrict__ out, ct_i64 n,             \
                                                   int reverse) {                             \
        CT_LOOP(i, n) {                                                                       \
            const float v = ct_ld(x[i]);                                                      \
            ct_st(out + i, reverse ? bin_apply(op, s, v) : bin_apply(op, v, s));              \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void binary_bcast_##SFX(int op, const S* __restrict__ x,            \
                                                  const S* __restrict__ y,                    \
                                                  S* __restrict__ out, ct_i64 n, ct_i64 mid,  \
                                                  ct_i64 inner, int reverse) {                \
        CT_LOOP(i, n) {                                                                       \
            const float xv = ct_ld(x[i]), yv = ct_ld(y[(i / inner) % mid]);                   \
            ct_st(out + i, reverse ? bin_apply(op, yv, xv) : bin_apply(op, xv, yv));          \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void unary_##SFX(int op, const S* __restrict__ x,                   \
                                           S* __restrict__ out, ct_i64 n, float a, float b) { \
        CT_LOOP(i, n) ct_st(out + i, un_apply(op, ct_ld(x[i]), a, b));                        \
    }                                                                                         \
    extern "C" __global__ void unary_backward_##SFX(                                          \
        int op, const S* __restrict__ gy, const S* __restrict__ x, const S* __restrict__ y,   \
        S* __restrict__ gx, ct_i64 n, float a, float b) {                                     \
        CT_LOOP(i, n)                                                                         \
        ct_st(gx + i, un_grad(op, ct_ld(gy[i]), ct_ld(x[i]), ct_ld(y[i]), a, b));             \
    }

CT_HALF_FAMILY(__half, f16)
CT_HALF_FAMILY(__nv_bfloat16, bf16)
#undef CT_HALF_FAMILY
#endif
