"""torch names added for issue #14 groups 2-4 (ops/surface5b.py): in-place method forms and
random fills, top-level functional aliases, top-level in-place forms, ``*_copy`` variants.
Each is compared with torch (values, dtypes, shapes, gradients, errors); cases come from the
tables below, and an independent list of the names torch has checks that nothing is missing."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.ops import copy_variants as CV
from ctorch.ops import surface5b as S5
from tests.helpers import assert_close, check_op

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

# ------------------------------------------------------------ the names torch has (written out)
TORCH_METHODS = (
    "cumsum_ cumprod_ addmm_ addmv_ baddbmm_ swapaxes_ swapdims_ greater_ greater_equal_ less_ "
    "less_equal_ not_equal_ logical_xor_ bitwise_not_ as_strided_ geometric_ log_normal_ "
    "cauchy_ hardshrink prelu narrow_copy"
).split()
TORCH_TOP = (
    "addmv_ max_pool1d max_pool2d max_pool3d max_pool1d_with_indices avg_pool1d "
    "adaptive_avg_pool1d adaptive_max_pool1d pixel_shuffle pixel_unshuffle prelu selu selu_ "
    "celu_ threshold threshold_ hardshrink rms_norm embedding embedding_bag cosine_similarity "
    "pairwise_distance kl_div margin_ranking_loss triplet_margin_loss poisson_nll_loss "
    "cosine_embedding_loss hinge_embedding_loss binary_cross_entropy_with_logits ctc_loss "
    "native_layer_norm native_batch_norm detach fill zero_ constant_pad_nd "
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ erf_ erfc_ exp2_ exp_ expm1_ "
    "fill_ fix_ floor_ frac_ gcd_ i0_ index_put_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ "
    "nan_to_num_ neg_ negative_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ "
    "square_ tan_ tanh_ trunc_ xlogy_ detach_ dropout_ alpha_dropout_ feature_alpha_dropout_ "
    "feature_dropout_ conj_physical_ resize_as_ "
    "alias_copy as_strided_copy detach_copy diagonal_copy narrow_copy permute_copy select_copy "
    "slice_copy split_copy split_with_sizes_copy squeeze_copy t_copy transpose_copy "
    "unbind_copy unfold_copy unsqueeze_copy view_copy view_as_real_copy view_as_complex_copy "
    "indices_copy values_copy crow_indices_copy col_indices_copy ccol_indices_copy "
    "row_indices_copy"
).split()


@pytest.mark.parametrize("name", TORCH_METHODS)
def test_method_exists(name):
    assert hasattr(torch.Tensor, name)
    assert callable(getattr(ctorch.Tensor, name, None)), name


@pytest.mark.parametrize("name", TORCH_TOP)
def test_top_level_exists(name):
    assert hasattr(torch, name)
    assert callable(getattr(ctorch, name, None)), name


def test_tables_cover_the_names():
    tabled = (
        set(S5.INPLACE_METHODS)
        | set(S5.VIEW_INPLACE_METHODS)
        | set(S5.RANDOM_FILLS)
        | set(S5.METHODS)
    )
    assert set(TORCH_METHODS) <= tabled
    assert set(TORCH_TOP) <= set(S5.__all__)


# ------------------------------------------------------------ 1. in-place method forms
#: name -> (input shapes/values, call(x, *others)); others are the inputs after the first
INPLACE_CASES = {
    "cumsum_": ([(3, 4)], lambda x: x.cumsum_(1)),
    "cumprod_": ([(3, 4)], lambda x: x.cumprod_(-1)),
    "addmm_": ([(3, 4), (3, 2), (2, 4)], lambda x, a, b: x.addmm_(a, b, beta=0.5, alpha=2)),
    "addmv_": ([(3,), (3, 2), (2,)], lambda x, a, b: x.addmv_(a, b, alpha=-1)),
    "baddbmm_": ([(2, 3, 4), (2, 3, 5), (2, 5, 4)], lambda x, a, b: x.baddbmm_(a, b, beta=2)),
    "greater_": ([(3, 4), (3, 4)], lambda x, y: x.greater_(y)),
    "greater_equal_": ([(3, 4), (4,)], lambda x, y: x.greater_equal_(y)),
    "less_": ([(3, 4)], lambda x: x.less_(0.5)),
    "less_equal_": ([(3, 4), (3, 4)], lambda x, y: x.less_equal_(y)),
    "not_equal_": ([(3, 4)], lambda x: x.not_equal_(x.detach().round())),
    "logical_xor_": ([(3, 4), (3, 4)], lambda x, y: x.logical_xor_(y)),
}


def _grad_free(name):
    return name in (
        "greater_",
        "greater_equal_",
        "less_",
        "less_equal_",
        "not_equal_",
        "logical_xor_",
    )


@pytest.mark.parametrize("name", sorted(INPLACE_CASES))
def test_inplace_method_values_and_grads(name):
    shapes, call = INPLACE_CASES[name]

    def fn(lib, x, *others):
        return call(x.clone(), *others)

    check_op(fn, shapes, grad=not _grad_free(name), low=-1.0, high=1.0)


@pytest.mark.parametrize("name", sorted(INPLACE_CASES))
def test_inplace_method_through_a_view(name):
    """In-place on a view of a non-leaf: the base sees the write and its graph (CopySlices)."""
    shapes, call = INPLACE_CASES[name]

    def fn(lib, x, *others):
        base = x * 1
        call(base.view(-1).view(tuple(x.shape)), *others)
        return base

    check_op(fn, shapes, grad=not _grad_free(name), low=-1.0, high=1.0)


@pytest.mark.parametrize("name", sorted(INPLACE_CASES))
def test_inplace_method_semantics(name):
    shapes, call = INPLACE_CASES[name]
    rng = np.random.default_rng(1)
    xs = [ctorch.from_numpy(rng.uniform(-1, 1, s).astype(np.float32)) for s in shapes]
    x = xs[0]
    v = x._version
    r = call(x, *xs[1:])
    assert r is x and x._version > v
    leaf = xs[0].clone().requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        call(leaf, *xs[1:])


def test_bitwise_not_():
    for dt in ("int32", "int64", "bool", "uint8"):
        a = np.array([0, 1, 5, 0, 7]).astype(dt)
        c, t = ctorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
        assert c.bitwise_not_() is c
        assert_close(c, t.bitwise_not_())
    with pytest.raises(Exception):  # noqa: B017  (torch: RuntimeError, not for floats)
        ctorch.ones(3).bitwise_not_()


@pytest.mark.parametrize("name", ["swapaxes_", "swapdims_"])
def test_swap_inplace(name):
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    c, t = ctorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert getattr(c, name)(0, -1) is c
    assert_close(c, getattr(t, name)(0, -1))
    check_op(lambda L, x: getattr(x * 1, name)(0, -1) * 2, [(2, 3, 4)])


def test_as_strided_():
    a = np.arange(12.0, dtype=np.float32)
    c, t = ctorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert c.as_strided_((3, 2), (2, 1), 1) is c
    assert_close(c, t.as_strided_((3, 2), (2, 1), 1))
    check_op(lambda L, x: (x * 1).as_strided_((3, 2), (2, 1), 1) * 2, [(12,)])


# ------------------------------------------------------------ random fills
FILLS = {
    "geometric_": ((0.3,), stats.geom(0.3)),
    "log_normal_": ((0.5, 0.75), stats.lognorm(s=0.75, scale=np.exp(0.5))),
    "cauchy_": ((1.0, 2.0), stats.cauchy(loc=1.0, scale=2.0)),
}


@pytest.mark.parametrize("name", sorted(FILLS))
def test_random_fill_distribution(name):
    args, dist = FILLS[name]
    ctorch.manual_seed(123)
    x = ctorch.empty(20000, dtype=ctorch.float64)
    v = x._version
    assert getattr(x, name)(*args) is x and x._version > v
    a = x.numpy()
    if name == "geometric_":  # discrete: compare frequencies and moments
        assert a.min() >= 1 and np.all(a == np.round(a))
        assert abs(a.mean() - dist.mean()) < 5 * dist.std() / np.sqrt(a.size)
        for k in (1, 2, 3):
            assert abs(np.mean(a == k) - dist.pmf(k)) < 0.015
    else:
        assert stats.kstest(a, dist.cdf).pvalue > 1e-3
    ctorch.manual_seed(123)
    y = getattr(ctorch.empty(20000, dtype=ctorch.float64), name)(*args)
    np.testing.assert_array_equal(a, y.numpy())  # manual_seed reproduces the stream
    g = ctorch.Generator().manual_seed(5)
    z1 = getattr(ctorch.empty(10), name)(*args, generator=g)
    z2 = getattr(ctorch.empty(10), name)(*args, generator=ctorch.Generator().manual_seed(5))
    np.testing.assert_array_equal(z1.numpy(), z2.numpy())
    assert z1.dtype == ctorch.float32


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.empty(3).geometric_(0),
        lambda lib: lib.empty(3).geometric_(1.5),
        lambda lib: lib.empty(3).log_normal_(1, 0),
        lambda lib: lib.empty(3).cauchy_(0, 0),
        lambda lib: lib.empty(3, dtype=lib.int64).cauchy_(),
    ],
)
def test_random_fill_errors(call):
    with pytest.raises(RuntimeError) as et:
        call(torch)
    with pytest.raises(RuntimeError) as ec:
        call(ctorch)
    assert str(et.value).split(",")[0].split(" ")[0] in str(ec.value)


def test_random_fill_leaf_error():
    x = ctorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.cauchy_()


@pytest.mark.parametrize(
    "shapes,call",
    [
        ([(3, 4)], lambda lib, x: x.hardshrink(0.3)),
        ([(2, 3, 4), (3,)], lambda lib, x, w: x.prelu(w)),
        ([(3, 5)], lambda lib, x: x.narrow_copy(1, 1, 3)),
    ],
)
def test_new_methods(shapes, call):
    check_op(call, shapes)


# ------------------------------------------------------------ 2. top-level functional aliases
R = np.random.default_rng(7)
IDX = R.integers(0, 10, (2, 3))
LABEL = np.where(R.random(4) > 0.5, 1.0, -1.0).astype(np.float32)
PROB = R.uniform(0.05, 0.95, (3, 4)).astype(np.float32)

#: name -> (inputs, call(lib, *xs), kwargs of check_op)
ALIAS_CASES = {
    "max_pool1d": ([(2, 3, 9)], lambda L, x: L.max_pool1d(x, 3, 2, 1), {}),
    "max_pool2d": ([(1, 2, 6, 6)], lambda L, x: L.max_pool2d(x, 2), {}),
    "max_pool3d": ([(1, 2, 4, 4, 4)], lambda L, x: L.max_pool3d(x, 2, [], 0, 1, True), {}),
    "max_pool1d_with_indices": ([(2, 3, 8)], lambda L, x: L.max_pool1d_with_indices(x, 2, 2), {}),
    "avg_pool1d": ([(2, 3, 9)], lambda L, x: L.avg_pool1d(x, 3, 2, 1, False, False), {}),
    "adaptive_avg_pool1d": ([(2, 3, 9)], lambda L, x: L.adaptive_avg_pool1d(x, 4), {}),
    "adaptive_max_pool1d": ([(2, 3, 9)], lambda L, x: L.adaptive_max_pool1d(x, 4), {}),
    "pixel_shuffle": ([(1, 8, 2, 3)], lambda L, x: L.pixel_shuffle(x, 2), {}),
    "pixel_unshuffle": ([(1, 2, 4, 6)], lambda L, x: L.pixel_unshuffle(x, 2), {}),
    "prelu": ([(2, 3, 4), (3,)], lambda L, x, w: L.prelu(x, w), {}),
    "selu": ([(3, 4)], lambda L, x: L.selu(x), {}),
    "selu_": ([(3, 4)], lambda L, x: L.selu_(x.clone()), {}),
    "celu_": ([(3, 4)], lambda L, x: L.celu_(x.clone(), 0.7), {}),
    "threshold": ([(3, 4)], lambda L, x: L.threshold(x, 0.1, -2.0), {}),
    "threshold_": ([(3, 4)], lambda L, x: L.threshold_(x.clone(), 0.1, -2.0), {}),
    "hardshrink": ([(3, 4)], lambda L, x: L.hardshrink(x, 0.6), {}),
    "rms_norm": ([(3, 4), (4,)], lambda L, x, w: L.rms_norm(x, [4], w, 1e-5), {}),
    "embedding": ([(10, 3), IDX], lambda L, w, i: L.embedding(w, i, 2), {}),
    "cosine_similarity": ([(3, 4), (3, 4)], lambda L, a, b: L.cosine_similarity(a, b, 0), {}),
    "pairwise_distance": (
        [(3, 4), (3, 4)],
        lambda L, a, b: L.pairwise_distance(a, b, 3.0, 1e-6, True),
        {},
    ),
    "kl_div": ([(3, 4), PROB], lambda L, x, t: L.kl_div(x, t, 2), {}),
    "kl_div[mean]": ([(3, 4), PROB], lambda L, x, t: L.kl_div(x, t, 1), {}),
    "margin_ranking_loss": (
        [(4,), (4,), LABEL],
        lambda L, a, b, y: L.margin_ranking_loss(a, b, y, 0.3, 0),
        {},
    ),
    "triplet_margin_loss": (
        [(3, 4), (3, 4), (3, 4)],
        lambda L, a, p, n: L.triplet_margin_loss(a, p, n, 1.0, 2, 1e-6, True, 1),
        {},
    ),
    "poisson_nll_loss": (
        [(3, 4), PROB],
        lambda L, x, t: L.poisson_nll_loss(x, t, True, True, 1e-8, 2),
        {},
    ),
    "cosine_embedding_loss": (
        [(4, 5), (4, 5), LABEL],
        lambda L, a, b, y: L.cosine_embedding_loss(a, b, y, 0.1, 1),
        {},
    ),
    "hinge_embedding_loss": (
        [(4,), LABEL],
        lambda L, x, y: L.hinge_embedding_loss(x, y, 0.5, 0),
        {},
    ),
    "binary_cross_entropy_with_logits": (
        [(3, 4), PROB, (4,)],
        lambda L, x, t, pw: L.binary_cross_entropy_with_logits(x, t, None, pw.abs(), 1),
        {"grad_inputs": [0]},
    ),
    "native_layer_norm": (
        [(2, 3, 4), (3, 4), (3, 4)],
        lambda L, x, w, b: L.native_layer_norm(x, [3, 4], w, b, 1e-5),
        {"grad": False},
    ),
    "native_layer_norm[out]": (
        [(2, 3, 4), (3, 4), (3, 4)],
        lambda L, x, w, b: L.native_layer_norm(x, [3, 4], w, b, 1e-5)[0],
        {},
    ),
    "native_batch_norm": (
        [(4, 3, 5), (3,), (3,)],
        lambda L, x, w, b: L.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
        {"grad": False},
    ),
    "native_batch_norm[out]": (
        [(4, 3, 5), (3,), (3,)],
        lambda L, x, w, b: L.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)[0],
        {},
    ),
    "detach": ([(3,)], lambda L, x: L.detach(x) * 2, {"grad": False}),
    "fill": ([(3, 4)], lambda L, x: L.fill(x, 1.5) + x, {}),
    "fill[tensor value]": ([(3, 4), ()], lambda L, x, v: L.fill(x, v) * x, {}),
    "zero_": ([(3, 4)], lambda L, x: L.zero_(x.clone()) + x, {}),
    "constant_pad_nd": ([(2, 3, 4)], lambda L, x: L.constant_pad_nd(x, [1, -1, 2, 0], 0.5), {}),
}


@pytest.mark.parametrize("name", sorted(ALIAS_CASES))
def test_functional_alias(name):
    inputs, call, kw = ALIAS_CASES[name]
    check_op(call, inputs, **kw)


def test_ctc_loss():
    T, N, C = 6, 2, 4
    lp = np.log(R.dirichlet(np.ones(C), (T, N))).astype(np.float32)
    tg = np.array([[1, 2, 1], [3, 1, 0]])
    for red in (0, 1, 2):
        args = ([6, 5], [3, 2], 0, red, False)
        xc = ctorch.from_numpy(lp.copy()).requires_grad_()
        xt = torch.from_numpy(lp.copy()).requires_grad_()
        # torch's ctc backward assumes log-softmaxed input: differentiate through log_softmax
        rc = ctorch.ctc_loss(xc.log_softmax(-1), ctorch.from_numpy(tg), *args)
        rt = torch.ctc_loss(xt.log_softmax(-1), torch.from_numpy(tg), *args)
        assert_close(rc, rt, atol=1e-4)
        rc.sum().backward()
        rt.sum().backward()
        assert_close(xc.grad, xt.grad, atol=1e-4)


def test_native_batch_norm_eval_and_running_stats():
    x = R.standard_normal((4, 3, 5)).astype(np.float32)
    libs = {}
    for L in (ctorch, torch):
        rm, rv = L.zeros(3), L.ones(3)
        tr = L.native_batch_norm(L.from_numpy(x.copy()), None, None, rm, rv, True, 0.2, 1e-5)
        ev = L.native_batch_norm(L.from_numpy(x.copy()), None, None, rm, rv, False, 0.2, 1e-5)
        libs[L] = (tr, ev, rm, rv)
    for a, b in zip(libs[ctorch], libs[torch], strict=True):
        assert_close(a, b, atol=1e-5)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize("pad", [None, 4, -6])
def test_embedding_bag(mode, last, pad):
    """All four outputs as aten's CPU kernel (offset2bag, bag_size, max_indices quirks)."""
    i = np.array([1, 2, 4, 0, 4, 3, 2, 9])
    o = np.array([0, 4, 6, 8])

    def fn(lib, w):
        args = (lib.from_numpy(i), lib.from_numpy(o), False, mode, False, None, last, pad)
        return lib.embedding_bag(w, *args)

    check_op(fn, [(10, 3)])


def test_embedding_bag_per_sample_weights():
    i, o = np.array([1, 2, 4, 0, 4]), np.array([0, 2])

    def fn(lib, w, psw):
        return lib.embedding_bag(w, lib.from_numpy(i), lib.from_numpy(o), False, 0, False, psw)

    check_op(fn, [(6, 3), (5,)])


@pytest.mark.parametrize("name", sorted(S5.LOSSES))
def test_loss_reduction_is_an_int(name):
    """torch's top-level losses take at::Reduction as an int; a str or bool is a TypeError."""
    n = [p for p, _ in S5.LOSSES[name]].index("reduction")
    for bad in ("mean", True):
        with pytest.raises(TypeError, match="must be int"):
            getattr(ctorch, name)(*[ctorch.randn(2, 3)] * n, reduction=bad)
        with pytest.raises(TypeError, match="must be|invalid combination"):
            getattr(torch, name)(*[torch.randn(2, 3)] * n, reduction=bad)


#: each loss with only its required arguments: the defaults (reduction 0 when left out)
LOSS_DEFAULT_CALLS = {
    "kl_div": ([(3, 4), PROB], lambda L, x, t: L.kl_div(x, t)),
    "margin_ranking_loss": ([(4,), (4,), LABEL], lambda L, a, b, y: L.margin_ranking_loss(a, b, y)),
    "triplet_margin_loss": (
        [(3, 4), (3, 4), (3, 4)],
        lambda L, a, p, n: L.triplet_margin_loss(a, p, n),
    ),
    "poisson_nll_loss": (
        [(3, 4), PROB],
        lambda L, x, t: L.poisson_nll_loss(x, t, False, False, 1e-8, 1),
    ),
    "cosine_embedding_loss": (
        [(4, 5), (4, 5), LABEL],
        lambda L, a, b, y: L.cosine_embedding_loss(a, b, y),
    ),
    "hinge_embedding_loss": ([(4,), LABEL], lambda L, x, y: L.hinge_embedding_loss(x, y)),
    "binary_cross_entropy_with_logits": (
        [(3, 4), PROB],
        lambda L, x, t: L.binary_cross_entropy_with_logits(x, t),
    ),
    "ctc_loss": (
        [np.log(np.full((5, 2, 3), 1 / 3, np.float32)), np.array([[1, 2], [2, 2]])],
        lambda L, lp, tg: L.ctc_loss(lp, tg, [5, 4], [2, 2]),
    ),
}


@pytest.mark.parametrize("name", sorted(S5.LOSSES))
def test_loss_defaults(name):
    inputs, call = LOSS_DEFAULT_CALLS[name]
    check_op(call, inputs, low=0.1, high=2.0, grad=name != "ctc_loss")


def test_kl_div_log_target_is_keyword_only():
    x = ctorch.randn(3)
    with pytest.raises(TypeError):
        ctorch.kl_div(x, x, 1, True)
    with pytest.raises(TypeError):
        torch.kl_div(torch.randn(3), torch.randn(3), 1, True)
    check_op(lambda L, a, b: L.kl_div(a, b, 2, log_target=True), [(3,), (3,)])


def test_kl_div_mean_does_not_warn():
    import warnings

    a, b = R.standard_normal(4).astype(np.float32), R.random(4).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ctorch.kl_div(ctorch.from_numpy(a), ctorch.from_numpy(b), 1)
        assert_close(got, torch.kl_div(torch.from_numpy(a), torch.from_numpy(b), 1))


@pytest.mark.parametrize("red", [-1, 3, 7])
def test_loss_other_reduction_ints_are_unreduced(red):
    a, b = R.standard_normal(4).astype(np.float32), R.random(4).astype(np.float32)
    got = [L.kl_div(L.from_numpy(a), L.from_numpy(b), red) for L in (ctorch, torch)]
    assert_close(got[0], got[1])


def test_alias_signature_differences():
    with pytest.raises(TypeError):
        ctorch.max_pool2d(ctorch.randn(1, 1, 4, 4), 2, return_indices=True)
    # torch.embedding(weight, indices): a negative padding_idx means none
    w = ctorch.randn(5, 2, requires_grad=True)
    ctorch.embedding(w, ctorch.tensor([0, 4, 4]), -1).sum().backward()
    assert w.grad[4].tolist() == [2.0, 2.0]


# ------------------------------------------------------------ 3. top-level in-place forms
#: name -> (low, high, extra positional args, dtype)
UNARY_DOMAIN = {
    "acosh_": (1.1, 3.0),
    "arccosh_": (1.1, 3.0),
    "log_": (0.1, 3.0),
    "log10_": (0.1, 3.0),
    "log2_": (0.1, 3.0),
    "sqrt_": (0.1, 3.0),
    "rsqrt_": (0.1, 3.0),
    "reciprocal_": (0.5, 3.0),
    "logit_": (0.1, 0.9),
    "acos_": (-0.9, 0.9),
    "arccos_": (-0.9, 0.9),
    "asin_": (-0.9, 0.9),
    "arcsin_": (-0.9, 0.9),
    "atanh_": (-0.9, 0.9),
    "arctanh_": (-0.9, 0.9),
    "log1p_": (-0.5, 2.0),
}
#: torch raises "the derivative for 'inplace version of X' is not implemented" for these
NO_INPLACE_GRAD_IN_TORCH = {"acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_"}
EXTRA_ARGS = {
    "clamp_": ((-0.5, 0.5), {}),
    "clip_": ((None, 0.3), {}),
    "clamp_max_": ((0.2,), {}),
    "clamp_min_": ((-0.2,), {}),
    "fill_": ((2.5,), {}),
    "nan_to_num_": ((), {"nan": 1.0}),
    "round_": ((), {"decimals": 1}),
    "ldexp_": ((), {}),
    "xlogy_": ((), {}),
}
NON_FLOAT = {"gcd_", "lcm_"}
SPECIAL = {"index_put_", "detach_", "conj_physical_", "resize_as_", "ldexp_", "xlogy_"}
SIMPLE_TOP = [n for n in S5.TOP_INPLACE if n not in NON_FLOAT | SPECIAL]


@pytest.mark.parametrize("name", SIMPLE_TOP)
def test_top_inplace_unary(name):
    low, high = UNARY_DOMAIN.get(name, (-2.0, 2.0))
    args, kwargs = EXTRA_ARGS.get(name, ((), {}))

    def fn(lib, x):
        y = x.clone()
        r = getattr(lib, name)(y, *args, **kwargs)
        assert r is y
        return r

    grad = name not in {"fill_"} | NO_INPLACE_GRAD_IN_TORCH
    check_op(fn, [(3, 4)], low=low, high=high, grad=grad)
    if name in NO_INPLACE_GRAD_IN_TORCH:  # ctorch differentiates them: vs the out-of-place op
        x = ctorch.from_numpy(np.linspace(low, high, 12).reshape(3, 4)).requires_grad_()
        getattr(ctorch, name)(x * 1).sum().backward()
        g = x.grad.clone()
        x.grad = None
        getattr(ctorch, name[:-1])(x).sum().backward()
        assert_close(g, x.grad)


@pytest.mark.parametrize("name", ["ldexp_", "xlogy_"])
def test_top_inplace_binary(name):
    def fn(lib, x, y):
        return getattr(lib, name)(x.clone(), y if name == "xlogy_" else y.round())

    check_op(fn, [(3, 4), (3, 4)], low=0.1, high=2.0, grad_inputs=[0])


@pytest.mark.parametrize("name", sorted(NON_FLOAT))
def test_top_inplace_integer(name):
    a, b = np.array([4, 6, 9, 0]), np.array([6, 4, 3, 5])
    c = ctorch.from_numpy(a.copy())
    assert getattr(ctorch, name)(c, ctorch.from_numpy(b)) is c
    assert_close(c, getattr(torch, name)(torch.from_numpy(a.copy()), torch.from_numpy(b)))


def test_top_inplace_special():
    a = R.standard_normal((3, 4)).astype(np.float32)
    for L in (ctorch, torch):
        x = L.from_numpy(a.copy())
        L.index_put_(x, (L.tensor([0, 2]),), L.tensor(9.0), accumulate=True)
        y = L.from_numpy(a.copy()) * 1
        y.requires_grad_()
        z = y * 2
        assert L.detach_(z) is z and not z.requires_grad and z.grad_fn is None
        r = L.resize_as_(L.zeros(12), L.zeros(3, 4))
        c = L.conj_physical_(L.from_numpy(np.array([1 + 2j, 3 - 1j], np.complex64)))
        if L is ctorch:
            got = (x, r, c)
        else:
            assert_close(got[0], x)
            assert tuple(got[1].shape) == (3, 4)
            assert_close(got[2], c)


def test_top_inplace_leaf_error():
    x = ctorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ctorch.exp_(x)
    v = x.detach()._version
    y = x.detach()
    ctorch.exp_(y)
    assert y._version == v + 1


@pytest.mark.parametrize("name", sorted(S5.DROPOUT_INPLACE))
def test_top_inplace_dropout(name):
    x = ctorch.ones(200, 6, 3)
    ctorch.manual_seed(0)
    r = getattr(ctorch, name)(x, 0.5, True)
    assert r is x
    a = x.numpy()
    if name.startswith("feature"):  # whole channels share one draw
        assert np.all(a == a[:, :, :1])
    if "alpha" not in name:
        assert set(np.unique(a)) <= {0.0, 2.0}
        assert 0.4 < np.mean(a == 0) < 0.6
    else:
        assert len(np.unique(a)) == 2
    y = ctorch.ones(3, 4)
    assert getattr(ctorch, name)(y, 0.5, False) is y and np.all(y.numpy() == 1)
    with pytest.raises(ValueError):
        getattr(ctorch, name)(ctorch.ones(2, 3), 1.5, True)


# ------------------------------------------------------------ 4. *_copy variants
#: name -> (input, args)
COPY_CASES = {
    "alias_copy": ((3, 4), ()),
    "as_strided_copy": ((3, 4), ((2, 2), (1, 2), 1)),
    "detach_copy": ((3, 4), ()),
    "diagonal_copy": ((3, 4, 5), (1, 0, 2)),
    "narrow_copy": ((3, 4), (1, -3, 2)),
    "permute_copy": ((2, 3, 4), ((2, 0, 1),)),
    "select_copy": ((3, 4), (1, -1)),
    "slice_copy": ((5, 4), (0, 1, 5, 2)),
    "split_copy": ((5, 4), (2, 0)),
    "split_with_sizes_copy": ((5, 4), ([1, 3], 1)),
    "squeeze_copy": ((3, 1, 4), (1,)),
    "t_copy": ((3, 4), ()),
    "transpose_copy": ((2, 3, 4), (0, 2)),
    "unbind_copy": ((2, 3), (1,)),
    "unfold_copy": ((3, 8), (1, 3, 2)),
    "unsqueeze_copy": ((3, 4), (-1,)),
    "view_copy": ((3, 4), ((2, 6),)),
    "view_as_real_copy": (None, ()),
    "view_as_complex_copy": ((3, 2), ()),
}
SPARSE_COPY = {
    "indices_copy": "coo",
    "values_copy": "coo",
    "crow_indices_copy": "csr",
    "col_indices_copy": "csr",
    "ccol_indices_copy": "csc",
    "row_indices_copy": "csc",
}


def test_copy_tables_match():
    assert set(COPY_CASES) | set(SPARSE_COPY) == set(CV.COPY_OF)


@pytest.mark.parametrize("name", sorted(COPY_CASES))
def test_copy_variant(name):
    shape, args = COPY_CASES[name]
    if shape is None:
        a = (R.standard_normal((3, 2)) + 1j * R.standard_normal((3, 2))).astype(np.complex64)
        got = ctorch.view_as_real_copy(ctorch.from_numpy(a.copy()))
        assert_close(got, torch.view_as_real_copy(torch.from_numpy(a.copy())))
        return
    grad = name not in ("detach_copy", "view_as_complex_copy")
    check_op(lambda L, x: getattr(L, name)(x, *args), [shape], grad=grad)
    x = ctorch.from_numpy(R.standard_normal(shape).astype(np.float32))
    before = x.numpy().copy()
    r = getattr(ctorch, name)(x, *args)
    for o in r if isinstance(r, tuple) else (r,):  # never shares memory with the input
        o.view(-1).view(ctorch.uint8).fill_(0) if o.is_complex() else o.fill_(7.0)
    np.testing.assert_array_equal(x.numpy(), before)


@pytest.mark.parametrize("name", sorted(COPY_CASES))
def test_copy_variant_out(name):
    shape, args = COPY_CASES[name]
    if shape is None:
        return
    x = R.standard_normal(shape).astype(np.float32)
    res = {}
    for L in (ctorch, torch):
        expect = getattr(L, name)(L.from_numpy(x.copy()), *args)
        if isinstance(expect, tuple | list):
            out = [L.empty_like(e) for e in expect]  # torch wants them sized
            getattr(L, name)(L.from_numpy(x.copy()), *args, out=out)
        else:
            out = L.empty(0, dtype=expect.dtype)
            assert getattr(L, name)(L.from_numpy(x.copy()), *args, out=out) is out
        res[L] = out
    assert_close(res[ctorch], res[torch])


def test_copy_out_with_grad_raises():
    x = ctorch.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        ctorch.t_copy(x, out=ctorch.empty(4, 3))


@pytest.mark.parametrize("dt", ["int64", "float64"])
def test_copy_out_dtype_must_match(dt):
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError, match="Expected out tensor to have dtype"):
            L.t_copy(L.randn(3, 4), out=L.empty(0, dtype=getattr(L, dt)))


@pytest.mark.parametrize("name", sorted(SPARSE_COPY))
def test_sparse_copy_variant(name):
    a = np.array([[0, 1.5, 0], [2.0, 0, 3.0]], np.float32)
    layout = SPARSE_COPY[name]
    got = {}
    for L in (ctorch, torch):
        d = L.from_numpy(a.copy())
        s = {"coo": d.to_sparse, "csr": d.to_sparse_csr, "csc": d.to_sparse_csc}[layout]()
        if L is ctorch:
            got[L] = getattr(L, name)(s)
            assert got[L]._a is not getattr(s, name[:-5])()._a
        else:  # torch's indices_copy/values_copy reject SparseCPU: compare with the view
            got[L] = getattr(s, name[:-5])().clone()
    assert_close(got[ctorch], got[torch])


def test_slice_copy_errors():
    x = ctorch.arange(5.0)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        ctorch.slice_copy(x, 0, 0, 4, -1)
    assert ctorch.slice_copy(x).tolist() == torch.slice_copy(torch.arange(5.0)).tolist()


#: every top-level in-place name with float arguments: name -> extra positional args
TOP_INPLACE_ARGS = {
    **{n: EXTRA_ARGS.get(n, ((), {}))[0] for n in S5.TOP_INPLACE if n not in NON_FLOAT},
    "ldexp_": (ctorch.ones(3, 4),),
    "xlogy_": (2.0,),
    "index_put_": ((ctorch.tensor([0, 2]),), ctorch.tensor(9.0)),
    "resize_as_": (ctorch.zeros(2, 6),),
    **{n: (0.5, True) for n in S5.DROPOUT_INPLACE},
    "selu_": (),
    "celu_": (0.5,),
    "threshold_": (0.1, 2.0),
    "zero_": (),
    "addmv_": (ctorch.ones(3, 2), ctorch.ones(2)),
}


def _to_torch(a):
    if isinstance(a, ctorch.Tensor):
        return torch.from_numpy(a.numpy().copy())
    if isinstance(a, tuple):
        return tuple(_to_torch(x) for x in a)
    return a


@pytest.mark.parametrize("name", sorted(TOP_INPLACE_ARGS))
def test_top_inplace_semantics(name):
    """Same object back, version bumped, and the leaf error exactly where torch raises it."""
    args = TOP_INPLACE_ARGS[name]
    shape = (3,) if name == "addmv_" else (3, 4)
    raised, bumped = {}, {}
    for L, a in ((ctorch, args), (torch, _to_torch(args))):
        x = L.full(shape, 0.5)
        v = x._version
        assert getattr(L, name)(x, *a) is x
        bumped[L] = x._version > v
        leaf = L.full(shape, 0.5, requires_grad=True)
        try:
            getattr(L, name)(leaf, *a)
            raised[L] = None
        except RuntimeError as e:
            raised[L] = str(e).split(" in ")[0]
    assert raised[ctorch] == raised[torch], raised
    assert bumped[ctorch] == bumped[torch], bumped


def test_conj_physical_inplace_gradient():
    """torch.conj_physical_ on a complex non-leaf: the gradient goes through the conjugate."""
    a = (R.standard_normal(3) + 1j * R.standard_normal(3)).astype(np.complex64)
    c = (R.standard_normal(3) + 1j * R.standard_normal(3)).astype(np.complex64)
    grads = []
    for L in (ctorch, torch):
        x = L.from_numpy(a.copy()).requires_grad_()
        y = x * 1
        assert L.conj_physical_(y) is y
        (y * L.from_numpy(c)).real.sum().backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1])
