// normalization family: batch norm (per channel over N and HW) and layer norm (per row).
// Contract: docs/kernels.md "normalization".  Statistics accumulate in double, two-pass.
// Optional arrays (weight, bias, gradients) arrive with a has_* flag; when the flag is 0 the
// pointer is a dummy and is never touched.
#include "common.cuh"

// One block per channel (grid-stride over channels).
template <typename T>
__global__ void batchnorm_stats_kernel(const T* __restrict__ x, T* __restrict__ mean,
                                       T* __restrict__ invstd, ct_i64 N, ct_i64 C, ct_i64 HW,
                                       double eps) {
    __shared__ double sh[32];
    const ct_i64 cnt = N * HW;
    for (ct_i64 c = blockIdx.x; c < C; c += gridDim.x) {
        double s = 0.0;
        CT_BLOCK_LOOP(e, cnt) s += (double)x[((e / HW) * C + c) * HW + e % HW];
        const double mu = ct_block_sum(s, sh) / (double)cnt;
        double q = 0.0;
        CT_BLOCK_LOOP(e, cnt) {
            const double d = (double)x[((e / HW) * C + c) * HW + e % HW] - mu;
            q += d * d;
        }
        q = ct_block_sum(q, sh) / (double)cnt;  // biased variance
        if (threadIdx.x == 0) {
            mean[c] = (T)mu;
            invstd[c] = (T)(1.0 / sqrt(q + eps));
        }
    }
}

template <typename T>
__global__ void batchnorm_apply_kernel(const T* __restrict__ x, const T* __restrict__ mean,
                                       const T* __restrict__ invstd, const T* __restrict__ w,
                                       int has_w, const T* __restrict__ b, int has_b,
                                       T* __restrict__ y, ct_i64 N, ct_i64 C, ct_i64 HW) {
    CT_LOOP(i, N * C * HW) {
        const ct_i64 c = (i / HW) % C;
        T v = (x[i] - mean[c]) * invstd[c];
        if (has_w) v *= w[c];
        if (has_b) v += b[c];
        y[i] = v;
    }
}

// One block per channel: sums of gy and gy*xhat, then gx in a second pass over the channel.
// training: gx = w*invstd*(gy - mean(gy) - xhat*mean(gy*xhat)); else gx = w*invstd*gy.
template <typename T>
__global__ void batchnorm_backward_kernel(const T* __restrict__ gy, const T* __restrict__ x,
                                          const T* __restrict__ mean,
                                          const T* __restrict__ invstd,
                                          const T* __restrict__ w, int has_w,
                                          T* __restrict__ gx, int has_gx, T* __restrict__ gw,
                                          int has_gw, T* __restrict__ gb, int has_gb, ct_i64 N,
                                          ct_i64 C, ct_i64 HW, int training) {
    __shared__ double sh[32];
    const ct_i64 cnt = N * HW;
    for (ct_i64 c = blockIdx.x; c < C; c += gridDim.x) {
        const double mu = (double)mean[c], is = (double)invstd[c];
        double sg = 0.0, sgx = 0.0;
        CT_BLOCK_LOOP(e, cnt) {
            const ct_i64 i = ((e / HW) * C + c) * HW + e % HW;
            const double g = (double)gy[i];
            sg += g;
            sgx += g * ((double)x[i] - mu) * is;
        }
        sg = ct_block_sum(sg, sh);
        sgx = ct_block_sum(sgx, sh);
        if (threadIdx.x == 0) {
            if (has_gb) gb[c] = (T)sg;
            if (has_gw) gw[c] = (T)sgx;
        }
        if (has_gx) {
            const double scale = (has_w ? (double)w[c] : 1.0) * is;
            const double mg = training ? sg / (double)cnt : 0.0;
            const double mgx = training ? sgx / (double)cnt : 0.0;
            CT_BLOCK_LOOP(e, cnt) {
                const ct_i64 i = ((e / HW) * C + c) * HW + e % HW;
                const double xhat = ((double)x[i] - mu) * is;
                gx[i] = (T)(scale * ((double)gy[i] - mg - xhat * mgx));
            }
        }
    }
}

// One block per row.
template <typename T>
__global__ void layernorm_forward_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                         int has_w, const T* __restrict__ b, int has_b,
                                         T* __restrict__ y, T* __restrict__ mean,
                                         T* __restrict__ rstd, ct_i64 M, ct_i64 D, double eps) {
    __shared__ double sh[32];
    for (ct_i64 r = blockIdx.x; r < M; r += gridDim.x) {
        const T* xr = x + r * D;
        T* yr = y + r * D;
        double s = 0.0;
        CT_BLOCK_LOOP(j, D) s += (double)xr[j];
        const double mu = ct_block_sum(s, sh) / (double)D;
        double q = 0.0;
        CT_BLOCK_LOOP(j, D) {
            const double d = (double)xr[j] - mu;
            q += d * d;
        }
        const double rs = 1.0 / sqrt(ct_block_sum(q, sh) / (double)D + eps);
        const T mu_t = (T)mu, rs_t = (T)rs;
        CT_BLOCK_LOOP(j, D) {
            T v = (xr[j] - mu_t) * rs_t;
            if (has_w) v *= w[j];
            if (has_b) v += b[j];
            yr[j] = v;
        }
        if (threadIdx.x == 0) {
            mean[r] = mu_t;
            rstd[r] = rs_t;
        }
    }
}

// gx per row: g = gy*w; gx = rstd * (g - mean(g) - xhat * mean(g*xhat)).
template <typename T>
__global__ void layernorm_backward_gx_kernel(const T* __restrict__ gy, const T* __restrict__ x,
                                             const T* __restrict__ mean,
                                             const T* __restrict__ rstd,
                                             const T* __restrict__ w, int has_w,
                                             T* __restrict__ gx, ct_i64 M, ct_i64 D) {
    __shared__ double sh[32];
    for (ct_i64 r = blockIdx.x; r < M; r += gridDim.x) {
        const T* g = gy + r * D;
        const T* xr = x + r * D;
        T* o = gx + r * D;
        const double mu = (double)mean[r], rs = (double)rstd[r];
        double s1 = 0.0, s2 = 0.0;
        CT_BLOCK_LOOP(j, D) {
            const double gj = (double)g[j] * (has_w ? (double)w[j] : 1.0);
            s1 += gj;
            s2 += gj * ((double)xr[j] - mu) * rs;
        }
        const double m1 = ct_block_sum(s1, sh) / (double)D;
        const double m2 = ct_block_sum(s2, sh) / (double)D;
        CT_BLOCK_LOOP(j, D) {
            const double gj = (double)g[j] * (has_w ? (double)w[j] : 1.0);
            const double xhat = ((double)xr[j] - mu) * rs;
            o[j] = (T)(rs * (gj - m1 - xhat * m2));
        }
    }
}

// gw/gb, stage 1: block (32, 8) owns 32 columns of one chunk of LN_CHUNK rows and writes the
// chunk's partial sums (double) to pw[chunk, d], pb[chunk, d].  Fixed chunks: deterministic.
#define LN_CHUNK 256
template <typename T>
__global__ void layernorm_backward_params_partial(const T* __restrict__ gy,
                                                  const T* __restrict__ x,
                                                  const T* __restrict__ mean,
                                                  const T* __restrict__ rstd,
                                                  double* __restrict__ pw,
                                                  double* __restrict__ pb, ct_i64 M, ct_i64 D) {
    __shared__ double shw[8][32];
    __shared__ double shb[8][32];
    const ct_i64 tiles = (D + 31) / 32, chunks = (M + LN_CHUNK - 1) / LN_CHUNK;
    for (ct_i64 t = blockIdx.x; t < tiles * chunks; t += gridDim.x) {
        const ct_i64 chunk = t / tiles, d = (t % tiles) * 32 + threadIdx.x;
        const ct_i64 r0 = chunk * LN_CHUNK;
        const ct_i64 r1 = r0 + LN_CHUNK < M ? r0 + LN_CHUNK : M;
        double aw = 0.0, ab = 0.0;
        if (d < D) {
            for (ct_i64 r = r0 + threadIdx.y; r < r1; r += 8) {
                const double g = (double)gy[r * D + d];
                aw += g * ((double)x[r * D + d] - (double)mean[r]) * (double)rstd[r];
                ab += g;
            }
        }
        shw[threadIdx.y][threadIdx.x] = aw;
        shb[threadIdx.y][threadIdx.x] = ab;
        __syncthreads();
        if (threadIdx.y == 0 && d < D) {
            double sw = 0.0, sb = 0.0;
#pragma unroll
            for (int q = 0; q < 8; ++q) {
                sw += shw[q][threadIdx.x];
                sb += shb[q][threadIdx.x];
            }
            pw[chunk * D + d] = sw;
            pb[chunk * D + d] = sb;
        }
        __syncthreads();
    }
}

// gw/gb, stage 2: one thread per column sums the chunk partials in chunk order.
template <typename T>
__global__ void layernorm_backward_params_final(const double* __restrict__ pw,
                                                const double* __restrict__ pb,
                                                T* __restrict__ gw, int has_gw,
                                                T* __restrict__ gb, int has_gb, ct_i64 chunks,
                                                ct_i64 D) {
    CT_LOOP(d, D) {
        double sw = 0.0, sb = 0.0;
        for (ct_i64 c = 0; c < chunks; ++c) {
            sw += pw[c * D + d];
            sb += pb[c * D + d];
        }
        if (has_gw) gw[d] = (T)sw;
        if (has_gb) gb[d] = (T)sb;
    }
}
