"""Files written by an older ippo still load: a model file and training checkpoints written
by ippo at commit 7097d3c (``tests/data/v1/``, see ``make_files.py`` there) give the very
same numbers with the current code: predictions, weights, and a resumed run that ends on
the bits of the uninterrupted one."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from ippo import optimizers as O
from ippo.autograd import nn
from ippo.io import load_checkpoint
from ippo.models import MLP, load
from ippo.training import EarlyStopping, Trainer

V1 = Path(__file__).resolve().parent / "data" / "v1"
NET = dict(sizes=[6, 8, 3], activation="relu", batchnorm=True, dropout=0.25)


@pytest.fixture(scope="module")
def expected():
    with np.load(V1 / "expected.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_a_version_1_model_file_loads_with_the_same_weights_and_predictions(expected):
    model = load(V1 / "mlp_bn_dropout.npz")
    assert isinstance(model, MLP) and model.extra == {"epoch": 3, "note": "v1"}
    assert [type(la).__name__ for la in model.layers] == [
        "Affine", "BatchNormalization", "ReLU", "Dropout", "Affine"]
    assert (model.sizes, model.dropout, model.batchnorm) == ([6, 8, 3], 0.25, True)
    state = model.state_dict()
    want = {k[len("model/state/"):]: v for k, v in expected.items()
            if k.startswith("model/state/")}
    assert sorted(state) == sorted(want) and "BatchNormalization1.running_var" in state
    for k, v in want.items():
        np.testing.assert_array_equal(state[k], v, err_msg=k)
    # the running averages are not the initial ones: inference really uses them
    assert not np.allclose(state["BatchNormalization1.running_var"], 1.0)
    np.testing.assert_array_equal(model.predict(expected["x"]), expected["model/predict"])


@pytest.mark.parametrize("name, make", [
    ("run", lambda seed: MLP(seed=seed, **NET)),
    ("run_autograd", lambda seed: nn.Trainable(nn.MLP(seed=seed, **NET))),
])
def test_a_version_1_checkpoint_resumes_to_the_uninterrupted_runs_bits(
        tmp_path, expected, name, make):
    folder = tmp_path / name
    shutil.copytree(V1 / name, folder)
    saved = load_checkpoint(folder / "checkpoint.npz")
    assert saved["epoch"] == 2 and list(saved["layer_rngs"]) == ["3"]  # Dropout1's generator
    model = make(99)  # other initial weights: everything comes from the checkpoint
    es = EarlyStopping(patience=3)
    h = Trainer(model, O.Adam(0.01), verbose=0).fit(
        expected["x"], expected["t"], epochs=4, batch_size=8, x_val=expected["x_val"],
        t_val=expected["t_val"], seed=5, early_stopping=es, checkpoint_dir=folder,
        resume=True)
    assert h["epoch"] == [1, 2, 3, 4]
    assert h.iteration_loss == expected[f"{name}/iteration_loss"].tolist()
    assert h["val_loss"] == expected[f"{name}/val_loss"].tolist()
    state = model.state_dict()
    prefix = f"{name}/state/"
    want = {k[len(prefix):]: v for k, v in expected.items() if k.startswith(prefix)}
    assert sorted(state) == sorted(want)
    for k, v in want.items():
        np.testing.assert_array_equal(state[k], v, err_msg=k)
    assert es.best_epoch == h.best_epoch and 1 <= es.best_epoch <= 4
