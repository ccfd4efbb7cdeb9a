"""``vision.models.feature_extraction`` (torchvision's create_feature_extractor /
get_graph_node_names) on module nodes, compared with running the model's pieces by hand."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch import nn
from ctorch.vision import models
from ctorch.vision.models.feature_extraction import (
    create_feature_extractor,
    get_graph_node_names,
)


def _resnet():
    ctorch.manual_seed(0)
    return models.resnet18(weights=None).eval()


def test_resnet_features_match_the_pieces():
    m = _resnet()
    x = ctorch.randn(2, 3, 64, 64)
    fe = create_feature_extractor(m, return_nodes={"layer1": "f1", "layer4": "f4", "avgpool": "p"})
    out = fe(x)
    assert list(out) == ["f1", "f4", "p"]
    with ctorch.no_grad():
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        f1 = m.layer1(h)
        f4 = m.layer4(m.layer3(m.layer2(f1)))
        p = m.avgpool(f4)
    for got, want in ((out["f1"], f1), (out["f4"], f4), (out["p"], p)):
        np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert set(fe.state_dict()) == set(m.state_dict())  # the model's own keys


def test_stops_after_the_last_node_and_lists_nodes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
            self.head = nn.Linear(10, 2)  # would fail on the body's output: must not run

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    out = create_feature_extractor(net, ["body.0", "body"])(ctorch.ones(1, 3, 8, 8))
    assert out["body.0"].shape == (1, 4, 6, 6) and bool((out["body"] >= 0).all())
    train, ev = get_graph_node_names(net)
    assert train == ev == ["x", "body.0", "body.1", "head"]


def test_train_and_eval_nodes_follow_the_mode_and_grads_flow():
    m = _resnet()
    fe = create_feature_extractor(
        m, train_return_nodes=["layer2"], eval_return_nodes=["layer1", "fc"]
    )
    x = ctorch.randn(1, 3, 32, 32)
    fe.train()
    tr = fe(x)
    assert list(tr) == ["layer2"] and m.layer2.training
    tr["layer2"].sum().backward()
    assert m.conv1.weight.grad is not None
    fe.eval()
    ev = fe(x)
    assert list(ev) == ["layer1", "fc"] and ev["fc"].shape == (1, 1000) and not m.training


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "Either `return_nodes`"),
        ({"return_nodes": ["flatten"]}, "'flatten' is not a submodule"),
        ({"return_nodes": ["x"]}, "'x' is not a submodule"),
        ({"train_return_nodes": ["fc"]}, "If any of `train_return_nodes`"),
        (
            {"return_nodes": ["fc"], "train_return_nodes": ["fc"], "eval_return_nodes": ["fc"]},
            "If `train_return_nodes` and `eval_return_nodes` are specified",
        ),
    ],
)
def test_bad_nodes_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_feature_extractor(_resnet(), **kwargs)


def test_under_the_torchvision_name():
    from ctorch.run import install_aliases, uninstall_aliases

    install_aliases()
    try:
        import torchvision.models.feature_extraction as fx  # noqa: PLC0415

        assert fx.create_feature_extractor is create_feature_extractor
    finally:
        uninstall_aliases()
