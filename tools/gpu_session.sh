#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool): build ctorch there, run the `cuda`-marked
# tests and the GPU benchmark, and leave everything under $OUT. Prepared without a GPU; the
# device image (Python 3.12, torch, CuPy 14, Cython, meson, ninja, pytest) lacks only
# meson-python and pyproject-metadata, which travel as wheels:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps -d .whl meson-python pyproject-metadata
#   run(command="bash tools/gpu_session.sh", carry=[".whl"], timeout_s=420)
set -o pipefail
export PYTHONUNBUFFERED=1
REPO=$(pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi -L | tee "$OUT/gpu.txt"

python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
python3 -m venv --system-site-packages /tmp/ctv && . /tmp/ctv/bin/activate
python -m pip install --no-build-isolation --no-deps -v . >"$OUT/build.log" 2>&1 || {
  tail -40 "$OUT/build.log"
  exit 1
}
unset PYTHONPATH
cd /tmp || exit 1
python - <<'PY' | tee "$OUT/env.txt"
import ctorch, ctorch.cuda as c, cupy, torch
print("ctorch", ctorch.__version__, "cuda available", c.is_available(), "cupy", cupy.__version__,
      "torch", torch.__version__, torch.cuda.get_device_name())
PY
timeout 240 python -m pytest -q -m cuda -p no:cacheprovider --rootdir "$REPO" "$REPO/tests" 2>&1 |
  tee "$OUT/pytest_cuda.txt" | tail -25
timeout 240 python "$REPO/tools/bench_report.py" --device cuda --threads 1 --repeats 5 \
  --out "$OUT/BENCHMARKS.cuda.md" 2>"$OUT/bench_stderr.txt" | tail -45
