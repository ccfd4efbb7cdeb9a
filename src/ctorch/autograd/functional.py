"""``ctorch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp (torch's API).

Everything is computed with reverse mode (``ctorch.autograd.grad``), as torch's own Python
implementation does: ``jvp`` uses the double-backward trick. ``vectorize`` is accepted and
ignored (the rows of a Jacobian are computed one at a time); ``strategy="forward-mode"`` raises
NotImplementedError as ctorch has no forward-mode AD.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _tensor_cls():
    from .._tensor import Tensor

    return Tensor


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    Tensor = _tensor_cls()
    is_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the given {arg_name} has type {type(el)}."
            )
    return is_tuple, inp


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    if isinstance(to_unpack, tuple):
        assert len(to_unpack) == 2
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            # a differentiable view: the result stays connected to the caller's graph
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs: Any, create_graph: bool) -> Any:
    Tensor = _tensor_cls()
    if isinstance(inputs[0], Tensor):
        if not create_graph:
            return tuple(inp.detach() for inp in inputs)
        return inputs
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other, strict=True)):
        if el_v.size() != el_other.size():
            prepend = ""
            if is_other_tuple:
                prepend = f"Entry {idx} in "
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}."
            )


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    if not strict:
        return
    if input_type not in ["outputs", "grad_inputs", "jacobian", "hessian"]:
        raise RuntimeError("Invalid input_type to _check_requires_grad")
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode."
            )
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode. You should "
                    "ensure that your function is thrice differentiable and that the hessian "
                    "depends on the inputs."
                )
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example)."
                )
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function. This is not allowed in strict mode."
                )
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."
            )


def _autograd_grad(
    outputs: tuple,
    inputs: tuple,
    grad_outputs: tuple | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple:
    from . import grad as _grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs: list = []
    new_grad_outputs: list = []
    for out, grad_out in zip(outputs, grad_outputs, strict=True):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(grad_out)
    if len(new_outputs) == 0:
        return (None,) * len(inputs)
    return _grad(
        tuple(new_outputs),
        inputs,
        tuple(new_grad_outputs),
        allow_unused=True,
        create_graph=create_graph,
        retain_graph=retain_graph,
    )


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str):
    from .._creation import zeros_like

    res: list = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(
                        "The output of the user-provided function is independent of input "
                        f"{i}. This is not allowed in strict mode."
                    )
                if stage == "back_trick":
                    raise RuntimeError(
                        f"The gradient with respect to the input is independent of entry {i} "
                        "in the grad_outputs when using the double backward trick to compute "
                        "forward mode gradients. This is not allowed in strict mode."
                    )
                if stage == "double_back":
                    raise RuntimeError(
                        "The jacobian of the user-provided function is independent of input "
                        f"{i}. This is not allowed in strict mode."
                    )
                raise RuntimeError(
                    "The hessian of the user-provided function is independent of entry "
                    f"{i} in the grad_jacobian. This is not allowed in strict mode as it "
                    "prevents from using the double backward trick to replace forward mode AD."
                )
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            if "double" not in stage:
                raise RuntimeError(
                    "The jacobian of the user-provided function is independent of input "
                    f"{i}. This is not allowed in strict mode when create_graph=True."
                )
            raise RuntimeError(
                "The hessian of the user-provided function is independent of input "
                f"{i}. This is not allowed in strict mode when create_graph=True."
            )
        res.append(grads_i)
    return tuple(res)


def _prepare_inputs(inputs: Any, create_graph: bool, name: str) -> tuple[bool, tuple]:
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    return is_inputs_tuple, _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)


def _call(func: Callable[..., Any], inputs: tuple, strict: bool, name: str) -> tuple[bool, tuple]:
    """``func(*inputs)`` as a tuple of outputs (and whether it returned a tuple), checked."""
    is_outputs_tuple, outputs = _as_tuple(
        func(*inputs), "outputs of the user-provided function", name
    )
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_outputs_tuple, outputs


def _prepare_v(v: Any, ref: tuple, is_ref_tuple: bool, create_graph: bool, name: str) -> Any:
    """``v`` checked against ``ref`` (the outputs for vjp, the inputs otherwise); None only
    where ``ref`` is one single-element tensor."""
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, ref, is_ref_tuple)
    elif len(ref) != 1 or ref[0].nelement() != 1:
        what = (
            "the user-provided function returns"
            if name == "vjp"
            else "the input to the user-provided function is"
        )
        raise RuntimeError(
            f"The vector v can only be None if {what} a single Tensor with a single element."
        )
    return v


def _check_scalar_output(is_tuple: bool, out: Any, name: str) -> None:
    if is_tuple or not isinstance(out, _tensor_cls()):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if out.nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single element"
        )


def _product_result(
    outputs: tuple,
    is_outputs_tuple: bool,
    grads: tuple,
    wrt: tuple,
    v: Any,
    is_res_tuple: bool,
    create_graph: bool,
    strict: bool,
    stage: str,
) -> tuple[Any, Any]:
    """The last step of vjp/jvp/vhp/hvp: ``grads`` (built with a graph) differentiated with
    respect to ``wrt`` against ``v``, Nones filled with zeros (``stage`` names torch's strict
    error), and ``(outputs, product)`` in the caller's tuple-or-tensor form."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grads, wrt, v, create_graph=create_graph)
        refs = wrt if stage != "back_trick" else outputs
        res = _fill_in_zeros(grad_res, refs, strict, create_graph, stage)
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(res, is_res_tuple)


def vjp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Function output and the vector-Jacobian product ``v^T J`` at ``inputs``."""
    with enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, create_graph, "vjp")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "vjp")
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp")
    return _product_result(
        outputs, is_outputs_tuple, outputs, inputs, v, is_inputs_tuple, create_graph, strict,
        "back",
    )  # fmt: skip


def jvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Function output and the Jacobian-vector product ``J v`` (double-backward trick)."""
    from .._creation import zeros_like

    with enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, create_graph, "jvp")
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "jvp")
        grad_outputs = tuple(zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    return _product_result(
        outputs, is_outputs_tuple, grad_inputs, grad_outputs, v, is_outputs_tuple, create_graph,
        strict, "back_trick",
    )  # fmt: skip


def _check_strategy(strategy: str, vectorize: bool) -> None:
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if not vectorize:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `strategy=forward-mode` only works when "
                "`vectorize=True`."
            )
        raise NotImplementedError(
            "ctorch has no forward-mode AD: use strategy='reverse-mode' (same results)."
        )


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """Jacobian of ``func`` at ``inputs``; entry ``[i][j]`` has shape ``out_i.shape + in_j.shape``."""
    from .. import stack
    from .._creation import zeros, zeros_like
    from .._tensor import Tensor

    _check_strategy(strategy, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, create_graph, "jacobian")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "jacobian")
        jac: tuple = ()
        for i, out in enumerate(outputs):
            jac_i: tuple[list, ...] = tuple([] for _ in range(len(inputs)))
            flat = out.reshape(-1)
            for j in range(out.nelement()):
                vj = _autograd_grad(
                    (flat[j],), inputs, retain_graph=True, create_graph=create_graph
                )
                for el_idx, (jac_i_el, vj_el, inp_el) in enumerate(
                    zip(jac_i, vj, inputs, strict=True)
                ):
                    if vj_el is not None:
                        if strict and create_graph and not vj_el.requires_grad:
                            raise RuntimeError(
                                "The jacobian of the user-provided function is independent of "
                                f"input {i}. This is not allowed in strict mode when "
                                "create_graph=True."
                            )
                        jac_i_el.append(vj_el)
                    else:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {el_idx}. This is not allowed in strict mode."
                            )
                        jac_i_el.append(zeros_like(inp_el))
            row: list[Tensor] = []
            for el_idx, jac_i_el in enumerate(jac_i):
                shape = tuple(out.shape) + tuple(inputs[el_idx].shape)
                if jac_i_el:
                    row.append(stack(jac_i_el, dim=0).view(shape))
                else:
                    row.append(zeros(shape, dtype=inputs[el_idx].dtype))
            jac += (tuple(row),)
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """Hessian of a scalar function; entry ``[i][j]`` has shape ``in_i.shape + in_j.shape``."""

    _check_strategy(outer_jacobian_strategy, vectorize)
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        _check_scalar_output(is_out_tuple, out, "hessian")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_first_derivative(func, inputs, v, create_graph, strict, name):
    with enable_grad():
        is_inputs_tuple, inputs = _prepare_inputs(inputs, create_graph, name)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, name)
        is_outputs_tuple, outputs = _call(func, inputs, strict, name)
        _check_scalar_output(is_outputs_tuple, outputs[0], name)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    return _product_result(
        outputs, is_outputs_tuple, jac, inputs, v, is_inputs_tuple, create_graph, strict,
        "double_back",
    )  # fmt: skip


def vhp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Function output and the vector-Hessian product ``v^T H`` of a scalar function."""
    return _scalar_first_derivative(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Function output and the Hessian-vector product ``H v`` of a scalar function.

    The Hessian of a twice continuously differentiable function is symmetric, so ``H v`` is
    ``v^T H`` (torch gets the same numbers with the double-backward trick)."""
    return _scalar_first_derivative(func, inputs, v, create_graph, strict, "hvp")
