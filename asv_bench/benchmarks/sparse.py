"""asv benchmarks for sparse tensors (#13): the same code on ctorch and, when installed, torch.

``asv run --python=same --bench Sparse``; the one-off numbers are in docs/sparse.md.
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

LIBS = [name for name in ("ctorch", "torch") if importlib.util.find_spec(name)]
SIZES = ["2000x2000 nnz40k k128", "10000x10000 nnz100k k64"]


def _case(size: str):
    n = int(size.split("x")[0])
    nnz = int(size.split("nnz")[1].split("k ")[0]) * 1000
    k = int(size.rsplit("k", 1)[1])
    rng = np.random.default_rng(0)
    ind = np.stack([rng.integers(0, n, nnz), rng.integers(0, n, nnz)])
    val = rng.standard_normal(nnz).astype(np.float32)
    dense = rng.standard_normal((n, k)).astype(np.float32)
    return n, ind, val, dense


class Sparse:
    params = (SIZES, LIBS)
    param_names = ["size", "library"]
    timeout = 300

    def setup(self, size, library):
        L = importlib.import_module(library)
        L.set_num_threads(1)
        n, ind, val, dense = _case(size)
        self.L = L
        self.ind, self.val, self.n = L.from_numpy(ind), L.from_numpy(val), n
        self.s = L.sparse_coo_tensor(self.ind, self.val, (n, n)).coalesce()
        self.csr = self.s.to_sparse_csr()
        self.d = L.from_numpy(dense)
        self.sg = self.s.detach().requires_grad_()
        self.dg = self.d.clone().requires_grad_()
        L.sparse.mm(self.s, self.d)  # warm up (imports scipy.sparse on ctorch)

    def time_coalesce(self, size, library):
        self.L.sparse_coo_tensor(self.ind, self.val, (self.n, self.n)).coalesce()

    def time_sparse_mm(self, size, library):
        self.L.sparse.mm(self.s, self.d)

    def time_csr_matmul(self, size, library):
        self.csr @ self.d

    def time_sparse_mm_backward(self, size, library):
        self.sg.grad = self.dg.grad = None
        self.L.sparse.mm(self.sg, self.dg).sum().backward()

    def time_to_dense(self, size, library):
        self.s.to_dense()


class SparseCompressed:
    """CSC/BSR products and conversions (the 2000x2000 case, blocks 16x16 on a 4% block
    density)."""

    params = (LIBS,)
    param_names = ["library"]
    timeout = 300

    def setup(self, library):
        L = importlib.import_module(library)
        L.set_num_threads(1)
        n, ind, val, dense = _case(SIZES[0])
        self.L = L
        s = L.sparse_coo_tensor(L.from_numpy(ind), L.from_numpy(val), (n, n)).coalesce()
        self.coo = s
        self.csr = s.to_sparse_csr()
        self.csc = s.to_sparse_csc()
        rng = np.random.default_rng(1)
        blocks = (rng.random((n // 16, n // 16)) < 0.04).repeat(16, 0).repeat(16, 1)
        self.bd = L.from_numpy((rng.standard_normal((n, n)) * blocks).astype(np.float32))
        self.bsr = self.bd.to_sparse_bsr((16, 16))
        self.d = L.from_numpy(dense)
        self.csc @ self.d  # warm up

    def time_csc_matmul(self, library):
        self.csc @ self.d

    def time_bsr_matmul(self, library):
        self.bsr @ self.d

    def time_coo_to_csc(self, library):
        self.coo.to_sparse_csc()

    def time_csr_to_csc(self, library):
        self.csr.to_sparse_csc()

    def time_dense_to_bsr(self, library):
        self.bd.to_sparse_bsr((16, 16))

    def time_bsr_to_dense(self, library):
        self.bsr.to_dense()
