"""ctorch: a PyTorch-style deep-learning library on NumPy.

``import ctorch as torch`` gives torch's API: tensors that share memory with NumPy,
define-by-run autograd, ``nn``, ``optim``, ``utils.data`` and ``vision``, with a Cython/OpenMP
CPU core and a CuPy GPU backend.
"""

from __future__ import annotations

import importlib as _importlib
import math as _math
import os as _os

__version__ = "0.1.0"


#: libgomp's spin count for ctorch's idle OpenMP threads (about 80 us of spinning here)
_SPIN_COUNT = "1000"


def _load_core_with_wait_policy() -> None:
    """Load the OpenMP runtime (via ``_core``) with a short spin unless the user chose.

    libgomp's default lets idle threads spin for milliseconds after every parallel region; on
    the few-core machines ctorch targets they then steal the core from other threads (when
    conv and Linear still used OpenBLAS, a LeNet step at 2 threads took 280 ms spinning and
    12-19 ms passive). Fully passive waiting has the opposite cost: every region and barrier
    wakes a sleeping thread through a futex, ~25 us each on these VMs, so a 256x256x256
    sgemm ran no faster at 2 threads than at 1. ``GOMP_SPINCOUNT=1000`` (about 80 us) keeps
    the thread warm between the back-to-back regions of one op or step, then sleeps.
    libgomp reads the variable once, when it is loaded, so it is set only around that first
    load and removed again: child processes keep the user's environment. A user's
    OMP_WAIT_POLICY or GOMP_SPINCOUNT wins. torch's wheel ships a libgomp.so.1 of the same
    soname, so in one process the first loaded runtime serves both: imported after ctorch,
    torch runs with this spin count; imported before it, ctorch runs with torch's settings.
    See docs/kernels.md, "Threads".
    """
    added = "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ
    if added:
        _os.environ["GOMP_SPINCOUNT"] = _SPIN_COUNT
    try:
        from ._core import _threads  # noqa: F401 - first module linked against OpenMP
    finally:
        if added:
            _os.environ.pop("GOMP_SPINCOUNT", None)


_load_core_with_wait_policy()

from . import _threadpool  # noqa: E402

_threadpool.install()  # start the OpenMP pool safely; single-threaded kernels after fork

from . import _display, _dtype
from ._device import device, get_device_module
from ._dtype import (
    bfloat16,
    bool,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._size import Size
from ._tensor import Tensor, is_tensor

Tensor.__module__ = "ctorch"

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
chalf = complex64


class layout:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{_display.prefix}{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")
jagged = layout("jagged")  # ctorch.nested's jagged layout


from . import _tensor as _tensor_mod  # noqa: E402
from ._memfmt import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)

_tensor_mod._attach()

from . import serialization  # noqa: E402
from ._creation import (  # noqa: E402
    arange,
    as_tensor,
    asarray,
    bernoulli,
    binomial,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_default_device,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from ._creation import range_ as range  # noqa: E402,A001
from ._random import (  # noqa: E402
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ._tensor_str import set_printoptions  # noqa: E402
from .autograd.anomaly_mode import is_anomaly_enabled  # noqa: E402
from .autograd.grad_mode import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import binary as _binary_ops  # noqa: E402
from .ops import unary as _unary_ops  # noqa: E402
from .ops.arithmetic import (  # noqa: E402
    add,
    float_power,
    fmax,
    fmin,
    maximum,
    minimum,
    mul,
    multiply,
    pow,
    rsub,
    sub,
    subtract,
)
from .ops.compare import (  # noqa: E402
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
    where,
)
from .ops.division import (  # noqa: E402
    div,
    divide,
    floor_divide,
    fmod,
    remainder,
    true_divide,
)
from .ops.einsum import einsum  # noqa: E402
from .ops.extrema import (  # noqa: E402
    amax,
    amin,
    aminmax,
    argmax,
    argmin,
    max,
    min,
)
from .ops.indexing import (  # noqa: E402
    gather,
    index_add,
    index_select,
    scatter,
    scatter_add,
    scatter_reduce,
)
from .ops.join import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    cat,
    chunk,
    column_stack,
    concat,
    concatenate,
    dstack,
    hstack,
    row_stack,
    split,
    stack,
    tensor_split,
    unbind,
    vstack,
)
from .ops.linalg import (  # noqa: E402
    addmm,
    addmv,
    baddbmm,
    bilinear,
    bmm,
    dot,
    ger,
    inner,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
    vdot,
)
from .ops.math_nodes import dist  # noqa: E402
from .ops.rearrange import (  # noqa: E402
    diag,
    diag_embed,
    diagonal,
    flip,
    fliplr,
    flipud,
    meshgrid,
    repeat_interleave,
    roll,
    rot90,
    trace,
    tril,
    triu,
)
from .ops.rearrange import tile_function as tile  # noqa: E402
from .ops.reduction import (  # noqa: E402
    all,
    any,
    count_nonzero,
    mean,
    nanmean,
    nansum,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.scan import (  # noqa: E402
    cumprod,
    cumsum,
    logcumsumexp,
)
from .ops.shape import (  # noqa: E402
    adjoint,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    clone,
    flatten,
    moveaxis,
    movedim,
    narrow,
    permute,
    reshape,
    select,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unflatten,
    unsqueeze,
)
from .ops.softmax import (  # noqa: E402
    log_softmax,
    logsumexp,
    softmax,
)
from .ops.sorting import (  # noqa: E402
    argsort,
    bincount,
    bucketize,
    kthvalue,
    median,
    msort,
    nanmedian,
    searchsorted,
    sort,
    topk,
    unique,
)
from .ops.subscript import (  # noqa: E402
    argwhere,
    index_put,
    masked_fill,
    masked_select,
    nonzero,
    take,
    take_along_dim,
)
from .ops.unary import (  # noqa: E402
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    logit,
    nan_to_num,
)
from .ops.write_nodes import index_copy, index_fill, masked_scatter, put  # noqa: E402

# every op of the table (ctorch/_table/elementwise.def) with a torch name, and its aliases
globals().update(_unary_ops.PUBLIC)
globals().update(_binary_ops.PUBLIC)
# --- top-level names added for #14 (h-compat) ---
from ._foreach import *  # noqa: E402,F403 - torch._foreach_add_ & co.
from ._toplevel_nn import (  # noqa: E402
    alpha_dropout,
    batch_norm,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    dropout,
    feature_alpha_dropout,
    group_norm,
    instance_norm,
    layer_norm,
)
from .ops.numerical import (  # noqa: E402
    diff,
    trapezoid,
    trapz,
)
from .ops.pointwise_extra import (  # noqa: E402
    addcdiv,
    addcmul,
    allclose,
    erfinv,
    isclose,
    lerp,
)
from .ops.products import (  # noqa: E402
    cartesian_prod,
    cdist,
    cross,
    kron,
)
from .ops.rearrange import (  # noqa: E402
    expand_copy,
)
from .serialization import load, save  # noqa: E402

# --- end of #14 names ---


def numel(input: Tensor) -> builtins_int:  # type: ignore[name-defined]  # noqa: F821
    return input.numel()


def is_floating_point(input: Tensor) -> builtins_bool:  # type: ignore[name-defined]  # noqa: F821
    return input.is_floating_point()


def is_complex(input: Tensor):
    return input.is_complex()


def is_nonzero(input: Tensor):
    return builtins.bool(input.item()) if input.numel() == 1 else input.__bool__()


def is_storage(obj) -> builtins_bool:  # noqa: F821
    return False


def typename(obj) -> str:
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def get_num_threads() -> builtins_int:  # noqa: F821
    """Threads used by ctorch's CPU kernels (its OpenMP kernels; ``set_num_threads`` gives
    NumPy's OpenBLAS the same count)."""
    from ._core._threads import get_num_threads as g

    return g()


def set_num_threads(n) -> None:
    """Set the threads used by ctorch's CPU kernels: its OpenMP kernels and the BLAS (NumPy's
    OpenBLAS) behind matmul and convolution, so the two pools never oversubscribe the cores."""
    from ._blas_threads import set_blas_threads

    # validated, clamped to max_threads(), 1 in a forked child, pool started safely
    # (ctorch._threadpool)
    n = _threadpool.set_threads(n)
    set_blas_threads(_threadpool.blas_threads(n))
    _threadpool.warm_blas(n)


def max_threads() -> builtins_int:  # noqa: F821
    """The largest count ``set_num_threads`` applies (larger requests are clamped, with a
    warning: torch crashes on e.g. 100000). See ``ctorch._threadpool``."""
    return _threadpool.max_threads()


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n) -> None:
    pass


_deterministic = [False]
_deterministic_warn_only = [False]


def use_deterministic_algorithms(mode: builtins_bool, *, warn_only=False) -> None:  # noqa: F821
    """ctorch's CPU kernels are deterministic already; the flags are recorded."""
    _deterministic[0] = builtins.bool(mode)
    _deterministic_warn_only[0] = builtins.bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.vmap``: ``ctorch.func.vmap``."""
    from .func import vmap as _vmap

    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def compile(  # noqa: A001
    model=None,
    *,
    fullgraph=False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    disable=False,
):
    """No compiler: a function comes back unchanged, a module wrapped in an
    ``OptimizedModule`` (``_orig_mod``, ``_orig_mod.``-prefixed state_dict keys, as in torch)
    that runs it eagerly; usable as a decorator too."""
    kwargs = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode)
    if model is None:
        return lambda m: compile(m, options=options, disable=disable, **kwargs)
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    from .nn.modules.module import Module

    if disable or not isinstance(model, Module):
        return model
    from ._dynamo.eval_frame import OptimizedModule

    return OptimizedModule(model)


def set_float32_matmul_precision(precision: str) -> None:
    """torch's float32 matmul precision: ``"highest"``, ``"high"`` or ``"medium"``. One setting
    with ``backends.cuda.matmul.allow_tf32``, as in torch; ctorch's GEMMs stay full float32."""
    from .backends.cuda import set_float32_matmul_precision as s

    s(precision)


def get_float32_matmul_precision() -> str:
    from .backends.cuda import get_float32_matmul_precision as g

    return g()


from . import _legacy_types  # noqa: E402
from ._half import finfo, iinfo  # noqa: E402

_legacy = _legacy_types.make("ctorch")
FloatTensor = _legacy["FloatTensor"]
DoubleTensor = _legacy["DoubleTensor"]
HalfTensor = _legacy["HalfTensor"]
BFloat16Tensor = _legacy["BFloat16Tensor"]
LongTensor = _legacy["LongTensor"]
IntTensor = _legacy["IntTensor"]
ShortTensor = _legacy["ShortTensor"]
CharTensor = _legacy["CharTensor"]
ByteTensor = _legacy["ByteTensor"]
BoolTensor = _legacy["BoolTensor"]
del _legacy

_default_tensor_type_warned = False


def set_default_tensor_type(tensor_type, /) -> None:
    """``torch.set_default_tensor_type`` (deprecated since torch 2.1; warns once per process,
    as torch): a floating legacy type, or its name, sets the default dtype."""
    global _default_tensor_type_warned
    if not _default_tensor_type_warned:
        _default_tensor_type_warned = True
        from . import _warnings

        _warnings.warn(
            "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
            "torch.set_default_dtype() and torch.set_default_device() as alternatives."
        )
    typ = tensor_type
    on_cuda = False
    if isinstance(typ, str):
        module, _, name = typ.rpartition(".")
        on_cuda = module.endswith(".cuda") or module == "cuda"
        if on_cuda:
            from . import cuda as _cuda_mod

            if not _cuda_mod.is_available():
                raise TypeError(f"type {typ} not available. Torch not compiled with CUDA enabled.")
            module = module[: -len("cuda")].rstrip(".")
        if module in ("torch", "ctorch", ""):
            typ = globals()[name] if name in globals() else None
        else:
            typ = getattr(_importlib.import_module(module), name)
    dt = getattr(typ, "_legacy_dtype", None)
    if dt is None:
        raise TypeError(
            "invalid type object: only floating-point types are supported as the default type"
        )
    if not dt.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(dt)
    if on_cuda:
        set_default_device("cuda")


import builtins  # noqa: E402

builtins_int = builtins.int
builtins_bool = builtins.bool

# --- complex numbers and FFT (issue #13) ---
from .ops.complex import (  # noqa: E402
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_conj,
    isreal,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    sgn,
    view_as_complex,
    view_as_real,
)
from .ops.signal import (  # noqa: E402
    bartlett_window,
    blackman_window,
    hamming_window,
    hann_window,
    istft,
    kaiser_window,
    stft,
)

# --- end of issue #13 complex names ---

_LAZY = {
    "nn": "ctorch.nn",
    "optim": "ctorch.optim",
    "utils": "ctorch.utils",
    "vision": "ctorch.vision",
    "cuda": "ctorch.cuda",
    "distributed": "ctorch.distributed",
    "autograd": "ctorch.autograd",
    "multiprocessing": "ctorch.multiprocessing",
    "backends": "ctorch.backends",
    "accelerator": "ctorch.accelerator",
    "version": "ctorch.version",
    "testing": "ctorch.testing",
    "jit": "ctorch.jit",
    "onnx": "ctorch.onnx",
    "fx": "ctorch.fx",
    "_dynamo": "ctorch._dynamo",
    "profiler": "ctorch.profiler",
    "storage": "ctorch.storage",
    "_inductor": "ctorch._inductor",
    "compiler": "ctorch.compiler",
    "func": "ctorch.func",
    "distributions": "ctorch.distributions",
    "fft": "ctorch.fft",
    "library": "ctorch.library",
    "futures": "ctorch.futures",
    "return_types": "ctorch.return_types",
    "hub": "ctorch.hub",
    "_C": "ctorch._C",
    "amp": "ctorch.amp",
    "cpu": "ctorch.cpu",
    "xpu": "ctorch.xpu",
    "mps": "ctorch.mps",
    "functional": "ctorch.functional",
    "masked": "ctorch.masked",
    "nested": "ctorch.nested",
}


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is not None:
        m = _importlib.import_module(mod)  # submodules listed here all exist
        globals()[name] = m
        return m
    if name in ("UntypedStorage", "TypedStorage"):
        cls = getattr(_importlib.import_module("ctorch.storage"), name)
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'ctorch' has no attribute {name!r}")


# --- sparse tensors (#13): torch.sparse, sparse_coo_tensor/sparse_csr_tensor, layouts ---
from . import overrides, random, signal, sparse, types  # noqa: E402

sparse._install(globals())
# --- end of sparse ---

# --- linear algebra (#13): ctorch.linalg, torch's legacy top-level names, Tensor methods ---
from . import linalg  # noqa: E402
from ._lowrank import pca_lowrank, svd_lowrank  # noqa: E402
from .linalg import _legacy as _linalg_legacy  # noqa: E402
from .linalg._legacy import (  # noqa: E402
    chain_matmul,
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    frobenius_norm,
    geqrf,
    inverse,
    logdet,
    lu,
    lu_solve,
    lu_unpack,
    matrix_exp,
    matrix_power,
    nuclear_norm,
    orgqr,
    ormqr,
    pinverse,
    qr,
    slogdet,
    svd,
    triangular_solve,
)

_linalg_legacy.attach(Tensor)
# --- end of linear algebra (#13) ---

# --- special functions (#13): ctorch.special, torch's top-level aliases, Tensor methods ---
from . import special  # noqa: E402
from .special import _aliases as _special_aliases  # noqa: E402
from .special._aliases import (  # noqa: E402
    digamma,
    erfc,
    i0,
    igamma,
    igammac,
    lgamma,
    mvlgamma,
    polygamma,
    sinc,
    xlogy,
)

_special_aliases.attach(Tensor)
# --- end of special functions (#13) ---

from . import _half as _half_mod  # noqa: E402
from ._runtime_compat import _assert  # noqa: E402 - torch._assert

_half_mod._install()  # float16/bfloat16 in float32 for the ops without 16-bit kernels

from .amp.autocast_mode import (  # noqa: E402
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)

# --- more torch ops (#13/#14, branch ops3): cummax, addr, cov, histc, gcd, shifts, ... ---
from .ops import extra_surface as _extra_surface  # noqa: E402
from .ops.extra_surface import (  # noqa: E402
    addbmm,
    addr,
    as_strided,
    as_strided_scatter,
    bitwise_left_shift,
    bitwise_right_shift,
    block_diag,
    channel_shuffle,
    conv_transpose3d,
    corrcoef,
    cov,
    cummax,
    cummin,
    diagflat,
    diagonal_scatter,
    dsplit,
    frexp,
    gcd,
    heaviside,
    histc,
    hsplit,
    lcm,
    ldexp,
    native_channel_shuffle,
    nextafter,
    pdist,
    renorm,
    rrelu,
    rrelu_,
    select_scatter,
    slice_scatter,
    tril_indices,
    triu_indices,
    vander,
    vsplit,
)

_extra_surface.attach(Tensor)
# --- end of ops3 names ---

# --- surf5a names (#14 group 1), registered through ops/extra_surface.py ---
from .ops.surface5a import (  # noqa: E402
    deg2rad,
    deg2rad_,
    isin,
    nanquantile,
    positive,
    quantile,
    rad2deg,
    rad2deg_,
    ravel,
    signbit,
    unique_consecutive,
    unravel_index,
)
from .ops.surface5a import mode as _mode  # noqa: E402 - a parameter above is named mode
from .ops.surface5a_index import index_reduce  # noqa: E402
from .ops.surface5a_misc import (  # noqa: E402
    empty_strided,
    frombuffer,
    is_distributed,
    is_inference,
    is_neg,
    is_same_size,
    is_signed,
    scalar_tensor,
    split_with_sizes,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
)
from .ops.surface5a_numeric import (  # noqa: E402
    combinations,
    cumulative_trapezoid,
    gradient,
    histogram,
    histogramdd,
)

mode = _mode
# --- end of surf5a names ---

from .ops import surface_s19 as _surface_s19  # noqa: E402

globals().update({_n: getattr(_surface_s19, _n) for _n in _surface_s19.__all__})
_surface_s19.attach(Tensor)

from .ops import surface_s20 as _surface_s20  # noqa: E402

globals().update({_n: getattr(_surface_s20, _n) for _n in _surface_s20.__all__})
_surface_s20.attach(Tensor)

# --- more torch names (#14 groups 2-4, branch surf5b): in-place forms, aliases, *_copy ---
from .ops import surface5b as _surface5b  # noqa: E402

globals().update({_n: getattr(_surface5b, _n) for _n in _surface5b.__all__})
_surface5b.attach(Tensor)
# --- end of surf5b names ---

# --- torch's deprecated scalar-first overloads (torch.add(x, 2, y), p.add_(-lr, g), ...) ---
from . import _deprecated_overloads  # noqa: E402

_deprecated_overloads.install(Tensor, globals())

# --- torch's TypeError for a number where atan2/maximum/hypot/take/... want a Tensor ---
from . import _tensor_args  # noqa: E402

_tensor_args.install(Tensor, globals())
from .nn import functional as _nn_functional  # noqa: E402

_tensor_args.install(None, vars(_nn_functional))


def _standard_gamma(input, generator=None):
    """``torch._standard_gamma``: Gamma(input, 1) samples (torch's sampler), differentiable."""
    if generator is not None:
        raise NotImplementedError("_standard_gamma: only the default generator is supported")
    from .distributions._gamma_sampler import standard_gamma_rsample

    return standard_gamma_rsample(input)


def _sample_dirichlet(input, generator=None):
    """``torch._sample_dirichlet``: Dirichlet(input) samples over the last dim (torch's)."""
    if generator is not None:
        raise NotImplementedError("_sample_dirichlet: only the default generator is supported")
    from .distributions._gamma_sampler import dirichlet_rsample

    return dirichlet_rsample(input)


# torch's numeric constants (torch.inf, torch.nan, torch.pi, torch.e; torch.newaxis is None)
inf = _math.inf
nan = _math.nan
pi = _math.pi
e = _math.e
newaxis = None
