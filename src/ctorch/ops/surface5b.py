"""torch names ctorch lacked (issue #14, groups 2-4): in-place method forms and random fills,
torch's top-level functional aliases (with torch's top-level signatures, which differ from
``nn.functional``'s in places), top-level in-place unary forms and the ``*_copy`` variants of
the view ops (``copy_variants.py``). Everything repeating is generated from the tables below; ``ctorch/__init__.py``
imports the names and calls ``attach(Tensor)`` once (see ``extra_surface``)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd import inplace as IP
from ..autograd.grad_mode import no_grad
from ._util import named
from .copy_variants import COPY_VARIANTS

# ---------------------------------------------------------------- 1. in-place method forms


def _graph_other(args: tuple, kwargs: dict):
    """The tensor argument (other than ``self``) that puts the op in the graph, if any."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor) and a.requires_grad:
            return a
    return None


def _inplace_of(name: str, fn):
    def method(self, *args, **kwargs):
        return IP.inplace(self, name, lambda: fn(self, *args, **kwargs), _graph_other(args, kwargs))

    method.__name__ = name
    return method


def _cast_to_self(fn):
    """Comparisons/logical ops written into ``self``: the bool result takes ``self``'s dtype."""

    def f(self, *args, **kwargs):
        return fn(self, *args, **kwargs).to(self.dtype)

    return f


#: in-place name -> (out-of-place method name, result cast to self's dtype first)
INPLACE_METHODS: dict[str, tuple[str, bool]] = {
    "cumsum_": ("cumsum", False),
    "cumprod_": ("cumprod", False),
    "addmm_": ("addmm", False),
    "addmv_": ("addmv", False),
    "baddbmm_": ("baddbmm", False),
    "greater_": ("gt", True),
    "greater_equal_": ("ge", True),
    "less_": ("lt", True),
    "less_equal_": ("le", True),
    "not_equal_": ("ne", True),
    "logical_xor_": ("logical_xor", True),
    "bitwise_not_": ("bitwise_not", False),
}

#: in-place view ops: ``self`` becomes the view (torch's transpose_ family)
VIEW_INPLACE_METHODS: dict[str, str] = {
    "swapaxes_": "transpose",
    "swapdims_": "transpose",
    "as_strided_": "as_strided",
}


_REQ = inspect.Parameter.empty

#: random fills: name -> (parameters (name, default), the dtypes it refuses: a continuous
#: distribution's name (torch's RuntimeError for a non-floating dtype) or the NumPy kinds torch
#: has no kernel for and its kernel name (its NotImplementedError), the parameter check (an
#: error message or None), the sampler: torch's transform on ctorch's generator)
_FILLS: dict[str, tuple] = {
    "geometric_": (
        (("p", _REQ),),
        ("bc", "geometric_cpu"),
        lambda p: None if 0.0 < p < 1.0 else f"expects p to be in (0, 1), but got p={p}",
        lambda g, shp, dt, p: g.geometric(shp, dt, p),
    ),
    "log_normal_": (
        (("mean", 1.0), ("std", 2.0)),
        ("biuc", "log_normal_cpu"),
        lambda mean, std: None if std > 0.0 else f"expects std > 0.0, but found std={std}",
        lambda g, shp, dt, mean, std: g.log_normal(shp, dt, mean, std),
    ),
    "cauchy_": (
        (("median", 0.0), ("sigma", 1.0)),
        "Cauchy",
        lambda median, sigma: (
            None if sigma > 0.0 else f"expects sigma > 0.0, but found sigma={sigma}"
        ),
        lambda g, shp, dt, median, sigma: g.cauchy(shp, dt, median, sigma),
    ),
}


def _random_fill(name: str, params, dist: str | None, check, sample):
    P = inspect.Parameter
    sig = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in params]
        + [P("generator", P.KEYWORD_ONLY, default=None)]
    )

    def method(*args, **kwargs):
        from .._methods import _rand_fill  # _methods imports ops: bind at call time
        from .._random import gen_for

        b = sig.bind(*args, **kwargs)
        b.apply_defaults()
        self, generator = b.arguments.pop("self"), b.arguments.pop("generator")
        if isinstance(dist, tuple):
            if self._a.dtype.kind in dist[0]:
                from .._creation import not_implemented_for

                raise not_implemented_for(dist[1], self._a.dtype)
        elif not self.is_floating_point():
            raise RuntimeError(
                f"{name}: {dist} distribution is a continuous probability distribution. dtype "
                f"must be a floating point but you specified {self.dtype}"
            )
        msg = check(**b.arguments)
        if msg is not None:
            raise RuntimeError(f"{name} {msg}")
        g = gen_for(generator)
        dt = self._a.dtype
        return _rand_fill(self, name, lambda shp: sample(g, shp, dt, **b.arguments))

    method.__signature__ = sig
    return named(method, name)


RANDOM_FILLS = {n: _random_fill(n, *spec) for n, spec in _FILLS.items()}


def addmv_(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


# ---------------------------------------------------------------- 2. top-level functional aliases


def _F():
    from ..nn import functional as F  # nn imports ops: bind at call time

    return F


_REDUCTIONS = {1: "mean", 2: "sum"}  # any other int: unreduced, as aten's kernels


def _reduction(r: Any, op: str) -> str:
    """torch's top-level losses take the reduction as an int (at::Reduction)."""
    if isinstance(r, bool) or not isinstance(r, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not {type(r).__name__}")
    return _REDUCTIONS.get(r, "none")


#: torch.<name> with the same signature as nn.functional.<name>
SAME_AS_F = (
    "avg_pool1d adaptive_avg_pool1d pixel_shuffle pixel_unshuffle prelu hardshrink rms_norm "
    "cosine_similarity pairwise_distance selu_ celu_ threshold_"
).split()


def _f_alias(name: str):
    def fn(*args, **kwargs):
        return getattr(_F(), name)(*args, **kwargs)

    return named(fn, name)


def _stride(stride):
    return (
        None
        if stride is None or (isinstance(stride, list | tuple) and len(stride) == 0)
        else stride
    )


def _max_pool(nd: int):
    def fn(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False):
        return getattr(_F(), f"max_pool{nd}d")(
            input, kernel_size, _stride(stride), padding, dilation, ceil_mode
        )

    return named(fn, f"max_pool{nd}d")


max_pool1d, max_pool2d, max_pool3d = (_max_pool(n) for n in (1, 2, 3))


def max_pool1d_with_indices(
    input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False
) -> tuple[Tensor, Tensor]:
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def adaptive_max_pool1d(input: Tensor, output_size) -> tuple[Tensor, Tensor]:
    return _F().adaptive_max_pool1d(input, output_size, True)


def selu(input: Tensor) -> Tensor:
    return _F().selu(input)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return _F().threshold(input, threshold, value)


def embedding(
    weight: Tensor,
    indices: Tensor,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """torch.embedding: weight first; a negative ``padding_idx`` means none (aten's)."""
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    return _F().embedding(
        indices, weight, pad, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
    )


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def embedding_bag(
    weight: Tensor,
    indices: Tensor,
    offsets: Tensor,
    scale_grad_by_freq: bool = False,
    mode: int = 0,
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """torch.embedding_bag: (output, offset2bag, bag_size, max_indices) as aten's CPU kernel."""
    if mode not in _BAG_MODES:
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    out = _F().embedding_bag(
        indices,
        weight,
        offsets,
        scale_grad_by_freq=scale_grad_by_freq,
        mode=_BAG_MODES[mode],
        sparse=sparse,
        per_sample_weights=per_sample_weights,
        include_last_offset=include_last_offset,
        padding_idx=padding_idx,
    )
    idx = np.asarray(indices.cpu()._a).reshape(-1).astype(np.int64)
    nbag = out.shape[0]
    if indices.dim() == 2:
        starts = np.arange(nbag + 1, dtype=np.int64) * indices.shape[1]
    else:
        starts = np.asarray(offsets.cpu()._a).astype(np.int64)
        if not include_last_offset:
            starts = np.append(starts, idx.size)
    starts, ends = starts[:nbag], starts[1 : nbag + 1]
    keep = np.ones(idx.size, bool) if padding_idx is None else idx != padding_idx % weight.shape[0]
    bag_size = np.array([keep[s:e].sum() for s, e in zip(starts, ends, strict=True)], np.int64)
    offset2bag = np.repeat(np.arange(nbag, dtype=np.int64), ends - starts)
    if mode == 2:
        w = np.asarray(weight.detach().cpu()._a)
        max_idx = np.zeros((nbag, weight.shape[1]), np.int64)
        for b, (s, e) in enumerate(zip(starts, ends, strict=True)):
            rows = idx[s:e][keep[s:e]]
            if rows.size:
                max_idx[b] = rows[np.argmax(w[rows], axis=0)]
    elif mode == 1:
        max_idx = bag_size.copy()
    else:  # sum: aten fills only offset2bag, and only on its padding_idx path
        if padding_idx is None:
            offset2bag = offset2bag[:0]
        n = offsets.shape[0] if indices.dim() == 1 else nbag
        bag_size, max_idx = np.zeros(n, np.int64), np.zeros(n, np.int64)
    aux = [Tensor._make(a).to(out.device) for a in (offset2bag, bag_size, max_idx)]
    return (out, *aux)


#: torch's top-level losses: name -> torch's parameters (name, default; _REQ: required), in
#: order; they call nn.functional.<name> by keyword with the reduction int mapped to its name.
#: The default reduction is 0 (none): what torch's bindings do when it is left out (their
#: schema says Mean, but the parsed default is 0; torch.kl_div(a, b) is unreduced)
LOSSES: dict[str, tuple[tuple[str, Any], ...]] = {
    "kl_div": (("input", _REQ), ("target", _REQ), ("reduction", 0), ("log_target", False)),
    "margin_ranking_loss": (
        ("input1", _REQ), ("input2", _REQ), ("target", _REQ), ("margin", 0.0), ("reduction", 0),
    ),
    "triplet_margin_loss": (
        ("anchor", _REQ), ("positive", _REQ), ("negative", _REQ), ("margin", 1.0), ("p", 2),
        ("eps", 1e-6), ("swap", False), ("reduction", 0),
    ),
    "poisson_nll_loss": (
        ("input", _REQ), ("target", _REQ), ("log_input", _REQ), ("full", _REQ), ("eps", _REQ),
        ("reduction", _REQ),
    ),
    "cosine_embedding_loss": (
        ("input1", _REQ), ("input2", _REQ), ("target", _REQ), ("margin", 0.0), ("reduction", 0),
    ),
    "hinge_embedding_loss": (("input", _REQ), ("target", _REQ), ("margin", 1.0), ("reduction", 0)),
    "binary_cross_entropy_with_logits": (
        ("input", _REQ), ("target", _REQ), ("weight", None), ("pos_weight", None),
        ("reduction", 0),
    ),
    "ctc_loss": (
        ("log_probs", _REQ), ("targets", _REQ), ("input_lengths", _REQ),
        ("target_lengths", _REQ), ("blank", 0), ("reduction", 0), ("zero_infinity", False),
    ),
}  # fmt: skip


_KW_ONLY = {"log_target"}  # after a * in torch's schema


def _loss(name: str, params: tuple[tuple[str, Any], ...]):
    P = inspect.Parameter
    sig = inspect.Signature(
        [
            P(n, P.KEYWORD_ONLY if n in _KW_ONLY else P.POSITIONAL_OR_KEYWORD, default=d)
            for n, d in params
        ]
    )

    def fn(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{name}(): {e}") from None
        bound.apply_defaults()
        kw = dict(bound.arguments)
        kw["reduction"] = _reduction(kw["reduction"], name)
        if name == "kl_div" and kw["reduction"] == "mean":  # without F's 'batchmean' warning,
            kw["reduction"] = "none"  # which torch.kl_div does not give
            return _F().kl_div(**kw).mean()
        return getattr(_F(), name)(**kw)

    fn.__signature__ = sig
    return named(fn, name)


def native_layer_norm(
    input: Tensor, normalized_shape, weight: Tensor | None, bias: Tensor | None, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    """(out, mean, rstd); mean/rstd keep the normalized dims as size 1 and carry no grad."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    out = _F().layer_norm(input, ns, weight, bias, eps)
    dims = tuple(range(input.dim() - len(ns), input.dim()))
    with no_grad():
        x = input.detach()
        mean = x.mean(dims, keepdim=True) if dims else x.clone()
        var = x.var(dims, unbiased=False, keepdim=True) if dims else x * 0
        rstd = (var + eps).rsqrt()
    return out, mean, rstd


def native_batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """(out, save_mean, save_invstd): the batch statistics batch_norm normalized with in
    training (NaN for an empty batch), empty in eval (torch's CPU kernel)."""
    from .normalization import batch_norm_stats

    out, mean, invstd = batch_norm_stats(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )
    if not training:
        return out, input.new_empty((0,)), input.new_empty((0,))
    if mean is None:  # an empty batch: the mean over nothing
        nan = input.new_full((input.shape[1],), float("nan"))
        return out, nan, nan.clone()
    dt = input._a.dtype
    return (
        out,
        Tensor._make(mean.astype(dt, copy=False)),
        Tensor._make(invstd.astype(dt, copy=False)),
    )


def detach(input: Tensor) -> Tensor:
    return input.detach()


def fill(input: Tensor, value) -> Tensor:
    """A new tensor like ``input`` filled with ``value`` (torch.fill: grads as fill_'s)."""
    return input.clone().fill_(value)


def zero_(input: Tensor) -> Tensor:
    return input.zero_()


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    return _F().pad(input, list(pad), "constant", value)


# ---------------------------------------------------------------- 3. top-level in-place forms

#: torch.<name>(t, *a, **k) is t.<name>(*a, **k)
TOP_INPLACE = (
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ erf_ erfc_ exp2_ exp_ expm1_ "
    "fill_ fix_ floor_ frac_ gcd_ i0_ index_put_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ "
    "nan_to_num_ neg_ negative_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ "
    "sqrt_ square_ tan_ tanh_ trunc_ xlogy_ detach_ conj_physical_ resize_as_"
).split()


def _method_alias(name: str):
    def fn(input: Tensor, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    return named(fn, name)


#: torch.<name>_(input, p, train): the in-place dropouts -> (alpha dropout, channel-wise)
DROPOUT_INPLACE = {
    "dropout_": (False, False),
    "alpha_dropout_": (True, False),
    "feature_dropout_": (False, True),
    "feature_alpha_dropout_": (True, True),
}


def _dropout_(
    name: str, input: Tensor, p: float, train: bool, alpha: bool, feature: bool
) -> Tensor:
    from . import dropout as DO

    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if feature and input.dim() < 2:
        raise RuntimeError(
            f"Feature dropout requires at least 2 dimensions in the input, got {input.dim()}"
        )
    if not train or p == 0.0:
        return input
    shp = tuple(input.shape)
    mask_shape = shp[:2] + (1,) * (len(shp) - 2) if feature else shp
    if not alpha:
        return DO.dropout(input, p, True, True, mask_shape)
    if p == 1.0:
        return IP.inplace(input, name, lambda: input * 0)
    alpha_p = -1.6732632423543772 * 1.0507009873554805  # -SELU alpha * scale
    m = DO.dropout_mask_array(input._a, mask_shape, p) > 0
    keep = Tensor._make(m).to(input.dtype)
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    b = -a * alpha_p * p
    return IP.inplace(input, name, lambda: (input * keep + alpha_p * (1 - keep)) * a + b)


def _dropout_inplace(name: str, alpha: bool, feature: bool):
    def fn(input: Tensor, p: float, train: bool) -> Tensor:
        return _dropout_(name, input, p, train, alpha, feature)

    return named(fn, name)


# ---------------------------------------------------------------- the public names

_GENERATED: dict[str, Any] = {}
_GENERATED.update({n: _f_alias(n) for n in SAME_AS_F})
_GENERATED.update({n: _loss(n, p) for n, p in LOSSES.items()})
_GENERATED.update({n: _method_alias(n) for n in TOP_INPLACE})
_GENERATED.update({n: _dropout_inplace(n, *f) for n, f in DROPOUT_INPLACE.items()})
_GENERATED.update(COPY_VARIANTS)
globals().update(_GENERATED)

#: group-2 names written out above (their torch signatures differ from nn.functional's)
_WRITTEN = (
    "max_pool1d max_pool2d max_pool3d max_pool1d_with_indices adaptive_max_pool1d selu "
    "threshold embedding embedding_bag native_layer_norm native_batch_norm detach fill "
    "zero_ constant_pad_nd addmv_"
).split()

__all__ = [*_WRITTEN, *_GENERATED]

#: Tensor methods added here: name -> function (self first)
METHODS: dict[str, Any] = {
    "hardshrink": lambda self, lambd=0.5: _F().hardshrink(self, lambd),
    "prelu": lambda self, weight: _F().prelu(self, weight),
    "narrow_copy": _GENERATED["narrow_copy"],
    **RANDOM_FILLS,
}


def _view_inplace(name: str, base: str):
    def method(self, *args, **kwargs):
        from .._methods import _set_view  # _methods imports ops: bind at call time

        return _set_view(self, getattr(self, base)(*args, **kwargs))

    method.__name__ = name
    return method


def attach(T: type) -> None:
    for name, (base, cast) in INPLACE_METHODS.items():
        fn = getattr(T, base)
        setattr(T, name, _inplace_of(name, _cast_to_self(fn) if cast else fn))
    for name, base in VIEW_INPLACE_METHODS.items():
        setattr(T, name, _view_inplace(name, base))
    for name, fn in METHODS.items():
        setattr(T, name, fn)
