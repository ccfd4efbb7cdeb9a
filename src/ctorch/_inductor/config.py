"""``torch._inductor.config``: settable flags with torch's defaults (recorded only)."""

from __future__ import annotations

coordinate_descent_tuning: bool = False
triton_unique_kernel_names: bool = False
fx_graph_cache: bool = True
max_autotune: bool = False
max_autotune_gemm: bool = False
epilogue_fusion: bool = True
freezing: bool = False
force_fuse_int_mm_with_mul: bool = False
use_mixed_mm: bool = True
