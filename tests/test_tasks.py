"""ippo.tasks: the task and activation tables, the MLP's argument check and its plan."""

import numpy as np
import pytest

from ippo import layers
from ippo.autograd import nn, ops
from ippo.initializers import normal
from ippo.tasks import ACTIVATIONS, TASKS, mlp_arguments, mlp_plan


def test_every_row_names_classes_that_exist_in_both_families():
    for task in TASKS.values():
        for loss in task.losses:
            assert getattr(layers, loss.layer)().task == task.name
            assert callable(getattr(ops, loss.op))
    for a in ACTIVATIONS.values():
        assert issubclass(getattr(layers, a.cls), layers.Layer)
        assert issubclass(getattr(nn, a.cls), nn.Module)
    assert [n for n, a in ACTIVATIONS.items() if a.hidden] == ["relu", "sigmoid", "tanh",
                                                               "leaky_relu"]


def test_each_task_has_its_default_loss_first_and_refuses_the_others():
    assert {name: [(x.name, x.layer, x.op) for x in t.losses] for name, t in TASKS.items()} \
        == {"regression": [("mean_squared_error", "MeanSquaredLoss", "mse"),
                           ("sum_squared_error", "SumSquaredLoss", "sum_squared_error")],
            "binary": [("sigmoid_binary_cross_entropy", "SigmoidWithLoss",
                        "sigmoid_binary_cross_entropy")],
            "multiclass": [("softmax_cross_entropy", "SoftmaxWithLoss", "cross_entropy")]}
    assert TASKS["regression"].loss().name == "mean_squared_error"
    assert TASKS["regression"].loss("sum_squared_error").layer == "SumSquaredLoss"
    with pytest.raises(ValueError, match="^MLP: loss for task='multiclass' must be one of "
                                         "'softmax_cross_entropy' .*got 'sum_squared_error'"):
        TASKS["multiclass"].loss("sum_squared_error")
    with pytest.raises(ValueError, match="^nn.MLP: loss for task='regression' must be one of "
                                         "'mean_squared_error' .*'sum_squared_error' .*got 'mse'"):
        TASKS["regression"].loss("mse", "nn.MLP")


def test_outputs_classes_and_metrics_by_task():
    s = np.array([[2.0, 0.0, 1.0], [-1.0, 3.0, 0.0]])
    p = TASKS["multiclass"].output(s)
    np.testing.assert_allclose(p[0], np.exp([2, 0, 1]) / np.exp([2, 0, 1]).sum(), rtol=1e-12)
    assert TASKS["multiclass"].classes(s).tolist() == [0, 1]
    b = np.array([[0.5], [-0.5], [0.0]])
    np.testing.assert_allclose(TASKS["binary"].output(b)[:, 0], 1 / (1 + np.exp(-b[:, 0])))
    assert TASKS["binary"].classes(b).tolist() == [1, 0, 0]  # score > 0, so p > ½
    assert TASKS["regression"].output(s) is s
    with pytest.raises(ValueError, match="a regression model has no classes"):
        TASKS["regression"].classes(s)
    assert {t.name: t.metric for t in TASKS.values()} == {
        "regression": "r2", "binary": "accuracy", "multiclass": "accuracy"}


@pytest.mark.parametrize("args, match", [
    (dict(sizes=[3, 2], task="binary"), "a binary classifier has one output"),
    (dict(sizes=[3, 1], task="multiclass"), "needs at least 2 outputs, got 1"),
    (dict(sizes=[3, 0]), "at least two positive integers"),
    (dict(sizes=[3, 2], activation="gelu"), "activation must be one of relu, sigmoid"),
    (dict(sizes=[3, 2], dropout=1.0), r"dropout must be in \[0, 1\), got 1.0"),
    (dict(sizes=[3, 2], weight_decay=-1), "weight_decay must be >= 0, got -1"),
])
def test_mlp_arguments_refuse_what_no_mlp_can_be(args, match):
    kwargs = dict(activation="relu", task="multiclass", dropout=0.0, weight_decay=0.0,
                  dtype=np.float32)
    kwargs.update(args)
    with pytest.raises(ValueError, match="^MLP: .*" + match):
        mlp_arguments(**kwargs)


def test_mlp_plan_draws_weights_and_dropout_seeds_in_one_order():
    plan = mlp_plan([4, 3, 2], "tanh", "auto", 0.5, True, np.float32, seed=7)
    assert [kind for kind, _ in plan] == ["affine", "batchnorm", "activation", "dropout",
                                          "affine"]
    rng = np.random.default_rng(7)  # the same draws by hand: W1, the dropout seed, W2
    w1 = normal((4, 3), np.sqrt(1 / 4), rng, np.float32)  # Xavier for tanh
    seed = int(rng.integers(2**62))
    w2 = normal((3, 2), np.sqrt(1 / 3), rng, np.float32)
    np.testing.assert_array_equal(plan[0][1], w1)
    assert plan[1][1] == 3 and plan[2][1] == "tanh" and plan[3][1] == seed
    np.testing.assert_array_equal(plan[4][1], w2)
