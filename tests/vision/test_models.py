"""ctorch.vision.models: torchvision's parameter counts, state_dict keys and output shapes.

torchvision is not installed here, so its numbers and key names are written down: parameter
counts from torchvision's documentation, state_dict key counts and sample keys from
``torchvision.models.<arch>().state_dict()``.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ctorch
from ctorch import nn
from ctorch.vision import models


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# arch -> (parameters, state_dict keys) as torchvision's
TORCHVISION = {
    "resnet18": (11_689_512, 122),
    "resnet34": (21_797_672, 218),
    "resnet50": (25_557_032, 320),
    "mobilenet_v2": (3_504_872, 314),
    "alexnet": (61_100_840, 16),
    "vgg11": (132_863_336, 22),
    "vgg11_bn": (132_868_840, 62),
    "vgg16": (138_357_544, 32),
    "vgg16_bn": (138_365_992, 97),
}


@pytest.mark.parametrize("arch", sorted(TORCHVISION))
def test_parameter_and_key_counts(arch: str) -> None:
    kwargs = {"init_weights": False} if arch.startswith("vgg") else {}  # skip 100M normals
    model = models.__dict__[arch](**kwargs)
    count, keys = TORCHVISION[arch]
    assert n_params(model) == count
    assert len(model.state_dict()) == keys
    del model
    gc.collect()


def test_lenet5_layout_and_forward() -> None:
    model = models.lenet5()
    assert n_params(model) == 61_706
    assert list(model.state_dict()) == [
        "features.0.weight",
        "features.0.bias",
        "features.3.weight",
        "features.3.bias",
        "classifier.0.weight",
        "classifier.0.bias",
        "classifier.2.weight",
        "classifier.2.bias",
        "classifier.4.weight",
        "classifier.4.bias",
    ]
    out = model(ctorch.randn(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 10)
    assert tuple(models.lenet5(num_classes=3)(ctorch.randn(1, 1, 28, 28)).shape) == (1, 3)


def test_resnet18_keys_and_forward() -> None:
    model = models.resnet18()
    keys = list(model.state_dict())
    assert keys[:7] == [
        "conv1.weight",
        "bn1.weight",
        "bn1.bias",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.num_batches_tracked",
        "layer1.0.conv1.weight",
    ]
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    for k in (
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.1.bn2.bias",
        "layer3.1.conv2.weight",
    ):
        assert k in keys
    assert "layer1.0.downsample.0.weight" not in keys
    # named children in torchvision's order (scripts slice them: nn.Sequential(*children[:-1]))
    assert [n for n, _ in model.named_children()] == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    ]
    assert model.fc.in_features == 512
    assert isinstance(model.layer1[0], models.resnet.BasicBlock)
    model.eval()
    with ctorch.no_grad():
        out = model(ctorch.randn(1, 3, 64, 64))
    assert tuple(out.shape) == (1, 1000)
    assert np.isfinite(out.numpy()).all()


def test_resnet_init_like_torchvision() -> None:
    model = models.resnet18(num_classes=7, zero_init_residual=True)
    assert tuple(model.fc.weight.shape) == (7, 512)
    assert (model.bn1.weight.detach().numpy() == 1).all() and (
        model.bn1.bias.detach().numpy() == 0
    ).all()
    assert (model.layer1[0].bn2.weight.detach().numpy() == 0).all()
    # kaiming_normal_(mode="fan_out"): std = sqrt(2 / (out_channels * k * k))
    w = model.layer4[0].conv2.weight.detach().numpy()
    assert abs(w.std() - np.sqrt(2.0 / (512 * 9))) < 0.05 * np.sqrt(2.0 / (512 * 9))


def test_resnet50_keys() -> None:
    keys = list(models.resnet50().state_dict())
    for k in (
        "layer1.0.conv3.weight",
        "layer1.0.bn3.running_mean",
        "layer1.0.downsample.0.weight",
        "layer4.2.bn3.num_batches_tracked",
    ):
        assert k in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]


def test_mobilenet_v2_keys_and_forward() -> None:
    model = models.mobilenet_v2(num_classes=10)
    keys = list(model.state_dict())
    for k in (
        "features.0.0.weight",
        "features.0.1.running_mean",
        "features.1.conv.0.0.weight",
        "features.1.conv.1.weight",
        "features.1.conv.2.running_var",
        "features.2.conv.0.0.weight",
        "features.2.conv.1.0.weight",
        "features.2.conv.2.weight",
        "features.2.conv.3.bias",
        "features.18.0.weight",
        "features.18.1.num_batches_tracked",
        "classifier.1.weight",
    ):
        assert k in keys, k
    assert keys[-1] == "classifier.1.bias"
    dw = model.features[2].conv[1][0]
    assert dw.groups == 96 and tuple(dw.weight.shape) == (96, 1, 3, 3)
    model.eval()
    with ctorch.no_grad():
        out = model(ctorch.randn(1, 3, 32, 32))
    assert tuple(out.shape) == (1, 10)


def test_vgg_and_alexnet_keys() -> None:
    keys = list(models.alexnet().state_dict())
    assert keys == [
        f"{p}.{i}.{w}"
        for p, idx in (("features", (0, 3, 6, 8, 10)), ("classifier", (1, 4, 6)))
        for i in idx
        for w in ("weight", "bias")
    ]
    gc.collect()
    keys = list(models.vgg16(init_weights=False).state_dict())
    convs = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    assert keys == [f"features.{i}.{w}" for i in convs for w in ("weight", "bias")] + [
        f"classifier.{i}.{w}" for i in (0, 3, 6) for w in ("weight", "bias")
    ]
    gc.collect()


def test_state_dict_round_trip() -> None:
    a, b = models.resnet18(num_classes=5), models.resnet18(num_classes=5)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = ctorch.randn(1, 3, 32, 32)
    with ctorch.no_grad():
        np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_model_listing_is_lowercase_constructors() -> None:
    names = sorted(
        n
        for n in models.__dict__
        if n.islower() and not n.startswith("__") and callable(models.__dict__[n])
    )
    for n in (
        "alexnet",
        "lenet5",
        "mobilenet_v2",
        "resnet18",
        "resnet34",
        "resnet50",
        "vgg11",
        "vgg11_bn",
        "vgg16",
        "vgg16_bn",
    ):
        assert n in names
    assert all(not n.startswith("_") for n in names), names
    for n in names:
        assert callable(models.__dict__[n])


def test_pretrained_weights_are_never_downloaded(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="does not download"):
        models.resnet18(pretrained=True)
    with pytest.raises(RuntimeError, match="resnet18-f37072fd.pth"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(RuntimeError, match="does not download"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(RuntimeError):
        models.lenet5(pretrained=True)
    with pytest.raises(ValueError):
        models.resnet18(weights="NOPE")
    # weights=None / pretrained=False are plain constructors
    assert n_params(models.resnet18(weights=None, pretrained=False)) == 11_689_512


def test_pretrained_weights_from_torch_hub_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ref = models.mobilenet_v2()
    ckpt = tmp_path / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    ctorch.save(ref.state_dict(), str(ckpt / "mobilenet_v2-7ebf99e0.pth"))
    model = models.mobilenet_v2(weights="DEFAULT")
    np.testing.assert_array_equal(
        model.classifier[1].weight.detach().numpy(), ref.classifier[1].weight.detach().numpy()
    )
