"""ctorch.utils.collect_env (``torch.utils.collect_env``): the environment report attached to
bug reports (``python -m ctorch.utils.collect_env``). ``get_env_info`` returns torch's
``SystemEnv`` namedtuple (same fields, so code reading ``.torch_version`` or
``.is_cuda_available`` keeps working) filled with what describes ctorch: its version in
``torch_version``, CUDA through CuPy, the CPU kernels' thread count and OpenMP in
``cpu_info``'s header; ``get_pretty_env_info`` formats it, ``main`` prints it."""

from __future__ import annotations

import locale
import os
import platform
import re
import subprocess
import sys
from collections import namedtuple

__all__ = ["SystemEnv", "get_env_info", "get_pretty_env_info", "main", "run"]

SystemEnv = namedtuple(
    "SystemEnv",
    [
        "torch_version",
        "is_debug_build",
        "cuda_compiled_version",
        "gcc_version",
        "clang_version",
        "cmake_version",
        "os",
        "libc_version",
        "python_version",
        "python_platform",
        "is_cuda_available",
        "cuda_runtime_version",
        "cuda_module_loading",
        "nvidia_driver_version",
        "nvidia_gpu_models",
        "cudnn_version",
        "is_xpu_available",
        "pip_version",
        "pip_packages",
        "conda_packages",
        "hip_compiled_version",
        "hip_runtime_version",
        "miopen_runtime_version",
        "caching_allocator_config",
        "is_xnnpack_available",
        "cpu_info",
    ],
)

_PIP_PATTERNS = ("ctorch", "torch", "numpy", "scipy", "cupy", "ml_dtypes", "cython", "meson")


def run(command):
    """Run ``command`` (a list, or a string for the shell); return (rc, stdout, stderr)."""
    shell = isinstance(command, str)
    try:
        p = subprocess.run(command, capture_output=True, shell=shell, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, "", str(e)
    enc = "oem" if sys.platform == "win32" else locale.getpreferredencoding()
    return p.returncode, p.stdout.decode(enc).strip(), p.stderr.decode(enc).strip()


def _first_match(command, regex):
    rc, out, _ = run(command)
    if rc != 0:
        return None
    m = re.search(regex, out)
    return m.group(1) if m else None


def _os_name():
    if sys.platform.startswith("linux"):
        try:
            with open("/etc/os-release") as fh:
                for line in fh:
                    if line.startswith("PRETTY_NAME="):
                        desc = line.split("=", 1)[1].strip().strip('"')
                        return f"{desc} ({platform.machine()})"
        except OSError:
            pass
        return f"Linux ({platform.machine()})"
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]} ({platform.machine()})"
    return f"{platform.system()} {platform.release()} ({platform.machine()})"


def _gpu_info():
    """(driver version, GPU models) from nvidia-smi, or (None, None) without one."""
    rc, out, _ = run(["nvidia-smi", "-L"])
    if rc != 0 or not out:
        return None, None
    models = re.sub(r" \(UUID: .+?\)", "", out)
    driver = _first_match(["nvidia-smi"], r"Driver Version: (.*?) ")
    return driver, models


def _cpu_info():
    import ctorch

    lines = [f"ctorch CPU kernels: {ctorch.get_num_threads()} thread(s)"]
    if sys.platform.startswith("linux"):
        rc, out, _ = run(["lscpu"])
        if rc == 0:
            lines.append(out)
    else:
        lines.append(platform.processor() or "Could not collect")
    return "\n".join(lines)


def _pip_packages():
    rc, out, _ = run([sys.executable, "-mpip", "list", "--format=freeze"])
    if rc != 0:
        return None
    keep = [line for line in out.splitlines() if any(p in line.lower() for p in _PIP_PATTERNS)]
    return "\n".join(keep)


def get_env_info() -> SystemEnv:
    """Describe this environment (ctorch's version, Python, OS, compilers, CUDA via CuPy)."""
    import ctorch

    cuda_available = ctorch.cuda.is_available()
    driver, models = _gpu_info()
    cuda_runtime = None
    if cuda_available:
        cuda_runtime = ctorch.version.cuda
    return SystemEnv(
        torch_version=f"ctorch {ctorch.__version__}",
        is_debug_build=str(ctorch.version.debug),
        cuda_compiled_version=ctorch.version.cuda,
        gcc_version=_first_match(["gcc", "--version"], r"gcc (.*)"),
        clang_version=_first_match(["clang", "--version"], r"clang version (.*)"),
        cmake_version=_first_match(["cmake", "--version"], r"cmake (.*)"),
        os=_os_name(),
        libc_version="-".join(platform.libc_ver()) if sys.platform.startswith("linux") else "N/A",
        python_version=f"{sys.version.replace(chr(10), ' ')} ({sys.maxsize.bit_length() + 1}-bit runtime)",
        python_platform=platform.platform(),
        is_cuda_available=str(cuda_available),
        cuda_runtime_version=cuda_runtime,
        cuda_module_loading=os.environ.get("CUDA_MODULE_LOADING", "") if cuda_available else "N/A",
        nvidia_driver_version=driver,
        nvidia_gpu_models=models,
        cudnn_version=None,
        is_xpu_available="False",
        pip_version="pip3",
        pip_packages=_pip_packages(),
        conda_packages=None,
        hip_compiled_version="N/A",
        hip_runtime_version="N/A",
        miopen_runtime_version="N/A",
        caching_allocator_config={},
        is_xnnpack_available="N/A",
        cpu_info=_cpu_info(),
    )


_ENV_INFO_FMT = """
ctorch version: {torch_version}
Is debug build: {is_debug_build}
CUDA used to build ctorch: {cuda_compiled_version}
ROCM used to build ctorch: {hip_compiled_version}

OS: {os}
GCC version: {gcc_version}
Clang version: {clang_version}
CMake version: {cmake_version}
Libc version: {libc_version}

Python version: {python_version}
Python platform: {python_platform}
Is CUDA available: {is_cuda_available}
CUDA runtime version: {cuda_runtime_version}
CUDA_MODULE_LOADING set to: {cuda_module_loading}
GPU models and configuration: {nvidia_gpu_models}
Nvidia driver version: {nvidia_driver_version}
cuDNN version: {cudnn_version}
Is XPU available: {is_xpu_available}
HIP runtime version: {hip_runtime_version}
MIOpen runtime version: {miopen_runtime_version}
Is XNNPACK available: {is_xnnpack_available}
Caching allocator config: {caching_allocator_config}

CPU:
{cpu_info}

Versions of relevant libraries:
{pip_packages}
{conda_packages}
""".strip()


def pretty_str(envinfo: SystemEnv) -> str:
    d = envinfo._asdict()
    if d["nvidia_gpu_models"] is not None and "\n" in d["nvidia_gpu_models"]:
        d["nvidia_gpu_models"] = f"\n{d['nvidia_gpu_models']}\n"
    dynamic = ("cuda_runtime_version", "nvidia_gpu_models", "nvidia_driver_version")
    if envinfo.is_cuda_available != "True" and all(d[f] is None for f in dynamic):
        for f in (*dynamic, "cudnn_version"):
            d[f] = "No CUDA"
        if envinfo.cuda_compiled_version is None:
            d["cuda_compiled_version"] = "None"
    d = {k: ("Could not collect" if v is None else v) for k, v in d.items()}
    if d["pip_packages"] == "":
        d["pip_packages"] = "No relevant packages"
    if d["pip_packages"] != "":
        d["pip_packages"] = "\n".join(
            f"[{envinfo.pip_version}] {line}" for line in d["pip_packages"].split("\n")
        )
    d["conda_packages"] = "" if envinfo.conda_packages is None else d["conda_packages"]
    d["caching_allocator_config"] = envinfo.caching_allocator_config or "N/A"
    return _ENV_INFO_FMT.format(**d).rstrip()


def get_pretty_env_info() -> str:
    """``get_env_info()`` as the text a bug report carries."""
    return pretty_str(get_env_info())


def main() -> None:
    print("Collecting environment information...")
    print(get_pretty_env_info())


if __name__ == "__main__":
    main()
