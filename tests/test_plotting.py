"""ippo.plotting: the decision regions of a 2-input model, as numbers and as a picture."""

import numpy as np
import pytest

from ippo.layers import Affine, SoftmaxWithLoss
from ippo.models import MLP, Sequential
from ippo.plotting import decision_grid, plot_decision_regions

X = np.array([[-1.0, -2.0], [1.0, 2.0], [0.5, -1.0]])


def test_grid_covers_the_data_with_a_margin_and_follows_the_model():
    xx, yy, classes = decision_grid(lambda p: (p[:, 0] > 0).astype(int), X, resolution=21,
                                    margin=0.1)
    assert xx.shape == yy.shape == classes.shape == (21, 21)
    # x0 from −1 to 1 widened by 0.1·2 on each side, x1 from −2 to 2 by 0.1·4
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == pytest.approx((-1.2, 1.2, -2.4, 2.4))
    np.testing.assert_array_equal(classes, (xx > 0).astype(int))


def test_scores_are_turned_into_the_class_with_the_largest_score():
    # a linear model with scores (x0, x1): class 1 above the diagonal x1 > x0
    layer = Affine(np.eye(2), np.zeros(2), dtype=np.float64)
    xx, yy, classes = decision_grid(layer.forward, X, resolution=30)
    np.testing.assert_array_equal(classes, (yy > xx).astype(int))


def test_a_model_with_predict_classes_is_used_as_it_is():
    model = Sequential([Affine([[1.0, -1.0], [0.0, 0.0]], [0.0, 0.0])], SoftmaxWithLoss())
    xx, _, classes = decision_grid(model, X, resolution=10)
    np.testing.assert_array_equal(classes, (xx < 0).astype(int))  # score x0 vs −x0
    binary = MLP([2, 1], task="binary", seed=0)
    _, _, classes = decision_grid(binary, X, resolution=5)
    assert set(np.unique(classes)) <= {0, 1}


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"decision_grid: x must be numeric points of shape"):
        decision_grid(lambda p: p[:, 0] > 0, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="one class index per point"):
        decision_grid(lambda p: p[:, 0] + 0.5, X)
    with pytest.raises(ValueError, match="resolution must be an integer >= 2"):
        decision_grid(lambda p: p[:, 0] > 0, X, resolution=1)
    with pytest.raises(ValueError, match="model must have predict_classes"):
        decision_grid(42, X)


def test_the_picture_has_a_title_labels_and_one_legend_entry_per_class():
    pytest.importorskip("matplotlib")
    t = np.array([0, 1, 2])
    ax = plot_decision_regions(lambda p: (p[:, 0] > 0).astype(int) + (p[:, 1] > 1), X, t,
                               class_names=["a", "b", "c"], title="three classes")
    assert ax.get_title() == "three classes"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")
    assert [h.get_text() for h in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="x has 3 samples but t has 2"):
        plot_decision_regions(lambda p: p[:, 0] > 0, X, [0, 1])
