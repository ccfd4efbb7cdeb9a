"""Tensor semantics real code leans on, printed so that torch and ctorch can be compared line by
line: promotion, integer division, NaN handling in reductions and sorting, ties, empty inputs,
padding and resampling modes."""

import math

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(2)


def show(name, t):
    if isinstance(t, torch.Tensor):
        v = (
            t.detach().double().reshape(-1).tolist()
            if t.numel() <= 64
            else [t.double().sum().item()]
        )
        print(
            name,
            str(t.dtype).split(".")[-1],
            tuple(t.shape),
            [round(x, 8) if isinstance(x, float) and math.isfinite(x) else x for x in v],
        )
    else:
        print(name, t)


a = torch.tensor([-7, -3, 0, 3, 7])
b = torch.tensor([2, -2, 3, -3, 2])
show("floor_div", torch.div(a, b, rounding_mode="floor"))
show("trunc_div", torch.div(a, b, rounding_mode="trunc"))
show("true_div", a / b)
show("floordiv_op", a // b)
show("remainder", torch.remainder(a, b))
show("fmod", torch.fmod(a, b))
show("int_pow", a**2)
show("int_float_scalar", a * 1.5)
show("bool_add", torch.tensor([True, False]) + 1)
show("uint8_wrap", torch.tensor([250], dtype=torch.uint8) + 10)
show("int_mean_err", "skip")
show("bitwise", (a & 6) | (b ^ 1))
show("shift", a << 2)
x = torch.tensor([1.0, float("nan"), 3.0, -float("inf"), 2.0])
show("max_nan", x.max())
show("argmax_nan", x.argmax())
show("sort_nan", torch.sort(x).values)
show("sort_nan_desc", torch.sort(x, descending=True).indices)
show("argmax_tie", torch.tensor([1.0, 3.0, 3.0]).argmax())
show("nanmean", torch.nanmean(x))
show("nansum", torch.nansum(x))
show("cummax", torch.cummax(x, 0).indices)
show("clamp_nan", torch.clamp(x, 0, 2))
show("minimum_nan", torch.minimum(x, torch.zeros(5)))
show("fmin", torch.fmin(x, torch.zeros(5)))
show("median_even", torch.tensor([4.0, 1.0, 3.0, 2.0]).median())
show("quantile", torch.quantile(torch.tensor([1.0, 2.0, 4.0, 8.0]), torch.tensor([0.1, 0.5, 0.9])))
show(
    "quantile_nearest",
    torch.quantile(torch.tensor([1.0, 2.0, 4.0, 8.0]), 0.4, interpolation="nearest"),
)
show("mode", torch.tensor([1, 2, 2, 3, 3]).mode().values)
show("kthvalue", torch.tensor([5.0, 1.0, 4.0]).kthvalue(2))
show("std_one", torch.tensor([1.0]).std())
show("var_corr0", torch.tensor([1.0, 2.0, 4.0]).var(correction=0))
e = torch.empty(0, 3)
show("empty_sum", e.sum(0))
show("empty_mean", e.mean(0))
show("empty_prod", e.prod(0))
show("empty_amax_err", "skip")
show(
    "logsumexp_inf", torch.logsumexp(torch.tensor([[-float("inf"), -float("inf")], [0.0, 1.0]]), 1)
)
show(
    "softmax_inf_row", torch.softmax(torch.tensor([[-float("inf"), -float("inf")], [0.0, 1.0]]), 1)
)
show(
    "bucketize",
    torch.bucketize(torch.tensor([0.5, 1.0, 2.5, 9.0]), torch.tensor([1.0, 2.0, 3.0]), right=True),
)
show(
    "searchsorted",
    torch.searchsorted(torch.tensor([[1, 3, 5], [2, 4, 6]]), torch.tensor([[3], [7]]), side="left"),
)
show("histc", torch.histc(torch.tensor([1.0, 2.0, 1.0, 7.0, -1.0]), bins=4, min=0, max=8))
show("bincount_w", torch.bincount(torch.tensor([0, 2, 2]), weights=torch.tensor([0.5, 1.0, 2.0])))
show("nonzero", torch.nonzero(torch.tensor([[0, 1], [1, 1]]), as_tuple=True)[1])
show("tril_idx", torch.tril_indices(3, 4, offset=1))
show("einsum", torch.einsum("bij,bjk->bik", torch.arange(8.0).view(2, 2, 2), torch.ones(2, 2, 2)))
show("einsum_trace", torch.einsum("ii", torch.arange(9.0).view(3, 3)))
show(
    "tensordot",
    torch.tensordot(torch.arange(6.0).view(2, 3), torch.arange(6.0).view(3, 2), dims=([1], [0])),
)
show("roll", torch.roll(torch.arange(6).view(2, 3), shifts=(1, -1), dims=(0, 1)))
show("meshgrid_xy", torch.meshgrid(torch.arange(2), torch.arange(3), indexing="xy")[0])
show("neg_index", torch.arange(10)[-3:])
show("step_index", torch.arange(10)[1:8:3])
show("bool_index", torch.arange(6).view(2, 3)[torch.tensor([True, False])])
show("adv_index", torch.arange(12).view(3, 4)[[0, 2], [-1, 1]])
show("adv_mixed", torch.arange(24).view(2, 3, 4)[:, [0, 2]][..., 1])
t = torch.zeros(5)
t[[1, 1, 3]] += 1
show("index_add_dup", t)
t2 = torch.zeros(5)
t2.index_put_((torch.tensor([1, 1, 3]),), torch.tensor(1.0), accumulate=True)
show("index_put_acc", t2)
v = torch.arange(6.0).view(2, 3)
vt = v.t()
vt[0, 1] = 100
show("view_write", v)
show("masked_fill_bcast", torch.zeros(2, 3).masked_fill(torch.tensor([True, False, True]), -1))
show("where_scalar", torch.where(torch.tensor([True, False]), 1.0, 0))
show("nan_to_num", torch.nan_to_num(x, nan=0.0, posinf=9.0))
show("isin", torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5])))
img = torch.from_numpy(rng.standard_normal((1, 2, 5, 6)))
for mode in ("reflect", "replicate", "circular"):
    show("pad_" + mode, F.pad(img, (2, 1, 1, 2), mode=mode))
show("pad_const", F.pad(img, (1, 1), value=3.5))
show("interp_bilinear_ac", F.interpolate(img, size=(7, 9), mode="bilinear", align_corners=True))
show("interp_bilinear", F.interpolate(img, scale_factor=1.5, mode="bilinear"))
show("interp_bicubic", F.interpolate(img, size=(4, 4), mode="bicubic", align_corners=False))
show("interp_area", F.interpolate(img, size=(3, 4), mode="area"))
show("interp_nearest_exact", F.interpolate(img, size=(7, 4), mode="nearest-exact"))
show("interp_antialias", F.interpolate(img, size=(3, 3), mode="bilinear", antialias=True))
show("unfold", F.unfold(img, 2, dilation=1, padding=1, stride=2))
show("fold", F.fold(F.unfold(img, 2, stride=1), (5, 6), 2, stride=1))
show("pixel_shuffle", F.pixel_shuffle(torch.arange(16.0).view(1, 4, 2, 2), 2))
theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.1, 1.1, 0.0]]], dtype=torch.float64)
grid = F.affine_grid(theta, (1, 2, 5, 6), align_corners=False)
for mode in ("bilinear", "nearest", "bicubic"):
    show(
        "grid_sample_" + mode,
        F.grid_sample(img, grid, mode=mode, padding_mode="border", align_corners=False),
    )
show(
    "grid_sample_reflect",
    F.grid_sample(img, grid * 1.3, padding_mode="reflection", align_corners=True),
)
show("normalize", F.normalize(torch.tensor([[3.0, 4.0], [0.0, 0.0]]), dim=1))
show(
    "cos_sim",
    F.cosine_similarity(
        torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    ),
)
show(
    "pdist", F.pairwise_distance(torch.tensor([[1.0, 2.0]]), torch.tensor([[4.0, 6.0]]), p=2, eps=0)
)
lp = torch.log_softmax(torch.from_numpy(rng.standard_normal((3, 4))), 1)
show(
    "ce_probs",
    F.cross_entropy(
        torch.from_numpy(rng.standard_normal((3, 4))), torch.softmax(torch.ones(3, 4), 1)
    ),
)
show(
    "nll_weight",
    F.nll_loss(
        lp,
        torch.tensor([0, 3, -100]),
        weight=torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64),
    ),
)
show("kl_logtarget", F.kl_div(lp, lp.flip(0), reduction="batchmean", log_target=True))
show("huber", F.huber_loss(torch.tensor([0.0, 3.0]), torch.tensor([0.5, 0.0]), delta=2.0))
show(
    "bce_logits_pw",
    F.binary_cross_entropy_with_logits(
        torch.tensor([0.5, -1.0]), torch.tensor([1.0, 0.0]), pos_weight=torch.tensor([3.0])
    ),
)
logp = torch.log_softmax(torch.from_numpy(rng.standard_normal((6, 2, 5))), 2)
show(
    "ctc",
    F.ctc_loss(
        logp,
        torch.tensor([[1, 2, 2], [3, 0, 0]]),
        torch.tensor([6, 5]),
        torch.tensor([3, 1]),
        blank=0,
        reduction="none",
    ),
)
show("cdist", torch.cdist(torch.arange(6.0).view(3, 2), torch.ones(2, 2), p=1))
show("diff_prepend", torch.diff(torch.tensor([1, 4, 9]), prepend=torch.tensor([0])))
show("cumsum_bool", torch.tensor([True, True, False]).cumsum(0))
show("prod_int", torch.tensor([2, 3], dtype=torch.int32).prod())
show("sum_int8", torch.tensor([100, 100], dtype=torch.int8).sum())
show("mean_dtype", torch.tensor([1, 2]).float().mean())
show("round_half", torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5])))
show("round_dec", torch.round(torch.tensor([1.2345, 2.3456]), decimals=2))
show("sign_zero", torch.sign(torch.tensor([-0.0, 0.0, -2.0])))
show("copysign", torch.copysign(torch.tensor([1.0, 2.0]), torch.tensor([-0.0, 0.0])))
show("atan2", torch.atan2(torch.tensor([0.0, -0.0]), torch.tensor([-1.0, -1.0])))
show("arange_float", torch.arange(0, 1, 0.1).shape)
show("linspace_int", torch.linspace(0, 10, 4, dtype=torch.int64))
show("full_int_infer", torch.full((2,), 3).dtype)
show("tensor_mixed", torch.tensor([1, 2.5]).dtype)
show("randperm_seeded", (torch.manual_seed(3), torch.randperm(6))[1].shape)
show("chunk_uneven", [c.shape[0] for c in torch.arange(10).chunk(4)])
show("split_sizes", [c.tolist() for c in torch.arange(5).split([2, 3])])
show("tensor_split", [c.tolist() for c in torch.arange(7).tensor_split(3)])
show("unbind", len(torch.zeros(3, 2).unbind(1)))
show("repeat_interleave", torch.repeat_interleave(torch.tensor([1, 2]), torch.tensor([2, 3])))
show("expand_neg", torch.zeros(3, 1).expand(-1, 4).shape)
show("flatten_range", torch.zeros(2, 3, 4, 5).flatten(1, 2).shape)
show("unflatten", torch.zeros(2, 12).unflatten(1, (3, -1)).shape)
show("movedim", torch.zeros(2, 3, 4).movedim((0, 1), (2, 0)).shape)
show("squeeze_dims", torch.zeros(1, 2, 1).squeeze((0, 2)).shape)
