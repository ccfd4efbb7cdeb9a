"""ctorch.return_types: torch's named-tuple classes, the same ones the ops return."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, _torch

import ctorch
import ctorch.return_types as RT

X = ctorch.tensor(np.array([[0.3, 2.0, -1.0], [1.5, 0.1, 0.7], [0.2, 0.9, 3.0]]))
SPD = X @ X.T + 3 * ctorch.eye(3, dtype=X.dtype)

CALLS = {
    "max": lambda: ctorch.max(X, 0),
    "min": lambda: X.min(1),
    "sort": lambda: X.sort(),
    "topk": lambda: X.topk(2),
    "kthvalue": lambda: X.kthvalue(2),
    "median": lambda: X.median(0),
    "nanmedian": lambda: X.nanmedian(0),
    "cummax": lambda: ctorch.cummax(X, 0),
    "cummin": lambda: X.cummin(1),
    "aminmax": lambda: ctorch.aminmax(X),
    "frexp": lambda: ctorch.frexp(X),
    "slogdet": lambda: ctorch.slogdet(SPD),
    "geqrf": lambda: ctorch.geqrf(SPD),
    "qr": lambda: ctorch.qr(SPD),
    "svd": lambda: ctorch.svd(SPD),
    "triangular_solve": lambda: ctorch.triangular_solve(SPD, SPD.triu()),
    "lu_unpack": lambda: ctorch.lu_unpack(*ctorch.linalg.lu_factor(SPD)),
    "linalg_eigh": lambda: ctorch.linalg.eigh(SPD),
    "linalg_eig": lambda: ctorch.linalg.eig(SPD),
    "linalg_slogdet": lambda: ctorch.linalg.slogdet(SPD),
    "linalg_qr": lambda: ctorch.linalg.qr(SPD),
    "linalg_svd": lambda: ctorch.linalg.svd(SPD),
    "linalg_lu": lambda: ctorch.linalg.lu(SPD),
    "linalg_lu_factor": lambda: ctorch.linalg.lu_factor(SPD),
    "linalg_lu_factor_ex": lambda: ctorch.linalg.lu_factor_ex(SPD),
    "linalg_cholesky_ex": lambda: ctorch.linalg.cholesky_ex(SPD),
    "linalg_inv_ex": lambda: ctorch.linalg.inv_ex(SPD),
    "linalg_solve_ex": lambda: ctorch.linalg.solve_ex(SPD, X),
    "linalg_lstsq": lambda: ctorch.linalg.lstsq(SPD, X),
    "linalg_ldl_factor": lambda: ctorch.linalg.ldl_factor(SPD),
    "linalg_ldl_factor_ex": lambda: ctorch.linalg.ldl_factor_ex(SPD),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_ops_return_the_module_classes(name):
    r = CALLS[name]()
    cls = getattr(RT, name)
    assert isinstance(r, cls) and type(r) is cls
    assert repr(r).startswith(f"ctorch.return_types.{name}(")


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("name", RT.__all__)
def test_field_names_are_torchs(name):
    assert getattr(RT, name)._fields == getattr(_torch.return_types, name).__match_args__


def test_unknown_name_and_lazy_import():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        RT.nope  # noqa: B018
    assert ctorch.return_types is RT
