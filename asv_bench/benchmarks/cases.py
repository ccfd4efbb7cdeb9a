"""Benchmark cases shared by asv (``asv_bench/benchmarks/*.py``) and the side-by-side report
(``tools/bench_report.py``). A case builds, for one library (``ctorch``, ``torch`` or
``numpy``), a zero-argument callable to time. The same lambda serves ctorch and torch because
their APIs match.
"""

from __future__ import annotations

import importlib

import numpy as np

BIG = 16 * 1024 * 1024  # 16M float32 elements (64 MiB), memory-bound on these machines

# "cpu" or "cuda": where ctorch's and torch's tensors and modules live (tools/bench_report.py
# --device). NumPy only takes part on the CPU.
DEVICE = "cpu"


def _dev(lib, t):
    """Move a tensor or module to DEVICE (a no-op on the CPU)."""
    return t if DEVICE == "cpu" or lib is np else t.to(DEVICE)


def _labels(lib, high, shape):
    return _dev(lib, lib.from_numpy(np.random.default_rng(0).integers(0, high, shape)))


def lib_module(name: str):
    if name == "numpy":
        return np
    return importlib.import_module(name)


def set_threads(lib_name: str, n: int) -> None:
    for name in ("ctorch", "torch"):
        try:
            lib_module(name).set_num_threads(n)
        except ImportError:
            pass


def _rand(lib, *shape, seed=0, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    if lib is np:
        return a
    t = _dev(lib, lib.from_numpy(a))
    return t.requires_grad_(True) if requires_grad else t


# ----------------------------------------------------------------------------- elementwise
def _binary(op):
    def make(lib):
        a, b = _rand(lib, BIG, seed=1), _rand(lib, BIG, seed=2)
        return lambda: op(a, b)

    return make


def _unary_fwd(name):
    def make(lib):
        x = _rand(lib, BIG)
        if lib is np:
            f = {
                "relu": lambda x: np.maximum(x, 0),
                "exp": np.exp,
                "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
                "tanh": np.tanh,
            }.get(name)
            if f is None:
                return None
            return lambda: f(x)
        F = lib.nn.functional
        fn = {
            "relu": F.relu,
            "gelu": F.gelu,
            "sigmoid": lib.sigmoid,
            "exp": lib.exp,
            "tanh": lib.tanh,
        }[name]
        return lambda: fn(x)

    return make


def _unary_fwd_bwd(name):
    def make(lib):
        if lib is np:
            return None
        x = _rand(lib, BIG, requires_grad=True)
        g = _rand(lib, BIG, seed=3)
        F = lib.nn.functional
        fn = {
            "relu": F.relu,
            "gelu": F.gelu,
            "sigmoid": lib.sigmoid,
            "exp": lib.exp,
            "tanh": lib.tanh,
        }[name]

        def run():
            x.grad = None
            fn(x).backward(g)

        return run

    return make


# ----------------------------------------------------------------------------- reductions
def _reduce(kind):
    def make(lib):
        if kind == "sum_all":
            x = _rand(lib, BIG)
            return (lambda: x.sum()) if lib is not np else (lambda: np.sum(x))
        x = _rand(lib, 4096, 4096)
        if kind == "sum_rows":
            return (lambda: x.sum(-1)) if lib is not np else (lambda: x.sum(-1))
        if kind == "max_rows":
            return (lambda: x.max(-1)) if lib is not np else (lambda: (x.max(-1), x.argmax(-1)))
        if kind == "sum_cols":
            return (lambda: x.sum(0)) if lib is not np else (lambda: x.sum(0))
        raise KeyError(kind)

    return make


def _softmax(log, backward):
    def make(lib):
        if lib is np:
            if backward:
                return None
            x = _rand(lib, 4096, 1024)

            def npsm():
                z = x - x.max(-1, keepdims=True)
                e = np.exp(z)
                return z - np.log(e.sum(-1, keepdims=True)) if log else e / e.sum(-1, keepdims=True)

            return npsm
        F = lib.nn.functional
        fn = F.log_softmax if log else F.softmax
        x = _rand(lib, 4096, 1024, requires_grad=backward)
        if not backward:
            return lambda: fn(x, dim=-1)
        g = _rand(lib, 4096, 1024, seed=5)

        def run():
            x.grad = None
            fn(x, dim=-1).backward(g)

        return run

    return make


def _matmul(n):
    def make(lib):
        a, b = _rand(lib, n, n, seed=1), _rand(lib, n, n, seed=2)
        return lambda: a @ b

    return make


def _fft(n):
    # issue #13: a 2^20-point complex64 FFT within 1.2x of torch's
    def make(lib):
        rng = np.random.default_rng(0)
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
        if lib is np:
            return lambda: np.fft.fft(a)
        t = _dev(lib, lib.from_numpy(a))
        return lambda: lib.fft.fft(t)

    return make


def _overhead(autograd):
    def make(lib):
        if lib is np:
            if autograd:
                return None
            a, b = _rand(lib, 16), _rand(lib, 16, seed=1)
            return lambda: a + b
        a = _rand(lib, 16, requires_grad=autograd)
        b = _rand(lib, 16, seed=1, requires_grad=autograd)
        if not autograd:
            return lambda: a + b
        g = _rand(lib, 16, seed=2)

        def run():
            a.grad = None
            b.grad = None
            (a + b).backward(g)

        return run

    return make


# ----------------------------------------------------------------------------- nn
def _conv(backward):
    def make(lib):
        if lib is np:
            return None
        lib.manual_seed(0)
        conv = _dev(lib, lib.nn.Conv2d(32, 64, 3, padding=1))
        x = _rand(lib, 32, 32, 32, 32, requires_grad=backward)
        if not backward:
            return lambda: conv(x)

        def run():
            conv.zero_grad()
            x.grad = None
            conv(x).sum().backward()

        return run

    return make


def _module_fwd_bwd(build, shape):
    def make(lib):
        if lib is np:
            return None
        lib.manual_seed(0)
        m = _dev(lib, build(lib))
        x = _rand(lib, *shape, requires_grad=True)
        g = None

        def run():
            nonlocal g
            x.grad = None
            m.zero_grad()
            y = m(x)
            if g is None:
                g = lib.ones_like(y)
            y.backward(g)

        return run

    return make


def _cross_entropy(lib):
    if lib is np:
        return None
    x = _rand(lib, 4096, 1000, requires_grad=True)
    y = _labels(lib, 1000, 4096)
    F = lib.nn.functional

    def run():
        x.grad = None
        F.cross_entropy(x, y).backward()

    return run


def _train_step(build, in_shape, n_classes, opt_name, **opt_kw):
    def make(lib):
        if lib is np:
            return None
        lib.manual_seed(0)
        model = _dev(lib, build(lib))
        opt = getattr(lib.optim, opt_name)(model.parameters(), **opt_kw)
        x = _rand(lib, *in_shape)
        y = _labels(lib, n_classes, in_shape[0])
        F = lib.nn.functional

        def run():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        return run

    return make


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def _lenet(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def _basic_block(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(64)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            out = lib.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out = lib.relu(out + x)
            return self.fc(lib.flatten(self.pool(out), 1))

    return Block()


def _adam_10m(lib):
    if lib is np:
        return None
    p = _rand(lib, 10_000_000, requires_grad=True)
    p.grad = _rand(lib, 10_000_000, seed=4)
    opt = lib.optim.Adam([p], lr=1e-3)
    return opt.step


def _embedding(lib):
    if lib is np:
        return None
    lib.manual_seed(0)
    emb = _dev(lib, lib.nn.Embedding(50000, 256))
    idx = _labels(lib, 50000, (64, 128))

    def run():
        emb.zero_grad()
        emb(idx).sum().backward()

    return run


def _sdpa(shape, causal):
    def make(lib):
        if lib is np:
            return None
        q, k, v = (_rand(lib, *shape, seed=i, requires_grad=True) for i in range(3))
        F = lib.nn.functional
        g = None

        def run():
            nonlocal g
            q.grad = k.grad = v.grad = None
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            if g is None:
                g = lib.ones_like(o)
            o.backward(g)

        return run

    return make


def _rnn(kind):
    """nn.LSTM/nn.GRU (2 layers, 200 wide) forward+backward over 35 steps of batch 20."""

    def make(lib):
        if lib is np:
            return None
        lib.manual_seed(0)
        m = _dev(lib, getattr(lib.nn, kind)(200, 200, 2))
        x = _rand(lib, 35, 20, 200, seed=1, requires_grad=True)

        def run():
            m.zero_grad()
            x.grad = None
            m(x)[0].sum().backward()

        return run

    return make


# name -> (make(lib), work units per call for throughput, unit, target ratio or None)
CASES = {
    "add 16M": (_binary(lambda a, b: a + b), BIG, "elem", 1.0),
    "mul 16M": (_binary(lambda a, b: a * b), BIG, "elem", 1.0),
    "relu 16M": (_unary_fwd("relu"), BIG, "elem", 1.0),
    "gelu 16M": (_unary_fwd("gelu"), BIG, "elem", 1.0),
    "sigmoid 16M": (_unary_fwd("sigmoid"), BIG, "elem", 1.0),
    "exp 16M": (_unary_fwd("exp"), BIG, "elem", 1.0),
    "relu fwd+bwd 16M": (_unary_fwd_bwd("relu"), BIG, "elem", 1.0),
    "gelu fwd+bwd 16M": (_unary_fwd_bwd("gelu"), BIG, "elem", 1.0),
    "sigmoid fwd+bwd 16M": (_unary_fwd_bwd("sigmoid"), BIG, "elem", 1.0),
    "exp fwd+bwd 16M": (_unary_fwd_bwd("exp"), BIG, "elem", 1.0),
    "sum 16M": (_reduce("sum_all"), BIG, "elem", 1.0),
    "sum rows 4096x4096": (_reduce("sum_rows"), 4096 * 4096, "elem", 1.0),
    "sum cols 4096x4096": (_reduce("sum_cols"), 4096 * 4096, "elem", 1.0),
    "max rows 4096x4096": (_reduce("max_rows"), 4096 * 4096, "elem", 1.0),
    "softmax 4096x1024": (_softmax(False, False), 4096 * 1024, "elem", 1.0),
    "log_softmax 4096x1024": (_softmax(True, False), 4096 * 1024, "elem", 1.0),
    "softmax fwd+bwd 4096x1024": (_softmax(False, True), 4096 * 1024, "elem", 1.0),
    "log_softmax fwd+bwd 4096x1024": (_softmax(True, True), 4096 * 1024, "elem", 1.0),
    "matmul 1024": (_matmul(1024), 2 * 1024**3, "flop", 0.95),
    "matmul 2048": (_matmul(2048), 2 * 2048**3, "flop", 0.95),
    "fft 2^20 complex64": (_fft(1 << 20), 1 << 20, "elem", 1 / 1.2),
    "a+b 16 elems": (_overhead(False), 1, "op", 1 / 1.5),
    "a+b 16 elems fwd+bwd": (_overhead(True), 1, "op", 1 / 1.5),
    "conv2d fwd 32x32x32x32->64": (_conv(False), 32, "img", None),
    "conv2d fwd+bwd 32x32x32x32->64": (_conv(True), 32, "img", 0.8),
    "maxpool2d fwd+bwd 64x32x64x64": (
        _module_fwd_bwd(lambda L: L.nn.MaxPool2d(2), (64, 32, 64, 64)),
        64,
        "img",
        1.0,
    ),
    "batchnorm2d fwd+bwd 64x64x32x32": (
        _module_fwd_bwd(lambda L: L.nn.BatchNorm2d(64), (64, 64, 32, 32)),
        64,
        "img",
        1.0,
    ),
    "layernorm fwd+bwd 4096x1024": (
        _module_fwd_bwd(lambda L: L.nn.LayerNorm(1024), (4096, 1024)),
        4096,
        "row",
        1.0,
    ),
    "cross_entropy fwd+bwd 4096x1000": (_cross_entropy, 4096, "row", 1.0),
    "MLP step 784-512-256-10 b256 SGD": (
        _train_step(_mlp, (256, 784), 10, "SGD", lr=0.01, momentum=0.9),
        256,
        "img",
        1.0,
    ),
    "LeNet step b64 Adam": (
        _train_step(_lenet, (64, 1, 28, 28), 10, "Adam", lr=1e-3),
        64,
        "img",
        0.8,
    ),
    "ResNet basic block step b32": (
        _train_step(_basic_block, (32, 64, 16, 16), 10, "SGD", lr=0.01, momentum=0.9),
        32,
        "img",
        None,
    ),
    "Adam step 10M params": (_adam_10m, 10_000_000, "param", 1.2),
    "embedding fwd+bwd 50000x256 idx 64x128": (_embedding, 64 * 128, "row", None),
    "sdpa causal fwd+bwd 12x4x64x32": (_sdpa((12, 4, 64, 32), True), 12 * 4 * 64, "row", 1.0),
    "sdpa causal fwd+bwd 4x8x256x64": (_sdpa((4, 8, 256, 64), True), 4 * 8 * 256, "row", 1.0),
    "sdpa fwd+bwd 1x8x1024x64": (_sdpa((1, 8, 1024, 64), False), 8 * 1024, "row", 1.0),
    "LSTM 2x200 fwd+bwd 35x20": (_rnn("LSTM"), 35 * 20, "token", 1.0),
    "GRU 2x200 fwd+bwd 35x20": (_rnn("GRU"), 35 * 20, "token", 1.0),
}
