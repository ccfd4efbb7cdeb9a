"""Random number generation: ``Generator``, the default generator, seeds.

The CPU generator is torch's: a 32-bit Mersenne Twister (``mt19937``) seeded as torch seeds it
(``manual_seed(s)`` initialises it with ``s`` modulo 2^32, the default seed is torch's
67280421310721), and the common draws use torch's transforms of its output, so the same seed
gives the same numbers as torch:

- ``rand``/``uniform_``: 24 (float32, float16, bfloat16: torch draws the 16-bit types in float32
  and rounds) or 53 (float64, two 32-bit draws, the first the high word) random bits scaled to
  [0, 1), then ``x * (to - from) + from``;
- ``randn``/``normal_``: from 16 elements on, torch's ``normal_fill`` (uniforms for every
  element, Box-Muller over blocks of 16, the last block redrawn when the size is not a
  multiple of 16); below 16, torch's scalar Box-Muller with its cached second sample;
- ``randint``/``random_(from, to)``: ``draw % range + from`` (a 64-bit draw when the range
  reaches 2^32); ``random_()``: the dtype's full non-negative range;
- ``randperm``: torch's Fisher-Yates swaps with ``draw % (n - i)``;
- ``bernoulli_(p)``/dropout masks: a 53-bit uniform below p; ``bernoulli(probs)``: a 24-bit
  (float probabilities) or 53-bit (double) uniform below each probability;
- ``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``: torch's transforms of 53-bit
  uniforms, with the C library's log/log1p/tan/exp as torch calls them;
- ``multinomial`` (so ``Categorical.sample``): torch's exponential race for one sample or
  none repeated, its cumulative-distribution search with replacement;
- ``_standard_gamma`` (Gamma, Chi2, StudentT) and ``_sample_dirichlet`` (Dirichlet, Beta):
  torch's Marsaglia-Tsang sampler, element by element, with its uniforms and cached normals;
- ``poisson`` and ``binomial`` (Poisson, Binomial): torch's ``sample_poisson`` (Hoermann's
  transformed rejection, products of uniforms) and ``sample_binomial`` (BTRS, inversion).

float32 and float64 results are bitwise torch's (float32 ``randn`` evaluates torch's AVX2
log/sincos approximations; torch picks that path on AVX2 machines, which all x86-64 CPUs
ctorch's kernels target are); 16-bit draws are float32's rounded, as torch's are.
In-place fills of a non-contiguous tensor walk it in memory order, as torch's TensorIterator
does (``_methods._sample_in_memory_order``); ``normal_`` there takes the scalar draw.
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
]

_DEFAULT_SEED = 67280421310721


def _digits(dt) -> int:
    """Random bits of torch's uniforms: 53 for float64; float32's 24 for float32 and the 16-bit
    types (torch draws those in float32 and rounds the result)."""
    return 53 if np.dtype(dt) == np.float64 else 24


def _fma64(a: float, b: float, c: float) -> float:
    """a * b + c rounded once (exact rational arithmetic; ``float(Fraction)`` rounds
    correctly)."""
    from fractions import Fraction

    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    return float(Fraction(a) * Fraction(b) + Fraction(c))


class Generator:
    """A random generator (like ``torch.Generator``) on the CPU: torch's mt19937 streams."""

    def __init__(self, device="cpu") -> None:
        from ._device import as_device

        self.device = as_device(device)
        if self.device.type == "xpu":  # as torch's CPU wheel
            raise RuntimeError("Cannot get XPU generator without ATen_xpu library.")
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:  # torch stores the seed as uint64
            seed &= (1 << 64) - 1
        self._seed = seed
        self._bitgen = np.random.MT19937(0)
        self._bitgen._legacy_seeding(seed & 0xFFFFFFFF)  # torch: init_genrand(seed mod 2^32)
        self._rng = np.random.Generator(self._bitgen)
        self._state_address = self._bitgen.ctypes.state_address
        self._normal_cache: float | None = None  # torch's next_double_normal_sample
        return self

    def seed(self) -> int:
        s = int(time.time_ns() ^ id(self)) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        import pickle

        from ._tensor import Tensor

        st = (self._seed, self._bitgen.state, self._normal_cache)
        return Tensor._make(np.frombuffer(pickle.dumps(st), np.uint8).copy())

    def set_state(self, state) -> Generator:
        import pickle

        arr = state._a if hasattr(state, "_a") else np.asarray(state)
        try:
            seed, st, cache = pickle.loads(arr.tobytes())
            self.manual_seed(seed)
            self._bitgen.state = st
        except Exception as e:  # a torch state, or bytes from elsewhere
            raise RuntimeError(
                "set_rng_state: the state is not one that ctorch's get_rng_state returned "
                f"({type(e).__name__}: {e})"
            ) from e
        self._normal_cache = cache
        return self

    @property
    def rng(self) -> np.random.Generator:
        return self._rng

    # -- torch's draws ---------------------------------------------------------------------
    def _u32(self, n: int) -> np.ndarray:
        """``n`` outputs of the engine (torch's ``random()``), as uint64 (NumPy's random_raw,
        run by a compiled loop on the same state)."""
        out = np.empty(max(n, 0), np.uint64)
        if n > 0:
            from ._core import _smallops

            with self._bitgen.lock:
                _smallops.mt_raw(self._state_address, out)
        return out

    def _u64(self, n: int) -> np.ndarray:
        """``n`` of torch's ``random64()``: two outputs, the first the high word."""
        r = self._u32(2 * n).reshape(n, 2)
        return (r[:, 0] << np.uint64(32)) | r[:, 1]

    def _unit(self, n: int, dt: np.dtype) -> np.ndarray:
        """``n`` uniforms in [0, 1) as torch's uniform_real_distribution<dt> makes them: in
        float32 for up to 24 random bits, else float64 (both exact)."""
        digits = _digits(dt)
        raw = self._u64(n) if digits == 53 else self._u32(n)
        bits = raw & np.uint64((1 << digits) - 1)
        if digits == 24:
            return bits.astype(np.float32) * np.float32(2.0**-24)
        return bits * 2.0**-53

    def uniform(self, shape: tuple, dt: np.dtype, low: float = 0.0, high: float = 1.0):
        """torch's ``uniform_(low, high)`` of a fresh tensor."""
        dt = np.dtype(dt)
        n = math.prod(shape)
        x = self._unit(n, dt)
        if low == 0.0 and high == 1.0:  # x * 1 + 0: the uniforms themselves
            return x.astype(dt, copy=False).reshape(shape)
        x = x.astype(np.float64, copy=False)
        if dt == np.float64:
            out = x * (high - low) + low
        elif dt == np.float32:  # from/to cast to float first; the affine map runs in double
            lo, hi = np.float32(low), np.float32(high)
            out = x * np.float64(hi - lo) + np.float64(lo)
        else:  # 16-bit: torch's float32 arithmetic, rounded to the dtype at the end
            lo, hi = np.float32(low), np.float32(high)
            out = (x.astype(np.float32) * (hi - lo) + lo).astype(np.float32)
        return out.astype(dt, copy=False).reshape(shape)

    def _normal_scalar(self, mean: float, std: float) -> float:
        """torch's normal_distribution<double>: Box-Muller, the second value cached; then
        ``z * std + mean`` as one FMA (GCC contracts it in torch's AVX2 kernels)."""
        if self._normal_cache is not None:
            z, self._normal_cache = self._normal_cache, None
        else:
            u1, u2 = self._unit(2, np.dtype(np.float64))
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            self._normal_cache = radius * math.sin(theta)
            z = radius * math.cos(theta)
        if std == 1.0 and mean == 0.0:
            return z
        return _fma64(z, std, mean)

    def normal(
        self, shape: tuple, dt: np.dtype, mean: float = 0.0, std: float = 1.0, serial: bool = False
    ):
        """torch's ``normal_(mean, std)`` of a fresh contiguous tensor (``serial``: its scalar
        draw, which torch uses for any size when the tensor is not contiguous)."""
        dt = np.dtype(dt)
        n = math.prod(shape)
        if n < 16 or serial:
            vals = [self._normal_scalar(mean, std) for _ in range(n)]
            return np.asarray(vals, np.float64).astype(dt).reshape(shape)
        work = np.float64 if dt == np.float64 else np.float32  # 16-bit: float32, rounded
        m = n // 16 * 16
        # float32/float64 draw a uniform for every element before the tail is redrawn; torch's
        # 16-bit kernel draws only the whole blocks' uniforms
        data = self._unit(n if dt in (np.float32, np.float64) else m, dt).astype(work)
        out = np.empty(n, work)
        out[:m] = self._box_muller16(data[:m], work, mean, std)
        if n % 16:  # torch redraws the last 16 uniforms and transforms them again
            tail = self._unit(16, dt).astype(work)
            out[n - 16 :] = self._box_muller16(tail, work, mean, std)
        return out.astype(dt, copy=False).reshape(shape)

    @staticmethod
    def _box_muller16(u: np.ndarray, work, mean: float, std: float) -> np.ndarray:
        """torch's normal_fill_16 over blocks of 16: elements 0-7 give radius and 8-15 angle.
        float32 runs torch's AVX2 log and sincos, float64 glibc's (``_core/_random_cpu.h``):
        torch's bits."""
        from ._core import _smallops

        kernel = _smallops.box_muller16_f32 if work is np.float32 else _smallops.box_muller16_f64
        out = np.empty(u.shape[0], work)
        kernel(np.ascontiguousarray(u, work), out, mean, std)
        return out

    def integers(self, low: int, high: int, shape: tuple, wide: bool = True) -> np.ndarray:
        """torch's ``random_(low, high)``/``randint``: ``draw % (high - low) + low``; a 64-bit
        draw when the range reaches 2^32 (``wide``: the dtype is int64 or floating)."""
        n = math.prod(shape)
        rng_ = high - low
        raw = self._u64(n) if (wide and rng_ >= 1 << 32) else self._u32(n)
        return ((raw % np.uint64(rng_)).astype(np.int64) + np.int64(low)).reshape(shape)

    def full_range(self, shape: tuple, dt: np.dtype) -> np.ndarray:
        """torch's ``random_()``: integers in [0, max] of the dtype (floats: [0, 2^digits])."""
        dt = np.dtype(dt)
        n = math.prod(shape)
        if dt == np.bool_:
            return (self._u32(n) & np.uint64(1)).astype(bool).reshape(shape)
        if dt.kind in "fV":
            # the dtype's own mantissa digits here (torch's uniform_int): float16 11, bfloat16 8
            digits = {"float16": 11, "bfloat16": 8}.get(dt.name, _digits(dt))
            raw = self._u64(n) if dt == np.float64 else self._u32(n)
            return (raw % np.uint64((1 << digits) + 1)).astype(dt).reshape(shape)
        if dt == np.uint64:  # every 64-bit draw is in range (torch has no uint64 random_)
            return self._u64(n).reshape(shape)
        top = int(np.iinfo(dt).max) + 1
        raw = self._u64(n) if dt == np.int64 else self._u32(n)
        return (raw % np.uint64(top)).astype(dt).reshape(shape)

    def permutation(self, n: int) -> np.ndarray:
        """torch's randperm: swap i with i + draw % (n - i), for i from 0."""
        r = np.arange(n, dtype=np.int64)
        if n < 2:
            return r
        if n >= 0xFFFFFFFF // 20:  # torch's other algorithm for huge n: not reproduced
            return self._rng.permutation(n)
        z = (self._u32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
        from ._core import _smallops

        _smallops.fisher_yates(r, z)
        return r

    def bernoulli_scalar(self, shape: tuple, p: float, value: float = 1.0, dtype=np.float64):
        """torch's ``bernoulli_(p)`` (a 53-bit uniform below p) in C order, as ``value`` where
        kept and 0 elsewhere, in ``dtype`` (float32/float64 in one compiled pass)."""
        n = math.prod(shape)
        dt = np.dtype(dtype)
        if dt in (np.float32, np.float64) and n:
            from ._core import _smallops

            # u = m * 2^-53 < p  <=>  m < ceil(p * 2^53): an integer test, exact
            threshold = min(math.ceil(max(p, 0.0) * 2.0**53), 1 << 53)
            out = np.empty(n, dt)
            with self._bitgen.lock:
                _smallops.mt_bernoulli(self._state_address, threshold, out, float(value))
            return out.reshape(shape)
        keep = self._unit(n, np.dtype(np.float64)) < p
        return (keep * np.asarray(value, np.float64)).astype(dt).reshape(shape)

    def race_argmax(self, p: np.ndarray) -> np.ndarray:
        """torch's one-sample ``multinomial`` of each row of 2-D float32/float64 ``p``: the
        first argmax of p / Exp(1), the exponentials drawn in p's C order (``exponential``'s
        draws and rounding, one compiled pass): a (rows, 1) int64 array."""
        from ._core import _smallops

        with self._bitgen.lock:
            return _smallops.mt_race(self._state_address, np.ascontiguousarray(p))

    def _libm(self, op: int, x: np.ndarray) -> np.ndarray:
        from ._core import _smallops

        x = np.ascontiguousarray(x, np.float64).reshape(-1)
        out = np.empty_like(x)
        _smallops.libm_apply(op, x, out)
        return out

    def exponential(self, shape: tuple, dt: np.dtype, lambd: float) -> np.ndarray:
        """torch's ``exponential_``: -1/lambda * log1p(-u), u a 53-bit uniform."""
        u = self._unit(math.prod(shape), np.dtype(np.float64))
        return ((-1.0 / lambd) * self._libm(1, -u)).astype(dt).reshape(shape)

    def geometric(self, shape: tuple, dt: np.dtype, p: float) -> np.ndarray:
        """torch's ``geometric_``: ceil(log(u) / log1p(-p))."""
        u = self._unit(math.prod(shape), np.dtype(np.float64))
        return np.ceil(self._libm(0, u) / math.log1p(-p)).astype(dt).reshape(shape)

    def cauchy(self, shape: tuple, dt: np.dtype, median: float, sigma: float) -> np.ndarray:
        """torch's ``cauchy_``: median + sigma * tan(pi * (u - 0.5))."""
        u = self._unit(math.prod(shape), np.dtype(np.float64))
        return (median + sigma * self._libm(3, math.pi * (u - 0.5))).astype(dt).reshape(shape)

    def log_normal(self, shape: tuple, dt: np.dtype, mean: float, std: float) -> np.ndarray:
        """torch's ``log_normal_``: exp of its scalar (cached-pair) normals."""
        z = np.array([self._normal_scalar(mean, std) for _ in range(math.prod(shape))])
        return self._libm(2, z).astype(dt).reshape(shape)

    def standard_gamma(self, alpha: np.ndarray) -> np.ndarray:
        """torch's ``_standard_gamma`` on the CPU: Marsaglia-Tsang per element, in order, with
        its double uniforms and cached normals, its float literals (``1.0f / 3.0f``,
        ``0.0331f``) and, for float32 alpha, the float steps torch's template takes; results
        below the dtype's smallest normal number are raised to it (compiled:
        ``_core/_random_cpu.h``). A negative or NaN alpha gives NaN, where torch never
        returns."""
        from ._core import _smallops

        dt = np.dtype(np.float64 if alpha.dtype == np.float64 else np.float32)
        flat = np.ascontiguousarray(alpha, dt).reshape(-1)
        out = np.empty(flat.shape[0], dt)
        with self._bitgen.lock:
            self._normal_cache = _smallops.mt_gamma(
                self._state_address, flat, out, self._normal_cache
            )
        return out.reshape(alpha.shape)

    def poisson(self, rate: np.ndarray) -> np.ndarray:
        """torch's ``poisson`` on the CPU (``sample_poisson``): per element in C order, the
        rate as a double, Hoermann's transformed rejection from rate 10 on and the product of
        double uniforms below it; int64 draws (compiled: ``_core/_random_cpu.h``). A negative
        or NaN rate raises torch's error, after the draws for the elements before it."""
        from ._core import _smallops

        flat = np.ascontiguousarray(rate, np.float64).reshape(-1)
        out = np.empty(flat.shape[0], np.int64)
        with self._bitgen.lock:
            stop = _smallops.mt_poisson(self._state_address, flat, out)
        if stop < flat.shape[0]:
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        return out.reshape(rate.shape)

    def binomial(self, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
        """torch's ``binomial`` on the CPU (``sample_binomial``): per element in C order,
        BTRS where count * prob >= 10, geometric waiting times otherwise, p > 0.5 as
        count - draw(1 - p); count and prob of one float dtype (float32 steps for float32)."""
        from ._core import _smallops

        dt = np.dtype(np.float64 if count.dtype == np.float64 else np.float32)
        c = np.ascontiguousarray(count, dt).reshape(-1)
        p = np.ascontiguousarray(prob, dt).reshape(-1)
        out = np.empty(c.shape[0], dt)
        with self._bitgen.lock:
            _smallops.mt_binomial(self._state_address, c, p, out)
        return out.reshape(count.shape)

    def bernoulli_probs(self, probs: np.ndarray) -> np.ndarray:
        """torch's ``bernoulli(probs)``: one uniform per element in the probabilities' dtype
        (24-bit for float32 and lower, 53-bit for float64), compared below the probability."""
        dt = np.dtype(np.float64) if probs.dtype == np.float64 else np.dtype(np.float32)
        u = self._unit(probs.size, dt).reshape(probs.shape)
        return u < probs


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CUDA's, when available)."""
    seed = int(seed)
    default_generator.manual_seed(seed)
    import sys

    cuda = sys.modules.get("ctorch.cuda")
    if cuda is not None and getattr(cuda, "_initialized", False):
        try:
            cuda.manual_seed_all(seed)
        except Exception:  # noqa: BLE001 - no usable GPU
            pass
    else:
        _pending_cuda_seed[0] = seed
    return default_generator


_pending_cuda_seed = [None]


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng_for(generator) -> np.random.Generator:
    """NumPy's Generator over ``generator``'s engine (for the draws torch's transforms do not
    cover)."""
    return (generator or default_generator)._rng


def gen_for(generator) -> Generator:
    """``generator``, or the default generator."""
    return generator or default_generator
