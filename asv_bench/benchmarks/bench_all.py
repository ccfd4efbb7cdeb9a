"""asv benchmarks: every case of ``cases.py`` for ctorch and, when installed, torch and NumPy,
as parameters of one benchmark so a single ``asv run --python=same`` compares them."""

from __future__ import annotations

import importlib.util

from .cases import CASES, lib_module
from .programs import PROGRAMS

LIBS = [name for name in ("ctorch", "torch", "numpy") if importlib.util.find_spec(name)]


class Cases:
    params = (list(CASES), LIBS)
    param_names = ["case", "library"]
    timeout = 300

    def setup(self, case, library):
        make = CASES[case][0]
        fn = make(lib_module(library))
        if fn is None:
            raise NotImplementedError(f"{case} has no {library} version")
        self.fn = fn
        fn()  # warm up

    def time_case(self, case, library):
        self.fn()


class Programs:
    """Whole-program training steps (``programs.py``), ctorch against torch."""

    params = (list(PROGRAMS), [n for n in LIBS if n != "numpy"])
    param_names = ["program", "library"]
    timeout = 600

    def setup(self, program, library):
        self.fn = PROGRAMS[program][0](lib_module(library))
        self.fn()  # warm up

    def time_program(self, program, library):
        self.fn()
