"""The model families added for issue 14 (ViT, ConvNeXt, EfficientNet(V2), DenseNet, ShuffleNetV2,
SqueezeNet, RegNet, MobileNetV3): torchvision's parameter counts (from its documentation; torchvision
is not installed here), state_dict key names written from torchvision's source, forward+backward of
small variants on small inputs, and the registry API (get_model/list_models/get_weight)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ctorch
from ctorch import nn
from ctorch.vision import models

# torchvision's documented parameter counts (``num_params`` in each weights enum's meta)
PARAMS = {
    "vit_b_16": 86_567_656,
    "vit_b_32": 88_224_232,
    "convnext_tiny": 28_589_128,
    "convnext_small": 50_223_688,
    "efficientnet_b0": 5_288_548,
    "efficientnet_b1": 7_794_184,
    "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232,
    "efficientnet_b4": 19_341_616,
    "efficientnet_v2_s": 21_458_488,
    "densenet121": 7_978_856,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "densenet161": 28_681_000,
    "shufflenet_v2_x0_5": 1_366_792,
    "shufflenet_v2_x1_0": 2_278_604,
    "shufflenet_v2_x1_5": 3_503_624,
    "shufflenet_v2_x2_0": 7_393_996,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "mobilenet_v3_small": 2_542_856,
    "mobilenet_v3_large": 5_483_032,
    "regnet_y_400mf": 4_344_144,
    "regnet_y_800mf": 6_432_512,
    "regnet_y_1_6gf": 11_202_430,
    "regnet_x_400mf": 5_495_976,
    "regnet_x_800mf": 7_259_656,
    "regnet_x_1_6gf": 9_190_136,
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch", sorted(PARAMS))
def test_parameter_count_matches_torchvision(arch: str) -> None:
    model = models.get_model(arch)
    assert n_params(model) == PARAMS[arch]
    del model
    gc.collect()


# key names (and their order where listed from the start) written from torchvision's source
KEYS = {
    "vit_b_16": [
        "class_token",
        "conv_proj.weight",
        "conv_proj.bias",
        "encoder.pos_embedding",
        "encoder.layers.encoder_layer_0.ln_1.weight",
        "encoder.layers.encoder_layer_0.ln_1.bias",
        "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
        "encoder.layers.encoder_layer_0.self_attention.in_proj_bias",
        "encoder.layers.encoder_layer_0.self_attention.out_proj.weight",
        "encoder.layers.encoder_layer_0.self_attention.out_proj.bias",
        "encoder.layers.encoder_layer_0.ln_2.weight",
        "encoder.layers.encoder_layer_0.ln_2.bias",
        "encoder.layers.encoder_layer_0.mlp.0.weight",
        "encoder.layers.encoder_layer_0.mlp.0.bias",
        "encoder.layers.encoder_layer_0.mlp.3.weight",
        "encoder.layers.encoder_layer_0.mlp.3.bias",
    ],
    "convnext_tiny": [
        "features.0.0.weight",
        "features.0.0.bias",
        "features.0.1.weight",
        "features.0.1.bias",
        "features.1.0.layer_scale",
        "features.1.0.block.0.weight",
        "features.1.0.block.0.bias",
        "features.1.0.block.2.weight",
        "features.1.0.block.2.bias",
        "features.1.0.block.3.weight",
        "features.1.0.block.3.bias",
        "features.1.0.block.5.weight",
        "features.1.0.block.5.bias",
    ],
    "efficientnet_b0": [
        "features.0.0.weight",
        "features.0.1.weight",
        "features.0.1.bias",
        "features.0.1.running_mean",
        "features.0.1.running_var",
        "features.0.1.num_batches_tracked",
        "features.1.0.block.0.0.weight",
        "features.1.0.block.0.1.weight",
        "features.1.0.block.0.1.bias",
        "features.1.0.block.0.1.running_mean",
        "features.1.0.block.0.1.running_var",
        "features.1.0.block.0.1.num_batches_tracked",
        "features.1.0.block.1.fc1.weight",
        "features.1.0.block.1.fc1.bias",
        "features.1.0.block.1.fc2.weight",
        "features.1.0.block.1.fc2.bias",
        "features.1.0.block.2.0.weight",
    ],
    "densenet121": [
        "features.conv0.weight",
        "features.norm0.weight",
        "features.norm0.bias",
        "features.norm0.running_mean",
        "features.norm0.running_var",
        "features.norm0.num_batches_tracked",
        "features.denseblock1.denselayer1.norm1.weight",
    ],
    "shufflenet_v2_x1_0": ["conv1.0.weight", "conv1.1.weight", "conv1.1.bias"],
    "squeezenet1_0": [
        "features.0.weight",
        "features.0.bias",
        "features.3.squeeze.weight",
        "features.3.squeeze.bias",
        "features.3.expand1x1.weight",
        "features.3.expand1x1.bias",
        "features.3.expand3x3.weight",
        "features.3.expand3x3.bias",
    ],
    "regnet_y_400mf": [
        "stem.0.weight",
        "stem.1.weight",
        "stem.1.bias",
        "stem.1.running_mean",
        "stem.1.running_var",
        "stem.1.num_batches_tracked",
        "trunk_output.block1.block1-0.proj.0.weight",
        "trunk_output.block1.block1-0.proj.1.weight",
    ],
    "mobilenet_v3_small": [
        "features.0.0.weight",
        "features.0.1.weight",
        "features.0.1.bias",
        "features.0.1.running_mean",
        "features.0.1.running_var",
        "features.0.1.num_batches_tracked",
        "features.1.block.0.0.weight",
    ],
}

# further keys that must be present somewhere
PRESENT = {
    "vit_b_16": [
        "encoder.layers.encoder_layer_11.mlp.3.bias",
        "encoder.ln.weight",
        "heads.head.weight",
    ],
    "convnext_tiny": [
        "features.2.0.weight",
        "features.2.1.weight",
        "features.7.2.layer_scale",
        "classifier.0.weight",
        "classifier.2.weight",
    ],
    "efficientnet_b0": [
        "features.2.0.block.0.0.weight",
        "features.2.0.block.2.fc1.weight",
        "features.8.0.weight",
        "classifier.1.weight",
    ],
    "densenet121": [
        "features.denseblock1.denselayer6.conv2.weight",
        "features.transition1.norm.weight",
        "features.transition1.conv.weight",
        "features.denseblock4.denselayer16.conv2.weight",
        "features.norm5.running_var",
        "classifier.weight",
    ],
    "shufflenet_v2_x1_0": [
        "stage2.0.branch1.0.weight",
        "stage2.0.branch1.2.weight",
        "stage2.0.branch2.0.weight",
        "stage2.1.branch2.3.weight",
        "stage4.3.branch2.6.running_mean",
        "conv5.0.weight",
        "fc.weight",
    ],
    "squeezenet1_0": ["features.12.expand3x3.weight", "classifier.1.weight", "classifier.1.bias"],
    "regnet_y_400mf": [
        "trunk_output.block1.block1-0.f.a.0.weight",
        "trunk_output.block1.block1-0.f.b.0.weight",
        "trunk_output.block1.block1-0.f.se.fc1.weight",
        "trunk_output.block1.block1-0.f.c.1.running_var",
        "trunk_output.block4.block4-5.f.c.0.weight",
        "fc.weight",
    ],
    "mobilenet_v3_small": [
        "features.1.block.1.fc1.weight",
        "features.1.block.2.0.weight",
        "features.12.0.weight",
        "classifier.0.weight",
        "classifier.3.weight",
    ],
}


@pytest.mark.parametrize("arch", sorted(KEYS))
def test_state_dict_keys_match_torchvision(arch: str) -> None:
    keys = list(models.get_model(arch).state_dict())
    assert keys[: len(KEYS[arch])] == KEYS[arch]
    missing = [k for k in PRESENT[arch] if k not in keys]
    assert not missing
    gc.collect()


def test_regnet_block_params_match_torch_arithmetic() -> None:
    # torchvision computes the stage widths with float32 torch tensors: redo that with torch
    torch = pytest.importorskip("torch")
    import math

    for depth, w_0, w_a, w_m in [
        (16, 48, 27.89, 2.09),
        (22, 24, 24.48, 2.54),
        (27, 48, 20.71, 2.65),
    ]:
        widths_cont = torch.arange(depth) * w_a + w_0
        cap = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
        widths = (torch.round(torch.divide(w_0 * torch.pow(w_m, cap), 8)) * 8).int().tolist()
        params = models.regnet.BlockParams.from_init_params(depth, w_0, w_a, w_m, 8)
        stage_widths = sorted(set(widths))
        assert sum(params.depths) == depth
        assert [widths.count(w) for w in stage_widths] == params.depths
        assert len(params.widths) == len(stage_widths)


SMALL = [
    ("squeezenet1_1", 64),
    ("shufflenet_v2_x0_5", 64),
    ("densenet121", 32),
    ("mobilenet_v3_small", 64),
    ("efficientnet_b0", 32),
    ("regnet_y_400mf", 32),
    ("regnet_x_400mf", 32),
    ("convnext_tiny", 32),
]


@pytest.mark.parametrize("arch,size", SMALL)
def test_forward_backward_small(arch: str, size: int) -> None:
    ctorch.manual_seed(0)
    model = models.get_model(arch, num_classes=7)
    x = ctorch.randn(2, 3, size, size)
    out = model(x)
    assert out.shape == (2, 7)
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad
    model.eval()
    with ctorch.no_grad():
        a, b = model(x), model(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # eval: no dropout/stochastic depth
    del model
    gc.collect()


def test_vit_small_forward_backward_and_checks() -> None:
    ctorch.manual_seed(0)
    vit = models.VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        mlp_dim=64,
        num_classes=5,
        representation_size=16,
    )
    assert "heads.pre_logits.weight" in vit.state_dict()
    with ctorch.no_grad():
        vit.heads.head.weight.normal_()
    out = vit(ctorch.randn(3, 3, 32, 32))
    assert out.shape == (3, 5)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vit.parameters())
    with pytest.raises(ValueError, match="Wrong image size"):
        vit(ctorch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="indivisible"):
        models.VisionTransformer(30, 8, 1, 1, 8, 8)
    assert models.vit_b_16(image_size=64).encoder.pos_embedding.shape == (1, 17, 768)


def test_efficientnet_v2_and_mobilenet_large_forward() -> None:
    for arch in ("efficientnet_v2_s", "mobilenet_v3_large"):
        model = models.get_model(arch, num_classes=3)
        out = model(ctorch.randn(2, 3, 32, 32))
        assert out.shape == (2, 3)
        del model
        gc.collect()


def test_registry_api() -> None:
    names = models.list_models()
    for arch in PARAMS:
        assert arch in names
    assert "resnet18" in names and "get_model" not in names and names == sorted(names)
    assert models.list_models(include="vit_*") == [
        "vit_b_16",
        "vit_b_32",
        "vit_h_14",
        "vit_l_16",
        "vit_l_32",
    ]
    assert "convnext_tiny" not in models.list_models(exclude="convnext*")
    assert models.get_model_weights("convnext_tiny") is models.ConvNeXt_Tiny_Weights
    assert models.get_model_weights(models.regnet_y_400mf) is models.RegNet_Y_400MF_Weights
    w = models.get_weight("EfficientNet_B0_Weights.IMAGENET1K_V1")
    assert w is models.EfficientNet_B0_Weights.DEFAULT
    assert models.RegNet_Y_400MF_Weights.DEFAULT is models.RegNet_Y_400MF_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet9000")
    with pytest.raises(ValueError, match="num_classes"):
        models.squeezenet1_0(weights="DEFAULT", num_classes=3)
    with pytest.raises(RuntimeError, match="does not download"):
        models.shufflenet_v2_x0_5(weights=models.ShuffleNet_V2_X0_5_Weights.DEFAULT)


def test_model_argument_errors() -> None:
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version"):
        models.SqueezeNet("2_0")
    with pytest.raises(ValueError, match="stages_repeats"):
        models.ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024])
    with pytest.raises(ValueError, match="Invalid RegNet"):
        models.regnet.BlockParams.from_init_params(16, 47, 27.89, 2.09, 8)
    with pytest.raises(ValueError, match="empty"):
        models.ConvNeXt([])


def test_densenet_old_checkpoint_keys_are_renamed() -> None:
    import re

    from ctorch.vision.models import densenet

    model = models.densenet121(num_classes=3)
    sd = model.state_dict()
    # old checkpoints predate num_batches_tracked: only the other keys carry the old names
    old = {
        k
        if k.endswith("num_batches_tracked")
        else re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", k): v
        for k, v in sd.items()
    }
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    renamed = densenet._rename_old_keys(old)
    assert list(renamed) == list(sd)
    model.load_state_dict(renamed)


@pytest.mark.parametrize("arch", ["efficientnet_b0", "efficientnet_v2_s"])
def test_efficientnet_dropout_keyword(arch: str) -> None:
    # torchvision pops `dropout` from the builder's keywords: it sets the classifier's rate
    model = getattr(models, arch)(dropout=0.5, num_classes=3)
    assert model.classifier[0].p == 0.5
    assert getattr(models, arch)(num_classes=3).classifier[0].p != 0.5
