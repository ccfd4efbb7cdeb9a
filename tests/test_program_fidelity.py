"""What real programs print and parse (session 20): ``torch.iinfo`` is torch's class (its repr,
``bits``/``min``/``max``/``dtype``, its errors), and the package name in the reprs of dtypes,
``Size``, layouts, memory formats and ``return_types`` follows ``ctorch._display`` (``ctorch.``
normally, ``torch.`` under ``python -m ctorch.run``, where tests/run compares whole outputs)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch import _display

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None

INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    ii = ctorch.iinfo(getattr(ctorch, name))
    expected = {"uint8": (8, 0, 255), "int8": (8, -128, 127), "int16": (16, -(2**15), 2**15 - 1)}
    expected.update(int32=(32, -(2**31), 2**31 - 1), int64=(64, -(2**63), 2**63 - 1))
    assert (ii.bits, ii.min, ii.max, ii.dtype) == (*expected[name], name)
    assert repr(ii) == f"iinfo(min={ii.min:g}, max={ii.max:g}, dtype={name})"
    assert ii == ctorch.iinfo(getattr(ctorch, name))
    assert (ii != ctorch.iinfo(ctorch.int8)) == (name != "int8")
    if torch is not None:
        t = torch.iinfo(getattr(torch, name))
        assert (repr(ii), ii.bits, ii.min, ii.max, ii.dtype) == (
            repr(t),
            t.bits,
            t.min,
            t.max,
            t.dtype,
        )


@pytest.mark.parametrize(
    "arg, match",
    [
        ("bool", "bool is not supported by torch.iinfo"),
        ("float32", "requires an integer input type"),
    ],
)
def test_iinfo_refuses_like_torch(arg, match):
    with pytest.raises(TypeError, match=match):
        ctorch.iinfo(getattr(ctorch, arg))
    if torch is not None:
        with pytest.raises(TypeError, match=match):
            torch.iinfo(getattr(torch, arg))


def test_display_prefix_switches_every_repr():
    old = _display.set_prefix("torch.")
    try:
        got = [
            repr(ctorch.float16),
            str(ctorch.Size([2, 3])),
            repr(ctorch.strided),
            repr(ctorch.channels_last),
            repr(ctorch.zeros(2, dtype=ctorch.int8)),
            repr(ctorch.ones(1, 1).max(1)).splitlines()[0],
        ]
    finally:
        _display.set_prefix(old)
    assert got == [
        "torch.float16",
        "torch.Size([2, 3])",
        "torch.strided",
        "torch.channels_last",
        "tensor([0, 0], dtype=torch.int8)",
        "torch.return_types.max(",
    ]
    assert repr(ctorch.float16) == "ctorch.float16" and str(ctorch.Size([1])) == "ctorch.Size([1])"


def test_run_aliases_set_and_restore_the_prefix():
    from ctorch import run

    run.install_aliases()
    try:
        assert repr(ctorch.float32) == "torch.float32"
    finally:
        run.uninstall_aliases()
    assert repr(ctorch.float32) == "ctorch.float32"


def _format_cases(lib):
    w = lib.tensor([[1.5], [-2.25]])
    got = [
        "{:+.2f} x^{}".format(w.view(-1)[0], 1),  # noqa: UP032 (the program did)
        f"{lib.tensor(3):04d}",
        f"{w.view(-1)[1]:.3e}",
    ]
    got.append(format(lib.tensor([1, 2]), "") == str(lib.tensor([1, 2])))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{w:.2f}"
    return got


def test_tensor_format_specs_like_torch():
    assert _format_cases(ctorch) == ["+1.50 x^1", "0003", "-2.250e+00", True]
    if torch is not None:
        assert _format_cases(torch) == _format_cases(ctorch)


@pytest.mark.parametrize(
    "shape, dims", [((3,), ()), ((2, 3), (1,)), ((2, 3), (1, 1)), ((2, 3), (-1, -1))]
)
def test_flatten_of_one_dim_returns_the_tensor_itself(shape, dims):
    for lib in (ctorch, torch) if torch is not None else (ctorch,):
        x = lib.ones(*shape, requires_grad=True)
        assert x.flatten(*dims) is x and lib.flatten(x, *dims) is x
    y = ctorch.ones(2, 3, requires_grad=True) * 1
    assert y.flatten().grad_fn.name() == "ViewBackward0" and ctorch.ones(()).flatten().shape == (1,)


def test_accumulate_grad_repr_like_torch():
    x = ctorch.ones(2, requires_grad=True)
    node = (x * 2).grad_fn.next_functions[0][0]
    assert repr(node).startswith("<AccumulateGrad object at 0x")
    assert node.name() == "torch::autograd::AccumulateGrad"
    if torch is not None:
        t = (torch.ones(2, requires_grad=True) * 2).grad_fn.next_functions[0][0]
        assert repr(t).startswith("<AccumulateGrad object at 0x")
        assert t.name() == node.name()


SCHEDULERS = [
    ("StepLR", {"step_size": 2}),
    ("MultiStepLR", {"milestones": [1, 3]}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 5}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "linear"}),
    ("LinearLR", {}),
    ("PolynomialLR", {}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1}),
    ("ReduceLROnPlateau", {}),
    ("ReduceLROnPlateau", {"min_lr": [0.01]}),
]


def _scheduler_state(lib, name, kw):
    p = [lib.nn.Parameter(lib.ones(2))]
    opt = lib.optim.SGD(p, lr=0.1, momentum=0.9)
    s = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    for _ in range(3):
        opt.step()
        s.step(1.0) if name == "ReduceLROnPlateau" else s.step()
    sd = s.state_dict()
    return s, {k: v for k, v in sd.items() if not callable(v) and not k.startswith("_scale_fn")}


@pytest.mark.parametrize("name, kw", SCHEDULERS)
def test_scheduler_state_dict_keys_and_values_match_torch(name, kw):
    s, ours = _scheduler_state(ctorch, name, kw)
    assert ours.get("_get_lr_called_within_step", False) is False
    if name != "ReduceLROnPlateau":
        assert ours["_is_initial"] is False
    if torch is None:
        return
    t, theirs = _scheduler_state(torch, name, kw)
    assert sorted(ours) == sorted(theirs)
    assert [round(v, 9) for v in s.get_last_lr()] == [round(v, 9) for v in t.get_last_lr()]
    # a torch state dict loads into ctorch's scheduler and steps to torch's next lr
    s.load_state_dict(t.state_dict())
    s.optimizer.step()
    t.optimizer.step()
    s.step(1.0) if name == "ReduceLROnPlateau" else s.step()
    t.step(1.0) if name == "ReduceLROnPlateau" else t.step()
    assert [round(v, 9) for v in s.get_last_lr()] == [round(v, 9) for v in t.get_last_lr()]


def test_one_cycle_loads_state_saved_with_the_old_key():
    s, sd = _scheduler_state(ctorch, "OneCycleLR", {"max_lr": 0.1, "total_steps": 10})
    sd["anneal_strategy"] = sd.pop("_anneal_func_type")
    s2, _ = _scheduler_state(
        ctorch, "OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "linear"}
    )
    s2.load_state_dict(sd)
    assert s2._anneal_func_type == "cos" and "anneal_strategy" not in s2.__dict__


SEEDED_DRAWS = {
    "Exponential": lambda lib: lib.distributions.Exponential(2.0).sample((3,)),
    "Exponential batch": lambda lib: lib.distributions.Exponential(
        lib.tensor([2.0, 0.5])
    ).rsample(),
    "Cauchy": lambda lib: lib.distributions.Cauchy(1.0, 2.0).sample((3,)),
    "HalfCauchy": lambda lib: lib.distributions.HalfCauchy(1.5).sample((3,)),
    "Multinomial": lambda lib: lib.distributions.Multinomial(7, lib.tensor([0.2, 0.3, 0.5])).sample(
        (2,)
    ),
    "Multinomial logits batch": lambda lib: lib.distributions.Multinomial(
        4, logits=lib.tensor([[0.0, 1.0], [2.0, -1.0]])
    ).sample(),
    "Multinomial zero count": lambda lib: lib.distributions.Multinomial(
        0, lib.tensor([0.5, 0.5])
    ).sample((2,)),
}


@pytest.mark.parametrize("name", sorted(SEEDED_DRAWS))
def test_seeded_distribution_draws_are_torchs(name):
    """A seeded program samples the same values as under torch (torch's draw algorithms)."""
    ctorch.manual_seed(0)
    ours = SEEDED_DRAWS[name](ctorch)
    ctorch.manual_seed(0)
    assert ours.tolist() == SEEDED_DRAWS[name](ctorch).tolist()
    if name.startswith("Multinomial"):
        assert ours.sum(-1).tolist() == [float(ours.sum(-1).flatten()[0])] * ours.shape[0]
    if name == "Multinomial zero count":  # torch 2.13 raises; ctorch returns the zero counts
        assert ours.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    elif torch is not None:
        torch.manual_seed(0)
        theirs = SEEDED_DRAWS[name](torch)
        assert ours.dtype.itemsize == theirs.dtype.itemsize
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


VIEWS = {
    "transposed": lambda lib: lib.empty(10, 10).t(),
    "permuted": lambda lib: lib.empty(2, 3, 4).permute(2, 0, 1),
    "strided": lambda lib: lib.empty(10, 10)[:, ::2],
    "column": lambda lib: lib.empty(10, 10)[:, 3],
    "f64 transposed": lambda lib: lib.empty(6, 5, dtype=lib.float64).t(),
    "complex transposed": lambda lib: lib.empty(5, 4, dtype=lib.complex64).t(),
}
FILLS = {
    "normal_": lambda t: t.normal_(3.0, 0.5),
    "uniform_": lambda t: t.uniform_(-1, 1),
    "bernoulli_": lambda t: t.bernoulli_(0.4),
    "exponential_": lambda t: t.exponential_(),
    "random_": lambda t: t.random_(0, 9),
    "cauchy_": lambda t: t.cauchy_(),
    "geometric_": lambda t: t.geometric_(0.3),
    "log_normal_": lambda t: t.log_normal_(),
}


@pytest.mark.parametrize(
    "view, fill",
    [
        (v, f)
        for v in sorted(VIEWS)
        for f in sorted(FILLS)
        # torch has complex kernels only for these two (the refusals are tested below)
        if not v.startswith("complex") or f in ("normal_", "uniform_")
    ],
)
def test_random_fills_of_non_contiguous_tensors_are_torchs(view, fill):
    """torch fills in memory order (and normal_ takes its scalar draw off-contiguous): a seeded
    program that fills a transposed or sliced tensor gets torch's values."""
    ctorch.manual_seed(0)
    ours = FILLS[fill](VIEWS[view](ctorch))
    if ours.is_complex():
        ours = ctorch.view_as_real(ours)
    if view == "transposed" and fill != "normal_":  # memory order: the contiguous fill, viewed
        ctorch.manual_seed(0)
        np.testing.assert_array_equal(ours.numpy(), FILLS[fill](ctorch.empty(10, 10)).t().numpy())
    if torch is not None:
        torch.manual_seed(0)
        theirs = FILLS[fill](VIEWS[view](torch))
        if theirs.is_complex():
            theirs = torch.view_as_real(theirs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


REFUSED = [
    ("int64", "exponential_", RuntimeError, "Exponential distribution is a continuous"),
    ("bool", "exponential_", RuntimeError, "you specified Bool"),
    ("bool", "geometric_", NotImplementedError, "\"geometric_cpu\" not implemented for 'Bool'"),
    ("int64", "log_normal_", NotImplementedError, "\"log_normal_cpu\" not implemented for 'Long'"),
    ("complex64", "bernoulli_", NotImplementedError, '"bernoulli_scalar_cpu_" not implemented'),
    ("complex64", "random_", RuntimeError, "check_random_bounds handles only integral"),
    ("complex64", "geometric_", NotImplementedError, "'ComplexFloat'"),
    ("complex64", "exponential_", RuntimeError, "you specified ComplexFloat"),
]


@pytest.mark.parametrize("dtype, fill, exc, match", REFUSED)
def test_random_fills_refuse_dtypes_like_torch(dtype, fill, exc, match):
    for lib in (ctorch, torch) if torch is not None else (ctorch,):
        with pytest.raises(exc, match=match):
            FILLS[fill](lib.zeros(3, dtype=getattr(lib, dtype)))


# ops torch allocates contiguous whatever the input's layout: after a transpose/permute their
# results must take .view(), as under torch (NumPy would keep the permuted memory order)
CONTIGUOUS_RESULTS = {
    "sum(dim)": lambda t: t.sum(1),
    "mean(dim)": lambda t: t.mean(0),
    "var(dim)": lambda t: t.var(1),
    "std": lambda t: t.std(0),
    "amax": lambda t: t.amax(1),
    "max(dim)": lambda t: t.max(1)[0],
    "logsumexp": lambda t: t.logsumexp(1),
    "median(dim)": lambda t: t.median(1)[0],
    "all(dim)": lambda t: (t > 0).all(1),
    "cumsum": lambda t: t.cumsum(0),
    "cumprod": lambda t: t.cumprod(1),
    "cummax": lambda t: t.cummax(0)[0],
    "logcumsumexp": lambda t: t.logcumsumexp(1),
    "softmax": lambda t: t.softmax(-1),
    "log_softmax": lambda t: t.log_softmax(0),
    "masked_fill": lambda t: t.masked_fill(t > 0.5, 0.0),
    "roll": lambda t: t.roll(1, 0),
    "renorm": lambda t: t.renorm(2, 0, 1.0),
}


def _layouts(lib):
    x = lib.arange(1.0, 13.0).view(4, 3).t() / 7
    y = (lib.arange(1.0, 121.0).view(2, 3, 4, 5) / 50).permute(0, 2, 3, 1)
    return x, y


@pytest.mark.parametrize(
    "name", sorted(CONTIGUOUS_RESULTS) + ["cat", "stack", "one_hot", "tensordot"]
)
def test_results_torch_allocates_contiguous_take_view(name):
    for lib in (ctorch, torch) if torch is not None else (ctorch,):
        for t in _layouts(lib):
            if name == "cat":
                r = lib.cat([t, t], 1)
            elif name == "stack":
                r = lib.stack([t, t])
            elif name == "one_hot":
                r = lib.nn.functional.one_hot(lib.tensor([[0, 1], [1, 2]]).t())
            elif name == "tensordot":
                r = lib.tensordot(t, t, dims=([0], [0]))
            else:
                r = CONTIGUOUS_RESULTS[name](t)
            assert r.is_contiguous(), (lib.__name__, name, tuple(t.shape))
            assert r.view(-1).shape == (r.numel(),)


def _libs():
    return (ctorch, torch) if torch is not None else (ctorch,)


def test_tensor_set_shares_memory_like_torch():
    for lib in _libs():
        a = lib.arange(6.0)
        b = lib.zeros(2)
        assert b.set_(a) is b and b.tolist() == a.tolist() and b.is_set_to(a)
        a[0] = 7.0
        assert b[0].item() == 7.0  # one memory
        c = lib.zeros(3)
        c.set_(a.untyped_storage(), 1, (2, 2), (2, 1))
        assert c.tolist() == [[1.0, 2.0], [3.0, 4.0]] and not c.is_set_to(a)
        d = lib.ones(3)
        assert d.set_().shape == (0,)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.ones(3, requires_grad=True).set_(a)


def test_set_refuses_bad_storage_views():
    a = ctorch.arange(6.0)
    with pytest.raises(RuntimeError, match="setStorage"):
        ctorch.zeros(1).set_(a.untyped_storage(), 4, (2, 2), (2, 1))
    with pytest.raises(RuntimeError, match="Could not set tensor of type"):
        ctorch.zeros(1, dtype=ctorch.int64).set_(a)


def test_resize_as_output_nr_and_flags_like_torch():
    for lib in _libs():
        r = lib.ones(2, 3, requires_grad=True).resize_as(lib.ones(6))
        assert r.shape == (6,)
        r.sum().backward()
        with pytest.raises(RuntimeError, match="autograd's resize can only change the shape"):
            lib.ones(2, 3).resize_as(lib.ones(3))
        x = lib.ones(2, requires_grad=True)
        assert x.output_nr == 0 and x.unbind()[1].output_nr == 1
        assert not x.is_xla and not x.is_mkldnn and not x.is_ipu
        with pytest.raises(RuntimeError, match="unknown parameter type"):
            x.detach().record_stream(None)
        assert x.const_data_ptr() == x.data_ptr()


def test_top_level_build_names():
    assert issubclass(ctorch.OutOfMemoryError, RuntimeError)
    assert ctorch.cuda.OutOfMemoryError is ctorch.OutOfMemoryError
    assert ctorch.compiled_with_cxx11_abi() is True and ctorch.has_lapack and not ctorch.has_mkl
    assert ctorch.set_flush_denormal(True) is False  # ctorch cannot switch NumPy's FP state
    ctorch.init_num_threads()
    try:
        ctorch.set_anomaly_enabled(True, check_nan=False)
        assert ctorch.is_anomaly_enabled() and not ctorch.is_anomaly_check_nan_enabled()
    finally:
        ctorch.set_anomaly_enabled(False)
    assert ctorch.is_anomaly_check_nan_enabled()
    t = ctorch.arange(4.0)
    assert ctorch.from_dlpack(ctorch.to_dlpack(t)).tolist() == t.tolist()
    assert ctorch.as_strided_(ctorch.arange(4.0), (2,), (2,)).tolist() == [0.0, 2.0]


ERROR_CLASSES = [
    ("bool - bool", lambda L: L.tensor([True]) - L.tensor([True]), RuntimeError, "Subtraction"),
    ("bool - True", lambda L: L.tensor([True]) - True, RuntimeError, "Subtraction"),
    ("True - bool", lambda L: True - L.tensor([True]), RuntimeError, "Subtraction"),
    (
        "bool -= bool",
        lambda L: L.tensor([True]).sub_(L.tensor([True])),
        RuntimeError,
        "Subtraction",
    ),
    ("-bool", lambda L: -L.tensor([True]), RuntimeError, "Negation, the `-` operator"),
    (
        "interpolate 2-D",
        lambda L: L.nn.functional.interpolate(L.ones(2, 3), scale_factor=2),
        NotImplementedError,
        "Only 3D, 4D and 5D input Tensors supported",
    ),
    (
        "index_select float index",
        lambda L: L.ones(2, 3).index_select(0, L.tensor([0.0])),
        RuntimeError,
        "Expected dtype int32 or int64 for index",
    ),
]


@pytest.mark.parametrize("name, fn, exc, match", ERROR_CLASSES, ids=[c[0] for c in ERROR_CLASSES])
def test_error_classes_match_torch(name, fn, exc, match):
    for lib in _libs():
        with pytest.raises(exc, match=match):
            fn(lib)
    with pytest.raises(RuntimeError, match="with a bool tensor"):  # torch refuses bool - int too
        ctorch.tensor([True]) - 1


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.nn.functional.nll_loss(L.ones(2, 3), L.tensor([0.0, 1.0])),
        lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), L.tensor([0.0, 1.0])),
        lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), L.tensor([True, False])),
        lambda L: L.nn.functional.nll_loss(L.ones(2, 3, 4), L.zeros(2, 4)),
    ],
)
def test_class_index_targets_must_be_integers(call):
    for lib in _libs():
        with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got"):
            call(lib)


PRINT_CASES = [
    ("sci off, tiny", {"sci_mode": False, "precision": 3}, [1.2e-5, -3.4e-5, 5.6e-6]),
    ("sci off, huge ints", {"sci_mode": False}, [3731146496.0, -8919953408.0, -15091077120.0]),
    ("sci off, spread", {"sci_mode": False, "precision": 3}, [1e-10, 1.0, 1e10]),
    ("sci on, plain", {"sci_mode": True}, [1.5, 2.25]),
    ("sci on, zeros", {"sci_mode": True}, [0.0, 0.0]),
    ("sci on, ints", {"sci_mode": True}, [1.0, 2.0]),
    ("auto", {}, [1e-5, 3.0]),
]


@pytest.mark.parametrize("name, opts, values", PRINT_CASES, ids=[c[0] for c in PRINT_CASES])
def test_set_printoptions_sci_mode_sizes_columns_like_torch(name, opts, values):
    """torch picks the mode first (a set sci_mode wins) and sizes every column in it."""

    def show(lib):
        lib.set_printoptions(**opts)
        try:
            return repr(lib.tensor(values)).replace("ctorch.", "torch.")
        finally:
            lib.set_printoptions(profile="default")
            lib.set_printoptions(sci_mode=None)

    ours = show(ctorch)
    if name == "sci off, huge ints":
        assert "([  3731146496.,  -8919953408., -15091077120.])" in ours
    if torch is not None:
        assert ours == show(torch)


def test_cross_without_dim_warns_once_like_torch(monkeypatch):
    import warnings as W

    from ctorch import _warnings

    monkeypatch.setattr(_warnings, "_warned_once", set())  # earlier tests may have warned
    for lib in (ctorch,):
        with W.catch_warnings(record=True) as rec:
            W.simplefilter("always")
            lib.cross(lib.tensor([0.0, 1.0, 0.0]), lib.tensor([1.0, 0.0, 0.0]))
        msgs = [str(w.message) for w in rec]
        assert any(m.startswith("Using torch.cross without specifying the dim arg") for m in msgs)
        with W.catch_warnings(record=True) as rec:
            W.simplefilter("always")
            lib.cross(lib.tensor([0.0, 1.0, 0.0]), lib.tensor([1.0, 0.0, 0.0]))
        assert not rec  # once per process, as torch's TORCH_WARN_ONCE


def test_broadcast_to_method_takes_sizes_like_torch():
    for lib in _libs():
        t = lib.ones(1, 4)
        assert t.broadcast_to(2, 3, 4).shape == t.broadcast_to((2, 3, 4)).shape == (2, 3, 4)
        with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
            t.index_select(0, lib.tensor([0], dtype=lib.int16))


def test_float_of_a_grad_tensor_warns_once_like_torch(monkeypatch):
    import warnings as W

    from ctorch import _warnings

    monkeypatch.setattr(_warnings, "_warned_once", set())
    x = ctorch.ones(1, requires_grad=True) * 2
    with W.catch_warnings(record=True) as rec:
        W.simplefilter("always")
        int(x), x.item(), bool(x)  # no warning, as torch
        assert not rec
        float(x)
        float(x)
    assert [str(w.message).split("\n")[0] for w in rec] == [
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior."
    ]
    assert rec[0].filename == __file__  # attributed to the caller's line


def test_asarray_of_a_grad_tensor_refuses_like_torch():
    for lib in _libs():
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(
            RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"
        ):
            np.asarray(x)
        assert np.asarray(x.detach()).tolist() == [1.0, 1.0]


INDEX_DTYPE_REFUSALS = [
    ("gather int16", lambda L: L.ones(2, 3).gather(1, L.zeros(2, 1, dtype=L.int16)), RuntimeError),
    ("take int32", lambda L: L.ones(2, 3).take(L.tensor([0], dtype=L.int32)), RuntimeError),
    ("getitem int16", lambda L: L.ones(2, 3)[L.tensor([0], dtype=L.int16)], IndexError),
    (
        "index_put int8",
        lambda L: L.ones(2, 3).index_put((L.tensor([0], dtype=L.int8),), L.tensor(1.0)),
        IndexError,
    ),
    (
        "index_add uint8",
        lambda L: L.ones(2, 3).index_add(0, L.tensor([0], dtype=L.uint8), L.ones(1, 3)),
        RuntimeError,
    ),
    ("random_ uint8 300", lambda L: L.zeros(2, dtype=L.uint8).random_(300), RuntimeError),
    ("random_ int8 -200", lambda L: L.zeros(2, dtype=L.int8).random_(-200, 5), RuntimeError),
    ("random_ int32 2**40", lambda L: L.zeros(2, dtype=L.int32).random_(0, 2**40), RuntimeError),
]


@pytest.mark.parametrize(
    "name, fn, exc", INDEX_DTYPE_REFUSALS, ids=[c[0] for c in INDEX_DTYPE_REFUSALS]
)
def test_index_dtypes_and_random_bounds_refused_like_torch(name, fn, exc):
    for lib in _libs():
        with pytest.raises(exc):
            fn(lib)
    # what torch takes still works
    x = ctorch.ones(2, 3)
    assert x.gather(1, ctorch.zeros(2, 1, dtype=ctorch.int32)).shape == (2, 1)
    assert x[ctorch.tensor([0], dtype=ctorch.int32)].shape == (1, 3)
    assert x[ctorch.tensor(1, dtype=ctorch.int16)].shape == (3,)  # a 0-d index is an int
    assert ctorch.zeros(3, dtype=ctorch.int16).random_(300).max().item() < 300


def test_dtype_strings_with_either_package_prefix():
    t = ctorch.ones(2)
    assert t.type("ctorch.FloatTensor").dtype == ctorch.float32  # was read as "cFloatTensor"
    assert t.type("torch.DoubleTensor").dtype == ctorch.float64
    assert t.type("ctorch.float64").dtype == ctorch.float64
    assert ctorch.nn.Linear(1, 1).to("ctorch.float64").weight.dtype == ctorch.float64
