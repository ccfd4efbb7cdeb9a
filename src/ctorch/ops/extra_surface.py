"""The public surface of the ops added for issues #13/#14 (``scan_extremes``, ``matrix_build``,
``statistics``, ``bits``): ``torch.<name>``, the Tensor methods and in-place variants torch has
for them, and the shift operators. ``ctorch/__init__.py`` imports the names and calls
``attach(Tensor)`` once."""

from __future__ import annotations

from ..autograd import inplace as IP
from .bits import (
    bitwise_left_shift,
    bitwise_right_shift,
    frexp,
    gcd,
    heaviside,
    lcm,
    ldexp,
    nextafter,
)
from .conv_transpose3d import conv_transpose3d
from .math_nodes import channel_shuffle, native_channel_shuffle, renorm
from .matrix_build import (
    addbmm,
    addr,
    block_diag,
    pdist,
    tril_indices,
    triu_indices,
    vander,
)
from .rrelu import rrelu_
from .rrelu import torch_rrelu as rrelu
from .scan_extremes import cummax, cummin
from .statistics import corrcoef, cov, histc
from .strided import (
    as_strided,
    as_strided_scatter,
    diagflat,
    dsplit,
    hsplit,
    vsplit,
)
from .write_nodes import diagonal_scatter, select_scatter, slice_scatter

__all__ = [
    "as_strided",
    "as_strided_scatter",
    "diagonal_scatter",
    "select_scatter",
    "slice_scatter",
    "diagflat",
    "dsplit",
    "hsplit",
    "vsplit",
    "addbmm",
    "addr",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "block_diag",
    "channel_shuffle",
    "conv_transpose3d",
    "native_channel_shuffle",
    "rrelu",
    "rrelu_",
    "corrcoef",
    "cov",
    "cummax",
    "cummin",
    "frexp",
    "gcd",
    "heaviside",
    "histc",
    "lcm",
    "ldexp",
    "nextafter",
    "pdist",
    "renorm",
    "tril_indices",
    "triu_indices",
    "vander",
]

#: Tensor methods (torch's ``Tensor.<name>``), with an in-place ``<name>_`` where torch has one
_METHODS = {
    "cummax": (cummax, False),
    "cummin": (cummin, False),
    "addbmm": (addbmm, True),
    "addr": (addr, True),
    "histc": (histc, False),
    "cov": (cov, False),
    "corrcoef": (corrcoef, False),
    "renorm": (renorm, True),
    "frexp": (frexp, False),
    "ldexp": (ldexp, True),
    "nextafter": (nextafter, True),
    "heaviside": (heaviside, True),
    "gcd": (gcd, True),
    "lcm": (lcm, True),
    "bitwise_left_shift": (bitwise_left_shift, True),
    "bitwise_right_shift": (bitwise_right_shift, True),
    "as_strided": (as_strided, False),
    "as_strided_scatter": (as_strided_scatter, False),
    "diagonal_scatter": (diagonal_scatter, False),
    "select_scatter": (select_scatter, False),
    "slice_scatter": (slice_scatter, False),
    "diagflat": (diagflat, False),
    "hsplit": (hsplit, False),
    "vsplit": (vsplit, False),
    "dsplit": (dsplit, False),
}


def _inplace(name: str, fn):
    def method(self, *args, **kwargs):
        return IP.inplace(self, name, lambda: fn(self, *args, **kwargs), args[0] if args else None)

    method.__name__ = name
    return method


def attach(T: type) -> None:
    for name, (fn, has_inplace) in _METHODS.items():
        setattr(T, name, fn)
        if has_inplace:
            setattr(T, name + "_", _inplace(name + "_", fn))
    T.__lshift__ = bitwise_left_shift
    T.__rshift__ = bitwise_right_shift
    T.__rlshift__ = lambda s, o: bitwise_left_shift(o, s)
    T.__rrshift__ = lambda s, o: bitwise_right_shift(o, s)
    T.__ilshift__ = _inplace("bitwise_left_shift_", bitwise_left_shift)
    T.__irshift__ = _inplace("bitwise_right_shift_", bitwise_right_shift)


# --- surf5a (#14 group 1): quantile, mode, isin, ... (ops/surface5a.py) ---
from . import surface5a as _s5a  # noqa: E402
from . import surface5a_index as _s5a_index  # noqa: E402
from . import surface5a_misc as _s5a_misc  # noqa: E402
from . import surface5a_numeric as _s5a_num  # noqa: E402
from .surface5a import *  # noqa: E402,F401,F403
from .surface5a_index import *  # noqa: E402,F401,F403
from .surface5a_misc import *  # noqa: E402,F401,F403
from .surface5a_numeric import *  # noqa: E402,F401,F403

__all__ += _s5a.__all__ + _s5a_num.__all__ + _s5a_misc.__all__ + _s5a_index.__all__
_attach_ops3 = attach


def attach(T: type) -> None:  # noqa: F811 - extends the ops3 attach with surf5a's methods
    _attach_ops3(T)
    for name, fn in {
        **_s5a.METHODS,
        **_s5a_num.METHODS,
        **_s5a_misc.METHODS,
        **_s5a_index.METHODS,
    }.items():
        setattr(T, name, fn)
