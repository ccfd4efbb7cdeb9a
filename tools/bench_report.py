"""Run ctorch, PyTorch and NumPy side by side in ONE process and write BENCHMARKS.md.

    python tools/bench_report.py [--threads 1 2] [--repeats 7] [--filter add] [--out BENCHMARKS.md]
    python tools/bench_report.py --programs [--no-kernels]   # whole-program training steps too

The cases are those of asv_bench/benchmarks/cases.py (shared with asv). For each case and
thread count, the libraries are timed interleaved (ctorch, torch, numpy, ctorch, ...) so a
slow phase of the VM hits all of them; the table reports medians and the throughput ratio
ctorch/torch (> 1 means ctorch is faster).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "asv_bench"))

# torch before ctorch. torch's own libgomp and the system's share one soname
# (libgomp.so.1), so ONE OpenMP runtime serves both libraries in this process, with the wait
# policy of whichever loaded it first. Loaded by ctorch first, torch's threads ran with
# ctorch's policy (until 2026-12-06 fully passive, which made torch's 2-thread nanoGPT step
# 70 ms instead of the 31-34 ms it takes alone). Loaded by torch first, the runtime reads
# the user's environment as torch alone would, and ctorch runs under that policy too (at
# 2 threads ctorch's steps took the same time under libgomp's default spin as under its own
# short one). torch absent: nothing to do.
try:
    import torch  # noqa: F401, E402
except ImportError:
    pass

from benchmarks import cases  # noqa: E402
from benchmarks.cases import CASES, lib_module, set_threads  # noqa: E402
from benchmarks.programs import PROGRAMS  # noqa: E402

# With 2+ threads, a pause before each library's timing window, so that the previous
# library's idle worker threads have stopped spinning: OpenBLAS's (NumPy's BLAS) spin ~0.1 s
# after every call and took a core from the next library's window (torch's MLP step measured
# 6.3 ms right after ctorch's OpenBLAS calls, 3.9-4.4 ms otherwise).  At 1 thread no library
# has worker threads, and the pause would only add cold starts.
QUIET_S = 0.15


def _time_once(fn, min_time=0.05):
    """Seconds per call: loop until ``min_time`` has passed."""
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return dt / n


def _synced(fn, lib):
    """On a GPU, time until the queued kernels finished, not just until they were launched."""
    sync = lib.cuda.synchronize

    def run():
        fn()
        sync()

    return run


def bench_case(name, libs, repeats, quiet=0.0, table=CASES):
    make = table[name][0]
    fns = {}
    for lib in libs:
        try:
            fn = make(lib_module(lib))
        except Exception as e:  # noqa: BLE001 - report, don't abort the whole run
            print(f"  {lib}: setup failed: {type(e).__name__}: {e}", file=sys.stderr)
            fn = None
        if fn is not None and cases.DEVICE != "cpu":
            fn = _synced(fn, lib_module(lib))
        if fn is not None:
            fn()
            fn()
            fns[lib] = fn
    samples = {lib: [] for lib in fns}
    for _ in range(repeats):
        for lib, fn in fns.items():
            gc.collect()
            if quiet:
                time.sleep(quiet)
            samples[lib].append(_time_once(fn))
    return {lib: statistics.median(v) for lib, v in samples.items()}


def _fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _loadavg() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--filter", default="")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument(
        "--device",
        default="cpu",
        help="cpu or cuda: where ctorch's and torch's tensors live (NumPy runs only on cpu)",
    )
    ap.add_argument(
        "--programs",
        action="store_true",
        help="also time the whole-program training steps (asv_bench/benchmarks/programs.py)",
    )
    ap.add_argument("--no-kernels", action="store_true", help="skip the kernel cases")
    args = ap.parse_args(argv)
    table = {} if args.no_kernels else dict(CASES)
    if args.programs:
        table.update(PROGRAMS)
    cases.DEVICE = args.device
    load_before = _loadavg()
    libs = [n for n in ("ctorch", "torch", "numpy") if importlib.util.find_spec(n)]
    if args.device != "cpu":
        libs = [n for n in libs if n != "numpy"]
    versions = {n: getattr(lib_module(n), "__version__", "?") for n in libs}
    rows = []
    for nt in args.threads:
        set_threads("all", nt)
        for name in table:
            if args.filter and args.filter not in name:
                continue
            print(f"[{nt} thr] {name} ...", file=sys.stderr, flush=True)
            res = bench_case(name, libs, args.repeats, QUIET_S if nt > 1 else 0.0, table)
            rows.append((nt, name, res))
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    if args.device != "cpu":
        try:
            import torch

            cpu = f"{torch.cuda.get_device_name()} (device {args.device}), host {cpu}"
        except Exception as e:  # noqa: BLE001 - the name is only for the header
            cpu = f"device {args.device} ({type(e).__name__}), host {cpu}"
    lines = [
        "# ctorch benchmarks",
        "",
        f"Produced by `python tools/bench_report.py` on {datetime.date.today()} — {cpu}, "
        f"{os.cpu_count()} logical CPUs; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f". Load average before the run: {load_before}, after: {_loadavg()}.",
        "All libraries ran in the same process, interleaved, median of "
        f"{args.repeats} samples (with 2+ threads each after a {QUIET_S} s pause, so the "
        "previous library's idle BLAS/OpenMP threads have stopped spinning). **ratio** = ctorch throughput / torch throughput "
        "(> 1: ctorch faster); **target** is the issue's goal for that ratio.",
        "",
        "| threads | case | ctorch | torch | numpy | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for nt, name, res in rows:
        c, t, n = res.get("ctorch"), res.get("torch"), res.get("numpy")
        ratio = (t / c) if (c and t) else None
        target = table[name][3]
        met = "" if (ratio is None or target is None) else ("yes" if ratio >= target else "**no**")
        lines.append(
            f"| {nt} | {name} | {_fmt_time(c)} | {_fmt_time(t)} | {_fmt_time(n)} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{'-' if target is None else f'{target:.2f}'} | {met} |"
        )
    # hand-written notes and the distributed report (tools/bench_distributed.py) follow
    for notes in (ROOT / "tools" / "bench_notes.md", ROOT / "tools" / "bench_distributed.md"):
        if notes.exists() and args.device == "cpu":
            lines += ["", notes.read_text().strip()]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
