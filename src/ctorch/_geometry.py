"""Window geometry of the convolution/pooling kernels, as one small object.

``Window2d`` carries the 14 ints that the im2col/col2im, depthwise-conv and 2-D pooling
kernels need (batch, channels, input size, kernel, stride, padding, dilation, output size).
The ops layer builds it once (after computing the output size and clamping a huge stride or
dilation, see ``ops/im2col.py``'s ``_kernel_geometry``) and passes it down unchanged: to the
array helpers (``im2col_array(x, geo)``), to the CPU kernels (``_core/conv.pyx``,
``_core/pooling.pyx``, which unpack it into C locals once at the call boundary) and to the
GPU launchers (``cuda/conv.py``, ``cuda/pooling.py``, which unpack it into the RawKernel's
scalar arguments).

Pure Python with no ctorch import, so every layer can import it without cycles.  It is a
``NamedTuple``: immutable, cheap to build, and unpacked by the Cython kernels with the tuple
fast path (well under a microsecond).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Window2d", "out_size"]


def out_size(i: int, k: int, s: int, p: int, d: int) -> int:
    """Floor-mode output length of a window of k taps (dilation d) over i inputs."""
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


class Window2d(NamedTuple):
    """Geometry of a 2-D sliding window over an (N, C, H, W) input giving (oh, ow) outputs.

    Field order is the kernels' historical positional order, so ``tuple(geo)`` is the
    scalar argument list of the CUDA kernels.
    """

    N: int
    C: int
    H: int
    W: int
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    oh: int
    ow: int

    @classmethod
    def make(
        cls,
        N: int,
        C: int,
        H: int,
        W: int,
        kernel: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        padding: tuple[int, int] = (0, 0),
        dilation: tuple[int, int] = (1, 1),
        out: tuple[int, int] | None = None,
    ) -> Window2d:
        """From (h, w) pairs; ``out`` None means floor-mode output sizes."""
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        if out is None:
            out = (out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw))
        return cls(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out[0], out[1])

    @property
    def out_hw(self) -> tuple[int, int]:
        return self.oh, self.ow

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        """Shape of the input (N, C, H, W)."""
        return self.N, self.C, self.H, self.W

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        """Shape of a pooled output (N, C, oh, ow)."""
        return self.N, self.C, self.oh, self.ow

    @property
    def cols_shape(self) -> tuple[int, int, int]:
        """Shape of im2col's columns (N, C*kh*kw, oh*ow)."""
        return self.N, self.C * self.kh * self.kw, self.oh * self.ow

    @property
    def x_size(self) -> int:
        return self.N * self.C * self.H * self.W

    @property
    def y_size(self) -> int:
        return self.N * self.C * self.oh * self.ow

    @property
    def cols_size(self) -> int:
        return self.N * self.C * self.kh * self.kw * self.oh * self.ow
