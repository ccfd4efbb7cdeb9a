"""Second derivatives (create_graph=True) over a table of ops (issues #14, #15).

Every row runs the same lambda on ctorch and on torch (``lib`` is the module):

* ``gradgradcheck`` in float64: the gradient built under create_graph is itself
  differentiated and compared with finite differences of the first gradient;
* against torch: first gradients and the double-backward vector product
  ``d/dx <u, d/dx <v, f(x)>>`` (random cotangents, identical for both libraries).

Index/target arguments are built inside the lambdas from fixed Python lists, so both
libraries see the same values. Inputs are drawn away from kinks (``lo``/``hi`` per row).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

REDUCTIONS = ("mean", "sum", "none")
T4 = [0, 2, 4, 1]  # class indices for a (4, 5) input
W5 = [0.5, 1.0, 2.0, 0.3, 1.2]  # class weights (constants: torch has no weight gradient)


def _F(lib):
    return lib.nn.functional


def _long(lib, v):
    return lib.tensor(v, dtype=lib.int64)


def _f64(lib, v):
    return lib.tensor(v, dtype=lib.float64)


class Case:
    def __init__(
        self, name, fn, shapes, lo=-2.0, hi=2.0, atol=1e-5, rtol=1e-3, signs=False, refused=None
    ):
        self.name, self.fn, self.shapes = name, fn, shapes
        self.refused = refused  # torch's NotImplementedError text: ctorch raises it too
        self.lo, self.hi, self.atol, self.rtol = lo, hi, atol, rtol
        self.signs = signs  # values kept >= 0.1 away from 0 (abs-like kinks)

    def arrays(self):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        out = []
        for s in self.shapes:
            a = rng.uniform(self.lo, self.hi, size=s)
            if self.signs:
                a = np.where(a >= 0, a + 0.1, a - 0.1)
            out.append(a.astype(np.float64))
        return out


CASES: list[Case] = []


def case(name, shapes, **kw):
    def deco(fn):
        CASES.append(Case(name, fn, shapes, **kw))
        return fn

    return deco


def add(name, fn, shapes, **kw):
    CASES.append(Case(name, fn, shapes, **kw))


# ------------------------------------------------------------------ activations
for _n, _kw in [
    ("elu", {}),
    ("selu", {}),
    ("celu", {"alpha": 0.7}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("mish", {}),
    ("softplus", {"beta": 2.0}),
    ("softsign", {}),
    ("logsigmoid", {}),
    ("tanhshrink", {}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("leaky_relu", {"negative_slope": 0.1}),
    ("relu", {}),
    ("relu6", {}),
    ("hardtanh", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("softshrink", {}),
    ("hardshrink", {}),
]:
    add(
        f"F.{_n}{_kw or ''}",
        lambda lib, x, _n=_n, _kw=_kw: getattr(_F(lib), _n)(x, **_kw),
        [(3, 4)],
        lo=-3.3,
        hi=3.3,
        signs=True,
    )
add("F.softmax", lambda lib, x: _F(lib).softmax(x, 1), [(3, 4)])
add("F.log_softmax", lambda lib, x: _F(lib).log_softmax(x, 0), [(3, 4)])
add("F.softmin", lambda lib, x: _F(lib).softmin(x, 1), [(3, 4)])
add("F.glu", lambda lib, x: _F(lib).glu(x, -1), [(3, 4)])
add("F.prelu", lambda lib, x, w: _F(lib).prelu(x, w), [(2, 3, 4), (3,)], signs=True)
add("F.normalize", lambda lib, x: _F(lib).normalize(x, dim=1), [(3, 4)])
add("F.threshold", lambda lib, x: _F(lib).threshold(x, 0.5, -1.0), [(3, 4)], signs=True)

# ------------------------------------------------------------------ losses
for _r in REDUCTIONS:
    add(
        f"cross_entropy-{_r}",
        lambda lib, x, _r=_r: _F(lib).cross_entropy(x, _long(lib, T4), reduction=_r),
        [(4, 5)],
    )
    add(
        f"cross_entropy-weight-ls-ignore-{_r}",
        lambda lib, x, _r=_r: _F(lib).cross_entropy(
            x,
            _long(lib, T4),
            weight=_f64(lib, W5),
            ignore_index=2,
            label_smoothing=0.2,
            reduction=_r,
        ),
        [(4, 5)],
    )
    add(
        f"cross_entropy-4d-{_r}",
        lambda lib, x, _r=_r: _F(lib).cross_entropy(
            x, _long(lib, [[[0, 2], [1, 1]], [[2, 0], [1, 2]]]), reduction=_r
        ),
        [(2, 3, 2, 2)],
    )
    add(
        f"cross_entropy-probs-{_r}",
        lambda lib, x, p, _r=_r: _F(lib).cross_entropy(x, p.softmax(1), reduction=_r),
        [(4, 5), (4, 5)],
    )
    add(
        f"nll_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).nll_loss(
            x.log_softmax(1), _long(lib, T4), weight=_f64(lib, W5), reduction=_r
        ),
        [(4, 5)],
    )
    add(
        f"nll_loss-4d-{_r}",
        lambda lib, x, _r=_r: _F(lib).nll_loss(
            x * x, _long(lib, [[[0, 2], [1, 1]], [[2, 0], [1, 2]]]), reduction=_r
        ),
        [(2, 3, 2, 2)],
    )
    add(
        f"binary_cross_entropy-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).binary_cross_entropy(x, t, reduction=_r),
        [(3, 4), (3, 4)],
        lo=0.1,
        hi=0.9,
    )
    add(
        f"binary_cross_entropy-weight-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).binary_cross_entropy(
            x, t, weight=_f64(lib, [0.5, 1.0, 2.0, 1.5]), reduction=_r
        ),
        [(3, 4), (3, 4)],
        lo=0.1,
        hi=0.9,
    )
    add(
        f"binary_cross_entropy_with_logits-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).binary_cross_entropy_with_logits(
            x, t.sigmoid(), pos_weight=_f64(lib, [0.5, 1.0, 2.0, 1.5]), reduction=_r
        ),
        [(3, 4), (3, 4)],
    )
    add(
        f"mse_loss-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).mse_loss(x, t, reduction=_r),
        [(3, 4)] * 2,
    )
    add(
        f"mse_loss-broadcast-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).mse_loss(x, t.expand(3, 4), reduction=_r),
        [(3, 4), (1, 4)],
    )
    add(f"l1_loss-{_r}", lambda lib, x, t, _r=_r: _F(lib).l1_loss(x, t, reduction=_r), [(3, 4)] * 2)
    add(
        f"smooth_l1_loss-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).smooth_l1_loss(x, t, reduction=_r, beta=0.5),
        [(3, 4)] * 2,
    )
    add(
        f"huber_loss-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).huber_loss(x, t, reduction=_r, delta=0.7),
        [(3, 4)] * 2,
    )
    add(
        f"kl_div-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).kl_div(
            x.log_softmax(1), t.softmax(1), reduction="batchmean" if _r == "mean" else _r
        ),
        [(3, 4)] * 2,
    )
    add(
        f"kl_div-logtarget-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).kl_div(
            x, t, reduction="batchmean" if _r == "mean" else _r, log_target=True
        ),
        [(3, 4)] * 2,
    )
    add(
        f"poisson_nll_loss-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).poisson_nll_loss(x, t.abs(), reduction=_r),
        [(3, 4)] * 2,
    )
    add(
        f"poisson_nll_loss-full-{_r}",
        lambda lib, x, t, _r=_r: _F(lib).poisson_nll_loss(
            x, t, log_input=False, full=True, reduction=_r
        ),
        [(3, 4)] * 2,
        lo=0.5,
        hi=3.0,
    )
    add(
        f"gaussian_nll_loss-{_r}",
        lambda lib, x, t, v, _r=_r: _F(lib).gaussian_nll_loss(x, t, v, reduction=_r),
        [(3, 4), (3, 4), (3, 4)],
        lo=0.3,
        hi=2.0,
    )
    add(
        f"cosine_embedding_loss-{_r}",
        lambda lib, a, b, _r=_r: _F(lib).cosine_embedding_loss(
            a, b, _f64(lib, [1.0, -1.0, 1.0]), margin=-0.5, reduction=_r
        ),
        [(3, 4)] * 2,
    )
    add(
        f"margin_ranking_loss-{_r}",
        lambda lib, a, b, _r=_r: _F(lib).margin_ranking_loss(
            a, b, _f64(lib, [1.0, -1.0, 1.0, -1.0]), margin=0.1, reduction=_r
        ),
        [(4,), (4,)],
    )
    add(
        f"hinge_embedding_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).hinge_embedding_loss(
            x, _f64(lib, [[1.0, -1.0, 1.0, -1.0]] * 3), margin=3.0, reduction=_r
        ),
        [(3, 4)],
    )
    add(
        f"soft_margin_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).soft_margin_loss(
            x, _f64(lib, [[1.0, -1.0, 1.0, -1.0]] * 3), reduction=_r
        ),
        [(3, 4)],
    )
    add(
        f"multilabel_soft_margin_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).multilabel_soft_margin_loss(
            x, _f64(lib, [[1.0, 0.0, 1.0, 0.0]] * 3), reduction=_r
        ),
        [(3, 4)],
    )
    add(
        f"triplet_margin_loss-{_r}",
        lambda lib, a, p, n, _r=_r: _F(lib).triplet_margin_loss(a, p, n, margin=3.0, reduction=_r),
        [(3, 4)] * 3,
    )
    add(
        f"triplet_margin_loss-swap-{_r}",
        lambda lib, a, p, n, _r=_r: _F(lib).triplet_margin_loss(
            a, p, n, margin=3.0, p=1.5, swap=True, reduction=_r
        ),
        [(3, 4)] * 3,
    )

for _r in REDUCTIONS:
    add(
        f"multi_margin_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).multi_margin_loss(
            x, _long(lib, T4), p=2, margin=2.0, weight=_f64(lib, W5), reduction=_r
        ),
        [(4, 5)],
    )
    add(
        f"multilabel_margin_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).multilabel_margin_loss(
            x * x, _long(lib, [[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [4, 4, -1, 0, 0]]), reduction=_r
        ),
        [(3, 5)],
    )
    add(
        f"triplet_margin_with_distance_loss-{_r}",
        lambda lib, a, p, n, _r=_r: _F(lib).triplet_margin_with_distance_loss(
            a, p, n, margin=3.0, swap=True, reduction=_r
        ),
        [(3, 4)] * 3,
    )
    add(
        f"ctc_loss-{_r}",
        lambda lib, x, _r=_r: _F(lib).ctc_loss(
            x.log_softmax(2), _long(lib, [[1, 2], [3, 3]]), (4, 4), (2, 2), reduction=_r
        ),
        [(4, 2, 4)],
    )

# ------------------------------------------------------------------ norms
add("F.layer_norm", lambda lib, x, w, b: _F(lib).layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)])
add(
    "F.batch_norm-train",
    lambda lib, x, w, b: _F(lib).batch_norm(x, None, None, w, b, training=True),
    [(4, 3), (3,), (3,)],
)
add(
    "F.batch_norm-eval",
    lambda lib, x, w, b: _F(lib).batch_norm(
        x, _f64(lib, [0.1, -0.2, 0.3]), _f64(lib, [1.0, 2.0, 0.5]), w, b, training=False
    ),
    [(4, 3), (3,), (3,)],
)
add(
    "F.group_norm",
    lambda lib, x, w, b: _F(lib).group_norm(x, 2, w, b),
    [(2, 4, 3), (4,), (4,)],
)
add("F.instance_norm", lambda lib, x: _F(lib).instance_norm(x), [(2, 3, 4)])
add("F.local_response_norm", lambda lib, x: _F(lib).local_response_norm(x, 2), [(2, 3, 4)])
add("F.rms_norm", lambda lib, x, w: _F(lib).rms_norm(x, (4,), w), [(3, 4), (4,)])

# ------------------------------------------------------------------ conv / pooling
add(
    "F.conv1d",
    lambda lib, x, w, b: _F(lib).conv1d(x, w, b, padding=1),
    [(2, 2, 5), (3, 2, 3), (3,)],
)
add(
    "F.conv2d-stride-groups",
    lambda lib, x, w: _F(lib).conv2d(x, w, stride=2, padding=1, groups=2),
    [(1, 4, 4, 4), (2, 2, 3, 3)],
)
add(
    "F.conv2d-dilation",
    lambda lib, x, w: _F(lib).conv2d(x, w, dilation=2),
    [(1, 1, 5, 5), (2, 1, 2, 2)],
)
add("F.conv3d", lambda lib, x, w: _F(lib).conv3d(x, w), [(1, 1, 3, 3, 3), (1, 1, 2, 2, 2)])
add(
    "F.conv_transpose1d",
    lambda lib, x, w: _F(lib).conv_transpose1d(x, w, stride=2),
    [(1, 2, 3), (2, 2, 3)],
)
add(
    "F.conv_transpose2d",
    lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b, stride=2, padding=1),
    [(1, 2, 3, 3), (2, 1, 3, 3), (1,)],
)
add("F.max_pool1d", lambda lib, x: _F(lib).max_pool1d(x, 2), [(1, 2, 6)])
add("F.max_pool2d", lambda lib, x: _F(lib).max_pool2d(x, 2, stride=1), [(1, 1, 4, 4)])
add("F.avg_pool1d", lambda lib, x: _F(lib).avg_pool1d(x, 3, 2, padding=1), [(1, 2, 6)])
add("F.avg_pool2d", lambda lib, x: _F(lib).avg_pool2d(x, 2, ceil_mode=True), [(1, 1, 5, 5)])
add("F.adaptive_avg_pool2d", lambda lib, x: _F(lib).adaptive_avg_pool2d(x, 3), [(1, 1, 5, 5)])
add("F.adaptive_max_pool2d", lambda lib, x: _F(lib).adaptive_max_pool2d(x, 2), [(1, 1, 5, 5)])
add("F.lp_pool2d", lambda lib, x: _F(lib).lp_pool2d(x, 2, 2), [(1, 1, 4, 4)], lo=0.5)

add("F.adaptive_avg_pool1d", lambda lib, x: _F(lib).adaptive_avg_pool1d(x, 3) ** 2, [(1, 2, 5)])
add(
    "F.adaptive_avg_pool3d",
    lambda lib, x: _F(lib).adaptive_avg_pool3d(x, 2) ** 2,
    [(1, 1, 3, 3, 3)],
)
add("F.adaptive_max_pool1d", lambda lib, x: _F(lib).adaptive_max_pool1d(x, 2) ** 2, [(1, 2, 5)])
add(
    "F.adaptive_max_pool3d-adaptive_max_pool3d_with_indices",
    lambda lib, x: (
        _F(lib).adaptive_max_pool3d_with_indices(x, 2)[0] ** 2
        + _F(lib).adaptive_max_pool3d(x, 1).sum()
    ),
    [(1, 1, 3, 3, 3)],
)
add("F.avg_pool3d", lambda lib, x: _F(lib).avg_pool3d(x, 2) ** 2, [(1, 1, 3, 4, 4)])
add("F.max_pool3d", lambda lib, x: _F(lib).max_pool3d(x, 2) ** 2, [(1, 1, 3, 4, 4)])
add(
    "F.max_pool1d_with_indices",
    lambda lib, x: _F(lib).max_pool1d_with_indices(x, 2)[0] ** 2,
    [(1, 2, 6)],
)
add(
    "F.max_pool2d_with_indices-max_unpool2d",
    lambda lib, x: _F(lib).max_unpool2d(*_F(lib).max_pool2d_with_indices(x, 2), 2) ** 2,
    [(1, 1, 4, 4)],
)
add(
    "F.max_pool3d_with_indices",
    lambda lib, x: _F(lib).max_pool3d_with_indices(x, 2)[0] ** 2,
    [(1, 1, 2, 4, 4)],
)
add("F.pixel_unshuffle", lambda lib, x: _F(lib).pixel_unshuffle(x, 2) ** 2, [(1, 1, 4, 2)])
add(
    "F.upsample-upsample_bilinear-upsample_nearest",
    lambda lib, x: (
        (_F(lib).upsample(x, scale_factor=2, mode="bilinear", align_corners=True) ** 2).sum()
        + (_F(lib).upsample_bilinear(x, size=(3, 4)) ** 3).sum()
        + (_F(lib).upsample_nearest(x, scale_factor=2) ** 2).sum()
    ),
    [(1, 1, 2, 3)],
)
for _n, _s in (
    ("dropout1d", (2, 2, 3)),
    ("dropout2d", (1, 2, 2, 3)),
    ("dropout3d", (1, 2, 2, 2, 2)),
    ("alpha_dropout", (2, 3)),
    ("feature_alpha_dropout", (1, 2, 2, 3)),
):
    add(
        f"F.{_n}-eval",
        lambda lib, x, _n=_n: getattr(_F(lib), _n)(x, 0.5, training=False) ** 3,
        [_s],
    )
for _m in ("sum", "mean", "max"):
    add(
        f"F.embedding_bag-{_m}",
        lambda lib, w, _m=_m: (
            _F(lib).embedding_bag(_long(lib, [0, 2, 1, 3, 2]), w, _long(lib, [0, 2]), mode=_m) ** 2
        ),
        [(4, 3)],
    )
add(
    "F.multi_head_attention_forward",
    lambda lib, q, w_in, w_out: _F(lib).multi_head_attention_forward(
        q, q, q, 4, 2, w_in, None, None, None, False, 0.0, w_out, None, need_weights=False
    )[0],
    [(3, 1, 4), (12, 4), (4, 4)],
    lo=-1.0,
    hi=1.0,
)

# ------------------------------------------------------------------ attention, embedding, ...
add(
    "F.scaled_dot_product_attention",
    lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v),
    [(2, 3, 4), (2, 5, 4), (2, 5, 3)],
)
add(
    "F.scaled_dot_product_attention-mask",
    lambda lib, q, k, v, m: _F(lib).scaled_dot_product_attention(q, k, v, attn_mask=m),
    [(2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)],
)
add(
    "F.scaled_dot_product_attention-causal",
    lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
    [(1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2)],
)
add(
    "F.embedding",
    lambda lib, w: _F(lib).embedding(_long(lib, [[0, 2], [2, 3]]), w) ** 2,
    [(4, 3)],
)
add(
    "F.interpolate-bilinear",
    lambda lib, x: (
        _F(lib).interpolate(x, scale_factor=2, mode="bilinear", align_corners=False) ** 2
    ),
    [(1, 1, 2, 3)],
)
add(
    "F.interpolate-nearest",
    lambda lib, x: _F(lib).interpolate(x, size=(3, 5), mode="nearest") ** 2,
    [(1, 1, 2, 3)],
)
add(
    "F.interpolate-bicubic",
    lambda lib, x: _F(lib).interpolate(x, size=(3, 4), mode="bicubic", align_corners=True),
    [(1, 1, 2, 3)],
)
for _m in ("constant", "reflect", "replicate", "circular"):
    add(
        f"F.pad-{_m}",
        lambda lib, x, _m=_m: _F(lib).pad(x, (1, 2), mode=_m) ** 2,
        [(1, 2, 4)],
    )
add(
    "F.grid_sample",
    lambda lib, x, g: _F(lib).grid_sample(x, g, align_corners=False),
    [(1, 1, 3, 3), (1, 2, 2, 2)],
    lo=-0.9,
    hi=0.9,
)
add(
    "F.affine_grid",
    lambda lib, th: _F(lib).affine_grid(th, (1, 1, 2, 3), align_corners=False) ** 2,
    [(1, 2, 3)],
)
add("F.unfold", lambda lib, x: _F(lib).unfold(x, 2, padding=1) ** 2, [(1, 2, 3, 3)])
add("F.fold", lambda lib, x: _F(lib).fold(x, (3, 3), 2) ** 2, [(1, 4, 4)])
add("F.pixel_shuffle", lambda lib, x: _F(lib).pixel_shuffle(x, 2) ** 2, [(1, 4, 2, 2)])
add("F.linear", lambda lib, x, w, b: _F(lib).linear(x, w, b) ** 2, [(3, 4), (2, 4), (2,)])
add("F.bilinear", lambda lib, a, b, w: _F(lib).bilinear(a, b, w), [(3, 2), (3, 3), (2, 2, 3)])
add("F.cosine_similarity", lambda lib, a, b: _F(lib).cosine_similarity(a, b), [(3, 4)] * 2)
add("F.pairwise_distance", lambda lib, a, b: _F(lib).pairwise_distance(a, b), [(3, 4)] * 2)
add("F.dropout-eval", lambda lib, x: _F(lib).dropout(x, 0.5, training=False) ** 3, [(3, 4)])

# ------------------------------------------------------------------ tensor ops
add("cumsum", lambda lib, x: x.cumsum(1) ** 2, [(3, 4)])
add("cumprod", lambda lib, x: x.cumprod(1), [(3, 4)], lo=0.3)
add("sort", lambda lib, x: x.sort(1).values ** 3, [(3, 4)])
add("topk", lambda lib, x: x.topk(2, 1).values ** 3, [(3, 4)])
add("max-dim", lambda lib, x: x.max(1).values ** 3, [(3, 4)])
add("min-dim", lambda lib, x: x.min(0).values ** 3, [(3, 4)])
add("amax", lambda lib, x: x.amax(1) ** 3, [(3, 4)])
add("max", lambda lib, x: x.max() ** 3, [(3, 4)])
add("where", lambda lib, x, y: lib.where(x > 0, x * y, y**2), [(3, 4)] * 2, signs=True)
add("index_select", lambda lib, x: x.index_select(1, _long(lib, [2, 0, 2])) ** 2, [(3, 4)])
add("gather", lambda lib, x: x.gather(1, _long(lib, [[0, 1], [3, 3], [2, 0]])) ** 2, [(3, 4)])
add(
    "scatter_add",
    lambda lib, x, s: (x.scatter_add(1, _long(lib, [[0, 1], [3, 3], [2, 0]]), s * s)) ** 2,
    [(3, 4), (3, 2)],
)
add(
    "index_add",
    lambda lib, x, s: x.index_add(0, _long(lib, [2, 0]), s**2) ** 2,
    [(3, 4), (2, 4)],
)
add("masked_fill", lambda lib, x: (x**2).masked_fill(x > 0.5, 0.0) * x, [(3, 4)])
add("getitem", lambda lib, x: x[1:, ::2] ** 3 + x[_long(lib, [0, 2])].sum(), [(3, 4)])
add("matmul", lambda lib, a, b: (a @ b) ** 2, [(2, 3, 4), (4, 2)])
add("bmm", lambda lib, a, b: lib.bmm(a, b) ** 2, [(2, 3, 4), (2, 4, 2)])
add("mm", lambda lib, a, b: lib.mm(a, b) ** 2, [(3, 4), (4, 2)])
add("addmm", lambda lib, c, a, b: lib.addmm(c, a, b) ** 2, [(3, 2), (3, 4), (4, 2)])
add("einsum", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b) ** 2, [(3, 4), (4, 2)])
add("outer", lambda lib, a, b: lib.outer(a, b) ** 2, [(3,), (4,)])
add("prod", lambda lib, x: x.prod(1), [(3, 4)], signs=True)
add("logsumexp", lambda lib, x: x.logsumexp(1), [(3, 4)])
add("var", lambda lib, x: x.var(1), [(3, 4)])
add("std", lambda lib, x: x.std(0), [(3, 4)])
add("norm", lambda lib, x: x.norm(dim=1), [(3, 4)])
add("pow", lambda lib, x, y: x**y, [(3, 4), (3, 4)], lo=0.5)
add("div", lambda lib, x, y: x / y, [(3, 4), (3, 4)], signs=True)
add("sqrt-log-exp", lambda lib, x: x.sqrt() + x.log() * x.exp(), [(3, 4)], lo=0.3)
add("clamp", lambda lib, x: x.clamp(-1.0, 1.0) ** 3, [(3, 4)], signs=True)
add("abs", lambda lib, x: x.abs() ** 3, [(3, 4)], signs=True)
add(
    "cdist",
    lambda lib, a, b: lib.cdist(a, b),
    [(3, 2), (4, 2)],
    refused="the derivative for '_cdist_backward' is not implemented",
)
add("linalg.inv", lambda lib, a: lib.linalg.inv(a + 3 * lib.eye(3, dtype=lib.float64)), [(3, 3)])
add("linalg.det", lambda lib, a: lib.linalg.det(a), [(3, 3)])
add("trace-diag-tril", lambda lib, a: lib.trace(a) * a.diag() + a.tril(), [(3, 3)])
add("cross", lambda lib, a, b: lib.linalg.cross(a, b) ** 2, [(2, 3), (2, 3)])
add("kron", lambda lib, a, b: lib.kron(a, b) ** 2, [(2, 2), (2, 3)])
add("lerp", lambda lib, a, b, w: lib.lerp(a, b, w) ** 2, [(3, 4)] * 3)
add(
    "addcmul-addcdiv",
    lambda lib, a, b, c: lib.addcmul(a, b, c) * lib.addcdiv(a, b, c),
    [(3, 4)] * 3,
    lo=0.5,
)
add("atan2", lambda lib, a, b: lib.atan2(a, b), [(3, 4)] * 2, signs=True)
add("logcumsumexp", lambda lib, x: x.logcumsumexp(1), [(3, 4)])
add(
    "median-kthvalue",
    lambda lib, x: x.median(1).values ** 3 + x.kthvalue(2, 1).values ** 2,
    [(3, 5)],
)
add(
    "take_along_dim",
    lambda lib, x: lib.take_along_dim(x, _long(lib, [[0], [3], [1]]), 1) ** 3,
    [(3, 4)],
)
add(
    "index_put",
    lambda lib, x, v: x.index_put((_long(lib, [0, 2]),), v * v) ** 2,
    [(3, 4), (2, 4)],
)
add(
    "scatter",
    lambda lib, x, v: x.scatter(1, _long(lib, [[0, 1], [3, 2], [2, 0]]), v * v) ** 2,
    [(3, 4), (3, 2)],
)
add(
    "masked_scatter",
    lambda lib, x, v: x.masked_scatter(x > 0, v * v) ** 2,
    [(3, 4), (3, 4)],
    signs=True,
)
add(
    "repeat_interleave-roll-flip",
    lambda lib, x: x.repeat_interleave(2, 1).roll(1, 0).flip(1) ** 3,
    [(3, 4)],
)
add(
    "Tensor.unfold-narrow-diagonal",
    lambda lib, x: x.unfold(1, 2, 1) ** 3 + x.narrow(1, 1, 2).sum() * x.diagonal().sum(),
    [(4, 4)],
)
add(
    "baddbmm",
    lambda lib, c, a, b: lib.baddbmm(c, a, b, alpha=0.5) ** 2,
    [(2, 3, 2), (2, 3, 4), (2, 4, 2)],
)
add(
    "addmv",
    lambda lib, c, m, v: lib.addmv(c, m, v, beta=0.5) ** 2,
    [(3,), (3, 4), (4,)],
)
add(
    "tensordot",
    lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [0, 1])) ** 2,
    [(2, 3, 4), (3, 4, 2)],
)
add("dot-vdot-mv", lambda lib, a, b, m: lib.dot(a, b) * lib.mv(m, a) ** 2, [(3,), (3,), (2, 3)])
add(
    "linalg.solve",
    lambda lib, a, b: lib.linalg.solve(a + 4 * lib.eye(3, dtype=lib.float64), b),
    [(3, 3), (3, 2)],
)
add(
    "linalg.norm-vector_norm-matrix_norm",
    lambda lib, a: (
        lib.linalg.norm(a) * lib.linalg.vector_norm(a, 3, dim=1) + lib.linalg.matrix_norm(a)
    ),
    [(3, 3)],
)
add(
    "linalg.cholesky",
    lambda lib, a: lib.linalg.cholesky(a @ a.mT + 3 * lib.eye(3, dtype=lib.float64)),
    [(3, 3)],
)
add(
    "linalg.slogdet-logdet",
    lambda lib, a: lib.linalg.slogdet(a + 4 * lib.eye(3, dtype=lib.float64))[1] * a.sum(),
    [(3, 3)],
)
add("linalg.eigh", lambda lib, a: lib.linalg.eigh(a + a.mT)[0] ** 2, [(3, 3)])
add("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a) ** 2, [(3, 2)])
add("linalg.qr", lambda lib, a: lib.linalg.qr(a)[1] ** 2, [(3, 2)])
add("linalg.matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a * 0.5), [(3, 3)])
add("linalg.pinv", lambda lib, a: lib.linalg.pinv(a), [(3, 2)])
add(
    "erf-erfinv-lgamma-digamma",
    lambda lib, x: x.erf() * (x * 0.3).erfinv() + x.lgamma() + x.digamma(),
    [(3, 4)],
    lo=0.5,
    hi=1.5,
)
add(
    "special.xlogy-i0-entr",
    lambda lib, x, y: lib.special.xlogy(x, y) + lib.special.i0(x) + lib.special.entr(y),
    [(3, 4), (3, 4)],
    lo=0.3,
)
add(
    "polygamma-mvlgamma",
    lambda lib, x: lib.polygamma(1, x) + lib.mvlgamma(x + 2, 2),
    [(3, 4)],
    lo=0.5,
)
add(
    "fmod-remainder-hypot",
    lambda lib, x, y: lib.fmod(x, 0.7) * lib.remainder(x, 0.9) + lib.hypot(x, y),
    [(3, 4)] * 2,
    signs=True,
)
add(
    "min-max-binary",
    lambda lib, x, y: lib.maximum(x, y) ** 2 * lib.minimum(x, y) + lib.fmax(x, y) ** 3,
    [(3, 4)] * 2,
)
add(
    "sum-mean-amin-nansum",
    lambda lib, x: x.sum(0) ** 2 + x.mean(1).sum() ** 3 + x.amin(0).sum() ** 2 + x.nansum() ** 2,
    [(3, 4)],
)
add(
    "softmax-tensor-methods",
    lambda lib, x: x.softmax(0) * x.log_softmax(1) + lib.special.log_softmax(x, 1),
    [(3, 4)],
)
add(
    "cat-stack-split-chunk",
    lambda lib, x, y: (
        (lib.cat([x, y]) ** 2).sum()
        + lib.stack([x, y]).sum(0) ** 3
        + x.split(2, 1)[1].sum() * y.chunk(2, 0)[0].sum()
    ),
    [(2, 4), (2, 4)],
)
add(
    "expand-permute-view",
    lambda lib, x: x.expand(2, 3, 4).permute(2, 0, 1).reshape(4, 6) ** 3,
    [(3, 4)],
)
add(
    "complex-abs-angle",
    lambda lib, x, y: lib.complex(x, y).abs() ** 3 + lib.complex(x, y).angle() ** 2,
    [(3, 4)] * 2,
    signs=True,
)
add("fft.rfft", lambda lib, x: lib.fft.rfft(x).abs() ** 2, [(2, 6)])
add("trapezoid-diff", lambda lib, x: lib.trapezoid(x**2) + lib.diff(x, dim=1) ** 3, [(3, 4)])
add(
    "cosh-sinh-asinh-atanh",
    lambda lib, x: x.cosh() * x.sinh() + x.asinh() * (x * 0.4).atanh(),
    [(3, 4)],
)
add(
    "sign-round-frac",
    lambda lib, x: x.frac() ** 3 + x.round() * x**2 + x.sign() * x**3,
    [(3, 4)],
    signs=True,
)
add(
    "nan_to_num-clip-square",
    lambda lib, x: x.nan_to_num().clip(-1.5, 1.5).square() * x,
    [(3, 4)],
    signs=True,
)


NOT_IMPLEMENTED = "torch: derivative not implemented"


def _ids(cases):
    return [c.name for c in cases]


def _inputs(lib, c):
    return [lib.from_numpy(a.copy()).requires_grad_(True) for a in c.arrays()]


def _np(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)  # torch's ZeroTensor gradients too
    return t.detach().numpy()


def _cell(lib, kind, x, h, c, wih, whh, bih, bhh):
    mod = getattr(lib.nn, kind)(3, 2).double()
    params = {"weight_ih": wih, "weight_hh": whh, "bias_ih": bih, "bias_hh": bhh}
    if kind == "LSTMCell":
        hy, cy = lib.func.functional_call(mod, params, (x, (h, c)))
        return hy * cy
    return lib.func.functional_call(mod, params, (x, h + c)) ** 2


add(
    "nn.LSTMCell",
    lambda lib, *a: _cell(lib, "LSTMCell", *a),
    [(2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,)],
    lo=-1.0,
    hi=1.0,
)
add(
    "nn.GRUCell",
    lambda lib, *a: _cell(lib, "GRUCell", *a),
    [(2, 3), (2, 2), (2, 2), (6, 3), (6, 2), (6,), (6,)],
    lo=-1.0,
    hi=1.0,
)
add(
    "nn.LSTM",
    lambda lib, x, wih, whh, bih: (
        lib.func.functional_call(
            lib.nn.LSTM(2, 2, batch_first=True).double(),
            {"weight_ih_l0": wih, "weight_hh_l0": whh, "bias_ih_l0": bih, "bias_hh_l0": bih * 0},
            (x,),
        )[0]
        ** 2
    ),
    [(1, 3, 2), (8, 2), (8, 2), (8,)],
    lo=-1.0,
    hi=1.0,
)
add(
    "nn.GRU",
    lambda lib, x, wih, whh, bih: (
        lib.func.functional_call(
            lib.nn.GRU(2, 2).double(),
            {"weight_ih_l0": wih, "weight_hh_l0": whh, "bias_ih_l0": bih, "bias_hh_l0": bih * 0},
            (x,),
        )[0]
        ** 2
    ),
    [(3, 1, 2), (6, 2), (6, 2), (6,)],
    lo=-1.0,
    hi=1.0,
)
add(
    "linalg.lu_factor-lu_solve",
    lambda lib, a, b: lib.linalg.lu_solve(
        *lib.linalg.lu_factor(a + 4 * lib.eye(3, dtype=lib.float64)), b
    ),
    [(3, 3), (3, 2)],
)
add(
    "linalg.lu",
    lambda lib, a: lib.linalg.lu(a + 4 * lib.eye(3, dtype=lib.float64))[2] ** 2,
    [(3, 3)],
)
add("linalg.lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, [(4, 2), (4, 2)])
add(
    "linalg.solve_triangular",
    lambda lib, a, b: lib.linalg.solve_triangular(
        a.triu() + 4 * lib.eye(3, dtype=lib.float64), b, upper=True
    ),
    [(3, 3), (3, 2)],
)
add("clamp-tensor-bounds", lambda lib, x, lo: x.clamp(min=lo) ** 3, [(3, 4), (3, 4)], signs=True)
add("pow-scalar-base-norm-p", lambda lib, x: 2.0**x + x.norm(p=3) ** 2, [(3, 4)])
add(
    "logaddexp-logaddexp2",
    lambda lib, a, b: lib.logaddexp(a, b) * lib.logaddexp2(a, b),
    [(3, 4)] * 2,
)
add(
    "trig-unary",
    lambda lib, x: (
        x.sin() * x.cos()
        + x.tan()
        + x.asin() * x.acos()
        + x.atan()
        + x.expm1()
        + x.exp2() * x.reciprocal()
        + (x + 2).acosh()
        + (x + 2).log2() * (x + 2).log10()
        + x.floor() * x
        + x.ceil() * x**2
        + x.trunc() * x**3
    ),
    [(3, 4)],
    lo=0.2,
    hi=0.9,
)
add(
    "special-unary",
    lambda lib, x: (
        lib.special.erfc(x) * lib.special.sinc(x)
        + lib.special.i0e(x)
        + lib.special.i1(x) * lib.special.i1e(x)
        + lib.special.log_ndtr(x)
        + lib.special.ndtr(x)
        + lib.special.ndtri(x * 0.4 + 0.5)
        + lib.special.erfcx(x) * lib.special.xlog1py(x, x + 1)
    ),
    [(3, 4)],
    lo=0.1,
    hi=0.9,
)
add("special.zeta", lambda lib, x: lib.special.zeta(2.5, x + 1), [(3, 4)], lo=0.1)
add(
    "special.gammainc",
    lambda lib, x: (
        lib.special.gammainc(lib.full((3, 4), 1.5, dtype=lib.float64), x)
        * lib.special.gammaincc(lib.full((3, 4), 2.5, dtype=lib.float64), x)
    ),
    [(3, 4)],
    lo=0.3,
)
for _red in ("sum", "amax", "mean"):
    add(
        f"scatter_reduce-{_red}",
        lambda lib, x, s, _red=_red: (
            x.scatter_reduce(1, _long(lib, [[0, 1, 1], [3, 3, 2], [2, 0, 0]]), s, _red) ** 2
        ),
        [(3, 4), (3, 3)],
        lo=0.5,
    )
add("median-global-diag_embed", lambda lib, x: x.median() ** 3 + lib.diag_embed(x) ** 2, [(3, 4)])
add(
    "fft.fft-ifft-irfft",
    lambda lib, x: lib.fft.ifft(lib.fft.fft(x) ** 2).real + lib.fft.irfft(lib.fft.rfft(x) ** 2, 4),
    [(3, 4)],
)
add(
    "utils.checkpoint",
    lambda lib, x, w: lib.utils.checkpoint.checkpoint(
        lambda a, b: (a @ b).tanh(), x, w, use_reentrant=False
    ),
    [(3, 4), (4, 2)],
)


add(
    "distributions-Gamma-Dirichlet-Beta",
    lambda lib, c, r, x: (
        lib.distributions.Gamma(c, r).log_prob(x)
        + lib.distributions.Dirichlet(c).log_prob(x / x.sum(-1, keepdim=True))[..., None]
        + lib.distributions.Beta(c, r).log_prob(x * 0.3)
    ),
    [(2, 3), (2, 3), (2, 3)],
    lo=0.5,
    hi=2.0,
)
add(
    "distributions-MultivariateNormal",
    lambda lib, m, a, x: lib.distributions.MultivariateNormal(
        m, scale_tril=a.tril(-1) + lib.diag_embed(a.diagonal(dim1=-2, dim2=-1).exp())
    ).log_prob(x),
    [(3,), (3, 3), (2, 3)],
    lo=-1.0,
    hi=1.0,
)
add(
    "distributions-MultivariateNormal-cov",
    lambda lib, m, a, x: lib.distributions.MultivariateNormal(
        m, covariance_matrix=a @ a.mT + lib.eye(3, dtype=lib.float64)
    ).log_prob(x),
    [(3,), (3, 3), (2, 3)],
    lo=-1.0,
    hi=1.0,
)
add(
    "linalg.lu_unpack",
    lambda lib, a: (
        lib.lu_unpack(*lib.linalg.lu_factor(a + 4 * lib.eye(3, dtype=lib.float64)))[2] ** 2
    ),
    [(3, 3)],
)
add(
    "complex-polar-conj-sgn",
    lambda lib, r, t: (
        (lib.polar(r, t).conj() * lib.polar(r, t * 2)).real ** 2
        + lib.sgn(lib.complex(r, t)).imag * r
    ),
    [(3, 4), (3, 4)],
    lo=0.5,
)
add(
    "div-rounding-true-scalar",
    lambda lib, x, y: lib.div(x, y, rounding_mode=None) ** 2 + x.div(2.5) ** 3 + 3.0 / y,
    [(3, 4), (3, 4)],
    signs=True,
)
add(
    "to-float64-alias-view_as",
    lambda lib, x, y: (
        x.to(lib.float64).view_as(y) ** 2 * y.alias()
        if hasattr(y, "alias")
        else x.to(lib.float64).view_as(y) ** 2 * y
    ),
    [(3, 4), (3, 4)],
)

# ops3 (#14): the conv/pool/activation functionals added there
_U2 = [[[0.3, 0.7]]]  # fractional pooling's _random_samples, fixed for both libraries
_U3 = [[[0.2, 0.5, 0.8]]]
add(
    "F.conv_transpose3d",
    lambda lib, x, w, b: _F(lib).conv_transpose3d(x, w, b, stride=2, padding=1) ** 2,
    [(1, 2, 2, 2, 2), (2, 1, 2, 2, 2), (1,)],
)
add("F.lp_pool1d", lambda lib, x: _F(lib).lp_pool1d(x, 2, 2), [(1, 2, 6)], lo=0.5)
add("F.lp_pool3d", lambda lib, x: _F(lib).lp_pool3d(x, 2, 2), [(1, 1, 2, 4, 4)], lo=0.5)
add(
    "F.max_unpool1d-max_unpool3d",
    lambda lib, x, y: (
        _F(lib).max_unpool1d(*_F(lib).max_pool1d_with_indices(x, 2), 2).sum() ** 2
        + _F(lib).max_unpool3d(*_F(lib).max_pool3d_with_indices(y, 2), 2) ** 2
    ),
    [(1, 2, 6), (1, 1, 2, 4, 4)],
)
add(
    "F.fractional_max_pool2d-fractional_max_pool2d_with_indices",
    lambda lib, x: (
        _F(lib).fractional_max_pool2d(x, 2, 3, _random_samples=_f64(lib, _U2)) ** 2
        + _F(lib)
        .fractional_max_pool2d_with_indices(
            x, 2, 3, return_indices=True, _random_samples=_f64(lib, _U2)
        )[0]
        .sum()
    ),
    [(1, 1, 6, 6)],
)
add(
    "F.fractional_max_pool3d-fractional_max_pool3d_with_indices",
    lambda lib, x: (
        _F(lib).fractional_max_pool3d(x, 2, 3, _random_samples=_f64(lib, _U3)) ** 2
        + _F(lib)
        .fractional_max_pool3d_with_indices(
            x, 2, 3, return_indices=True, _random_samples=_f64(lib, _U3)
        )[0]
        .sum()
    ),
    [(1, 1, 5, 5, 5)],
)
add("F.channel_shuffle", lambda lib, x: _F(lib).channel_shuffle(x, 2) ** 3, [(1, 4, 3)])
add("F.rrelu", lambda lib, x: _F(lib).rrelu(x, 0.1, 0.3) ** 2, [(3, 4)], signs=True)
add(
    "F.adaptive_max_pool1d_with_indices-adaptive_max_pool2d_with_indices",
    lambda lib, x: (
        (_F(lib).adaptive_max_pool1d_with_indices(x.flatten(2), 3)[0] ** 2).sum()
        + _F(lib).adaptive_max_pool2d_with_indices(x, 2)[0] ** 2
    ),
    [(1, 2, 4, 4)],
)
add(
    "F.pdist",
    lambda lib, x: _F(lib).pdist(x),
    [(4, 3)],
    refused="the derivative for '_pdist_backward' is not implemented",
)

# public functions of nn.functional (shared with torch) that have no row, and why
NO_ROW = {
    "one_hot": "integer output: not differentiable",
    "gumbel_softmax": "random: the two libraries draw different noise",
    "Tensor": "a class",
    "native_channel_shuffle": "torch has no derivative for it (ctorch's is channel_shuffle's)",
}


def test_every_functional_has_a_row():
    import re

    covered = set(re.findall(r"[A-Za-z0-9_]+", " ".join(c.name for c in CASES)))
    for name in dir(torch.nn.functional):
        fn = getattr(ctorch.nn.functional, name, None)
        if name.startswith("_") or not callable(fn) or name.endswith("_"):
            continue  # private, absent, or in place (leaves cannot be changed in place)
        if not callable(getattr(torch.nn.functional, name)):
            continue
        assert name in covered or name in NO_ROW, f"F.{name} has no double-backward row"


def test_table_covers_the_brief():
    names = " ".join(c.name for c in CASES)
    for word in (
        "cross_entropy",
        "nll_loss",
        "binary_cross_entropy",
        "mse_loss",
        "scaled_dot_product_attention",
        "conv_transpose",
        "grid_sample",
        "unfold",
        "fold",
        "cumprod",
        "topk",
        "embedding",
        "interpolate",
        "pad",
        "matmul",
    ):
        assert word in names, word
    for r in REDUCTIONS:
        assert f"cross_entropy-{r}" in names


@pytest.mark.parametrize("c", CASES, ids=_ids(CASES))
def test_gradgradcheck(c):
    xs = _inputs(ctorch, c)
    if c.refused:
        with pytest.raises(NotImplementedError, match=c.refused):
            ctorch.autograd.gradgradcheck(lambda *a: c.fn(ctorch, *a), tuple(xs))
        return
    assert ctorch.autograd.gradgradcheck(
        lambda *a: c.fn(ctorch, *a), tuple(xs), atol=c.atol, rtol=c.rtol
    )


@pytest.mark.parametrize("c", CASES, ids=_ids(CASES))
def test_double_backward_matches_torch(c):
    results = {}
    rng = np.random.default_rng(1)
    v = u = None
    for lib in (torch, ctorch):
        xs = _inputs(lib, c)
        out = c.fn(lib, *xs)
        if v is None:
            v = rng.standard_normal(tuple(out.shape))
        g = lib.autograd.grad(out, xs, lib.from_numpy(v.copy()), create_graph=True)
        if u is None:
            u = [rng.standard_normal(tuple(gi.shape)) for gi in g]
        pairs = [(gi, ui) for gi, ui in zip(g, u, strict=True) if gi.requires_grad]
        gg = [None] * len(xs)
        if pairs:
            s = sum((gi * lib.from_numpy(ui.copy())).sum() for gi, ui in pairs)
            try:
                gg = lib.autograd.grad(s, xs, allow_unused=True)
            except (RuntimeError, NotImplementedError) as e:
                # torch refuses some double backwards; ctorch either refuses with the same
                # words or computes one (test_gradgradcheck holds it to finite differences)
                assert (lib is torch or c.refused) and "not implemented" in str(e), e
                assert lib is torch or c.refused in str(e), e
                gg = NOT_IMPLEMENTED
        results[lib.__name__] = (out, g, gg)
    (to, tg, tgg), (co, cg, cgg) = results["torch"], results["ctorch"]
    np.testing.assert_allclose(_np(co), _np(to), rtol=1e-7, atol=1e-10)
    for a, b in zip(cg, tg, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-7, atol=1e-10)
    if c.refused:
        assert tgg is NOT_IMPLEMENTED and cgg is NOT_IMPLEMENTED
    if tgg is NOT_IMPLEMENTED:
        return
    for i, (a, b) in enumerate(zip(cgg, tgg, strict=True)):
        if b is None:  # torch: the second derivative w.r.t. this input is zero
            assert a is None or not np.any(_np(a)), f"input {i}"
        else:
            if a is None:
                assert not np.any(_np(b)), f"input {i}: ctorch has no second derivative"
                continue
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-9, err_msg=f"input {i}")


def test_cdist_refuses_double_backward_as_torch():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    for lib in (torch, ctorch):
        x1 = lib.from_numpy(a.copy()).requires_grad_(True)
        x2 = lib.from_numpy(b.copy()).requires_grad_(True)
        (g,) = lib.autograd.grad(lib.cdist(x1, x2).sum(), x1, create_graph=True)
        assert g.requires_grad
        if lib is ctorch:  # the first-order value is the plain backward's
            x1n = ctorch.from_numpy(a.copy()).requires_grad_(True)
            ctorch.cdist(x1n, ctorch.from_numpy(b.copy())).sum().backward()
            np.testing.assert_array_equal(g.detach().numpy(), x1n.grad.numpy())
        with pytest.raises(NotImplementedError, match="'_cdist_backward' is not implemented"):
            lib.autograd.grad(g.sum(), x1)


def test_fmax_fmin_nan_to_num_gradients_match_torch():
    """first-order gradients (these ops had none): NaN/inf placement as torch's."""
    a = np.array([1.0, np.nan, 3.0, np.nan, -np.inf, 2.0])
    b = np.array([2.0, 1.0, np.nan, np.nan, 0.0, 2.0])
    res = {}
    for lib in (torch, ctorch):
        out = []
        for name in ("fmax", "fmin", "nan_to_num"):
            x = lib.from_numpy(a.copy()).requires_grad_(True)
            y = lib.from_numpy(b.copy()).requires_grad_(True)
            o = lib.nan_to_num(x, posinf=5.0) if name == "nan_to_num" else getattr(lib, name)(x, y)
            o.backward(lib.from_numpy(np.arange(1.0, 7.0)))
            out += [o.detach().numpy(), x.grad.numpy(), None if y.grad is None else y.grad.numpy()]
        res[lib.__name__] = out
    for c, t in zip(res["ctorch"], res["torch"], strict=True):
        if t is None:
            assert c is None
        else:
            np.testing.assert_array_equal(c, t)


def test_scatter_reduce_prod_refuses_double_backward():
    x = ctorch.rand(3, 4, dtype=ctorch.float64, requires_grad=True)
    s = ctorch.rand(3, 2, dtype=ctorch.float64, requires_grad=True)
    out = x.scatter_reduce(1, ctorch.tensor([[0, 1], [3, 3], [2, 0]]), s, "prod")
    gx, gs = ctorch.autograd.grad(out.sum(), (x, s), create_graph=True)
    ref = ctorch.autograd.grad(  # first order without create_graph: the same values
        x.scatter_reduce(1, ctorch.tensor([[0, 1], [3, 3], [2, 0]]), s, "prod").sum(), (x, s)
    )
    np.testing.assert_array_equal(gx.detach().numpy(), ref[0].numpy())
    with pytest.raises(NotImplementedError, match="double backward of scatter_reduce"):
        ctorch.autograd.grad(gx.sum(), x)


# Above the kernels' size thresholds (the rows above are small enough to take the NumPy
# fallbacks of some ops): torch parity only, gradgradcheck would be slow here.
BIG = [
    Case(
        "big-cross_entropy",
        lambda lib, x: _F(lib).cross_entropy(x, lib.arange(64) % 100, label_smoothing=0.1),
        [(64, 100)],
    ),
    Case(
        "big-conv2d",
        lambda lib, x, w: _F(lib).conv2d(x, w, padding=1).tanh(),
        [(2, 8, 16, 16), (8, 8, 3, 3)],
    ),
    Case(
        "big-batch_norm-layer_norm",
        lambda lib, x: (
            _F(lib).layer_norm(_F(lib).batch_norm(x, None, None, training=True), (32,)).sin()
        ),
        [(64, 32)],
    ),
    Case(
        "big-softmax-gelu-silu",
        lambda lib, x: _F(lib).gelu(x).softmax(1) * _F(lib).silu(x),
        [(64, 256)],
    ),
    Case(
        "big-sdpa",
        lambda lib, q, k, v: _F(lib).scaled_dot_product_attention(q, k, v, is_causal=True),
        [(2, 4, 64, 16)] * 3,
    ),
    Case(
        "big-mse-bce",
        lambda lib, x, t: (
            _F(lib).mse_loss(x, t) + _F(lib).binary_cross_entropy(x.sigmoid(), t.sigmoid())
        ),
        [(64, 128)] * 2,
    ),
    Case(
        "big-max_pool-avg_pool",
        lambda lib, x: _F(lib).max_pool2d(x, 2) ** 2 + _F(lib).avg_pool2d(x, 2) ** 3,
        [(2, 8, 16, 16)],
    ),
    Case(
        "big-embedding-lstm",
        lambda lib, w: _F(lib).embedding(lib.arange(200) % 50, w) ** 2,
        [(50, 16)],
    ),
]


@pytest.mark.parametrize("c", BIG, ids=_ids(BIG))
def test_double_backward_matches_torch_above_kernel_thresholds(c):
    test_double_backward_matches_torch(c)
