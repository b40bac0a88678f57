"""The README's ONNX and scikit-learn sections run and give what they show."""

import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from ippo.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def section(title_start):
    m = re.search(rf"^## {re.escape(title_start)}.*?\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, f"README.md has no section '## {title_start}...'"
    return m.group(1)


def test_readme_onnx_example(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    text = section("Export to ONNX")
    bash = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in bash.splitlines()]
    commands = [c for c in commands if c.startswith("ippo ")]
    assert commands == ["ippo train --dataset iris --out runs/iris", "ippo export runs/iris"]
    monkeypatch.chdir(tmp_path)
    for c in commands:
        assert main(shlex.split(c)[1:] + (["-q"] if " train " in f" {c} " else [])) == 0
    assert (tmp_path / "runs/iris/model.onnx").is_file()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) == 5  # "in five lines"
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    shown = ast.literal_eval(re.search(r"# (\[.*\])\s*$", code.strip()).group(1).replace(
        "' '", "', '"))
    assert list(scope["label"]) == shown == ["setosa", "virginica"]
    assert scope["probabilities"].shape == (2, 3)


def test_readme_sklearn_example():
    text = section("scikit-learn estimators")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", text, re.S).group(1).strip()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().strip()
    params, acc = re.fullmatch(r"(\{.*\}) test accuracy (\d\.\d+)", printed).groups()
    shown_params, shown_acc = re.fullmatch(r"(\{.*\}) test accuracy (\d\.\d+)", shown).groups()
    assert ast.literal_eval(params) == ast.literal_eval(shown_params)
    assert abs(float(acc) - float(shown_acc)) <= 0.01  # another BLAS may round differently
