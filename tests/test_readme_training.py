"""The README's "Training in one call" example runs and prints what the README shows."""

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_training_example(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Training in one call\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "README.md has no '## Training in one call' section"
    code = re.search(r"```python\n(.*?)```", section.group(1), re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section.group(1), re.S).group(1).splitlines()
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    lines = out.getvalue().splitlines()

    def numbers(line):  # the losses and accuracies, not the timings
        line = re.sub(r"\s+[\d,]+ samples/s\s+[\d.]+s$", "", line)
        return [float(v) for v in re.findall(r"\d+\.\d+", line)]

    def words(line):  # the names of the figures
        return re.findall(r"[a-z_/]+", re.sub(r"[\d,.]+ samples/s.*$", "", line))

    for line in shown:
        if line == "...":
            continue
        if line.startswith("epoch"):
            match = [ln for ln in lines if ln.startswith(line.split("  train_loss")[0] + "  ")]
            # float32 sums may round differently on another CPU: allow a little
            assert match and numbers(match[0]) == pytest.approx(numbers(line), abs=0.02)
            assert words(match[0]) == words(line)  # the same figures, named the same way
        else:
            words, value = line.rsplit(" ", 1)
            got = [ln for ln in lines if ln.startswith(words)]
            assert got and float(got[0].rsplit(" ", 1)[1]) == pytest.approx(float(value), abs=0.02)
    assert (tmp_path / "spiral.png").stat().st_size > 10_000
