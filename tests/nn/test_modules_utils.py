"""ctorch.nn.modules.utils: the argument helpers custom layers import, compared with torch's."""

from __future__ import annotations

from collections import OrderedDict

import pytest

import ctorch
from ctorch.nn.modules import utils as cu

torch = pytest.importorskip("torch")
from torch.nn.modules import utils as tu  # noqa: E402

VALUES = [3, (1, 2), [4, 5, 6], (7,), range(3), "ab", 2.5, None]


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
def test_ntuple_helpers_match_torch(name):
    for v in VALUES:
        assert getattr(cu, name)(v) == getattr(tu, name)(v), (name, v)
    assert getattr(cu, name).__name__ == getattr(tu, name).__name__ == name


def test_ntuple_factory_and_tensor_input():
    p5 = cu._ntuple(5, "_five")
    assert p5(1) == (1,) * 5 and p5.__name__ == "_five"
    assert cu._ntuple(2)(0).__class__ is tuple and cu._ntuple(2).__name__ == "parse"
    # a tensor is iterable: its rows, as torch's
    t = cu._pair(ctorch.tensor([1, 2]))
    assert [int(x) for x in t] == [1, 2]


def test_reverse_repeat_tuple_and_list_with_default():
    for t, n in [((1, 2), 2), ((1, 2, 3), 1), ((), 3), ((4,), 0)]:
        assert cu._reverse_repeat_tuple(t, n) == tu._reverse_repeat_tuple(t, n)
    for out, defaults in [([None, 7], [1, 2, 5, 6]), ([3, None, None], [9, 8, 7, 6]), (5, [1, 2])]:
        assert cu._list_with_default(out, defaults) == tu._list_with_default(out, defaults)
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        cu._list_with_default([None, 7], [4, 5])
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        tu._list_with_default([None, 7], [4, 5])


def test_consume_prefix_in_state_dict_if_present():
    def sd():
        d = OrderedDict([("module.a", 1), ("module.b.c", 2), ("x", 3)])
        d._metadata = OrderedDict([("", {}), ("module", {"v": 1}), ("module.b", {"v": 2})])
        return d

    c, t = sd(), sd()
    cu.consume_prefix_in_state_dict_if_present(c, "module.")
    tu.consume_prefix_in_state_dict_if_present(t, "module.")
    assert list(c.items()) == list(t.items())
    assert list(c._metadata.items()) == list(t._metadata.items())


def test_a_custom_conv_written_against_these_helpers():
    """How real code uses them: a layer normalising its arguments, then F.pad's order."""
    from ctorch.nn.modules.utils import _pair, _reverse_repeat_tuple

    class MyConv(ctorch.nn.Module):
        def __init__(self, k, padding):
            super().__init__()
            self.k, self.padding = _pair(k), _pair(padding)
            self.pad = _reverse_repeat_tuple(self.padding, 2)
            self.weight = ctorch.nn.Parameter(ctorch.ones(1, 1, *self.k))

        def forward(self, x):
            x = ctorch.nn.functional.pad(x, self.pad, mode="reflect")
            return ctorch.nn.functional.conv2d(x, self.weight)

    y = MyConv(3, (1, 2))(ctorch.ones(1, 1, 5, 5))
    assert tuple(y.shape) == (1, 1, 5, 7)
