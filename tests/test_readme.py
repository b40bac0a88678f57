"""The README's "Math core" examples are true: they run as doctests."""

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_math_core_examples_run():
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Math core\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Math core' section"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert blocks and all(">>>" in b for b in blocks)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README Math core #{i}", str(README), 0))
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted >= 5
