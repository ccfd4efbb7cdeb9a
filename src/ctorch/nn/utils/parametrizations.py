"""``nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``
as parametrizations (``parametrizations.weight.original0``/``original1`` ... keys, as torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

import ctorch

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """2-norm over every dim but ``dim`` (kept as size-1 dims); ``dim=-1``: the whole tensor."""
    if dim == -1:
        return (v * v).sum().sqrt()
    if dim < 0:
        dim += v.dim()
    dims = tuple(d for d in range(v.dim()) if d != dim)
    if not dims:
        return v.abs()
    return (v * v).sum(dims, keepdim=True).sqrt()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        weight_g = _norm_except_dim(weight, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """``w = g * v / ||v||`` with ``original0`` = g (the norms) and ``original1`` = v.

    Also loads state dicts saved with the legacy ``nn.utils.weight_norm`` (``weight_g`` and
    ``weight_v`` keys), as torch."""
    _weight_norm_mod = _WeightNorm(dim)
    parametrize.register_parametrization(module, name, _weight_norm_mod, unsafe=True)

    def _weight_norm_compat_hook(
        state_dict: dict,
        prefix: str,
        local_metadata: Any,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0 = state_dict.pop(g_key)
            original1 = state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                "Dimension out of range (expected to be in range of "
                f"[-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = ctorch.empty(h, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            v = ctorch.empty(w, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # in place, as torch's ``out=`` (the buffers keep their identity)
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(ctorch.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(ctorch.mv(weight_mat.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = ctorch.vdot(u, ctorch.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divide ``module.<name>`` by its spectral norm (power iteration, one step per training
    forward); the ``_u``/``_v`` estimates are buffers of ``parametrizations.<name>.0``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module


# ------------------------------------------------------------------------------ orthogonal
def _qr_q(a: np.ndarray) -> np.ndarray:
    """The Q of A = QR with R's diagonal made positive (unique Q)."""
    q, r = np.linalg.qr(a)
    d = np.sign(np.diagonal(r, axis1=-2, axis2=-1)).copy()
    d[d == 0] = 1
    return q * d[..., None, :]


class _Orthogonal(Module):
    """Orthogonal (semi-orthogonal when not square) matrices, as torch's ``_Orthogonal``: the
    lower triangle of X gives a skew-symmetric A mapped by ``matrix_exp`` or the Cayley map
    (I - A/2)^-1 (I + A/2), or Householder reflectors; then multiplied by the trivialization
    ``base``."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        if weight.is_complex():
            raise ValueError("ctorch's orthogonal parametrization supports real matrices only")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.transpose(-2, -1)
            n, k = k, n
        # X is (n, k), n >= k: A = tril(X) - tril(X)^T restricted to the leading (n, n) block
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = ctorch.cat([X, X.new_zeros(*X.shape[:-2], n, n - k)], -1)
            A = X - X.transpose(-2, -1)
            Id = ctorch.eye(n, dtype=A.dtype, device=A.device)
            if self.orthogonal_map == "matrix_exp":
                Q = _matrix_exp(A)
            else:
                Q = _solve(Id - A / 2, Id + A / 2)
            if n != k:
                Q = Q[..., :k]
        else:
            # householder: reflectors from the strictly lower triangle, signs from the diagonal
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = _householder_product(A, tau)
            sign = np.trunc(X.detach().cpu().diagonal(dim1=-2, dim2=-1).numpy())
            Q = Q * Tensor._make(sign.astype(Q._a.dtype)).to(Q.device).unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.transpose(-2, -1)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {tuple(Q.shape)}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.transpose(-2, -1)
            n, k = k, n
        if not hasattr(self, "base"):
            raise NotImplementedError(
                "It is not possible to assign to the matrix exponential or the Cayley "
                "parametrizations when use_trivialization=False."
            )
        # trivialization: base = Q made orthogonal (completed to n x n with random columns
        # when tall); the parametrization of -Id (tril, skew part 0) is then exactly base
        qa = Q.detach().cpu()._a
        if n != k:
            extra = ctorch.randn(*qa.shape[:-1], n - k, dtype=Q.dtype).numpy()
            qa = np.concatenate([qa, extra], -1)
        # QR with a positive R diagonal keeps orthonormal columns as they are
        base = _qr_q(qa).astype(qa.dtype)
        self.base = Tensor._make(np.ascontiguousarray(base)).to(Q.device)
        neg_id = np.zeros(tuple(Q_init.shape), qa.dtype)
        r = np.arange(min(Q_init.shape[-2:]))
        neg_id[..., r, r] = -1.0
        return Tensor._make(neg_id).to(Q_init.device)


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """``linalg.householder_product`` (one autograd node: LAPACK forward, torch's closed-form
    backward), through the CPU for a tensor elsewhere (linalg runs on the CPU)."""
    if A.device.type == "cpu":
        return ctorch.linalg.householder_product(A, tau)
    return ctorch.linalg.householder_product(A.cpu(), tau.cpu()).to(A.device)


def _matrix_exp(A: Tensor) -> Tensor:
    """exp(A) by scaling and squaring a degree-18 Taylor series (differentiable)."""
    norm = float(np.abs(A.detach().cpu()._a).sum(-2).max()) if A.numel() else 0.0
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 else 0
    X = A / (2**s)
    Id = ctorch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    term = Id
    out = Id
    for i in range(1, 19):
        term = term @ X / i
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _solve(A: Tensor, B: Tensor) -> Tensor:
    """A^-1 B for a small square A (differentiable through the inverse: d(A^-1) = -A^-1 dA A^-1)."""
    from ...autograd.function import Function

    class _Inv(Function):
        @staticmethod
        def forward(ctx: Any, a: Tensor) -> Tensor:
            inv = Tensor._make(np.linalg.inv(a.detach().cpu()._a)).to(a.device)
            ctx.inv = inv
            return inv

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            inv_t = ctx.inv.transpose(-2, -1)
            return -(inv_t @ g @ inv_t)

    return _Inv.apply(A) @ B


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal, as torch's
    ``orthogonal`` (maps ``matrix_exp``, ``cayley``, ``householder``; real matrices only)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    if orthogonal_map == "householder" and not use_trivialization:
        raise NotImplementedError(
            "orthogonal(orthogonal_map='householder', use_trivialization=False) needs geqrf, "
            "which ctorch does not have; use the default use_trivialization=True"
        )
    orth_enum = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth_enum, unsafe=True)
    return module
