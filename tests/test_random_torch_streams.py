"""ctorch's CPU generator is torch's: mt19937 seeded as torch seeds it, and torch's transforms
for uniform, normal, integers, permutations, Bernoulli and dropout. A seeded program gets
torch's numbers: initial weights, data order, dropout masks. The known values below are
torch 2.13's; with torch installed every case is also compared with it directly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch
from ctorch._random import Generator

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def test_engine_is_mt19937_seeded_like_torch():
    g = Generator().manual_seed(5489)
    assert g._u32(2).tolist() == [3499211612, 581869302]  # std::mt19937's reference outputs
    assert Generator().initial_seed() == 67280421310721  # torch's default seed
    ctorch.manual_seed(0)
    assert np.allclose(ctorch.rand(3).numpy(), [0.49625658, 0.76822180, 0.08847743], atol=1e-7)
    ctorch.manual_seed(0)
    assert ctorch.randperm(5).tolist() == [4, 0, 1, 3, 2]
    ctorch.manual_seed(0)  # three normals: torch's scalar Box-Muller path
    assert ctorch.randn(3).tolist() == [1.5409960746765137, -0.293428897857666, -2.1787893772125244]


def _pairs():
    """(name, draw(lib)) for each stream; draw seeds the library itself."""

    def seeded(fn, seed=0):
        def draw(lib):
            lib.manual_seed(seed)
            return fn(lib)

        return draw

    return [
        ("rand", seeded(lambda t: t.rand(37))),
        ("rand64", seeded(lambda t: t.rand(5, dtype=t.float64))),
        ("rand16", seeded(lambda t: t.rand(9, dtype=t.float16))),
        ("uniform_bf16", seeded(lambda t: t.empty(9, dtype=t.bfloat16).uniform_(-1, 3))),
        ("randn16_tail", seeded(lambda t: t.randn(37, dtype=t.float16))),
        ("normal_bf16", seeded(lambda t: t.empty(40, dtype=t.bfloat16).normal_(0.5, 2))),
        ("randn_f32_tail", seeded(lambda t: t.randn(2, 37), 3)),
        ("randn_f32_large", seeded(lambda t: t.randn(100003), 11)),
        ("randn_small", seeded(lambda t: t.randn(7))),
        ("randn_f64", seeded(lambda t: t.randn(33, dtype=t.float64))),
        ("randn_complex", seeded(lambda t: t.view_as_real(t.randn(9, dtype=t.complex64)))),
        ("uniform_", seeded(lambda t: t.empty(3, 11).uniform_(-2.5, 0.7))),
        ("normal_", seeded(lambda t: t.empty(40).normal_(1.5, 0.2))),
        ("normal_small", seeded(lambda t: t.empty(5).normal_(-1, 3))),
        ("normal_tensors", seeded(lambda t: t.normal(t.zeros(18), t.arange(18.0)))),
        ("randint", seeded(lambda t: t.randint(-3, 100, (25,)))),
        ("randint_wide", seeded(lambda t: t.randint(0, 2**40, (6,)))),
        ("randperm", seeded(lambda t: t.randperm(57), 4)),
        ("random_", seeded(lambda t: t.empty(6, dtype=t.int64).random_())),
        ("random_int32", seeded(lambda t: t.empty(6, dtype=t.int32).random_(-5, 5))),
        ("random_float", seeded(lambda t: t.empty(6).random_())),
        ("bernoulli_p", seeded(lambda t: t.empty(300).bernoulli_(0.3))),
        ("bernoulli_probs", seeded(lambda t: t.bernoulli(t.linspace(0, 1, 50)))),
        ("bernoulli_probs64", seeded(lambda t: t.bernoulli(t.full((9,), 0.5, dtype=t.float64)))),
        ("dropout", seeded(lambda t: t.nn.functional.dropout(t.ones(1000), 0.25))),
        ("dropout2d", seeded(lambda t: t.nn.functional.dropout2d(t.ones(2, 6, 3, 3), 0.5))),
        ("generator", lambda t: t.rand(4, generator=t.Generator().manual_seed(9))),
        ("exponential_", seeded(lambda t: t.empty(40).exponential_(2.5))),
        ("geometric_", seeded(lambda t: t.empty(40, dtype=t.float64).geometric_(0.3))),
        ("cauchy_", seeded(lambda t: t.empty(40, dtype=t.float64).cauchy_(1.0, 2.0))),
        ("log_normal_", seeded(lambda t: t.empty(40, dtype=t.float64).log_normal_(0.5, 2.0))),
        ("multinomial_1", seeded(lambda t: t.multinomial(t.softmax(t.arange(40.0).sin() * 3, 0), 1))),
        ("multinomial_k", seeded(lambda t: t.multinomial(t.softmax(t.arange(60.0).reshape(3, 20).sin(), -1), 5))),
        ("multinomial_repl", seeded(lambda t: t.multinomial(t.rand(4, 500, dtype=t.float64), 300, True))),
        ("alpha_dropout", seeded(lambda t: t.nn.functional.alpha_dropout(t.randn(100), 0.3, True))),
        ("feature_alpha", seeded(lambda t: t.nn.functional.feature_alpha_dropout(t.randn(4, 6, 3), 0.3, True))),
        ("rrelu", seeded(lambda t: t.nn.functional.rrelu(t.randn(500), training=True))),
        ("fractional_pool", seeded(lambda t: t.nn.functional.fractional_max_pool2d(t.randn(2, 3, 9, 9), 2, output_size=5))),
        ("gamma", seeded(lambda t: t.distributions.Gamma(t.tensor([0.5, 2.0, 9.0]), t.tensor([1.0, 3.0, 0.5])).rsample((20,)))),
        ("dirichlet", seeded(lambda t: t.distributions.Dirichlet(t.tensor([[0.5, 2.0, 9.0], [1.0, 1.0, 1.0]])).rsample((10,)))),
        ("beta", seeded(lambda t: t.distributions.Beta(t.tensor([0.5, 3.0]), t.tensor([2.0, 0.7])).rsample((15,)))),
        ("chi2_f64", seeded(lambda t: t.distributions.Chi2(t.tensor([3.0, 10.0], dtype=t.float64)).rsample((8,)))),
        ("student_t", seeded(lambda t: t.distributions.StudentT(t.tensor([3.0, 10.0])).rsample((8,)))),
        ("standard_gamma", seeded(lambda t: t._standard_gamma(t.tensor([0.0, 1e-3, 4.0, 0.7])))),
        ("poisson", seeded(lambda t: t.poisson(t.tensor([0.0, 0.3, 2.5, 9.99, 10.0, 37.5, 1e4, 3e6]).repeat(30)))),
        ("poisson_f64", seeded(lambda t: t.poisson(t.linspace(0, 60, 241, dtype=t.float64).reshape(1, 241, 1).expand(3, 241, 2)), 7)),
        ("poisson_f16", seeded(lambda t: t.poisson(t.tensor([[0.5, 4.0], [12.0, 300.0]], dtype=t.float16).expand(5, 2, 2)), 2)),
        ("poisson_inf", seeded(lambda t: t.poisson(t.tensor([3.0, float("inf"), 1e30, 5.0])))),
        ("poisson_big", seeded(lambda t: t.poisson(t.tensor([1e17, 2.0**62], dtype=t.float64)))),
        ("poisson_transposed", seeded(lambda t: t.poisson(t.rand(4, 6).mul(30).t()), 5)),
        ("poisson_generator", lambda t: t.poisson(t.full((50,), 12.0), t.Generator().manual_seed(11))),
        ("binomial", seeded(lambda t: t.binomial(t.tensor([0.0, 5.0, 20.0, 40.0, 100.0, 1e4, 7.5, 3.0]).repeat(25), t.tensor([0.3, 0.5, 0.5, 0.26, 0.9, 0.01, 0.6, 0.999]).repeat(25)))),
        ("binomial_f64", seeded(lambda t: t.binomial(t.arange(0.0, 300.0, dtype=t.float64).reshape(-1, 1), t.linspace(0, 1, 9, dtype=t.float64)), 3)),
        ("binomial_edges", seeded(lambda t: t.binomial(t.tensor([5.0, 5.0, -5.0, 5.0, 5.0, 1e6, 1e6, 2.0**30]), t.tensor([1.5, -0.5, 0.5, float("nan"), 1.0, 1e-7, 1 - 1e-7, 0.37])))),
        ("binomial_f32_steps", seeded(lambda t: t.binomial(t.full((400,), 16777215.0), t.tensor(0.1234567).expand(400)), 9)),
        ("binomial_broadcast", seeded(lambda t: t.binomial(t.tensor(50.0), t.linspace(0.05, 0.95, 12)))),
        ("binomial_generator", lambda t: t.binomial(t.full((40,), 30.0, dtype=t.float64), t.full((40,), 0.4, dtype=t.float64), t.Generator().manual_seed(4))),
        ("poisson_many", seeded(lambda t: t.poisson(t.rand(100000).mul(40)), 12)),
        ("binomial_many", seeded(lambda t: t.binomial(t.rand(100000).mul(300).floor(), t.rand(100000)), 13)),
        ("binomial_many_f64", seeded(lambda t: t.binomial(t.rand(50000, dtype=t.float64).mul(1e4).floor(), t.rand(50000, dtype=t.float64)), 14)),
        ("poisson_dist", seeded(lambda t: t.distributions.Poisson(t.tensor([0.5, 3.0, 11.0, 250.0])).sample((30,)))),
        ("binomial_dist", seeded(lambda t: t.distributions.Binomial(t.tensor([10.0, 80.0, 300.0]), t.tensor([0.2, 0.7, 0.05])).sample((25,)))),
        ("binomial_dist_logits", seeded(lambda t: t.distributions.Binomial(60, logits=t.tensor([[-2.0], [0.0], [3.0]], dtype=t.float64)).sample((4, 2)), 6)),
        ("negative_binomial", seeded(lambda t: t.distributions.NegativeBinomial(t.tensor([3.0, 20.0]), t.tensor([0.3, 0.8])).sample((20,)))),
        ("categorical", seeded(lambda t: t.distributions.Categorical(logits=t.randn(3, 7)).sample((5,)))),
        ("linear_init", seeded(lambda t: t.cat([p.reshape(-1) for p in t.nn.Linear(20, 7).parameters()]))),
        ("conv_init", seeded(lambda t: t.nn.Conv2d(3, 4, 3).weight)),
        ("embedding_init", seeded(lambda t: t.nn.Embedding(10, 4).weight)),
        ("lstm_init", seeded(lambda t: t.nn.LSTM(5, 6).weight_hh_l0)),
        ("trunc_normal", seeded(lambda t: t.nn.init.trunc_normal_(t.empty(30, 4), std=0.02))),
        ("trunc_normal_narrow", seeded(lambda t: t.nn.init.trunc_normal_(t.empty(50), 0, 1, 2.0, 2.5))),
        ("kaiming_normal", seeded(lambda t: t.nn.init.kaiming_normal_(t.empty(6, 5), mode="fan_out"))),
        ("xavier_uniform", seeded(lambda t: t.nn.init.xavier_uniform_(t.empty(6, 5), gain=2.0))),
        ("sparse", seeded(lambda t: t.nn.init.sparse_(t.empty(8, 5), 0.3))),
    ]  # fmt: skip


@needs_torch
@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
@pytest.mark.parametrize("name", [n for n, _ in _pairs()])
def test_stream_is_torchs(name):
    draw = dict(_pairs())[name]
    ours = draw(ctorch).detach().float().numpy() if "16" in name else draw(ctorch).detach().numpy()
    theirs = draw(torch).detach().float().numpy() if "16" in name else draw(torch).detach().numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # bit for bit


@needs_torch
def test_data_order_and_worker_seeds_are_torchs():
    def order(lib):
        lib.manual_seed(3)
        ds = lib.utils.data.TensorDataset(lib.arange(23))
        dl = lib.utils.data.DataLoader(ds, batch_size=5, shuffle=True)
        epochs = [[b[0].tolist() for b in dl] for _ in range(2)]
        split = lib.utils.data.random_split(
            range(10), [3, 7], generator=lib.Generator().manual_seed(5)
        )
        sampler = lib.utils.data.RandomSampler(range(6), generator=lib.Generator().manual_seed(1))
        with_repl = lib.utils.data.RandomSampler(range(6), replacement=True, num_samples=40)
        return epochs, list(split[0]), list(sampler), list(sampler), list(with_repl)

    assert order(ctorch) == order(torch)


@needs_torch
def test_seeded_training_follows_torch_without_copying_weights():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(
            lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Dropout(0.2), lib.nn.Linear(16, 3)
        ).double()
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = lib.randn(32, 8, dtype=lib.float64)
        y = lib.randint(0, 3, (32,))
        losses = []
        for _ in range(5):
            loss = lib.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    np.testing.assert_allclose(run(ctorch), run(torch), rtol=1e-12)


def test_state_round_trip_and_normal_cache():
    g = Generator().manual_seed(1)
    g.normal((3,), np.dtype(np.float64))  # leaves a cached second sample
    state = g.get_state()
    a = g.normal((5,), np.dtype(np.float64))
    g.set_state(state)
    np.testing.assert_array_equal(g.normal((5,), np.dtype(np.float64)), a)
    with pytest.raises(RuntimeError, match="set_rng_state"):
        g.set_state(ctorch.zeros(10, dtype=ctorch.uint8))


def test_draw_errors_are_torchs():
    with pytest.raises(
        NotImplementedError, match="\"check_uniform_bounds\" not implemented for 'Long'"
    ):
        ctorch.zeros(3, dtype=ctorch.int64).uniform_()
    with pytest.raises(
        NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"
    ):
        ctorch.zeros(3, dtype=ctorch.int64).normal_()
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        ctorch.zeros(3, dtype=ctorch.int64).random_(5, 5)


def test_distribution_of_the_fast_paths():
    ctorch.manual_seed(123)
    z = ctorch.randn(200000).numpy().astype(np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    m = ctorch.nn.functional.dropout(ctorch.ones(200000), 0.3).numpy()
    assert abs((m == 0).mean() - 0.3) < 0.01 and set(np.unique(m)) == {0.0, np.float32(1 / 0.7)}
    perm = ctorch.randperm(1000).numpy()
    assert sorted(perm.tolist()) == list(range(1000))
    u = ctorch.rand(100000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert math.isclose(float(ctorch.empty(100000).normal_(2, 3).mean()), 2, abs_tol=0.05)


def test_randn_vector_kernel_gives_the_scalar_kernels_bits():
    from ctorch._core import _smallops

    rng = np.random.default_rng(0)
    u = rng.integers(0, 1 << 24, 16 * 20000).astype(np.float32) * np.float32(2**-24)
    u[:16] = 0  # log(1 - 0) and the angle 0
    u[16:32] = np.float32(1 - 2**-24)  # the largest uniform: log of the smallest argument
    vec, sca = np.empty_like(u), np.empty_like(u)
    _smallops.box_muller16_f32(u, vec, 0.3, 1.7, 1)
    _smallops.box_muller16_f32(u, sca, 0.3, 1.7, 0)
    np.testing.assert_array_equal(vec.view(np.int32), sca.view(np.int32))


def _raises_like_torch(fn):
    """fn(lib) raises the same exception type and message in ctorch as in torch."""
    with pytest.raises(Exception) as ours:
        fn(ctorch)
    if torch is not None:
        with pytest.raises(Exception) as theirs:
            fn(torch)
        assert type(ours.value).__name__ == type(theirs.value).__name__
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "case",
    [
        lambda t: t.poisson(t.tensor([1.0, -1.0])),
        lambda t: t.poisson(t.tensor([float("nan")], dtype=t.float64)),
        lambda t: t.poisson(t.tensor([1, 2])),
        lambda t: t.poisson(t.tensor([1.0], dtype=t.complex64)),
        lambda t: t.binomial(t.tensor([5]), t.tensor([0.5])),
        lambda t: t.binomial(t.tensor([5.0]), t.tensor([1])),
        lambda t: t.binomial(t.tensor([5.0], dtype=t.float16), t.tensor([0.5], dtype=t.float16)),
        lambda t: t.binomial(t.tensor([5.0]), t.tensor([0.5], dtype=t.float64)),
        lambda t: t.binomial(t.tensor([5.0], dtype=t.float64), t.tensor([0.5])),
        lambda t: t.binomial(t.ones(2, 3), t.full((4, 1), 0.5)),
        lambda t: t.rand(3, dtype=t.int64),
        lambda t: t.rand(2, 2, dtype=t.bool),
        lambda t: t.randn(3, dtype=t.int64),
        lambda t: t.randn(3, dtype=t.uint8),
        lambda t: t.normal(0.0, 1.0, (3,), dtype=t.int32),
        lambda t: t.zeros(3, dtype=t.int16).uniform_(),
    ],
)
def test_draw_errors_match_torch(case):
    _raises_like_torch(case)


def test_poisson_error_after_the_draws_before_it():
    """torch checks each rate as it draws: a bad rate raises after the elements before it
    have drawn, so the stream then continues from there (as torch's does)."""
    g = ctorch.Generator().manual_seed(3)
    with pytest.raises(RuntimeError, match="invalid Poisson rate"):
        ctorch.poisson(ctorch.tensor([4.0, 30.0, -1.0, 2.0]), g)
    after = ctorch.rand(5, generator=g)
    ref = ctorch.Generator().manual_seed(3)
    ctorch.poisson(ctorch.tensor([4.0, 30.0]), ref)
    np.testing.assert_array_equal(after.numpy(), ctorch.rand(5, generator=ref).numpy())
    if torch is not None:
        tg = torch.Generator().manual_seed(3)
        with pytest.raises(RuntimeError):
            torch.poisson(torch.tensor([4.0, 30.0, -1.0, 2.0]), tg)
        np.testing.assert_array_equal(after.numpy(), torch.rand(5, generator=tg).numpy())


def test_poisson_binomial_statistics():
    """Means and variances of many draws (independent of torch): Poisson(rate) has both equal
    to rate; Binomial(n, p) has n p and n p (1 - p), across the samplers' branches."""
    ctorch.manual_seed(0)
    for rate in (0.7, 6.0, 10.0, 123.0):
        x = ctorch.poisson(ctorch.full((40000,), rate, dtype=ctorch.float64)).numpy()
        assert np.all(x == np.round(x)) and x.min() >= 0
        assert abs(x.mean() - rate) < 5 * math.sqrt(rate / 40000)
        assert abs(x.var() / rate - 1) < 0.05
    for n, p in ((7.0, 0.3), (200.0, 0.2), (200.0, 0.85), (30.0, 0.97)):
        x = ctorch.binomial(ctorch.full((40000,), n), ctorch.full((40000,), p)).numpy()
        assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
        var = n * p * (1 - p)
        assert abs(x.mean() - n * p) < 5 * math.sqrt(var / 40000)
        assert abs(x.var() / var - 1) < 0.06


def test_binomial_nan_count_gives_nan():
    # torch's inversion loop never returns for a NaN count; ctorch gives NaN
    r = ctorch.binomial(ctorch.tensor([float("nan"), 4.0]), ctorch.tensor([0.3, 0.0]))
    assert math.isnan(r[0].item()) and r[1].item() == 0.0
