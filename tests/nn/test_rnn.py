"""RNN / LSTM / GRU and cells: torch's parameter names, outputs and gradients vs torch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch import nn
from ctorch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _copy(ours, theirs):
    ours.load_state_dict(
        {k: ctorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    )


def _flat(out):
    if isinstance(out, tuple):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    return [out]


CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(batch_first=True, bias=False)),
    ("LSTM", dict(proj_size=3)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, bidirectional=True, batch_first=True)),
]


@needs_torch
@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnn_vs_torch(kind, kw, with_hx):
    import torch

    ours, theirs = getattr(nn, kind)(4, 6, **kw), getattr(torch.nn, kind)(4, 6, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs)
    rng = np.random.default_rng(0)
    T, B = 5, 3
    shape = (B, T, 4) if kw.get("batch_first") else (T, B, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    xc = ctorch.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    args_c, args_t = [xc], [xt]
    if with_hx:
        D = 2 if kw.get("bidirectional") else 1
        L = kw.get("num_layers", 1)
        hs = kw.get("proj_size", 0) or 6
        h0 = rng.standard_normal((L * D, B, hs)).astype(np.float32)
        if kind == "LSTM":
            c0 = rng.standard_normal((L * D, B, 6)).astype(np.float32)
            args_c.append((ctorch.from_numpy(h0.copy()), ctorch.from_numpy(c0.copy())))
            args_t.append((torch.from_numpy(h0.copy()), torch.from_numpy(c0.copy())))
        else:
            args_c.append(ctorch.from_numpy(h0.copy()))
            args_t.append(torch.from_numpy(h0.copy()))
    oc, ot = _flat(ours(*args_c)), _flat(theirs(*args_t))
    assert len(oc) == len(ot)
    loss_c = loss_t = 0
    for a, b in zip(oc, ot, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
        g = rng.standard_normal(tuple(b.shape)).astype(np.float32)
        loss_c = loss_c + (a * ctorch.from_numpy(g)).sum()
        loss_t = loss_t + (b * torch.from_numpy(g)).sum()
    loss_c.backward()
    loss_t.backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tp[n].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=n
        )


@needs_torch
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_vs_torch(kind):
    import torch

    ours, theirs = getattr(nn, kind)(5, 4), getattr(torch.nn, kind)(5, 4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs)
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    xc = ctorch.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    # two steps, feeding the state back
    sc, st = None, None
    for _ in range(2):
        sc = ours(xc, sc)
        st = theirs(xt, st)
    oc, ot = _flat(sc), _flat(st)
    for a, b in zip(oc, ot, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    sum(o.sum() for o in oc).backward()
    sum(o.sum() for o in ot).backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    # unbatched
    y = ours(ctorch.from_numpy(x[0].copy()))
    assert _flat(y)[0].shape == (4,)


def test_lstm_gates_gradcheck():
    from ctorch.nn.modules.rnn import _GRUGates, _LSTMGates

    g = ctorch.randn(3, 8, dtype=ctorch.float64, requires_grad=True)
    c = ctorch.randn(3, 2, dtype=ctorch.float64, requires_grad=True)
    hh = ctorch.randn(3, 8, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda a, b: _LSTMGates.apply(a, None, b), (g, c))
    assert ctorch.autograd.gradcheck(lambda a, b, d: _LSTMGates.apply(a, b, d), (g, hh, c))
    assert ctorch.autograd.gradgradcheck(lambda a, b, d: _LSTMGates.apply(a, b, d), (g, hh, c))
    gi = ctorch.randn(3, 6, dtype=ctorch.float64, requires_grad=True)
    gh = ctorch.randn(3, 6, dtype=ctorch.float64, requires_grad=True)
    h = ctorch.randn(3, 2, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda a, b, d: _GRUGates.apply(a, b, d), (gi, gh, h))


@pytest.mark.parametrize("dtype", [ctorch.float32, ctorch.float64])
def test_lstm_fused_gates_match_the_numpy_formulas(monkeypatch, dtype):
    """The fused kernel (ctorch._core.nnmisc.lstm_gates_*) against the NumPy expressions it
    replaced on the CPU (still the path for CuPy and 16-bit arrays), forward and backward,
    with large, tiny and NaN pre-activations."""
    from ctorch.nn.modules import rnn

    rng = np.random.default_rng(0)
    xg = rng.standard_normal((5, 4 * 7)) * 4
    xg[0, :4] = [100.0, -100.0, np.nan, 1e-30]
    hh = rng.standard_normal((5, 4 * 7))
    c = rng.standard_normal((5, 7))
    gh, gc = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))

    def run():
        ts = [ctorch.tensor(a, dtype=dtype, requires_grad=True) for a in (xg, hh, c)]
        h, c2 = rnn._LSTMGates.apply(*ts)
        ctorch.autograd.backward(
            [h, c2], [ctorch.tensor(gh, dtype=dtype), ctorch.tensor(gc, dtype=dtype)]
        )
        return [h.detach().numpy(), c2.detach().numpy()] + [t.grad.numpy() for t in ts]

    zeros = np.zeros((1, 4), np.float32), None, np.zeros((1, 1), np.float32)
    assert rnn._rnn_kernels(*zeros, "lstm_gates_forward")
    fused = run()
    monkeypatch.setattr(rnn, "_rnn_kernels", lambda *a: None)
    ref = run()
    tol = 1e-6 if dtype == ctorch.float32 else 1e-13
    for a, b in zip(fused, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert np.isnan(fused[0][0]).any() and np.isnan(ref[0][0]).any()


@pytest.mark.parametrize("dtype", [ctorch.float32, ctorch.float64])
def test_gru_fused_gates_match_the_numpy_formulas(monkeypatch, dtype):
    from ctorch.nn.modules import rnn

    rng = np.random.default_rng(1)
    gi = rng.standard_normal((4, 3 * 6)) * 4
    gi[0, :3] = [100.0, -100.0, np.nan]
    gh = rng.standard_normal((4, 3 * 6))
    h = rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))

    def run():
        ts = [ctorch.tensor(a, dtype=dtype, requires_grad=True) for a in (gi, gh, h)]
        out = rnn._GRUGates.apply(*ts)
        out.backward(ctorch.tensor(g, dtype=dtype))
        return [out.detach().numpy()] + [t.grad.numpy() for t in ts]

    assert rnn._rnn_kernels(gi, gh, h, "gru_gates_forward") is not None
    fused = run()
    monkeypatch.setattr(rnn, "_rnn_kernels", lambda *a: None)
    ref = run()
    tol = 1e-6 if dtype == ctorch.float32 else 1e-13
    for a, b in zip(fused, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert np.isnan(fused[0][0, 2])


def test_gru_gates_gradgradcheck():
    from ctorch.nn.modules.rnn import _GRUGates

    ts = [ctorch.randn(3, n, dtype=ctorch.float64, requires_grad=True) for n in (6, 6, 2)]
    assert ctorch.autograd.gradgradcheck(lambda a, b, d: _GRUGates.apply(a, b, d), tuple(ts))


@pytest.mark.parametrize("dtype", [ctorch.float32, ctorch.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_layer_node_is_bitwise_the_step_by_step_graph(monkeypatch, dtype, bidirectional, bias):
    """nn.LSTM's layers as single _LSTMLayer nodes (MkldnnRnnLayerBackward0, torch's name)
    give the same bits as the one-node-per-op path, forward and every gradient but those of
    weight_hh/bias_hh: the node sums those over all steps in one product / column sum (as
    torch's fused layer), the step path step by step, so they agree to rounding."""
    from ctorch.nn.modules import rnn

    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 3, 5))
    h0 = rng.standard_normal((4 if bidirectional else 2, 3, 6))
    c0 = rng.standard_normal(h0.shape)
    gys = [rng.standard_normal(s) for s in ((7, 3, 12 if bidirectional else 6), h0.shape, h0.shape)]

    def run():
        ctorch.manual_seed(0)
        m = nn.LSTM(5, 6, 2, bias=bias, bidirectional=bidirectional).to(dtype)
        ts = [ctorch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, h0, c0)]
        out, (h, c) = m(ts[0], (ts[1], ts[2]))
        ctorch.autograd.backward([out, h, c], [ctorch.tensor(g, dtype=dtype) for g in gys])
        res = [out.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
        res += [t.grad.numpy() for t in ts]
        res += [(n, p.grad.numpy()) for n, p in m.named_parameters()]
        return res, out.grad_fn.name()

    fused, name = run()
    assert name == ("CatBackward0" if bidirectional else "MkldnnRnnLayerBackward0")
    monkeypatch.setattr(rnn, "_lstm_layer_fused", lambda *a: False)
    steps, _ = run()
    tol = 1e-5 if dtype == ctorch.float32 else 1e-13
    for a, b in zip(fused, steps, strict=True):
        if isinstance(a, tuple):
            assert a[0] == b[0]
            if "_hh_" in a[0]:
                np.testing.assert_allclose(a[1], b[1], rtol=tol, atol=tol)
                continue
            a, b = a[1], b[1]
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_layer_c_loop_is_bitwise_the_python_loop(monkeypatch, bidirectional, bias, threads):
    """float32 layers whose per-step products go to the sgemm run their time loop in C
    (ctorch._core.gemm.lstm_layer_forward/backward, one OpenMP region: each step's product
    split by columns over the threads): the same bits as the Python loop, every output and
    gradient, at 1 and 2 threads, and torch's values."""
    from ctorch.nn.modules import rnn

    before = ctorch.get_num_threads()
    ctorch.set_num_threads(threads)
    monkeypatch.setattr(rnn, "_loop_threads", lambda a: 0)  # the region at every size

    T, B, I, H = 9, 16, 40, 64  # B * H * 4H = 2**18: the smallest product on the sgemm
    rng = np.random.default_rng(5)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    h0 = rng.standard_normal((2 * D, B, H)).astype(np.float32)
    c0 = rng.standard_normal(h0.shape).astype(np.float32)
    gys = [rng.standard_normal(s).astype(np.float32) for s in ((T, B, D * H), h0.shape, h0.shape)]
    assert rnn._c_loop(np.zeros((T, B, 4 * H), np.float32), ctorch.zeros(4 * H, H)) is not None

    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.LSTM(I, H, 2, bias=bias, bidirectional=bidirectional)
        if lib is not ctorch:
            with lib.no_grad():
                for (_, p), (_, q) in zip(m.named_parameters(), ref_params, strict=True):
                    p.copy_(lib.from_numpy(q))
        ts = [lib.tensor(a, requires_grad=True) for a in (x, h0, c0)]
        out, (h, c) = m(ts[0], (ts[1], ts[2]))
        lib.autograd.backward([out, h, c], [lib.tensor(g) for g in gys])
        res = [out.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
        return res + [t.grad.numpy() for t in ts] + [p.grad.numpy() for p in m.parameters()]

    ctorch.manual_seed(0)
    ref_params = [(n, p.detach().numpy().copy()) for n, p in
                  nn.LSTM(I, H, 2, bias=bias, bidirectional=bidirectional).named_parameters()]  # fmt: skip
    try:
        c_loop = run(ctorch)
        monkeypatch.setattr(rnn, "_c_loop", lambda *a: None)
        py_loop = run(ctorch)
    finally:
        ctorch.set_num_threads(before)
    for a, b in zip(c_loop, py_loop, strict=True):
        np.testing.assert_array_equal(a, b)
    if HAS_TORCH:
        import torch

        for a, b in zip(c_loop, run(torch), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4)


def test_lstm_layer_node_double_backward():
    lstm = nn.LSTM(2, 3, 1).double()
    x = ctorch.randn(4, 2, 2, dtype=ctorch.float64, requires_grad=True)
    h0 = ctorch.randn(1, 2, 3, dtype=ctorch.float64, requires_grad=True)
    c0 = ctorch.randn(1, 2, 3, dtype=ctorch.float64, requires_grad=True)
    f = lambda x, h, c: lstm(x, (h, c))[0]  # noqa: E731
    assert lstm(x, (h0, c0))[0].grad_fn.name() == "MkldnnRnnLayerBackward0"
    assert ctorch.autograd.gradcheck(f, (x, h0, c0))
    assert ctorch.autograd.gradgradcheck(f, (x, h0, c0))


def test_lstm_gates_leaf_grads_are_not_aliased():
    from ctorch.nn.modules.rnn import _LSTMGates

    xg = ctorch.randn(2, 8, requires_grad=True)
    hh = ctorch.randn(2, 8, requires_grad=True)
    c = ctorch.randn(2, 2)
    for _ in range(2):
        h, _c = _LSTMGates.apply(xg, hh, c)
        h.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), hh.grad.numpy())
    xg.grad.add_(1.0)
    assert not np.array_equal(xg.grad.numpy(), hh.grad.numpy())


def test_lstm_gradcheck_float64():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = ctorch.randn(4, 2, 2, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda x: lstm(x)[0], (x,))


def test_shapes_unbatched_and_errors():
    lstm = nn.LSTM(3, 5, num_layers=2)
    out, (h, c) = lstm(ctorch.randn(7, 3))
    assert out.shape == (7, 5) and h.shape == (2, 5) and c.shape == (2, 5)
    gru = nn.GRU(3, 5, batch_first=True, bidirectional=True)
    out, h = gru(ctorch.randn(2, 7, 3))
    assert out.shape == (2, 7, 10) and h.shape == (2, 2, 5)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(ctorch.randn(7, 2, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(3, 5)(ctorch.randn(4, 2, 3), ctorch.zeros(1, 3, 5))
    with pytest.warns(UserWarning, match="dropout"):
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ValueError):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    lstm.flatten_parameters()
    assert len(lstm.all_weights) == 2 and len(lstm.all_weights[0]) == 4


@needs_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize(
    "x_shape, batch_first, hx_shapes",
    [
        ((0, 3, 4), False, None),  # no time steps
        ((0, 4), False, None),  # unbatched, no time steps
        ((3, 0, 4), True, None),  # batch_first: no time steps
        ((2, 3, 4), False, [(1, 2, 6), (1, 3, 6)]),  # h0 of the wrong batch
        ((0, 3, 4), False, [(1, 2, 6), (1, 3, 6)]),  # both: torch checks the sizes first
    ],
)
def test_rnn_errors_match_torch(kind, x_shape, batch_first, hx_shapes):
    import torch

    msgs = []
    for lib in (torch, ctorch):
        m = getattr(lib.nn, kind)(4, 6, batch_first=batch_first)
        hx = None
        if hx_shapes is not None:
            hx = tuple(lib.zeros(*s) for s in hx_shapes)
            hx = hx if kind == "LSTM" else hx[0]
        with pytest.raises(RuntimeError) as e:
            m(lib.zeros(*x_shape), hx)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@needs_torch
def test_lstm_cell_state_size_error_matches_torch():
    import torch

    msgs = []
    for lib in (torch, ctorch):
        with pytest.raises(RuntimeError) as e:
            lib.nn.LSTM(4, 6)(lib.zeros(2, 3, 4), (lib.zeros(1, 3, 6), lib.zeros(1, 2, 6)))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] == "Expected hidden[1] size (1, 3, 6), got [1, 2, 6]"


def test_rnn_dropout_only_in_training():
    ctorch.manual_seed(0)
    m = nn.LSTM(3, 8, num_layers=3, dropout=0.5)
    x = ctorch.randn(5, 2, 3)
    m.eval()
    a = m(x)[0].detach().numpy()
    b = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    c = m(x)[0].detach().numpy()
    assert not np.allclose(a, c)


def test_pad_and_pack_sequence():
    seqs = [ctorch.ones(3, 2), ctorch.ones(1, 2) * 2, ctorch.ones(2, 2) * 3]
    p = pad_sequence(seqs)
    assert p.shape == (3, 3, 2)
    assert p.numpy()[2, 1].sum() == 0 and p.numpy()[0, 1, 0] == 2
    assert pad_sequence(seqs, batch_first=True, padding_value=-1).shape == (3, 3, 2)
    lengths = ctorch.tensor([3, 1, 2])
    packed = pack_padded_sequence(p, lengths, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    unpacked, lens = pad_packed_sequence(packed)
    np.testing.assert_array_equal(unpacked.numpy(), p.numpy())
    assert lens.tolist() == [3, 1, 2]
    with pytest.raises(RuntimeError, match="sorted"):
        pack_padded_sequence(p, lengths)


@needs_torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_packed_input_vs_torch(kind):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence as tpack
    from torch.nn.utils.rnn import pad_packed_sequence as tpad

    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    _copy(ours, theirs)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 3)).astype(np.float32)
    lengths = [2, 5, 3]
    xc = ctorch.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    oc, hc = ours(pack_padded_sequence(xc, ctorch.tensor(lengths), enforce_sorted=False))
    ot, ht = theirs(tpack(xt, torch.tensor(lengths), enforce_sorted=False))
    pc, lc = pad_packed_sequence(oc)
    pt, lt = tpad(ot)
    assert lc.tolist() == lt.tolist()
    np.testing.assert_allclose(pc.detach().numpy(), pt.detach().numpy(), rtol=1e-4, atol=1e-5)
    hc0 = hc[0] if kind == "LSTM" else hc
    ht0 = ht[0] if kind == "LSTM" else ht
    np.testing.assert_allclose(hc0.detach().numpy(), ht0.detach().numpy(), rtol=1e-4, atol=1e-5)
    (pc.sum() + hc0.sum()).backward()
    (pt.sum() + ht0.sum()).backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_lstm_language_model_trains():
    ctorch.manual_seed(0)
    emb, lstm, head = nn.Embedding(10, 8), nn.LSTM(8, 16), nn.Linear(16, 10)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
    seq = ctorch.tensor([[i % 10] for i in range(12)])
    inp, tgt = seq[:-1], seq[1:].reshape(-1)
    first = None
    for _ in range(60):
        out, _ = lstm(emb(inp))
        loss = nn.functional.cross_entropy(head(out).reshape(-1, 10), tgt)
        for p in params:
            p.grad = None
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        with ctorch.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first


@pytest.mark.parametrize("dtype", [ctorch.float32, ctorch.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    "kind,kw",
    [
        ("GRU", {"bias": True}),
        ("GRU", {"bias": False}),
        ("RNN", {"nonlinearity": "tanh"}),
        ("RNN", {"nonlinearity": "relu"}),
    ],
)
def test_gru_and_rnn_layer_nodes_match_the_step_by_step_graph(
    monkeypatch, dtype, bidirectional, kind, kw
):
    """nn.GRU's and nn.RNN's layers as single _GRULayer/_RNNLayer nodes give the
    step-by-step graph's forward bits; their gradients agree to rounding (h_t's gradient
    terms are added in another order, and weight_hh/bias_hh's are one product / column sum
    over all steps); the output node has torch's name."""
    from ctorch.nn.modules import rnn

    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 3, 5))
    h0 = rng.standard_normal((4 if bidirectional else 2, 3, 6))
    gys = [rng.standard_normal(s) for s in ((7, 3, 12 if bidirectional else 6), h0.shape)]

    def run():
        ctorch.manual_seed(0)
        m = getattr(nn, kind)(5, 6, 2, bidirectional=bidirectional, **kw).to(dtype)
        ts = [ctorch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, h0)]
        out, h = m(ts[0], ts[1])
        ctorch.autograd.backward([out, h], [ctorch.tensor(g, dtype=dtype) for g in gys])
        res = [out.detach().numpy(), h.detach().numpy()]
        grads = [t.grad.numpy() for t in ts] + [p.grad.numpy() for _, p in m.named_parameters()]
        return res, grads, out.grad_fn.name()

    fused_out, fused_g, name = run()
    assert name == ("CatBackward0" if bidirectional else "StackBackward0")  # torch's names
    monkeypatch.setattr(rnn, "_lstm_layer_fused", lambda *a: False)
    step_out, step_g, _ = run()
    for a, b in zip(fused_out, step_out, strict=True):
        np.testing.assert_array_equal(a, b)
    tol = 2e-5 if dtype == ctorch.float32 else 1e-12
    for a, b in zip(fused_g, step_g, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "kind,kw,node",
    [
        ("GRU", {}, "_GRULayer"),
        ("RNN", {"nonlinearity": "tanh"}, "_RNNLayer"),
        ("RNN", {"nonlinearity": "relu"}, "_RNNLayer"),
    ],
)
def test_gru_and_rnn_layer_nodes_gradcheck_and_double_backward(kind, kw, node):
    from ctorch.nn.modules import rnn

    m = getattr(nn, kind)(2, 3, 1, **kw).double()
    x = ctorch.randn(4, 2, 2, dtype=ctorch.float64, requires_grad=True)
    h0 = ctorch.randn(1, 2, 3, dtype=ctorch.float64, requires_grad=True)
    f = lambda x, h: m(x, h)[0]  # noqa: E731
    assert isinstance(m(x, h0)[0].grad_fn, getattr(rnn, node)._backward_cls)
    assert ctorch.autograd.gradcheck(f, (x, h0))
    assert ctorch.autograd.gradgradcheck(f, (x, h0))
