"""Modern-transformer code paths: sdpa under sdpa_kernel, causal_lower_right decoding masks,
flex_attention with a sliding-window block mask and a soft-capping score_mod, pytree walks of
nested outputs, a torchrun-style @record entry point, and device probing that touches
torch.mps. float64 so that torch and ctorch agree to rounding."""

import warnings

import numpy as np
import torch
import torch.nn.functional as F
import torch.utils._pytree as pytree
from torch.distributed.elastic.multiprocessing.errors import record
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right
from torch.nn.attention.flex_attention import and_masks, create_block_mask, flex_attention

warnings.filterwarnings("ignore")


def sliding_window(window):
    def mask(b, h, q_idx, kv_idx):
        return (q_idx - kv_idx).abs() <= window

    return mask


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def softcap(score, b, h, q_idx, kv_idx):
    return 5.0 * torch.tanh(score / 5.0)


@record
def main():
    rng = np.random.default_rng(0)
    q, k, v = (torch.from_numpy(rng.standard_normal((2, 4, 16, 8))) for _ in range(3))
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    print(f"sdpa causal {y.sum().item():.10f}")
    qd = q[:, :, -3:]
    yd = F.scaled_dot_product_attention(qd, k, v, attn_mask=causal_lower_right(3, 16))
    print(f"decode rows match full {torch.allclose(yd, y[:, :, -3:])}")
    bm = create_block_mask(and_masks(causal, sliding_window(4)), None, None, 16, 16, device="cpu",
                           BLOCK_SIZE=4)  # fmt: skip
    print(f"block mask sparsity {bm.sparsity():.2f} kv blocks {bm.kv_num_blocks[0, 0].tolist()}")
    out, lse = flex_attention(q, k, v, score_mod=softcap, block_mask=bm, return_lse=True)
    print(f"flex out {out.sum().item():.10f} lse {lse.mean().item():.10f}")
    outputs = {"attn": (out, lse), "aux": [y, None], "step": 3}
    leaves, spec = pytree.tree_flatten(outputs)
    print(f"pytree leaves {len(leaves)} nodes {spec.num_nodes}")
    halves = pytree.tree_map_only(torch.Tensor, lambda t: t.float().mean(), outputs)
    print(f"mapped {sorted(halves)} step {halves['step']} aux1 {halves['aux'][1]}")
    paths = [pytree.keystr(p) for p, _ in pytree.tree_flatten_with_path(outputs)[0]]
    print("paths", paths)
    on_mps = torch.backends.mps.is_available() and torch.mps.device_count() > 0
    print("mps", on_mps)


if __name__ == "__main__":
    main()
