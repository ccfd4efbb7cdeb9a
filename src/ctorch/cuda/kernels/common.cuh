// Shared device helpers for ctorch's CUDA kernels.
//
// Compiled two ways: at run time by NVRTC through CuPy's RawModule (ctorch/cuda/_loader.py
// pastes this header in place of `#include "common.cuh"`, so CuPy's on-disk cache key covers
// it), and ahead of time by nvcc in tools/check_cuda.py.  It therefore includes NO headers:
// NVRTC ships no C/C++ standard library, and the CUDA math functions are builtin in both.
//
// Conventions:
// - every kernel is `template <typename T> __global__`, instantiated for float and double
//   through RawModule's name_expressions ("name<float>", "name<double>");
// - sizes and indices are `long long` (the launchers pass numpy.int64), op codes and flags
//   are `int` (numpy.int32), float scalars are `T` (numpy.float32 / numpy.float64);
// - element loops are grid-stride loops, so any grid size is correct.
#ifndef CT_COMMON_CUH
#define CT_COMMON_CUH

typedef long long ct_i64;
typedef unsigned long long ct_u64;
typedef unsigned int ct_u32;
typedef unsigned char ct_u8;

#define CT_WARP 32
#define CT_FULL_MASK 0xffffffffu

// Grid-stride loop over [0, n).
#define CT_LOOP(i, n)                                                               \
    for (ct_i64 i = (ct_i64)blockIdx.x * blockDim.x + threadIdx.x; i < (ct_i64)(n); \
         i += (ct_i64)blockDim.x * gridDim.x)

// Block-stride loop over [0, n) (one block cooperates on one row / channel).
#define CT_BLOCK_LOOP(i, n) for (ct_i64 i = threadIdx.x; i < (ct_i64)(n); i += blockDim.x)

// ---------------------------------------------------------------------------------------
// Type-generic math: explicit float/double overloads (no reliance on <cmath> overloads).
// ---------------------------------------------------------------------------------------
#define CT_MATH1(name, ff, df)                                        \
    __device__ __forceinline__ float name(float x) { return ff(x); } \
    __device__ __forceinline__ double name(double x) { return df(x); }

CT_MATH1(ct_exp, expf, exp)
CT_MATH1(ct_log, logf, log)
CT_MATH1(ct_log1p, log1pf, log1p)
CT_MATH1(ct_expm1, expm1f, expm1)
CT_MATH1(ct_sqrt, sqrtf, sqrt)
CT_MATH1(ct_rsqrt, rsqrtf, rsqrt)
CT_MATH1(ct_sin, sinf, sin)
CT_MATH1(ct_cos, cosf, cos)
CT_MATH1(ct_tan, tanf, tan)
CT_MATH1(ct_tanh, tanhf, tanh)
CT_MATH1(ct_erf, erff, erf)
CT_MATH1(ct_fabs, fabsf, fabs)
CT_MATH1(ct_floor, floorf, floor)
CT_MATH1(ct_ceil, ceilf, ceil)
CT_MATH1(ct_rint, rintf, rint)  // round half to even in the default rounding mode
CT_MATH1(ct_exp2, exp2f, exp2)
CT_MATH1(ct_log2, log2f, log2)
CT_MATH1(ct_log10, log10f, log10)
CT_MATH1(ct_asin, asinf, asin)
CT_MATH1(ct_acos, acosf, acos)
CT_MATH1(ct_atan, atanf, atan)
CT_MATH1(ct_sinh, sinhf, sinh)
CT_MATH1(ct_cosh, coshf, cosh)
CT_MATH1(ct_asinh, asinhf, asinh)
CT_MATH1(ct_acosh, acoshf, acosh)
CT_MATH1(ct_atanh, atanhf, atanh)
CT_MATH1(ct_trunc, truncf, trunc)
#undef CT_MATH1

__device__ __forceinline__ float ct_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double ct_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ bool ct_isnan(float x) { return x != x; }
__device__ __forceinline__ bool ct_isnan(double x) { return x != x; }

template <typename T> __device__ __forceinline__ T ct_inf();
template <> __device__ __forceinline__ float ct_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double ct_inf<double>() {
    return __longlong_as_double(0x7ff0000000000000LL);
}
template <typename T> __device__ __forceinline__ T ct_nan();
template <> __device__ __forceinline__ float ct_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double ct_nan<double>() {
    return __longlong_as_double(0x7ff8000000000000LL);
}

// NaN-propagating max/min (torch.maximum / torch.minimum); on a tie (+0.0 against -0.0)
// the first operand, as the CPU kernels (_elementwise_tmpl.h).
template <typename T> __device__ __forceinline__ T ct_max_nan(T a, T b) {
    return (!ct_isnan(a) && (ct_isnan(b) || b > a)) ? b : a;
}
template <typename T> __device__ __forceinline__ T ct_min_nan(T a, T b) {
    return (!ct_isnan(a) && (ct_isnan(b) || b < a)) ? b : a;
}

// ---------------------------------------------------------------------------------------
// Warp and block reductions.  Block reductions need blockDim.x a multiple of 32 (<= 1024)
// and a __shared__ scratch of 32 elements; the result is broadcast to every thread.
// Summation order depends only on blockDim.x, never on timing: results are deterministic.
// ---------------------------------------------------------------------------------------
template <typename A> __device__ __forceinline__ A ct_warp_sum(A v) {
#pragma unroll
    for (int off = CT_WARP / 2; off > 0; off >>= 1) v += __shfl_xor_sync(CT_FULL_MASK, v, off);
    return v;
}
template <typename A> __device__ __forceinline__ A ct_warp_max(A v) {
#pragma unroll
    for (int off = CT_WARP / 2; off > 0; off >>= 1) v = ct_max_nan(v, __shfl_xor_sync(CT_FULL_MASK, v, off));
    return v;
}

template <typename A> __device__ __forceinline__ A ct_block_sum(A v, A* sh) {
    const int lane = threadIdx.x % CT_WARP, warp = threadIdx.x / CT_WARP;
    const int nwarps = (blockDim.x + CT_WARP - 1) / CT_WARP;
    v = ct_warp_sum(v);
    __syncthreads();  // sh may still be read by a previous call
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = (threadIdx.x < nwarps) ? sh[threadIdx.x] : (A)0;
    if (warp == 0) v = ct_warp_sum(v);
    if (threadIdx.x == 0) sh[0] = v;
    __syncthreads();
    return sh[0];
}
template <typename A> __device__ __forceinline__ A ct_block_max(A v, A* sh) {
    const int lane = threadIdx.x % CT_WARP, warp = threadIdx.x / CT_WARP;
    const int nwarps = (blockDim.x + CT_WARP - 1) / CT_WARP;
    v = ct_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = (threadIdx.x < nwarps) ? sh[threadIdx.x] : -ct_inf<A>();
    if (warp == 0) v = ct_warp_max(v);
    if (threadIdx.x == 0) sh[0] = v;
    __syncthreads();
    return sh[0];
}

// (value, index) arg-extreme: a NaN wins, ties go to the lower index.
template <typename T>
__device__ __forceinline__ bool ct_arg_better(T a, ct_i64 ia, T b, ct_i64 ib, int is_max) {
    // true if (a, ia) should be kept over (b, ib)
    if (ib < 0) return true;
    if (ia < 0) return false;
    const bool na = ct_isnan(a), nb = ct_isnan(b);
    if (na || nb) return na && (!nb || ia < ib);
    if (a == b) return ia < ib;
    return is_max ? (a > b) : (a < b);
}
template <typename T>
__device__ __forceinline__ void ct_block_arg(T& v, ct_i64& idx, T* shv, ct_i64* shi, int is_max) {
    const int lane = threadIdx.x % CT_WARP, warp = threadIdx.x / CT_WARP;
    const int nwarps = (blockDim.x + CT_WARP - 1) / CT_WARP;
#pragma unroll
    for (int off = CT_WARP / 2; off > 0; off >>= 1) {
        T ov = __shfl_xor_sync(CT_FULL_MASK, v, off);
        ct_i64 oi = __shfl_xor_sync(CT_FULL_MASK, idx, off);
        if (!ct_arg_better(v, idx, ov, oi, is_max)) { v = ov; idx = oi; }
    }
    __syncthreads();
    if (lane == 0) { shv[warp] = v; shi[warp] = idx; }
    __syncthreads();
    if (warp == 0) {
        if (threadIdx.x < nwarps) { v = shv[threadIdx.x]; idx = shi[threadIdx.x]; }
        else { idx = -1; }
#pragma unroll
        for (int off = CT_WARP / 2; off > 0; off >>= 1) {
            T ov = __shfl_xor_sync(CT_FULL_MASK, v, off);
            ct_i64 oi = __shfl_xor_sync(CT_FULL_MASK, idx, off);
            if (!ct_arg_better(v, idx, ov, oi, is_max)) { v = ov; idx = oi; }
        }
        if (threadIdx.x == 0) { shv[0] = v; shi[0] = idx; }
    }
    __syncthreads();
    v = shv[0];
    idx = shi[0];
}

// ---------------------------------------------------------------------------------------
// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11).  Output depends only
// on (key = seed, counter = offset + element index), so any launch geometry gives the same
// stream, and a (seed, offset) pair replays it exactly.
// ---------------------------------------------------------------------------------------
struct ct_u32x4 { ct_u32 x, y, z, w; };

__device__ __forceinline__ ct_u32x4 ct_philox(ct_u64 seed, ct_u64 counter) {
    ct_u32 c0 = (ct_u32)counter, c1 = (ct_u32)(counter >> 32), c2 = 0u, c3 = 0u;
    ct_u32 k0 = (ct_u32)seed, k1 = (ct_u32)(seed >> 32);
#pragma unroll
    for (int r = 0; r < 10; ++r) {
        const ct_u32 hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const ct_u32 hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const ct_u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    ct_u32x4 r;
    r.x = c0; r.y = c1; r.z = c2; r.w = c3;
    return r;
}

// Uniform in [0, 1): 24 random bits for float, 53 for double.
template <typename T> __device__ __forceinline__ T ct_uniform(ct_u64 seed, ct_u64 counter);
template <> __device__ __forceinline__ float ct_uniform<float>(ct_u64 seed, ct_u64 counter) {
    return (float)(ct_philox(seed, counter).x >> 8) * 5.9604644775390625e-08f;  // 2^-24
}
template <> __device__ __forceinline__ double ct_uniform<double>(ct_u64 seed, ct_u64 counter) {
    const ct_u32x4 r = ct_philox(seed, counter);
    const ct_u64 bits = (((ct_u64)r.x << 32) | r.y) >> 11;
    return (double)bits * 1.1102230246251565e-16;  // 2^-53
}

// 16-byte vector type for the vectorized elementwise paths: 4 floats or 2 doubles.
template <typename T> struct ct_vec;
template <> struct ct_vec<float> { typedef float4 type; static const int width = 4; };
template <> struct ct_vec<double> { typedef double2 type; static const int width = 2; };

__device__ __forceinline__ bool ct_aligned16(const void* p) {
    return (((ct_u64)p) & 15ull) == 0ull;
}

#endif  // CT_COMMON_CUH
