#!/usr/bin/env python3
"""Compile every ctorch CUDA kernel family with nvcc, no GPU needed.

Each family's source is assembled exactly as ctorch.cuda._loader hands it to NVRTC at run
time (common.cuh pasted in, #line markers), then explicit float/double instantiations of
every templated __global__ kernel are appended (a host function taking each one's address),
and the result is compiled with ``nvcc -std=c++17 -arch=sm_XX -c --Werror all-warnings``.
Any warning fails the check.

Usage: python tools/check_cuda.py [--nvcc PATH] [--arch sm_90 --arch sm_70] [family ...]
Exit status: 0 all compiled cleanly, 1 a family failed, 2 nvcc not found.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOADER = ROOT / "src" / "ctorch" / "cuda" / "_loader.py"


def load_loader():
    """Import _loader.py by path: works without building or installing ctorch."""
    spec = importlib.util.spec_from_file_location("_ctorch_cuda_loader", LOADER)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def instantiation_stubs(names: list[str]) -> str:
    lines = ["", "// ---- explicit instantiations added by tools/check_cuda.py ----"]
    for i, expr in enumerate(names):
        lines.append(f"void* ct_check_instance_{i}() {{ return (void*)&{expr}; }}")
    return "\n".join(lines) + "\n"


def find_nvcc(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    found = shutil.which("nvcc")
    if found:
        return found
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and (Path(home) / "bin" / "nvcc").is_file():
            return str(Path(home) / "bin" / "nvcc")
    return None


def check_family(loader, family: str, nvcc: str, arch: str, tmp: Path) -> tuple[bool, str]:
    names = loader.name_expressions(family)
    src = loader.kernel_source(family) + instantiation_stubs(names)
    cu = tmp / f"{family}_{arch}.cu"
    cu.write_text(src, encoding="utf-8")
    cmd = [
        nvcc,
        "-std=c++17",
        f"-arch={arch}",
        "-c",
        "--Werror",
        "all-warnings",
        "-Xcompiler",
        "-Wall",
        "-o",
        str(tmp / f"{family}_{arch}.o"),
        str(cu),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    ok = proc.returncode == 0 and not out
    return ok, f"{len(names)} instantiations" if ok else out or f"nvcc exit {proc.returncode}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("families", nargs="*", help="families to check (default: all)")
    ap.add_argument("--nvcc", default=None, help="nvcc to use (default: PATH, CUDA_HOME)")
    ap.add_argument(
        "--arch",
        action="append",
        default=None,
        help="target(s), e.g. sm_90 (repeatable; default: sm_90 and sm_75, "
        "the oldest that CUDA 13 supports)",
    )
    args = ap.parse_args(argv)
    nvcc = find_nvcc(args.nvcc)
    if nvcc is None:
        print("check_cuda: nvcc not found (set CUDA_HOME or pass --nvcc)", file=sys.stderr)
        return 2
    loader = load_loader()
    families = args.families or loader.families()
    arches = args.arch or ["sm_90", "sm_75"]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ctorch_check_cuda_") as d:
        for fam in families:
            for arch in arches:
                ok, msg = check_family(loader, fam, nvcc, arch, Path(d))
                print(f"{'ok  ' if ok else 'FAIL'} {fam:<14} {arch}: {msg}")
                failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
