"""Masked reductions and normalizations (``torch.masked``) on strided tensors.

``mask`` (bool, broadcastable to ``input``) marks the elements that take part; the others are
replaced by the operation's identity (0 for sum, 1 for prod, -inf for amax/softmax/logsumexp,
+inf for amin/softmin, NaN for median) before the plain operation runs, exactly as torch's
``_combine_input_and_mask`` does, so an all-masked row gives torch's answer (0, 1, -inf, NaN,
...), and gradients flow through ``where`` to the kept elements only. ``mean``/``var``/``std``
divide by the count of kept elements. Sparse layouts and ``MaskedTensor`` inputs are not
supported here (torch's sparse paths): they raise a ValueError naming the op."""

from __future__ import annotations

import builtins
import math

import ctorch as torch

__all__ = [
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cumprod",
    "cumsum",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "mean",
    "median",
    "norm",
    "normalize",
    "prod",
    "softmax",
    "softmin",
    "std",
    "sum",
    "var",
]

_SMALL_INTS = None


def _small_ints():
    global _SMALL_INTS
    if _SMALL_INTS is None:
        _SMALL_INTS = {torch.uint8, torch.bool, torch.int8, torch.int16, torch.int32}
    return _SMALL_INTS


def _reduction_identity(op_name: str, input, *args):
    """The value a masked-out element takes for ``op_name`` (None: the op counts instead)."""
    dtype = input.dtype
    device = input.device
    op_name = op_name.rsplit(".", 1)[-1]
    if op_name in {"sum", "cumsum"}:
        return torch.tensor(0, dtype=dtype, device=device)
    elif op_name in {"prod", "cumprod"}:
        return torch.tensor(1, dtype=dtype, device=device)
    elif op_name in {"amax", "argmax", "logaddexp"}:
        if torch.is_floating_point(input):
            return torch.tensor(-math.inf, dtype=dtype, device=device)
        elif torch.is_signed(input) or dtype == torch.uint8:
            return torch.tensor(torch.iinfo(dtype).min, dtype=dtype, device=device)
    elif op_name == "logsumexp":
        if torch.is_floating_point(input):
            return torch.tensor(-math.inf, dtype=dtype, device=device)
        elif torch.is_complex(input):
            return torch.tensor(-math.inf + 0j, dtype=dtype, device=device)
        elif torch.is_signed(input) or dtype == torch.uint8:
            return torch.tensor(torch.iinfo(dtype).min, dtype=dtype, device=device)
    elif op_name in {"amin", "argmin"}:
        if torch.is_floating_point(input):
            return torch.tensor(math.inf, dtype=dtype, device=device)
        elif torch.is_signed(input) or dtype == torch.uint8:
            return torch.tensor(torch.iinfo(dtype).max, dtype=dtype, device=device)
    elif op_name == "mean":
        return None
    elif op_name == "norm":
        ord = args[0] if args else 2  # noqa: A001 - torch's name
        if ord == float("-inf"):
            if not torch.is_floating_point(input):
                raise AssertionError(f"input must be floating point, got {input.dtype}")
            return torch.tensor(math.inf, dtype=dtype, device=device)
        return torch.tensor(0, dtype=dtype, device=device)
    elif op_name == "median":
        dtype = input.dtype if torch.is_floating_point(input) else torch.float
        return torch.tensor(math.nan, dtype=dtype, device=device)
    elif op_name in {"var", "std"}:
        return None
    raise NotImplementedError(f"identity of {op_name} on {dtype} input")


def _canonical_dim(dim, ndim: int) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative dims."""
    dims: list[int] = []
    if dim == ():
        dim = None
    if dim is None:
        return tuple(range(ndim))
    ndim = builtins.max(ndim, 1)
    dim_ = (dim,) if isinstance(dim, int) else dim
    for d in dim_:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                f"but got {d})"
            )
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _any(input, dim: tuple, keepdim: bool):
    r = input
    for d in reversed(dim):
        r = r.any(dim=d, keepdim=keepdim)
    return r


def _check_strided(t, what: str) -> None:
    if t.layout != torch.strided:
        raise ValueError(
            f"{what} expects strided tensor (got {t.layout} tensor); ctorch.masked "
            "implements the strided layout only"
        )


def _where(mask, input, fill_value):
    _check_strided(mask, "_where")
    return torch.where(mask, input, fill_value)


def _input_mask(input, *args, **kwargs):
    """``mask`` broadcast to ``input``'s shape, as bool."""
    _check_strided(input, "_input_mask")
    mask = kwargs.get("mask")
    if mask is None:
        raise ValueError("_input_mask requires explicit mask")
    _check_strided(mask, "_input_mask")
    if mask.shape != input.shape:
        if mask.ndim > input.ndim:
            raise IndexError(
                "_input_mask expected broadcastable mask (got mask dimensionality higher than "
                "of the input)"
            )
        mask = torch.broadcast_to(mask.clone(), input.shape).to(dtype=torch.bool)
    return mask.to(dtype=torch.bool)


_REDUCTIONS = {
    "sum", "prod", "amax", "amin", "argmax", "argmin", "mean", "median", "norm", "var", "std",
    "logsumexp",
}  # fmt: skip
_NORMALIZATIONS = {"softmax", "log_softmax", "softmin", "normalize", "cumsum", "cumprod"}


def _output_mask(op, input, *args, **kwargs):
    """Where the result of ``op`` is defined: any kept element reduced into it."""
    if not callable(op):
        raise ValueError(f"_output_mask expected masked operation (got {type(op).__name__} object)")
    if op.__name__ in _REDUCTIONS:
        if op.__name__ == "norm" and args:
            args = args[1:]
        dim = args[0] if args else kwargs.get("dim")
        outmask = _input_mask(input, *args, **kwargs)
        keepdim = kwargs.get("keepdim", False)
        return _any(outmask, _canonical_dim(dim, input.ndim), bool(keepdim))
    if op.__name__ in _NORMALIZATIONS:
        return _input_mask(input, *args, **kwargs)
    raise ValueError(
        f"_output_mask expected masked operation (got callable {op.__module__}.{op.__name__})"
    )


def _combine_input_and_mask(op, input, mask, *args):
    """``input`` with masked-out elements replaced by ``op``'s identity."""
    if mask is None:
        return input
    canonical_mask = _input_mask(input, mask=mask)
    if not callable(op):
        raise ValueError(
            f"_combine_input_and_mask expected masked operation (got {type(op).__name__} object)"
        )
    return _where(canonical_mask, input, _reduction_identity(op.__name__, input, *args))


def _sum_dtype(input, dtype):
    if dtype is None:
        dtype = input.dtype
        if input.dtype in _small_ints():
            dtype = torch.int64
    return dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A001
    """Sum of the kept elements over ``dim`` (all dims when None)."""
    dtype = _sum_dtype(input, dtype)
    dim_ = _canonical_dim(dim, input.ndim)
    mask_input = _combine_input_and_mask(sum, input, mask)
    _check_strided(mask_input, "masked sum")
    return torch.sum(mask_input, dim_, bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the kept elements over ``dim``."""
    dtype = _sum_dtype(input, dtype)
    dim_ = _canonical_dim(dim, input.ndim)
    mask_input = _combine_input_and_mask(prod, input, mask)
    _check_strided(mask_input, "masked prod")
    result = mask_input.to(dtype=dtype)
    for d in reversed(dim_):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input, dim, *, dtype=None, mask=None):
    """Cumulative sum along ``dim``, masked-out elements adding 0."""
    if dtype is None:
        dtype = input.dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    mask_input = _combine_input_and_mask(sum, input, mask)
    _check_strided(mask_input, "masked cumsum")
    return torch.cumsum(mask_input, dim_, dtype=dtype).to(dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Cumulative product along ``dim``, masked-out elements multiplying by 1."""
    if dtype is None:
        dtype = input.dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    mask_input = _combine_input_and_mask(prod, input, mask)
    _check_strided(mask_input, "masked cumprod")
    return torch.cumprod(mask_input, dim_, dtype=dtype).to(dtype=dtype)


def _masked_extreme(name: str, reduce, canonical_dims: bool, doc: str):
    """amax/amin/argmax/argmin: ``reduce`` over the input with masked-out elements set to the
    op's identity, cast to ``dtype`` (the input's by default, as torch does)."""

    def op(input, dim=None, *, keepdim=False, dtype=None, mask=None):
        if dtype is None:
            dtype = input.dtype
        mask_input = _combine_input_and_mask(op, input, mask)
        _check_strided(mask_input, f"masked {name}")
        d = _canonical_dim(dim, mask_input.ndim) if canonical_dims else dim
        return reduce(mask_input, d, bool(keepdim)).to(dtype=dtype)

    op.__name__ = op.__qualname__ = name  # _output_mask/_reduction_identity go by the name
    op.__doc__ = doc
    return op


amax = _masked_extreme(
    "amax",
    torch.amax,
    True,
    "Largest kept element over ``dim`` (-inf, or the dtype's minimum, where none is kept).",
)
amin = _masked_extreme(
    "amin",
    torch.amin,
    True,
    "Smallest kept element over ``dim`` (+inf, or the dtype's maximum, where none is kept).",
)
argmax = _masked_extreme(
    "argmax",
    torch.argmax,
    False,
    "Index of the largest kept element (cast to ``dtype``, the input's by default, as torch does).",
)
argmin = _masked_extreme(
    "argmin",
    torch.argmin,
    False,
    "Index of the smallest kept element (cast to ``dtype``, the input's by default).",
)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the kept elements (NaN where none is kept)."""
    dtype_source = "Optional"
    if dtype is None:
        dtype = input.dtype
        dtype_source = "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(
            f"mean(): Could not infer output dtype. {dtype_source} dtype must be either a "
            f"floating point or complex dtype. Got: {dtype}"
        )
    _check_strided(input, "masked mean")
    if mask is None:
        ones = torch.ones(input.shape, dtype=torch.int64, device=input.device)
        count = sum(ones, dim, keepdim=keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype)
    else:
        inmask = _input_mask(input, mask=mask)
        count = inmask.sum(dim=dim, keepdim=bool(keepdim))
        total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median of the kept elements along ``dim`` (NaN where none is kept; an integer input
    with such a row raises, as torch's does)."""
    if dtype is None:
        dtype = input.dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    is_float = torch.is_floating_point(input)
    if not is_float:
        input = input.to(dtype=torch.float)
    mask_input = _combine_input_and_mask(median, input, mask)
    _check_strided(mask_input, "masked median")
    output = torch.nanmedian(mask_input, dim_, keepdim).values
    if is_float:
        return output
    if not torch.isnan(output).any():
        return output.to(dtype=dtype)
    raise ValueError(
        "masked median expects no fully masked out rows if dtype is not floating point"
    )


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """log(sum(exp)) of the kept elements (-inf where none is kept)."""
    if dtype is None:
        dtype = input.dtype
    dim_ = _canonical_dim(dim, input.ndim)
    mask_input = _combine_input_and_mask(logsumexp, input, mask)
    _check_strided(mask_input, "masked logsumexp")
    return torch.logsumexp(mask_input, dim_, keepdim=keepdim).to(dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """``logaddexp`` with each operand's masked-out elements taken as -inf."""
    if dtype is None:
        dtype = input.dtype
    if input.layout != torch.strided or other.layout != torch.strided:
        raise ValueError(
            f"masked logaddexp expects strided tensors (got {input.layout} tensor for input, "
            f"{other.layout} for other)"
        )
    mask_input = _combine_input_and_mask(logaddexp, input, input_mask)
    mask_other = _combine_input_and_mask(logaddexp, other, other_mask)
    return torch.logaddexp(mask_input, mask_other).to(dtype=dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A002
    """Vector ``ord``-norm of the kept elements over ``dim``."""
    if dtype is None:
        dtype = input.dtype
    mask_input = _combine_input_and_mask(norm, input, mask, ord)
    _check_strided(mask_input, "masked norm")
    dim_ = _canonical_dim(dim, input.ndim)
    return torch.linalg.vector_norm(mask_input, ord, dim_, bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, *, correction_opt, keepdim, dtype, mask, take_sqrt):
    if unbiased is not None and correction_opt is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    correction = 1.0
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    if correction_opt is not None:
        correction = float(correction_opt)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = torch.float32
    compute_dtype = dtype
    if not (compute_dtype.is_floating_point or compute_dtype.is_complex):
        compute_dtype = torch.float32
    _check_strided(input, "masked std/var")
    if mask is None:
        ones = torch.ones(input.shape, dtype=torch.int64, device=input.device)
        count = sum(ones, dim, keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype)
    else:
        inmask = _input_mask(input, mask=mask)
        count = inmask.sum(dim=dim, keepdim=True)
        sample_total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    sample_mean = torch.divide(sample_total, count)
    x = torch.subtract(input, sample_mean)
    if mask is None:
        total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute_dtype)
    else:
        total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute_dtype, mask=inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        real_dtype = compute_dtype.to_real() if compute_dtype.is_complex else compute_dtype
        count = count.to(real_dtype)
        count = torch.subtract(count, correction)
        count = torch.maximum(count, count.new_zeros([]))
    output = torch.divide(total, count).to(dtype=dtype)
    if take_sqrt:
        output = torch.sqrt(output)
    return output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Variance of the kept elements (``correction`` 1 by default: Bessel's)."""
    return _std_var(
        input, dim, unbiased, correction_opt=correction, keepdim=keepdim, dtype=dtype,
        mask=mask, take_sqrt=False,
    )  # fmt: skip


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Standard deviation of the kept elements."""
    return _std_var(
        input, dim, unbiased, correction_opt=correction, keepdim=keepdim, dtype=dtype,
        mask=mask, take_sqrt=True,
    )  # fmt: skip


def _normalization(name, identity_of, input, dim, dtype, mask):
    """``nn.functional.<name>`` along ``dim`` of ``input`` whose masked-out elements hold the
    identity of ``identity_of`` (amax: -inf, amin: +inf)."""
    if dtype is None:
        dtype = input.dtype
    dim_ = _canonical_dim(dim, input.ndim)[0]
    mask_input = _combine_input_and_mask(identity_of, input, mask)
    _check_strided(mask_input, f"masked {name}")
    return getattr(torch.nn.functional, name)(mask_input, dim_, dtype=dtype)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the kept elements (masked-out ones get 0; an all-masked row
    gives NaN, as torch's)."""
    return _normalization("softmax", amax, input, dim, dtype, mask)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """log_softmax along ``dim`` over the kept elements (masked-out ones get -inf)."""
    return _normalization("log_softmax", amax, input, dim, dtype, mask)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin along ``dim`` over the kept elements."""
    return _normalization("softmin", amin, input, dim, dtype, mask)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):  # noqa: A002
    """``input`` divided by the ``ord``-norm of its kept elements along ``dim`` (at least
    ``eps``); masked-out elements become 0."""
    if dtype is None:
        dtype = input.dtype
    mask_input = _combine_input_and_mask(sum, input, mask)
    _check_strided(mask_input, "masked normalize")
    nrm_ = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    denom = torch.maximum(nrm_, nrm_.new_full([], eps))
    return torch.divide(mask_input, denom)
