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


include "_check.pxi"


cdef bint _ce_args(str kernel, Py_ssize_t M, Py_ssize_t C, str mat, Py_ssize_t nmat,
                   str mat2, Py_ssize_t nmat2, const int64_t[::1] target, str row,
                   Py_ssize_t nrow, Py_ssize_t nweight, int64_t ignore_index) except -1:
    """The argument checks of cross_entropy_forward/_backward: two (M, C) arrays, target and
    one per-row array of M, weight of C (nweight < 0: no weight), targets in [0, C) or
    ignore_index.  Returns whether there is work (M > 0)."""
    if M < 0 or C < 0:
        raise ValueError(f"{kernel}: negative size ({M}, {C})")
    _check(kernel, mat, nmat, M * C)
    _check(kernel, mat2, nmat2, M * C)
    _check(kernel, "target", target.shape[0], M)
    _check(kernel, row, nrow, M)
    if nweight >= 0:
        _check(kernel, "weight", nweight, C)
    if M == 0:
        return False
    if C == 0:
        raise ValueError(f"{kernel}: C must be positive")
    cdef Py_ssize_t bad = _bad_index(target, M, C, ignore_index)
    if bad >= 0:
        raise IndexError(f"{kernel}: target {target[bad]} at row {bad} is out of bounds "
                         f"for {C} classes")
    return True


def cross_entropy_forward(const floating[::1] logits, const int64_t[::1] target,
                          const floating[::1] weight, floating[::1] logprob_out,
                          floating[::1] loss_rows, Py_ssize_t M, Py_ssize_t C,
                          int64_t ignore_index, double label_smoothing):
    """Per-row cross-entropy losses (unreduced) of (M, C) logits; saves the log-probs.

    Raises IndexError for a target outside [0, C) that is not ignore_index.
    """
    if not _ce_args("cross_entropy_forward", M, C, "logits", logits.shape[0], "logprob_out",
                    logprob_out.shape[0], target, "loss_rows", loss_rows.shape[0],
                    -1 if weight is None else weight.shape[0], ignore_index):
        return
    cdef const floating *wp = NULL if weight is None else &weight[0]
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
    if not _ce_args("cross_entropy_backward", M, C, "logprob", logprob.shape[0], "gx",
                    gx.shape[0], target, "grow", grow.shape[0],
                    -1 if weight is None else weight.shape[0], ignore_index):
        return
    cdef const floating *wp = NULL
    cdef Py_ssize_t i, c
    cdef double W = <double>C
    if weight is not None:
        wp = &weight[0]
        W = 0.0
        for c in range(C):
            W += <double>weight[c]
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
