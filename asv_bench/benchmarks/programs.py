"""Whole-program benchmark cases: one training step of the kinds of programs people run
(issue #15), written once against the torch API so the same code builds the ctorch and the
torch version.  Shared by asv (``bench_all.Programs``) and ``tools/bench_report.py --programs``.

Each program is the step of a real, public program at its usual size or scaled down to fit a
2-core machine (the scale is in the case name):

- nanoGPT (karpathy/nanoGPT, shakespeare-char config scaled to 4 layers, 4 heads, 128 wide,
  block 64, batch 12): ``F.scaled_dot_product_attention(is_causal=True)``, AdamW, no dropout.
- a character GPT written minGPT-style (explicit ``q @ k.transpose``, ``masked_fill``, softmax):
  the many-small-ops path.
- ResNet-18 on 28x28 single-channel images, siamese (two images through one trunk), the
  setting whose 1x1/2x2 late-stage convolutions are small-shape heavy.
- DCGAN (pytorch/examples) generator + discriminator step at 64x64, batch 16.
- a 2-layer LSTM language model (pytorch/examples word_language_model: 200 wide, bptt 35,
  batch 20, vocabulary 10000, SGD with gradient clipping).
- LeNet and the MLP, as in ``cases.py``.
"""

from __future__ import annotations

import math

import numpy as np

from .cases import _dev, _labels, _lenet, _mlp, _rand, _train_step

# ----------------------------------------------------------------------------- GPT


def _gpt(lib, n_layer, n_head, n_embd, block, vocab, sdpa):
    nn = lib.nn
    F = nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.register_buffer("bias", lib.tril(lib.ones(block, block)).view(1, 1, block, block))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            if sdpa:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(
                nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd)
            )

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.wpe = nn.Embedding(block, n_embd)
            self.h = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            self.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

        def forward(self, idx, targets):
            t = idx.size(1)
            pos = lib.arange(0, t, dtype=lib.long, device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for blk in self.h:
                x = blk(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    return GPT()


def _gpt_step(n_layer, n_head, n_embd, block, batch, vocab, sdpa):
    def make(lib):
        if lib is np:
            return None
        lib.manual_seed(0)
        model = _dev(lib, _gpt(lib, n_layer, n_head, n_embd, block, vocab, sdpa))
        opt = lib.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
        x = _labels(lib, vocab, (batch, block))
        y = _labels(lib, vocab, (batch, block))

        def run():
            loss = model(x, y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

        return run

    return make


# ----------------------------------------------------------------------------- ResNet-18


def _resnet18(lib, in_ch, n_out):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            out = lib.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return lib.relu(out + (x if self.down is None else self.down(x)))

    layers = [
        nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, n_out)]
    return nn.Sequential(*layers)


def _siamese_resnet_step(batch):
    def make(lib):
        if lib is np:
            return None
        nn = lib.nn
        lib.manual_seed(0)

        class Siamese(nn.Module):
            def __init__(self):
                super().__init__()
                self.trunk = _resnet18(lib, 1, 128)
                self.head = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 1))

            def forward(self, a, b):
                return self.head(lib.cat((self.trunk(a), self.trunk(b)), 1)).squeeze(1)

        model = _dev(lib, Siamese())
        opt = lib.optim.Adadelta(model.parameters(), lr=1.0)
        a = _rand(lib, batch, 1, 28, 28, seed=1)
        b = _rand(lib, batch, 1, 28, 28, seed=2)
        y = _labels(lib, 2, batch).float()
        F = nn.functional

        def run():
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(model(a, b), y).backward()
            opt.step()

        return run

    return make


# ----------------------------------------------------------------------------- DCGAN


def _dcgan_step(batch, nz=100, ngf=64, ndf=64):
    def make(lib):
        if lib is np:
            return None
        nn = lib.nn
        lib.manual_seed(0)
        G = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        D = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )
        G, D = _dev(lib, G), _dev(lib, D)
        optD = lib.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        optG = lib.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        crit = nn.BCELoss()
        real = _rand(lib, batch, 3, 64, 64, seed=1).tanh()
        noise = _rand(lib, batch, nz, 1, 1, seed=2)
        ones = _dev(lib, lib.ones(batch))
        zeros = _dev(lib, lib.zeros(batch))

        def run():
            D.zero_grad()
            errD_real = crit(D(real).view(-1), ones)
            errD_real.backward()
            fake = G(noise)
            errD_fake = crit(D(fake.detach()).view(-1), zeros)
            errD_fake.backward()
            optD.step()
            G.zero_grad()
            crit(D(fake).view(-1), ones).backward()
            optG.step()

        return run

    return make


# ----------------------------------------------------------------------------- LSTM LM


def _lstm_lm_step(vocab=10000, emsize=200, nhid=200, nlayers=2, bptt=35, batch=20):
    def make(lib):
        if lib is np:
            return None
        nn = lib.nn
        lib.manual_seed(0)

        class RNNModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Embedding(vocab, emsize)
                self.rnn = nn.LSTM(emsize, nhid, nlayers, dropout=0.0)
                self.decoder = nn.Linear(nhid, vocab)

            def forward(self, inp, hidden):
                output, hidden = self.rnn(self.encoder(inp), hidden)
                return self.decoder(output).view(-1, vocab), hidden

        model = _dev(lib, RNNModel())
        x = _labels(lib, vocab, (bptt, batch))
        y = _labels(lib, vocab, (bptt * batch,))
        h0 = _dev(lib, lib.zeros(nlayers, batch, nhid))
        hidden = [(h0, h0)]
        F = nn.functional
        lr = 20.0

        def run():
            h = tuple(t.detach() for t in hidden[0])
            model.zero_grad()
            out, hidden[0] = model(x, h)
            F.cross_entropy(out, y).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            with lib.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-lr)

        return run

    return make


# name -> (make(lib), work units per call, unit, target ratio), as cases.CASES
PROGRAMS = {
    "nanoGPT step (4L 4H 128w, block 64, b12, AdamW)": (
        _gpt_step(4, 4, 128, 64, 12, 65, sdpa=True),
        12 * 64,
        "token",
        1.0,
    ),
    "char GPT step, minGPT-style attention (2L 4H 64w, block 32, b32)": (
        _gpt_step(2, 4, 64, 32, 32, 65, sdpa=False),
        32 * 32,
        "token",
        1.0,
    ),
    "siamese ResNet-18 step 28x28 b32 pairs": (_siamese_resnet_step(32), 64, "img", 1.0),
    "DCGAN G+D step 64x64 b16": (_dcgan_step(16), 16, "img", 1.0),
    "LSTM LM step (2x200, bptt 35, b20, vocab 10k)": (_lstm_lm_step(), 35 * 20, "token", 1.0),
    "LeNet step b64 Adam (program)": (
        _train_step(_lenet, (64, 1, 28, 28), 10, "Adam", lr=1e-3),
        64,
        "img",
        1.0,
    ),
    "MLP step 784-512-256-10 b64 SGD (program)": (
        _train_step(_mlp, (64, 784), 10, "SGD", lr=0.01, momentum=0.9),
        64,
        "img",
        1.0,
    ),
}
