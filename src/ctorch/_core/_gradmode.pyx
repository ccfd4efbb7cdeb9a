# cython: freethreading_compatible=True
"""Grad-mode flags for ``ctorch.autograd.grad_mode.state``: per-thread C variables behind
plain attribute access.

Grad mode and inference mode are thread-local in torch. The autograd hot paths read
``state.enabled`` on every op and ``Function.apply`` writes it twice; as attributes of a
``threading.local`` each access cost ~40 ns (the thread's dict, then the attribute: about
0.25 us per recorded op), through these C thread-locals it costs what a slot does. The C
initializers apply in every thread, so each new thread starts with grad mode on and
inference mode off, as in torch. Knows no tensors.
"""

import threading

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define CT_TLS __declspec(thread)
    #else
    #define CT_TLS _Thread_local
    #endif
    static CT_TLS int ct_grad_enabled = 1;
    static CT_TLS int ct_inference_mode = 0;
    """
    int ct_grad_enabled
    int ct_inference_mode


cdef class GradState:
    """``enabled`` and ``inference``: this thread's grad mode and inference mode.
    ``recording``: this thread's node collector (``autograd.function.record_nodes``).
    ``anomaly`` and ``anomaly_check_nan``: process-wide, as torch's ``AnomalyMode`` (one
    static flag there: a thread started inside ``detect_anomaly()`` sees it enabled)."""

    cdef public bint anomaly
    cdef public bint anomaly_check_nan
    cdef object _local

    def __cinit__(self):
        self.anomaly = False
        self.anomaly_check_nan = True
        self._local = threading.local()

    @property
    def enabled(self):
        return ct_grad_enabled != 0

    @enabled.setter
    def enabled(self, bint value):
        global ct_grad_enabled
        ct_grad_enabled = value

    @property
    def inference(self):
        return ct_inference_mode != 0

    @inference.setter
    def inference(self, bint value):
        global ct_inference_mode
        ct_inference_mode = value

    @property
    def recording(self):
        return getattr(self._local, "recording", None)

    @recording.setter
    def recording(self, value):
        self._local.recording = value
