"""torch's autocast op lists (aten/src/ATen/autocast_mode.cpp, torch 2.13), mapped to ctorch.

Names are torch's public names; one ctorch lacks is skipped (it joins the list when it is
added). ``lower``: runs in the autocast dtype; ``fp32``: runs in float32; ``promote``: runs in
the widest floating type of its inputs; ``fp32_opt``: float32 when the input is 16-bit;
``banned``: raises under autocast (CUDA ``binary_cross_entropy``).
"""

from __future__ import annotations

import sys

CPU_LOWER = (
    "conv1d conv2d conv3d bmm mm linalg.vecdot baddbmm addmm addbmm linear matmul conv_tbc "
    "conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention"
).split()
CPU_FP32 = (
    "avg_pool3d binary_cross_entropy grid_sample polar prod quantile nanquantile stft cdist "
    "trace view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr "
    "ormqr pinverse max_pool3d max_unpool2d max_unpool3d adaptive_avg_pool3d mse_loss "
    "cosine_embedding_loss nll_loss hinge_embedding_loss poisson_nll_loss smooth_l1_loss "
    "cross_entropy l1_loss huber_loss margin_ranking_loss soft_margin_loss "
    "triplet_margin_loss multi_margin_loss ctc_loss kl_div multilabel_margin_loss "
    "binary_cross_entropy_with_logits fft.fft fft.ifft fft.fft2 fft.ifft2 fft.fftn fft.ifftn "
    "fft.rfft fft.irfft fft.rfft2 fft.irfft2 fft.rfftn fft.irfftn fft.hfft fft.ihfft "
    "linalg.cond linalg.matrix_rank linalg.solve linalg.cholesky linalg.svdvals "
    "linalg.eigvals linalg.eigvalsh linalg.inv linalg.householder_product linalg.tensorinv "
    "linalg.tensorsolve geqrf qr svd triangular_solve fractional_max_pool2d "
    "fractional_max_pool3d adaptive_max_pool3d linalg.qr linalg.cholesky_ex linalg.svd "
    "linalg.eig linalg.eigh linalg.lstsq linalg.inv_ex"
).split()
CPU_PROMOTE = "stack cat index_copy".split()

CUDA_LOWER = (
    "conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d prelu "
    "addmm addmv addr matmul einsum mm mv linalg.vecdot linear addbmm baddbmm bmm "
    "chain_matmul linalg.multi_dot lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell "
    "scaled_dot_product_attention"
).split()
CUDA_FP32 = (
    "acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow "
    "softplus layer_norm group_norm norm nuclear_norm cosine_similarity poisson_nll_loss "
    "cosine_embedding_loss nll_loss hinge_embedding_loss kl_div l1_loss smooth_l1_loss "
    "huber_loss mse_loss margin_ranking_loss multilabel_margin_loss soft_margin_loss "
    "triplet_margin_loss multi_margin_loss binary_cross_entropy_with_logits dist pdist cdist "
    "renorm logsumexp interpolate upsample grid_sample"
).split()
CUDA_FP32_OPT = (
    "prod softmax log_softmax cumprod cumsum linalg.vector_norm linalg.matrix_norm sum".split()
)
CUDA_PROMOTE = (
    "addcdiv addcmul atan2 bilinear cross dot grid_sample index_put scatter_add tensordot "
    "stack cat index_copy"
).split()
CUDA_BANNED = ["binary_cross_entropy"]


def policies() -> dict:
    """{torch name: {device_type: policy}}."""
    out: dict = {}
    for dev, groups in (
        ("cpu", (("lower", CPU_LOWER), ("fp32", CPU_FP32), ("promote", CPU_PROMOTE))),
        (
            "cuda",
            (
                ("lower", CUDA_LOWER),
                ("fp32", CUDA_FP32),
                ("fp32_opt", CUDA_FP32_OPT),
                ("promote", CUDA_PROMOTE),
                ("banned", CUDA_BANNED),
            ),
        ),
    ):
        for pol, names in groups:
            for n in names:
                out.setdefault(n, {})[dev] = pol
    return out


def _namespaces():
    """Where torch's names live in ctorch: top level, nn.functional, linalg, fft."""
    import ctorch

    spaces = [("", ctorch)]
    for sub, mod in (
        ("F", "ctorch.nn.functional"),
        ("linalg", "ctorch.linalg"),
        ("fft", "ctorch.fft"),
    ):
        m = sys.modules.get(mod)
        if m is not None:
            spaces.append((sub, m))
    return spaces


def public_targets() -> list:
    """[(module, attribute, {device: policy})] for every listed op ctorch has."""
    out = []
    spaces = _namespaces()
    for name, pols in policies().items():
        if "." in name:
            sub, attr = name.split(".", 1)
            for s, m in spaces:
                if s == sub:
                    out.append((m, attr, pols))
            continue
        for s, m in spaces:
            if s in ("", "F") and hasattr(m, name):
                out.append((m, name, pols))
    return out


def set_function_policies() -> None:
    """Policies of the Functions a listed op may be reached through without its public name
    (``a @ b``, ``Tensor.exp``, nn modules calling Functions directly)."""
    from ..ops import conv, linalg, unary

    both_lower = {"cpu": "lower", "cuda": "lower"}
    for cls in (linalg.MatMul, linalg.Linear, conv.Conv2dFn, conv.ConvTranspose2dFn):
        cls._ac = both_lower
    for name in (
        "acos asin cosh exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan softplus"
    ).split():
        cls = unary.FUNCTIONS.get(name)
        if cls is not None:
            cls._ac = {"cuda": "fp32"}
