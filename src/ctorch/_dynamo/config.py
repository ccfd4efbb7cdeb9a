"""``torch._dynamo.config``: settable flags with torch's defaults (recorded only)."""

from __future__ import annotations

suppress_errors: bool = False
verbose: bool = False
cache_size_limit: int = 8
accumulated_cache_size_limit: int = 256
recompile_limit: int = 8
automatic_dynamic_shapes: bool = True
assume_static_by_default: bool = True
capture_scalar_outputs: bool = False
capture_dynamic_output_shape_ops: bool = False
optimize_ddp: bool = True
inline_inbuilt_nn_modules: bool = True
specialize_int: bool = False
log_level: int = 30
guard_nn_modules: bool = False
