"""A static guard against the OpenMP data race fixed in dae719b.

Cython makes a variable thread-private in a ``prange`` body only when the body assigns it.
A scalar written only through its address (``f(&lo)``) stays *shared* between the threads:
the im2col column range and the optimizers' chunk bounds raced that way. This test reads
every ``.pyx`` of the core and fails when a ``prange`` body takes the address of a plain
local (``&name`` not followed by ``[``) that the body never assigns directly.
"""

import re
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "ctorch" / "_core"
PYX = sorted(CORE.glob("*.pyx"))


def _prange_bodies(text: str):
    """(line number, body lines) for each ``for ... in prange(...)`` loop."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*for\s+\w+\s+in\s+prange\(", line):
            indent = len(line) - len(line.lstrip())
            body = []
            for nxt in lines[i + 1 :]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                body.append(nxt)
            yield i + 1, body


def _address_taken_unassigned(body: list[str]) -> set[str]:
    code = "\n".join(line.split("#", 1)[0] for line in body)
    taken = set(re.findall(r"&\s*([A-Za-z_]\w*)\b(?!\s*\[)", code))
    assigned = set(re.findall(r"^\s*([A-Za-z_]\w*)\s*(?:=|\+=|-=|\*=)(?!=)", code, re.M))
    return taken - assigned


def test_the_core_has_prange_loops():
    assert PYX and sum(len(list(_prange_bodies(p.read_text()))) for p in PYX) > 20


@pytest.mark.parametrize("path", PYX, ids=lambda p: p.name)
def test_no_scalar_written_only_through_its_address_in_prange(path):
    bad = []
    for lineno, body in _prange_bodies(path.read_text()):
        names = _address_taken_unassigned(body)
        if names:
            bad.append(f"{path.name}:{lineno}: {sorted(names)}")
    assert not bad, (
        "prange bodies pass the address of a variable they never assign, so Cython leaves it "
        "shared between threads (a data race); assign it in the body or return it: "
        + "; ".join(bad)
    )


def test_the_guard_catches_the_old_bug():
    racy = [
        "            ix0 = kj * dw - pw",
        "            _col_range(ix0, W, sw, ow, &lo, &hi)",
        "            memcpy(d + lo, xp + ix0, hi - lo)",
    ]
    assert _address_taken_unassigned(racy) == {"lo", "hi"}
    fixed = [
        "            sg = 0.0",
        "            _sum_dot(a, b, n, &sg)",
        "            out[c] = sg",
    ]
    assert _address_taken_unassigned(fixed) == set()
    assert _address_taken_unassigned(["            f(&x[i], &out[s])"]) == set()
