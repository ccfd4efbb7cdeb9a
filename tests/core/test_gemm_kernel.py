"""ctorch._core.gemm.sgemm: float32 GEMM (AVX-512 micro-kernel, portable fallback).

Checked against a float64 NumPy reference with a K-scaled tolerance, for odd sizes,
transposed/strided operands, batch broadcasting, the batch-reduction (conv dW) and
accumulate modes, bitwise equality between 1 and 2 threads, and ValueError on bad shapes.
"""

import numpy as np
import pytest
from helpers import threads

from ctorch._core import gemm

SIZES = [1, 7, 15, 16, 17, 33, 100, 300]
SIMD = [True, False] if gemm.SGEMM_AVX512 else [False]


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def check(got, a, b, reduce_batch=False, base=None):
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if reduce_batch:
        ref = ref.sum(0, keepdims=True)
    if base is not None:
        ref = ref + base
    K = a.shape[-1] * (a.shape[0] if reduce_batch else 1)
    bound = np.matmul(np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64)))
    if reduce_batch:
        bound = bound.sum(0, keepdims=True)
    tol = 4 * K * np.finfo(np.float32).eps * bound + 1e-6
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= tol), float(np.max(np.abs(got - ref) - tol))


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("M", SIZES)
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("K", [1, 7, 16, 17, 100, 300])
def test_odd_sizes(M, N, K, simd):
    rng = np.random.default_rng(M * 10007 + N * 101 + K)
    a, b = rand(rng, 1, M, K), rand(rng, 2, K, N)
    out = np.full((2, M, N), np.nan, np.float32)
    gemm.sgemm(a, b, out, simd=simd)
    check(out, a, b)


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_transposed_and_strided(ta, tb, simd):
    rng = np.random.default_rng(1)
    M, K, N = 37, 300, 101
    a = rand(rng, 3, K, M).swapaxes(1, 2) if ta else rand(rng, 3, M, K)
    b = rand(rng, 3, N, K).swapaxes(1, 2) if tb else rand(rng, 3, K, N)
    a = np.ascontiguousarray(a) if not ta else a
    # a strided (every other row/column) view as well
    bs = rand(rng, 3, 2 * K, 2 * N)[:, ::2, ::2]
    out = np.empty((3, M, N), np.float32)
    gemm.sgemm(a, b, out, simd=simd)
    check(out, a, b)
    gemm.sgemm(a, bs, out, simd=simd)
    check(out, a, bs)
    # strided output: a column slice of a wider array
    wide = np.zeros((3, M, N + 5), np.float32)
    gemm.sgemm(a, b, wide[:, :, 2 : 2 + N], simd=simd)
    check(wide[:, :, 2 : 2 + N], a, b)
    assert not wide[:, :, :2].any() and not wide[:, :, 2 + N :].any()


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("M,K,N,B", [(64, 1024, 288, 4), (7, 33, 17, 5), (16, 100, 300, 3)])
def test_reduce_batch_like_conv_dw(M, K, N, B, simd):
    rng = np.random.default_rng(2)
    gy, cols = rand(rng, B, M, K), rand(rng, B, N, K)
    out = np.empty((1, M, N), np.float32)
    gemm.sgemm(gy, cols.swapaxes(1, 2), out, reduce_batch=True, simd=simd)
    check(out, gy, cols.swapaxes(1, 2), reduce_batch=True)


def test_accumulate():
    rng = np.random.default_rng(3)
    a, b = rand(rng, 2, 17, 33), rand(rng, 2, 33, 100)
    base = rand(rng, 2, 17, 100)
    out = base.copy()
    gemm.sgemm(a, b, out, accumulate=True)
    check(out, a, b, base=base.astype(np.float64))


def test_empty_and_k0():
    out = np.full((1, 3, 4), 7.0, np.float32)
    gemm.sgemm(np.empty((1, 3, 0), np.float32), np.empty((1, 0, 4), np.float32), out)
    assert not out.any()
    gemm.sgemm(
        np.empty((1, 0, 5), np.float32),
        np.empty((1, 5, 4), np.float32),
        np.empty((1, 0, 4), np.float32),
    )


@pytest.mark.parametrize(
    "M,K,N,B,reduce",
    [
        (64, 288, 1024, 4, False),
        (33, 300, 1000, 3, False),
        (64, 1000, 288, 4, True),
        (300, 17, 777, 2, False),
        (256, 512, 256, 1, False),  # one product, 6 column panels: split over row blocks too
        (200, 400, 40, 1, False),  # one column panel: row blocks only, ragged last block
        (64, 500, 90, 3, True),  # batch-reduce with 2 panels: row blocks
        (768, 512, 128, 1, False),  # 3 panels (2 + 1 over 2 threads): rows split instead
        (77, 300, 130, 1, False),  # the same with ragged row panels
    ],
)
def test_bitwise_1_vs_2_threads(M, K, N, B, reduce):
    rng = np.random.default_rng(4)
    a, b = rand(rng, B, M, K), rand(rng, B, K, N)
    outs = []
    for nt in (1, 2):
        out = np.empty((1 if reduce else B, M, N), np.float32)
        with threads(nt):
            gemm.sgemm(a, b, out, reduce_batch=reduce)
        outs.append(out)
    assert np.array_equal(outs[0], outs[1])
    check(outs[0], a, b, reduce_batch=reduce)


def test_simd_matches_portable_bitwise():
    if not gemm.SGEMM_AVX512:
        pytest.skip("no AVX-512 on this CPU")
    rng = np.random.default_rng(5)
    a, b = rand(rng, 2, 45, 300), rand(rng, 2, 300, 130)
    o1, o2 = np.empty((2, 45, 130), np.float32), np.empty((2, 45, 130), np.float32)
    gemm.sgemm(a, b, o1)
    gemm.sgemm(a, b, o2, simd=False)
    assert np.array_equal(o1, o2)  # same FMA order per element


@pytest.mark.parametrize(
    "ashape,bshape,oshape,reduce",
    [
        ((1, 3, 4), (1, 5, 6), (1, 3, 6), False),  # inner sizes differ
        ((2, 3, 4), (3, 4, 6), (3, 3, 6), False),  # batches do not broadcast
        ((1, 3, 4), (1, 4, 6), (1, 3, 7), False),  # wrong out
        ((2, 3, 4), (2, 4, 6), (2, 3, 6), True),  # reduce needs out batch 1
    ],
)
def test_bad_shapes(ashape, bshape, oshape, reduce):
    with pytest.raises(ValueError, match="sgemm"):
        gemm.sgemm(
            np.zeros(ashape, np.float32),
            np.zeros(bshape, np.float32),
            np.zeros(oshape, np.float32),
            reduce_batch=reduce,
        )


def test_wrong_dtype():
    with pytest.raises((ValueError, TypeError)):
        gemm.sgemm(np.zeros((1, 3, 4)), np.zeros((1, 4, 6)), np.zeros((1, 3, 6)))


@pytest.mark.parametrize("k,pad", [(3, 1), (1, 0)])
def test_conv2d_uses_kernel_and_matches_numpy_path(monkeypatch, k, pad):
    """conv2d fwd/bwd on a shape routed through sgemm agree with the NumPy-matmul path."""
    import ctorch
    import ctorch.ops.conv_gemm as cv

    calls = []
    orig = cv._sgemm_kernel

    def spy(a, b):
        kern = orig(a, b)
        calls.append(kern is not None)
        return kern

    def run():
        ctorch.manual_seed(0)
        conv = ctorch.nn.Conv2d(32, 64, k, padding=pad)
        x = ctorch.randn(4, 32, 16, 16, requires_grad=True)
        y = conv(x)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy()

    monkeypatch.setattr(cv, "_sgemm_kernel", spy)
    fast = run()
    assert any(calls) == gemm.SGEMM_AVX512
    monkeypatch.setattr(cv, "_sgemm_kernel", lambda a, b: None)
    ref = run()
    for f, r in zip(fast, ref, strict=True):
        np.testing.assert_allclose(f, r, rtol=1e-4, atol=1e-4 * float(np.abs(r).max()))


def test_num_threads_follows_set_num_threads():
    for n in (1, 2):
        with threads(n):
            assert gemm.sgemm_num_threads() == n


@pytest.mark.parametrize("simd", SIMD)
def test_negative_strides(simd):
    rng = np.random.default_rng(6)
    a, b = rand(rng, 2, 37, 300), rand(rng, 2, 300, 101)
    for aa, bb in [
        (a[:, ::-1, ::-1], b[:, ::-1, :]),
        (a[::-1], b[:, :, ::-1]),
        (a, np.ascontiguousarray(b.swapaxes(1, 2)).swapaxes(1, 2)[:, ::-1]),
    ]:
        out = np.empty((2, 37, 101), np.float32)
        gemm.sgemm(aa, bb, out, simd=simd)
        check(out, aa, bb)


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize("mode", ["plain", "accumulate", "reduce_batch", "batched", "strided_out"])
def test_tall_products_run_transposed_with_the_same_bits(simd, mode):
    """M > 2N with K >= N and A past 1 MiB runs as C^T = B^T @ A^T into a buffer transposed
    into C (unless A is row-major and read in place: A is column-major here): the result
    must equal the product computed the other way round, bit for bit, in every mode, and the
    float64 reference within tolerance."""
    rng = np.random.default_rng(5)
    M, K, N = 1001, 300, 70  # swapped: M > 2N, K >= N, M*K >= 2**18
    nb = 3 if mode in ("reduce_batch", "batched") else 1
    a, b = rand(rng, nb, K, M).transpose(0, 2, 1), rand(rng, nb, K, N)
    rb = mode == "reduce_batch"
    acc = mode == "accumulate"
    base = rand(rng, 1 if rb else nb, M, N)
    if mode == "strided_out":
        big = np.zeros((nb, M, 2 * N), np.float32)
        out = big[:, :, ::2]
    else:
        out = base.copy() if acc else np.empty((1 if rb else nb, M, N), np.float32)
    gemm.sgemm(a, b, out, reduce_batch=rb, accumulate=acc, simd=simd)
    # the wide orientation (N' = M > 2 M' = 2 N: never swapped) of the same product
    outt = (base.copy() if acc else np.empty_like(out)).transpose(0, 2, 1).copy()
    gemm.sgemm(
        b.transpose(0, 2, 1), a.transpose(0, 2, 1), outt, reduce_batch=rb, accumulate=acc, simd=simd
    )
    np.testing.assert_array_equal(out, outt.transpose(0, 2, 1))
    check(out, a, b, reduce_batch=rb, base=base if acc else None)
    if mode == "strided_out":
        assert not big[:, :, 1::2].any()  # the gaps of the strided output are untouched


def _same_bits_for_layouts(rng, mode, a, b, layouts):
    """sgemm of each (A, B) layout pair (the same values as a, b) at 1 and 2 threads, in
    ``mode`` (plain, accumulate, reduce_batch, batched): every result equal bit for bit,
    and the first within the float64 reference's error bound."""
    nb, M, N = a.shape[0], a.shape[1], b.shape[2]
    rb, acc = mode == "reduce_batch", mode == "accumulate"
    base = rand(rng, 1 if rb else nb, M, N)
    outs = []
    for aa, bb in layouts:
        for nt in (1, 2):
            out = base.copy() if acc else np.empty_like(base)
            with threads(nt):
                gemm.sgemm(aa, bb, out, reduce_batch=rb, accumulate=acc)
            outs.append(out)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)
    check(outs[0], a, b, reduce_batch=rb, base=base if acc else None)


@pytest.mark.parametrize("mode", ["plain", "accumulate", "reduce_batch", "batched"])
@pytest.mark.parametrize(
    "M,K,N",  # N <= 256 (rows 4 KiB apart or not), 256 < N < 1024; edges of MR, NR and kc
    [(1001, 300, 70), (77, 161, 128), (768, 512, 130), (64, 1024, 200), (40, 1000, 500), (9, 5, 3)],
)
def test_row_major_a_read_in_place_gives_the_packed_bits(mode, M, K, N):
    """On the AVX-512 path a row-major A is read in place (no packed panels) where N is
    small (ctg_a_direct); each C element is still the same FMA chain, so the result equals,
    bit for bit, the same product with A column-major (packed, or read in place by the
    column-major tiles where M <= 384), at 1 and 2 threads."""
    if not gemm.SGEMM_AVX512:
        pytest.skip("the in-place read is on the AVX-512 path only")
    rng = np.random.default_rng(M + K + N)
    nb = 3 if mode in ("reduce_batch", "batched") else 1
    a, b = rand(rng, nb, M, K), rand(rng, nb, K, N)
    a_cols = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)  # same values
    _same_bits_for_layouts(rng, mode, a, b, [(a_cols, b), (a, b)])


@pytest.mark.parametrize("mode", ["plain", "accumulate", "reduce_batch", "batched"])
@pytest.mark.parametrize(
    "M,K,N",  # few rows (B read in place), M % 8 <= 4 (the 4-row edge), ragged last panel
    [(20, 800, 200), (20, 200, 800), (4, 300, 70), (12, 513, 96), (32, 64, 1000), (1, 17, 33)],
)
def test_few_rows_read_b_in_place_and_4_row_edges_give_the_packed_bits(mode, M, K, N):
    """For a few rows the AVX-512 path reads a row-major B in place (ctg_b_direct) and a
    bottom edge of at most 4 rows read in place runs a 4-row tile; each C element is still
    the same FMA chain, so the result equals, bit for bit, the same product with both
    operands column-major (both packed, 8-row tiles), at 1 and 2 threads."""
    if not gemm.SGEMM_AVX512:
        pytest.skip("the in-place reads are on the AVX-512 path only")
    rng = np.random.default_rng(M + K + N)
    nb = 3 if mode in ("reduce_batch", "batched") else 1
    a, b = rand(rng, nb, M, K), rand(rng, nb, K, N)
    a_cols = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)  # same values
    b_cols = np.ascontiguousarray(b.transpose(0, 2, 1)).transpose(0, 2, 1)
    _same_bits_for_layouts(rng, mode, a, b, [(a_cols, b_cols), (a, b), (a, b_cols), (a_cols, b)])


@pytest.mark.parametrize("mode", ["plain", "accumulate", "reduce_batch", "batched"])
@pytest.mark.parametrize(
    "M,K,N",  # M % 8 != 0 (the packed bottom edge), K over kc, ragged and 1024+ columns
    [(64, 1024, 192), (65, 768, 128), (9, 300, 17), (384, 600, 100), (13, 513, 1030), (8, 1, 5)],
)
def test_column_major_a_read_in_place_gives_the_packed_bits(mode, M, K, N):
    """A column-major A whose columns are at most 384 floats apart (nn.Linear's weight
    gradient g^T @ x) is read in place by 8-row tiles, its bottom edge packed
    (ctg_a_direct == 2); each C element is still the same FMA chain, so the result equals,
    bit for bit, the same product with the columns 400+ floats apart (packed) and with A
    row-major, at 1 and 2 threads."""
    if not gemm.SGEMM_AVX512:
        pytest.skip("the in-place reads are on the AVX-512 path only")
    rng = np.random.default_rng(M + K + N)
    nb = 3 if mode in ("reduce_batch", "batched") else 1
    a, b = rand(rng, nb, M, K), rand(rng, nb, K, N)
    a_cols = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)  # lda = M
    wide = np.zeros((nb, K, M + 400), np.float32)
    wide[:, :, :M] = a.transpose(0, 2, 1)
    a_wide = wide[:, :, :M].transpose(0, 2, 1)  # lda = M + 400: packed
    assert a_cols.strides[1] == 4 and a_wide.strides[2] == 4 * (M + 400)
    _same_bits_for_layouts(rng, mode, a, b, [(a_wide, b), (a_cols, b), (a, b)])


@pytest.mark.parametrize("simd", SIMD)
@pytest.mark.parametrize(
    "M,K,N,layout",  # tiles straight into C and through the scratch tile; the tall path;
    # K = 0; a transposed (strided) output; batches
    [
        (1024, 64, 192, "plain"),
        (65, 300, 17, "plain"),
        (2000, 600, 40, "plain"),
        (33, 0, 20, "plain"),
        (40, 50, 70, "out-transposed"),
        (40, 300, 70, "batched"),
    ],
)
def test_bias_in_the_tiles_gives_the_bits_of_adding_it_after(simd, M, K, N, layout):
    """sgemm(..., bias=b) adds b to every row of out after its sum, tile by tile (nn.Linear's
    bias): bit for bit the product followed by one float32 addition of b, at 1 and 2 threads,
    with accumulate too."""
    rng = np.random.default_rng(M + K + N)
    nb = 3 if layout == "batched" else 1
    a, b = rand(rng, nb, M, K), rand(rng, nb, K, N)
    bias = rand(rng, N)
    base = rand(rng, nb, M, N)
    for acc in (False, True):
        ref = base.copy() if acc else np.empty_like(base)
        gemm.sgemm(a, b, ref, accumulate=acc, simd=simd)
        ref = ref + bias  # float32 + float32: one rounding, as the kernel
        for nt in (1, 2):
            if layout == "out-transposed":
                out = np.ascontiguousarray(base.transpose(0, 2, 1)).transpose(0, 2, 1)
            else:
                out = base.copy()
            if not acc:
                out[...] = np.nan  # every element must be written
            with threads(nt):
                gemm.sgemm(a, b, out, accumulate=acc, simd=simd, bias=bias)
            np.testing.assert_array_equal(out, ref)


def test_bias_length_is_checked():
    a, b = np.zeros((1, 4, 3), np.float32), np.zeros((1, 3, 5), np.float32)
    with pytest.raises(ValueError, match="sgemm: bias has 4 elements, expected 5"):
        gemm.sgemm(a, b, np.zeros((1, 4, 5), np.float32), bias=np.zeros(4, np.float32))


@pytest.mark.parametrize("shape", [(1024, 64, 192), (3, 50, 64, 65), (700, 512, 8)])
def test_linear_with_bias_gives_the_bits_of_matmul_then_add(shape):
    """nn.Linear's float32 forward adds its bias inside sgemm's tiles; the result is bit for
    bit x @ W^T followed by + b (as before the fusion)."""
    import ctorch

    *lead, K, N = shape
    rng = np.random.default_rng(1)
    x = ctorch.tensor(rand(rng, *lead, K))
    lin = ctorch.nn.Linear(K, N)
    with ctorch.no_grad():
        lin.bias.copy_(ctorch.tensor(rand(rng, N)))
        want = (x @ lin.weight.T) + lin.bias
    got = lin(x)
    np.testing.assert_array_equal(got.detach().numpy(), want.numpy())


@pytest.mark.parametrize("cap", [1, 2, 64])
def test_threads_cap_gives_the_same_bits(cap):
    """``threads=`` caps one call's OpenMP threads (an RNN's per-step products run on one);
    the result is the uncapped call's, bit for bit."""
    rng = np.random.default_rng(5)
    a, b = rand(rng, 1, 20, 200), rand(rng, 1, 200, 800)
    with threads(2):
        ref = np.empty((1, 20, 800), np.float32)
        gemm.sgemm(a, b, ref)
        out = np.empty_like(ref)
        gemm.sgemm(a, b, out, threads=cap)
    assert np.array_equal(ref, out)
    check(out, a, b)


def test_lstm_steps_match_across_thread_counts():
    """The LSTM's per-step products run capped to one thread: outputs and gradients equal
    the 1-thread run's bit for bit at 2 threads."""
    import ctorch

    results = []
    for nt in (1, 2):
        ctorch.manual_seed(0)
        m = ctorch.nn.LSTM(200, 200, 2)
        x = ctorch.randn(7, 20, 200, requires_grad=True)
        with threads(nt):
            out, _ = m(x)
            out.square().sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), m.weight_hh_l0.grad.numpy()))
    for u, v in zip(*results, strict=True):
        assert np.array_equal(u, v)
