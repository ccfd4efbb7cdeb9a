"""``torch.sparse``: COO and compressed (CSR/CSC/BSR/BSC, batched and hybrid) sparse tensors
on scipy.sparse (CPU) and cupyx.scipy.sparse (GPU), with autograd (gradients of sparse
inputs are sparse with the input's pattern).

``ctorch.sparse_coo_tensor``/``sparse_compressed_tensor`` (and ``sparse_csr_tensor``/
``csc``/``bsr``/``bsc``)/``Tensor.to_sparse(layout=)`` make them;
``torch.sparse.mm``/``addmm``/``sum``/``softmax``/``log_softmax``/``sampled_addmm`` and
``torch.mm``/``matmul``/``@`` with a sparse operand compute with them.
"""

from __future__ import annotations

from .. import _legacy_types
from ._linalg import addmm, log_softmax, sampled_addmm, softmax, spmm
from ._linalg import sparse_mm as mm
from ._linalg import sparse_sum as sum  # noqa: A004
from ._tensor import SparseTensor

# torch.sparse.FloatTensor(indices, values, size) ... (all but BoolTensor): the legacy
# constructors
globals().update(_legacy_types.make("ctorch.sparse", sparse=True))

__all__ = [
    "SparseTensor",
    "addmm",
    "check_sparse_tensor_invariants",
    "log_softmax",
    "mm",
    "sampled_addmm",
    "softmax",
    "spmm",
    "sum",
]


class check_sparse_tensor_invariants:
    """``torch.sparse.check_sparse_tensor_invariants``: ctorch always checks the indices of
    the sparse tensors it builds, so this context manager / decorator changes nothing."""

    _enabled = True

    def __init__(self, enable: bool = True) -> None:
        self._state = enable

    @staticmethod
    def is_enabled() -> bool:
        return True

    @staticmethod
    def enable() -> None:
        pass

    @staticmethod
    def disable() -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __call__(self, fn):
        return fn


def _install(ns: dict) -> None:
    from ._install import install

    install(ns)
