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


def add_at(out, ind, vals) -> None:
    """``out[tuple(ind)] += vals`` in place, repeated indices summed (``np.add.at``,
    ``cupyx.scatter_add`` on the GPU); ``vals`` is cast to ``out``'s dtype."""
    if not ind.shape[1]:
        return
    vals = vals.astype(out.dtype, copy=False)
    if type(out) is np.ndarray:
        np.add.at(out, tuple(ind), vals)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_add(out, tuple(ind), vals)


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


# ---------------------------------------------------------------- compressed layouts
ROW_COMPRESSED = ("csr", "bsr")


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def compressed_coo_ind(lay: str, cidx, pidx, blk):
    """The ``(nbatch + 2, N)`` element indices of a compressed tensor, in the order of its
    values reshaped to ``(N, *dense)``: batch-major, then stored entries, then (for blocks)
    the block's rows and columns."""
    xp = xp_of(pidx)
    bshape = tuple(pidx.shape[:-1])
    nb, nnz, ncomp = _prod(bshape), pidx.shape[-1], cidx.shape[-1] - 1
    per = 1 if blk is None else blk[0] * blk[1]
    if nb * nnz == 0:
        return xp.zeros((len(bshape) + 2, 0), np.int64)
    counts = xp.diff(cidx.reshape(nb, ncomp + 1), axis=1).reshape(-1)
    comp = repeat_by(xp.tile(xp.arange(ncomp, dtype=np.int64), nb), counts)
    plain = pidx.reshape(-1).astype(np.int64, copy=False)
    rows, cols = (comp, plain) if lay in ROW_COMPRESSED else (plain, comp)
    if blk is not None:
        bh, bw = blk
        shp = (rows.shape[0], bh, bw)
        rows = xp.broadcast_to(rows[:, None, None] * bh + xp.arange(bh)[:, None], shp).ravel()
        cols = xp.broadcast_to(cols[:, None, None] * bw + xp.arange(bw)[None, :], shp).ravel()
    out = [rows, cols]
    if bshape:
        bidx = xp.repeat(xp.arange(nb, dtype=np.int64), nnz * per)
        out = [*xp.unravel_index(bidx, bshape), rows, cols]
    return xp.stack(out).astype(np.int64, copy=False)


def coo_to_compressed(ind, vals, size, lay: str, blk, nbatch: int):
    """Unique element indices ``ind`` ``(nbatch + 2, N)`` with values ``(N, *dense)`` as the
    arrays ``(compressed indices, plain indices, values)`` of layout ``lay`` (blocks that
    hold any element are stored whole, zero-filled)."""
    xp = xp_of(vals)
    bshape = tuple(size[:nbatch])
    nb = _prod(bshape)
    M, K = int(size[nbatch]), int(size[nbatch + 1])
    rows, cols = ind[nbatch], ind[nbatch + 1]
    bh, bw = blk if blk is not None else (1, 1)
    M, K = M // bh, K // bw
    row_c = lay in ROW_COMPRESSED
    ncomp, nplain = (M, K) if row_c else (K, M)
    dense = tuple(vals.shape[1:])
    blkshape = () if blk is None else (bh, bw)
    if ind.shape[1] == 0:
        return (
            xp.zeros(bshape + (ncomp + 1,), np.int64),
            xp.zeros(bshape + (0,), np.int64),
            xp.zeros(bshape + (0,) + blkshape + dense, vals.dtype),
        )
    rb, cb = (rows // bh, cols // bw) if blk is not None else (rows, cols)
    comp, plain = (rb, cb) if row_c else (cb, rb)
    blin = linearize(ind[:nbatch], bshape)
    key = (blin * ncomp + comp) * nplain + plain
    if blk is not None:
        key, inv = xp.unique(key, return_inverse=True)
        out = xp.zeros((key.shape[0], bh, bw) + dense, vals.dtype)
        out[inv.reshape(-1), rows % bh, cols % bw] = vals
    else:
        order = xp.argsort(key)  # unique keys: NumPy's unstable sort is 4x faster here
        key, out = key[order], vals[order]
    bc = key // nplain
    per_batch = xp.bincount(bc // ncomp, minlength=nb)
    if bool((per_batch != per_batch[0]).any()):
        raise RuntimeError("Expect the same number of specified elements per batch.")
    nnz = key.shape[0] // nb
    cnt = xp.bincount(bc, minlength=nb * ncomp).reshape(nb, ncomp)
    cidx = xp.zeros((nb, ncomp + 1), np.int64)
    xp.cumsum(cnt, axis=1, out=cidx[:, 1:])
    return (
        cidx.reshape(bshape + (ncomp + 1,)),
        (key % nplain).reshape(bshape + (nnz,)),
        out.reshape(bshape + (nnz,) + blkshape + dense),
    )


def dense_nonzero(a, sparse_dim: int):
    """``(indices (sparse_dim, N), values (N, *dense))`` of the positions of the first
    ``sparse_dim`` dims of ``a`` where any element of the trailing dims is nonzero."""
    xp = xp_of(a)
    nz = a != 0
    if a.ndim > sparse_dim:
        nz = nz.reshape(a.shape[:sparse_dim] + (_prod(a.shape[sparse_dim:]),)).any(axis=-1)
    ind = xp.stack(xp.nonzero(nz)).astype(np.int64)
    return ind, a[tuple(ind)]


def dense_to_blocked(a, lay: str, blk, nbatch: int):
    """The BSR/BSC arrays of a dense array: blocks holding any nonzero, found on the block
    grid (no element-level ``nonzero``: 4x faster on a 2000x2000 matrix)."""
    xp = xp_of(a)
    bh, bw = blk
    sh = a.shape
    rest = tuple(range(nbatch + 4, a.ndim + 2))
    a6 = a.reshape(
        sh[:nbatch] + (sh[nbatch] // bh, bh, sh[nbatch + 1] // bw, bw) + sh[nbatch + 2 :]
    )
    cp = (nbatch, nbatch + 2) if lay in ROW_COMPRESSED else (nbatch + 2, nbatch)
    a6 = a6.transpose(tuple(range(nbatch)) + cp + (nbatch + 1, nbatch + 3) + rest)
    nz = (a6 != 0).reshape(a6.shape[: nbatch + 2] + (_prod(a6.shape[nbatch + 2 :]),)).any(axis=-1)
    ind = xp.stack(xp.nonzero(nz)).astype(np.int64)  # (batch, compressed, plain) order
    size = a6.shape[: nbatch + 2]
    return coo_to_compressed(ind, a6[nz], size, "csr", None, nbatch)
