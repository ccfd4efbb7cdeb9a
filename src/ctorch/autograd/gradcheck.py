"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""

from __future__ import annotations

import numpy as np

from .. import _warnings

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _flat(a):
    """An output/gradient array as float64 values; complex ones as (real, imag) pairs."""
    if a.dtype.kind == "c":
        return np.ascontiguousarray(a, dtype=np.complex128).reshape(-1).view(np.float64)
    return a.astype(np.float64).reshape(-1)


def _numerical_jacobian(fn, inputs, idx, eps):
    from .._tensor import Tensor
    from .grad_mode import no_grad

    x = inputs[idx]
    xa = x._a
    cols = []
    with no_grad():
        outs0 = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
        for k in range(xa.size):
            # index the array itself: reshape(-1) of a non-contiguous input would be a copy
            ix = np.unravel_index(k, xa.shape)
            orig = xa[ix].item()
            # a complex input is perturbed along its real and its imaginary axis (torch's
            # gradcheck): two columns, matching the (real, imag) pairs of its gradient
            for step in (eps, eps * 1j) if xa.dtype.kind == "c" else (eps,):
                xa[ix] = orig + step
                plus = [_flat(o._a).copy() for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
                xa[ix] = orig - step
                minus = [
                    _flat(o._a).copy() for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)
                ]
                xa[ix] = orig
                cols.append(
                    np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=False)])
                    if plus
                    else np.zeros(0)
                )
    n_out = sum(_flat(o._a).size for o in outs0)
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _analytical_jacobian(fn, inputs, idx):
    from .._tensor import Tensor
    from . import grad

    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
    rows = []
    x = inputs[idx]
    nx = _flat(x._a).size
    for _oi, o in enumerate(outs):
        for k in range(o._a.size):
            # a complex output gives two rows: grad_output 1 (its real part) and 1j (its
            # imaginary part); with torch's convention each row is dRe/dIm of that part
            for v in (1, 1j) if o._a.dtype.kind == "c" else (1,):
                g = np.zeros(o._a.shape, o._a.dtype)
                g.reshape(-1)[k] = v
                if not o._rg:
                    rows.append(np.zeros(nx))
                    continue
                (gx,) = grad([o], [x], [Tensor._make(g)], retain_graph=True, allow_unused=True)
                rows.append(np.zeros(nx) if gx is None else _flat(gx._a))
    return np.stack(rows, axis=0) if rows else np.zeros((0, nx))


def _forward_jacobian(fn, inputs, idx):
    """The Jacobian of ``fn``'s outputs in input ``idx`` by forward AD: column k is the
    outputs' tangent for the tangent e_k (and i*e_k for a complex input, as the numerical
    Jacobian's columns)."""
    from .._tensor import Tensor
    from . import forward_ad as fwAD

    x = inputs[idx]
    xa = x._a
    cols = []
    for k in range(xa.size):
        for v in (1, 1j) if xa.dtype.kind == "c" else (1,):
            t = np.zeros(xa.shape, xa.dtype)
            t.reshape(-1)[k] = v
            with fwAD.dual_level():
                args = list(inputs)
                args[idx] = fwAD.make_dual(x.detach(), Tensor._make(t))
                outs = [o for o in _as_tuple(fn(*args)) if isinstance(o, Tensor)]
                parts = []
                for o in outs:
                    tan = fwAD.unpack_dual(o).tangent
                    parts.append(_flat(np.zeros(o._a.shape, o._a.dtype) if tan is None else tan._a))
            cols.append(np.concatenate(parts) if parts else np.zeros(0))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def gradcheck(
    func,
    inputs,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_batched_forward_grad=False,
    check_forward_ad=False,
    check_backward_ad=True,
    fast_mode=False,
    masked=None,
) -> bool:
    """Compare analytical and numerical Jacobians for inputs that require grad (float64):
    the reverse-mode Jacobian (``check_backward_ad``, on by default) and the forward-mode one
    (``check_forward_ad``). ``check_undefined_grad``, ``check_grad_dtypes`` and the batched
    checks are accepted and not run."""
    from .._tensor import Tensor
    from ..sparse._gradcheck import adapt  # sparse inputs/outputs (#13)

    func, inputs = adapt(func, _as_tuple(inputs))
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._rg and x._a.dtype not in (np.float64, np.complex128):
            _warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "gradcheck is reliable only with float64.",
            )
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._rg):
            continue
        num = _numerical_jacobian(func, inputs, i, eps)
        checks = [("", _analytical_jacobian)] if check_backward_ad else []
        if check_forward_ad:
            checks.append((" (forward AD)", _forward_jacobian))
        for how, jac in checks:
            ana = jac(func, inputs, i)
            if num.shape != ana.shape or not np.allclose(ana, num, atol=atol, rtol=rtol):
                msg = (
                    f"Jacobian mismatch for output 0 with respect to input {i}{how},\n"
                    f"numerical:{num}\nanalytical:{ana}\n"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    gen_non_contig_grad_outputs=False,
    raise_exception=True,
    **kwargs,
) -> bool:
    """gradcheck of the function x, gy -> d(func(x))/dx . gy (second derivatives)."""
    from .._tensor import Tensor
    from . import grad

    inputs = _as_tuple(inputs)
    outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    if grad_outputs is None:
        # torch's: make_tensor in [-1, 1) from the default generator for each output that
        # requires grad (so a seeded program's later draws match torch's)
        from .. import _dtype as D
        from ..testing import make_tensor

        grad_outputs = tuple(
            make_tensor(
                o.shape,
                dtype=o.dtype if o.is_floating_point() or o.is_complex() else D.float64,
                device=o.device,
                low=-1,
                high=1,
                requires_grad=True,
                noncontiguous=gen_non_contig_grad_outputs,
            )
            for o in outs
            if o.requires_grad
        )
    grad_outputs = _as_tuple(grad_outputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]
    n_in = len(inputs)

    def new_func(*args):
        from .grad_mode import enable_grad

        xs = args[:n_in]
        gys = args[n_in:]
        with enable_grad():  # the numerical Jacobian calls this under no_grad
            o = [t for t in _as_tuple(func(*xs)) if isinstance(t, Tensor) and t.requires_grad]
            gs = grad(o, [xs[i] for i in diff_idx], gys, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(
        new_func,
        tuple(inputs) + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
