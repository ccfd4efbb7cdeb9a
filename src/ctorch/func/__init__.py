"""``ctorch.func``: torch.func's composable transforms over ctorch's reverse-mode autograd.

``grad``/``vjp``/``jacrev`` run the function on inputs that require grad and call
``ctorch.autograd.grad``; when nested (``jacrev(jacrev(f))``, ``vmap(grad(f))``) or when an
input already requires grad, the graph of the result is kept so an outer transform (or a plain
``backward``) can differentiate it again. ``jacfwd`` gives jacrev's results (no forward AD).
``vmap`` runs the function once per batch entry in Python and stacks the results along
``out_dims``: the results are torch's, not its speed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ..autograd.grad_mode import enable_grad, is_grad_enabled

__all__ = [
    "grad",
    "grad_and_value",
    "vjp",
    "jvp",
    "jacrev",
    "jacfwd",
    "hessian",
    "vmap",
    "functional_call",
    "stack_module_state",
    "linearize",
    "replace_all_batch_norm_modules_",
]

_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


class _Level:
    def __enter__(self) -> None:
        _state.depth = _depth() + 1

    def __exit__(self, *exc: Any) -> None:
        _state.depth = _depth() - 1


# ---------------------------------------------------------------- a small pytree
def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _flatten(tree: Any) -> tuple[list, Any]:
    """Leaves (left to right) and a spec to rebuild ``tree`` from new leaves."""
    if isinstance(tree, (list, tuple)):
        leaves: list = []
        specs = []
        for el in tree:
            lv, sp = _flatten(el)
            leaves += lv
            specs.append(sp)
        kind = type(tree) if _is_namedtuple(tree) else (tuple if isinstance(tree, tuple) else list)
        return leaves, ("seq", kind, specs)
    if isinstance(tree, dict):
        leaves = []
        specs = []
        keys = list(tree.keys())
        for k in keys:
            lv, sp = _flatten(tree[k])
            leaves += lv
            specs.append(sp)
        return leaves, ("dict", type(tree), keys, specs)
    return [tree], None


def _n_leaves(spec: Any) -> int:
    if spec is None:
        return 1
    if spec[0] == "seq":
        return sum(_n_leaves(s) for s in spec[2])
    return sum(_n_leaves(s) for s in spec[3])


def _unflatten(leaves: list, spec: Any) -> Any:
    it = iter(leaves)

    def build(sp: Any) -> Any:
        if sp is None:
            return next(it)
        if sp[0] == "seq":
            items = [build(s) for s in sp[2]]
            kind = sp[1]
            if kind is list:
                return items
            if kind is tuple:
                return tuple(items)
            return kind(*items)
        _, kind, keys, specs = sp
        d = {k: build(s) for k, s in zip(keys, specs, strict=True)}
        return d if kind is dict else kind(d)

    return build(spec)


def _tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) for x in leaves], spec)


def _is_tensor(x: Any) -> bool:
    from .._tensor import Tensor

    return isinstance(x, Tensor)


# ---------------------------------------------------------------- grad / vjp
def _norm_argnums(argnums: int | tuple[int, ...], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(
                f"Got argnums={a}, but only {nargs} positional inputs were passed. Try to "
                "modify argnums or pass more positional inputs."
            )
        out.append(a % nargs)
    return tuple(out)


def _prepare(x: Any) -> Any:
    """The differentiable stand-in for one input leaf."""
    if not _is_tensor(x):
        raise RuntimeError(
            f"Expected all arguments to differentiate to be Tensors, got {type(x).__name__}"
        )
    if x.requires_grad and is_grad_enabled():
        return x.view_as(x)  # stays connected to an outer transform / the caller's graph
    return x.detach().requires_grad_(True)


def _keep_graph(flat_inputs: list) -> bool:
    # called inside this transform's own _Level: an outer transform makes the depth > 1
    return _depth() > 1 or (is_grad_enabled() and any(t.requires_grad for t in flat_inputs))


def _wrap_args(args: tuple, argnums: tuple[int, ...]) -> tuple[tuple, list, list, list]:
    """args with the argnums entries replaced; the per-argnum specs; the flat leaves they
    replaced, and the flat new leaves."""
    new_args = list(args)
    specs = []
    flat_orig: list = []
    flat_new: list = []
    for a in argnums:
        leaves, spec = _flatten(args[a])
        new = [_prepare(x) for x in leaves]
        flat_orig += leaves
        flat_new += new
        specs.append(spec)
        new_args[a] = _unflatten(new, spec)
    return tuple(new_args), specs, flat_orig, flat_new


def _zeros_for_none(grads: tuple, refs: list) -> list:
    from .._creation import zeros_like

    return [zeros_like(r) if g is None else g for g, r in zip(grads, refs, strict=True)]


def _regroup(flat: list, specs: list, argnums: int | tuple[int, ...]) -> Any:
    out = []
    i = 0
    for spec in specs:
        n = _n_leaves(spec)
        out.append(_unflatten(flat[i : i + n], spec))
        i += n
    return out[0] if isinstance(argnums, int) else tuple(out)


def _split_aux(res: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return res, None
    if not (isinstance(res, tuple) and len(res) == 2):
        raise RuntimeError(
            f"{name}(f, ...)(*args): output of function f should be a tuple: (output, aux) if "
            "has_aux is True"
        )
    return res


def _call_wrapped(
    func: Callable[..., Any],
    args: tuple,
    argnums: tuple[int, ...],
    kwargs: dict,
    has_aux: bool,
    name: str,
) -> tuple[list, list, bool, Any, Any]:
    """``func(*args, **kwargs)`` with the ``argnums`` arguments' leaves replaced by fresh
    differentiable ones (call it inside ``enable_grad()`` and a ``_Level``): the per-argnum
    specs, the new leaves, whether to keep the graph (an outer transform needs it), and the
    output and aux split as ``has_aux`` says."""
    new_args, specs, flat_orig, flat_new = _wrap_args(args, argnums)
    keep = _keep_graph(flat_orig)
    out, aux = _split_aux(func(*new_args, **kwargs), has_aux, name)
    return specs, flat_new, keep, out, aux


def grad_and_value(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """``func``'s gradient w.r.t. the ``argnums`` arguments, and its value."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..autograd import grad as _agrad

        nums = _norm_argnums(argnums, len(args))
        with enable_grad(), _Level():
            specs, flat_new, keep, out, aux = _call_wrapped(
                func, args, nums, kwargs, has_aux, "grad_and_value"
            )
            if not _is_tensor(out):
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                    f"{type(out)}"
                )
            if out.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                    "APIs instead?"
                )
            if out.requires_grad:
                grads = _agrad(out, flat_new, create_graph=keep, allow_unused=True)
            else:
                grads = (None,) * len(flat_new)
        flat = _zeros_for_none(grads, flat_new)
        if not keep:
            flat = [g.detach() for g in flat]
            out = out.detach()
            if has_aux:
                aux = _tree_map(lambda x: x.detach() if _is_tensor(x) else x, aux)
        g = _regroup(flat, specs, argnums)
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``func`` w.r.t. its ``argnums`` arguments."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn[, aux])``; ``vjp_fn(cotangents)`` is a tuple like ``primals``."""
    from ..autograd import grad as _agrad

    with enable_grad(), _Level():
        specs, flat_new, keep, out, aux = _call_wrapped(
            func, primals, tuple(range(len(primals))), {}, has_aux, "vjp"
        )
    out_leaves, out_spec = _flatten(out)
    for o in out_leaves:
        if not _is_tensor(o):
            raise RuntimeError(
                f"vjp(f, *primals): Expected f to be a function that has non-empty output and "
                f"returns Tensors, got {type(o)}"
            )

    def vjp_fn(cotangents: Any) -> tuple:
        keep_now = (
            keep
            or _depth() > 0
            or (
                is_grad_enabled()
                and any(_is_tensor(c) and c.requires_grad for c in _flatten(cotangents)[0])
            )
        )
        ct_leaves, ct_spec = _flatten(cotangents)
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                "outputs to the function"
            )
        pairs = [(o, c) for o, c in zip(out_leaves, ct_leaves, strict=True) if o.requires_grad]
        with enable_grad():
            if pairs:
                grads = _agrad(
                    [p[0] for p in pairs],
                    flat_new,
                    [p[1] for p in pairs],
                    retain_graph=True,
                    create_graph=keep_now,
                    allow_unused=True,
                )
            else:
                grads = (None,) * len(flat_new)
        flat = _zeros_for_none(grads, flat_new)
        if not keep_now:
            flat = [g.detach() for g in flat]
        return tuple(_regroup(flat, specs, tuple(range(len(primals)))))

    if not keep:
        out = _unflatten([o.detach() for o in out_leaves], out_spec)
        if has_aux:
            aux = _tree_map(lambda x: x.detach() if _is_tensor(x) else x, aux)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jvp(
    func: Callable[..., Any],
    primals: Any,
    tangents: Any,
    *,
    strict: bool = False,
    has_aux: bool = False,
) -> tuple:
    """``(func(*primals), J @ tangents[, aux])``, by the double-backward trick (no forward AD)."""
    from .._creation import zeros_like
    from ..autograd import grad as _agrad

    if not isinstance(primals, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
            "valid to call f(*primals)."
        )
    t_leaves, _ = _flatten(tuple(tangents) if isinstance(tangents, (tuple, list)) else tangents)
    with enable_grad(), _Level():
        new_args, _specs, flat_orig, flat_new = _wrap_args(primals, tuple(range(len(primals))))
        if len(t_leaves) != len(flat_new):
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected primals and tangents to have the same "
                "python structure."
            )
        keep = _keep_graph(flat_orig) or any(_is_tensor(t) and t.requires_grad for t in t_leaves)
        res = func(*new_args)
        out, aux = _split_aux(res, has_aux, "jvp")
        out_leaves, out_spec = _flatten(out)
        used = [o for o in out_leaves if _is_tensor(o) and o.requires_grad]
        g_outs = [zeros_like(o).requires_grad_(True) for o in used]
        if used:
            g_in = _agrad(used, flat_new, g_outs, create_graph=True, allow_unused=True)
        else:
            g_in = (None,) * len(flat_new)
        pairs = [(g, t) for g, t in zip(g_in, t_leaves, strict=True)]
        pairs = [(g, t) for g, t in pairs if g is not None and g.requires_grad]
        if pairs and g_outs:
            res_g = _agrad(
                [p[0] for p in pairs],
                g_outs,
                [p[1] for p in pairs],
                create_graph=keep,
                allow_unused=True,
            )
        else:
            res_g = (None,) * len(g_outs)
        by_id = {id(o): g for o, g in zip(used, res_g, strict=True)}
        tangent_out = []
        for o in out_leaves:
            g = by_id.get(id(o))
            tangent_out.append(zeros_like(o) if g is None else g)
    if not keep:
        out_leaves = [o.detach() for o in out_leaves]
        tangent_out = [t.detach() for t in tangent_out]
        if has_aux:
            aux = _tree_map(lambda x: x.detach() if _is_tensor(x) else x, aux)
    out = _unflatten(out_leaves, out_spec)
    jv = _unflatten(tangent_out, out_spec)
    return (out, jv, aux) if has_aux else (out, jv)


# ---------------------------------------------------------------- jacobians
def jacrev(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable[..., Any]:
    """Jacobian of ``func`` w.r.t. the ``argnums`` arguments, by reverse mode.

    The result mirrors the output pytree; each leaf is the argnums structure of Jacobians with
    shape ``out.shape + in.shape``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .. import stack
        from .._creation import zeros
        from ..autograd import grad as _agrad

        nums = _norm_argnums(argnums, len(args))
        with enable_grad(), _Level():
            specs, flat_new, keep, out, aux = _call_wrapped(
                func, args, nums, kwargs, has_aux, "jacrev"
            )
            out_leaves, out_spec = _flatten(out)
            per_out = []
            for o in out_leaves:
                if not _is_tensor(o):
                    raise RuntimeError(
                        f"jacrev(f, ...)(*args): expected f(*args) to return only tensors, got "
                        f"unsupported type {type(o)}"
                    )
                rows: list[list] = [[] for _ in flat_new]
                if o.requires_grad:
                    flat_o = o.reshape(-1)
                    for j in range(o.numel()):
                        gs = _agrad(
                            flat_o[j],
                            flat_new,
                            retain_graph=True,
                            create_graph=keep,
                            allow_unused=True,
                        )
                        for k, g in enumerate(_zeros_for_none(gs, flat_new)):
                            rows[k].append(g)
                jac = []
                for k, x in enumerate(flat_new):
                    shape = tuple(o.shape) + tuple(x.shape)
                    if rows[k]:
                        jac.append(stack(rows[k], dim=0).reshape(shape))
                    else:
                        jac.append(zeros(shape, dtype=x.dtype))
                if not keep:
                    jac = [t.detach() for t in jac]
                per_out.append(_regroup(jac, specs, argnums))
        if not keep and has_aux:
            aux = _tree_map(lambda x: x.detach() if _is_tensor(x) else x, aux)
        result = _unflatten(per_out, out_spec)
        return (result, aux) if has_aux else result

    return wrapper


def jacfwd(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    randomness: str = "error",
) -> Callable[..., Any]:
    """torch.func.jacfwd's results (computed in reverse mode: ctorch has no forward AD)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Hessian of a scalar ``func`` w.r.t. the ``argnums`` arguments (``jacfwd(jacrev(f))``)."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------- vmap
def _broadcast_in_dims(in_dims: Any, args: tuple) -> list:
    """One entry (int or None) per leaf of ``args``; ``in_dims`` is a prefix pytree."""
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(
            f"vmap(f, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
            f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if len(in_dims) != len(args):
        raise ValueError(
            f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
            f"structure of `inputs`. in_dims has structure {len(in_dims)} but inputs has "
            f"structure {len(args)}."
        )
    out: list = []

    def walk(d: Any, a: Any) -> None:
        if isinstance(d, int) or d is None:
            out.extend([d] * len(_flatten(a)[0]))
        elif isinstance(a, (list, tuple)) and isinstance(d, (list, tuple)) and len(a) == len(d):
            for dd, aa in zip(d, a, strict=True):
                walk(dd, aa)
        elif isinstance(a, dict) and isinstance(d, dict) and a.keys() == d.keys():
            for k in a:
                walk(d[k], a[k])
        else:
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                "structure of `inputs`."
            )

    for d, a in zip(in_dims, args, strict=True):
        walk(d, a)
    return out


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """Map ``func`` over a batch dimension of its inputs (a Python loop over the batch)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .. import stack

        leaves, spec = _flatten(args)
        dims = _broadcast_in_dims(in_dims, args)
        size = None
        norm_dims: list = []
        for x, d in zip(leaves, dims, strict=True):
            if d is None:
                norm_dims.append(None)
                continue
            if not _is_tensor(x):
                raise ValueError(
                    f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                    f"but the input is of type {type(x)}. We cannot vmap over non-Tensor "
                    "arguments, please use None as the respective in_dim"
                )
            nd = x.dim()
            if not -nd <= d < nd:
                raise ValueError(
                    f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                    f"but that input is a Tensor of dimensionality {nd} so expected in_dim to "
                    f"satisfy -{nd} <= in_dim < {nd}."
                )
            d = d % nd
            norm_dims.append(d)
            b = x.shape[d]
            if size is None:
                size = b
            elif b != size:
                raise ValueError(
                    f"vmap: Expected all tensors to have the same size in the mapped dimension, "
                    f"got sizes {size} and {b} for the mapped dimension"
                )
        if size is None:
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): at least one input must be batched "
                "(have a non-None in_dim)"
            )
        results = []
        rng = None
        if randomness == "same":  # every batch entry draws the same random numbers
            from .. import get_rng_state, set_rng_state

            rng = get_rng_state()
        for i in range(size):
            if rng is not None:
                set_rng_state(rng)
            sl = [
                x if d is None else x.select(d, i) for x, d in zip(leaves, norm_dims, strict=True)
            ]
            results.append(func(*_unflatten(sl, spec), **kwargs))
        first_leaves, out_spec = _flatten(results[0])
        all_leaves = [_flatten(r)[0] for r in results]
        if isinstance(out_dims, int) or out_dims is None:
            od = [out_dims] * len(first_leaves)
        else:
            od = _broadcast_in_dims(
                out_dims, results[0] if isinstance(results[0], tuple) else (results[0],)
            )
        outs = []
        for k in range(len(first_leaves)):
            d = od[k]
            col = [lv[k] for lv in all_leaves]
            if d is None:
                outs.append(col[0])
                continue
            if not _is_tensor(col[0]):
                raise ValueError(
                    f"vmap(f, ...): `f` must only return Tensors, got type {type(col[0])}. Did "
                    "you mean to set out_dims= to None for output?"
                )
            nd = col[0].dim() + 1
            if not -nd <= d < nd:
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but "
                    f"got {d})"
                )
            outs.append(stack(col, dim=d % nd))
        return _unflatten(outs, out_spec)

    return wrapper


# ---------------------------------------------------------------- functional_call
def _find(module: Any, name: str) -> tuple[Any, str]:
    *path, leaf = name.split(".")
    m = module
    for p in path:
        m = getattr(m, p)
    return m, leaf


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: dict[str, Any] | tuple[dict[str, Any], ...],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module`` with its parameters and buffers replaced by the given tensors."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        values = {}
        for d in parameter_and_buffer_dicts:
            for k, v in d.items():
                if k in values:
                    raise ValueError(
                        f"{k} appeared in multiple dictionaries; behavior of functional call "
                        "is ambiguous"
                    )
                values[k] = v
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    all_names: dict[str, Any] = {}
    for n, p in module.named_parameters(remove_duplicate=False):
        all_names[n] = p
    for n, b in module.named_buffers(remove_duplicate=False):
        all_names[n] = b
    if tie_weights:
        by_id: dict[int, Any] = {}
        for n, t in all_names.items():
            if n in values and t is not None:
                by_id[id(t)] = values[n]
        for n, t in all_names.items():
            if n not in values and t is not None and id(t) in by_id:
                values[n] = by_id[id(t)]
    if strict:
        missing = [n for n in all_names if n not in values]
        unexpected = [n for n in values if n not in all_names]
        if missing or unexpected:
            msg = []
            if unexpected:
                msg.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                msg.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(
                f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(msg)
            )
    saved = []
    try:
        for name, v in values.items():
            m, leaf = _find(module, name)
            for store in ("_parameters", "_buffers"):
                d = m.__dict__.get(store)
                if d is not None and leaf in d:
                    saved.append((d, leaf, d[leaf], True))
                    d[leaf] = v
                    break
            else:
                saved.append((m.__dict__, leaf, m.__dict__.get(leaf, _MISSING), False))
                m.__dict__[leaf] = v
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for d, leaf, old, _ in reversed(saved):
            if old is _MISSING:
                d.pop(leaf, None)
            else:
                d[leaf] = old


_MISSING = object()


def stack_module_state(models: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameters and buffers of same-shaped ``models`` stacked along a new dim 0
    (parameters as new leaves that require grad), for ``vmap`` over model ensembles."""
    from .. import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    names = [n for n, _ in models[0].named_parameters()]
    params = {
        n: stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_(
            dict(models[0].named_parameters())[n].requires_grad
        )
        for n in names
    }
    bnames = [n for n, _ in models[0].named_buffers()]
    buffers = {n: stack([dict(m.named_buffers())[n] for m in models]) for n in bnames}
    return params, buffers


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)``; ``jvp_fn(*tangents)`` is the JVP at ``primals``."""
    out = jvp(func, primals, primals)[0]

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]

    return out, jvp_fn


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Stop every batch norm under ``root`` from tracking running stats (in place)."""
    from ..nn.modules.batchnorm import _BatchNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root
