"""The command line: ippo train / evaluate / predict, their files, and every user error."""

import csv
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ippo.cli import main
from ippo.datasets import find_data_dir, load_digits

ROOT = Path(__file__).resolve().parent.parent


def run_cli(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One default run (``ippo train`` on digits), shared by the tests that read it."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    rc = main(["train", "--out", str(out)])
    assert rc == 0
    return out


def test_default_train_reaches_95_percent_and_writes_the_run(digits_run):
    for name in ("model.npz", "history.json", "curves.png", "config.toml", "command.txt"):
        assert (digits_run / name).is_file(), name
    from ippo.models import load

    model = load(digits_run / "model.npz")
    assert model.sizes == [64, 256, 10]
    assert model.extra["dataset"] == "digits" and 0.95 <= model.extra["test"]["accuracy"] <= 1
    (_, _), (x, t) = load_digits()
    assert 0.95 <= model.accuracy(x, t) <= 1.0
    hist = json.loads((digits_run / "history.json").read_text())
    assert hist["epochs"]["epoch"] == list(range(1, 31))
    assert hist["epochs"]["loss"][-1] < hist["epochs"]["loss"][0] / 5
    assert (digits_run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "epochs = 30" in (digits_run / "config.toml").read_text()


def test_train_prints_progress_and_test_accuracy(tmp_path, capsys):
    rc, out, err = run_cli(["train", "--epochs", "2", "--hidden", "32", "--out",
                            tmp_path / "r"], capsys)
    assert rc == 0
    text = out + err
    assert "epoch 1/2" in text and "epoch 2/2" in text
    assert "test accuracy" in out and f"saved {tmp_path / 'r'}" in out


def test_evaluate_prints_metrics_and_confusion_matrix(digits_run, capsys):
    rc, out, _ = run_cli(["evaluate", digits_run], capsys)
    assert rc == 0
    acc = float(out.split("accuracy ")[1].split()[0])
    assert 0.95 <= acc <= 1.0
    assert "precision" in out and "macro avg" in out and "confusion matrix" in out
    cm_rows = out.split("confusion matrix")[1].strip().splitlines()[2:]
    assert len(cm_rows) == 10
    assert sum(int(v) for row in cm_rows for v in row.split()[1:]) == 359


def test_predict_npy_and_csv_output(digits_run, tmp_path, capsys):
    (_, _), (x, t) = load_digits()
    np.save(tmp_path / "x.npy", x[:100])
    rc, out, _ = run_cli(["predict", digits_run / "model.npz", tmp_path / "x.npy"], capsys)
    assert rc == 0
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["row", "class", "name", "probability"] and len(rows) == 101
    pred = np.array([int(r[1]) for r in rows[1:]])
    assert np.mean(pred == t[:100]) >= 0.9
    assert all(0.0 < float(r[3]) <= 1.0 for r in rows[1:])
    # images (N, 8, 8) work too; --probs and -o write every class's probability
    np.save(tmp_path / "img.npy", x[:3].reshape(3, 8, 8))
    rc, out, _ = run_cli(["predict", digits_run, tmp_path / "img.npy", "--probs", "-o",
                          tmp_path / "p.csv"], capsys)
    assert rc == 0 and "wrote 3 predictions" in out
    rows = list(csv.reader((tmp_path / "p.csv").open()))
    assert len(rows[0]) == 14 and len(rows) == 4
    assert (tmp_path / "p.csv").read_bytes().count(b"\r\n") == 4  # the csv module's lines
    assert abs(sum(float(v) for v in rows[1][4:]) - 1.0) < 1e-3
    # a .tsv is tab-separated, read as ippo train reads csv:PATH; the same predictions
    np.savetxt(tmp_path / "x.tsv", x[:3], delimiter="\t", fmt="%g")
    rc, out, _ = run_cli(["predict", digits_run, tmp_path / "x.tsv"], capsys)
    assert rc == 0 and [r[1] for r in csv.reader(out.splitlines()[1:])] == [
        str(c) for c in pred[:3]]
    # an NA cell in the first line is a missing value, not a header
    (tmp_path / "na.csv").write_text(",".join(["NA"] + ["0"] * 63) + "\n")
    rc, _, err = run_cli(["predict", digits_run, tmp_path / "na.csv"], capsys)
    assert rc == 1 and "na.csv: line 1, 'column 1': missing value; fill in" in err


def test_config_file_and_flag_precedence(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('dataset = "iris"\nepochs = 3\nhidden = [8]\nbatch-size = "full"\n'
                   'optimizer = "momentum"\nlr = 0.1\n')
    rc, out, _ = run_cli(["train", "-q", "--config", cfg, "--epochs", "2", "--out",
                          tmp_path / "r"], capsys)
    assert rc == 0
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert hist["epochs"]["epoch"] == [1, 2]  # the flag wins over the file
    assert hist["iterations_per_epoch"] == 1  # batch_size "full": batch gradient descent
    written = (tmp_path / "r" / "config.toml").read_text()
    assert 'dataset = "iris"' in written and 'optimizer = "momentum"' in written
    assert 'batch_size = "full"' in written and "hidden = [8]" in written
    # the written config repeats the run
    rc, out2, _ = run_cli(["train", "-q", "--config", tmp_path / "r" / "config.toml",
                           "--out", tmp_path / "r2"], capsys)
    assert rc == 0 and out2.split(";")[0] == out.split(";")[0]


def test_model_and_optimizer_flags_reach_the_model(tmp_path, capsys):
    from ippo.models import load
    from ippo.training import load_checkpoint

    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--hidden", "16,8", "--activation", "tanh", "--init",
                          "xavier", "--batchnorm", "--dropout", "0.2", "--weight-decay",
                          "0.001", "--optimizer", "nesterov", "--lr", "0.05", "--batch-size",
                          "2", "--epochs", "1", "--seed", "3", "--val-split", "0", "--out", run],
                         capsys)
    assert rc == 0, err
    model = load(run / "model.npz")
    assert model.config() == {"sizes": [64, 16, 8, 10], "activation": "tanh",
                              "task": "multiclass", "init": "xavier", "dropout": 0.2,
                              "batchnorm": True, "weight_decay": 0.001, "dtype": "float32",
                              "seed": 3}
    opt = load_checkpoint(run / "checkpoint" / "checkpoint.npz")["optimizer"]
    assert opt["name"] == "Nesterov" and opt["lr"] == 0.05
    hist = json.loads((run / "history.json").read_text())
    assert hist["iterations_per_epoch"] == 719  # 1,438 samples in batches of 2
    # --batch-size 1: online learning, one step a sample
    rc, _, err = run_cli(["train", "-q", "--hidden", "8", "--batch-size", "1", "--epochs", "1",
                          "--val-split", "0", "--out", tmp_path / "online"], capsys)
    assert rc == 0, err
    hist = json.loads((tmp_path / "online" / "history.json").read_text())
    assert hist["iterations_per_epoch"] == 1438


def test_regression_dataset_and_evaluate(tmp_path, capsys):
    rc, out, _ = run_cli(["train", "-q", "--dataset", "linear_toy", "--out", tmp_path / "r"],
                         capsys)
    assert rc == 0 and "R²" in out
    rc, out, _ = run_cli(["evaluate", tmp_path / "r"], capsys)
    r2 = float(out.split("R²")[1].split()[0])
    assert rc == 0 and 0.9 < r2 <= 1.0 and "RMSE" in out


def test_csv_dataset_train_and_predict_with_target_column_present(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.where(x[:, 0] + 2 * x[:, 1] > 0, "yes", "no")
    path = tmp_path / "data.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label", "c"])
        for row, lab in zip(x, y, strict=True):
            w.writerow([f"{row[0]:.4f}", f"{row[1]:.4f}", lab, f"{row[2]:.4f}"])
    rc, out, _ = run_cli(["train", "-q", "--dataset", f"csv:{path}", "--target", "label",
                          "--epochs", "30", "--out", tmp_path / "r"], capsys)
    assert rc == 0
    assert 0.9 <= float(out.split("accuracy ")[1].split()[0]) <= 1.0
    rc, out, _ = run_cli(["predict", tmp_path / "r", path], capsys)
    rows = list(csv.reader(out.splitlines()))[1:]
    assert rc == 0 and len(rows) == 200
    assert np.mean(np.array([r[2] for r in rows]) == y) >= 0.9
    # a table without one of the model's columns is named as such
    (tmp_path / "no_b.csv").write_text("a,label,c\n0.1,yes,0.2\n")
    rc, _, err = run_cli(["predict", tmp_path / "r", tmp_path / "no_b.csv"], capsys)
    assert rc == 1 and err == (f"ippo predict: error: {tmp_path / 'no_b.csv'}: no column 'b'; "
                               f"the model needs the columns 'a', 'b', 'c'\n")


def test_predict_fills_missing_cells_as_the_training_csv_was_filled(tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2))
    cells = [[f"{a:.3f}", f"{b:.3f}", f"{a - b:.3f}"] for a, b in x]
    cells[3][0] = cells[8][1] = "NA"  # missing cells, filled with training means
    (tmp_path / "d.csv").write_text("a,b,y\n" + "\n".join(",".join(r) for r in cells) + "\n")
    rc, _, err = run_cli(["train", "-q", "--dataset", f"csv:{tmp_path / 'd.csv'}", "--epochs",
                          "2", "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    from ippo.datasets import load_csv
    from ippo.models import load

    data = load_csv(tmp_path / "d.csv")
    fill = load(tmp_path / "r" / "model.npz").extra["fill_values"]
    # the training part's column means (filling with its mean keeps a column's mean)
    np.testing.assert_allclose(fill, data[0][0].mean(axis=0, dtype=np.float64), rtol=1e-5)
    (tmp_path / "new.csv").write_text("a,b\n,0.5\n0.25,?\n0.25,0.5\n")
    np.save(tmp_path / "new.npy", np.array([[np.nan, 0.5], [0.25, np.nan], [0.25, 0.5]]))
    np.save(tmp_path / "filled.npy", np.array([[fill[0], 0.5], [0.25, fill[1]], [0.25, 0.5]]))
    answers = []
    for name in ("new.csv", "new.npy", "filled.npy"):
        rc, out, err = run_cli(["predict", tmp_path / "r", tmp_path / name], capsys)
        assert rc == 0, err
        answers.append(out)
    assert answers[0] == answers[1] == answers[2]


def test_csv_run_given_a_relative_path_evaluates_from_another_folder(tmp_path, capsys,
                                                                     monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2))
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in x]
    (data / "t.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(data)
    rc, _, _ = run_cli(["train", "-q", "--dataset", "csv:t.csv", "--epochs", "5",
                        "--out", tmp_path / "r"], capsys)
    assert rc == 0
    monkeypatch.chdir(tmp_path)  # elsewhere: the run still finds its data
    rc, out, err = run_cli(["evaluate", tmp_path / "r"], capsys)
    assert rc == 0, err
    assert f"data: csv:{data / 't.csv'}, test split" in out
    # and so do --resume and --config (config.toml records the absolute path)
    assert f'dataset = "csv:{data / "t.csv"}"' in (tmp_path / "r" / "config.toml").read_text()
    rc, _, err = run_cli(["train", "-q", "--resume", tmp_path / "r", "--epochs", "6"], capsys)
    assert rc == 0, err
    rc, _, err = run_cli(["train", "-q", "--config", tmp_path / "r" / "config.toml", "--out",
                          tmp_path / "again"], capsys)
    assert rc == 0, err
    monkeypatch.chdir(data)  # the relative spelling is the same data set for --resume
    rc, _, err = run_cli(["train", "-q", "--resume", tmp_path / "r", "--dataset", "csv:t.csv",
                          "--epochs", "7"], capsys)
    assert rc == 0, err


def test_resume_continues_a_run(tmp_path, capsys):
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--dataset", "Iris", "--epochs", "2", "--out", run],
                   capsys)[0] == 0
    assert 'dataset = "iris"' in (run / "config.toml").read_text()  # the canonical name
    assert run_cli(["train", "-q", "--resume", run, "--epochs", "4"], capsys)[0] == 0
    hist = json.loads((run / "history.json").read_text())
    assert hist["epochs"]["epoch"] == [1, 2, 3, 4]
    ckpt = run / "checkpoint" / "checkpoint.npz"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])  # cut short, as by a full disk
    rc, out, err = run_cli(["train", "-q", "--resume", run, "--epochs", "6"], capsys)
    assert rc == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"ippo train: error: cannot resume: the checkpoint is damaged, remove "
                          f"it to start the run over: {ckpt}: not a valid ippo checkpoint "
                          f"(truncated")


def test_resume_refuses_changes_that_make_another_run(tmp_path, capsys):
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--dataset", "iris", "--epochs", "2", "--out", run],
                   capsys)[0] == 0
    config = (run / "config.toml").read_text()
    for argv, message in [
        (["--dataset", "digits"], "--dataset cannot change when resuming (the run in "
                                  f"{run} used 'iris', got 'digits')"),
        (["--hidden", "8"], "--hidden cannot change when resuming (the run in "
                            f"{run} used [16], got [8])"),
        (["--lr", "0.1"], "--lr cannot change when resuming (the run in "
                          f"{run} used the default, got 0.1)"),
        (["--out", tmp_path / "elsewhere"], f"a resumed run stays in its folder {run}; "
                                             f"leave out --out"),
    ]:
        rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "3", *argv], capsys)
        assert rc == 1 and err.strip() == f"ippo train: error: --resume: {message}" + (
            "" if argv[0] == "--out" else "; only --epochs, --threads, --data-dir can, or "
                                          "start a new run"), err
    # nothing of the run was touched by the refused attempts
    assert (run / "config.toml").read_text() == config
    assert not (tmp_path / "elsewhere").exists()
    # the same values, or another spelling of the data set, are no change
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "3", "--dataset", "Iris",
                          "--hidden", "16"], capsys)
    assert rc == 0, err
    assert json.loads((run / "history.json").read_text())["epochs"]["epoch"] == [1, 2, 3]
    commands = (run / "command.txt").read_text().splitlines()
    assert commands == [f"ippo train -q --dataset iris --epochs 2 --out {run}",
                        f"ippo train -q --resume {run} --epochs 3 --dataset Iris --hidden 16"]
    # a run whose checkpoint is gone starts over, and says so
    import shutil

    shutil.rmtree(run / "checkpoint")
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "1"], capsys)
    assert rc == 0 and err == f"ippo train: note: {run} has no checkpoint; training from the " \
                              f"start\n"


def press_ctrl_c_in_epoch(monkeypatch, at):
    """Make every Trainer.fit raise KeyboardInterrupt as epoch ``at`` begins (the user's
    Ctrl-C), until ``monkeypatch.undo()``."""
    from ippo.training import Trainer

    fit = Trainer.fit

    class CtrlC:
        def on_epoch_begin(self, epoch):
            if epoch == at:
                raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", lambda self, *a, **k: fit(self, *a, **k,
                                                                   callbacks=[CtrlC()]))


def test_ctrl_c_says_how_to_resume(tmp_path, capsys, monkeypatch):
    press_ctrl_c_in_epoch(monkeypatch, 3)
    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--dataset", "iris", "--epochs", "5", "--out", run],
                         capsys)
    assert rc == 130
    assert err == f"ippo train: interrupted; epoch 2 is saved: ippo train --resume {run} " \
                  f"continues\n"
    monkeypatch.undo()
    rc, _, err = run_cli(["train", "-q", "--resume", run], capsys)
    assert rc == 0, err
    assert json.loads((run / "history.json").read_text())["epochs"]["epoch"] == [1, 2, 3, 4, 5]


def test_batchnorm_with_online_learning_is_one_clear_line(tmp_path, capsys):
    rc, _, err = run_cli(["train", "-q", "--batchnorm", "--batch-size", "1", "--out",
                          tmp_path / "r"], capsys)
    assert rc == 1
    assert err == ("ippo train: error: --batchnorm needs --batch-size 2 or more: a batch of "
                   "one sample has no variance to normalize with\n")


def test_long_runs_checkpoint_every_few_epochs(tmp_path, capsys, monkeypatch):
    from ippo.commands.train import checkpoint_every

    assert [checkpoint_every(e) for e in (1, 25, 49, 50, 300)] == [1, 1, 1, 2, 12]
    press_ctrl_c_in_epoch(monkeypatch, 8)  # of 60 epochs: the checkpoints hold every 2nd
    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--dataset", "iris", "--epochs", "60", "--out", run],
                         capsys)
    assert rc == 130 and "epoch 6 is saved" in err


def test_augment_and_early_stopping_options(tmp_path, capsys):
    rc, out, _ = run_cli(["train", "-q", "--augment", "shift:1,rotate:10", "--epochs", "2",
                          "--out", tmp_path / "a"], capsys)
    assert rc == 0
    rc, out, _ = run_cli(["train", "-q", "--dataset", "spiral", "--early-stopping", "2",
                          "--epochs", "150", "--lr", "0.05", "--out", tmp_path / "e"], capsys)
    assert rc == 0
    hist = json.loads((tmp_path / "e" / "history.json").read_text())
    assert "val_loss" in hist["epochs"] and len(hist["epochs"]["epoch"]) < 150



MNIST_DIR = find_data_dir("mnist")


@pytest.mark.skipif(MNIST_DIR is None, reason="MNIST IDX files not found in "
                    "$IPPO_DATA_DIR/mnist or ../shared/data/mnist")
def test_mnist_one_epoch_from_the_shared_data(tmp_path, capsys):
    rc, out, _ = run_cli(["train", "-q", "--dataset", "mnist", "--data-dir", MNIST_DIR,
                          "--hidden", "32", "--epochs", "1", "--out", tmp_path / "m"],
                         capsys)
    assert rc == 0
    assert 0.9 <= float(out.split("accuracy ")[1].split()[0]) <= 1.0


@pytest.fixture(scope="module")
def files(tmp_path_factory, digits_run):
    d = tmp_path_factory.mktemp("inputs")
    np.save(d / "wide.npy", np.zeros((2, 5), np.float32))
    np.save(d / "text.npy", np.array(["a", "b"]))
    (d / "bad.csv").write_text("a,b,y\n1,2,0\n3,x,1\n")
    (d / "bad.toml").write_text("epochs = 2\nlayers = 3\n")
    (d / "broken.toml").write_text("epochs = = 2\n")
    (d / "notamodel.npz").write_bytes(b"PK\x03\x04 truncated")
    (d / "notes.txt").write_text("just some text\n")
    (d / "pickled.npz").write_bytes(pickle.dumps({"W": [1.0, 2.0]}))
    (d / "header.csv").write_text("a,b,c\n")
    (d / "afile").write_text("")
    (d / "zeros.csv").write_text(",".join(["0"] * 64) + "\n")
    np.save(d / "scalar.npy", np.float32(1.0))
    np.save(d / "none.npy", np.zeros((0, 64), np.float32))
    nan = np.zeros((3, 64), np.float32)
    nan[2, 5] = np.nan
    np.save(d / "nan.npy", nan)
    np.save(d / "huge.npy", np.full((1, 64), 1e300))
    (d / "elf.npy").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(40))
    (d / "latin1.csv").write_bytes("a,b,y\n1,2,caf\xe9\n".encode("latin-1"))
    (d / "inf.csv").write_text("a,b,y\n1,2,0\n3,inf,1\n")
    (d / "huge.csv").write_text(",".join(["1e300"] + ["0"] * 63) + "\n")
    return d


ERRORS = [
    (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["train", "--dataset", "digts"], "unknown dataset 'digts' (did you mean 'digits'?)"),
    (["train", "--dataset", "mnist", "--data-dir", "{d}/nope"], "is not a folder"),
    (["train", "--hidden", "10,a"], "--hidden: 'a' is not a layer size"),
    (["train", "--batch-size", "0"], "--batch-size: must be >= 1"),
    (["train", "--batch-size", "99999"], "larger than the training data"),
    (["train", "--dropout", "1"], "--dropout: must be in [0.0, 1.0)"),
    (["train", "--lr", "-0.1"], "--lr: must be in (0.0"),
    (["train", "--epochs", "many"], "--epochs: expected an integer"),
    (["train", "--optimizer", "adamw"], "--optimizer: 'adamw' is not one of"),
    (["train", "--activation", "gelu"], "--activation: 'gelu' is not one of"),
    (["train", "--config", "{d}/missing.toml"], "no such file"),
    (["train", "--config", "{d}/bad.toml"], "unknown key 'layers'"),
    (["train", "--config", "{d}/broken.toml"], "not valid TOML"),
    (["train", "--augment", "zoom"], "unknown augmentation 'zoom'"),
    (["train", "--augment", "shift:8"], "shift:8 moves the image by its whole size (8, 8)"),
    (["train", "--init", "-0.1"], "--init: a weight std must be a positive number, got '-0.1'"),
    (["train", "--init", "glorot"], "--init: expected auto, he, xavier or a number, got "
                                    "'glorot'"),
    (["train", "--dataset", "iris", "--augment", "rotate"], "needs image data"),
    (["train", "--dataset", "csv:{d}/missing.csv"], "no such file"),
    (["train", "--dataset", "csv:{d}/bad.csv"], "line 3, column 'b': cannot read 'x'"),
    (["train", "--resume", "{d}"], "holds no config.toml"),
    (["train", "--early-stopping", "2", "--val-split", "0"], "needs validation data"),
    (["train", "--val-split", "0.0001"], "--val-split 0.0001 holds out 0 of the 1,438 training "
                                         "samples; both parts need at least one"),
    (["evaluate", "{d}/missing.npz"], "no such model file"),
    (["evaluate", "{d}/notamodel.npz"], "not a valid ippo model file"),
    (["evaluate", "{d}/notes.txt"], "notes.txt: not an ippo model file (not an .npz archive)"),
    (["evaluate", "{d}/pickled.npz"], "pickled.npz: not an ippo model file (it is a Python "
                                      "pickle, which ippo never loads"),
    (["predict", "{d}/pickled.npz", "{d}/header.csv"], "it is a Python pickle"),
    (["predict", "{run}", "{d}/header.csv"], "header.csv has a header but no data rows"),
    (["predict", "{run}", "{d}/zeros.csv", "-o", "{d}/no/such/dir/p.csv"],
     "/no/such/dir/p.csv: the folder "),
    (["predict", "{run}", "{d}/zeros.csv", "-o", "{d}/nowhere/p.csv"],
     "/nowhere does not exist (create it first"),
    (["train", "--out", "{d}/afile", "--epochs", "1"], "afile exists and is not a folder"),
    (["evaluate", "{run}", "--dataset", "iris"], "has 4 features per sample but the model "
                                                 "expects 64"),
    (["predict", "{run}", "{d}/missing.csv"], "no such input file"),
    (["predict", "{run}", "{d}/wide.npy"], "has 5 features per sample but the model expects 64"),
    (["predict", "{run}", "{d}/text.npy"], "numeric"),
    (["predict", "{run}", "{d}/bad.toml"], "unsupported input type"),
    # samples a model cannot use: no traceback, and no silent NaN predictions
    (["predict", "{run}", "{d}/scalar.npy"], "scalar.npy: holds a single number"),
    (["predict", "{run}", "{d}/none.npy"], "none.npy: no samples to predict"),
    (["predict", "{run}", "{d}/nan.npy"], "nan.npy: sample 2 (0-based), feature 5: nan is not "
                                         "a finite number"),
    (["predict", "{run}", "{d}/huge.npy"], "feature 0: 1e+300 is beyond the float32 range"),
    (["predict", "{run}", "{d}/elf.npy"], "elf.npy: not a .npy file"),
    (["predict", "{run}", "{d}/huge.csv"], "huge.csv: line 1, 'column 1': '1e300' is beyond "
                                          "the float32 range"),
    (["predict", "{run}", "{d}/latin1.csv"], "latin1.csv: not a UTF-8 text file"),
    (["predict", "{run}", "{d}"], "is a folder; give a .csv or .npy file"),
    (["train", "--dataset", "csv:{d}/latin1.csv"], "latin1.csv: not a UTF-8 text file"),
    (["train", "--dataset", "csv:{d}/inf.csv"], "line 3, column 'b': 'inf' is not a finite "
                                               "number"),
    (["train", "--dataset", "csv:{d}"], "is a folder, not a CSV file"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[" ".join(a[:3]) for a, _ in ERRORS])
def test_user_errors_are_one_line_without_traceback(argv, message, files, digits_run, capsys):
    argv = [a.format(d=files, run=digits_run) for a in argv]
    rc, out, err = run_cli(argv, capsys)
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ippo {argv[0]}: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in err + out


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    # as NumPy says it for --hidden 1000000,1000000 (not really allocated here: with
    # overcommitting kernels a huge allocation may succeed and be killed later)
    def huge(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000, "
                          "1000000) and data type float32")

    monkeypatch.setattr("ippo.models.MLP", huge)
    rc, out, err = run_cli(["train", "--hidden", "1000000,1000000", "--out", tmp_path / "r"],
                           capsys)
    assert rc == 1 and err == ("ippo train: error: out of memory: Unable to allocate 7.28 TiB "
                               "for an array with shape (1000000, 1000000) and data type "
                               "float32 (try smaller layers or batches)\n")


def test_errors_in_a_real_process_exit_nonzero_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ippo", "train", "--dataset", "nope"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("ippo train: error: unknown dataset 'nope'")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_dataset_lr_default_only_applies_to_the_default_optimizer(tmp_path, capsys):
    rc, out, _ = run_cli(["train", "-q", "--dataset", "linear_toy", "--epochs", "1",
                          "--out", tmp_path / "a"], capsys)
    assert rc == 0 and "lr = 0.01" in (tmp_path / "a" / "config.toml").read_text()
    rc, out, _ = run_cli(["train", "-q", "--dataset", "linear_toy", "--epochs", "1",
                          "--optimizer", "sgd", "--out", tmp_path / "b"], capsys)
    assert rc == 0 and "lr =" not in (tmp_path / "b" / "config.toml").read_text()
    # regression predictions come back in the data's units
    np.save(tmp_path / "x.npy", np.array([[0.0, 0.0], [1.0, 1.0]], np.float32))
    rc, out, _ = run_cli(["predict", tmp_path / "a", tmp_path / "x.npy"], capsys)
    rows = list(csv.reader(out.splitlines()))
    assert rc == 0 and rows[0] == ["row", "value"] and len(rows) == 3


def test_run_files_are_written_atomically(tmp_path):
    from ippo.commands import _common as C

    path = tmp_path / "history.json"
    C.write_json(path, {"loss": [0.5, np.float32(0.25)]})
    assert json.loads(path.read_text()) == {"loss": [0.5, 0.25]}
    with pytest.raises(ValueError):  # NaN is not valid JSON: the old file stays, no temp file
        C.write_json(path, {"loss": [float("nan")]})
    assert json.loads(path.read_text()) == {"loss": [0.5, 0.25]}
    C.write_config(tmp_path / "config.toml", {"epochs": 3, "hidden": [8, 4]}, header="hi")
    assert (tmp_path / "config.toml").read_text() == "# hi\nhidden = [8, 4]\nepochs = 3\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "history.json"]


@pytest.mark.parametrize("argv", [["train", "--batchnorm", "yes"], ["predict", "m", "x", "y"],
                                  ["demo", "--fast"]])
def test_unknown_arguments_are_reported_by_the_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2
    assert err[0].startswith(f"usage: ippo {argv[0]} ")  # its own usage, not ippo's
    assert err[-1] == f"ippo {argv[0]}: error: unrecognized arguments: {argv[-1]}"
