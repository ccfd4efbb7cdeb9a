"""Inspecting the autograd graph: ``to_dot(tensor)`` gives Graphviz DOT text."""

from __future__ import annotations

from .function import AccumulateGrad

__all__ = ["to_dot", "Node"]

from .function import Node  # noqa: E402


def to_dot(tensor, name: str = "ctorch_graph", params: dict | None = None) -> str:
    """DOT text of the backward graph behind ``tensor``: op nodes (names), leaf tensors
    (shape, and their parameter name when ``params`` maps names to tensors), edges in the
    direction gradients flow (output -> inputs)."""
    names = {id(v): k for k, v in (params or {}).items()}
    lines = [f"digraph {name} {{", '  node [fontname="monospace" fontsize=10];']
    ids = {}

    def nid(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    root = tensor.grad_fn
    shape = "x".join(str(s) for s in tensor.shape) or "scalar"
    lines.append(f'  out [label="output\\n({shape})" shape=box style=filled fillcolor="#c9e6ff"];')
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  out -> {nid(root)};")
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            var = node.variable
            shp = "x".join(str(s) for s in var.shape) if var is not None else "?"
            label = names.get(id(var), "leaf") if var is not None else "leaf"
            lines.append(
                f'  {nid(node)} [label="{label}\\n({shp})" shape=box style=filled fillcolor="#d6f5d6"];'
            )
        else:
            lines.append(f'  {nid(node)} [label="{node.name()}"];')
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            lines.append(f"  {nid(node)} -> {nid(nxt)};")
            stack.append(nxt)
    lines.append("}")
    return "\n".join(lines)
