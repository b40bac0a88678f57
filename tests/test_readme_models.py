"""The README's "Models and layers" example runs and prints what the README shows."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_models_example(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Models and layers\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "README.md has no '## Models and layers' section"
    code = re.search(r"```python\n(.*?)```", section.group(1), re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section.group(1), re.S).group(1).splitlines()
    monkeypatch.chdir(tmp_path)  # the example saves xor.npz
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    assert printed[0] == shown[0]  # the model's description
    nums = [float(v) for v in re.findall(r"[-+]?\d*\.\d+(?:e[-+]\d+)?", printed[1])]
    want = [float(v) for v in re.findall(r"[-+]?\d*\.\d+(?:e[-+]\d+)?", shown[1])]
    np.testing.assert_allclose(nums, want, atol=0.01)  # loss, accuracy (float32 rounding)
    probs = [float(v) for v in re.findall(r"\d\.\d+e[-+]\d+", " ".join(printed[2:]))]
    shown_probs = [float(v) for v in re.findall(r"\d\.\d+e[-+]\d+", " ".join(shown[2:]))]
    np.testing.assert_allclose(probs, shown_probs, atol=1e-3)
    assert (tmp_path / "xor.npz").exists()
