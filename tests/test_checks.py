"""ippo.checks: each rule at the boundary, written once, with the words every caller shows."""

import numpy as np
import pytest

from ippo import checks


def test_targets_like_accepts_one_value_per_sample_for_a_single_output():
    t = np.array([1.0, 2.0, 3.0])
    shaped = checks.targets_like("f", (3, 1), t)
    assert shaped.shape == (3, 1) and np.shares_memory(shaped, t)  # a view, not a copy
    np.testing.assert_array_equal(shaped[:, 0], t)
    same = np.zeros((3, 2))
    assert checks.targets_like("f", (3, 2), same) is same
    with pytest.raises(ValueError, match=r"^f: y has shape \(3, 2\) but t has shape \(3,\); "
                                         r"expected t of shape \(3, 2\)$"):
        checks.targets_like("f", (3, 2), t)  # (N,) only for ONE output per sample
    with pytest.raises(ValueError, match=r"expected t of shape \(3, 1\) or \(3,\)$"):
        checks.targets_like("f", (3, 1), np.zeros(4))


def test_is_class_index_tells_indices_from_one_hot_by_shape():
    assert checks.is_class_index("f", (4, 3), np.zeros(4)) is True
    assert checks.is_class_index("f", (4, 3), np.zeros((4, 3))) is False
    with pytest.raises(ValueError, match=r"^f: x has shape \(4, 3\) but t has shape \(4, 2\); "
                                         r"t must be one-hot \(shape \(4, 3\)\) or class "
                                         r"indices \(shape \(4,\)\)$"):
        checks.is_class_index("f", (4, 3), np.zeros((4, 2)), "x")


@pytest.mark.parametrize("t, message", [
    ([0, 3], r"class index out of range: t holds values from 0 to 3 \(t has shape \(2,\)\), "
             r"but y of shape \(2, 3\) has 3 classes \(valid: 0\.\.2\)"),
    ([-1, 0], r"values from -1 to 0"),  # a negative index would pick the last class
    ([0.0, 0.5], r"looks like class indices .* non-integer values, such as 0.5"),
    ([0.0, np.nan], r"non-integer values, such as nan"),
])
def test_class_indices_refuses_what_is_no_class(t, message):
    with pytest.raises(ValueError, match="^f: .*" + message):
        checks.class_indices("f", np.array(t), (2, 3))


def test_class_indices_accepts_whole_floats_as_integers():
    out = checks.class_indices("f", np.array([2.0, 0.0]), (2, 3))
    assert out.dtype == np.intp and out.tolist() == [2, 0]
    ints = np.array([2, 0], dtype=np.intp)
    assert checks.class_indices("f", ints, (2, 3)) is ints  # no copy


def test_unit_interval_and_binary_targets():
    checks.unit_interval("f", np.array([0.0, 0.3, 1.0]))
    for bad, shown in (([0.0, 1.5], "0.0 to 1.5"), ([-0.1, 1.0], "-0.1 to 1.0"),
                       ([np.nan, 1.0], "nan to nan")):
        with pytest.raises(ValueError, match=rf"^f: targets must lie in \[0, 1\], got values "
                                             rf"from {shown} \(t has shape \(2,\)\)$"):
            checks.unit_interval("f", np.array(bad))
    t = np.array([0, 1, 1])
    assert checks.binary_targets("f", (3, 1), t).shape == (3, 1)
    with pytest.raises(ValueError, match=r"values from 0.0 to 2.0 \(t has shape \(3,\)\)"):
        checks.binary_targets("f", (3, 1), np.array([0, 2, 1]))  # the caller's shape is named


def test_class_targets_checks_shape_then_values():
    t, is_index = checks.class_targets("f", (2, 3), np.array([1, 2]))
    assert is_index and t.tolist() == [1, 2]
    one_hot = np.eye(3)[[1, 2]]
    t, is_index = checks.class_targets("f", (2, 3), one_hot)
    assert not is_index and t is one_hot
    with pytest.raises(ValueError, match="targets must lie in"):
        checks.class_targets("f", (2, 3), 2 * one_hot)


def test_ids_numeric_and_dtype_helpers():
    np.testing.assert_array_equal(checks.ids("E", [[0, 4]], 5), [[0, 4]])
    with pytest.raises(ValueError, match=r"^E: ids must lie in 0\.\.4, got values from 0 to 5$"):
        checks.ids("E", [0, 5], 5)
    with pytest.raises(ValueError, match=r"^E: ids must be integers, got dtype float64$"):
        checks.ids("E", [0.0], 5)
    with pytest.raises(ValueError, match=r"^f: x must be a numeric array, got dtype <U1"):
        checks.numeric("f", "x", ["a"])
    assert checks.float_array("f", "x", [1, 2]).dtype == np.float32
    assert checks.non_negative("M", "weight_decay", 0) == 0.0
    for bad in (-1e-9, float("nan"), float("inf"), "x"):
        with pytest.raises(ValueError, match="^M: weight_decay must be >= 0"):
            checks.non_negative("M", "weight_decay", bad)
    assert checks.float_dtype("M", "float64") == np.float64
    with pytest.raises(ValueError, match="^M: dtype must be float32 or float64, got"):
        checks.float_dtype("M", np.float16)


def test_where_may_be_a_callable_built_only_for_an_error():
    calls = []

    def where():
        calls.append(1)
        return "Layer() layer 3"

    checks.targets_like(where, (2, 1), np.zeros(2))
    checks.is_class_index(where, (2, 3), np.zeros(2))
    checks.ids(where, [0], 3)
    assert calls == []  # a check that passes formats nothing
    with pytest.raises(ValueError, match=r"^Layer\(\) layer 3: ids must lie in 0\.\.2"):
        checks.ids(where, [5], 3)
    assert calls == [1]
