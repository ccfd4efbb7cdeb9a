// loss family: cross entropy over the last axis with class weights, ignore_index and label
// smoothing.  Contract: docs/kernels.md "loss".  One block per row.
//
// Per-row loss (t = target, w = weight or 1, eps = label_smoothing, lp = log_softmax):
//   loss = (1 - eps) * w[t] * (-lp[t]) + eps / C * sum_c w[c] * (-lp[c]);  0 if t == ignore.
// A target outside [0, C) that is not ignore_index gives a NaN loss (and NaN gradient):
// the kernel cannot raise, and checking on the host would force a sync.
#include "common.cuh"

template <typename T>
__global__ void cross_entropy_forward_kernel(const T* __restrict__ logits,
                                             const ct_i64* __restrict__ target,
                                             const T* __restrict__ weight, int has_w,
                                             T* __restrict__ logprob, T* __restrict__ loss,
                                             ct_i64 M, ct_i64 C, ct_i64 ignore_index,
                                             T smoothing) {
    __shared__ T sh[32];
    for (ct_i64 r = blockIdx.x; r < M; r += gridDim.x) {
        const T* xr = logits + r * C;
        T* lp = logprob + r * C;
        T mx = -ct_inf<T>();
        CT_BLOCK_LOOP(j, C) mx = ct_max_nan(mx, xr[j]);
        mx = ct_block_max(mx, sh);
        const T shift = (mx == -ct_inf<T>()) ? (T)0 : mx;
        T s = (T)0;
        CT_BLOCK_LOOP(j, C) s += ct_exp(xr[j] - shift);
        const T lse = shift + ct_log(ct_block_sum(s, sh));
        T sm = (T)0;
        CT_BLOCK_LOOP(j, C) {
            const T v = xr[j] - lse;
            lp[j] = v;
            sm -= (has_w ? weight[j] : (T)1) * v;
        }
        if (smoothing != (T)0) sm = ct_block_sum(sm, sh);  // uniform branch
        if (threadIdx.x == 0) {
            const ct_i64 t = target[r];
            T out;
            if (t == ignore_index) {
                out = (T)0;
            } else if (t < 0 || t >= C) {
                out = ct_nan<T>();
            } else {
                const T wt = has_w ? weight[t] : (T)1;
                out = ((T)1 - smoothing) * wt * (-(xr[t] - lse));
                if (smoothing != (T)0) out += smoothing / (T)C * sm;
            }
            loss[r] = out;
        }
    }
}

// gx[r, c] = grow[r] * ((1-eps) * w[t] * (p_c - [c == t]) + eps/C * (sum(w) * p_c - w[c]))
template <typename T>
__global__ void cross_entropy_backward_kernel(const T* __restrict__ logprob,
                                              const ct_i64* __restrict__ target,
                                              const T* __restrict__ weight, int has_w,
                                              const T* __restrict__ grow, T* __restrict__ gx,
                                              ct_i64 M, ct_i64 C, ct_i64 ignore_index,
                                              T smoothing) {
    __shared__ T sh[32];
    for (ct_i64 r = blockIdx.x; r < M; r += gridDim.x) {
        const T* lp = logprob + r * C;
        T* o = gx + r * C;
        const ct_i64 t = target[r];
        if (t == ignore_index) {
            CT_BLOCK_LOOP(j, C) o[j] = (T)0;
            continue;
        }
        const bool bad = t < 0 || t >= C;
        T wsum = (T)C;
        if (has_w && smoothing != (T)0) {
            T s = (T)0;
            CT_BLOCK_LOOP(j, C) s += weight[j];
            wsum = ct_block_sum(s, sh);
        }
        const T g = grow[r];
        const T wt = bad ? (T)0 : (has_w ? weight[t] : (T)1);
        const T a = ((T)1 - smoothing) * wt, e = smoothing / (T)C;
        CT_BLOCK_LOOP(j, C) {
            if (bad) { o[j] = ct_nan<T>(); continue; }
            const T p = ct_exp(lp[j]);
            T v = a * (p - (j == t ? (T)1 : (T)0));
            if (smoothing != (T)0) v += e * (wsum * p - (has_w ? weight[j] : (T)1));
            o[j] = g * v;
        }
    }
}
