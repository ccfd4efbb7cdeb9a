"""Array-level helpers for sparse tensors (NumPy on the CPU, CuPy on the GPU).

Nothing here knows tensors or autograd: indices are ``(sparse_dim, nnz)`` int64 arrays,
values ``(nnz, *dense_shape)`` arrays. scipy.sparse (CPU) and cupyx.scipy.sparse (GPU) are
imported lazily, on the first sparse matrix product.
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of


def scipy_sparse_of(xp):
    """``scipy.sparse`` for NumPy arrays, ``cupyx.scipy.sparse`` for CuPy arrays."""
    if xp is np:
        import scipy.sparse as sp

        return sp
    import cupyx.scipy.sparse as csp  # pragma: no cover - GPU only

    return csp  # pragma: no cover


def linearize(ind, sparse_shape):
    """Row-major linear position of each column of ``ind`` in ``sparse_shape`` (int64)."""
    xp = xp_of(ind)
    nnz = ind.shape[1]
    if len(sparse_shape) == 0:
        return xp.zeros(nnz, np.int64)
    lin = xp.zeros(nnz, np.int64)
    for d, n in enumerate(sparse_shape):
        lin *= int(n)
        lin += ind[d]
    return lin


def segment_sum(vals, order, starts, inverse, n_out):
    """Sum ``vals`` rows into ``n_out`` groups: rows ``order[starts[k]:starts[k+1]]`` form
    group ``k`` (``inverse`` maps each row to its group). Sums run in index order."""
    xp = xp_of(vals)
    if xp is np:
        if vals.shape[0] == 0:
            return np.zeros((n_out,) + vals.shape[1:], vals.dtype)
        if vals.dtype == np.bool_:
            return np.logical_or.reduceat(vals[order], starts, axis=0)
        return np.add.reduceat(vals[order], starts, axis=0)
    import cupyx  # pragma: no cover - GPU only

    out = xp.zeros((n_out,) + vals.shape[1:], vals.dtype)  # pragma: no cover
    cupyx.scatter_add(out, inverse, vals)  # pragma: no cover
    return out  # pragma: no cover


def coalesce(ind, vals, sparse_shape):
    """Sorted unique indices, summed values, and each input entry's output position."""
    xp = xp_of(vals)
    nnz = ind.shape[1]
    if nnz == 0:
        return ind, vals, xp.zeros(0, np.int64)
    lin = linearize(ind, sparse_shape)
    if bool((lin[1:] >= lin[:-1]).all()):  # already sorted (to_sparse, coalesced sums...)
        order = xp.arange(nnz)
        ls = lin
    else:
        order = _stable_argsort(lin, sparse_shape)
        ls = lin[order]
    flag = xp.empty(nnz, np.bool_)
    flag[0] = True
    xp.not_equal(ls[1:], ls[:-1], out=flag[1:])
    starts = xp.nonzero(flag)[0]
    grp = xp.cumsum(flag) - 1
    inverse = xp.empty(nnz, np.int64)
    inverse[order] = grp
    new_vals = segment_sum(vals, order, starts, inverse, int(starts.shape[0]))
    new_ind = ind[:, order[starts]]
    return new_ind, new_vals, inverse


def _stable_argsort(lin, sparse_shape):
    """A stable argsort of ``lin``: when ``position * nnz + i`` fits in int64 the keys are
    unique and NumPy's (faster) unstable sort gives the stable order."""
    xp = xp_of(lin)
    if xp is not np:  # pragma: no cover - CuPy's sort is stable
        return xp.argsort(lin)
    n = lin.shape[0]
    total = 1
    for d in sparse_shape:
        total *= max(int(d), 1)
    if total * n < 2**62:
        return np.argsort(lin * n + np.arange(n, dtype=np.int64))
    return np.argsort(lin, kind="stable")


def scatter_dense(ind, vals, size, unique: bool = False):
    """The dense array of a COO tensor (duplicates summed; ``unique`` indices are stored)."""
    xp = xp_of(vals)
    out = xp.zeros(tuple(size), vals.dtype)
    if ind.shape[1] == 0:
        return out
    key = tuple(ind)
    if unique:
        out[key] = vals
        return out
    if xp is np and vals.dtype != np.bool_ and len(key) > 1:
        sd = len(key)
        flat = out.reshape((-1,) + out.shape[sd:])
        np.add.at(flat, linearize(ind, out.shape[:sd]), vals)
        return out
    if xp is np:
        if vals.dtype == np.bool_:
            np.logical_or.at(out, key, vals)
        else:
            np.add.at(out, key, vals)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_add(out, key, vals)
    return out


def mask_values(gind, gvals, g_coalesced, ind, sparse_shape):
    """The values of the COO tensor ``(gind, gvals)`` at the positions ``ind`` (zeros where
    it has none): torch's ``sparse_mask``."""
    xp = xp_of(gvals)
    nnz = ind.shape[1]
    out = xp.zeros((nnz,) + gvals.shape[1:], gvals.dtype)
    if nnz == 0 or gind.shape[1] == 0:
        return out
    if not g_coalesced:
        gind, gvals, _ = coalesce(gind, gvals, sparse_shape)
    lg = linearize(gind, sparse_shape)
    lt = linearize(ind, sparse_shape)
    pos = xp.searchsorted(lg, lt)
    pos = xp.minimum(pos, lg.shape[0] - 1)
    hit = lg[pos] == lt
    out[hit] = gvals[pos[hit]]
    return out


def repeat_by(values, counts):
    """``numpy.repeat(values, counts)`` for NumPy and CuPy (whose ``repeat`` takes no array of
    counts)."""
    xp = xp_of(counts)
    if xp is np:
        return np.repeat(values, counts)
    ends = xp.cumsum(counts)  # pragma: no cover - GPU only
    total = int(ends[-1]) if ends.shape[0] else 0  # pragma: no cover
    return values[xp.searchsorted(ends, xp.arange(total), side="right")]  # pragma: no cover


def csr_rows(crow):
    """The row index of each stored entry of a CSR matrix."""
    xp = xp_of(crow)
    n = crow.shape[0] - 1
    return repeat_by(xp.arange(n, dtype=np.int64), xp.diff(crow))


def coo_to_csr(ind, nrows):
    """``crow_indices`` of a coalesced 2-D COO pattern (rows already sorted)."""
    xp = xp_of(ind)
    counts = xp.bincount(ind[0], minlength=nrows) if ind.shape[1] else xp.zeros(nrows, np.int64)
    crow = xp.zeros(nrows + 1, np.int64)
    xp.cumsum(counts, out=crow[1:])
    return crow
