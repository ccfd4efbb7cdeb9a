"""Whole-model pickles: ``ctorch.save(model)`` writes torch's class paths, so real torch loads
the model (``weights_only=False``) and computes the same outputs; torch-saved whole models
load into ctorch's classes."""

from __future__ import annotations

import io
import pickletools
import zipfile

import numpy as np
import pytest

import ctorch

# name -> (constructor over a library, input shape)
MODELS = {
    "mlp": (
        lambda L: L.nn.Sequential(
            L.nn.Linear(6, 8), L.nn.GELU(), L.nn.Dropout(0.1), L.nn.LayerNorm(8), L.nn.Linear(8, 3)
        ),
        (4, 6),
    ),
    "cnn": (
        lambda L: L.nn.Sequential(
            L.nn.Conv2d(3, 4, 3, padding=1),
            L.nn.BatchNorm2d(4),
            L.nn.ReLU(inplace=True),
            L.nn.MaxPool2d(2),
            L.nn.Conv2d(4, 4, 3, groups=2, bias=False),
            L.nn.GroupNorm(2, 4),
            L.nn.SiLU(),
            L.nn.AdaptiveAvgPool2d(1),
            L.nn.Flatten(),
            L.nn.Linear(4, 2),
        ),
        (2, 3, 8, 8),
    ),
    "conv1d_3d_transpose": (
        lambda L: L.nn.Sequential(
            L.nn.Unflatten(1, (2, 3)),
            L.nn.Conv2d(2, 2, 1),
            L.nn.Flatten(2),
            L.nn.Conv1d(2, 3, 2, stride=1, padding_mode="reflect", padding=1),
            L.nn.ConvTranspose1d(3, 2, 3, stride=2),
            L.nn.InstanceNorm1d(2, affine=True),
            L.nn.Tanh(),
        ),
        (2, 6, 4),
    ),
    "rnns": (lambda L: L.nn.LSTM(5, 7, num_layers=2, batch_first=True), (3, 4, 5)),
    "gru": (lambda L: L.nn.GRU(5, 6, bidirectional=True), (4, 3, 5)),
    "embedding": (
        lambda L: L.nn.Sequential(L.nn.Embedding(10, 4, padding_idx=0), L.nn.Flatten()),
        "ids",
    ),
    "transformer": (
        lambda L: L.nn.TransformerEncoder(
            L.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
            num_layers=2,
            enable_nested_tensor=False,
        ),
        (2, 5, 8),
    ),
    "containers": (
        lambda L: L.nn.Sequential(
            L.nn.ModuleDict({"a": L.nn.Identity()})["a"],
            L.nn.PReLU(3),
            L.nn.Softmax(dim=-1),
        ),
        (2, 3),
    ),
}


def _input(spec, lib):
    rng = np.random.default_rng(1)
    if spec == "ids":
        return lib.from_numpy(rng.integers(0, 10, (3, 5)))
    return lib.from_numpy(rng.standard_normal(spec).astype(np.float32))


def _first(y):
    return y[0] if isinstance(y, tuple) else y


def _globals(buf: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(buf)) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    return {arg.replace(" ", ".") for op, arg, _ in pickletools.genops(pkl) if op.name == "GLOBAL"}


def _save(obj, save) -> bytes:
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ctorch_round_trip_and_torch_names(name):
    build, spec = MODELS[name]
    ctorch.manual_seed(0)
    model = build(ctorch).eval()
    data = _save(model, ctorch.save)
    names = _globals(data)
    assert names and not any(n.startswith("ctorch") for n in names), names
    assert any(n.startswith("torch.nn.modules.") for n in names)
    back = ctorch.load(io.BytesIO(data), weights_only=False)
    assert type(back) is type(model)
    x = _input(spec, ctorch)
    np.testing.assert_array_equal(
        _first(back(x)).detach().numpy(), _first(model(x)).detach().numpy()
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_loads_ctorch_whole_model(name):
    torch = pytest.importorskip("torch")
    build, spec = MODELS[name]
    ctorch.manual_seed(0)
    model = build(ctorch).eval()
    theirs = torch.load(io.BytesIO(_save(model, ctorch.save)), weights_only=False)
    assert type(theirs).__module__.startswith("torch.nn")
    ours_out = _first(model(_input(spec, ctorch))).detach().numpy()
    their_out = _first(theirs(_input(spec, torch))).detach().numpy()
    np.testing.assert_allclose(ours_out, their_out, rtol=1e-5, atol=1e-6)
    # and torch's own state_dict of it has the same keys and values
    sd = theirs.state_dict()
    assert list(sd) == list(model.state_dict())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ctorch_loads_torch_whole_model(name):
    torch = pytest.importorskip("torch")
    build, spec = MODELS[name]
    torch.manual_seed(0)
    tmodel = build(torch).eval()
    ours = ctorch.load(io.BytesIO(_save(tmodel, torch.save)), weights_only=False)
    assert type(ours).__module__.startswith("ctorch.nn")
    their_out = _first(tmodel(_input(spec, torch))).detach().numpy()
    ours_out = _first(ours(_input(spec, ctorch))).detach().numpy()
    np.testing.assert_allclose(ours_out, their_out, rtol=1e-5, atol=1e-6)


def test_functions_and_optimizer_classes_use_public_torch_names():
    import ctorch.nn.functional as F

    obj = {"act": F.relu, "opt": ctorch.optim.Adadelta, "sched": ctorch.optim.lr_scheduler.StepLR}
    names = _globals(_save(obj, ctorch.save))
    assert {"torch.nn.functional.relu", "torch.optim.Adadelta"} <= names
    assert "torch.optim.lr_scheduler.StepLR" in names
    back = ctorch.load(io.BytesIO(_save(obj, ctorch.save)), weights_only=False)
    assert back["act"] is F.relu and back["opt"] is ctorch.optim.Adadelta


def test_unpicklable_local_class_still_raises():
    class Local(ctorch.nn.Module):
        pass

    with pytest.raises((AttributeError, Exception), match="Local"):
        ctorch.save(Local(), io.BytesIO())


def test_unexported_names_use_the_mirrored_torch_path():
    # pad_sequence is not exported by nn.utils itself (in torch neither): its file's path
    from ctorch.nn.utils import rnn

    obj = {"pad": rnn.pad_sequence}
    names = _globals(_save(obj, ctorch.save))
    assert "torch.nn.utils.rnn.pad_sequence" in names
    back = ctorch.load(io.BytesIO(_save(obj, ctorch.save)), weights_only=False)
    assert back["pad"] is rnn.pad_sequence
    torch = pytest.importorskip("torch")
    theirs = torch.load(io.BytesIO(_save(obj, ctorch.save)), weights_only=False)
    assert theirs["pad"] is torch.nn.utils.rnn.pad_sequence


def test_names_exported_by_a_namespace_use_its_torch_name():
    # fuse_conv_bn_eval is defined in nn/utils/fusion.py and exported by nn.utils, as in torch
    from ctorch.nn.utils import fusion

    names = _globals(_save({"fuse": fusion.fuse_conv_bn_eval}, ctorch.save))
    assert "torch.nn.utils.fuse_conv_bn_eval" in names
    torch = pytest.importorskip("torch")
    theirs = torch.load(
        io.BytesIO(_save({"f": fusion.fuse_conv_bn_eval}, ctorch.save)), weights_only=False
    )
    assert theirs["f"] is torch.nn.utils.fusion.fuse_conv_bn_eval
