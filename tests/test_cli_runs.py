"""ippo train's run folders and the choices a careless user meets: a run is never replaced
without --overwrite, runs/latest, --resume that would train nothing, a diverging run, the
default validation part, questionable values (--val-split 0.999, --threads 1000,
--hidden 0, --augment flip on digits), help texts generated from the code's tables, exit
codes, and ippo predict's -o and range warning."""

import json
import os
import warnings

import numpy as np
import pytest

from ippo.cli import main
from ippo.datasets import load_digits


def run_cli(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A 2-epoch digits run in its own folder."""
    out = tmp_path_factory.mktemp("small") / "run"
    assert main(["train", "-q", "--epochs", "2", "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- --out


def test_out_at_an_existing_run_is_refused_and_the_run_kept(tmp_path, capsys):
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--epochs", "1", "--out", run], capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    rc, out, err = run_cli(["train", "-q", "--epochs", "2", "--hidden", "8", "--out", run],
                           capsys)
    assert rc == 1 and error_line(err) == (
        f"ippo train: error: --out {run} already holds a run (model.npz, history.json, "
        f"curves.png, {os.path.join('checkpoint', 'checkpoint.npz')}); continue it with ippo "
        f"train --resume {run}, replace it with --overwrite, or choose another --out")
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_overwrite_replaces_only_the_runs_own_files(tmp_path, capsys):
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--epochs", "1", "--out", run], capsys)[0] == 0
    (run / "notes.txt").write_text("mine")
    # an interrupted run (a checkpoint only) is a run too
    (run / "model.npz").unlink()
    rc, _, err = run_cli(["train", "-q", "--epochs", "2", "--out", run], capsys)
    assert rc == 1 and "already holds a run (history.json" in err
    rc, _, err = run_cli(["train", "-q", "--epochs", "2", "--hidden", "8", "--out", run,
                          "--overwrite"], capsys)
    assert rc == 0, err
    hist = json.loads((run / "history.json").read_text())
    assert hist["epochs"]["epoch"] == [1, 2]
    assert "hidden = [8]" in (run / "config.toml").read_text()
    assert (run / "notes.txt").read_text() == "mine"  # not ippo's: left alone
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "3", "--overwrite"],
                         capsys)
    assert rc == 1 and "--resume continues a run and --overwrite replaces one" in err


def test_a_run_that_never_saved_an_epoch_leaves_a_reusable_folder(tmp_path, capsys):
    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--lr", "1e6", "--epochs", "3", "--out", run], capsys)
    assert rc == 1 and "training diverged" in err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "command.txt",
                                                     "config.toml"]
    rc, _, err = run_cli(["train", "-q", "--epochs", "1", "--out", run], capsys)  # fixed lr
    assert rc == 0, err
    assert (run / "command.txt").read_text().count("\n") == 1  # this run's command only


def test_runs_latest_links_to_the_last_finished_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(["train", "-q", "--epochs", "1"], capsys)[0] == 0
    first = os.readlink("runs/latest")
    assert (tmp_path / "runs" / first / "model.npz").is_file()
    assert run_cli(["train", "-q", "--epochs", "1", "--out", "runs/named"], capsys)[0] == 0
    assert os.readlink("runs/latest") == "named"  # relative: the folder can move
    rc, out, err = run_cli(["evaluate", "runs/latest"], capsys)  # the README's next command
    assert rc == 0 and "accuracy" in out
    assert run_cli(["train", "-q", "--epochs", "1", "--out", tmp_path / "elsewhere"],
                   capsys)[0] == 0
    assert os.readlink("runs/latest") == "named"  # runs outside runs/ leave it
    rc, _, err = run_cli(["train", "-q", "--epochs", "1", "--out", "runs/latest"], capsys)
    assert rc == 1 and "runs/latest is the link to the last finished run" in err


# --------------------------------------------------------------------------- --resume


def test_resume_with_no_epochs_left_is_refused_before_anything_is_written(tmp_path, capsys):
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--epochs", "3", "--out", run], capsys)[0] == 0
    files = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    for epochs in ("2", "3"):
        rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", epochs], capsys)
        assert rc == 1 and error_line(err) == (
            f"ippo train: error: --resume: the run in {run} has already trained 3 epochs; "
            f"--epochs {epochs} would train none (give --epochs 4 or more to continue it)")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == files
    assert "epochs = 3" in (run / "config.toml").read_text()
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "4"], capsys)
    assert rc == 0, err
    assert json.loads((run / "history.json").read_text())["epochs"]["epoch"] == [1, 2, 3, 4]


def test_resume_of_an_early_stopped_run_says_it_is_finished(tmp_path, capsys, monkeypatch):
    from ippo.training import EarlyStopping

    run = tmp_path / "r"
    # patience 1 with min_delta large enough that the second epoch never improves
    class Strict(EarlyStopping):
        def __init__(self, **kwargs):
            super().__init__(min_delta=100.0, **kwargs)

    monkeypatch.setattr("ippo.training.validation.EarlyStopping", Strict)
    rc, _, err = run_cli(["train", "-q", "--epochs", "5", "--early-stopping", "1",
                          "--out", run], capsys)
    assert rc == 0, err
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "9"], capsys)
    assert rc == 1 and error_line(err) == (
        f"ippo train: error: --resume: the run in {run} stopped early after epoch 2 (early "
        f"stopping): it is finished; start a new run to train more")


def test_resuming_a_run_made_before_validation_was_the_default(tmp_path, capsys):
    # config.toml without val_split meant "no validation": the checkpoint has 1,438 samples
    run = tmp_path / "r"
    assert run_cli(["train", "-q", "--epochs", "1", "--val-split", "0", "--out", run],
                   capsys)[0] == 0
    cfg = run / "config.toml"
    cfg.write_text("".join(line for line in cfg.read_text().splitlines(keepends=True)
                           if not line.startswith("val_split")))
    rc, _, err = run_cli(["train", "-q", "--resume", run, "--epochs", "2"], capsys)
    assert rc == 0, err


# --------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("dataset", ["digits", "diabetes"])
def test_an_exploding_run_stops_with_one_line_and_no_warnings(dataset, tmp_path, capsys):
    run = tmp_path / "r"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy overflow warning would fail the test
        rc, out, err = run_cli(["train", "-q", "--dataset", dataset, "--lr", "1e6",
                                "--epochs", "5", "--out", run], capsys)
    line = error_line(err)
    assert rc == 1 and line.startswith("ippo train: error: training diverged: the loss grew "
                                       "to ")
    assert "more than 10,000 times the" in line and "(lr is 1e+06 now)" in line
    assert "RuntimeWarning" not in err and "test accuracy" not in out
    assert not (run / "model.npz").exists()  # nothing trained is saved as a model


def test_a_run_that_diverges_later_keeps_its_last_good_checkpoint(tmp_path, capsys,
                                                                  monkeypatch):
    from ippo.training import Callback, load_checkpoint

    class Blowup(Callback):  # after epoch 2, every weight ×1000: the loss explodes
        def on_epoch_begin(self, epoch):
            if epoch == 3:
                for p in self.trainer.model.params:
                    p *= 1e3

    real = __import__("ippo.training.validation", fromlist=["x"]).callback_list
    monkeypatch.setattr("ippo.training.trainer.check.callback_list",
                        lambda callbacks, es: real([Blowup()], es))
    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--epochs", "5", "--out", run], capsys)
    ck = run / "checkpoint" / "checkpoint.npz"
    assert rc == 1 and "at epoch 3, iteration 1 of the epoch" in err
    assert f"The last good checkpoint (epoch 2) is intact: {ck}" in err
    assert load_checkpoint(ck)["epoch"] == 2


# The built-in data sets with the README's defaults: their losses stay far below the
# divergence threshold (10⁴ times the start); so does noisy but healthy training.
HEALTHY = [
    [],
    ["--dataset", "iris"],
    ["--dataset", "breast_cancer"],
    ["--dataset", "diabetes"],
    ["--dataset", "spiral"],
    ["--dataset", "linear_toy"],
    # noisy: online SGD, momentum at a high rate, Adam at lr 1 on diabetes (a spike of ~3,000
    # times its start in the first epoch, from which it recovers)
    ["--dataset", "linear_toy", "--batch-size", "1", "--optimizer", "sgd", "--lr", "0.1"],
    ["--dataset", "diabetes", "--batch-size", "1", "--optimizer", "sgd", "--lr", "0.05",
     "--epochs", "20"],
    ["--optimizer", "momentum", "--lr", "0.5", "--epochs", "10"],
    ["--dataset", "diabetes", "--lr", "1"],
]


@pytest.mark.parametrize("argv", HEALTHY, ids=[" ".join(a) or "digits" for a in HEALTHY])
def test_healthy_runs_never_raise_a_false_alarm(argv, tmp_path, capsys, monkeypatch):
    from ippo.training.callbacks import StopOnDivergence

    seen = []
    original = StopOnDivergence.on_before_backward

    def record(self, iteration, loss):
        original(self, iteration, loss)
        seen.append(loss / self.reference)

    monkeypatch.setattr(StopOnDivergence, "on_before_backward", record)
    rc, out, err = run_cli(["train", "-q", *argv, "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    worst = max(seen)
    if argv == HEALTHY[-1]:  # the spike is real, and still well below the threshold
        assert 300 < worst < 1e4 and float(out.split("R² ")[1].split(";")[0]) > 0.3
    else:
        assert worst < 100, worst


# --------------------------------------------------------------------------- options


def test_validation_is_held_out_by_default_and_every_figure_is_labelled(tmp_path, capsys):
    rc, out, err = run_cli(["train", "--epochs", "2", "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("data: digits (1,294 train / 144 validation / 359 test, 64 "
                               "features; multiclass, 10 classes; loaded in ")
    epoch = [ln for ln in lines if ln.startswith("epoch")]
    assert len(epoch) == 2 and all(
        "  train_loss " in ln and "  train_accuracy " in ln and "  val_loss " in ln
        and "  val_accuracy " in ln for ln in epoch)
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert len(hist["epochs"]["val_accuracy"]) == 2 and None not in hist["epochs"]["val_loss"]
    assert "val_split = 0.1" in (tmp_path / "r" / "config.toml").read_text()
    # --val-split 0: no validation, as asked
    rc, out, _ = run_cli(["train", "--epochs", "1", "--val-split", "0", "--out",
                          tmp_path / "n"], capsys)
    assert rc == 0 and "(1,438 train / 359 test" in out and "val_loss" not in out


@pytest.mark.parametrize("argv, message", [
    (["--val-split", "0.999"], "--val-split: must be in [0.0, 0.5], got '0.999'"),
    (["--val-split", "0.6"], "--val-split: must be in [0.0, 0.5], got '0.6'"),
    (["--hidden", "0"], "--hidden '0': a layer needs at least one unit; for a network "
                        "without hidden layers write --hidden none"),
    (["--hidden", ""], "--hidden '': a layer needs at least one unit"),
    (["--augment", "flip"], "--augment flip: digits's classes change in a mirror (a mirrored "
                            "2, 3 or 7 is no digit); flip suits images whose classes survive "
                            "one, such as fashion-mnist"),
    (["--dataset", "iris", "--augment", "flip"], "augment: 'flip' needs image data"),
    (["--augment", "shift:1, Flip:0.5"], "--augment flip: digits's classes change"),
    (["--task", "regression"], "--task regression: digits is a multiclass data set (--task "
                               "chooses for csv:PATH data)"),
    (["--no-header"], "--header / --no-header are only for csv:PATH data sets"),
    (["--early-stopping", "3", "--val-split", "0"], "--early-stopping needs validation data"),
])
def test_questionable_values_are_refused_with_one_line(argv, message, tmp_path, capsys):
    rc, _, err = run_cli(["train", "--epochs", "1", "--out", tmp_path / "r", *argv], capsys)
    assert rc == 1 and error_line(err).startswith(f"ippo train: error: {message}")
    assert not (tmp_path / "r").exists()  # refused before the run folder is made


def test_hidden_none_is_a_network_without_hidden_layers(tmp_path, capsys):
    from ippo.models import load

    rc, _, err = run_cli(["train", "-q", "--epochs", "1", "--hidden", "none", "--out",
                          tmp_path / "r"], capsys)
    assert rc == 0, err
    assert load(tmp_path / "r" / "model.npz").sizes == [64, 10]


def test_more_threads_than_cores_are_capped_with_a_note(tmp_path, capsys, monkeypatch):
    from ippo import blas
    from ippo.commands import _common as C

    monkeypatch.setattr(C, "cpu_count", lambda: 2)
    used = []
    real = blas.threads

    def spy(n):
        used.append(n)
        return real(n)

    monkeypatch.setattr(blas, "threads", spy)
    rc, _, err = run_cli(["train", "-q", "--epochs", "1", "--threads", "1000", "--out",
                          tmp_path / "r"], capsys)
    assert rc == 0 and used[0] == 2
    assert error_line(err) == ("ippo train: note: --threads 1000 is more than the 2 CPU cores "
                               "this process may use; using 2")
    assert "threads = 1000" in (tmp_path / "r" / "config.toml").read_text()  # as asked


def test_flip_is_allowed_where_a_mirror_keeps_the_class():
    from ippo.datasets import DATASETS

    assert [name for name, spec in DATASETS.items() if spec.flip] == ["fashion-mnist"]


# --------------------------------------------------------------------------- help and exits


def test_help_texts_come_from_the_code(capsys):
    import inspect

    from ippo import augment, optimizers

    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for name, cls in optimizers.OPTIMIZERS.items():
        lr = inspect.signature(cls).parameters["lr"].default
        assert f"{name} {lr:g}" in text
    assert "sgd 0.01" in text and "sgd 0.1" not in text  # the help once said 0.1
    for name in augment.SPEC_NAMES:
        assert f"{name}:" in text
    assert "crop:2 (padding in pixels)" in text and "flip:0.5" in text
    assert "auto, regression, binary, multiclass" in text


@pytest.mark.parametrize("argv", [["train", "--nope"], ["train", "--epochs"],
                                  ["evaluate", "run", "--split", "validation"], ["predict"]])
def test_unparsable_command_lines_exit_2_with_usage_as_the_readme_says(argv, capsys):
    from pathlib import Path

    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2
    assert err[0].startswith(f"usage: ippo {argv[0]}") and err[-1].startswith(
        f"ippo {argv[0]}: error: ")
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text(
        encoding="utf-8").split())
    assert "cannot be parsed (an unknown option, a missing value) gets the command's usage " \
           "line and exit code 2" in readme
    assert "ends with one line on stderr and exit code 1" in readme


# --------------------------------------------------------------------------- ippo predict


def test_predict_output_never_replaces_the_input_the_model_or_other_files(small_run, tmp_path,
                                                                          capsys):
    (_, _), (x, _) = load_digits()
    inp = tmp_path / "x.npy"
    np.save(inp, x[:3])
    data = inp.read_bytes()
    rc, _, err = run_cli(["predict", small_run, inp, "-o", inp], capsys)
    assert rc == 1 and f"-o {inp} is the input file itself" in err and inp.read_bytes() == data
    model = small_run / "model.npz"
    before = model.read_bytes()
    rc, _, err = run_cli(["predict", small_run, inp, "-o", model], capsys)
    assert rc == 1 and "is the model file itself" in err and model.read_bytes() == before
    other = tmp_path / "notes.csv"
    other.write_text("my,own\n1,2\n")
    rc, _, err = run_cli(["predict", small_run, inp, "-o", other], capsys)
    assert rc == 1 and error_line(err) == (
        f"ippo predict: error: -o {other} exists and is not a predictions file written by "
        f"ippo predict; remove it first or choose another name")
    assert other.read_text() == "my,own\n1,2\n"
    out = tmp_path / "p.csv"
    for _ in range(2):  # an earlier predictions file is replaced
        assert run_cli(["predict", small_run, inp, "-o", out], capsys)[0] == 0
    assert out.read_text().startswith("row,class,name,probability")
    rc, printed, _ = run_cli(["predict", small_run, inp, "-o", "-"], capsys)  # '-': print
    assert rc == 0 and printed.startswith("row,class")
    rc, _, err = run_cli(["export", small_run, "-o", other], capsys)
    assert rc == 1 and "exists and is not an ONNX model" in err and other.read_text() == \
        "my,own\n1,2\n"


def test_predict_warns_once_when_inputs_are_on_another_scale(small_run, tmp_path, capsys):
    (_, _), (x, t) = load_digits()
    np.save(tmp_path / "ok.npy", x[:20])
    rc, out, err = run_cli(["predict", small_run, tmp_path / "ok.npy"], capsys)
    assert rc == 0 and err == ""
    np.save(tmp_path / "u8.npy", (x[:20] * 255).astype(np.uint8))  # 0-255, not [0, 1]
    rc, out, err = run_cli(["predict", small_run, tmp_path / "u8.npy"], capsys)
    line = error_line(err)
    assert rc == 0 and line.startswith(f"ippo predict: warning: {tmp_path / 'u8.npy'}: 20 of "
                                       f"20 samples have features far outside the training "
                                       f"data's range (sample 0 (0-based), feature ")
    assert "where training had 0 to 1); were they scaled as the training data was" in line
    assert len(out.splitlines()) == 21  # the predictions still come


def test_write_errors_name_the_users_file_not_a_temporary_one(tmp_path, capsys, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".tmp-x1y2.csv"))

    np.save(tmp_path / "x.npy", load_digits()[1][0][:2])
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    rc, _, err = run_cli(["predict", tmp_path / "nowhere.npz", tmp_path / "x.npy"], capsys)
    assert rc == 1  # (no model: the check comes before any writing)
    run = tmp_path / "r"
    rc, _, err = run_cli(["train", "-q", "--epochs", "1", "--out", run], capsys)
    assert rc == 1 and error_line(err) == (f"ippo train: error: {run / 'config.toml'}: "
                                           f"Permission denied")
    assert ".tmp-" not in err


def test_train_whose_output_is_closed_says_the_run_was_not_finished(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "ippo", "train", "--epochs", "30",
                             "--out", str(tmp_path / "r")], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(root)})
    first = proc.stdout.readline()  # `ippo train | head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=120)
    assert first.startswith(b"data: digits") and rc == 141
    assert err.strip().splitlines()[-1] == ("ippo train: stopped because its output was "
                                            "closed (| head?); the run was not finished")
    assert not (tmp_path / "r" / "model.npz").exists()
