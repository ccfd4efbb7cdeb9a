# Included by gemm.pyx: nn.LSTM's fused layer time loops in C (ctorch.nn.modules.rnn's
# _LSTMLayer; the loops: _rnn_layer.h), float32 only. Each step is the same sgemm product and
# the same gate kernel as the Python loop (h @ W_hh^T + b_hh with the bias in the product's
# tiles, the gates of _rnn_simd.h, dG @ W_hh), in the same order, so values and gradients
# are bitwise those of the Python loop and of the step-by-step graph; what goes away is ~13 us
# of Python per step, and on 2+ threads a pool wake-up per step (one region per layer).

cdef extern from "_rnn_layer.h" nogil:
    int ct_lstm_layer_fwd_f32(int T, int B, int H, const float *xg, const float *wt,
                              const float *bias, const float *h0, float *out, float *cs,
                              float *act, float *tc, int reverse, int nthreads)
    int ct_lstm_layer_bwd_f32(int T, int B, int H, const float *act, const float *tc,
                              const float *cs, const float *go, const float *w, float *dh,
                              float *dc, float *dG, int reverse, int nthreads)


cdef int _rnn_dims(str op, str name, Py_ssize_t got0, Py_ssize_t got1, Py_ssize_t got2,
                   Py_ssize_t w0, Py_ssize_t w1, Py_ssize_t w2) except -1:
    if got0 != w0 or got1 != w1 or got2 != w2:
        raise ValueError(f"{op}: {name} is ({got0}, {got1}, {got2}), expected ({w0}, {w1}, "
                         f"{w2})")
    return 0


def lstm_layer_forward(const float[:, :, ::1] xg, const float[:, ::1] wt, bias,
                       const float[:, ::1] h0, float[:, :, ::1] out, float[:, :, ::1] cs,
                       float[:, :, ::1] act, float[:, :, ::1] tc, bint reverse, int threads=0):
    """One LSTM layer direction: xg (T, B, 4H) the input projections, wt (H, 4H) = W_hh^T
    row-major, bias (4H,) b_hh or None, h0 (B, H); writes out (T, B, H) the hidden states,
    cs (T + 1, B, H) (cs[0] given: c0; cs[s + 1] the c after the s-th step taken), act
    (T, B, 4H) the gate activations and tc (T, B, H) tanh(c). Steps run backwards in time
    when ``reverse``. ``threads`` > 0 caps the sgemm's threads (not the bits)."""
    cdef str op = "lstm_layer_forward"
    cdef Py_ssize_t T = xg.shape[0], B = xg.shape[1], G = xg.shape[2], H = G // 4
    if G != 4 * H:
        raise ValueError(f"{op}: xg's last size {G} is not 4 * hidden")
    _rnn_dims(op, "wt", 1, wt.shape[0], wt.shape[1], 1, H, G)
    _rnn_dims(op, "h0", 1, h0.shape[0], h0.shape[1], 1, B, H)
    _rnn_dims(op, "out", out.shape[0], out.shape[1], out.shape[2], T, B, H)
    _rnn_dims(op, "cs", cs.shape[0], cs.shape[1], cs.shape[2], T + 1, B, H)
    _rnn_dims(op, "act", act.shape[0], act.shape[1], act.shape[2], T, B, G)
    _rnn_dims(op, "tc", tc.shape[0], tc.shape[1], tc.shape[2], T, B, H)
    if B > INT_MAX_ or G > INT_MAX_:
        raise ValueError(f"{op}: sizes above 2**31-1 are not supported")
    cdef const float[::1] bv
    cdef const float *pbias = NULL
    if bias is not None:
        bv = bias
        if bv.shape[0] != G:
            raise ValueError(f"{op}: bias has {bv.shape[0]} elements, expected {G}")
        pbias = &bv[0]
    if T == 0 or B == 0 or H == 0:
        return
    cdef int nt = ct_max_threads()
    if 0 < threads < nt:
        nt = threads
    cdef int rc
    with nogil:
        rc = ct_lstm_layer_fwd_f32(<int>T, <int>B, <int>H, &xg[0, 0, 0], &wt[0, 0], pbias,
                                   &h0[0, 0], &out[0, 0, 0], &cs[0, 0, 0], &act[0, 0, 0],
                                   &tc[0, 0, 0], reverse, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")


def lstm_layer_backward(const float[:, :, ::1] act, const float[:, :, ::1] tc,
                        const float[:, :, ::1] cs, const float[:, :, ::1] go,
                        const float[:, ::1] w, float[:, ::1] dh, float[:, ::1] dc,
                        float[:, :, ::1] dG, bint reverse, int threads=0):
    """The backward of lstm_layer_forward's loop: from go (T, B, H) the gradient of out and
    dh, dc (B, H) those of the last h and c (overwritten with the gradients of h0 and c0),
    writes dG (T, B, 4H) the gradients of the pre-activation gates; w (4H, H) is W_hh."""
    cdef str op = "lstm_layer_backward"
    cdef Py_ssize_t T = act.shape[0], B = act.shape[1], G = act.shape[2], H = G // 4
    if G != 4 * H:
        raise ValueError(f"{op}: act's last size {G} is not 4 * hidden")
    _rnn_dims(op, "tc", tc.shape[0], tc.shape[1], tc.shape[2], T, B, H)
    _rnn_dims(op, "cs", cs.shape[0], cs.shape[1], cs.shape[2], T + 1, B, H)
    _rnn_dims(op, "go", go.shape[0], go.shape[1], go.shape[2], T, B, H)
    _rnn_dims(op, "w", 1, w.shape[0], w.shape[1], 1, G, H)
    _rnn_dims(op, "dh", 1, dh.shape[0], dh.shape[1], 1, B, H)
    _rnn_dims(op, "dc", 1, dc.shape[0], dc.shape[1], 1, B, H)
    _rnn_dims(op, "dG", dG.shape[0], dG.shape[1], dG.shape[2], T, B, G)
    if B > INT_MAX_ or G > INT_MAX_:
        raise ValueError(f"{op}: sizes above 2**31-1 are not supported")
    if T == 0 or B == 0 or H == 0:
        return
    cdef int nt = ct_max_threads()
    if 0 < threads < nt:
        nt = threads
    cdef int rc
    with nogil:
        rc = ct_lstm_layer_bwd_f32(<int>T, <int>B, <int>H, &act[0, 0, 0], &tc[0, 0, 0],
                                   &cs[0, 0, 0], &go[0, 0, 0], &w[0, 0], &dh[0, 0], &dc[0, 0],
                                   &dG[0, 0, 0], reverse, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")
