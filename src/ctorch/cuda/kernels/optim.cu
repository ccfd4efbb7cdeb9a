// optim family: fused, in-place optimizer updates, one pass over each parameter.
// Contract: docs/kernels.md "optim" (+ "GPU notes" for rmsprop/adagrad/adadelta).  The maths
// follows torch.optim's single-tensor reference paths; step-dependent scalars (bias
// corrections, decayed lr) are computed on the host in double and passed as T.
#include "common.cuh"

template <typename T>
__global__ void sgd_step_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ buf,
                                int has_buf, ct_i64 n, T lr, T momentum, T dampening,
                                T weight_decay, int nesterov, int maximize, int first_step) {
    CT_LOOP(i, n) {
        T d = maximize ? -g[i] : g[i];
        if (weight_decay != (T)0) d += weight_decay * p[i];
        if (has_buf) {
            const T b = first_step ? d : momentum * buf[i] + ((T)1 - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] -= lr * d;
    }
}

// step_size = lr / (1 - beta1^step), bc2_sqrt = sqrt(1 - beta2^step).
template <typename T>
__global__ void adam_step_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m,
                                 T* __restrict__ v, T* __restrict__ vmax, int amsgrad, ct_i64 n,
                                 T lr, T beta1, T beta2, T eps, T weight_decay, T step_size,
                                 T bc2_sqrt, int maximize, int decoupled) {
    CT_LOOP(i, n) {
        T gi = maximize ? -g[i] : g[i];
        T pi = p[i];
        if (weight_decay != (T)0) {
            if (decoupled) pi *= (T)1 - lr * weight_decay;
            else gi += weight_decay * pi;
        }
        const T mi = m[i] + ((T)1 - beta1) * (gi - m[i]);  // lerp, as torch
        const T vi = beta2 * v[i] + ((T)1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        T vv = vi;
        if (amsgrad) {
            vv = vmax[i] > vi ? vmax[i] : vi;
            vmax[i] = vv;
        }
        const T denom = ct_sqrt(vv) / bc2_sqrt + eps;
        p[i] = pi - step_size * mi / denom;
    }
}

template <typename T>
__global__ void rmsprop_step_kernel(T* __restrict__ p, const T* __restrict__ g,
                                    T* __restrict__ square_avg, T* __restrict__ grad_avg,
                                    int centered, T* __restrict__ buf, int has_buf, ct_i64 n,
                                    T lr, T alpha, T eps, T weight_decay, T momentum,
                                    int maximize) {
    CT_LOOP(i, n) {
        T gi = maximize ? -g[i] : g[i];
        if (weight_decay != (T)0) gi += weight_decay * p[i];
        const T sa = alpha * square_avg[i] + ((T)1 - alpha) * gi * gi;
        square_avg[i] = sa;
        T avg;
        if (centered) {
            const T ga = grad_avg[i] + ((T)1 - alpha) * (gi - grad_avg[i]);
            grad_avg[i] = ga;
            avg = ct_sqrt(sa - ga * ga) + eps;
        } else {
            avg = ct_sqrt(sa) + eps;
        }
        if (has_buf) {
            const T b = momentum * buf[i] + gi / avg;
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * gi / avg;
        }
    }
}

// clr = lr / (1 + (step - 1) * lr_decay)
template <typename T>
__global__ void adagrad_step_kernel(T* __restrict__ p, const T* __restrict__ g,
                                    T* __restrict__ state_sum, ct_i64 n, T clr, T weight_decay,
                                    T eps, int maximize) {
    CT_LOOP(i, n) {
        T gi = maximize ? -g[i] : g[i];
        if (weight_decay != (T)0) gi += weight_decay * p[i];
        const T s = state_sum[i] + gi * gi;
        state_sum[i] = s;
        p[i] -= clr * gi / (ct_sqrt(s) + eps);
    }
}

template <typename T>
__global__ void adadelta_step_kernel(T* __restrict__ p, const T* __restrict__ g,
                                     T* __restrict__ square_avg, T* __restrict__ acc_delta,
                                     ct_i64 n, T lr, T rho, T eps, T weight_decay,
                                     int maximize) {
    CT_LOOP(i, n) {
        T gi = maximize ? -g[i] : g[i];
        if (weight_decay != (T)0) gi += weight_decay * p[i];
        const T sa = rho * square_avg[i] + ((T)1 - rho) * gi * gi;
        square_avg[i] = sa;
        const T delta = ct_sqrt(acc_delta[i] + eps) / ct_sqrt(sa + eps) * gi;
        acc_delta[i] = rho * acc_delta[i] + ((T)1 - rho) * delta * delta;
        p[i] -= lr * delta;
    }
}
