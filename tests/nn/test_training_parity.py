"""End-to-end training parity with torch (issue #3, section 6).

The same architecture is built twice, once from ``torch.nn`` and once from ``ctorch.nn`` with the
same parameter names; the torch model's initial ``state_dict`` is copied into the ctorch model
through NumPy, and both are trained on the same fixed batches (NumPy RNG) with the same loss,
optimizer and learning-rate schedule.  We then compare

* the per-step training loss curves,
* eval-mode outputs on a held-out batch after training,
* every parameter and buffer at the end (batch-norm running statistics and
  ``num_batches_tracked`` included).

Models: an MLP (with a Dropout(p=0)), an MLP with LayerNorm, a Conv-BatchNorm-ReLU-MaxPool CNN,
each under SGD with momentum (+StepLR), Nesterov SGD, Adam, Adam with OneCycleLR (which also
cycles beta1) and AdamW, all with CrossEntropyLoss; and 2-layer batch-first LSTM and GRU
classifiers under Adam with clip_grad_norm_.

Every case runs in float32 and in float64.  In float64 the two libraries agree to a few ulps
(<= 4e-15 relative on the loss, measured) over the whole run, which shows the forward/backward math, the optimizer updates and the schedulers are
the same; the float32 gaps are then only the rounding of differently ordered sums (BLAS blocking,
SIMD reductions), which training amplifies a little at every step.

ctorch runs float32 with 1 and 2 threads (float64 with 1); torch is the same reference for both (computed once, with one
thread, and cached).  A separate test checks that ctorch's 1- and 2-thread runs are bitwise equal,
as the issue asks of the CPU kernels.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

STEPS = 40
N_CLASSES = 10


# --------------------------------------------------------------------------- models
# Each builder takes the ``nn`` namespace (``torch.nn`` or ``ctorch.nn``) so the two models have
# the same structure and therefore the same state_dict keys.


def mlp(nn):
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Dropout(p=0.0),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, N_CLASSES),
    )


def mlp_layernorm(nn):
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.LayerNorm(128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.LayerNorm(64),
        nn.ReLU(),
        nn.Linear(64, N_CLASSES),
    )


def cnn(nn):
    # The convolutions that feed a BatchNorm have no bias, as usual: such a bias has an exact-zero
    # gradient (the batch mean removes it), so its computed gradient is pure rounding noise of
    # size ~1e-9, which Adam normalises into steps of size ~lr in a random direction that no two
    # implementations share.  The third convolution (no BN after it) keeps its bias.
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, N_CLASSES),
    )


def seq_classifier(nn, cell):
    """2-layer batch-first LSTM/GRU over (batch, time, features), a Linear on the last step."""

    class SeqClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, cell)(8, 16, num_layers=2, batch_first=True)
            self.head = nn.Linear(16, N_CLASSES)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return SeqClassifier()


def lstm(nn):
    return seq_classifier(nn, "LSTM")


def gru(nn):
    return seq_classifier(nn, "GRU")


FEEDFORWARD_OPTIMS = (
    "sgd_momentum_steplr",
    "sgd_nesterov",
    "adam",
    "adam_onecycle",
    "adamw",
)
# Recurrent models: Adam with gradient-norm clipping (as RNNs are usually trained; the clip is
# active in these runs, so clip_grad_norm_ is compared too) at a rate at which they learn the
# task within the run; SGD at these sizes barely moves them.
RECURRENT_OPTIMS = ("adam_clip",)

# name: (builder, batch shape, optimizers it is trained with)
MODELS = {
    "mlp": (mlp, (32, 64), FEEDFORWARD_OPTIMS),
    "mlp_layernorm": (mlp_layernorm, (32, 64), FEEDFORWARD_OPTIMS),
    "cnn_bn": (cnn, (16, 3, 12, 12), FEEDFORWARD_OPTIMS),
    "lstm": (lstm, (16, 10, 8), RECURRENT_OPTIMS),
    "gru": (gru, (16, 10, 8), RECURRENT_OPTIMS),
}


# --------------------------------------------------------------------------- optimizers
# (optimizer class name, kwargs, scheduler factory or None, max gradient norm or None).  The
# factories take the library module so the same schedule is built from
# torch.optim.lr_scheduler and ctorch.optim.lr_scheduler.


def _step_lr(lib, opt):
    return lib.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)


def _one_cycle(lib, opt):
    # cycle_momentum also drives Adam's beta1 through the schedule.
    #
    # max_lr is 1.5e-2, not 1e-2, because the 1e-2 run is ill-conditioned in float32: at step 3
    # the second Linear's pre-activation for sample 31, unit 17 is +2.0e-8 in float64, while one
    # unit of that dot product's float32 roundoff, 2**-24 * sum |x_k w_k|, is 8.6e-8 (|bias|
    # 0.034).  So its sign, i.e. whether that ReLU passes gradient, is decided by the GEMM's
    # summation order: OpenBLAS (ctorch on CPUs without AVX-512) rounds it to exactly 0, MKL to
    # +6.3e-8.  The lost gradient (6e-2 relative on 3.weight) goes through Adam, and the loss
    # curves part at step 6 (2.5e-5) and reach 9.6e-3.  torch against itself does the same:
    # with only the Linear layers' input-feature axis permuted (the same MKL kernel, another
    # summation order) 3 of 12 permutations fail exactly so (step 6, 9.6e-3), while +-1 ulp of
    # noise on every gradient entry at every step moves its curve by <= 4e-7: the dynamics are
    # not chaotic, that one kink is.  Nearest ReLU input to its kink over a run, in units of
    # float32 roundoff (|z| / (2**-24 * (sum |x_k w_k| + |b|))): 0.7 at max_lr=1e-2, 37 at
    # 1.5e-2 (the plain MLP's other optimizers: 6 .. 32); 16 permutations and 16 gradient-noise
    # runs of torch at 1.5e-2 all stay within 1.2e-6 of the reference.  It still trains
    # (last/first loss 0.10) and a ctorch-side beta2 .999 -> .998, eps 1e-8 -> 1e-7,
    # max_momentum .95 -> .94, base_momentum .85 -> .86, cycle_momentum off or total_steps
    # 40 -> 41 leaves the band by step 2 .. 14.  The torch-only numbers come from
    # tools/parity_conditioning.py.
    return lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.5e-2, total_steps=STEPS)


OPTIMS = {
    "sgd_momentum_steplr": (
        "SGD",
        dict(lr=0.05, momentum=0.9, weight_decay=5e-4),
        _step_lr,
        None,
    ),
    "sgd_nesterov": (
        "SGD",
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4),
        None,
        None,
    ),
    "adam": ("Adam", dict(lr=3e-3), None, None),
    "adam_onecycle": ("Adam", dict(lr=1e-3), _one_cycle, None),
    "adamw": ("AdamW", dict(lr=3e-3, weight_decay=1e-2), None, None),
    "adam_clip": ("Adam", dict(lr=1e-2), None, 1.0),
}


# --------------------------------------------------------------------------- data
@functools.cache
def _data(model_name):
    """Fixed training batches plus one held-out batch.

    Each class has a fixed random template and an input is its class's template plus noise, so
    the task is learnable by every model here and the loss really moves from ~log(10) down.
    That makes the curves a sharper check than noise labels, whose loss barely leaves log(10).
    """
    shape = MODELS[model_name][1]
    rng = np.random.default_rng(1234)
    templates = rng.standard_normal((N_CLASSES, *shape[1:]))
    if len(shape) == 4:
        # images: a class "colour" per channel plus a weaker pixel pattern, so that a small CNN
        # ending in global average pooling learns it within the 40 steps
        templates = rng.standard_normal((N_CLASSES, shape[1], 1, 1)) + 0.5 * templates
    elif len(shape) == 3:
        # sequences: likewise a class vector at every time step plus a weaker pattern
        templates = rng.standard_normal((N_CLASSES, 1, shape[2])) + 0.5 * templates

    def batch():
        y = rng.integers(0, N_CLASSES, size=shape[0]).astype(np.int64)
        x = 0.5 * templates[y] + rng.standard_normal(shape)
        return x, y

    train = [batch() for _ in range(STEPS)]
    return train, batch()


# --------------------------------------------------------------------------- training loop
def _train(lib, model, optim_name, batches, dtype):
    """The same loop source for both libraries; returns the per-step losses."""
    opt_name, opt_kw, sched_fn, clip = OPTIMS[optim_name]
    opt = getattr(lib.optim, opt_name)(model.parameters(), **opt_kw)
    sched = sched_fn(lib, opt) if sched_fn is not None else None
    loss_fn = lib.nn.CrossEntropyLoss()
    model.train()
    losses = []
    for x, y in batches:
        xb = lib.from_numpy(x.astype(dtype))
        yb = lib.from_numpy(y)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if clip is not None:
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return np.array(losses)


def _state_numpy(model):
    return {k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()}


def _eval_logits(lib, model, x, dtype):
    model.eval()
    with lib.no_grad():
        return model(lib.from_numpy(x.astype(dtype))).numpy().astype(np.float64)


@functools.cache
def _torch_run(model_name, optim_name, dtype_name):
    """Torch reference: initial state (NumPy), loss curve, final state, eval logits."""
    build = MODELS[model_name][0]
    dtype = np.dtype(dtype_name)
    train, held_out = _data(model_name)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = build(torch.nn)
        if dtype == np.float64:
            model.double()
        init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        losses = _train(torch, model, optim_name, train, dtype)
        return init, losses, _state_numpy(model), _eval_logits(torch, model, held_out[0], dtype)
    finally:
        torch.set_num_threads(old_threads)


@functools.cache  # shared by the parity test and the thread-count test
def _ctorch_run(model_name, optim_name, dtype_name, threads):
    build = MODELS[model_name][0]
    dtype = np.dtype(dtype_name)
    train, held_out = _data(model_name)
    init = _torch_run(model_name, optim_name, dtype_name)[0]
    old_threads = ctorch.get_num_threads()
    ctorch.set_num_threads(threads)
    try:
        model = build(ctorch.nn)
        if dtype == np.float64:
            model.double()
        model.load_state_dict({k: ctorch.from_numpy(v.copy()) for k, v in init.items()})
        losses = _train(ctorch, model, optim_name, train, dtype)
        return losses, _state_numpy(model), _eval_logits(ctorch, model, held_out[0], dtype)
    finally:
        ctorch.set_num_threads(old_threads)


# --------------------------------------------------------------------------- tolerances
def _loss_rtol(dtype_name):
    """Per-step relative tolerance on the loss curve.

    float32: step 0 runs the same weights on the same batch, so only the forward pass's rounding
    differs (a few ulps, ~1e-7 relative); 1e-5 leaves room for that and nothing else.  Each
    optimizer step then adds a rounding-sized perturbation to the weights, and training carries
    (and, with momentum/Adam normalisation, mildly amplifies) the earlier ones, so the allowed gap
    grows linearly to 1e-4 at step 40.  A real difference in the math (a wrong gradient, a missed
    weight-decay term, an off-by-one in bias correction or in the schedule) shows up as a 1e-3 ..
    1e-1 relative gap within a few steps, far outside this band.  Measured when this test was
    written: the float32 curves agree to <= 6e-7 over all 40 steps of every case (<= 1.6e-6 on
    a CPU without AVX-512, where nn.Linear's products go to OpenBLAS instead of ctorch's
    sgemm), while perturbing only ctorch's side by SGD weight_decay 5e-4 -> 4e-4, momentum
    0.9 -> 0.899, Adam beta2 0.999 -> 0.998, Adam eps 1e-8 -> 1e-7 or LayerNorm eps 1e-5 -> 1e-4
    leaves the band (gaps 4e-4 .. 5e-3) by step 0 .. 22; a band of 1e-4 .. 1e-3 would have
    missed some of them.  The runs must also be well-conditioned in float32: see _one_cycle for
    a configuration whose result hinged on the rounding of a single ReLU input.

    float64: the same reasoning with a unit roundoff 2**29 times smaller; 1e-10 is generous.
    """
    steps = np.arange(STEPS)
    if dtype_name == "float64":
        return np.full(STEPS, 1e-10)
    return 1e-5 + (1e-4 - 1e-5) * steps / (STEPS - 1)


# Final parameters / eval outputs: max abs difference over max(tensor's max abs, 1).  Most
# entries agree to ~1e-7 in float32, but Adam turns a gradient entry of size ~eps into a step of
# a sizeable fraction of lr whose size depends on that entry's rounding: e.g. the GRU's
# weight_hh_l0[1, 10] gets a 1.3e-9 gradient at step 0 (the hidden state is still 0 there), and
# ends 1.3e-5 apart (float64: 3e-16, so it is rounding, not math).  Hence 1e-4 in float32.
FINAL_TOL = {"float32": 1e-4, "float64": 1e-10}


# --------------------------------------------------------------------------- tests
# float64 proves the math is the same; it runs with one ctorch thread only, since thread-count
# independence is covered by the float32 two-thread runs and test_thread_counts_bitwise_identical.
# Two threads run every optimizer on the MLPs (the fused optimizer kernels differ per optimizer)
# but only SGD and Adam on the CNN: its conv/BN/pool kernels are the same under every optimizer,
# and its two-thread runs are the slow ones on a loaded 2-core machine (each small OpenMP region
# waits for the second thread to be scheduled).
def _cases():
    for model_name, (_, _, optim_names) in MODELS.items():
        for optim_name in optim_names:
            yield model_name, optim_name, "float32", 1
            yield model_name, optim_name, "float64", 1
            if not model_name.startswith("cnn") or optim_name in ("sgd_momentum_steplr", "adam"):
                yield model_name, optim_name, "float32", 2


@pytest.mark.parametrize("model_name,optim_name,dtype_name,threads", list(_cases()))
def test_training_matches_torch(model_name, optim_name, dtype_name, threads):
    init, t_losses, t_state, t_logits = _torch_run(model_name, optim_name, dtype_name)
    c_losses, c_state, c_logits = _ctorch_run(model_name, optim_name, dtype_name, threads)

    # the task is learnable and the run really trains (so the curves are a meaningful check)
    assert t_losses[-5:].mean() < 0.75 * t_losses[:5].mean(), t_losses

    rel = np.abs(c_losses - t_losses) / np.abs(t_losses)
    rtol = _loss_rtol(dtype_name)
    bad = np.nonzero(rel > rtol)[0]
    assert bad.size == 0, (
        f"loss curves diverge first at step {bad[0] if bad.size else None}: "
        f"max rel diff {rel.max():.3e}\nctorch {c_losses}\ntorch  {t_losses}"
    )

    tol = FINAL_TOL[dtype_name]
    assert set(c_state) == set(t_state)
    for key, t_val in t_state.items():
        c_val = c_state[key]
        assert c_val.shape == t_val.shape, key
        scale = max(np.abs(t_val).max(), 1.0)
        err = np.abs(c_val - t_val).max() / scale
        assert err <= tol, f"{key}: max abs diff / scale = {err:.3e} > {tol:.0e}"

    scale = max(np.abs(t_logits).max(), 1.0)
    err = np.abs(c_logits - t_logits).max() / scale
    assert err <= tol, f"eval-mode logits: {err:.3e} > {tol:.0e}"


def test_thread_counts_bitwise_identical():
    """ctorch's CPU kernels promise bitwise-identical results for 1 and 2 threads."""
    cases = [("cnn_bn", "adam"), ("mlp_layernorm", "sgd_momentum_steplr"), ("lstm", "adam_clip")]
    for model_name, optim_name in cases:
        one = _ctorch_run(model_name, optim_name, "float32", 1)
        two = _ctorch_run(model_name, optim_name, "float32", 2)
        np.testing.assert_array_equal(one[0], two[0])
        for key in one[1]:
            np.testing.assert_array_equal(one[1][key], two[1][key], err_msg=key)
        np.testing.assert_array_equal(one[2], two[2])
