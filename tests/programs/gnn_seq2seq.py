"""Graph and sequence code the way real repositories write it: a GCN with message passing by
index_add_/scatter_reduce/sparse mm, a GRU encoder over packed variable-length sequences, an
nn.Transformer seq2seq step with masks and label smoothing, and an EmbeddingBag text classifier.
float64 so torch and ctorch agree to rounding."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1)


def load_(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
    return module


class GCNLayer(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.lin = nn.Linear(cin, cout)

    def forward(self, x, edge_index):
        src, dst = edge_index
        n = x.size(0)
        deg = torch.zeros(n).index_add_(0, dst, torch.ones(dst.numel()))
        norm = deg.clamp(min=1).rsqrt()
        msg = self.lin(x)[src] * (norm[src] * norm[dst]).unsqueeze(-1)
        out = torch.zeros(n, msg.size(1)).index_add(0, dst, msg)
        mx = torch.zeros(n, msg.size(1)).scatter_reduce(
            0, dst.unsqueeze(-1).expand_as(msg), msg, reduce="amax", include_self=False
        )
        return F.relu(out) + 0.1 * mx


def gnn():
    n = 12
    src = torch.from_numpy(rng.integers(0, n, 40))
    dst = torch.from_numpy(rng.integers(0, n, 40))
    ei = torch.stack([src, dst])
    x = torch.from_numpy(rng.standard_normal((n, 5)))
    layers = nn.ModuleList([load_(GCNLayer(5, 8)), load_(GCNLayer(8, 3))])
    y = torch.from_numpy(rng.integers(0, 3, n))
    opt = torch.optim.Adam(layers.parameters(), lr=0.01)
    for step in range(3):
        h = x
        for layer in layers:
            h = layer(h, ei)
        loss = F.cross_entropy(h, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"gnn step {step} loss {loss.item():.10f}")
    adj = torch.sparse_coo_tensor(ei, torch.ones(ei.size(1)), (n, n)).coalesce()
    agg = torch.sparse.mm(adj, x)
    print(f"sparse nnz {adj._nnz()} agg sum {agg.sum().item():.10f}")
    print(f"segment sums {torch.bincount(dst, minlength=n).tolist()}")
    uniq, inv, cnt = torch.unique(dst, return_inverse=True, return_counts=True)
    print(f"unique {uniq.tolist()} counts {cnt.tolist()} inv0 {inv[:5].tolist()}")


def packed_gru():
    lens = [5, 3, 2, 1]
    seqs = [torch.from_numpy(rng.standard_normal((l, 4))) for l in lens]
    padded = pad_sequence(seqs, batch_first=True)
    gru = load_(nn.GRU(4, 6, num_layers=2, batch_first=True, bidirectional=True))
    packed = pack_padded_sequence(padded, torch.tensor(lens), batch_first=True)
    out, h = gru(packed)
    out, out_lens = pad_packed_sequence(out, batch_first=True, total_length=6)
    loss = out.pow(2).sum() + h.sum()
    loss.backward()
    g = sum(p.grad.abs().sum() for p in gru.parameters())
    print(
        f"gru out {tuple(out.shape)} lens {out_lens.tolist()} loss {loss.item():.10f} grad {g.item():.10f}"
    )
    unsorted = pack_padded_sequence(
        padded[[2, 0, 3, 1]], torch.tensor([2, 5, 1, 3]), batch_first=True, enforce_sorted=False
    )
    out2, h2 = gru(unsorted)
    print(f"unsorted h sum {h2.sum().item():.10f} idx {unsorted.sorted_indices.tolist()}")


def transformer():
    torch.manual_seed(0)
    model = nn.Transformer(
        d_model=16,
        nhead=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=32,
        dropout=0.0,
        batch_first=True,
    )
    load_(model)
    emb = load_(nn.Embedding(20, 16, padding_idx=0))
    head = load_(nn.Linear(16, 20))
    src = torch.from_numpy(rng.integers(1, 20, (3, 7)))
    src[0, 5:] = 0
    tgt = torch.from_numpy(rng.integers(1, 20, (3, 6)))
    tgt_mask = model.generate_square_subsequent_mask(5)
    out = model(
        emb(src),
        emb(tgt[:, :-1]),
        tgt_mask=tgt_mask,
        src_key_padding_mask=(src == 0),
        memory_key_padding_mask=(src == 0),
        tgt_is_causal=True,
    )
    logits = head(out)
    loss = F.cross_entropy(
        logits.reshape(-1, 20), tgt[:, 1:].reshape(-1), label_smoothing=0.1, ignore_index=0
    )
    loss.backward()
    print(
        f"transformer loss {loss.item():.10f} emb grad {emb.weight.grad.abs().sum().item():.10f} pad row {emb.weight.grad[0].abs().sum().item():.1f}"
    )
    print(f"mask row {tgt_mask[1].tolist()}")


def bag():
    eb = load_(nn.EmbeddingBag(30, 5, mode="mean"))
    text = torch.from_numpy(rng.integers(0, 30, 11))
    offsets = torch.tensor([0, 4, 4, 9])
    out = eb(text, offsets)
    out.sum().backward()
    print(
        f"bag {tuple(out.shape)} sum {out.sum().item():.10f} empty row {out[1].abs().sum().item():.1f} grad {eb.weight.grad.sum().item():.10f}"
    )
    eb2 = load_(nn.EmbeddingBag(30, 5, mode="sum", padding_idx=2))
    w = torch.from_numpy(rng.random(11))
    eb3 = nn.EmbeddingBag.from_pretrained(eb2.weight.detach(), mode="sum")
    print(
        f"weighted {eb3(text, offsets, per_sample_weights=w).sum().item():.10f} pad {eb2(torch.tensor([[2, 2, 3]])).sum().item():.10f}"
    )


gnn()
packed_gru()
transformer()
bag()
