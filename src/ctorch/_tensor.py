"""The Tensor: one NumPy (CPU) or CuPy (GPU) array plus autograd state.

The array *is* the storage: ``from_numpy`` and ``.numpy()`` are zero-copy. Autograd state
(``requires_grad``, ``grad``, ``grad_fn``, the version counter shared by views) lives here.
Most methods are attached at the bottom of this module from ``ops``.
"""

from __future__ import annotations

import numbers
import sys as _sys
import weakref
from typing import TYPE_CHECKING

import numpy as np

from . import _dtype as D
from . import _warnings
from ._device import CPU, META, as_device, device
from ._meta import MetaArray as _MetaArray
from ._size import Size
from ._size import size_of as _size_of
from .autograd import function as _autograd_function
from .autograd import grad_mode as _grad_mode
from .autograd.function import AccumulateGrad, RemovableHandle
from .autograd.grad_mode import INFERENCE_VERSION, state

__all__ = ["Tensor", "is_tensor"]

_ndarray = np.ndarray
_weakref = weakref.ref


class _ViewList(list):
    """A base's weak references to its views (``Tensor._views``)."""

    __slots__ = ("cap",)

    def __init__(self) -> None:
        self.cap = 32


_NP2DT = D._BY_NP


def _cupy():
    import cupy

    return cupy


if TYPE_CHECKING:  # the methods _methods.py attaches at import, for editors and type checkers
    from ._tensor_methods import TensorMethods as _MethodsStub
else:
    _MethodsStub = object


def storage_root(a):
    """The array that owns ``a``'s memory (``a`` itself when it owns it): the "storage" that
    ``storage_offset`` and ``as_strided`` count elements from."""
    base = a
    while True:
        up = getattr(base, "base", None)
        if up is not None and not isinstance(up, type(a)):
            # NumPy's as_strided wraps its source in a DummyArray that keeps it as .base
            up = getattr(up, "base", None)
        if up is None or not isinstance(up, type(a)):
            return base
        base = up


_ag_backward = None  # ctorch.autograd.backward, bound on the first Tensor.backward()

# open inference_mode(True) scopes in all threads (``grad_mode._add_scope``): while 0,
# ``_make`` skips the thread-local inference-mode read
_inference_scopes = 0


def _set_inference_count(n: int) -> None:
    global _inference_scopes
    _inference_scopes = n


_grad_mode._on_count = _set_inference_count


class NestedInput(NotImplementedError):
    """Raised when a dense op reaches a nested tensor's missing array (``ctorch.nested``).
    The functional entry points that take nested tensors (``F.linear``, ``F.relu``,
    ``F.softmax``, ``matmul``, ...) catch it around their first use of the array, which costs
    nothing on the dense path (3.11's zero-cost ``try``), and call ``nested_call``."""


def nested_call(name: str, *args, **kwargs):
    """Run the nested implementation of the functional ``name`` (``nested._ops.DISPATCH``)."""
    from .nested import _ops

    return _ops.DISPATCH[name](*args, **kwargs)


_RG_DTYPE_MSG = "only Tensors of floating point dtype can require gradients"
_RG_DTYPE_MSG_FACTORY = "Only Tensors of floating point and complex dtype can require gradients"
_INFERENCE_RG_MSG = (
    "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
)


def _grad_like_leaf(ga, leaf):
    """A fresh copy of the gradient ``ga`` laid out as torch's AccumulateGrad lays out a new
    ``.grad``: with the leaf's strides when the leaf is dense (a channels-last parameter
    gets a channels-last gradient), else C-contiguous."""
    from . import _memfmt as MF

    st = MF.elem_strides(leaf)
    if not MF.non_overlapping_and_dense(leaf.shape, st):
        return ga.copy()
    out = MF.strided_empty(leaf.shape, st, ga.dtype, MF.xp_of(ga))
    out[...] = ga
    return out


class Tensor(_MethodsStub):
    """A multi-dimensional array with autograd, shaped after ``torch.Tensor``."""

    __slots__ = (
        "_a",
        "_rg",
        "grad_fn",
        "_output_nr",
        "_vref",
        "_grad",
        "_acc",
        "_base",
        "_hooks",
        "_retains",
        "_views",  # on a base: weakrefs to its views (rebased after an in-place op)
        "_vng",  # on a view: created with grad mode off (torch's CreationMeta::NO_GRAD_MODE)
        "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000

    # ---------------------------------------------------------------- construction
    def __init_subclass__(cls, **kwargs) -> None:
        # a user's subclass dispatches through __torch_function__ (ctorch._torch_function);
        # Tensor's own methods are untouched, so exact Tensors pay nothing
        super().__init_subclass__(**kwargs)
        tf = _sys.modules.get("ctorch._torch_function")
        if tf is not None:
            tf.on_subclass(cls)

    def __new__(cls, *args, **kwargs):
        return _legacy_new(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs) -> None:
        pass

    @staticmethod
    def _make(a) -> Tensor:
        t = object.__new__(Tensor)
        if type(a) is not _ndarray:
            if isinstance(a, np.generic):
                a = np.asarray(a)  # NumPy ufuncs return scalars for 0-d inputs
            elif isinstance(a, _ndarray):
                # np.memmap / np.matrix / masked arrays...: store a base-class view of the same
                # memory (a memmap stays zero-copy), since devices are told apart by exact type
                a = a.view(_ndarray)
        t._a = a
        t._rg = False
        t.grad_fn = None
        t._output_nr = 0
        # allocated in inference mode: an inference tensor (``is_inference``)
        t._vref = INFERENCE_VERSION if _inference_scopes and state.inference else [0]
        t._grad = None
        t._acc = None
        t._base = None
        t._hooks = None
        t._retains = False
        t._views = None
        return t

    def _view_of(self, a) -> Tensor:
        """A new tensor over ``a`` (a view of self's storage) sharing the version counter.

        The base keeps a weak list of its views: an in-place op recorded by autograd on the
        base (or on another view) gives each live view a new ``grad_fn`` through the base's
        new history (torch regenerates it lazily as AsStridedBackward; ctorch's ``grad_fn``
        is a plain slot, so ``autograd.inplace.inplace`` does it at once). Views of tensors
        outside autograd taken under no_grad are not listed: nothing can rebase them."""
        t = Tensor._make(a)
        t._vref = self._vref
        base = self if self._base is None else self._base
        t._base = base
        enabled = state.enabled
        if enabled or self._rg or base._rg:
            # inside Function.apply's forward grad mode is off too, but apply then sets
            # grad_fn; only a view left without one counts as made under no_grad
            t._vng = not enabled
            vs = base._views
            if vs is None:
                vs = base._views = _ViewList()
            vs.append(_weakref(t))
            if len(vs) > vs.cap:  # drop dead entries: amortized O(1) per view
                vs[:] = [r for r in vs if r() is not None]
                vs.cap = max(32, 2 * len(vs))
        return t

    @staticmethod
    def _zeros_meta(meta) -> Tensor:
        shape, dt, typ = meta
        if typ is _ndarray:
            return Tensor._make(np.zeros(shape, dt))
        if typ is _MetaArray:  # (an unused output of a multi-output node on the meta device)
            return Tensor._make(_MetaArray(shape, dt))
        return Tensor._make(_cupy().zeros(shape, dt))

    # ---------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        return _size_of(self._a.shape)  # (NumPy/CuPy shapes are tuples of Python ints)

    def size(self, dim: int | None = None):
        if dim is None:
            return _size_of(self._a.shape)
        return self._a.shape[_wrap_dim(dim, self._a.ndim, "size")]

    @property
    def dtype(self) -> D.dtype:
        return _NP2DT[self._a.dtype]

    @property
    def device(self) -> device:
        a = self._a
        if type(a) is _ndarray:
            return CPU
        if type(a) is _MetaArray:
            return META
        return device("cuda", a.device.id)

    @property
    def is_cuda(self) -> bool:
        a = self._a
        return type(a) is not _ndarray and type(a) is not _MetaArray

    @property
    def is_meta(self) -> bool:
        return type(self._a) is _MetaArray

    is_xpu = False
    is_mps = False
    is_nested = False  # ctorch.nested.NestedTensor says True
    is_sparse = False
    is_quantized = False

    @property
    def layout(self):
        from . import strided

        return strided

    @property
    def ndim(self) -> int:
        return self._a.ndim

    def dim(self) -> int:
        return self._a.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._a.size)

    nelement = numel

    def element_size(self) -> int:
        return self._a.itemsize

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    def stride(self, dim: int | None = None):
        item = self._a.itemsize
        st = tuple(s // item for s in self._a.strides)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._a.ndim, "stride")]

    def storage_offset(self) -> int:
        a = self._a
        if type(a) is _MetaArray:
            return a.offset
        base = storage_root(a)
        if base is a:
            return 0
        if type(a) is _ndarray:
            off = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        else:
            off = a.data.ptr - base.data.ptr
        return off // a.itemsize

    def data_ptr(self) -> int:
        a = self._a
        if type(a) is _ndarray:
            return a.__array_interface__["data"][0]
        if type(a) is _MetaArray:
            return a.offset * a.itemsize  # torch: a meta storage starts at address 0
        return a.data.ptr

    def is_contiguous(self, memory_format=None) -> bool:
        if memory_format is None:
            return bool(self._a.flags.c_contiguous)
        from . import _memfmt

        return _memfmt.is_contiguous_as(self._a, _memfmt.as_format(memory_format))

    def is_floating_point(self) -> bool:
        return self._a.dtype.kind in "fV"

    def is_complex(self) -> bool:
        return self._a.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    @property
    def T(self) -> Tensor:
        nd = self._a.ndim
        if nd == 2:
            return self.t()
        if nd == 0:
            _warnings.warn_once(
                "T-0d",
                "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                "cases.",
            )
        else:  # torch deprecates .T off 2-D (1-D included, one warning); it reverses all dims
            _warnings.warn_once(
                "T-nd",
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.",
            )
            return self.permute(*range(nd - 1, -1, -1))
        return self

    @property
    def mT(self) -> Tensor:
        if self._a.ndim < 2:
            raise RuntimeError(
                "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."
            )
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:
        nd = self._a.ndim
        if nd == 0:
            _warnings.warn_once(
                "H-0d", "Tensor.H is deprecated on 0-D tensors. Consider using x.conj()."
            )
        elif nd != 2:
            extra = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor.{extra}"
            )
        else:
            return self.t().conj() if self.is_complex() else self.t()
        return self.conj() if self.is_complex() else self

    @property
    def mH(self) -> Tensor:
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def real(self) -> Tensor:
        return self if not self.is_complex() else Tensor._make(self._a.real)

    @property
    def imag(self) -> Tensor:
        if not self.is_complex():
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return Tensor._make(self._a.imag)

    # ---------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        requires_grad = bool(requires_grad)
        if requires_grad and self._vref is INFERENCE_VERSION and not state.inference:
            raise RuntimeError(_INFERENCE_RG_MSG)
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and not (self.is_floating_point() or self.is_complex()):
            raise RuntimeError(_RG_DTYPE_MSG)  # (torch's words here; factories say _FACTORY)
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (torch's ``Tensor._is_view``: it has a
        ``_base``)."""
        return self._base is not None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains and self._grad is None:
            _warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.",
                UserWarning,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"assigned grad has data of a different size: {tuple(value.shape)} vs {tuple(self.shape)}"
                )
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: {value.dtype} vs {self.dtype}"
                )
            if value.device != self.device:
                raise RuntimeError(
                    f"assigned grad has data located on a different device: {value.device} vs {self.device}"
                )
        self._grad = value

    @property
    def _version(self) -> int:
        if self._vref is INFERENCE_VERSION:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vref[0]

    def _bump(self) -> None:
        self._vref[0] += 1

    def _get_acc(self) -> AccumulateGrad:
        if self._acc is None:
            self._acc = AccumulateGrad(self)
        return self._acc

    def _accumulate_grad(self, g: Tensor, create_graph: bool) -> None:
        if self._hooks:
            for h in list(self._hooks):
                r = h(g)
                if r is not None:
                    g = r
        if g.is_sparse or (self._grad is not None and self._grad.is_sparse):
            from .sparse._autograd import accumulate_grad  # sparse gradients (#13)

            return accumulate_grad(self, g, create_graph, hooks_done=True)
        if g._a.shape != self._a.shape:
            g = g.sum_to_size(self._a.shape)
        if g._a.dtype != self._a.dtype:
            g = g.to(self.dtype)
        cur = self._grad
        if cur is None:
            if create_graph:
                self._grad = g
            else:
                # own the buffer: a fresh contiguous detached copy unless g is a private temp
                ga = g._a
                if not self._a.flags.c_contiguous:
                    self._grad = Tensor._make(_grad_like_leaf(ga, self._a))
                elif (
                    g.grad_fn is None
                    and g._base is None
                    and ga.flags.c_contiguous
                    and g._vref[0] == 0
                    and ga.flags.owndata
                ):
                    self._grad = Tensor._make(ga)
                else:
                    self._grad = Tensor._make(ga.copy())
        elif create_graph or cur._rg:
            self._grad = cur + g
        else:
            xp = np if type(cur._a) is _ndarray else _cupy()
            xp.add(cur._a, g._a, out=cur._a)
            cur._vref[0] += 1

    def retain_grad(self) -> None:
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains:
            return
        self._retains = True
        import weakref

        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                t._add_retained_grad(g)
            return None

        self.grad_fn._add_pre_hook(self._output_nr, _retain)

    def _add_retained_grad(self, g: Tensor) -> None:
        """Accumulate the gradient ``g`` reaching a ``retain_grad()`` tensor into ``.grad``."""
        if self._grad is None:
            self._grad = Tensor._make(g._a.copy())
        else:
            self._grad = Tensor._make(self._grad._a + g._a)

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor | None`` called with this tensor's gradient."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor) -> None`` on a leaf, called after its ``.grad`` has been
        accumulated during backward (torch's semantics; DDP starts its all-reduces from it)."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        hooks = self.__dict__.setdefault("_post_acc_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def backward(
        self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None
    ) -> None:
        global _ag_backward
        if _ag_backward is None:
            from .autograd import backward as _ag_backward  # the package imports this module
        _ag_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        t = Tensor._make(self._a)
        t._vref = self._vref
        t._base = self._base
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self) -> Tensor:
        t = Tensor._make(self._a)
        t._vref = self._vref
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._a = value._a

    # ---------------------------------------------------------------- Python protocols
    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if not (state.enabled and self._rg):
            a = self._a
            return (self._view_of(a[i]) for i in range(a.shape[0]))
        return iter(self.unbind(0))

    def item(self):
        a = self._a
        if a.size != 1:
            raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
        if type(a) is _ndarray:
            return a.reshape(()).item()
        if type(a) is _MetaArray:
            return a.item()  # torch's RuntimeError
        v = a.reshape(()).get().item()
        return v

    def tolist(self):
        a = self._a
        return a.tolist() if type(a) is _ndarray else a.get().tolist()

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self._rg:
            _warn_grad_scalar()
        return float(self._scalar_for("float"))

    def __int__(self) -> int:
        return int(self._scalar_for("int"))

    def __complex__(self) -> complex:
        if self._rg:
            _warn_grad_scalar()
        return complex(self._scalar_for("complex"))

    def _scalar_for(self, what):
        if self._a.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self) -> int:
        if self._a.size != 1 or self._a.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self._a.ndim == 0 and type(self._a) is not _MetaArray:  # (torch: meta as object)
            return format(self.item(), spec)
        # torch: object.__format__, i.e. str(self) for "" and a TypeError for any spec
        return object.__format__(self, spec)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        if type(self._a) is _MetaArray:  # torch pickles a meta tensor's metadata
            m = self._a
            return (_rebuild_meta, (m.shape, m.dtype.str, m.strides, self._rg))
        a = self._a if type(self._a) is _ndarray else self._a.get()
        return (
            _rebuild,
            (
                np.ascontiguousarray(a)
                if not a.flags.c_contiguous and not a.flags.f_contiguous
                else a,
                self._rg,
                str(self.device),
            ),
        )

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        if id(self) in memo:
            return memo[id(self)]
        t = type(self).__new__(type(self)) if type(self) is not Tensor else Tensor._make(None)
        if type(self) is not Tensor:
            Tensor._init_slots(t)
        t._a = self._a.copy()
        t._rg = self._rg
        if self._grad is not None:
            t._grad = (
                self._grad.__deepcopy__(memo)  # a sparse gradient (#13)
                if self._grad.is_sparse
                else Tensor._make(self._grad._a.copy())
            )
        if self.__dict__:
            import copy

            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = t
        return t

    @staticmethod
    def _init_slots(t) -> None:
        t._a = None
        t._rg = False
        t.grad_fn = None
        t._output_nr = 0
        t._vref = INFERENCE_VERSION if _inference_scopes and state.inference else [0]
        t._grad = None
        t._acc = None
        t._base = None
        t._hooks = None
        t._retains = False
        t._views = None

    # NumPy interop -----------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if type(self._a) is not _ndarray:
            if force:
                return self._a.get()
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._a

    def __array__(self, dtype=None, copy=None):
        if self._rg:  # torch: np.asarray(t) is t.numpy(), which refuses to drop the graph silently
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if type(self._a) is not _ndarray:
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        a = self._a
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return a.astype(dtype)
        if copy:
            return a.copy()
        return a

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .ops.numpy_interop import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .ops.numpy_interop import array_function

        return array_function(func, types, args, kwargs)

    def __dlpack__(self, *args, **kwargs):
        if self._a.dtype.kind == "V":  # bfloat16: NumPy's DLPack has no such type
            from ._half import bf16_dlpack

            return bf16_dlpack(self._a, *args, **kwargs)
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()

    @property
    def __cuda_array_interface__(self):
        if type(self._a) is _ndarray:
            raise AttributeError(
                "Can't get __cuda_array_interface__ on non-CUDA tensor type: "
                f"{self.type()} If CUDA data is required use tensor.cuda() to copy tensor to device memory."
            )
        if self._rg:
            raise RuntimeError(
                "Can't get __cuda_array_interface__ on Variable that requires grad. "
                "If gradients aren't required, use var.detach() to get Variable that doesn't require grad."
            )
        return self._a.__cuda_array_interface__


_autograd_function._set_tensor_class(Tensor)  # Function.apply tests inputs against it


def _rebuild(a, rg, dev):
    t = Tensor._make(np.array(a, copy=True))
    if dev != "cpu":
        t = t.to(dev)
    t._rg = rg
    return t


def _rebuild_meta(shape, dtype, strides, rg):
    t = Tensor._make(_MetaArray(shape, np.dtype(dtype), strides))
    t._rg = rg
    return t


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def _warn_grad_scalar() -> None:
    """torch 2.13's once-per-process warning for float()/complex() of a tensor that requires
    grad (int(), item() and bool() do not warn)."""
    from . import _warnings

    _warnings.warn_once(
        "grad_scalar",
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first.",
    )


def _wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    if type(dim) is not int:
        dim = _dim_arg(dim, op)
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            + (f" in {op}" if op else "")
        )
    return dim % n if ndim > 0 else 0


def _dim_arg(dim, op: str = "") -> int:
    """A dim that is not a plain int, as torch's parser takes it: a NumPy integer or a 0-d
    integer tensor is an int; a bool, a float or any other tensor is a TypeError (torch:
    ``softmax(): argument 'dim' (position 2) must be int, not float``; ctorch used to take
    2.5 as 2, True as 1, and compare a many-element tensor)."""
    if isinstance(dim, Tensor):
        if dim._a.ndim == 0 and dim._a.dtype.kind in "iu":
            return int(dim._a)
    elif not isinstance(dim, (bool, np.bool_)) and isinstance(dim, numbers.Integral):
        return int(dim)
    where = f"{op}(): " if op else ""
    raise TypeError(f"{where}argument 'dim' must be int, not {type(dim).__name__}")


def _legacy_new(cls, *args, device=None, dtype=None, **kwargs):
    """``ctorch.Tensor(data)`` / ``ctorch.Tensor(2, 3)`` / ``ctorch.Tensor()`` (float32)."""
    dt = D.to_numpy_dtype(
        dtype if dtype is not None else getattr(cls, "_legacy_dtype", D.get_default_dtype())
    )
    if len(args) == 0:
        a = np.empty((0,), dt)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        t = object.__new__(cls)
        Tensor._init_slots(t)
        t._a = src._a
        t._vref = src._vref
        return t
    elif all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in args):
        a = np.empty(tuple(int(x) for x in args), dt)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, Size):
            a = np.empty(tuple(data), dt)
        else:
            a = np.array(data, dtype=dt)
    else:
        raise TypeError(f"Tensor(): invalid arguments {args!r}")
    t = object.__new__(cls)
    Tensor._init_slots(t)
    t._a = a
    if device is not None and as_device(device).type != "cpu":
        t._a = t.to(device)._a
    return t


def _attach() -> None:
    """Attach the op methods (defined in ops/ and _methods.py) to Tensor."""
    from . import _methods

    _methods.attach(Tensor)
    _methods.attach_compat(Tensor)
    _methods.attach_complex(Tensor)
    from . import _torch_function  # noqa: F401 - Tensor.__torch_function__, _make_subclass
