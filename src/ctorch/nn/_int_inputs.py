"""torch's rules for integer and bool inputs to ``nn.functional`` (issue #14): which functions
refuse which dtypes (with torch's error: the kernel's name and torch's dtype name, e.g.
``"adaptive_max_pool2d" not implemented for 'Long'``), and which accept them where ctorch's
float kernels would not (convolutions compute exactly in float64 and return the integer
dtype, as torch's integer kernels do; uint8 bilinear/bicubic interpolation rounds). Integer
average pooling is an op (``ops/int_pool.py``), so lp_pool and local_response_norm get it.

``install(namespace)`` wraps the listed functions of ``nn.functional`` (a float input pays one
call and one dtype-kind test, ~0.3 us); the hottest ones (relu, relu6 through hardtanh,
linear, max_pool2d) test inline where they are defined instead. ``tests/nn/test_int_inputs.py`` compares every (function, dtype) pair with
torch, so this table cannot drift from it silently.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .._tensor import NestedInput, Tensor
from ..ops._util import SCALAR_TYPE_NAMES

# torch's uint16/uint32/uint64 ("shell" dtypes) have even fewer kernels than the others: every
# refusal below covers them too; where ctorch computes an integer input anyway (pooling,
# padding, convolutions...) it computes them as well (docs/compat.md)
UINTS = ("uint16", "uint32", "uint64")
INTS = ("int64", "int32", "uint8", "bool", *UINTS)
SIGNED = ("int64", "int32", "uint8", *UINTS)  # torch's "integral types" without bool


def _name(t: Tensor) -> str:
    return SCALAR_TYPE_NAMES[t._a.dtype.name]


def _not_impl(kernel: str, dtypes=INTS):
    """torch's dispatch error: ``"kernel" not implemented for 'Long'``."""

    def check(x, args, kwargs):
        if x._a.dtype.name in dtypes:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_name(x)}'")

    return check


def _runtime(msg: str, dtypes=INTS):
    """A RuntimeError with torch's message (``{T}``: torch's dtype name)."""

    def check(x, args, kwargs):
        if x._a.dtype.name in dtypes:
            raise RuntimeError(msg.format(T=_name(x)))

    return check


_C_NAMES = {"int64": "long int", "int32": "int", "uint8": "unsigned char", "bool": "long int"}
_C_NAMES.update({"uint16": "unsigned short", "uint32": "unsigned int", "uint64": "unsigned long"})


def _gaussian(x, args, kwargs):
    if x._a.dtype.name in INTS:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{_C_NAMES[x._a.dtype.name]}"
        )


_SUB_BOOL = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead."
)


_SUB_BOOLS = (
    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
    "`logical_xor()` operator instead."
)
_NEG_BOOL = (
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
    "a mask, use the `~` or `logical_not()` operator instead."
)


def _soft_margin(x, args, kwargs):
    if x._a.dtype == np.bool_:
        raise RuntimeError(_NEG_BOOL)
    _runtime("result type Float can't be cast to the desired output type {T}", SIGNED)(
        x, args, kwargs
    )


def _hardtanh(x, args, kwargs):
    name = x._a.dtype.name
    if name == "bool":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    lo = args[0] if args else kwargs.get("min_val", -1.0)
    if x._a.dtype.kind == "u" and lo < 0:
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")


def _hinge(x, args, kwargs):
    name = x._a.dtype.name
    if name == "bool":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
            "`^` or `logical_xor()` operator instead."
        )
    if name in SIGNED:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_name(x)}"
        )


# interpolate: torch's kernel per (mode, spatial dims) and the dtypes it refuses
_NEAREST = ("int64", "int32", "bool", *UINTS)
_INTERP = {
    ("nearest", 1): ("compute_indices_weights_nearest", _NEAREST),
    ("nearest", 2): ("upsample_nearest2d_channels_last", _NEAREST),
    ("nearest", 3): ("compute_indices_weights_nearest", _NEAREST),
    ("nearest-exact", 1): ("compute_indices_weights_nearest", _NEAREST),
    ("nearest-exact", 2): ("upsample_nearest2d_channels_last", _NEAREST),
    ("nearest-exact", 3): ("compute_indices_weights_nearest", _NEAREST),
    ("linear", 1): ("compute_indices_weights_linear", INTS),
    ("bilinear", 2): ("upsample_bilinear2d_channels_last", _NEAREST),
    ("bicubic", 2): ("compute_indices_weights_cubic", _NEAREST),
    ("trilinear", 3): ("compute_indices_weights_linear", INTS),
    ("area", 1): ("adaptive_avg_pool2d", INTS),
    ("area", 2): ("adaptive_avg_pool2d", INTS),
    ("area", 3): ("adaptive_avg_pool3d_cpu", INTS),
}


def _interpolate(x, args, kwargs):
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "nearest")
    key = (mode, x._a.ndim - 2)
    if key in _INTERP:
        kernel, dtypes = _INTERP[key]
        _not_impl(kernel, dtypes)(x, args, kwargs)


def _interpolate_uint8(fn, x, args, kwargs):
    """torch's uint8 bilinear/bicubic kernels (fixed-point weights): bilinear as the float
    result rounded and clamped to [0, 255]; bicubic separable, a horizontal then a vertical
    pass, each rounded and clamped. Both measured within 1 of torch (its weight rounding)."""
    names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
    params = dict(zip(names, args, strict=False))
    params.update(kwargs)
    if x._a.dtype != np.uint8 or params.get("mode") not in ("bilinear", "bicubic"):
        return None
    if x._a.ndim != 4:
        return None  # torch's own shape error follows

    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)

    if params["mode"] == "bilinear":  # one pass, rounded (measured within 1 of torch)
        r = fn(x.float(), *args, **kwargs)._a
        return Tensor._make(np.clip(np.rint(r), 0, 255).astype(np.uint8))
    h, w = x._a.shape[-2:]
    first, second = dict(params), dict(params)
    if params.get("size") is not None:
        oh, ow = pair(params["size"])
        first["size"], second["size"] = (h, ow), (oh, ow)
    else:
        sh, sw = pair(params["scale_factor"])
        first["scale_factor"], second["scale_factor"] = (1.0, sw), (sh, 1.0)
    y = x.float()
    for p in (first, second):
        y = Tensor._make(np.clip(np.rint(fn(y, **p)._a), 0, 255))
    return Tensor._make(y._a.astype(np.uint8))


def _pad(x, args, kwargs):
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "constant")
    if mode in ("reflect", "replicate") and x._a.dtype == np.bool_:
        kind = "reflection" if mode == "reflect" else "replication"
        pad = args[0] if args else kwargs["pad"]
        _not_impl(f"{kind}_pad{len(pad) // 2}d", ("bool",))(x, args, kwargs)


def _one_hot(x, args, kwargs):
    if x._a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")


def _upsample_bilinear_uint8(fn, x, args, kwargs):
    if x._a.dtype != np.uint8:
        return None
    from ..ops.spatial import interpolate

    size = args[0] if args else kwargs.get("size")
    sf = args[1] if len(args) > 1 else kwargs.get("scale_factor")
    kw = dict(size=size, scale_factor=sf, mode="bilinear", align_corners=True)
    return _interpolate_uint8(interpolate, x, (), kw)


def _embedding_bag(x, args, kwargs):
    """The integer argument checked is the weight (``input`` holds indices)."""
    w = args[0] if args else kwargs.get("weight")
    if isinstance(w, Tensor) and w._a.dtype.kind in "biu":
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar "
            f"types: Half, BFloat16, Float, Double; but got {_LEGACY[w._a.dtype.name]} instead "
            "(while checking arguments for embedding_bag)"
        )


_LEGACY = {
    "int64": "torch.LongTensor",
    "int32": "torch.IntTensor",
    "uint8": "torch.ByteTensor",
    "bool": "torch.BoolTensor",
    "uint16": "CPUUInt16Type",
    "uint32": "CPUUInt32Type",
    "uint64": "CPUUInt64Type",
}


def _alpha_dropout(x, args, kwargs):
    """Training with p > 0 mixes in float noise: torch cannot cast it back (bool as Long)."""
    p = args[0] if args else kwargs.get("p", 0.5)
    training = args[1] if len(args) > 1 else kwargs.get("training", False)
    if training and p > 0 and x._a.dtype.name in INTS:
        t = "Long" if x._a.dtype == np.bool_ else _name(x)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {t}")


def _embedding(x, args, kwargs):
    got = {"uint8": "torch.ByteTensor", "bool": "CPUBoolType"}.get(x._a.dtype.name)
    got = got or {n: f"CPUUInt{n[4:]}Type" for n in UINTS}.get(x._a.dtype.name)
    if got is not None:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {got} instead (while checking arguments for embedding)"
        )


_embedding.kinds = "bu"


def _via_float64(dtypes):
    """Accept ``dtypes`` (as torch's integer kernels do): compute in float64 (exact for the
    values integer convolutions produce below 2**53) and cast back, wrapping as C does."""

    def run(fn, x, args, kwargs):
        if x._a.dtype.name not in dtypes:
            return None

        def f64(v):
            return v.double() if isinstance(v, Tensor) and v._a.dtype.kind in "biu" else v

        r = fn(f64(x), *(f64(a) for a in args), **{k: f64(v) for k, v in kwargs.items()})
        return Tensor._make(np.rint(r._a).astype(np.int64).astype(x._a.dtype))

    return run


# function name -> check(x, args, kwargs) raising torch's error, or ("accept", run)
_CONV_FLOAT = _via_float64(SIGNED)
_CONVT_FLOAT = _via_float64(("int64",))
TABLE: dict[str, object] = {
    "adaptive_avg_pool1d": _not_impl("adaptive_avg_pool2d"),
    "adaptive_avg_pool2d": _not_impl("adaptive_avg_pool2d"),
    "adaptive_avg_pool3d": _not_impl("adaptive_avg_pool3d_cpu"),
    "adaptive_max_pool1d": _not_impl("adaptive_max_pool2d"),
    "adaptive_max_pool2d": _not_impl("adaptive_max_pool2d"),
    "adaptive_max_pool3d": _not_impl("adaptive_max_pool3d_cpu"),
    "adaptive_max_pool1d_with_indices": _not_impl("adaptive_max_pool2d"),
    "adaptive_max_pool2d_with_indices": _not_impl("adaptive_max_pool2d"),
    "adaptive_max_pool3d_with_indices": _not_impl("adaptive_max_pool3d_cpu"),
    "max_pool3d_with_indices": _not_impl("max_pool3d", ("bool",)),
    "max_unpool1d": _not_impl("max_unpool2d"),
    "max_unpool3d": _not_impl("max_unpool3d"),
    "upsample_bilinear": (
        "accept",
        _upsample_bilinear_uint8,
        _not_impl("upsample_bilinear2d_channels_last", _NEAREST),
    ),
    "relu_": _runtime("Boolean inputs not supported for relu", ("bool",)),
    "threshold_": _not_impl("threshold_cpu", ("bool",)),
    "rrelu_": _not_impl("leaky_relu_cpu"),
    "multilabel_margin_loss": _not_impl("multilabel_margin_loss_forward_out_frame"),
    "ctc_loss": _not_impl("ctc_loss_cpu"),
    "embedding_bag": _embedding_bag,
    "embedding": _embedding,
    "alpha_dropout": _alpha_dropout,
    "feature_alpha_dropout": _alpha_dropout,
    "max_pool1d": _not_impl("max_pool1d_impl"),
    "max_pool3d": _not_impl("max_pool3d", ("bool",)),
    "rrelu": _not_impl("leaky_relu_cpu"),
    "fractional_max_pool2d": _not_impl("fractional_max_pool2d_out_frame"),
    "fractional_max_pool3d": _not_impl("fractional_max_pool3d_out_frame"),
    "softmin": _runtime(_NEG_BOOL, ("bool",)),
    "batch_norm": _not_impl("batch_norm"),
    "instance_norm": _not_impl("batch_norm"),
    "rms_norm": _not_impl("rms_norm"),
    "pairwise_distance": _runtime(_SUB_BOOLS, ("bool",)),
    "l1_loss": _runtime(_SUB_BOOLS, ("bool",)),
    "margin_ranking_loss": _runtime(_SUB_BOOLS, ("bool",)),
    "triplet_margin_loss": _runtime(_SUB_BOOLS, ("bool",)),
    "binary_cross_entropy": _not_impl("binary_cross_entropy"),
    "max_unpool2d": _not_impl("max_unpool2d"),
    "interpolate": ("accept", _interpolate_uint8, _interpolate),
    "upsample": ("accept", _interpolate_uint8, _interpolate),
    "upsample_nearest": _not_impl("upsample_nearest2d_channels_last", _NEAREST),
    "pad": _pad,
    "unfold": _not_impl("im2col_out_cpu", SIGNED),
    "fold": _not_impl("col2im_out_cpu", SIGNED),
    "threshold": _not_impl("threshold_cpu", ("bool",)),
    "tanhshrink": _runtime(_SUB_BOOL, ("bool",)),
    "softsign": _not_impl("abs_cpu", ("bool",)),
    "prelu": _not_impl("prelu_cpu"),
    "gumbel_softmax": _runtime(
        "Exponential distribution is a continuous probability distribution. dtype must be a "
        "floating point but you specified {T}"
    ),
    "bilinear": _not_impl("bmm", ("bool",)),
    "one_hot": _one_hot,
    "smooth_l1_loss": _not_impl("smooth_l1_cpu"),
    "huber_loss": _not_impl("huber_cpu"),
    "soft_margin_loss": _soft_margin,
    "kl_div": _runtime("kl_div: Integral inputs not supported."),
    "poisson_nll_loss": _runtime(_SUB_BOOL, ("bool",)),
    "binary_cross_entropy_with_logits": _not_impl("log_sigmoid_cpu"),
    "nll_loss": _not_impl("nll_loss_out_frame"),
    "hinge_embedding_loss": _hinge,
    "multi_margin_loss": _not_impl("multi_margin_loss_cpu_kernel"),
    "gaussian_nll_loss": _gaussian,
    "grid_sample": _not_impl("grid_sampler_2d_cpu_kernel_impl"),
    "scaled_dot_product_attention": _runtime("expected scalar type Float but found {T}"),
    "conv1d": ("accept", _CONV_FLOAT, _not_impl("slow_conv2d_cpu", ("bool",))),
    "conv2d": ("accept", _CONV_FLOAT, _not_impl("slow_conv2d_cpu", ("bool",))),
    "conv3d": ("accept", _CONV_FLOAT, _not_impl("compute_columns3d", ("bool",))),
    "conv_transpose1d": (
        "accept",
        _CONVT_FLOAT,
        _not_impl("slow_conv_transpose2d_out_cpu", ("int32", "uint8", "bool")),
    ),
    "conv_transpose2d": (
        "accept",
        _CONVT_FLOAT,
        _not_impl("slow_conv_transpose2d_out_cpu", ("int32", "uint8", "bool")),
    ),
    "conv_transpose3d": (
        "accept",
        _CONVT_FLOAT,
        _not_impl("slow_conv_transpose3d_out_cpu", ("int32", "uint8", "bool")),
    ),
}


def _wrap(fn: Callable, spec) -> Callable:
    """``fn`` with its rule: the first argument (by position or by its parameter name) is the
    tensor whose dtype the rule reads."""
    import inspect

    try:
        first = next(iter(inspect.signature(fn).parameters))
    except (TypeError, ValueError, StopIteration):
        first = "input"

    def split(args, kwargs):
        if args:
            return args[0], args[1:], kwargs
        kw = dict(kwargs)
        return kw.pop(first), (), kw

    if isinstance(spec, tuple):
        _, run, check = spec

        @functools.wraps(fn)
        def accepting(*args, **kwargs):
            x = args[0] if args else kwargs.get(first)
            if isinstance(x, Tensor) and x._a.dtype.kind in "biu":
                x, rest, kw = split(args, kwargs)
                r = run(fn, x, rest, kw)
                if r is not None:
                    return r
                if check is not None:
                    check(x, rest, kw)
            return fn(*args, **kwargs)

        return accepting

    kinds = getattr(spec, "kinds", "biu")  # embedding: its int64 indices skip the check

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        x = args[0] if args else kwargs.get(first)
        try:
            bad = isinstance(x, Tensor) and x._a.dtype.kind in kinds
        except NestedInput:  # a nested tensor: ctorch.nested's rules (fn dispatches)
            bad = False
        if bad:
            x, rest, kw = split(args, kwargs)
            spec(x, rest, kw)
        return fn(*args, **kwargs)

    return checked


def install(ns: dict) -> None:
    """Wrap the functions of ``TABLE`` found in the module namespace ``ns`` and point every
    other reference to the same function object in the loaded ctorch modules (ops module
    globals, class-level staticmethods such as nn's ``_conv``, Tensor attributes) at the
    wrapper, so that ``ctorch.<op>``, the modules and autocast (which wraps by identity) all see
    one function."""
    import importlib
    import sys

    lazy = ns.get("_REEXPORTS", {})
    swap: dict[int, tuple] = {}
    for name, spec in TABLE.items():
        fn = ns.get(name)
        if fn is None and name in lazy:  # a functional bound on first use: bind it now
            fn = getattr(importlib.import_module(f"ctorch.ops.{lazy[name]}"), name, None)
        if fn is not None and not getattr(fn, "_int_checked", False):
            w = _wrap(fn, spec)
            w._int_checked = True
            ns[name] = w
            swap[id(fn)] = (fn, w)
    mods = [m for n, m in list(sys.modules.items()) if n.startswith("ctorch") and m is not None]
    for m in mods:
        d = getattr(m, "__dict__", None) or {}
        for k, v in list(d.items()):
            hit = swap.get(id(v))
            if hit is not None and v is hit[0]:
                setattr(m, k, hit[1])
            elif isinstance(v, type) and getattr(v, "__module__", "").startswith("ctorch"):
                _swap_static(v, swap)
    _swap_static(Tensor, swap)


def _swap_static(cls: type, swap: dict) -> None:
    for k, v in list(vars(cls).items()):
        f = v.__func__ if isinstance(v, staticmethod) else v
        hit = swap.get(id(f))
        if hit is not None and f is hit[0]:
            setattr(cls, k, staticmethod(hit[1]) if isinstance(v, staticmethod) else hit[1])
