# cython: language_level=3
"""ctorch CPU kernels: optim family (fused, in-place, one pass per parameter).

Each step follows torch/optim/<name>.py's single-tensor (for-loop) path operation by
operation: scalars are computed in double as Python computes them, rounded once to the
parameter dtype, and the per-element arithmetic runs in that dtype (see _optim_simd.h).
The step counter is the caller's: `step` is the value *after* its increment.
Work is split into fixed chunks; elementwise updates are bitwise identical for any thread
count.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t

cdef extern from "_optim_simd.h" nogil:
    enum:
        CT_OPT_SGD
        CT_OPT_ADAM
        CT_OPT_RMSPROP
        CT_OPT_ADAGRAD
        CT_OPT_ADADELTA
    # one chunk [s, s + n) of update kernel k: a its arrays, v its scalars, f its flags, each
    # in the parameter order of ct_sgd/ct_adam/ct_rmsprop/ct_adagrad/ct_adadelta (_optim_simd_t.h)
    void ct_optim_apply_f32(int k, float **a, const float *v, const int *f, int64_t s,
                            int64_t n)
    void ct_optim_apply_f64(int k, double **a, const double *v, const int *f, int64_t s,
                            int64_t n)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t CHUNK = 16384


include "_check.pxi"


cdef inline Py_ssize_t _chunk_end(Py_ssize_t c, Py_ssize_t n) noexcept nogil:
    # s and e are assigned in the prange body (not through pointers) so Cython makes them
    # thread-private; a pointer-out helper left them shared and raced between threads.
    return n if (c + 1) * CHUNK > n else (c + 1) * CHUNK


cdef inline floating *_opt(floating[::1] a, bint used) noexcept:
    """&a[0] for an optional state array (None where not used), else NULL."""
    return &a[0] if used else NULL


cdef inline void _run(int k, Py_ssize_t n, floating **a, const floating *v,
                      const int *f) noexcept:
    """Update kernel k (CT_OPT_*) on [0, n) in chunks of CHUNK, on threads above THRESHOLD."""
    cdef Py_ssize_t c, s
    with nogil:
        for c in prange((n + CHUNK - 1) // CHUNK, schedule='static',
                        use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            if floating is float:
                ct_optim_apply_f32(k, a, v, f, s, _chunk_end(c, n) - s)
            else:
                ct_optim_apply_f64(k, a, v, f, s, _chunk_end(c, n) - s)


def sgd_step(floating[::1] p, const floating[::1] g, floating[::1] buf, double lr,
             double momentum=0.0, double dampening=0.0, double weight_decay=0.0,
             bint nesterov=False, bint maximize=False, bint first_step=False):
    """SGD update in place.  buf: momentum buffer (required iff momentum != 0);
    first_step: the buffer does not exist yet in torch's terms (it is set to the gradient)."""
    cdef Py_ssize_t n = p.shape[0]
    _check("sgd_step", "g", g.shape[0], n)
    if momentum != 0.0:
        if buf is None:
            raise ValueError("sgd_step: momentum != 0 needs a momentum buffer")
        _check("sgd_step", "buf", buf.shape[0], n)
    if n == 0:
        return
    cdef floating *a[3]
    cdef floating v[4]
    cdef int f[4]
    a[:] = [&p[0], <floating *>&g[0], _opt(buf, momentum != 0.0)]
    v[:] = [<floating>(-lr), <floating>momentum, <floating>(1.0 - dampening),
            <floating>weight_decay]
    f[:] = [weight_decay != 0.0, nesterov, maximize, first_step]
    _run(CT_OPT_SGD, n, a, v, f)


def adam_step(floating[::1] p, const floating[::1] g, floating[::1] exp_avg,
              floating[::1] exp_avg_sq, floating[::1] max_exp_avg_sq, double lr,
              double beta1, double beta2, double eps, double weight_decay, double step,
              bint amsgrad=False, bint maximize=False, bint decoupled_weight_decay=False):
    """Adam (AdamW when decoupled_weight_decay) update in place; `step` counts from 1.
    max_exp_avg_sq is required iff amsgrad."""
    cdef Py_ssize_t n = p.shape[0]
    _check("adam_step", "g", g.shape[0], n)
    _check("adam_step", "exp_avg", exp_avg.shape[0], n)
    _check("adam_step", "exp_avg_sq", exp_avg_sq.shape[0], n)
    if amsgrad:
        if max_exp_avg_sq is None:
            raise ValueError("adam_step: amsgrad needs max_exp_avg_sq")
        _check("adam_step", "max_exp_avg_sq", max_exp_avg_sq.shape[0], n)
    if step < 1:
        raise ValueError(f"adam_step: step must be >= 1, got {step}")
    if n == 0:
        return
    cdef int wd_mode = 0
    if weight_decay != 0.0:
        wd_mode = 2 if decoupled_weight_decay else 1
    cdef double bc1 = 1.0 - beta1 ** step
    cdef double bc2 = 1.0 - beta2 ** step
    cdef floating w1 = <floating>(1.0 - beta1)
    cdef floating *a[5]
    cdef floating v[9]
    cdef int f[3]
    a[:] = [&p[0], <floating *>&g[0], &exp_avg[0], &exp_avg_sq[0],
            _opt(max_exp_avg_sq, amsgrad)]
    v[:] = [<floating>weight_decay, <floating>(1.0 - lr * weight_decay), w1, w1 - <floating>1,
            <floating>beta2, <floating>(1.0 - beta2), <floating>(bc2 ** 0.5), <floating>eps,
            <floating>(-(lr / bc1))]
    f[:] = [wd_mode, abs(w1) < 0.5, maximize]
    _run(CT_OPT_ADAM, n, a, v, f)


def rmsprop_step(floating[::1] p, const floating[::1] g, floating[::1] square_avg,
                 floating[::1] grad_avg, floating[::1] momentum_buffer, double lr,
                 double alpha, double eps, double weight_decay=0.0, double momentum=0.0,
                 bint centered=False, bint maximize=False):
    """RMSprop update in place.  grad_avg is required iff centered, momentum_buffer iff
    momentum > 0 (both zero-initialised by the caller on the first step)."""
    cdef Py_ssize_t n = p.shape[0]
    _check("rmsprop_step", "g", g.shape[0], n)
    _check("rmsprop_step", "square_avg", square_avg.shape[0], n)
    if centered:
        if grad_avg is None:
            raise ValueError("rmsprop_step: centered needs grad_avg")
        _check("rmsprop_step", "grad_avg", grad_avg.shape[0], n)
    if momentum > 0.0:
        if momentum_buffer is None:
            raise ValueError("rmsprop_step: momentum > 0 needs momentum_buffer")
        _check("rmsprop_step", "momentum_buffer", momentum_buffer.shape[0], n)
    if n == 0:
        return
    cdef floating a1 = <floating>(1.0 - alpha)
    cdef floating *a[5]
    cdef floating v[7]
    cdef int f[3]
    a[:] = [&p[0], <floating *>&g[0], &square_avg[0], _opt(grad_avg, centered),
            _opt(momentum_buffer, momentum > 0.0)]
    v[:] = [<floating>(-lr), <floating>alpha, a1, a1 - <floating>1, <floating>eps,
            <floating>weight_decay, <floating>momentum]
    f[:] = [abs(a1) < 0.5, weight_decay != 0.0, maximize]
    _run(CT_OPT_RMSPROP, n, a, v, f)


def adagrad_step(floating[::1] p, const floating[::1] g, floating[::1] state_sum, double lr,
                 double lr_decay, double weight_decay, double eps, double step,
                 bint maximize=False):
    """Adagrad (dense) update in place; `step` counts from 1, clr = lr / (1 + (step-1)*lr_decay).
    state_sum starts at initial_accumulator_value (the caller's)."""
    cdef Py_ssize_t n = p.shape[0]
    _check("adagrad_step", "g", g.shape[0], n)
    _check("adagrad_step", "state_sum", state_sum.shape[0], n)
    if n == 0:
        return
    cdef floating *a[3]
    cdef floating v[3]
    cdef int f[2]
    a[:] = [&p[0], <floating *>&g[0], &state_sum[0]]
    v[:] = [<floating>(-(lr / (1.0 + (step - 1.0) * lr_decay))), <floating>eps,
            <floating>weight_decay]
    f[:] = [weight_decay != 0.0, maximize]
    _run(CT_OPT_ADAGRAD, n, a, v, f)


def adadelta_step(floating[::1] p, const floating[::1] g, floating[::1] square_avg,
                  floating[::1] acc_delta, double lr, double rho, double eps,
                  double weight_decay=0.0, bint maximize=False):
    """Adadelta update in place (square_avg and acc_delta zero-initialised by the caller)."""
    cdef Py_ssize_t n = p.shape[0]
    _check("adadelta_step", "g", g.shape[0], n)
    _check("adadelta_step", "square_avg", square_avg.shape[0], n)
    _check("adadelta_step", "acc_delta", acc_delta.shape[0], n)
    if n == 0:
        return
    cdef floating *a[4]
    cdef floating v[5]
    cdef int f[2]
    a[:] = [&p[0], <floating *>&g[0], &square_avg[0], &acc_delta[0]]
    v[:] = [<floating>(-lr), <floating>rho, <floating>(1.0 - rho), <floating>eps,
            <floating>weight_decay]
    f[:] = [weight_decay != 0.0, maximize]
    _run(CT_OPT_ADADELTA, n, a, v, f)
