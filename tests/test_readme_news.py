"""The README's chapter-8 Python example runs as written (on small synthetic headlines in
place of the shared split, so that it takes seconds) and prints two reports; its table of
options matches ``ippo news --help``."""

import contextlib
import io
import re
from pathlib import Path

from ippo.commands import news
from tests.test_news import write_split

README = Path(__file__).resolve().parent.parent / "README.md"
TITLE = "## Text classification: the NLP 100 Knock chapter 8"


def _section():
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(TITLE)}.*?\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README.md has no '{TITLE}' section"
    return match.group(1)


def test_readme_chapter_8_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", _section(), re.S).group(1)
    assert code.count('"../shared/data/news"') == 1
    folder = write_split(tmp_path / "news")
    code = code.replace('"../shared/data/news"', repr(str(folder)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    text = out.getvalue()
    assert text.count("macro average") == 2 and text.count("confusion matrix") == 2
    assert "science and technology" in text


def test_readme_names_the_command_and_its_exercises():
    section = _section()
    assert "$ ippo news --data-dir ../shared/data/news" in section
    for n in ("70", "71–72", "73–74", "75", "76", "77", "78", "79"):
        assert f"| {n} |" in section, n
    for option in ("--vectors", "--resume", "--batch-sizes", "--vectors-limit"):
        assert option in section and option[2:].replace("-", "_") in news.OPTIONS or \
            option == "--resume", option
