// nnmisc family: embedding backward, dropout masks, counter-based uniform random numbers.
// Contract: docs/kernels.md "nnmisc".
#include "common.cuh"

// Deterministic embedding backward.  The launcher sorts the indices stably (sorted[p] =
// idx[order[p]]); a thread per (position p, column d) where p starts a run of equal indices
// sums that run's gy rows in their original order and adds the sum into gw.  Indices outside
// [0, V) and padding_idx rows are skipped.
template <typename T>
__global__ void embedding_backward_sorted_kernel(const T* __restrict__ gy,
                                                 const ct_i64* __restrict__ sorted,
                                                 const ct_i64* __restrict__ order,
                                                 T* __restrict__ gw, ct_i64 n_idx, ct_i64 D,
                                                 ct_i64 V, ct_i64 padding_idx) {
    CT_LOOP(i, n_idx * D) {
        const ct_i64 p = i / D, d = i % D;
        const ct_i64 row = sorted[p];
        if (p > 0 && sorted[p - 1] == row) continue;
        if (row < 0 || row >= V || row == padding_idx) continue;
        T acc = (T)0;
        for (ct_i64 q = p; q < n_idx && sorted[q] == row; ++q) acc += gy[order[q] * D + d];
        gw[row * D + d] += acc;
    }
}

// Fast, non-deterministic variant: atomicAdd of every gy element into its gw row.
template <typename T>
__global__ void embedding_backward_atomic_kernel(const T* __restrict__ gy,
                                                 const ct_i64* __restrict__ idx,
                                                 T* __restrict__ gw, ct_i64 n_idx, ct_i64 D,
                                                 ct_i64 V, ct_i64 padding_idx) {
    CT_LOOP(i, n_idx * D) {
        const ct_i64 p = i / D, d = i % D;
        const ct_i64 row = idx[p];
        if (row < 0 || row >= V || row == padding_idx) continue;
        atomicAdd(gw + row * D + d, gy[i]);
    }
}

// mask[i] = (u[i] >= p) * scale
template <typename T>
__global__ void dropout_mask_kernel(const T* __restrict__ u, T* __restrict__ mask, ct_i64 n,
                                    T p, T scale) {
    CT_LOOP(i, n) mask[i] = u[i] >= p ? scale : (T)0;
}

// out[i] = uniform [0, 1) from Philox(seed, offset + i)
template <typename T>
__global__ void uniform_kernel(T* __restrict__ out, ct_i64 n, ct_u64 seed, ct_u64 offset) {
    CT_LOOP(i, n) out[i] = ct_uniform<T>(seed, offset + (ct_u64)i);
}

// Fused: mask[i] = (uniform(seed, offset + i) >= p) * scale, no buffer of randoms.
template <typename T>
__global__ void dropout_mask_philox_kernel(T* __restrict__ mask, ct_i64 n, T p, T scale,
                                           ct_u64 seed, ct_u64 offset) {
    CT_LOOP(i, n) mask[i] = ct_uniform<T>(seed, offset + (ct_u64)i) >= p ? scale : (T)0;
}
