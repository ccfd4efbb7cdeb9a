# Included by conv.pyx and pooling.pyx: the window geometry (ctorch._geometry.Window2d, a
# NamedTuple of 14 ints) unpacked once per call into C locals, and its common checks.

ctypedef struct win2d:
    Py_ssize_t N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow


cdef int _window(win2d *g, str kernel, object geo) except -1:
    """g = geo (N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow), validated."""
    if not isinstance(geo, tuple) or len(<tuple>geo) != 14:
        raise TypeError(f"{kernel}: the geometry must be a ctorch._geometry.Window2d "
                        f"(14 ints), got {geo!r}")
    cdef tuple t = <tuple>geo
    g.N, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow = t
    if g.N < 0 or g.C < 0 or g.H < 0 or g.W < 0 or g.oh < 0 or g.ow < 0:
        raise ValueError(f"{kernel}: negative size N={g.N} C={g.C} H={g.H} W={g.W} "
                         f"oh={g.oh} ow={g.ow}")
    if (g.kh < 1 or g.kw < 1 or g.sh < 1 or g.sw < 1 or g.dh < 1 or g.dw < 1 or g.ph < 0
            or g.pw < 0):
        raise ValueError(f"{kernel}: invalid geometry kernel=({g.kh}, {g.kw}) "
                         f"stride=({g.sh}, {g.sw}) padding=({g.ph}, {g.pw}) "
                         f"dilation=({g.dh}, {g.dw})")
    # the row loops hold these in C ints (ctc_geom); a stride of 2**32 would become 0 there
    # (SIGFPE), and the size products would wrap: refuse before computing them
    if max(g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow) > 2147483647:
        raise ValueError(f"{kernel}: a geometry value above 2**31-1 is not supported")
    return 0
