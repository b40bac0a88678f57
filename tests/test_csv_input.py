"""A user's own CSV, read as they meant it: the header found (or said with --header /
--no-header), the task guessed sensibly (or said with --task) and shown, text columns one-hot
encoded with the training part's categories, and new rows encoded the same way by
ippo predict, ippo evaluate and the ONNX export."""

import csv

import numpy as np
import pytest

from ippo.cli import main
from ippo.datasets import load_csv
from ippo.datasets.tabular import detect_header, guess_task


def run_cli(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def rows(text):
    return [line.split(",") for line in text.strip().splitlines()]


# --------------------------------------------------------------------------- the header


@pytest.mark.parametrize("text, expected, header", [
    ("a,b,y\n1,2,0\n3,4,1", None, True),                   # names over numbers
    ("1,2,0\n3,4,1\n5,6,0", None, False),                  # numbers only
    ("5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,2.5,virginica", None, False),  # text labels: data
    ("x1,x2,species\n5.1,3.5,setosa\n4.9,3.0,setosa", None, True),
    ("NA,2,0\n3,4,1\n5,6,0", None, False),                 # a missing cell is no name
    (",a,b\n0,1.5,2\n1,2.5,3", None, True),                # pandas' unnamed index column
    ("1,2,label\n0.5,0.1,3\n0.2,0.4,5", None, None),       # numbers as names: cannot tell
    ("a,b", None, True),                                   # one row of text: a header
    ("w,h\n1,2", ["w", "h"], True),                        # the model's names
    ("Tokyo,3\nOsaka,4", ["city", "rooms"], False),        # none of them, no votes: data
])
def test_detect_header(text, expected, header):
    assert detect_header(rows(text), expected) is header


def test_a_headerless_csv_with_text_labels_keeps_its_first_row(tmp_path):
    from sklearn.datasets import load_iris

    iris = load_iris()
    lines = [",".join(f"{v:g}" for v in x) + "," + iris.target_names[t]
             for x, t in zip(iris.data, iris.target, strict=True)]
    data = load_csv(write(tmp_path / "iris.csv", lines))
    (x, t), (xt, tt) = data
    assert len(x) + len(xt) == 150 and data.header is False  # was 149: line 1 a "header"
    assert data.class_names == ["setosa", "versicolor", "virginica"]
    assert data.feature_names == ["column 1", "column 2", "column 3", "column 4"]
    first = np.array([5.1, 3.5, 1.4, 0.2], np.float32)
    assert (np.all(x == first, axis=1).any() or np.all(xt == first, axis=1).any())


def test_header_and_no_header_decide_when_the_file_cannot(tmp_path, capsys):
    path = write(tmp_path / "d.csv", ["1,2,label"] + [f"{i % 5},{i % 3},{i % 2}"
                                                       for i in range(40)])
    with pytest.raises(ValueError, match=r"cannot tell whether line 1 \(1, 2, label\) is a "
                                         r"header: .* say which with --header or --no-header"):
        load_csv(path)
    assert load_csv(path, header=True).feature_names == ["1", "2"]
    rc, out, err = run_cli(["train", "-q", "--dataset", f"csv:{path}", "--epochs", "1",
                            "--header", "--out", tmp_path / "r"], capsys)
    assert rc == 0, err
    assert "header = true" in (tmp_path / "r" / "config.toml").read_text()
    # --no-header: line 1 is data, as said (its "label" becomes a third class)
    rc, out, err = run_cli(["train", "--dataset", f"csv:{path}", "--epochs", "1",
                            "--no-header", "--out", tmp_path / "n"], capsys)
    assert rc == 0, err
    assert out.startswith("data: d.csv (30 train / 3 validation / 8 test, 2 features; "
                          "multiclass, 3 classes (auto: text labels, 3 classes;")
    # evaluate reads the file as training did (its header as given), not by detection
    rc, out, err = run_cli(["evaluate", tmp_path / "r"], capsys)
    assert rc == 0 and "8 samples" in out, err


# --------------------------------------------------------------------------- the task


@pytest.mark.parametrize("cells, task, reason", [
    (["250", "300", "320", "250", "400", "550", "300", "450"] * 4, "regression",
     "whole numbers from 250 to 550: amounts, not class codes"),
    ([str(i % 10) for i in range(100)], "multiclass", "10 whole numbers from 0 to 9"),
    ([str(1 + i % 5) for i in range(50)], "multiclass", "5 whole numbers from 1 to 5"),
    (["-1", "1"] * 10, "binary", "two values, -1 and 1"),
    ([f"{i / 7:.3f}" for i in range(30)], "regression", "the target has decimals"),
    ([str(i) for i in range(30)], "regression", "30 different whole numbers"),
    ([str(i % 8) for i in range(12)], "regression", "8 different whole numbers in 12 rows"),
    (["cat", "dog", "cat"], "binary", "text labels, 2 classes"),
])
def test_guess_task(cells, task, reason):
    got, why = guess_task(cells)
    assert got == task and reason in why


def test_a_small_table_of_prices_is_regression_and_the_data_line_says_why(tmp_path, capsys):
    rng = np.random.default_rng(0)
    area = rng.integers(30, 120, 30)
    price = area // 10 * 50  # 9 different whole-number prices, 150 to 550
    path = write(tmp_path / "houses.csv", ["area,price"] + [f"{a},{p}" for a, p in
                                                            zip(area, price, strict=True)])
    assert len(set(price)) == 9
    rc, out, err = run_cli(["train", "--dataset", f"csv:{path}", "--epochs", "2", "--out",
                            tmp_path / "r"], capsys)
    assert rc == 0, err
    line = out.splitlines()[0]
    assert "; regression (auto: 9 whole numbers from 150 to 550: amounts, not class codes; " \
           "--task to choose); loaded in " in line
    assert "test MSE" in out  # was "9 classes" and an accuracy
    rc, out, err = run_cli(["train", "--dataset", f"csv:{path}", "--epochs", "2", "--task",
                            "multiclass", "--val-split", "0", "--out", tmp_path / "m"], capsys)
    assert rc == 0, err
    assert "; multiclass, 9 classes; loaded in" in out.splitlines()[0]
    assert 'task = "multiclass"' in (tmp_path / "m" / "config.toml").read_text()


# --------------------------------------------------------------------------- text columns


def towns(n, seed=0, cities=("Osaka", "Sapporo", "Tokyo")):
    """Rows of a table whose price depends on the city: area, city, price."""
    rng = np.random.default_rng(seed)
    bonus = {"Osaka": 100.0, "Sapporo": 0.0, "Tokyo": 300.0, "Nagoya": 50.0}
    out = []
    for i in range(n):
        area = rng.uniform(20, 120)
        city = cities[i % len(cities)]
        out.append([f"{area:.1f}", city, f"{3 * area + bonus[city]:.1f}"])
    return out


def test_text_columns_are_one_hot_encoded_with_the_training_categories(tmp_path):
    lines = ["area,city,price"] + [",".join(r) for r in towns(60)]
    lines[4] = lines[4].replace("Osaka", "")  # a missing category: no category
    data = load_csv(write(tmp_path / "t.csv", lines))
    (x, t), (xt, tt) = data
    assert data.feature_names == ["area", "city=Osaka", "city=Sapporo", "city=Tokyo"]
    assert data.columns == [{"name": "area", "kind": "number"},
                            {"name": "city", "kind": "category",
                             "categories": ["Osaka", "Sapporo", "Tokyo"]}]
    onehot = np.concatenate([x, xt])[:, 1:]
    assert set(onehot.sum(axis=1).tolist()) == {0.0, 1.0}  # one city a row, or none
    assert onehot.sum() == 59
    # Tokyo's prices are 300 above the line 3·area, Sapporo's on it
    price = np.concatenate([t, tt])[:, 0]
    area = np.concatenate([x, xt])[:, 0]
    tokyo = onehot[:, 2] == 1
    np.testing.assert_allclose(price[tokyo] - 3 * area[tokyo], 300, atol=0.2)


def test_a_category_only_in_the_test_part_is_reported_not_learned(tmp_path):
    lines = ["area,city,price"] + [",".join(r) for r in towns(40)]
    lines.append("50.0,Nagoya,200.0")  # one Nagoya row: it lands in one of the two parts
    for seed in range(20):
        data = load_csv(write(tmp_path / "t.csv", lines), seed=seed, test_size=0.25)
        if data.unknown_categories:
            break
    assert data.unknown_categories == {"city": {"Nagoya": 42}}  # its line in the file
    assert "city=Nagoya" not in data.feature_names
    (_, _), (xt, _) = data
    assert (xt[:, 1:].sum(axis=1) == 0).sum() == 1  # encoded as no category


@pytest.mark.parametrize("lines, message", [
    (["id,x,y"] + [f"u{i},{i},{i % 2}" for i in range(30)],
     "column 'id' holds text with 30 different values in 30 rows: too many to be categories"),
    (["a,b,y", "1,2,0", "3,abc,1", "4,5,0", "6,7,1"],
     "line 3, column 'b': cannot read 'abc' as a number (the column holds numbers; a column "
     "of text only is read as categories and one-hot encoded)"),
])
def test_text_that_is_not_a_category_column_is_an_error(tmp_path, lines, message):
    with pytest.raises(ValueError, match=f"^load_csv: .*{message}".replace("(", r"\(")
                       .replace(")", r"\)")):
        load_csv(write(tmp_path / "d.csv", lines))


def test_decimal_commas_are_still_named_not_taken_for_categories(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read '1,5' as a number \(write decimals"):
        load_csv(write(tmp_path / "d.csv", ["a;b;y", "1,5;2;0", "2,5;3;1", "3,5;1;0"]))


@pytest.fixture(scope="module")
def town_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("towns")
    write(d / "train.csv", ["area,city,price"] + [",".join(r) for r in towns(120)])
    assert main(["train", "-q", "--dataset", f"csv:{d / 'train.csv'}", "--hidden", "16",
                 "--epochs", "60", "--out", str(d / "run")]) == 0
    new = [["55.0", "Tokyo"], ["55.0", "Sapporo"], ["80.0", "Kyoto"], ["80.0", "NA"]]
    write(d / "new.csv", ["area,city"] + [",".join(r) for r in new])
    return d


def test_predict_encodes_new_rows_as_in_training_and_reports_unknown_ones(town_run, capsys):
    rc, out, err = run_cli(["predict", town_run / "run", town_run / "new.csv"], capsys)
    assert rc == 0
    assert err.strip() == (f"ippo predict: warning: {town_run / 'new.csv'}: categories the "
                           f"model was not trained on (encoded as none of its categories): "
                           f"column 'city': 'Kyoto' (line 4)")
    values = [float(r[1]) for r in csv.reader(out.splitlines()[1:])]
    # the model learned the city: Tokyo about 300 above Sapporo at the same area
    assert 200 < values[0] - values[1] < 400
    assert values[2] == values[3]  # an unknown city and a missing one: the same encoding
    # columns by name: another order works, another set of names is refused
    write(town_run / "swapped.csv", ["city,area", "Tokyo,55.0", "Sapporo,55.0"])
    rc, out2, _ = run_cli(["predict", town_run / "run", town_run / "swapped.csv"], capsys)
    assert rc == 0 and out2.splitlines()[1:] == out.splitlines()[1:3]
    write(town_run / "renamed.csv", ["size,town", "55.0,Tokyo"])
    rc, _, err = run_cli(["predict", town_run / "run", town_run / "renamed.csv"], capsys)
    assert rc == 1 and err.strip() == (
        f"ippo predict: error: {town_run / 'renamed.csv'}: none of its columns ('size', "
        f"'town') is one of the model's ('area', 'city'); name them as in training, or "
        f"remove the header line to give the columns by position")
    write(town_run / "bare.csv", ["55.0,Tokyo", "55.0,Sapporo"])  # no header: by position
    rc, out3, _ = run_cli(["predict", town_run / "run", town_run / "bare.csv"], capsys)
    assert rc == 0 and out3.splitlines()[1:] == out.splitlines()[1:3]


def test_evaluate_on_another_csv_uses_the_models_categories(town_run, capsys, tmp_path):
    # another file whose cities are listed in another order, with a city the model lacks:
    # its own categories would put Tokyo in Osaka's column
    other = [r for r in towns(60, seed=5, cities=("Tokyo", "Nagoya", "Sapporo"))]
    write(tmp_path / "other.csv", ["area,city,price"] + [",".join(r) for r in other])
    rc, out, err = run_cli(["evaluate", town_run / "run", "--dataset",
                            f"csv:{tmp_path / 'other.csv'}", "--split", "train"], capsys)
    assert rc == 0, err
    from ippo.commands import _common as C

    model, extra, _ = C.load_model(town_run / "run")
    assert extra["columns"][1]["categories"] == ["Osaka", "Sapporo", "Tokyo"]
    data = load_csv(tmp_path / "other.csv", columns=extra["columns"],
                    fill_values=extra["fill_values"], task="regression")
    x, t = data[0]
    np.testing.assert_array_equal(x[:, 1], 0)  # no row is Osaka: Tokyo is not put there
    y = C.outputs(model, C.prepare_inputs(x, extra), extra)
    mse = float(np.mean((y.astype(np.float64) - t) ** 2))
    assert float(out.split("MSE")[1].split()[0]) == pytest.approx(mse, rel=1e-4)
    # with the file's own categories (Nagoya, Sapporo, Tokyo) the numbers would differ
    own = load_csv(tmp_path / "other.csv", task="regression")[0][0]
    assert not np.array_equal(own, x)


def test_the_onnx_export_encodes_text_columns_as_predict_does(town_run, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    rc, out, err = run_cli(["export", town_run / "run", "-o", tmp_path / "m.onnx"], capsys)
    assert rc == 0, err
    assert ("inputs: input float32 (N, 1) (area), categories string (N, 1) (city; one-hot "
            "inside)") in out
    rc, printed, _ = run_cli(["predict", town_run / "run", town_run / "new.csv"], capsys)
    want = np.array([float(r[1]) for r in csv.reader(printed.splitlines()[1:])])
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input", "categories"]
    got = session.run(None, {
        "input": np.array([[55.0], [55.0], [80.0], [80.0]], np.float32),
        "categories": np.array([["Tokyo"], ["Sapporo"], ["Kyoto"], ["NA"]], dtype=object)})[0]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-5)  # printed to 6 digits
