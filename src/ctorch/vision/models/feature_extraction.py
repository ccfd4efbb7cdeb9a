"""``torchvision.models.feature_extraction``: intermediate outputs of a model by node name.

torchvision traces the model with ``torch.fx`` and keeps the graph up to the requested nodes.
ctorch has no fx tracer, so a node here is a *submodule* (its qualified name, as fx names a
module call: ``"layer1"``, ``"layer4.1.conv2"``, ``"features.3"``) and its output is captured
with a forward hook; the model runs eagerly and stops (an internal exception) once every
requested output is in, so the layers after the last node never run, as in torchvision's
truncated graph. Nodes that are not modules (fx's function nodes such as ``"flatten"`` or
``"layer1.0.add"``) are refused with a clear error, as is the input placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import nn

__all__ = ["create_feature_extractor", "get_graph_node_names"]


class _Done(Exception):
    """Raised by the last hook to stop the forward once every output is captured."""


def _as_mapping(nodes: Sequence[str] | dict[str, str] | None) -> dict[str, str] | None:
    if nodes is None:
        return None
    if isinstance(nodes, dict):
        return {str(k): str(v) for k, v in nodes.items()}
    return {str(n): str(n) for n in nodes}


class FeatureExtractor(nn.Module):
    """The module ``create_feature_extractor`` returns: the model's children under their own
    names (so ``state_dict`` keys are the model's), and a forward that returns
    ``{output name: tensor}`` for the requested nodes of the current mode (train/eval)."""

    def __init__(
        self, model: nn.Module, train_nodes: dict[str, str], eval_nodes: dict[str, str]
    ) -> None:
        super().__init__()
        for name, child in model.named_children():
            self.add_module(name, child)
        for name, p in model.named_parameters(recurse=False):
            self.register_parameter(name, p)
        for name, b in model.named_buffers(recurse=False):
            self.register_buffer(name, b)
        object.__setattr__(self, "_model", model)
        self._train_nodes = train_nodes
        self._eval_nodes = eval_nodes
        self.training = model.training

    def forward(self, *args: Any, **kwargs: Any) -> dict:
        model = self._model
        model.training = self.training  # children follow train()/eval() themselves
        nodes = self._train_nodes if self.training else self._eval_nodes
        modules = dict(model.named_modules())
        captured: dict[str, Any] = {}
        handles = []

        def hook_for(name: str):
            def hook(module, inputs, output):
                captured[name] = output
                if len(captured) == len(nodes):
                    raise _Done

            return hook

        try:
            for name in nodes:
                handles.append(modules[name].register_forward_hook(hook_for(name)))
            try:
                model(*args, **kwargs)
            except _Done:
                pass
        finally:
            for h in handles:
                h.remove()
        missing = [n for n in nodes if n not in captured]
        if missing:
            raise RuntimeError(
                f"create_feature_extractor: the model's forward never called {missing} "
                "(a module that is registered but not used)"
            )
        return {out: captured[name] for name, out in nodes.items()}


def _check_nodes(model: nn.Module, nodes: dict[str, str]) -> None:
    modules = dict(model.named_modules())
    for name in nodes:
        if name not in modules or name == "":
            leaf_names = [n for n, m in model.named_modules() if n and not list(m.children())]
            hint = ", ".join(repr(n) for n in leaf_names[:6])
            raise ValueError(
                f"create_feature_extractor: node {name!r} is not a submodule of the model. "
                "ctorch has no torch.fx tracer, so return nodes are module names (fx's "
                f"function nodes such as 'flatten' or 'layer1.0.add' are not available); "
                f"modules include {hint}..."
            )


def create_feature_extractor(
    model: nn.Module,
    return_nodes: Sequence[str] | dict[str, str] | None = None,
    train_return_nodes: Sequence[str] | dict[str, str] | None = None,
    eval_return_nodes: Sequence[str] | dict[str, str] | None = None,
    tracer_kwargs: dict | None = None,
    suppress_diff_warning: bool = False,
    concrete_args: dict | None = None,
) -> FeatureExtractor:
    """A module returning the outputs of ``model``'s named submodules as a dict (torchvision's
    argument rules: ``return_nodes`` for both modes, or both ``train_return_nodes`` and
    ``eval_return_nodes``; a list names the outputs by the nodes, a dict renames them)."""
    # torchvision's three checks, in its order and words
    if return_nodes is None and train_return_nodes is None and eval_return_nodes is None:
        raise ValueError(
            "Either `return_nodes` or `train_return_nodes` and `eval_return_nodes` together, "
            "should be specified"
        )
    if (train_return_nodes is None) ^ (eval_return_nodes is None):
        raise ValueError(
            "If any of `train_return_nodes` and `eval_return_nodes` are specified, then both "
            "should be specified"
        )
    if not ((return_nodes is None) ^ (train_return_nodes is None)):
        raise ValueError(
            "If `train_return_nodes` and `eval_return_nodes` are specified, then both should be "
            "specified"
        )
    train = _as_mapping(return_nodes if return_nodes is not None else train_return_nodes)
    ev = _as_mapping(return_nodes if return_nodes is not None else eval_return_nodes)
    for nodes in (train, ev):
        if not nodes:
            raise ValueError("create_feature_extractor: no return nodes given")
        _check_nodes(model, nodes)
    return FeatureExtractor(model, train, ev)


def get_graph_node_names(
    model: nn.Module,
    tracer_kwargs: dict | None = None,
    suppress_diff_warning: bool = False,
    concrete_args: dict | None = None,
) -> tuple[list[str], list[str]]:
    """(train node names, eval node names): the input placeholder ``"x"`` and the model's
    leaf submodules in registration order. torchvision lists fx's nodes in call order,
    including function calls; ctorch, without a tracer, lists the modules, which are the
    nodes ``create_feature_extractor`` accepts (containers such as ``"layer1"`` are accepted
    too)."""
    names = ["x"] + [n for n, m in model.named_modules() if n and not list(m.children())]
    return list(names), list(names)
