#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool): build ctorch there, run the `cuda`-marked
# tests and the GPU benchmark (tools/bench_gpu.py), and leave everything under $OUT. Prepared
# without a GPU. The device image (Python 3.12, torch, CuPy 14, meson, ninja, pytest, xdist,
# mpi4py) lacks meson-python and pyproject-metadata, which travel as wheels with a Cython >= 3.1
# wheel; an MPI library for mpi4py (the nccl backend's rendezvous) travels as MPICH's shared
# libraries, used only when the image's mpi4py cannot load one:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux1_x86_64 \
#       -d .whl meson-python pyproject-metadata Cython mpi4py
#   python3 -m pip download --no-deps -d /tmp/w mpich   # then unzip its data/lib/libmpi.so.12
#   #   and data/lib/mpich/ into .whl/mpich/
#   run(command="bash tools/gpu_session.sh", carry=[".whl"], timeout_s=480)
#
# Environment knobs: CT_TESTS (pytest node ids/paths, default: the whole suite, `-m cuda`),
# CT_BENCH_FILTER (a substring of the benchmark names), CT_SKIP_BENCH=1.
set -o pipefail
export PYTHONUNBUFFERED=1
REPO=$(pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
T0=$(date +%s)
stamp() { echo "[gpu_session +$(($(date +%s) - T0))s] $*"; }
nvidia-smi -L | tee "$OUT/gpu.txt"

python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site \
  .whl/meson_python-*.whl .whl/pyproject_metadata-*.whl .whl/cython-*.whl || exit 1
export PATH=/tmp/site/bin:$PATH
alias python=python3; shopt -s expand_aliases  # the image python3 is itself a venv: install into it
if ! python3 -c "from mpi4py import MPI" 2>"$OUT/mpi.txt"; then
  stamp "image mpi4py cannot load MPI; using the carried mpi4py + MPICH"
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/mpi .whl/mpi4py-*.whl
  export MPI_SITE=/tmp/mpi MPI4PY_LIBMPI=$REPO/.whl/mpich/libmpi.so.12 \
    LD_LIBRARY_PATH=$REPO/.whl/mpich:${LD_LIBRARY_PATH:-}
fi
stamp build
PYTHONPATH=/tmp/site python3 -m pip install --no-build-isolation --no-deps -v . >"$OUT/build.log" 2>&1 || {
  tail -40 "$OUT/build.log"
  exit 1
}
stamp built
export PYTHONPATH=${MPI_SITE:-}
cd /tmp || exit 1
python3 - <<'PY' 2>&1 | tee -a "$OUT/gpu.txt"
import ctorch, ctorch.cuda as c, cupy, torch
print("ctorch", ctorch.__version__, "cuda available", c.is_available(), "cupy", cupy.__version__,
      "torch", torch.__version__, torch.cuda.get_device_name())
from mpi4py import MPI
print("MPI:", MPI.Get_library_version().splitlines()[0])
PY
stamp tests
# shellcheck disable=SC2086
XD=$(python3 -c "import xdist" 2>/dev/null && echo "-n 8")
# shellcheck disable=SC2086
timeout "${CT_TEST_TIMEOUT:-240}" python3 -m pytest -q -m cuda -p no:cacheprovider $XD -rfE --tb=short \
  --rootdir "$REPO" -c "$REPO/pyproject.toml" ${CT_TESTS:-"$REPO/tests"} >"$OUT/pytest_cuda.txt" 2>&1
echo "pytest exit $?" >>"$OUT/pytest_cuda.txt"
grep -E "^(FAILED|ERROR)" "$OUT/pytest_cuda.txt" | cut -c1-200 | head -60
tail -3 "$OUT/pytest_cuda.txt"
stamp profile
timeout 60 python3 "$REPO/tools/gpu_profile.py" >"$OUT/profile.txt" 2>&1
grep "^===" "$OUT/profile.txt"
stamp bench
if [ -z "${CT_SKIP_BENCH:-}" ]; then
  timeout "${CT_BENCH_TIMEOUT:-180}" python3 "$REPO/tools/bench_gpu.py" --repeats 5 --filter "${CT_BENCH_FILTER:-}" \
    --out "$OUT/BENCHMARKS.cuda.md" 2>"$OUT/bench_stderr.txt" | tail -45
  grep -E "Error|error" "$OUT/bench_stderr.txt" | head -20
fi
stamp done
