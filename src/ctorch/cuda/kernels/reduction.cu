// reduction family: sums, arg-extremes, variance, softmax-style row ops.
// Contract: docs/kernels.md "reduction".  Axis reductions see the input as (outer, mid, inner)
// and reduce mid.  Two shapes of kernel:
//  - "row" kernels (inner == 1): one block per row, block reduction (warp shuffles);
//  - "col" kernels (inner > 1): blockDim (32, 8): threadIdx.x walks inner (coalesced),
//    threadIdx.y splits mid into 8 strided partials, combined in a fixed order.
// All orders depend on the shapes only, so results are deterministic run to run.
// Sums and variances accumulate in double; softmax-style kernels accumulate in T.
#include "common.cuh"

#define COL_X 32
#define COL_Y 8

// ------------------------------ sum_all (two stages) -----------------------------------
template <typename T>
__global__ void sum_all_partial(const T* __restrict__ x, ct_i64 n, double* __restrict__ partial) {
    __shared__ double sh[32];
    double acc = 0.0;
    CT_LOOP(i, n) acc += (double)x[i];
    acc = ct_block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// One block: sums nparts partials (T is unused; kept for the uniform instantiation scheme).
template <typename T>
__global__ void sum_all_final(const double* __restrict__ partial, ct_i64 nparts,
                              double* __restrict__ out) {
    __shared__ double sh[32];
    double acc = 0.0;
    CT_BLOCK_LOOP(i, nparts) acc += partial[i];
    acc = ct_block_sum(acc, sh);
    if (threadIdx.x == 0) out[0] = acc;
}

// ------------------------------ sum over an axis ---------------------------------------
template <typename T>
__global__ void sum_row_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 rows,
                               ct_i64 n) {
    __shared__ double sh[32];
    for (ct_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        double acc = 0.0;
        CT_BLOCK_LOOP(j, n) acc += (double)xr[j];
        acc = ct_block_sum(acc, sh);
        if (threadIdx.x == 0) out[r] = (T)acc;
    }
}

// grid: (ceil(inner / 32), outer) x-tiles per outer index (grid-stride over both).
template <typename T>
__global__ void sum_col_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 outer,
                               ct_i64 mid, ct_i64 inner) {
    __shared__ double sh[COL_Y][COL_X];
    const ct_i64 tiles = (inner + COL_X - 1) / COL_X;
    for (ct_i64 t = blockIdx.x; t < tiles * outer; t += gridDim.x) {
        const ct_i64 o = t / tiles, k = (t % tiles) * COL_X + threadIdx.x;
        double acc = 0.0;
        if (k < inner) {
            const T* base = x + o * mid * inner + k;
            for (ct_i64 j = threadIdx.y; j < mid; j += COL_Y) acc += (double)base[j * inner];
        }
        sh[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && k < inner) {
            double s = 0.0;
#pragma unroll
            for (int q = 0; q < COL_Y; ++q) s += sh[q][threadIdx.x];
            out[o * inner + k] = (T)s;
        }
        __syncthreads();
    }
}

// ------------------------------ max / min over an axis --------------------------------
template <typename T>
__global__ void argext_row_kernel(const T* __restrict__ x, T* __restrict__ vals,
                                  ct_i64* __restrict__ idx, ct_i64 rows, ct_i64 n, int is_max) {
    __shared__ T shv[32];
    __shared__ ct_i64 shi[32];
    for (ct_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        T v = (T)0;
        ct_i64 vi = -1;
        CT_BLOCK_LOOP(j, n) {
            const T c = xr[j];
            if (!ct_arg_better(v, vi, c, j, is_max)) { v = c; vi = j; }
        }
        ct_block_arg(v, vi, shv, shi, is_max);
        if (threadIdx.x == 0) { vals[r] = v; idx[r] = vi; }
    }
}

template <typename T>
__global__ void argext_col_kernel(const T* __restrict__ x, T* __restrict__ vals,
                                  ct_i64* __restrict__ idx, ct_i64 outer, ct_i64 mid,
                                  ct_i64 inner, int is_max) {
    __shared__ T shv[COL_Y][COL_X];
    __shared__ ct_i64 shi[COL_Y][COL_X];
    const ct_i64 tiles = (inner + COL_X - 1) / COL_X;
    for (ct_i64 t = blockIdx.x; t < tiles * outer; t += gridDim.x) {
        const ct_i64 o = t / tiles, k = (t % tiles) * COL_X + threadIdx.x;
        T v = (T)0;
        ct_i64 vi = -1;
        if (k < inner) {
            const T* base = x + o * mid * inner + k;
            for (ct_i64 j = threadIdx.y; j < mid; j += COL_Y) {
                const T c = base[j * inner];
                if (!ct_arg_better(v, vi, c, j, is_max)) { v = c; vi = j; }
            }
        }
        shv[threadIdx.y][threadIdx.x] = v;
        shi[threadIdx.y][threadIdx.x] = vi;
        __syncthreads();
        if (threadIdx.y == 0 && k < inner) {
            for (int q = 1; q < COL_Y; ++q) {
                const T c = shv[q][threadIdx.x];
                const ct_i64 ci = shi[q][threadIdx.x];
                if (!ct_arg_better(v, vi, c, ci, is_max)) { v = c; vi = ci; }
            }
            vals[o * inner + k] = v;
            idx[o * inner + k] = vi;
        }
        __syncthreads();
    }
}

// ------------------------------ max_all / min_all (two stages) -------------------------
template <typename T>
__global__ void argext_all_partial(const T* __restrict__ x, ct_i64 n, T* __restrict__ pv,
                                   ct_i64* __restrict__ pi, int is_max) {
    __shared__ T shv[32];
    __shared__ ct_i64 shi[32];
    T v = (T)0;
    ct_i64 vi = -1;
    CT_LOOP(i, n) {
        const T c = x[i];
        if (!ct_arg_better(v, vi, c, i, is_max)) { v = c; vi = i; }
    }
    ct_block_arg(v, vi, shv, shi, is_max);
    if (threadIdx.x == 0) { pv[blockIdx.x] = v; pi[blockIdx.x] = vi; }
}

template <typename T>
__global__ void argext_all_final(const T* __restrict__ pv, const ct_i64* __restrict__ pi,
                                 ct_i64 nparts, T* __restrict__ val, ct_i64* __restrict__ idx,
                                 int is_max) {
    __shared__ T shv[32];
    __shared__ ct_i64 shi[32];
    T v = (T)0;
    ct_i64 vi = -1;
    CT_BLOCK_LOOP(i, nparts) {
        if (!ct_arg_better(v, vi, pv[i], pi[i], is_max)) { v = pv[i]; vi = pi[i]; }
    }
    ct_block_arg(v, vi, shv, shi, is_max);
    if (threadIdx.x == 0) { val[0] = v; idx[0] = vi; }
}

// ------------------------------ variance (two-pass) ------------------------------------
template <typename T>
__global__ void var_row_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 rows,
                               ct_i64 n, double correction) {
    __shared__ double sh[32];
    const double denom = fmax(0.0, (double)n - correction);
    for (ct_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        double s = 0.0;
        CT_BLOCK_LOOP(j, n) s += (double)xr[j];
        const double mean = ct_block_sum(s, sh) / (double)n;
        double q = 0.0;
        CT_BLOCK_LOOP(j, n) {
            const double d = (double)xr[j] - mean;
            q += d * d;
        }
        q = ct_block_sum(q, sh);
        if (threadIdx.x == 0) out[r] = (T)(q / denom);
    }
}

template <typename T>
__global__ void var_col_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 outer,
                               ct_i64 mid, ct_i64 inner, double correction) {
    __shared__ double sh[COL_Y][COL_X];
    const double denom = fmax(0.0, (double)mid - correction);
    const ct_i64 tiles = (inner + COL_X - 1) / COL_X;
    for (ct_i64 t = blockIdx.x; t < tiles * outer; t += gridDim.x) {
        const ct_i64 o = t / tiles, k = (t % tiles) * COL_X + threadIdx.x;
        const T* base = x + o * mid * inner + k;
        double acc = 0.0;
        if (k < inner)
            for (ct_i64 j = threadIdx.y; j < mid; j += COL_Y) acc += (double)base[j * inner];
        sh[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        double s = 0.0;
#pragma unroll
        for (int q = 0; q < COL_Y; ++q) s += sh[q][threadIdx.x];
        const double mean = s / (double)mid;
        __syncthreads();
        acc = 0.0;
        if (k < inner)
            for (ct_i64 j = threadIdx.y; j < mid; j += COL_Y) {
                const double d = (double)base[j * inner] - mean;
                acc += d * d;
            }
        sh[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && k < inner) {
            double q2 = 0.0;
#pragma unroll
            for (int q = 0; q < COL_Y; ++q) q2 += sh[q][threadIdx.x];
            out[o * inner + k] = (T)(q2 / denom);
        }
        __syncthreads();
    }
}

// ------------------------------ softmax family (last axis) -----------------------------
// mode 0: softmax, 1: log_softmax, 2: logsumexp (out has one value per row).
template <typename T>
__global__ void softmax_row_kernel(const T* __restrict__ x, T* __restrict__ out, ct_i64 rows,
                                   ct_i64 n, int mode) {
    __shared__ T sh[32];
    for (ct_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        T mx = -ct_inf<T>();
        CT_BLOCK_LOOP(j, n) mx = ct_max_nan(mx, xr[j]);
        mx = ct_block_max(mx, sh);
        // all -inf row: shift by 0 so the result is exp(-inf)/0 = NaN, like torch
        const T shift = (mx == -ct_inf<T>()) ? (T)0 : mx;
        T s = (T)0;
        CT_BLOCK_LOOP(j, n) s += ct_exp(xr[j] - shift);
        s = ct_block_sum(s, sh);
        if (mode == 2) {
            // a +inf in the row: the sum is exp(inf - inf) = NaN; torch's logsumexp shifts
            // by 0 there (its max is masked where infinite) and gives +inf
            if (threadIdx.x == 0) out[r] = (mx == ct_inf<T>()) ? mx : shift + ct_log(s);
        } else if (mode == 1) {
            const T lse = shift + ct_log(s);
            T* o = out + r * n;
            CT_BLOCK_LOOP(j, n) o[j] = xr[j] - lse;
        } else {
            const T inv = (T)1 / s;
            T* o = out + r * n;
            CT_BLOCK_LOOP(j, n) o[j] = ct_exp(xr[j] - shift) * inv;
        }
    }
}

// mode 0: gx = y * (gy - sum(gy * y));   mode 1 (log_softmax): gx = gy - exp(y) * sum(gy)
template <typename T>
__global__ void softmax_backward_row_kernel(const T* __restrict__ gy, const T* __restrict__ y,
                                            T* __restrict__ gx, ct_i64 rows, ct_i64 n,
                                            int mode) {
    __shared__ T sh[32];
    for (ct_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* g = gy + r * n;
        const T* yr = y + r * n;
        T* o = gx + r * n;
        T s = (T)0;
        if (mode == 0) {
            CT_BLOCK_LOOP(j, n) s += g[j] * yr[j];
        } else {
            CT_BLOCK_LOOP(j, n) s += g[j];
        }
        s = ct_block_sum(s, sh);
        if (mode == 0) {
            CT_BLOCK_LOOP(j, n) o[j] = yr[j] * (g[j] - s);
        } else {
            CT_BLOCK_LOOP(j, n) o[j] = g[j] - ct_exp(yr[j]) * s;
        }
    }
}
