// elementwise family: binary / unary ops, their gradients, where, fill, copy, axpy, scale.
// Contract: docs/kernels.md "elementwise".  Op codes must match BIN_* / UN_* there.
#include "common.cuh"

// Binary op codes.
#define BIN_ADD 0
#define BIN_SUB 1
#define BIN_MUL 2
#define BIN_DIV 3
#define BIN_MAX 4
#define BIN_MIN 5
#define BIN_POW 6

// Unary op codes, numbered in the order of docs/kernels.md.
#define UN_NEG 0
#define UN_ABS 1
#define UN_EXP 2
#define UN_LOG 3
#define UN_LOG1P 4
#define UN_EXPM1 5
#define UN_SQRT 6
#define UN_RSQRT 7
#define UN_SIN 8
#define UN_COS 9
#define UN_TAN 10
#define UN_TANH 11
#define UN_SIGMOID 12
#define UN_RELU 13
#define UN_ERF 14
#define UN_SIGN 15
#define UN_FLOOR 16
#define UN_CEIL 17
#define UN_ROUND 18
#define UN_RECIPROCAL 19
#define UN_SQUARE 20
#define UN_GELU 21
#define UN_GELU_TANH 22
#define UN_SILU 23
#define UN_SOFTPLUS 24
#define UN_MISH 25
#define UN_ELU 26
#define UN_LEAKY_RELU 27
#define UN_HARDTANH 28
#define UN_CLAMP 29

template <typename T> __device__ __forceinline__ T bin_apply(int op, T a, T b) {
    switch (op) {
        case BIN_ADD: return a + b;
        case BIN_SUB: return a - b;
        case BIN_MUL: return a * b;
        case BIN_DIV: return a / b;
        case BIN_MAX: return ct_max_nan(a, b);
        case BIN_MIN: return ct_min_nan(a, b);
        case BIN_POW: return ct_pow(a, b);
        default: return ct_nan<T>();
    }
}

template <typename T> __device__ __forceinline__ T sigmoid_of(T x) {
    return (T)1 / ((T)1 + ct_exp(-x));
}

// torch.sign: -1, 0 or 1, and 0 for NaN (torch's (0 < x) - (x < 0), unlike numpy.sign).
template <typename T> __device__ __forceinline__ T sign_of(T x) {
    return (T)(x > (T)0) - (T)(x < (T)0);
}

template <typename T> __device__ __forceinline__ T softplus_of(T x, T beta, T threshold) {
    return (x * beta > threshold) ? x : ct_log1p(ct_exp(x * beta)) / beta;
}

template <typename T> __device__ __forceinline__ T un_apply(int op, T x, T a, T b) {
    switch (op) {
        case UN_NEG: return -x;
        case UN_ABS: return ct_fabs(x);
        case UN_EXP: return ct_exp(x);
        case UN_LOG: return ct_log(x);
        case UN_LOG1P: return ct_log1p(x);
        case UN_EXPM1: return ct_expm1(x);
        case UN_SQRT: return ct_sqrt(x);
        case UN_RSQRT: return (T)1 / ct_sqrt(x);  // exact, not the approximate rsqrtf
        case UN_SIN: return ct_sin(x);
        case UN_COS: return ct_cos(x);
        case UN_TAN: return ct_tan(x);
        case UN_TANH: return ct_tanh(x);
        case UN_SIGMOID: return sigmoid_of(x);
        case UN_RELU: return x < (T)0 ? (T)0 : x;  // NaN propagates
        case UN_ERF: return ct_erf(x);
        case UN_SIGN: return sign_of(x);
        case UN_FLOOR: return ct_floor(x);
        case UN_CEIL: return ct_ceil(x);
        case UN_ROUND: return ct_rint(x);
        case UN_RECIPROCAL: return (T)1 / x;
        case UN_SQUARE: return x * x;
        case UN_GELU: return (T)0.5 * x * ((T)1 + ct_erf(x * (T)0.70710678118654752440));
        case UN_GELU_TANH: {
            const T inner = (T)0.79788456080286535588 * (x + (T)0.044715 * x * x * x);
            return (T)0.5 * x * ((T)1 + ct_tanh(inner));
        }
        case UN_SILU: return x * sigmoid_of(x);
        case UN_SOFTPLUS: return softplus_of(x, a, b);
        case UN_MISH: return x * ct_tanh(softplus_of(x, (T)1, (T)20));
        case UN_ELU: return x > (T)0 ? x : a * ct_expm1(x);
        case UN_LEAKY_RELU: return x > (T)0 ? x : x * a;
        case UN_HARDTANH: return x < a ? a : (x > b ? b : x);
        case UN_CLAMP: {  // torch.clamp: min first, then max; a NaN bound means no bound
            T r = x;
            if (!ct_isnan(a) && r < a) r = a;
            if (!ct_isnan(b) && r > b) r = b;
            return r;
        }
        default: return ct_nan<T>();
    }
}

template <typename T> __device__ __forceinline__ T un_grad(int op, T g, T x, T y, T a, T b) {
    switch (op) {
        case UN_ABS: return g * sign_of(x);
        case UN_EXP: return g * y;
        case UN_LOG: return g / x;
        case UN_LOG1P: return g / ((T)1 + x);
        case UN_EXPM1: return g * (y + (T)1);
        case UN_SQRT: return g / ((T)2 * y);
        case UN_RSQRT: return (T)-0.5 * g * y * y * y;
        case UN_SIN: return g * ct_cos(x);
        case UN_COS: return -g * ct_sin(x);
        case UN_TAN: return g * ((T)1 + y * y);
        case UN_TANH: return g * ((T)1 - y * y);
        case UN_SIGMOID: return g * y * ((T)1 - y);
        case UN_RELU: return y > (T)0 ? g : (T)0;
        case UN_ERF: return g * (T)1.12837916709551257390 * ct_exp(-x * x);
        case UN_RECIPROCAL: return -g * y * y;
        case UN_SQUARE: return (T)2 * x * g;
        case UN_GELU: {
            const T cdf = (T)0.5 * ((T)1 + ct_erf(x * (T)0.70710678118654752440));
            const T pdf = ct_exp((T)-0.5 * x * x) * (T)0.39894228040143267794;
            return g * (cdf + x * pdf);
        }
        case UN_GELU_TANH: {
            const T kb = (T)0.79788456080286535588, kk = (T)0.044715;
            const T x2 = x * x;
            const T t = ct_tanh(kb * (x + kk * x2 * x));
            const T left = (T)0.5 * x, right = (T)1 + t;
            const T dleft = (T)0.5 * right;
            const T dright = left * ((T)1 - t * t) * kb * ((T)1 + (T)3 * kk * x2);
            return g * (dleft + dright);
        }
        case UN_SILU: {
            const T s = sigmoid_of(x);
            return g * s * ((T)1 + x * ((T)1 - s));
        }
        case UN_SOFTPLUS: {
            if (x * a > b) return g;
            const T z = ct_exp(x * a);
            return g * z / (z + (T)1);
        }
        case UN_MISH: {
            const T s = sigmoid_of(x);
            const T t = ct_tanh(softplus_of(x, (T)1, (T)20));
            return g * (t + x * s * ((T)1 - t * t));
        }
        case UN_ELU: return x > (T)0 ? g : g * a * ct_exp(x);
        case UN_LEAKY_RELU: return x > (T)0 ? g : g * a;
        case UN_HARDTANH: return (x <= a || x >= b) ? (T)0 : g;
        case UN_CLAMP: {
            const bool lo_ok = ct_isnan(a) || x >= a;
            const bool hi_ok = ct_isnan(b) || x <= b;
            return (lo_ok && hi_ok) ? g : (T)0;
        }
        default: return ct_nan<T>();  // NEG/SIGN/FLOOR/... have no kernel gradient
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
