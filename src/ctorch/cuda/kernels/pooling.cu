// pooling family: 2-D max and average pooling.  Contract: docs/kernels.md "pooling".
// Layout NCHW, flat; indices saved by max pooling are flat positions h*W + w in the plane.
#include "common.cuh"

template <typename T>
__global__ void maxpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                         ct_i64* __restrict__ idx, ct_i64 N, ct_i64 C, ct_i64 H,
                                         ct_i64 W, ct_i64 kh, ct_i64 kw, ct_i64 sh, ct_i64 sw,
                                         ct_i64 ph, ct_i64 pw, ct_i64 dh, ct_i64 dw, ct_i64 oh,
                                         ct_i64 ow) {
    CT_LOOP(i, N * C * oh * ow) {
        const ct_i64 ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
        const T* xp = x + plane * H * W;
        T best = -ct_inf<T>();
        ct_i64 bi = -1;
        for (ct_i64 ki = 0; ki < kh; ++ki) {
            const ct_i64 h = oy * sh - ph + ki * dh;
            if (h < 0 || h >= H) continue;
            for (ct_i64 kj = 0; kj < kw; ++kj) {
                const ct_i64 w = ox * sw - pw + kj * dw;
                if (w < 0 || w >= W) continue;
                const T v = xp[h * W + w];
                // torch: take a larger value or any NaN (so the last NaN wins)
                if (bi < 0 || v > best || ct_isnan(v)) { best = v; bi = h * W + w; }
            }
        }
        y[i] = best;  // -inf (padding) if the window saw no input
        idx[i] = bi < 0 ? 0 : bi;
    }
}

// Scatter-add of gy into gx at the saved indices.  Overlapping windows (stride < kernel)
// make the order of atomicAdds, hence the last bits of gx, run-dependent.
template <typename T>
__global__ void maxpool2d_backward_kernel(const T* __restrict__ gy, const ct_i64* __restrict__ idx,
                                          T* __restrict__ gx, ct_i64 planes, ct_i64 hw,
                                          ct_i64 ohw) {
    CT_LOOP(i, planes * ohw) {
        const ct_i64 plane = i / ohw;
        atomicAdd(gx + plane * hw + idx[i], gy[i]);
    }
}

// Divisor of the window starting at (hs, ws) (torch's avg_pool2d rule, ceil_mode included).
__device__ __forceinline__ ct_i64 avg_divisor(ct_i64 hs, ct_i64 ws, ct_i64 H, ct_i64 W,
                                              ct_i64 kh, ct_i64 kw, ct_i64 ph, ct_i64 pw,
                                              int count_include_pad, ct_i64 divisor_override,
                                              ct_i64* h0, ct_i64* h1, ct_i64* w0, ct_i64* w1) {
    ct_i64 he = hs + kh < H + ph ? hs + kh : H + ph;
    ct_i64 we = ws + kw < W + pw ? ws + kw : W + pw;
    const ct_i64 pool = (he - hs) * (we - ws);
    *h0 = hs > 0 ? hs : 0;
    *w0 = ws > 0 ? ws : 0;
    *h1 = he < H ? he : H;
    *w1 = we < W ? we : W;
    if (divisor_override > 0) return divisor_override;
    return count_include_pad ? pool : (*h1 - *h0) * (*w1 - *w0);
}

template <typename T>
__global__ void avgpool2d_forward_kernel(const T* __restrict__ x, T* __restrict__ y, ct_i64 N,
                                         ct_i64 C, ct_i64 H, ct_i64 W, ct_i64 kh, ct_i64 kw,
                                         ct_i64 sh, ct_i64 sw, ct_i64 ph, ct_i64 pw, ct_i64 oh,
                                         ct_i64 ow, int count_include_pad,
                                         ct_i64 divisor_override) {
    CT_LOOP(i, N * C * oh * ow) {
        const ct_i64 ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
        ct_i64 h0, h1, w0, w1;
        const ct_i64 div = avg_divisor(oy * sh - ph, ox * sw - pw, H, W, kh, kw, ph, pw,
                                       count_include_pad, divisor_override, &h0, &h1, &w0, &w1);
        const T* xp = x + plane * H * W;
        T acc = (T)0;
        for (ct_i64 h = h0; h < h1; ++h)
            for (ct_i64 w = w0; w < w1; ++w) acc += xp[h * W + w];
        y[i] = acc / (T)div;
    }
}

// Gather form: one thread per input pixel sums gy / divisor over the windows that hold it
// (deterministic, no atomics) and writes gx.
template <typename T>
__global__ void avgpool2d_backward_kernel(const T* __restrict__ gy, T* __restrict__ gx, ct_i64 N,
                                          ct_i64 C, ct_i64 H, ct_i64 W, ct_i64 kh, ct_i64 kw,
                                          ct_i64 sh, ct_i64 sw, ct_i64 ph, ct_i64 pw, ct_i64 oh,
                                          ct_i64 ow, int count_include_pad,
                                          ct_i64 divisor_override) {
    CT_LOOP(i, N * C * H * W) {
        const ct_i64 w = i % W, h = (i / W) % H, plane = i / (W * H);
        // windows oy with oy*sh - ph <= h < oy*sh - ph + kh
        const ct_i64 hp = h + ph, wp = w + pw;
        const ct_i64 oy0 = hp < kh ? 0 : (hp - kh) / sh + 1;
        const ct_i64 ox0 = wp < kw ? 0 : (wp - kw) / sw + 1;
        const ct_i64 oy1 = hp / sh < oh - 1 ? hp / sh : oh - 1;
        const ct_i64 ox1 = wp / sw < ow - 1 ? wp / sw : ow - 1;
        const T* gp = gy + plane * oh * ow;
        T acc = (T)0;
        for (ct_i64 oy = oy0; oy <= oy1; ++oy)
            for (ct_i64 ox = ox0; ox <= ox1; ++ox) {
                ct_i64 h0, h1, w0, w1;
                const ct_i64 div = avg_divisor(oy * sh - ph, ox * sw - pw, H, W, kh, kw, ph, pw,
                                               count_include_pad, divisor_override, &h0, &h1,
                                               &w0, &w1);
                acc += gp[oy * ow + ox] / (T)div;
            }
        gx[i] = acc;
    }
}
