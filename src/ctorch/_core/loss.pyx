# cython: language_level=3
"""ctorch CPU kernels: loss family (fused cross-entropy over (M, C) rows).

Per row i with target t = target[i], w the class weights (all ones when None), eps the label
smoothing and lp = log_softmax(logits[i]), torch's formula is

    loss_i = (1 - eps) * w[t] * (-lp[t]) + (eps / C) * (-sum_c w[c] * lp[c])

and loss_i = 0 when t == ignore_index.  For reduction='mean' torch divides the sum of both
terms by sum_i w[t_i] over the non-ignored rows; that is the caller's job, as is folding it
into the per-row upstream gradient `grow` of the backward.  The backward is

    gx[i, c] = grow[i] * ((1 - eps) * w[t] * (p[c] - [c == t]) + (eps / C) * (p[c] * W - w[c]))

with p = exp(lp) and W = sum(w).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t

cdef extern from "_reduction_simd.h" nogil:
    void ct_log_softmax_row_f64(const double *x, double *out, Py_ssize_t n)

cdef extern from "_rowops_f32.h" nogil:
    # F.log_softmax's own row kernels (float32: _rowops_f32.h, float64: the reduction
    # family's), so cross_entropy's log-probs are log_softmax's to the bit
    void ctr_softmax_rows_f32(const float *x, float *out, Py_ssize_t rows, Py_ssize_t n,
                              int log)

cdef extern from "_nn_simd.h" nogil:
    double ct_nn_ce_fwd_row_f32(const float *x, float *lp, int64_t C, const float *w,
                                int smooth)
    double ct_nn_ce_fwd_row_f64(const double *x, double *lp, int64_t C, const double *w,
                                int smooth)
    void ct_nn_ce_bwd_row_f32(const float *lp, float *gx, int64_t C, float a, float b,
                              const float *w)
    void ct_nn_ce_bwd_row_f64(const double *lp, double *gx, int64_t C, double a, double b,
                              const double *w)

cdef Py_ssize_t THRESHOLD = 32768


cdef inline double _fwd_row(const floating *x, floating *lp, Py_ssize_t C, const floating *w,
                            int smooth) noexcept nogil:
    if not smooth:  # lp only (the smoothing sum is not needed)
        if floating is float:
            ctr_softmax_rows_f32(x, lp, 1, C, 1)
        else:
            ct_log_softmax_row_f64(x, lp, C)
        return 0.0
    if floating is float:
        return ct_nn_ce_fwd_row_f32(x, lp, C, w, smooth)
    else:
        return ct_nn_ce_fwd_row_f64(x, lp, C, w, smooth)


cdef inline void _bwd_row(const floating *lp, floating *gx, Py_ssize_t C, floating a,
                          floating b, const floating *w) noexcept nogil:
    if floating is float:
        ct_nn_ce_bwd_row_f32(lp, gx, C, a, b, w)
    else:
        ct_nn_ce_bwd_row_f64(lp, gx, C, a, b, w)


cdef inline int _check(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")
    return 0


cdef int _check_targets(str kernel, const int64_t[::1] target, Py_ssize_t M, Py_ssize_t C,
                        int64_t ignore_index) except -1:
    cdef Py_ssize_t i, bad = -1
    cdef int64_t t
    with nogil:
        for i in range(M):
            t = target[i]
            if t != ignore_index and (t < 0 or t >= C):
                bad = i
                break
    if bad >= 0:
        raise IndexError(f"{kernel}: target {target[bad]} at row {bad} is out of bounds "
                         f"for {C} classes")
    return 0


def cross_entropy_forward(const floating[::1] logits, const int64_t[::1] target,
                          const floating[::1] weight, floating[::1] logprob_out,
                          floating[::1] loss_rows, Py_ssize_t M, Py_ssize_t C,
                          int64_t ignore_index, double label_smoothing):
    """Per-row cross-entropy losses (unreduced) of (M, C) logits; saves the log-probs.

    Raises IndexError for a target outside [0, C) that is not ignore_index.
    """
    if M < 0 or C < 0:
        raise ValueError(f"cross_entropy_forward: negative size ({M}, {C})")
    _check("cross_entropy_forward", "logits", logits.shape[0], M * C)
    _check("cross_entropy_forward", "logprob_out", logprob_out.shape[0], M * C)
    _check("cross_entropy_forward", "target", target.shape[0], M)
    _check("cross_entropy_forward", "loss_rows", loss_rows.shape[0], M)
    cdef const floating *wp = NULL
    if weight is not None:
        _check("cross_entropy_forward", "weight", weight.shape[0], C)
        if C > 0:
            wp = &weight[0]
    if M == 0:
        return
    if C == 0:
        raise ValueError("cross_entropy_forward: C must be positive")
    _check_targets("cross_entropy_forward", target, M, C, ignore_index)
    cdef Py_ssize_t i
    cdef int64_t t
    cdef double sm, wt
    cdef double eps = label_smoothing
    cdef int smooth = eps != 0.0
    with nogil:
        for i in prange(M, schedule='static', use_threads_if=M * C > THRESHOLD):
            sm = _fwd_row(&logits[i * C], &logprob_out[i * C], C, wp, smooth)
            t = target[i]
            if t == ignore_index:
                loss_rows[i] = 0
            else:
                wt = 1.0
                if wp != NULL:
                    wt = <double>wp[t]
                if smooth:
                    loss_rows[i] = <floating>((1.0 - eps) * wt * (-<double>logprob_out[i * C + t])
                                              + (eps / <double>C) * (-sm))
                else:
                    loss_rows[i] = <floating>(wt * (-<double>logprob_out[i * C + t]))


def cross_entropy_backward(const floating[::1] logprob, const int64_t[::1] target,
                           const floating[::1] weight, const floating[::1] grow,
                           floating[::1] gx, Py_ssize_t M, Py_ssize_t C,
                           int64_t ignore_index, double label_smoothing):
    """Gradient w.r.t. the logits; `grow` is the per-row upstream gradient."""
    if M < 0 or C < 0:
        raise ValueError(f"cross_entropy_backward: negative size ({M}, {C})")
    _check("cross_entropy_backward", "logprob", logprob.shape[0], M * C)
    _check("cross_entropy_backward", "gx", gx.shape[0], M * C)
    _check("cross_entropy_backward", "target", target.shape[0], M)
    _check("cross_entropy_backward", "grow", grow.shape[0], M)
    cdef const floating *wp = NULL
    cdef Py_ssize_t i, c
    cdef double W = <double>C
    if weight is not None:
        _check("cross_entropy_backward", "weight", weight.shape[0], C)
        if C > 0:
            wp = &weight[0]
            W = 0.0
            for c in range(C):
                W += <double>weight[c]
    if M == 0:
        return
    if C == 0:
        raise ValueError("cross_entropy_backward: C must be positive")
    _check_targets("cross_entropy_backward", target, M, C, ignore_index)
    cdef int64_t t
    cdef double g, wt, eps = label_smoothing
    cdef double ec = eps / <double>C
    with nogil:
        for i in prange(M, schedule='static', use_threads_if=M * C > THRESHOLD):
            t = target[i]
            if t == ignore_index:
                for c in range(C):
                    gx[i * C + c] = 0
            else:
                g = <double>grow[i]
                wt = 1.0
                if wp != NULL:
                    wt = <double>wp[t]
                _bwd_row(&logprob[i * C], &gx[i * C], C,
                         <floating>(g * ((1.0 - eps) * wt + ec * W)),
                         <floating>(g * ec), wp)
                gx[i * C + t] = gx[i * C + t] - <floating>(g * (1.0 - eps) * wt)
