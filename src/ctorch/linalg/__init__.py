"""``ctorch.linalg``: torch.linalg's functions on NumPy/SciPy LAPACK, batched over leading
dimensions, with torch's gradients, ``_ex`` variants with LAPACK ``info`` and
``LinAlgError`` (a ``RuntimeError``) for singular or non-positive-definite input."""

from __future__ import annotations

from ._common import LinAlgError
from ._decomp import eig, eigh, eigvals, eigvalsh, qr, svd, svdvals
from ._factor import (
    cholesky,
    cholesky_ex,
    ldl_factor,
    ldl_factor_ex,
    ldl_solve,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
)
from ._lstsq import householder_product, lstsq, matrix_rank, pinv
from ._misc import (
    cond,
    cross,
    diagonal,
    matmul,
    matrix_exp,
    matrix_norm,
    matrix_power,
    multi_dot,
    norm,
    vander,
    vecdot,
    vector_norm,
)
from ._solve import (
    det,
    inv,
    inv_ex,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    tensorinv,
    tensorsolve,
)

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]
