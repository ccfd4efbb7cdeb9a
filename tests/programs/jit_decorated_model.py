# ruff: noqa: UP006, UP035 - written the way real (TorchScript-era) model files are
"""A model file written for TorchScript: decorators applied at import/class-definition time."""

from typing import List

import numpy as np
import torch
import torch._dynamo
import torch.fx
import torch.jit
import torch.nn as nn
import torch.onnx
from torch.jit import Final
from torch.jit.annotations import Optional

torch._dynamo.config.suppress_errors = True
torch._dynamo.config.cache_size_limit = 64
torch.fx.wrap("bias_gelu")


@torch.jit.script
def bias_gelu(bias: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = bias + y
    return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x)))


@torch.jit.interface
class Scaler(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


class Block(nn.Module):
    use_gelu: Final[bool]

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.use_gelu = True

    @torch.jit.ignore
    def no_weight_decay(self):
        return {"fc.bias"}

    @torch.jit.ignore(drop=True)
    def debug_info(self) -> str:
        return "block"

    @torch.jit.unused
    def only_eager(self, x):
        return x + 1

    @torch.jit.export
    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    @torch._dynamo.disable
    def host_side(self, x):
        return x.sum().item()

    def forward(self, x: torch.Tensor, extra: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.features(x)
        if self.use_gelu:
            h = bias_gelu(self.fc.bias, h - self.fc.bias)
        if extra is not None:
            h = h + extra
        if not torch.jit.is_scripting() and not torch.compiler.is_compiling():
            h = h * 1.0
        if torch.jit.is_tracing():
            return h
        return h


def run_branches(xs: List[torch.Tensor]) -> List[torch.Tensor]:
    futs = [torch.jit.fork(torch.mul, x, 2.0) for x in xs]
    return [torch.jit.wait(f) for f in futs]


rng = np.random.default_rng(0)
block = Block(4).double()
with torch.no_grad():
    block.fc.weight.copy_(torch.from_numpy(rng.standard_normal((4, 4))))
    block.fc.bias.copy_(torch.from_numpy(rng.standard_normal(4)))
x = torch.from_numpy(rng.standard_normal((2, 4)))

print("no_weight_decay", sorted(block.no_weight_decay()))
print("debug", block.debug_info(), "only_eager", block.only_eager(torch.zeros(1)).tolist())
print("host_side", round(block.host_side(x), 6))
eager = block(x)
traced = torch.jit.trace(block, (x,))
print("traced same", torch.allclose(traced(x), eager))
fn = torch.jit.trace(lambda t: t.sin() * 2, torch.ones(3, dtype=torch.float64))
print("traced fn", [round(v, 6) for v in fn(x[0]).tolist()])
out = eager.sum()
print("forward sum", round(out.item(), 6))
print("branches", [t.tolist() for t in run_branches([torch.ones(2), torch.zeros(1)])])
print(
    "jit isinstance",
    torch.jit.isinstance([1, 2], List[int]),
    torch.jit.isinstance([1.0], List[int]),
)
print("in onnx export", torch.onnx.is_in_onnx_export())
print("scripting", torch.jit.is_scripting(), "tracing", torch.jit.is_tracing())
