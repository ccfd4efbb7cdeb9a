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
    void ct_sgd_f32(float *p, const float *g, float *buf, int64_t n, float neg_lr,
                    float momentum, float damp1, float wd, int has_wd, int nesterov,
                    int maximize, int first)
    void ct_sgd_f64(double *p, const double *g, double *buf, int64_t n, double neg_lr,
                    double momentum, double damp1, double wd, int has_wd, int nesterov,
                    int maximize, int first)
    void ct_adam_f32(float *p, const float *g, float *m, float *v, float *vmax, int64_t n,
                     int wd_mode, float wd, float wd_mul, int small, float w1, float w1m1,
                     float beta2, float b2c, float bc2_sqrt, float eps, float neg_step,
                     int maximize)
    void ct_adam_f64(double *p, const double *g, double *m, double *v, double *vmax,
                     int64_t n, int wd_mode, double wd, double wd_mul, int small, double w1,
                     double w1m1, double beta2, double b2c, double bc2_sqrt, double eps,
                     double neg_step, int maximize)
    void ct_rmsprop_f32(float *p, const float *g, float *sq, float *ga, float *buf, int64_t n,
                        float neg_lr, float alpha, float a1, int small, float a1m1, float eps,
                        float wd, int has_wd, float momentum, int maximize)
    void ct_rmsprop_f64(double *p, const double *g, double *sq, double *ga, double *buf,
                        int64_t n, double neg_lr, double alpha, double a1, int small,
                        double a1m1, double eps, double wd, int has_wd, double momentum,
                        int maximize)
    void ct_adagrad_f32(float *p, const float *g, float *ssum, int64_t n, float neg_clr,
                        float eps, float wd, int has_wd, int maximize)
    void ct_adagrad_f64(double *p, const double *g, double *ssum, int64_t n, double neg_clr,
                        double eps, double wd, int has_wd, int maximize)
    void ct_adadelta_f32(float *p, const float *g, float *sq, float *acc, int64_t n,
                         float neg_lr, float rho, float r1, float eps, float wd, int has_wd,
                         int maximize)
    void ct_adadelta_f64(double *p, const double *g, double *sq, double *acc, int64_t n,
                         double neg_lr, double rho, double r1, double eps, double wd,
                         int has_wd, int maximize)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t CHUNK = 16384


cdef inline int _check(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")
    return 0


cdef inline Py_ssize_t _chunk_end(Py_ssize_t c, Py_ssize_t n) noexcept nogil:
    # s and e are assigned in the prange body (not through pointers) so Cython makes them
    # thread-private; a pointer-out helper left them shared and raced between threads.
    return n if (c + 1) * CHUNK > n else (c + 1) * CHUNK


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
    cdef bint use_buf = momentum != 0.0
    cdef floating neg_lr = <floating>(-lr), mom = <floating>momentum
    cdef floating damp1 = <floating>(1.0 - dampening), wd = <floating>weight_decay
    cdef int has_wd = weight_decay != 0.0
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    cdef floating *b0 = &buf[0] if use_buf else NULL
    cdef floating *bp
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = _chunk_end(c, n)
            bp = (b0 + s) if b0 != NULL else NULL
            if floating is float:
                ct_sgd_f32(&p[s], &g[s], bp, e - s, neg_lr, mom, damp1, wd, has_wd,
                           nesterov, maximize, first_step)
            else:
                ct_sgd_f64(&p[s], &g[s], bp, e - s, neg_lr, mom, damp1, wd, has_wd,
                           nesterov, maximize, first_step)


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
    cdef double w1d = 1.0 - beta1
    cdef double bc1 = 1.0 - beta1 ** step
    cdef double bc2 = 1.0 - beta2 ** step
    cdef floating wd = <floating>weight_decay
    cdef floating wd_mul = <floating>(1.0 - lr * weight_decay)
    cdef floating w1 = <floating>w1d
    cdef int small = abs(w1) < 0.5
    cdef floating w1m1 = w1 - <floating>1
    cdef floating fb2 = <floating>beta2, b2c = <floating>(1.0 - beta2)
    cdef floating bc2_sqrt = <floating>(bc2 ** 0.5)
    cdef floating feps = <floating>eps
    cdef floating neg_step = <floating>(-(lr / bc1))
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    cdef floating *vm0 = &max_exp_avg_sq[0] if amsgrad else NULL
    cdef floating *vm
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = _chunk_end(c, n)
            vm = (vm0 + s) if vm0 != NULL else NULL
            if floating is float:
                ct_adam_f32(&p[s], &g[s], &exp_avg[s], &exp_avg_sq[s], vm, e - s, wd_mode, wd,
                            wd_mul, small, w1, w1m1, fb2, b2c, bc2_sqrt, feps, neg_step,
                            maximize)
            else:
                ct_adam_f64(&p[s], &g[s], &exp_avg[s], &exp_avg_sq[s], vm, e - s, wd_mode, wd,
                            wd_mul, small, w1, w1m1, fb2, b2c, bc2_sqrt, feps, neg_step,
                            maximize)


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
    cdef bint use_buf = momentum > 0.0
    cdef floating neg_lr = <floating>(-lr), fa = <floating>alpha
    cdef floating a1 = <floating>(1.0 - alpha)
    cdef int small = abs(a1) < 0.5
    cdef floating a1m1 = a1 - <floating>1
    cdef floating feps = <floating>eps, wd = <floating>weight_decay
    cdef floating mom = <floating>momentum
    cdef int has_wd = weight_decay != 0.0
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    cdef floating *g0 = &grad_avg[0] if centered else NULL
    cdef floating *b0 = &momentum_buffer[0] if use_buf else NULL
    cdef floating *gp
    cdef floating *bp
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = _chunk_end(c, n)
            gp = (g0 + s) if g0 != NULL else NULL
            bp = (b0 + s) if b0 != NULL else NULL
            if floating is float:
                ct_rmsprop_f32(&p[s], &g[s], &square_avg[s], gp, bp, e - s, neg_lr, fa, a1,
                               small, a1m1, feps, wd, has_wd, mom, maximize)
            else:
                ct_rmsprop_f64(&p[s], &g[s], &square_avg[s], gp, bp, e - s, neg_lr, fa, a1,
                               small, a1m1, feps, wd, has_wd, mom, maximize)


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
    cdef double clr = lr / (1.0 + (step - 1.0) * lr_decay)
    cdef floating neg_clr = <floating>(-clr), feps = <floating>eps
    cdef floating wd = <floating>weight_decay
    cdef int has_wd = weight_decay != 0.0
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = _chunk_end(c, n)
            if floating is float:
                ct_adagrad_f32(&p[s], &g[s], &state_sum[s], e - s, neg_clr, feps, wd, has_wd,
                               maximize)
            else:
                ct_adagrad_f64(&p[s], &g[s], &state_sum[s], e - s, neg_clr, feps, wd, has_wd,
                               maximize)


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
    cdef floating neg_lr = <floating>(-lr), frho = <floating>rho
    cdef floating r1 = <floating>(1.0 - rho), feps = <floating>eps
    cdef floating wd = <floating>weight_decay
    cdef int has_wd = weight_decay != 0.0
    cdef Py_ssize_t nchunk = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c, s, e
    with nogil:
        for c in prange(nchunk, schedule='static', use_threads_if=n > THRESHOLD):
            s = c * CHUNK
            e = _chunk_end(c, n)
            if floating is float:
                ct_adadelta_f32(&p[s], &g[s], &square_avg[s], &acc_delta[s], e - s, neg_lr,
                                frho, r1, feps, wd, has_wd, maximize)
            else:
                ct_adadelta_f64(&p[s], &g[s], &square_avg[s], &acc_delta[s], e - s, neg_lr,
                                frho, r1, feps, wd, has_wd, maximize)
