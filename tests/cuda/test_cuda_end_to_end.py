"""CUDA tensors end to end, as a user holds them: creation, the op table, reductions, shape and
indexing ops, nn layers, losses, optimizers and whole training steps run on ``device`` and are
compared with the same program on the CPU.

Every test runs for ``cpu`` too (so the test logic itself is exercised on machines without a
GPU, where the ``cuda`` cases skip); the ``cuda`` case needs a usable GPU with CuPy.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from test_optable import DOMAIN, PIECEWISE_CONSTANT

import ctorch
import ctorch.nn.functional as F
from ctorch import _table, nn

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def _np(t):
    return t.detach().cpu().numpy()


def _close(got, want, dtype=np.float32, **kw):
    tol = dict(TOL[dtype])
    tol.update(kw)
    np.testing.assert_allclose(_np(got), _np(want), **tol)


def _pair(arr, device, requires_grad=False):
    """The same NumPy data as a CPU tensor and as a tensor on ``device``."""
    a = ctorch.tensor(arr, requires_grad=requires_grad)
    b = ctorch.tensor(arr, device=device, requires_grad=requires_grad)
    return a, b


# ------------------------------------------------------------------------------ creation
@pytest.mark.parametrize("device", DEVICES)
def test_creation_and_transfer(device):
    dev = ctorch.device(device)
    for t in (
        ctorch.zeros(2, 3, device=device),
        ctorch.ones(4, device=device, dtype=ctorch.float64),
        ctorch.full((2, 2), 7.0, device=device),
        ctorch.arange(10, device=device),
        ctorch.linspace(0, 1, 5, device=device),
        ctorch.eye(3, device=device),
        ctorch.empty(3, device=device),
        ctorch.rand(3, device=device),
        ctorch.randn(3, device=device),
        ctorch.randint(0, 5, (3,), device=device),
        ctorch.tensor([1.0, 2.0], device=device),
    ):
        assert t.device.type == dev.type
        assert t.is_cuda == (device == "cuda")
    x = ctorch.arange(6.0).reshape(2, 3)
    y = x.to(device)
    assert y.device.type == device and y.shape == (2, 3) and y.dtype == x.dtype
    np.testing.assert_array_equal(_np(y), _np(x))
    z = ctorch.zeros_like(y)
    assert z.device.type == device
    assert ctorch.ones_like(y).sum().item() == 6.0
    assert y.tolist() == x.tolist()
    assert y[1, 2].item() == 5.0
    assert y.cpu().device.type == "cpu"
    assert y.to("cpu", ctorch.float64).dtype == ctorch.float64
    assert y.double().device.type == device
    w = y.new_zeros(4)
    assert w.device.type == device
    if device == "cuda":
        assert x.cuda().is_cuda and x.cuda(0).device.index == 0
        with pytest.raises(TypeError, match="cuda"):
            y.numpy()


@pytest.mark.parametrize("device", DEVICES)
def test_mixed_devices_are_an_error(device):
    if device == "cpu":
        pytest.skip("needs two devices")
    a = ctorch.ones(3)
    b = ctorch.ones(3, device=device)
    with pytest.raises(RuntimeError, match="device"):
        a + b
    with pytest.raises(RuntimeError, match="device"):
        ctorch.matmul(ctorch.ones(2, 2), ctorch.ones(2, 2, device=device))


# ------------------------------------------------------------------------------ the op table
UNARY = [op for op in _table.UNARY if op.public and not op.nn_only]
BINARY = [op for op in _table.BINARY if op.public and not op.nn_only]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", UNARY + BINARY, ids=[op.public for op in UNARY + BINARY])
def test_table_op_forward_backward(op, dtype, device):
    low, high = DOMAIN.get(op.public, (-2.0, 2.0))
    rng = np.random.default_rng(0)
    n_in = 1 if op.kind == "unary" else 2
    arrs = [rng.uniform(low, high, (33, 40)).astype(dtype) for _ in range(n_in)]
    pairs = [_pair(a, device, requires_grad=True) for a in arrs]
    fn = getattr(ctorch, op.public)
    want = fn(*[p[0] for p in pairs])
    got = fn(*[p[1] for p in pairs])
    assert got.device.type == device and got.dtype == want.dtype
    _close(got, want, dtype)
    if op.public in PIECEWISE_CONSTANT:
        return
    g = rng.standard_normal((33, 40)).astype(dtype)
    want.backward(ctorch.tensor(g))
    got.backward(ctorch.tensor(g, device=device))
    for a, b in pairs:
        assert b.grad.device.type == device
        _close(b.grad, a.grad, dtype, rtol=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_broadcast_scalars_inplace_and_compare(device):
    rng = np.random.default_rng(1)
    a_np = rng.standard_normal((4, 1, 5)).astype(np.float32)
    b_np = rng.standard_normal((3, 1)).astype(np.float32)
    (a, ga), (b, gb) = _pair(a_np, device), _pair(b_np, device)
    for f in (
        lambda x, y: x + y,
        lambda x, y: x * y - 2.5,
        lambda x, y: 3.0 / (x.abs() + 1) + y,
        lambda x, y: (x > y).float(),
        lambda x, y: ctorch.where(x > 0, x, y),
        lambda x, y: ctorch.maximum(x, y),
        lambda x, y: x.clamp(-0.5, 0.5) * y.clamp(min=0),
        lambda x, y: (x**2 + y**3).sqrt(),
    ):
        _close(f(ga, gb), f(a, b))
    ga2, a2 = ga.clone(), a.clone()
    ga2.mul_(2).add_(1).clamp_(max=1.0)
    a2.mul_(2).add_(1).clamp_(max=1.0)
    _close(ga2, a2)
    i = ctorch.tensor([[1, 2], [3, 4]], device=device)
    assert (i * 2 + 1).tolist() == [[3, 5], [7, 9]]
    assert (i // 2).tolist() == [[0, 1], [1, 2]]
    assert ((i % 3) == 1).tolist() == [[True, False], [False, True]]
    assert (i == i).all().item() and not (i != i).any().item()


# ------------------------------------------------------------------------------ reductions
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reductions(device, dtype):
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((37, 65)).astype(dtype)
    x, gx = _pair(x_np, device, requires_grad=True)
    for f in (
        lambda t: t.sum(),
        lambda t: t.mean(),
        lambda t: t.sum(0),
        lambda t: t.sum(1, keepdim=True),
        lambda t: t.mean(-1),
        lambda t: t.var(0),
        lambda t: t.std(1, unbiased=False),
        lambda t: t.max(),
        lambda t: t.max(1).values,
        lambda t: t.min(0)[0],
        lambda t: t.amax(1),
        lambda t: t.logsumexp(1),
        lambda t: t.norm(),
        lambda t: t.norm(dim=0),
        lambda t: t.prod(1),
        lambda t: t.cumsum(1),
        lambda t: t.abs().cumprod(0),
        lambda t: F.softmax(t, 1),
        lambda t: F.log_softmax(t, 0),
    ):
        w, gt = f(x), f(gx)
        assert gt.device.type == device
        _close(gt, w, dtype, rtol=1e-4 if dtype == np.float32 else 1e-10)
        w.sum().backward()
        gt.sum().backward()
        _close(gx.grad, x.grad, dtype, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)
        x.grad = None
        gx.grad = None
    assert gx.argmax().item() == x.argmax().item()
    assert gx.argmin(1).tolist() == x.argmin(1).tolist()
    assert _np(gx.detach().sort(1).indices).tolist() == _np(x.detach().sort(1).indices).tolist()
    tv, ti = gx.detach().topk(5, 1)
    wv, wi = x.detach().topk(5, 1)
    _close(tv, wv, dtype)
    assert ti.tolist() == wi.tolist()
    big = ctorch.ones(10_000_000, device=device)
    assert big.sum().item() == 10_000_000.0


# ------------------------------------------------------------------------------ shape/index
@pytest.mark.parametrize("device", DEVICES)
def test_shape_and_indexing(device):
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((4, 6, 5)).astype(np.float32)
    x, gx = _pair(x_np, device, requires_grad=True)
    idx = [0, 3, 1]
    for f in (
        lambda t: t.view(24, 5),
        lambda t: t.reshape(-1),
        lambda t: t.permute(2, 0, 1).contiguous(),
        lambda t: t.transpose(0, 2) * 2,
        lambda t: t[1:3, ::2, -1],
        lambda t: t[:, idx],
        lambda t: t[t > 0.5],
        lambda t: t[..., None].expand(4, 6, 5, 2),
        lambda t: ctorch.cat([t, t * 2], 1),
        lambda t: ctorch.stack([t, -t], 0),
        lambda t: t.split(2, 1)[1],
        lambda t: t.chunk(3, 1)[2],
        lambda t: t.unsqueeze(1).squeeze(1),
        lambda t: t.flip(0, 2),
        lambda t: t.repeat(2, 1, 1),
        lambda t: t.flatten(1),
        lambda t: t.index_select(1, ctorch.tensor(idx, device=t.device)),
        lambda t: t.gather(2, ctorch.tensor(np.zeros((4, 6, 2), np.int64), device=t.device)),
        lambda t: t.masked_fill(t < 0, 0.0),
        lambda t: t.roll(2, 1),
        lambda t: ctorch.tril(t[0]),
        lambda t: t.narrow(1, 2, 3),
        lambda t: t.unbind(0)[2],
    ):
        w, gt = f(x), f(gx)
        assert gt.device.type == device
        _close(gt, w)
        w.sum().backward()
        gt.sum().backward()
        _close(gx.grad, x.grad)
        x.grad = None
        gx.grad = None
    # writes
    a = ctorch.zeros(5, 4, device=device)
    a[1] = 3.0
    a[:, 2] = ctorch.arange(5.0, device=device)
    a[a > 3.5] = -1.0
    a.index_add_(0, ctorch.tensor([0, 0], device=device), ctorch.ones(2, 4, device=device))
    s = ctorch.zeros(3, 4, device=device).scatter_(
        0, ctorch.tensor([[0, 1, 2, 0]], device=device), 5.0
    )
    want = ctorch.zeros(5, 4)
    want[1] = 3.0
    want[:, 2] = ctorch.arange(5.0)
    want[want > 3.5] = -1.0
    want.index_add_(0, ctorch.tensor([0, 0]), ctorch.ones(2, 4))
    _close(a, want)
    assert s.sum().item() == 20.0
    assert ctorch.nonzero(a > 0).tolist() == ctorch.nonzero(want > 0).tolist()
    with pytest.raises(IndexError):
        a[7]


# ------------------------------------------------------------------------------ linear algebra
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_family(device, dtype):
    rng = np.random.default_rng(4)
    a_np = rng.standard_normal((3, 17, 33)).astype(dtype)
    b_np = rng.standard_normal((3, 33, 9)).astype(dtype)
    (a, ga), (b, gb) = _pair(a_np, device, True), _pair(b_np, device, True)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}
    for f in (
        lambda x, y: x @ y,
        lambda x, y: ctorch.bmm(x, y),
        lambda x, y: ctorch.matmul(x[0], y[0]),
        lambda x, y: ctorch.einsum("bij,bjk->bik", x, y),
        lambda x, y: F.linear(x, y[0].t(), y[0, 0]),
        lambda x, y: x[0] @ y[0, :, 0],
    ):
        w, gt = f(a, b), f(ga, gb)
        _close(gt, w, dtype, **tol)
        w.sum().backward()
        gt.sum().backward()
        _close(ga.grad, a.grad, dtype, **tol)
        _close(gb.grad, b.grad, dtype, **tol)
        for t in (a, b, ga, gb):
            t.grad = None


# ------------------------------------------------------------------------------ nn layers
def _module_pair(build, device, seed=0):
    ctorch.manual_seed(seed)
    m_cpu = build()
    ctorch.manual_seed(seed)
    m_dev = build().to(device)
    return m_cpu, m_dev


LAYERS = {
    "conv2d": (lambda: nn.Conv2d(3, 8, 3, padding=1), (2, 3, 12, 12)),
    "conv2d_stride_dil": (lambda: nn.Conv2d(3, 4, 3, stride=2, dilation=2), (2, 3, 15, 15)),
    "conv2d_groups": (lambda: nn.Conv2d(4, 8, 3, groups=2, bias=False), (2, 4, 9, 9)),
    "conv1d": (lambda: nn.Conv1d(3, 5, 4, padding=2), (2, 3, 20)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(4, 3, 3, stride=2), (2, 4, 6, 6)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    "maxpool2d_pad": (lambda: nn.MaxPool2d(3, 2, 1), (2, 3, 9, 9)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, 2, 1), (2, 3, 9, 9)),
    "adaptive_avg": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 9, 7)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(6), (8, 6)),
    "layernorm": (lambda: nn.LayerNorm(10), (4, 7, 10)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), (3, 4, 5, 5)),
    "linear_gelu": (lambda: nn.Sequential(nn.Linear(10, 12), nn.GELU()), (5, 10)),
    "silu_tanh": (lambda: nn.Sequential(nn.SiLU(), nn.Tanh(), nn.Softplus()), (5, 10)),
    "lstm": (lambda: nn.LSTM(6, 8, batch_first=True), (3, 5, 6)),
    "gru": (lambda: nn.GRU(6, 8), (5, 3, 6)),
    "mha": (lambda: nn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8)),
    "upsample": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 5, 5)),
    "embedding": (lambda: nn.Embedding(20, 6, padding_idx=0), None),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_forward_backward(name, device):
    build, shape = LAYERS[name]
    m_cpu, m_dev = _module_pair(build, device)
    rng = np.random.default_rng(5)
    if shape is None:
        x_np = rng.integers(0, 20, (4, 7))
        x, gx = ctorch.tensor(x_np), ctorch.tensor(x_np, device=device)
    else:
        x, gx = _pair(rng.standard_normal(shape).astype(np.float32), device, True)

    def run(m, t):
        if name == "mha":
            return m(t, t, t)[0]
        out = m(t)
        return out[0] if isinstance(out, tuple) else out

    w, gt = run(m_cpu, x), run(m_dev, gx)
    assert gt.device.type == device
    _close(gt, w, rtol=1e-4, atol=1e-5)
    w.pow(2).sum().backward()
    gt.pow(2).sum().backward()
    if shape is not None:
        _close(gx.grad, x.grad, rtol=1e-4, atol=1e-4)
    for (n1, p1), (_, p2) in zip(m_cpu.named_parameters(), m_dev.named_parameters(), strict=True):
        assert p2.grad is not None and p2.grad.device.type == device, n1
        _close(p2.grad, p1.grad, rtol=1e-4, atol=1e-4, err_msg=n1)
    for (n1, b1), (_, b2) in zip(m_cpu.named_buffers(), m_dev.named_buffers(), strict=True):
        _close(b2, b1, rtol=1e-5, atol=1e-6, err_msg=n1)


@pytest.mark.parametrize("device", DEVICES)
def test_functional_losses(device):
    rng = np.random.default_rng(6)
    logits_np = rng.standard_normal((16, 10)).astype(np.float32)
    target_np = rng.integers(0, 10, 16)
    prob_np = rng.uniform(0.05, 0.95, (16, 10)).astype(np.float32)
    for f in (
        lambda x, y, p: F.cross_entropy(x, y),
        lambda x, y, p: F.cross_entropy(x, y, label_smoothing=0.1, reduction="sum"),
        lambda x, y, p: F.nll_loss(F.log_softmax(x, 1), y),
        lambda x, y, p: F.mse_loss(x, p),
        lambda x, y, p: F.l1_loss(x, p),
        lambda x, y, p: F.smooth_l1_loss(x, p),
        lambda x, y, p: F.binary_cross_entropy(x.sigmoid(), p),
        lambda x, y, p: F.binary_cross_entropy_with_logits(x, p),
        lambda x, y, p: F.kl_div(F.log_softmax(x, 1), p, reduction="batchmean"),
        lambda x, y, p: F.huber_loss(x, p, delta=0.5),
    ):
        x, gx = _pair(logits_np, device, True)
        y, gy = ctorch.tensor(target_np), ctorch.tensor(target_np, device=device)
        p, gp = ctorch.tensor(prob_np), ctorch.tensor(prob_np, device=device)
        w, gt = f(x, y, p), f(gx, gy, gp)
        assert gt.device.type == device
        _close(gt, w, rtol=1e-5)
        w.backward()
        gt.backward()
        _close(gx.grad, x.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_and_random_on_device(device):
    ctorch.manual_seed(0)
    x = ctorch.ones(10000, device=device, requires_grad=True)
    y = F.dropout(x, 0.25)
    kept = (y != 0).float().mean().item()
    assert 0.7 < kept < 0.8
    np.testing.assert_allclose(np.unique(_np(y)), [0.0, 1 / 0.75], rtol=1e-6)
    y.sum().backward()
    _close(x.grad, y.detach())
    r = ctorch.randn(100000, device=device)
    assert abs(r.mean().item()) < 0.02 and abs(r.std().item() - 1) < 0.02
    ctorch.manual_seed(3)
    a = ctorch.rand(5, device=device)
    ctorch.manual_seed(3)
    b = ctorch.rand(5, device=device)
    assert a.tolist() == b.tolist()


# ------------------------------------------------------------------------------ training
def _mlp():
    return nn.Sequential(
        nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 5)
    )


def _cnn():
    return nn.Sequential(
        # no bias before the batch norm: its gradient is zero up to rounding, which Adam,
        # RMSprop and Adagrad normalise into full-size steps of arbitrary sign (the first GPU
        # run failed there on rounding noise, not on a GPU error)
        nn.Conv2d(1, 6, 3, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.0),
        nn.Linear(32, 5),
    )


OPTS = {
    "sgd_momentum": lambda p: ctorch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: ctorch.optim.Adam(p, lr=1e-2),
    "adamw_amsgrad": lambda p: ctorch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda p: ctorch.optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "adagrad": lambda p: ctorch.optim.Adagrad(p, lr=0.05),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opt", list(OPTS))
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_training_follows_cpu(model, opt, device):
    build, shape = (_mlp, (16, 20)) if model == "mlp" else (_cnn, (8, 1, 10, 10))
    m_cpu, m_dev = _module_pair(build, device)
    o_cpu, o_dev = OPTS[opt](m_cpu.parameters()), OPTS[opt](m_dev.parameters())
    sched = ctorch.optim.lr_scheduler.StepLR(o_dev, 2, 0.5)
    sched_cpu = ctorch.optim.lr_scheduler.StepLR(o_cpu, 2, 0.5)
    rng = np.random.default_rng(7)
    losses = []
    for _ in range(6):
        x_np = rng.standard_normal(shape).astype(np.float32)
        y_np = rng.integers(0, 5, shape[0])
        pair = []
        for m, o, dev in ((m_cpu, o_cpu, "cpu"), (m_dev, o_dev, device)):
            o.zero_grad()
            loss = F.cross_entropy(
                m(ctorch.tensor(x_np, device=dev)), ctorch.tensor(y_np, device=dev)
            )
            loss.backward()
            ctorch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            o.step()
            pair.append(loss.item())
        sched.step()
        sched_cpu.step()
        losses.append(pair)
    losses = np.array(losses)
    np.testing.assert_allclose(losses[:, 1], losses[:, 0], rtol=2e-4, atol=1e-5)
    for p1, p2 in zip(m_cpu.parameters(), m_dev.parameters(), strict=True):
        assert p2.device.type == device
        _close(p2, p1, rtol=1e-3, atol=1e-4)
    for s in o_dev.state.values():
        for v in s.values():
            if isinstance(v, ctorch.Tensor) and v.dim() > 0:
                assert v.device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_state_dict_save_load_map_location(device):
    m_cpu, m_dev = _module_pair(_cnn, device)
    buf = io.BytesIO()
    ctorch.save(m_dev.state_dict(), buf)
    buf.seek(0)
    sd = ctorch.load(buf, map_location="cpu")
    assert all(v.device.type == "cpu" for v in sd.values())
    fresh = _cnn()
    fresh.load_state_dict(sd)
    for (k, v1), v2 in zip(m_cpu.state_dict().items(), fresh.state_dict().values(), strict=True):
        _close(v2, v1, err_msg=k)
    buf.seek(0)
    sd_dev = ctorch.load(buf, map_location=device)
    assert all(v.device.type == device for v in sd_dev.values())
    back = _cnn().to(device)
    back.load_state_dict(sd)  # CPU tensors copied into device parameters
    assert all(p.device.type == device for p in back.parameters())


@pytest.mark.parametrize("device", DEVICES)
def test_dataloader_batches_to_device(device):
    from ctorch.utils.data import DataLoader, TensorDataset

    x = ctorch.arange(40.0).reshape(20, 2)
    y = ctorch.arange(20)
    dl = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False, pin_memory=device == "cuda")
    seen = 0
    for xb, yb in dl:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        assert xb.device.type == device
        seen += int(yb.shape[0])
        _close(xb[:, 0] / 2, yb.float())
    assert seen == 20


@pytest.mark.cuda
def test_cuda_runtime_helpers():
    from ctorch import cuda

    assert cuda.is_available() and cuda.device_count() >= 1
    assert isinstance(cuda.get_device_name(0), str)
    cuda.synchronize()
    before = cuda.memory_allocated()
    t = ctorch.empty(1 << 20, device="cuda")
    assert cuda.memory_allocated() >= before + 4 * (1 << 20) - 1
    assert cuda.max_memory_allocated() >= cuda.memory_allocated()
    del t
    cuda.empty_cache()
    cuda.manual_seed_all(1)
    assert ctorch.device("cuda:0").index == 0
