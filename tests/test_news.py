"""The news headlines: ``load_news``, ``make_news_split`` (exercise 50) on a raw file in the
UCI format written here, ``ippo news`` end to end on small synthetic headlines (with
trained and with given vectors in all three formats, resume), and every bad input."""

import json
import struct

import numpy as np
import pytest

from ippo.cli import main
from ippo.datasets import find_data_dir, get_spec, load_dataset
from ippo.io import load_checkpoint
from ippo.models import load
from ippo.text import NEWS_CLASSES, Vocabulary, load_news, make_news_split

TOPICS = {
    "b": ["stocks", "market", "shares", "bank", "profit", "fed", "oil", "deal"],
    "t": ["apple", "google", "app", "phone", "software", "nasa", "microsoft", "web"],
    "e": ["kanye", "film", "music", "star", "album", "kardashian", "movie", "tv"],
    "m": ["ebola", "cancer", "health", "study", "drug", "virus", "fda", "obesity"],
}
COMMON = ["the", "of", "to", "in", "new", "says", "for", "on"]


def headlines(n, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        c = "btem"[i % 4]
        words = list(rng.choice(TOPICS[c], 3)) + list(rng.choice(COMMON, 2))
        rng.shuffle(words)
        title = " ".join(words).capitalize()
        rows.append((c, title + ("'s \"news\"" if i % 5 == 0 else "")))
    return rows


def write_split(folder, n=(160, 40, 40)):
    folder.mkdir(parents=True, exist_ok=True)
    for part, k, seed in zip(("train", "valid", "test"), n, (0, 1, 2), strict=True):
        (folder / f"{part}.tsv").write_text(
            "".join(f"{c}\t{t}\n" for c, t in headlines(k, seed)), encoding="utf-8")
    return folder


@pytest.fixture
def news_dir(tmp_path):
    return write_split(tmp_path / "news")


@pytest.fixture
def no_plots(monkeypatch):
    """Runs whose test reads no curves.png draw none (matplotlib takes most of a small run's
    time); test_ippo_news_runs_every_exercise_and_writes_the_run checks the plots."""
    from ippo.training import History

    monkeypatch.setattr(History, "plot", lambda self, path=None, title=None: None)


def test_load_news_reads_titles_labels_and_class_names(news_dir):
    data = load_news(news_dir)
    (x, t), (xt, tt) = data
    xv, tv = data.valid
    assert (len(x), len(xv), len(xt)) == (160, 40, 40)
    assert x.dtype.kind == "U" and t.dtype == np.int64
    first = headlines(1, 0)[0]
    assert x[0] == first[1] and t[0] == "btem".index(first[0]) == 0
    np.testing.assert_array_equal(t[:4], [0, 1, 2, 3])      # b, t, e, m in that order
    assert data.class_names == list(NEWS_CLASSES) == ["business", "science and technology",
                                                      "entertainment", "health"]
    assert data.categories == ["b", "t", "e", "m"] and data.n_features is None
    # the registry knows it: ippo.datasets.load_dataset("news", data_dir=...)
    assert get_spec("news").name == "news"
    assert len(load_dataset("news", data_dir=news_dir).valid[0]) == 40


def test_load_news_on_the_shared_split():
    folder = find_data_dir("news")
    if folder is None:
        pytest.skip("../shared/data/news not found")
    data = load_news(folder)
    (x, t), (xt, tt) = data
    assert (len(x), len(data.valid[0]), len(xt)) == (10671, 1334, 1334)
    # SOURCE.md's per-category counts (b / e / t / m) for train
    assert np.bincount(t).tolist() == [4502, 1219, 4222, 728]
    assert x[0] == ("Kanye West - Kanye West Celebrates Father's Day And Daughter's "
                    "First Birthday") and t[0] == 2
    assert sum('"' in s for s in x) == 221                  # quotes kept as they are


@pytest.mark.parametrize("content, message", [
    ("b\tok\nno tab here\n", "line 2: no tab"),
    ("b\tok\nx\tunknown category\n", "line 2: unknown category 'x'"),
    ("b\tok\ne\t   \n", "line 2: empty title"),
    ("b\tok\n\n", "line 2: empty line"),
    ("", "the file is empty"),
])
def test_bad_lines_name_the_file_and_line(news_dir, content, message):
    (news_dir / "valid.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        load_news(news_dir)
    assert str(news_dir / "valid.tsv") in str(exc.value) and message in str(exc.value)


def test_non_utf8_and_missing_or_empty_folders(news_dir, tmp_path):
    (news_dir / "test.tsv").write_bytes(b"b\tok\nb\tcaf\xe9\n")
    with pytest.raises(ValueError, match=r"test.tsv, line 2: not UTF-8"):
        load_news(news_dir)
    with pytest.raises(OSError, match="not a folder"):
        load_news(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="is empty"):
        load_news(tmp_path / "empty")
    (news_dir / "valid.tsv").unlink()
    with pytest.raises(OSError, match="lacks valid.tsv"):
        load_news(news_dir)


# --------------------------------------------------------------------------- exercise 50


def write_raw_corpus(path, n_per=(50, 20, 30, 10)):
    """Rows in newsCorpora.csv's format: ID TITLE URL PUBLISHER CATEGORY STORY HOSTNAME
    TIMESTAMP, tab-separated; the five publishers plus others that must be left out."""
    publishers = ["Reuters", "Huffington Post", "Businessweek", "Contactmusic.com",
                  "Daily Mail", "Los Angeles Times", "RTT News"]
    lines, i = [], 0
    for c, n in zip("btem", n_per, strict=True):
        for k in range(n):
            i += 1
            pub = publishers[k % len(publishers)]
            title = f"\"{c.upper()} story\" number {k}" if k % 6 == 0 else f"{c} story {k}"
            lines.append(f"{i}\t{title}\thttp://x/{i}\t{pub}\t{c}\tddUy\tx.com\t1394470370698")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept = {c: sum(1 for k in range(n) if k % len(publishers) < 5)
            for c, n in zip("btem", n_per, strict=True)}
    return kept


def test_make_news_split_keeps_the_five_publishers_and_splits_80_10_10(tmp_path):
    kept = write_raw_corpus(tmp_path / "newsCorpora.csv")
    counts = make_news_split(tmp_path / "newsCorpora.csv", tmp_path / "split", seed=1)
    data = load_news(tmp_path / "split")
    parts = {"train": data[0], "valid": data.valid, "test": data[1]}
    assert counts == {p: len(x) for p, (x, _) in parts.items()}
    assert sum(counts.values()) == sum(kept.values())
    for c, n in kept.items():                               # stratified: per category
        k = "btem".index(c)
        held = -(-n * 2 // 10)                              # ⌈20 %⌉
        assert [int((t == k).sum()) for x, t in parts.values()] == [n - held,
                                                                    held - -(-held // 2),
                                                                    -(-held // 2)]
    titles = [s for x, _ in parts.values() for s in x]
    assert len(set(titles)) == len(titles)                  # every row once
    assert '"B story" number 0' in titles                    # quotes kept, no CSV quoting
    assert not any("number 5" in s or " 6" in s[-2:] for s in titles)   # other publishers
    again = make_news_split(tmp_path / "newsCorpora.csv", tmp_path / "again", seed=1)
    assert again == counts
    assert (tmp_path / "again" / "test.tsv").read_text() == \
        (tmp_path / "split" / "test.tsv").read_text()
    make_news_split(tmp_path / "newsCorpora.csv", tmp_path / "other", seed=2)
    assert (tmp_path / "other" / "test.tsv").read_text() != \
        (tmp_path / "split" / "test.tsv").read_text()


def test_make_news_split_unstratified_counts_and_bad_rows(tmp_path):
    write_raw_corpus(tmp_path / "raw.csv", (100, 0, 0, 0))   # 100 rows: 72 kept
    counts = make_news_split(tmp_path / "raw.csv", tmp_path / "s", stratify=False)
    assert counts == {"train": 72 - 15, "valid": 7, "test": 8}
    (tmp_path / "bad.csv").write_text("1\tonly\tthree\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 1: expected 8 tab-separated"):
        make_news_split(tmp_path / "bad.csv", tmp_path / "s2")


# --------------------------------------------------------------------------- ippo news

QUICK = ["--dim", "8", "--w2v-epochs", "50", "--epochs", "3", "--mlp-epochs", "30",
         "--fasttext-epochs", "20", "--fasttext-dim", "8", "--batch-sizes", "1,4,16", "-q"]


def run_news(argv, capsys):
    rc = main(["news", *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return rc, out, err


def _accuracy(out, name):
    line = next(s for s in out.splitlines() if s.startswith(f"{name}: test accuracy"))
    return float(line.rsplit(" ", 1)[1])


def test_ippo_news_runs_every_exercise_and_writes_the_run(news_dir, tmp_path, capsys):
    out_dir = tmp_path / "run"
    rc, out, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK], capsys)
    assert rc == 0, err
    for n in range(70, 80):
        assert f"== {n} " in out, n
    assert "== 78  GPU: skipped: ippo's CuPy (GPU) backend is not built yet" in out
    # 72: back-propagation agrees with numerical differentiation
    diffs = [float(s.rsplit("=", 1)[1]) for s in out.splitlines() if "max |back" in s]
    assert len(diffs) == 2 and max(diffs) < 1e-6
    # the synthetic topics are easy: every model separates them
    for name in ("single-layer network", "multi-layer network", "fastText-style model"):
        assert _accuracy(out, name) >= 0.9, name
    assert "macro average" in out and "science and technology" in out
    results = json.loads((out_dir / "results.json").read_text())
    assert set(results) == {"single-layer network", "multi-layer network",
                            "fastText-style model"}
    cm = np.array(results["fastText-style model"]["confusion_matrix"])
    assert cm.shape == (4, 4) and cm.sum() == 40
    # 76: one checkpoint per epoch with the parameters and the optimizer state
    ckpt = load_checkpoint(out_dir / "single_layer" / "checkpoints" / "epoch-003.npz")
    assert ckpt["epoch"] == 3 and ckpt["optimizer"]["name"] == "SGD"
    model = load(out_dir / "single_layer" / "model.npz")
    np.testing.assert_array_equal(ckpt["model"]["MatMul1.W"], model.params[0])
    assert len(list((out_dir / "single_layer" / "checkpoints").iterdir())) == 3
    # 75: a PNG per model; 77: the timing table
    for sub in ("single_layer", "mlp", "fasttext"):
        assert (out_dir / sub / "curves.png").read_bytes()[:4] == b"\x89PNG"
        h = json.loads((out_dir / sub / "history.json").read_text())
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(h["epochs"])
    rows = json.loads((out_dir / "batch_sizes.json").read_text())
    assert [r["batch_size"] for r in rows] == [1, 4, 16]
    assert "| 16 |" in out
    # the fastText-style model and its vocabulary rebuild from the files alone
    ft = load(out_dir / "fasttext" / "model.npz")
    vocab = Vocabulary.from_dict(ft.extra["vocabulary"])
    _, (xt, tt) = load_news(news_dir)
    assert ft.accuracy(vocab.encode_texts(xt), tt) == results["fastText-style model"][
        "accuracy"]
    assert Vocabulary.load(out_dir / "vocab.json").words == vocab.words
    assert "nearest to 'ebola': " in out
    assert (out_dir / "output.txt").read_text().count(": test accuracy") == 3


def test_resume_continues_and_changes_are_refused(news_dir, tmp_path, capsys, no_plots):
    out_dir = tmp_path / "run"
    rc, out, _ = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK], capsys)
    assert rc == 0
    before = (out_dir / "word2vec.bin").read_bytes()
    rc, out2, err = run_news(["--resume", out_dir, "-q"], capsys)
    assert rc == 0, err
    assert "read back from" in out2                      # the vectors are not trained again
    assert (out_dir / "word2vec.bin").read_bytes() == before
    for name in ("single-layer network", "fastText-style model"):
        assert _accuracy(out2, name) == _accuracy(out, name)
    assert (out_dir / "command.txt").read_text().count("ippo news") == 2
    rc, _, err = run_news(["--resume", out_dir, "--epochs", "9"], capsys)
    assert rc == 1 and "--epochs cannot change when resuming" in err
    # a new run into the folder of this one is refused: the run stays as it is
    files = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    rc, _, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK], capsys)
    assert rc == 1 and err.strip() == (
        f"ippo news: error: --out {out_dir} already holds an ippo news run (results.json, "
        f"word2vec.bin); continue it with ippo news --resume {out_dir}, or choose another "
        f"--out (or remove the folder first)")
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == files


def test_resume_after_an_interruption_gives_the_same_model(news_dir, tmp_path, capsys, no_plots):
    # a run that stopped after 2 of 3 epochs of the single layer: its trainer checkpoint
    # holds epoch 2; --resume trains epoch 3 only and ends where an uninterrupted run ends
    full = tmp_path / "full"
    assert run_news(["--data-dir", news_dir, "--out", full, *QUICK], capsys)[0] == 0
    part = tmp_path / "part"
    quick2 = [a if a != "3" or QUICK[i - 1] != "--epochs" else "2"
              for i, a in enumerate(QUICK)]
    assert run_news(["--data-dir", news_dir, "--out", part, *quick2], capsys)[0] == 0
    config = json.loads((part / "config.json").read_text())
    config["epochs"] = 3                                   # as if it had been asked for 3
    (part / "config.json").write_text(json.dumps(config))
    rc, out, err = run_news(["--resume", part, "-q"], capsys)
    assert rc == 0, err
    a = load(full / "single_layer" / "model.npz").params[0]
    b = load(part / "single_layer" / "model.npz").params[0]
    np.testing.assert_array_equal(a, b)
    assert len(list((part / "single_layer" / "checkpoints").iterdir())) == 3


def _vector_files(tmp_path):
    rng = np.random.default_rng(0)
    words = sorted({w for ws in TOPICS.values() for w in ws} | set(COMMON))
    # each topic's words near one corner: averaged vectors separate the classes
    corner = {w: i for i, ws in enumerate(TOPICS.values()) for w in ws}
    M = np.array([np.eye(5)[corner.get(w, 4)] + 0.1 * rng.normal(size=5) for w in words],
                 dtype=np.float32)
    lines = [w + " " + " ".join(repr(float(v)) for v in row) for w, row in zip(words, M,
                                                                               strict=True)]
    text = tmp_path / "v.txt"
    text.write_text(f"{len(words)} 5\n" + "\n".join(lines) + "\n")
    glove = tmp_path / "glove.txt"
    glove.write_text("\n".join(lines) + "\n")
    binary = tmp_path / "v.bin"
    binary.write_bytes(f"{len(words)} 5\n".encode() + b"".join(
        w.encode() + b" " + struct.pack("<5f", *row) + b"\n"
        for w, row in zip(words, M, strict=True)))
    return {"word2vec-text": text, "glove": glove, "word2vec-binary": binary}


@pytest.mark.parametrize("fmt", ["word2vec-text", "word2vec-binary", "glove"])
def test_given_vectors_in_every_format_work_unchanged(news_dir, tmp_path, capsys, fmt,
                                                     no_plots):
    path = _vector_files(tmp_path)[fmt]
    rc, out, err = run_news(["--data-dir", news_dir, "--out", tmp_path / "run",
                             "--vectors", path, *QUICK], capsys)
    assert rc == 0, err
    assert f"vectors: {path} ({fmt}): 40 words x 5" in out
    assert "X_train: 160 x 5" in out
    assert _accuracy(out, "single-layer network") >= 0.9
    assert not (tmp_path / "run" / "word2vec.bin").exists()


@pytest.mark.parametrize("setup, message", [
    (lambda d: (d / "train.tsv").write_text("b\tok\nno tab\n"), "train.tsv, line 2: no tab"),
    (lambda d: (d / "test.tsv").write_text("b\tok\nz\ttitle\n"),
     "test.tsv, line 2: unknown category 'z'"),
    (lambda d: (d / "valid.tsv").write_text("e\t\n"), "valid.tsv, line 1: empty title"),
])
def test_bad_data_is_one_line_exit_1_and_the_run_folder_keeps_its_files(
        news_dir, tmp_path, capsys, setup, message):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("earlier results")
    setup(news_dir)
    rc, out, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK], capsys)
    assert rc == 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith("ippo news: error: ")
    assert [p.name for p in out_dir.iterdir()] == ["keep.txt"]
    assert (out_dir / "keep.txt").read_text() == "earlier results"


def test_missing_empty_folders_and_bad_vectors_are_one_line_errors(news_dir, tmp_path,
                                                                   capsys):
    rc, _, err = run_news(["--data-dir", tmp_path / "nowhere", *QUICK], capsys)
    assert rc == 1 and "nowhere is not a folder" in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    rc, _, err = run_news(["--data-dir", tmp_path / "empty", *QUICK], capsys)
    assert rc == 1 and "empty is empty" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("3 5\napple 1 2 3 4 5\nweb 1 2 3 4\n")
    rc, _, err = run_news(["--data-dir", news_dir, "--vectors", bad, "--out",
                           tmp_path / "r", *QUICK], capsys)
    assert rc == 1 and f"{bad}, line 3: expected the word and 5 values, got 4" in err
    assert not (tmp_path / "r").exists()                 # nothing was started
    out_dir = tmp_path / "never"
    rc, _, err = run_news(["--data-dir", news_dir, "--vectors", tmp_path / "none.bin",
                           "--out", out_dir, *QUICK], capsys)
    assert rc == 1 and "none.bin" in err and "Traceback" not in err
    rc, _, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK, "--device",
                           "gpu"], capsys)
    assert rc == 1 and "--device gpu" in err and "issue 14" in err
    rc, _, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK,
                           "--batch-sizes", "1,x"], capsys)
    assert rc == 1 and "--batch-sizes" in err and err.count("\n") == 1
    assert not out_dir.exists()


def test_ippo_train_refuses_the_text_data_set(capsys, news_dir):
    rc = main(["train", "--dataset", "news", "--data-dir", str(news_dir)])
    err = capsys.readouterr().err
    assert rc == 1 and "ippo news" in err and err.count("\n") == 1


def test_online_learning_plot_draws_block_means_of_the_iteration_losses():
    # 1,000 one-sample iterations per epoch: 20 points an epoch, each the mean of 50
    pytest.importorskip("matplotlib")
    from ippo.training import History

    h = History(iterations_per_epoch=1000)
    rng = np.random.default_rng(0)
    h.iteration_loss = list(rng.exponential(size=2500))
    h.append_epoch({"epoch": 1, "loss": 1.0, "accuracy": 0.5})
    h.append_epoch({"epoch": 2, "loss": 0.9, "accuracy": 0.6})
    fig = h.plot()
    line = fig.axes[0].get_lines()[0]
    assert line.get_label() == "train, mean of 50 iterations"
    y = line.get_ydata()
    assert len(y) == 50                                         # 2,500 / 50 blocks
    np.testing.assert_allclose(y[0], np.mean(h.iteration_loss[:50]))
    np.testing.assert_allclose(line.get_xdata()[:2], [0.05, 0.1])


def test_ctrl_c_keeps_what_is_saved_and_resume_finishes(news_dir, tmp_path, capsys,
                                                         monkeypatch, no_plots):
    from ippo.text import classify

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out_dir = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(classify, "time_batch_sizes", interrupted)        # during exercise 77
        rc, out, err = run_news(["--data-dir", news_dir, "--out", out_dir, *QUICK], capsys)
    assert rc == 130
    assert f"interrupted; ippo news --resume {out_dir} continues" in err
    assert "== 76 " in (out_dir / "output.txt").read_text()          # printed so far
    saved = (out_dir / "single_layer" / "model.npz").read_bytes()
    rc, out, err = run_news(["--resume", out_dir, "-q"], capsys)
    assert rc == 0, err
    assert "| 16 |" in out and "fastText-style model: test accuracy" in out
    assert (out_dir / "single_layer" / "model.npz").read_bytes() != b""
    assert load(out_dir / "single_layer" / "model.npz").params[0].tobytes() == \
        load_from_bytes(saved, tmp_path).params[0].tobytes()


def load_from_bytes(data, folder):
    path = folder / "copy.npz"
    path.write_bytes(data)
    return load(path)
