"""conv2d whose window covers the whole input: a fully connected layer (CPU arrays).

With no padding, groups 1 and a kernel the size of the input (DCGAN's last discriminator
layer, 512x4x4 -> 1; "convolutional" classifier heads), the output is 1x1 and

  y (N, OC)  = x (N, K) @ W (OC, K)^T,   K = C*kh*kw
  dx (N, K)  = gy (N, OC) @ W (OC, K)
  dW (OC, K) = gy^T (OC, N) @ x (N, K)

three plain products of the arrays as they lie, with no columns built: DCGAN's 512x4x4 -> 1
layer at batch 16 took 0.54 ms forward and 1.6 ms forward+backward through im2col, a GEMM
with a single column and the wide path's transposes (torch 0.16 and 0.43 ms).
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous
from .._backend import sgemm_kernels as _sgemm_kernel
from .conv_wide import _sgemm_serves


def full_window(x_shape, a, wa, padding, dilation, groups) -> bool:
    """Whether conv2d of an input of shape x_shape with weight wa is this case: a (the input
    or its gradient's upstream) and wa float32/float64 NumPy arrays of one dtype, groups 1,
    no padding, a kernel the size of the input."""
    if type(a) is not np.ndarray or a.dtype not in (np.float32, np.float64):
        return False
    # wa is only a shape (conv_trim._ShapeOnly) when grad x is not wanted
    if getattr(wa, "dtype", a.dtype) != a.dtype or groups != 1 or tuple(padding) != (0, 0):
        return False
    kh, kw = wa.shape[2], wa.shape[3]
    if x_shape[2] != kh or x_shape[3] != kw:
        return False
    return kh * kw == 1 or tuple(dilation) == (1, 1)


def _matmul(a, b):
    """a (M, K) @ b (K, N) for 2-D arrays of one float dtype: ctorch's sgemm for float32
    where it serves, in the orientation whose column count fills its 48-wide panels better
    (out^T = b^T @ a^T when M > N), else NumPy."""
    M, K = a.shape
    N = b.shape[1]
    k = _sgemm_kernel(a, b)
    if k is not None and _sgemm_serves(min(M, N), K, max(M, N), 1):
        out = np.empty((M, N), a.dtype)
        if M > N:  # the larger side as the columns
            k.sgemm(b.T[None], a.T[None], out.T[None])
        else:
            k.sgemm(a[None], b[None], out[None])
        return out
    return np.matmul(a, b)


def full_forward(xa, wa, ba):
    """y (N, OC, 1, 1)."""
    N, OC = xa.shape[0], wa.shape[0]
    K = wa.shape[1] * wa.shape[2] * wa.shape[3]
    y = _matmul(contiguous(xa).reshape(N, K), contiguous(wa).reshape(OC, K).T)
    if ba is not None:
        y += ba.reshape(1, OC).astype(y.dtype, copy=False)
    return y.reshape(N, OC, 1, 1)


def full_backward(ga, xa, wa, need_x, need_w):
    """(gx, gw) for gy ga (N, OC, 1, 1); None where not needed (xa may then be a shape)."""
    N, OC = ga.shape[0], wa.shape[0]
    K = wa.shape[1] * wa.shape[2] * wa.shape[3]
    g2 = contiguous(ga).reshape(N, OC)
    gx = gw = None
    if need_x:
        gx = _matmul(g2, contiguous(wa).reshape(OC, K)).reshape(xa.shape)
    if need_w:
        gw = _matmul(g2.T, contiguous(xa).reshape(N, K)).reshape(wa.shape)
    return gx, gw
