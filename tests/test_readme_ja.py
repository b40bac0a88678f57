"""README.ja.md is true: its Python runs and gives the values its comments state, every file it
names exists, and its example list is the examples/ folder."""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README_JA = ROOT / "README.ja.md"
# a comment that states a value: a number or an array's repr, before any Japanese text
STATED = re.compile(r"#\s*(array\(\[[^\]]*\]\)|-?\d[\d.]*(?:e[-+]?\d+)?)")


def text():
    return README_JA.read_text(encoding="utf-8")


def test_its_python_runs_and_gives_the_values_its_comments_state(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # the tour's snippet draws a learning curve
    monkeypatch.chdir(tmp_path)  # history.plot("spiral.png") writes here
    blocks = re.findall(r"```python\n(.*?)```", text(), re.S)
    assert len(blocks) >= 3
    namespace, checked = {}, 0
    for block in blocks:
        exec(compile(block, str(README_JA), "exec"), namespace)
        for line in block.splitlines():
            code, _, comment = line.partition("#")
            m = STATED.match("#" + comment)
            if not comment or m is None or "=" in code.replace("==", ""):
                continue
            stated = eval(m.group(1), {"array": np.array})
            # to the digits the comment prints (an array's repr keeps 8 decimals)
            np.testing.assert_allclose(eval(code, namespace), stated, rtol=1e-12, atol=5e-9,
                                       err_msg=line)
            checked += 1
    assert checked >= 7  # softmax, the two losses, 3 bits, f'(5), the gradient, the unit
    assert (tmp_path / "spiral.png").read_bytes().startswith(b"\x89PNG")


def test_every_file_it_names_exists():
    t = text()
    links = re.findall(r"\]\(([^)#]+)\)", t)
    paths = re.findall(r"`((?:examples|docs|ippo)/[\w./-]*)`", t)
    assert links and paths
    for p in links + paths:
        assert (ROOT / p).exists() or p == "examples/figures/", p  # that one the examples make


def test_its_example_list_is_the_examples_folder():
    listed = re.findall(r"^\| `(\d\d_\w+\.py)` \|", text(), flags=re.M)
    assert listed == sorted(p.name for p in (ROOT / "examples").glob("[0-9][0-9]_*.py"))


def test_it_uses_the_terms_of_the_japanese_literature():
    t = text()
    for term in ("損失関数", "誤差逆伝播法", "勾配降下法", "確率的勾配降下法", "ミニバッチ学習",
                 "過学習", "学習率", "数値微分", "計算グラフ", "活性化関数", "荷重減衰",
                 "データ拡張"):
        assert term in t, term
