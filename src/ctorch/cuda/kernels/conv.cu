// conv family: im2col / col2im around cuBLAS GEMM (cupy.matmul on the Python side).
// Contract: docs/kernels.md "conv".  x is (N, C, H, W), cols is (N, C*kh*kw, oh*ow), both flat.
#include "common.cuh"

// One thread per element of cols; consecutive threads write consecutive output positions.
template <typename T>
__global__ void im2col_kernel(const T* __restrict__ x, T* __restrict__ cols, ct_i64 N, ct_i64 C,
                              ct_i64 H, ct_i64 W, ct_i64 kh, ct_i64 kw, ct_i64 sh, ct_i64 sw,
                              ct_i64 ph, ct_i64 pw, ct_i64 dh, ct_i64 dw, ct_i64 oh,
                              ct_i64 ow) {
    const ct_i64 L = oh * ow, K = C * kh * kw;
    CT_LOOP(i, N * K * L) {
        const ct_i64 col = i % L, row = (i / L) % K, n = i / (L * K);
        const ct_i64 kj = row % kw, ki = (row / kw) % kh, c = row / (kw * kh);
        const ct_i64 ox = col % ow, oy = col / ow;
        const ct_i64 h = oy * sh - ph + ki * dh, w = ox * sw - pw + kj * dw;
        cols[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : (T)0;
    }
}

// Gather form of col2im: one thread per input pixel sums every column entry that im2col
// copied from it (no atomics, deterministic) and writes it: x is overwritten, so it need
// not be zeroed (the CPU kernel zeroes it first; same result).
template <typename T>
__global__ void col2im_kernel(const T* __restrict__ cols, T* __restrict__ x, ct_i64 N, ct_i64 C,
                              ct_i64 H, ct_i64 W, ct_i64 kh, ct_i64 kw, ct_i64 sh, ct_i64 sw,
                              ct_i64 ph, ct_i64 pw, ct_i64 dh, ct_i64 dw, ct_i64 oh,
                              ct_i64 ow) {
    const ct_i64 L = oh * ow, K = C * kh * kw;
    CT_LOOP(i, N * C * H * W) {
        const ct_i64 w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
        const T* cn = cols + n * K * L;
        T acc = (T)0;
        for (ct_i64 ki = 0; ki < kh; ++ki) {
            const ct_i64 hh = h + ph - ki * dh;
            if (hh < 0 || hh % sh != 0) continue;
            const ct_i64 oy = hh / sh;
            if (oy >= oh) continue;
            for (ct_i64 kj = 0; kj < kw; ++kj) {
                const ct_i64 ww = w + pw - kj * dw;
                if (ww < 0 || ww % sw != 0) continue;
                const ct_i64 ox = ww / sw;
                if (ox >= ow) continue;
                acc += cn[((c * kh + ki) * kw + kj) * L + oy * ow + ox];
            }
        }
        x[i] = acc;
    }
}
