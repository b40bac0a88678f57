"""Trainer.fit mechanics: modes, validation, history, progress, callbacks, early stopping,
checkpoints (atomic, exact resume), NaN stop, augmentation."""

import io
import json
import os
import re
import stat
import sys

import numpy as np
import pytest

from ippo import optimizers as O
from ippo.training import (
    CHECKPOINT_NAME,
    Callback,
    EarlyStopping,
    History,
    LearningRateScheduler,
    Trainer,
    TrainingDivergedError,
    load_checkpoint,
    save_checkpoint,
)
from tests._training_helpers import mlp, spiral


@pytest.fixture(scope="module")
def data():
    return spiral(seed=0)


def weights(model):
    return [p.copy() for p in model.params]


# --------------------------------------------------------------------------- modes


def test_shuffle_false_is_deterministic_and_order_matters(data):
    x, t = data
    a, b, c = mlp(seed=1), mlp(seed=1), mlp(seed=1)
    Trainer(a, O.SGD(1.0), verbose=0).fit(x, t, epochs=2, batch_size=30, shuffle=False)
    Trainer(b, O.SGD(1.0), verbose=0).fit(x, t, epochs=2, batch_size=30, shuffle=False)
    Trainer(c, O.SGD(1.0), verbose=0).fit(x, t, epochs=2, batch_size=30, seed=3)
    for pa, pb in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a.params[0], c.params[0])


def test_same_seed_same_weights_and_user_data_untouched(data):
    x, t = data
    x0, t0 = x.copy(), t.copy()
    a, b = mlp(seed=2), mlp(seed=2)
    Trainer(a, O.Adam(0.01), verbose=0).fit(x, t, epochs=3, batch_size=50, seed=7)
    Trainer(b, O.Adam(0.01), verbose=0).fit(x, t, epochs=3, batch_size=50, seed=7)
    for pa, pb in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(pa, pb)
        assert pa.dtype == np.float32
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=np.zeros((10, 2), np.float32), t=np.zeros(9, int)), "10 samples but t has 9"),
        (dict(t=np.full(300, 3)), r"class index out of range: t holds values from 3 to 3 "
                                  r"\(t has shape \(300,\)\), but the model's output of shape "
                                  r"\(300, 3\) has 3 classes \(valid: 0\.\.2\)"),
        (dict(t=np.full(300, -1)), "t holds values from -1 to -1"),
        (dict(t=np.full(300, 0.5)), r"t of shape \(300,\) looks like class indices .* but holds "
                                    r"non-integer values, such as 0.5"),
        (dict(x=np.zeros((0, 2), np.float32), t=np.zeros(0, int)), "empty"),
        (dict(batch_size=301), "batch_size=301 is larger than the data"),
        (dict(batch_size=0), "batch_size must be at least 1"),
        (dict(epochs=0), "epochs must be at least 1"),
        (dict(x_val=np.zeros((5, 2), np.float32)), "both x_val and t_val"),
        (dict(x_val=np.zeros((5, 2), np.float32), t_val=np.zeros(4, int)), "x_val has 5"),
        (dict(t=np.eye(4)[np.zeros(300, int)]), r"^fit: the model's output has shape \(300, 3\) "
                                                r"but t has shape \(300, 4\); t must be one-hot "
                                                r"\(shape \(300, 3\)\) or class indices"),
        (dict(x=np.where(np.arange(300)[:, None] == 7, np.inf, 0).astype(np.float32)),
         "NaN or infinite values \\(first at sample 7\\)"),
        (dict(resume=True), "resume=True needs checkpoint_dir"),
        (dict(augment=3), "augment must be callable"),
        (dict(t=np.where(np.arange(300) == 5, np.nan, 1.0)),
         r"t contains NaN or infinite values \(first at sample 5\)"),
        (dict(callbacks=[EarlyStopping]), r"callbacks\[0\].*class EarlyStopping \(pass an "
                                          r"instance"),
        (dict(callbacks=[print]), r"callbacks\[0\] must be an object with any of the hooks"),
        (dict(early_stopping=True), "early_stopping must be an EarlyStopping or an int"),
        (dict(x_val=np.zeros((5, 3), np.float32), t_val=np.zeros(5, int)),
         r"^fit: x_val does not fit the model: Affine\(2→10\) layer 1: expected input of "
         r"shape \(N, 2\)"),
        (dict(early_stopping=EarlyStopping(monitor="acc")),  # a typo: no epoch is run
         r"monitor='acc' is not among the epoch's metrics \['epoch', 'loss', 'accuracy', "
         r"'time'"),
        (dict(callbacks=EarlyStopping()), r"callbacks must be a list of callbacks"),
        (dict(seed="a"), "^fit: seed must be None, a non-negative integer or a "
                         "numpy.random.Generator, got 'a'$"),
        (dict(checkpoint_dir=__file__), "test_training.py' is a file, not a folder"),
    ],
)
def test_bad_input_raises_before_any_update(data, kwargs, match):
    x, t = data
    args = dict(x=x, t=t, epochs=2, batch_size=30)
    args.update(kwargs)
    model = mlp(seed=0)
    w0 = weights(model)
    opt = O.SGD(0.1)
    with pytest.raises(ValueError, match=match):
        Trainer(model, opt, verbose=0).fit(**args)
    assert opt.t == 0
    for p, q in zip(model.params, w0, strict=True):
        np.testing.assert_array_equal(p, q)


def test_evaluate_refuses_empty_or_mismatched_data(data):
    x, t = data
    trainer = Trainer(mlp(), O.SGD(0.1), verbose=0)
    with pytest.raises(ValueError, match=r"^evaluate: x is empty"):  # was ZeroDivisionError
        trainer.evaluate(x[:0], t[:0])
    with pytest.raises(ValueError, match=r"^evaluate: x has 300 samples but t has 10"):
        trainer.evaluate(x, t[:10], loss=False)
    assert set(trainer.evaluate(x, t)) == {"loss", "accuracy"}


# --------------------------------------------------------------------------- history


def test_history_contents_and_to_dict(data):
    x, t = data
    xv, tv = spiral(30, seed=1)
    h = Trainer(mlp(), O.Adam(0.02), verbose=0).fit(
        x, t, epochs=4, batch_size=60, x_val=xv, t_val=tv, seed=0
    )
    assert len(h.iteration_loss) == 4 * 5
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "time", "lr"):
        assert len(h[key]) == 4, key
    assert all(0 <= a <= 1 for a in h["accuracy"] + h["val_accuracy"])
    # the epoch loss is the sample-weighted mean of that epoch's iteration losses
    assert h["loss"][0] == pytest.approx(np.mean(h.iteration_loss[:5]), rel=1e-6)
    d = h.to_dict()
    d2 = json.loads(json.dumps(d))
    assert d2["epochs"]["val_loss"] == h["val_loss"]
    assert History.from_dict(d2).to_dict() == d


def test_history_plot_writes_png(tmp_path, data):
    pytest.importorskip("matplotlib")
    x, t = data
    xv, tv = spiral(30, seed=1)
    h = Trainer(mlp(), O.Adam(0.02), verbose=0).fit(
        x, t, epochs=5, batch_size=30, x_val=xv, t_val=tv, seed=0
    )
    path = tmp_path / "history.png"
    fig = h.plot(path, title="spiral")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["train, per iteration", "train (epoch mean)", "validation"]


def test_history_plot_is_written_atomically(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    h = History(iterations_per_epoch=2)
    h.iteration_loss = [1.0, 0.8, 0.7, 0.5]
    for e, (loss, acc) in enumerate([(0.9, 0.5), (0.6, 0.7)], 1):
        h.append_epoch({"epoch": e, "loss": loss, "accuracy": acc})
    h.plot(tmp_path / "curves")  # no extension: a PNG named curves.png, as savefig does
    path = tmp_path / "curves.png"
    good = path.read_bytes()
    assert good[:8] == b"\x89PNG\r\n\x1a\n"
    normal = tmp_path / "plain.txt"  # a normal file's permissions, not the temp file's 0600
    normal.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(normal.stat().st_mode)

    def crash(self, fname, **kwargs):
        fname.write(b"half an image")
        raise OSError("killed mid-save (simulated)")

    monkeypatch.setattr(Figure, "savefig", crash)
    with pytest.raises(OSError, match="simulated"):
        h.plot(path)
    monkeypatch.undo()
    assert path.read_bytes() == good  # the old plot is intact, no temp file is left
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "plain.txt"]
    h.plot(tmp_path / "curves.svg")  # the format follows the extension
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()[:1000]
    missing = tmp_path / "no" / "curves.png"
    with pytest.raises(FileNotFoundError, match=rf"^cannot write {missing}: the folder "
                                                rf"{missing.parent} does not exist"):
        h.plot(missing)
    (tmp_path / "d.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"d\.png: it is a folder; give a file name"):
        h.plot(tmp_path / "d.png")


def test_history_plot_without_matplotlib_says_how_to_install(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        History().plot("x.png")


# --------------------------------------------------------------------------- progress


def test_verbose_0_prints_nothing(data, capsys):
    x, t = data
    Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=2, batch_size=30)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_not_a_tty_prints_one_line_per_epoch(data, capsys):
    x, t = data
    xv, tv = spiral(30, seed=1)
    Trainer(mlp(), O.SGD(1.0), verbose=1).fit(
        x, t, epochs=3, batch_size=30, x_val=xv, t_val=tv
    )
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 3, out.out
    for i, line in enumerate(lines, 1):  # every figure says whether it is train or validation
        assert re.fullmatch(rf"epoch {i}/3  train_loss \d\.\d{{4}}  train_accuracy \d\.\d{{4}}  "
                            rf"val_loss \d\.\d{{4}}  val_accuracy \d\.\d{{4}}  [\d,]+ samples/s  "
                            rf"\d+\.\ds", line), line
    assert out.err == ""


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_tty_shows_a_tqdm_bar_per_epoch_then_a_summary_line(data):
    pytest.importorskip("tqdm")
    x, t = data
    stream = FakeTTY()
    Trainer(mlp(), O.SGD(1.0), verbose=1, file=stream).fit(x, t, epochs=2, batch_size=30)
    text = stream.getvalue()
    assert "epoch 1/2   0%|" in text and "/300 [" in text  # the bar, in samples
    assert "sample/s" in text  # tqdm's rate
    # each finished epoch leaves one summary line
    lines = [ln.split("\r")[-1].strip() for ln in text.split("\n") if ln.strip()]
    assert len(lines) == 2
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {i}/2  train_loss ") and "train_accuracy" in line
        assert line.endswith("s") and "samples/s" in line


# --------------------------------------------------------------------------- callbacks


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("begin")

    def on_epoch_begin(self, epoch):
        self.events.append(f"e{epoch}")

    def on_batch_end(self, iteration, loss):
        self.events.append(iteration)

    def on_epoch_end(self, epoch, logs):
        self.events.append(f"end{epoch}:{sorted(logs)}")
        if epoch == 2:
            self.trainer.stop_training = True

    def on_train_end(self, history):
        self.events.append("done")


def test_callbacks_order_and_stop_training(data):
    x, t = data
    rec = Recorder()
    h = Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
        x, t, epochs=5, batch_size=100, callbacks=[rec]
    )
    assert len(h) == 2
    keys = "['accuracy', 'epoch', 'loss', 'lr', 'samples_per_s', 'time']"
    assert rec.events == [
        "begin", "e1", 1, 2, 3, f"end1:{keys}", "e2", 4, 5, 6, f"end2:{keys}", "done",
    ]


def test_learning_rate_scheduler_and_resume(tmp_path, data):
    x, t = data

    def halve_every_2(epoch, lr):
        return lr / 2 if epoch > 1 and epoch % 2 == 1 else lr

    kw = dict(epochs=6, batch_size=50, seed=0)
    ref = mlp()
    h = Trainer(ref, O.Momentum(0.4), verbose=0).fit(
        x, t, callbacks=[LearningRateScheduler(halve_every_2)], **kw)
    assert h["lr"] == [0.4, 0.4, 0.2, 0.2, 0.1, 0.1]
    model = mlp()
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, O.Momentum(0.4), verbose=0).fit(
            x, t, checkpoint_dir=tmp_path,
            callbacks=[LearningRateScheduler(halve_every_2), Interrupt(4, 2)], **kw)
    fresh = mlp(seed=5)
    h2 = Trainer(fresh, O.Momentum(0.4), verbose=0).fit(
        x, t, checkpoint_dir=tmp_path, resume=True,
        callbacks=[LearningRateScheduler(halve_every_2)], **kw)
    assert h2["lr"] == h["lr"]
    for p, q in zip(fresh.params, ref.params, strict=True):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="lr=0.0"):
        Trainer(mlp(), O.SGD(0.1), verbose=0).fit(
            x, t, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: 0.0)])


def test_augment_hook_gets_each_batch_and_the_generator(data):
    x, t = data
    x0 = x.copy()
    seen = []

    def augment(xb, rng):
        seen.append((xb.shape, type(rng).__name__))
        xb += rng.normal(0, 0.01, xb.shape).astype(xb.dtype)  # in place is allowed
        return xb

    for shuffle in (True, False):
        seen.clear()
        Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
            x, t, epochs=2, batch_size=128, augment=augment, shuffle=shuffle, seed=0
        )
        assert [s for s, _ in seen] == [(128, 2), (128, 2), (44, 2)] * 2
        assert {g for _, g in seen} == {"Generator"}
        np.testing.assert_array_equal(x, x0)  # the caller's data is never augmented


# --------------------------------------------------------------------------- early stopping


def test_early_stopping_stops_and_restores_best_weights():
    # 30 training points, a big network and Adam: validation loss soon rises (overfitting)
    x, t = spiral(10, seed=0)
    xv, tv = spiral(100, seed=1)
    model = mlp((2, 100, 100, 3), seed=0)
    trainer = Trainer(model, O.Adam(0.03), verbose=0)
    es = EarlyStopping(patience=3)
    h = trainer.fit(x, t, epochs=300, batch_size=10, x_val=xv, t_val=tv, seed=0,
                    early_stopping=es)
    assert es.monitor == "val_loss"
    assert h.stopped_epoch is not None and h.stopped_epoch < 300
    # patience=3: the third epoch in a row without improvement is the last (as in Keras)
    assert len(h) == h.stopped_epoch == h.best_epoch + 3
    best = h["val_loss"][h.best_epoch - 1]
    assert best == min(h["val_loss"])
    assert trainer.evaluate(xv, tv)["loss"] == pytest.approx(best, rel=1e-6)


def test_early_stopping_object_reused_starts_over(data):
    x, t = data
    es = EarlyStopping(monitor="loss", patience=100)
    Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=3, batch_size=30, early_stopping=es)
    first_best = es.best
    Trainer(mlp(seed=3), O.SGD(0.01), verbose=0).fit(x, t, epochs=1, batch_size=30,
                                                     early_stopping=es)
    assert es.best_epoch == 1 and es.best != first_best


def test_early_stopping_unit_rules():
    class M:
        def __init__(self):
            self.w = np.zeros(1)

        def state_dict(self):
            return {"w": self.w}

        def load_state_dict(self, d):
            self.w[...] = d["w"]

    class T:
        has_validation = False
        stop_training = False
        epoch = 0

        def __init__(self):
            self.model = M()
            self.history = History()

    tr = T()
    es = EarlyStopping(monitor="accuracy", patience=2, min_delta=0.01)
    es.trainer = tr
    es.on_train_begin(tr)
    # 0.705 does not beat 0.7 by more than min_delta; NaN is never an improvement
    for epoch, acc in enumerate([0.5, 0.7, 0.705, float("nan")], 1):
        tr.model.w[0] = epoch
        es.on_epoch_end(epoch, {"accuracy": acc})
        assert tr.stop_training == (epoch == 4)  # 2 epochs without improvement: stop
    assert es.best_epoch == 2 and es.best == 0.7 and es.stopped_epoch == 4 and es.wait == 2
    es.on_train_end(tr.history)
    assert tr.model.w[0] == 2 and tr.history.best_epoch == 2
    # a NaN first value is not taken as the best; patience=0 stops at the first miss
    tr2 = T()
    es2 = EarlyStopping(monitor="loss", patience=0)
    es2.trainer = tr2
    es2.on_train_begin(tr2)
    es2.on_epoch_end(1, {"loss": float("nan")})
    assert es2.best is None and es2.best_epoch is None and tr2.stop_training
    es2.on_train_end(tr2.history)  # no best weights: nothing restored, no error
    assert tr2.model.w[0] == 0
    with pytest.raises(ValueError, match="needs validation data"):
        EarlyStopping(monitor="val_accuracy").on_train_begin(tr)


# --------------------------------------------------------------------------- checkpoints


def test_early_stopping_min_delta_in_min_mode():
    class T:
        has_validation, stop_training, epoch = True, False, 0
        history = History()
        model = None

    tr = T()
    es = EarlyStopping(monitor="val_loss", mode="min", patience=2, min_delta=0.1,
                       restore_best=False)
    es.trainer = tr
    es.on_train_begin(tr)
    # 0.95 and 0.91 are not 0.1 below 1.0; 0.85 is; then 0.80 and 0.79 are not 0.1 below it
    stops = []
    for epoch, loss in enumerate([1.0, 0.95, 0.85, 0.80, 0.79], 1):
        es.on_epoch_end(epoch, {"val_loss": loss})
        stops.append(tr.stop_training)
    assert es.best == 0.85 and es.best_epoch == 3 and es.stopped_epoch == 5
    assert stops == [False, False, False, False, True]
    # a loss that rises is never an improvement, whatever min_delta
    es2 = EarlyStopping(monitor="loss", patience=1, min_delta=0.0, restore_best=False)
    es2.trainer = tr2 = T()
    es2.on_train_begin(tr2)
    es2.on_epoch_end(1, {"loss": 1.0})
    es2.on_epoch_end(2, {"loss": 1.5})
    assert es2.best == 1.0 and tr2.stop_training


def test_early_stopping_with_sparse_checkpoints_resumes_to_the_same_stop(tmp_path):
    x, t = spiral(20, seed=0)
    xv, tv = spiral(60, seed=1)
    kw = dict(epochs=60, batch_size=20, x_val=xv, t_val=tv, seed=0, checkpoint_every=3)

    def stopper():
        return EarlyStopping(patience=3, min_delta=0.02)

    ref = mlp((2, 30, 3), seed=0, activation="relu")
    h = Trainer(ref, O.Adam(0.02), verbose=0).fit(x, t, early_stopping=stopper(),
                                                  checkpoint_dir=tmp_path / "ref", **kw)
    assert h.stopped_epoch is not None and 8 <= h.stopped_epoch < 60
    stop = h.stopped_epoch
    assert stop % 3 != 0  # the stop falls between two regular checkpoints: saved all the same
    ck = load_checkpoint(tmp_path / "ref" / CHECKPOINT_NAME)
    assert ck["epoch"] == stop and ck["stopped"]
    # interrupted in the last epoch before the stop: the checkpoint holds a multiple of 3
    model = mlp((2, 30, 3), seed=0, activation="relu")
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, O.Adam(0.02), verbose=0).fit(
            x, t, early_stopping=stopper(), checkpoint_dir=tmp_path / "run",
            callbacks=[Interrupt(stop, 1)], **kw)
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)["epoch"] == (stop - 1) // 3 * 3
    again = mlp((2, 30, 3), seed=7, activation="relu")
    es = stopper()
    h2 = Trainer(again, O.Adam(0.02), verbose=0).fit(
        x, t, early_stopping=es, checkpoint_dir=tmp_path / "run", resume=True,
        callbacks=[Interrupt(10**6, 1)], **kw)  # the same callbacks: the same checkpoint keys
    assert h2.stopped_epoch == stop and h2.best_epoch == h.best_epoch
    assert h2["val_loss"] == h["val_loss"] and h2.iteration_loss == h.iteration_loss
    for p, q in zip(again.params, ref.params, strict=True):  # the best weights, bit for bit
        np.testing.assert_array_equal(p, q)


def test_resume_with_fewer_epochs_than_the_checkpoint_holds_is_refused(tmp_path, data):
    x, t = data
    Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=4, batch_size=30,
                                              checkpoint_dir=tmp_path)
    model = mlp(seed=3)
    w = weights(model)
    with pytest.raises(ValueError, match=r"holds epoch 4, more than epochs=3; give epochs=4 "
                                         r"or more"):
        Trainer(model, O.SGD(1.0), verbose=0).fit(x, t, epochs=3, batch_size=30,
                                                  checkpoint_dir=tmp_path, resume=True)
    for p, q in zip(model.params, w, strict=True):  # untouched
        np.testing.assert_array_equal(p, q)
    h = Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=4, batch_size=30,
                                                  checkpoint_dir=tmp_path, resume=True)
    assert h["epoch"] == [1, 2, 3, 4]  # as many: nothing left to do, the run as it was


class Interrupt(Callback):
    """Raises KeyboardInterrupt at a given epoch and iteration of that epoch (a user's Ctrl-C)."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, iteration, loss):
        if (self.epoch, (iteration - 1) % self.trainer.history.iterations_per_epoch + 1) == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("make_opt", [lambda: O.Adam(0.01), lambda: O.Momentum(0.5)])
def test_interrupt_and_resume_gives_identical_weights(tmp_path, data, make_opt):
    x, t = data
    xv, tv = spiral(30, seed=1)
    kw = dict(epochs=6, batch_size=32, x_val=xv, t_val=tv, seed=123)

    ref = mlp(seed=4)
    ref_hist = Trainer(ref, make_opt(), verbose=0).fit(x, t, **kw)

    model = mlp(seed=4)
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, make_opt(), verbose=0).fit(
            x, t, checkpoint_dir=tmp_path, callbacks=[Interrupt(3, 4)], **kw
        )
    ck = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert ck["epoch"] == 2
    assert [f for f in os.listdir(tmp_path)] == [CHECKPOINT_NAME]  # no temp file left

    # resume in a fresh process-like state: new model (other init), new optimizer
    fresh = mlp(seed=99)
    h = Trainer(fresh, make_opt(), verbose=0).fit(x, t, checkpoint_dir=tmp_path, resume=True, **kw)
    for p, q in zip(fresh.params, ref.params, strict=True):
        np.testing.assert_array_equal(p, q)
    assert h.iteration_loss == ref_hist.iteration_loss
    assert h["val_loss"] == ref_hist["val_loss"]
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"] == 6


@pytest.mark.parametrize("name", sorted(O.OPTIMIZERS))
def test_every_optimizer_resumes_bit_identically_through_the_checkpoint(tmp_path, data, name):
    # every optimizer's state (velocities, h, s, moments, t, clip_norm) through the real
    # checkpoint file: an interrupted run continued by fresh objects ends on the same bits
    x, t = data
    kw = dict(epochs=3, batch_size=64, seed=5)

    def make():
        lr = {"adadelta": {}, "sgd": {"lr": 0.5}}.get(name, {"lr": 0.05})
        return O.get(name, clip_norm=1.0, **lr)

    ref = mlp(seed=4)
    Trainer(ref, make(), verbose=0).fit(x, t, **kw)
    with pytest.raises(KeyboardInterrupt):
        Trainer(mlp(seed=4), make(), verbose=0).fit(
            x, t, checkpoint_dir=tmp_path, callbacks=[Interrupt(2, 3)], **kw)
    fresh, opt = mlp(seed=11), make()
    Trainer(fresh, opt, verbose=0).fit(x, t, checkpoint_dir=tmp_path, resume=True, **kw)
    assert opt.t == 3 * 5
    for p, q in zip(fresh.params, ref.params, strict=True):
        np.testing.assert_array_equal(p, q)


def test_each_epoch_sees_every_sample_once_in_a_fresh_order():
    n = 50
    x = np.c_[np.arange(n), np.zeros(n)].astype(np.float32)  # column 0 names the sample
    t = np.arange(n) % 3
    seen = []

    def record(xb, rng):
        seen.append(xb[:, 0].astype(int).tolist())
        return xb

    for batch_size, per_epoch in ((1, 50), (16, 4), (None, 1)):
        orders = []
        for _ in range(2):  # the same seed twice: the same orders
            seen.clear()
            Trainer(mlp(), O.SGD(0.01), verbose=0).fit(
                x, t, epochs=3, batch_size=batch_size, seed=9, augment=record)
            assert len(seen) == 3 * per_epoch
            orders.append([sum(seen[e * per_epoch:(e + 1) * per_epoch], []) for e in range(3)])
        assert orders[0] == orders[1]
        for order in orders[0]:
            assert sorted(order) == list(range(n))  # every sample exactly once per epoch
        if batch_size is not None:  # batch GD takes all samples at once: order is moot
            assert len({tuple(o) for o in orders[0]}) == 3  # a new shuffle every epoch
            assert orders[0][0] != list(range(n))


def test_replacement_draws_n_samples_with_repeats_per_epoch():
    """fit(replacement=True): the course's np.random.choice. Each epoch is N independent
    draws (repeats and gaps), reproducible by the seed; batch GD gets the drawn sample too."""
    n = 60
    x = np.c_[np.arange(n), np.zeros(n)].astype(np.float32)  # column 0 names the sample
    t = np.arange(n) % 3

    def run(batch_size, seed=4):
        model = mlp()
        seen = []
        loss = model.loss

        def spy(xb, tb):  # the batches exactly as the model receives them (no augment copy)
            if model.training:  # (not fit's inference-mode passes)
                seen.append(xb[:, 0].astype(int).tolist())
            return loss(xb, tb)

        model.loss = spy
        Trainer(model, O.SGD(0.01), verbose=0).fit(
            x, t, epochs=3, batch_size=batch_size, seed=seed, replacement=True,
            eval_train=False)
        return seen

    for batch_size, per_epoch in ((1, 60), (16, 4), (None, 1)):
        seen = run(batch_size)
        assert seen == run(batch_size)  # the same seed, the same draws
        assert seen != run(batch_size, seed=5)
        epochs = [sum(seen[e * per_epoch:(e + 1) * per_epoch], []) for e in range(3)]
        for drawn in epochs:
            assert len(drawn) == n
            assert min(drawn) >= 0 and max(drawn) < n
            # with replacement about 1 − 1/e ≈ 63 % are distinct: far from all 60
            assert 25 <= len(set(drawn)) <= 50, len(set(drawn))
        assert epochs[0] != epochs[1]


def test_replacement_is_checked():
    x, t = np.zeros((4, 2), np.float32), np.array([0, 1, 2, 0])
    with pytest.raises(ValueError, match="replacement must be True or False"):
        Trainer(mlp(), O.SGD(0.1), verbose=0).fit(x, t, epochs=1, batch_size=2,
                                                 replacement="yes")
    with pytest.raises(ValueError, match="cannot be combined with shuffle=False"):
        Trainer(mlp(), O.SGD(0.1), verbose=0).fit(x, t, epochs=1, batch_size=2,
                                                 replacement=True, shuffle=False)


def test_resume_is_exact_with_dropout_and_batchnorm(tmp_path, data):
    x, t = data

    def jitter(xb, rng):  # draws from the trainer's generator: its state must be restored
        return xb + rng.normal(0.0, 0.05, xb.shape).astype(xb.dtype)

    kw = dict(epochs=4, batch_size=50, seed=2, augment=jitter)
    net = dict(activation="relu", dropout=0.3, batchnorm=True)
    ref = mlp((2, 30, 3), seed=8, **net)
    Trainer(ref, O.SGD(0.5), verbose=0).fit(x, t, **kw)
    model = mlp((2, 30, 3), seed=8, **net)
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, O.SGD(0.5), verbose=0).fit(
            x, t, checkpoint_dir=tmp_path, callbacks=[Interrupt(3, 2)], **kw)
    fresh = mlp((2, 30, 3), seed=9, **net)
    Trainer(fresh, O.SGD(0.5), verbose=0).fit(x, t, checkpoint_dir=tmp_path, resume=True, **kw)
    ref_state, state = ref.state_dict(), fresh.state_dict()
    assert any("running_mean" in k for k in state)
    for k in ref_state:  # weights and BatchNorm running averages
        np.testing.assert_array_equal(state[k], ref_state[k], err_msg=k)


def test_resume_with_early_stopping_state(tmp_path, data):
    x, t = data
    xv, tv = spiral(30, seed=1)
    kw = dict(epochs=5, batch_size=50, x_val=xv, t_val=tv, seed=1)
    ref = mlp(seed=5)
    Trainer(ref, O.Adam(0.01), verbose=0).fit(x, t, early_stopping=EarlyStopping(patience=10),
                                              **kw)
    model = mlp(seed=5)
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, O.Adam(0.01), verbose=0).fit(
            x, t, checkpoint_dir=tmp_path, callbacks=[Interrupt(4, 1)],
            early_stopping=EarlyStopping(patience=10), **kw)
    es = EarlyStopping(patience=10)
    fresh = mlp(seed=6)
    Trainer(fresh, O.Adam(0.01), verbose=0).fit(
        x, t, checkpoint_dir=tmp_path, resume=True, early_stopping=es, **kw)
    assert es.best_epoch is not None
    for p, q in zip(fresh.params, ref.params, strict=True):
        np.testing.assert_array_equal(p, q)


def test_resuming_an_early_stopped_run_stays_stopped(tmp_path):
    x, t = spiral(10, seed=0)
    xv, tv = spiral(100, seed=1)
    kw = dict(epochs=300, batch_size=10, x_val=xv, t_val=tv, seed=0, checkpoint_dir=tmp_path)
    model = mlp((2, 100, 100, 3), seed=0)
    h = Trainer(model, O.Adam(0.03), verbose=0).fit(x, t, early_stopping=3, **kw)
    assert h.stopped_epoch is not None
    best = [p.copy() for p in model.params]
    again = mlp((2, 100, 100, 3), seed=1)
    opt = O.Adam(0.03)
    h2 = Trainer(again, opt, verbose=0).fit(x, t, early_stopping=3, resume=True, **kw)
    assert len(h2) == len(h) and h2.stopped_epoch == h.stopped_epoch
    assert len(h2.iteration_loss) == len(h.iteration_loss)
    for p, q in zip(again.params, best, strict=True):  # the best weights, restored again
        np.testing.assert_array_equal(p, q)


def test_resume_without_checkpoint_starts_fresh_and_checks_data(tmp_path, data):
    x, t = data
    h = Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
        x, t, epochs=2, batch_size=30, checkpoint_dir=tmp_path, resume=True)
    assert len(h) == 2
    with pytest.raises(ValueError, match="made on 300 samples but x has 150"):
        Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
            x[:150], t[:150], epochs=3, batch_size=30, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="batch size 30"):
        Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
            x, t, epochs=3, batch_size=20, checkpoint_dir=tmp_path, resume=True)
    # more epochs than before: continues from epoch 2
    h = Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
        x, t, epochs=3, batch_size=30, checkpoint_dir=tmp_path, resume=True)
    assert h["epoch"] == [1, 2, 3]


def test_checkpoint_every(tmp_path, data, monkeypatch):
    import ippo.training.checkpoint as T

    saved = []
    real = T.save_checkpoint
    monkeypatch.setattr(T, "save_checkpoint", lambda p, s: (saved.append(s["epoch"]), real(p, s)))
    x, t = data
    Trainer(mlp(), O.SGD(1.0), verbose=0).fit(
        x, t, epochs=7, batch_size=100, checkpoint_dir=tmp_path, checkpoint_every=3)
    assert saved == [3, 6, 7]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, {"epoch": 1, "w": np.arange(3.0), "sub": {"name": "x", "v": None}})
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, {"epoch": 2, "w": np.arange(4.0)})
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ck.npz"]
    back = load_checkpoint(path)
    assert back["epoch"] == 1 and back["sub"] == {"name": "x", "v": None}
    np.testing.assert_array_equal(back["w"], [0.0, 1.0, 2.0])
    with np.load(path, allow_pickle=False) as z:  # loadable without pickle
        assert "__meta__" in z.files
    normal = tmp_path / "plain.txt"  # a normal file's permissions (umask), not mkstemp's 0600
    normal.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(normal.stat().st_mode)


def test_damaged_checkpoint_is_one_clear_error(tmp_path, data):
    x, t = data
    Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=1, batch_size=30,
                                              checkpoint_dir=tmp_path)
    ck = tmp_path / CHECKPOINT_NAME
    ck.write_bytes(ck.read_bytes()[:500])  # cut short, as by a full disk
    with pytest.raises(ValueError, match=r"^.*checkpoint\.npz: not a valid ippo checkpoint "
                                         r"\(truncated or corrupt") as err:
        load_checkpoint(ck)
    assert "model file" not in str(err.value)
    with pytest.raises(ValueError) as err:
        Trainer(mlp(), O.SGD(1.0), verbose=0).fit(x, t, epochs=2, batch_size=30,
                                                  checkpoint_dir=tmp_path, resume=True)
    msg = str(err.value)
    assert msg.startswith("cannot resume: the checkpoint is damaged, remove it to start the run "
                          f"over: {ck}: not a valid ippo checkpoint (truncated")
    assert "\n" not in msg


def test_evaluate_in_chunks_equals_one_pass_and_an_independent_count():
    # 1,000 samples in chunks of 64 (the last one 40): the metric must not depend on them
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1000, 2)).astype(np.float32)
    t = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    model = mlp((2, 8, 3), activation="relu")
    Trainer(model, O.Adam(0.05), verbose=0).fit(x, t, epochs=3, batch_size=50, seed=0)
    whole = Trainer(model, O.SGD(), eval_batch_size=4096).evaluate(x, t)
    chunked = Trainer(model, O.SGD(), eval_batch_size=64).evaluate(x, t)
    by_hand = float(np.mean(model.predict(x).argmax(axis=1) == t))
    assert 0.5 < by_hand < 1.0  # a model that is neither trivial nor perfect
    assert chunked["accuracy"] == pytest.approx(by_hand, abs=1e-12)
    assert whole["accuracy"] == pytest.approx(by_hand, abs=1e-12)
    assert chunked["loss"] == pytest.approx(whole["loss"], rel=1e-6)
    assert chunked["loss"] == pytest.approx(float(model.loss(x, t)), rel=1e-5)
    reg = mlp((2, 4, 1), task="regression", activation="tanh")
    y = x[:, :1] * 0.5
    r2 = Trainer(reg, O.SGD(), eval_batch_size=64).evaluate(x, y)["r2"]
    p = reg.predict(x)
    assert r2 == pytest.approx(1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2),
                               rel=1e-5)


# --------------------------------------------------------------------------- NaN stop


class Poison(Callback):
    """Puts a NaN into the first weight after a given global iteration."""

    def __init__(self, after):
        self.after = after

    def on_batch_end(self, iteration, loss):
        if iteration == self.after:
            self.trainer.model.params[0][0, 0] = np.nan


def test_nan_loss_stops_with_clear_error_and_keeps_checkpoint(tmp_path, data):
    x, t = data
    trainer = Trainer(mlp(), O.SGD(0.5), verbose=0)
    # 10 iterations per epoch: poisoned after update 22 → the loss of epoch 3, iteration 3
    with pytest.raises(TrainingDivergedError) as err:
        trainer.fit(x, t, epochs=5, batch_size=30, checkpoint_dir=tmp_path, callbacks=[Poison(22)])
    msg = str(err.value)
    assert "epoch 3, iteration 3" in msg and "smaller learning rate" in msg and "lr is 0.5" in msg
    assert "checkpoint (epoch 2) is intact" in msg
    assert err.value.epoch == 3 and err.value.iteration == 3
    assert isinstance(err.value, ValueError)
    # raised before the bad batch's update, and before anything recorded it
    assert trainer.optimizer.t == 22 and len(trainer.history.iteration_loss) == 22
    ck = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert ck["epoch"] == 2
    assert all(np.isfinite(a).all() for a in ck["model"].values())
    assert len(ck["iteration_loss"]) == 20


def test_weights_overflowing_with_a_finite_loss_stop_before_the_checkpoint(tmp_path, data):
    # poisoned after update 20 = the last of epoch 2 (10 per epoch): every loss of epoch 2
    # was finite, but its weights are not; epoch 2 must not be evaluated or checkpointed
    x, t = data
    es = EarlyStopping(monitor="loss", patience=5)
    with pytest.raises(TrainingDivergedError) as err:
        Trainer(mlp(), O.SGD(0.5), verbose=0).fit(
            x, t, epochs=5, batch_size=30, checkpoint_dir=tmp_path, callbacks=[Poison(20)],
            early_stopping=es)
    msg = str(err.value)
    assert "weights became NaN or infinite by the end of epoch 2" in msg
    assert "update 20 overall" in msg and "smaller learning rate" in msg
    assert "checkpoint (epoch 1) is intact" in msg
    assert (err.value.epoch, err.value.iteration, err.value.loss) == (2, 10, None)
    ck = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert ck["epoch"] == 1 and len(ck["iteration_loss"]) == 10
    assert all(np.isfinite(a).all() for a in ck["model"].values())
    assert es.best_epoch == 1  # the callbacks never saw epoch 2


def test_batch_mode_overflow_in_the_first_update_leaves_no_checkpoint(tmp_path):
    # unscaled inputs and a huge rate: the first loss (~1e19) is finite, the update it makes
    # (~1e39) is not representable in float32; batch mode has one update per epoch
    # (NumPy's overflow warnings are silenced while training runs: one error says it all)
    import warnings

    x = np.full((20, 1), 1e10, np.float32)
    t = np.zeros((20, 1), np.float32)
    model = mlp((1, 1), task="regression", activation="identity")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError) as err:
            Trainer(model, O.SGD(1e20), verbose=0).fit(x, t, epochs=3, batch_size=None,
                                                       checkpoint_dir=tmp_path)
    assert err.value.epoch == 1 and err.value.iteration == 1 and err.value.loss is None
    assert not os.path.exists(tmp_path / CHECKPOINT_NAME)


def test_resume_into_another_model_or_optimizer_names_the_checkpoint(tmp_path, data):
    x, t = data
    Trainer(mlp(), O.Adam(0.01), verbose=0).fit(x, t, epochs=1, batch_size=30,
                                                checkpoint_dir=tmp_path)
    ck = tmp_path / CHECKPOINT_NAME
    for model, opt, why in [(mlp(), O.SGD(0.1), "state was saved by Adam"),
                            (mlp((2, 20, 3)), O.Adam(0.01), r"Affine1.W has shape \(2, 10\)")]:
        w0 = weights(model)
        with pytest.raises(ValueError, match=rf"^fit\(resume=True\): the checkpoint {ck} does "
                                             rf"not fit this model and optimizer \(.*{why}"):
            Trainer(model, opt, verbose=0).fit(x, t, epochs=2, batch_size=30,
                                               checkpoint_dir=tmp_path, resume=True)
        # nothing was changed: neither the optimizer nor the model
        assert opt.t == 0 and opt.state_dict()["state"] == {} and opt.lr in (0.1, 0.01)
        for p, q in zip(model.params, w0, strict=True):
            np.testing.assert_array_equal(p, q)


def test_resume_says_when_the_checkpoints_optimizer_settings_replace_the_given_ones(
        tmp_path, data):
    x, t = data
    kw = dict(batch_size=30, checkpoint_dir=tmp_path, seed=0)
    Trainer(mlp(), O.Momentum(0.5), verbose=0).fit(x, t, epochs=1, **kw)
    # e.g. after a divergence: a smaller rate, but resume=True continues the saved run
    opt = O.Momentum(0.1, momentum=0.8)
    with pytest.warns(UserWarning, match=r"checkpoint's optimizer settings: lr 0.5 \(this "
                                         r"optimizer was made with 0.1\), momentum 0.9 "
                                         r"\(this optimizer was made with 0.8\)"):
        Trainer(mlp(), opt, verbose=0).fit(x, t, epochs=2, resume=True, **kw)
    assert (opt.lr, opt.momentum) == (0.5, 0.9)
    # the same settings, or a learning-rate schedule (which owns lr): no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(mlp(), O.Momentum(0.5), verbose=0).fit(x, t, epochs=3, resume=True, **kw)
        sched = LearningRateScheduler(lambda epoch, lr: 0.5 / epoch)
        Trainer(mlp(), O.Momentum(0.5), verbose=0).fit(x, t, epochs=4, resume=True,
                                                       callbacks=[sched], **kw)
        Trainer(mlp(), O.Momentum(0.5), verbose=0).fit(x, t, epochs=5, resume=True,
                                                       callbacks=[sched], **kw)


def test_float_targets_are_converted_once_to_the_models_dtype(data):
    from ippo.training.validation import training_data

    x, _ = data
    reg = mlp((2, 1), task="regression", activation="identity")
    for t in (x[:, :1].astype(np.float64), np.arange(300)):  # regression: float64, ints
        assert training_data(reg, x, t)[1].dtype == np.float32
    clf = mlp()
    labels = np.zeros(300, np.int64)
    assert training_data(clf, x, labels)[1] is labels  # class indices stay as they are
    assert training_data(clf, x, np.eye(3)[labels])[1].dtype == np.float32  # one-hot float64


def test_real_divergence_with_too_large_learning_rate():
    # linear regression on inputs of scale 10: each SGD step multiplies the error by
    # (1 − lr·mean(x²)) ≈ −9, so the loss grows ~81-fold per epoch: stopped once it is 10⁴
    # times its start (epoch 4), long before float32 overflows, and without a warning
    import warnings

    rng = np.random.default_rng(0)
    x = rng.normal(0, 10, (100, 1)).astype(np.float32)
    t = 3 * x
    model = mlp((1, 1), task="regression", activation="identity")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError) as err:
            Trainer(model, O.SGD(0.1), verbose=0).fit(x, t, epochs=50, batch_size=None)
    assert "smaller learning rate" in str(err.value)
    assert err.value.epoch == 4 and err.value.iteration == 1
    assert 1e4 * err.value.reference < err.value.loss < 1e6 * err.value.reference
    # a smaller rate converges
    model = mlp((1, 1), task="regression", activation="identity")
    h = Trainer(model, O.SGD(0.005), verbose=0).fit(x, t, epochs=50, batch_size=None)
    assert 0.999 < h["r2"][-1] <= 1.0


class Blowup(Callback):
    """Multiplies every weight by ``scale`` after a given global iteration: the loss explodes
    but stays finite."""

    def __init__(self, after, scale=1e3):
        self.after, self.scale = after, scale

    def on_batch_end(self, iteration, loss):
        if iteration == self.after:
            for p in self.trainer.model.params:
                p *= self.scale


def test_an_exploding_finite_loss_stops_like_nan_and_keeps_the_checkpoint(tmp_path, data):
    import warnings

    x, t = data
    trainer = Trainer(mlp(activation="relu"), O.SGD(0.1), verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning before the error
        with pytest.raises(TrainingDivergedError) as err:
            trainer.fit(x, t, epochs=5, batch_size=30, checkpoint_dir=tmp_path,
                        callbacks=[Blowup(22)])
    e = err.value
    assert (e.epoch, e.iteration) == (3, 3) and np.isfinite(e.loss)
    # where the run started: the spiral's 3 classes, ~ln 3 = 1.0986 for the initial model
    assert 0.9 < e.reference < 1.4 and e.loss > 1e4 * e.reference
    msg = str(e)
    assert msg.startswith("training diverged: the loss grew to ")
    assert "at epoch 3, iteration 3 of the epoch (update 23 overall), more than 10,000 " \
           "times the" in msg
    assert "smaller learning rate (lr is 0.1 now)" in msg
    assert "checkpoint (epoch 2) is intact" in msg and isinstance(e, ValueError)
    assert trainer.optimizer.t == 22 and len(trainer.history.iteration_loss) == 22
    ck = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert ck["epoch"] == 2 and len(ck["iteration_loss"]) == 20
    assert np.geterr()["over"] == "warn"  # NumPy's settings are given back


def test_the_divergence_factor_can_be_changed_or_switched_off(data):
    from ippo.training.callbacks import StopOnDivergence

    x, t = data
    # ×100 on the weights: the loss grows a few-hundredfold, below the default 10⁴
    h = Trainer(mlp(activation="relu"), O.SGD(0.1), verbose=0).fit(
        x, t, epochs=2, batch_size=30, callbacks=[Blowup(5, 100)])
    assert max(h.iteration_loss) > 300 * h.iteration_loss[0]
    with pytest.raises(TrainingDivergedError, match="more than 100 times"):
        Trainer(mlp(activation="relu"), O.SGD(0.1), verbose=0).fit(
            x, t, epochs=2, batch_size=30, callbacks=[Blowup(5, 100), StopOnDivergence(100)])
    Trainer(mlp(activation="relu"), O.SGD(0.1), verbose=0).fit(
        x, t, epochs=2, batch_size=30, callbacks=[Blowup(5), StopOnDivergence(None)])
    for bad in (1, 0.5, float("inf"), "10", True):
        with pytest.raises(ValueError, match="factor must be a finite number > 1 or None"):
            StopOnDivergence(bad)


def test_the_start_is_measured_on_many_samples_not_one_lucky_first_sample():
    # online learning: the first sample happens to be predicted almost exactly (loss ~1e-6),
    # later samples are not; measured from that one sample the run would look diverged
    from ippo.models import MLP

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (200, 3)).astype(np.float32)
    model = MLP([3, 1], task="regression", seed=0)
    t = rng.normal(0, 3, (200, 1)).astype(np.float32)
    t[0] = model.predict(x[:1]) + 1e-3  # the first sample (shuffle=False) is all but exact
    h = Trainer(model, O.SGD(0.01), verbose=0).fit(x, t, epochs=2, batch_size=1,
                                                   shuffle=False)
    losses = np.array(h.iteration_loss)
    assert losses[0] < 1e-5 and losses.max() > 1e4 * losses[0]  # would be a false alarm
    assert len(h) == 2


def test_regression_reports_r2_and_trains():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (200, 1)).astype(np.float32)
    t = x**2
    xv = rng.uniform(-1, 1, (50, 1)).astype(np.float32)
    model = mlp((1, 20, 1), task="regression", activation="tanh", seed=0)
    h = Trainer(model, O.Adam(0.02), verbose=0).fit(
        x, t, epochs=60, batch_size=20, x_val=xv, t_val=xv**2, seed=0)
    assert h.metric == "r2" and "val_r2" in h
    assert 0.9 < h["val_r2"][-1] <= 1.0
    with pytest.raises(ValueError, match=r"^fit: the model's output has shape \(200, 1\) but t "
                                         r"has shape \(200, 2\); expected t of shape \(200, 1\) "
                                         r"or \(200,\)$"):
        Trainer(model, O.Adam(), verbose=0).fit(x, np.zeros((200, 2), np.float32))


def test_binary_task_trains_and_validates_labels():
    x, t = spiral(100, n_classes=2, seed=0)
    model = mlp((2, 20, 1), task="binary", activation="tanh", seed=0)
    h = Trainer(model, O.Adam(0.05), verbose=0).fit(x, t, epochs=60, batch_size=20, seed=0)
    assert 0.9 < h["accuracy"][-1] <= 1.0
    with pytest.raises(ValueError, match=r"^fit: targets must lie in \[0, 1\], got values from "
                                         r"1.0 to 2.0 \(t has shape \(200,\)\)$"):
        Trainer(model, O.Adam(), verbose=0).fit(x, t + 1)


# --------------------------------------------------------------------------- lean steps


class TraceEpoch(Callback):
    """Measures the peak of new memory allocated during one epoch (tracemalloc)."""

    def __init__(self, epoch):
        self.epoch, self.peak = epoch, None

    def on_epoch_begin(self, epoch):
        if epoch == self.epoch:
            import tracemalloc

            tracemalloc.start()

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            import tracemalloc

            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


@pytest.mark.parametrize("make_opt", [lambda: O.SGD(0.1), lambda: O.Adam(0.001)])
def test_training_steps_allocate_no_parameter_sized_arrays(make_opt):
    rng = np.random.default_rng(0)
    x = rng.random((2000, 784), dtype=np.float32)
    t = rng.integers(0, 10, 2000)
    model = mlp((784, 100, 10), activation="relu", seed=0)
    w1 = model.params[0]
    trace = TraceEpoch(2)
    Trainer(model, make_opt(), verbose=0).fit(
        x, t, epochs=2, batch_size=100, seed=0, eval_train=False, callbacks=[trace])
    # 20 steps; a single new copy of W1 (784×100 float32) would be 313,600 bytes
    assert trace.peak < w1.nbytes // 2, trace.peak
    assert all(p.dtype == np.float32 for p in model.params + model.grads)


def test_ctrl_c_message_names_the_checkpoint(tmp_path, data):
    x, t = data
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        Trainer(mlp(), O.SGD(1.0), verbose=2, file=out).fit(
            x, t, epochs=5, batch_size=30, checkpoint_dir=tmp_path, checkpoint_every=2,
            callbacks=[Interrupt(4, 1)])
    text = out.getvalue()
    assert text.count("\nepoch ") + text.startswith("epoch ") == 3
    assert "holds epoch 2: fit(..., resume=True) continues from it" in text


def test_batch_norm_never_trains_on_a_batch_of_one(data):
    import warnings

    x, t = data  # 300 samples: batch 299 would leave one sample alone
    model = mlp((2, 8, 3), activation="relu", batchnorm=True)
    with pytest.raises(ValueError, match=r"batch_size=1 cannot train a model with batch "
                                         r"normalization.*use batch_size=2 or more"):
        Trainer(model, O.SGD(0.1), verbose=0).fit(x, t, epochs=1, batch_size=1)
    seen = []

    class Sizes(Callback):
        def on_batch_end(self, iteration, loss):
            seen.append(len(self.trainer.model.layers[0].x))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # BatchNormalization warns about a batch of one
        h = Trainer(model, O.SGD(0.1), verbose=0).fit(x, t, epochs=2, batch_size=299,
                                                      callbacks=[Sizes()], seed=0)
    assert seen == [299, 299] and h.iterations_per_epoch == 1
    # without batch normalization every sample is used
    seen.clear()
    Trainer(mlp((2, 8, 3)), O.SGD(0.1), verbose=0).fit(x, t, epochs=1, batch_size=299,
                                                       callbacks=[Sizes()])
    assert seen == [299, 1]


def test_an_autograd_model_with_batch_norm_is_refused_a_batch_of_one_too(data):
    # the trainer asks the model (uses_batch_statistics); it used to look for
    # ippo.layers.BatchNormalization among model.layers, which an autograd model behind
    # nn.Trainable does not hold: online learning then ran on batches without variance
    from ippo.autograd import nn

    x, t = data  # 300 samples
    model = nn.Trainable(nn.MLP([2, 8, 3], batchnorm=True, seed=0))
    assert model.uses_batch_statistics and not nn.Trainable(nn.MLP([2, 8, 3])).uses_batch_statistics
    w0 = [p.copy() for p in model.params]
    with pytest.raises(ValueError, match=r"batch_size=1 cannot train a model with batch "
                                         r"normalization"):
        Trainer(model, O.SGD(0.1), verbose=0).fit(x, t, epochs=1, batch_size=1)
    for p, q in zip(model.params, w0, strict=True):
        np.testing.assert_array_equal(p, q)
    seen = []

    def sizes(xb, rng):
        seen.append(len(xb))
        return xb

    Trainer(model, O.SGD(0.1), verbose=0).fit(x, t, epochs=2, batch_size=299, augment=sizes,
                                              seed=0)
    assert seen == [299, 299]  # the lone last sample is left out, as for ippo.models


def test_online_learning_through_a_large_matrix_runs_on_one_blas_thread(monkeypatch):
    """The trainer applies ippo.blas's rule: the steps of a one-sample batch through a
    large weight matrix run on one BLAS thread (when threadpoolctl can control the BLAS),
    the evaluation passes and everything after on the previous setting; mini-batches,
    small networks and a model used by hand leave the BLAS alone."""
    from ippo import blas

    assert blas.prefers_single_thread(1, 1000 * 1000)
    assert not blas.prefers_single_thread(32, 1000 * 1000)
    assert not blas.prefers_single_thread(1, 784 * 100)
    monkeypatch.setattr(blas, "SINGLE_THREAD_FROM", None)
    assert not blas.prefers_single_thread(1, 1000 * 1000)
    monkeypatch.undo()

    class FakeBlas:
        threads = 2

        def get_num_threads(self):
            return self.threads

        def set_num_threads(self, n):
            self.threads = n
            seen.append(n)

    class Threads(Callback):  # the threads each step and each epoch's evaluation ran on
        def on_batch_end(self, iteration, loss):
            during.append(fake.threads)

        def on_epoch_end(self, epoch, logs):
            during.append(f"eval {fake.threads}")

    seen, during = [], []
    fake = FakeBlas()
    monkeypatch.setattr(blas, "_controllers", [fake])
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 600)).astype(np.float32), np.array([0, 1, 2])
    big = mlp((600, 500, 3), activation="relu")  # 300 000 weights in the largest matrix
    Trainer(big, O.SGD(0.01), verbose=0).fit(x, t, epochs=2, batch_size=1,
                                             callbacks=[Threads()])
    # the one-sample forward pass that checks the data, then each epoch's steps
    assert seen == [1, 2] + [1, 2, 1, 2] and fake.threads == 2
    assert during == [1, 1, 1, "eval 2"] * 2
    seen.clear()
    Trainer(big, O.SGD(0.01), verbose=0).fit(x, t, epochs=1, batch_size=2)
    assert seen == [1, 2]  # the data check's forward pass only: mini-batches keep 2 threads
    seen.clear()
    Trainer(mlp((600, 3)), O.SGD(0.01), verbose=0).fit(x, t, epochs=1, batch_size=1)
    big.loss(x[:1], t[:1])
    big.backward()
    big.predict(x[:1])
    assert seen == []  # small networks, and a model used by hand: the BLAS is left alone
