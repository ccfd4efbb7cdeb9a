"""``torch.return_types``: the named tuples ops return (``max``, ``sort``, ``linalg_eigh``, ...).

Each class is the one the op itself returns (``ops._util.return_type`` caches them by name),
so ``isinstance(ctorch.max(x, 0), ctorch.return_types.max)`` holds, as in torch. The field
names are torch 2.13's.
"""

from __future__ import annotations

from .ops._util import return_type

_VI = ("values", "indices")
_FIELDS = {
    "aminmax": ("min", "max"),
    "cummax": _VI,
    "cummin": _VI,
    "frexp": ("mantissa", "exponent"),
    "geqrf": ("a", "tau"),
    "histogram": ("hist", "bin_edges"),
    "histogramdd": ("hist", "bin_edges"),
    "kthvalue": _VI,
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_ldl_factor": ("LD", "pivots"),
    "linalg_ldl_factor_ex": ("LD", "pivots", "info"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_lu": ("P", "L", "U"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_qr": ("Q", "R"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_solve_ex": ("result", "info"),
    "linalg_svd": ("U", "S", "Vh"),
    "lu_unpack": ("P", "L", "U"),
    "max": _VI,
    "median": _VI,
    "min": _VI,
    "mode": _VI,
    "nanmedian": _VI,
    "qr": ("Q", "R"),
    "slogdet": ("sign", "logabsdet"),
    "sort": _VI,
    "svd": ("U", "S", "V"),
    "topk": _VI,
    "triangular_solve": ("solution", "cloned_coefficient"),
}

__all__ = sorted(_FIELDS)


def __getattr__(name: str) -> type:
    fields = _FIELDS.get(name)
    if fields is None:
        raise AttributeError(f"module 'ctorch.return_types' has no attribute {name!r}")
    cls = return_type(name, fields)
    globals()[name] = cls
    return cls


def __dir__() -> list:
    return __all__
