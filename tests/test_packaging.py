"""The package, the README's two opening commands and CI agree with each other (issue 2)."""

import os
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = ROOT / ".ci" / "run"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def readme_commands():
    """The command lines (comments and blank lines left out) of the README's first code block."""
    block = re.search(r"```(\w*)\n(.*?)```", README, re.S)
    assert block, "README.md has no code block"
    assert block.group(1) == "bash", "the README's first code block is not the bash commands"
    return [line.strip() for line in block.group(2).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def ci_commands():
    return [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_readme_opens_with_the_two_commands():
    main_job, tests = readme_commands()
    # what the first command installs (the extra named in it) exists, and it runs the CLI
    venv = r"python3 -m venv \.venv && \. \.venv/bin/activate && "
    assert re.fullmatch(venv + r'pip install -e "\.\[plot\]" && ippo train', main_job), main_job
    assert re.fullmatch(venv + r'pip install -e "\.\[test\]" && ruff check \. && '
                        r"python -m pytest", tests), tests
    # nothing but the title and one paragraph before them
    assert README.index("```bash") < README.index("\n## ")


def test_ci_runs_exactly_the_readme_test_command():
    _, tests = readme_commands()
    assert tests in ci_commands(), f".ci/run does not run the README's {tests!r}"
    assert "ruff check" in tests
    text = CI.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    # a fresh environment (the README's command makes it), so a clean clone passes on its own
    assert tests.startswith("python3 -m venv ")
    if os.name == "posix":
        assert os.access(CI, os.X_OK), ".ci/run is not executable"


def test_pyproject_declares_the_package_extras_and_console_script():
    project = PYPROJECT["project"]
    assert project["name"] == "ippo"
    assert project["requires-python"] == ">=3.10"
    assert project["scripts"] == {"ippo": "ippo.cli:main"}
    extras = project["optional-dependencies"]
    for extra in re.findall(r'pip install -e "\.\[(\w+)\]"', README.split("\n## ")[0]):
        assert extra in extras, f"the README installs the undeclared extra [{extra}]"
    test_extra = {re.match(r"[\w-]+", r).group(0) for r in extras["test"]}
    assert {"pytest", "hypothesis", "ruff"} <= test_extra


def test_no_dependency_is_listed_twice():
    for group, reqs in [("dependencies", PYPROJECT["project"]["dependencies"]),
                        *PYPROJECT["project"]["optional-dependencies"].items()]:
        names = [re.match(r"[\w.-]+", r).group(0).lower().replace("_", "-") for r in reqs]
        assert len(names) == len(set(names)), f"{group} lists a package twice: {names}"


@pytest.mark.parametrize("module", ["ippo.functions", "ippo.kernels", "ippo.numerical",
                                    "ippo.graph"])
def test_core_modules_document_every_public_name(module):
    """Every public function, class and method of the core has a docstring with its formula."""
    import importlib
    import inspect

    mod = importlib.import_module(module)
    names = [n for n, v in vars(mod).items() if not n.startswith("_")
             and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == module]
    assert names
    for name in names:
        obj = getattr(mod, name)
        doc = inspect.getdoc(obj) or ""
        assert doc, f"{module}.{name} has no docstring"
        assert any(c in doc for c in "=≈←→"), f"{module}.{name}: no formula in its docstring"
        if inspect.isclass(obj):
            for meth, fn in vars(obj).items():
                if inspect.isfunction(fn) and not meth.startswith("_"):
                    assert inspect.getdoc(fn), f"{module}.{name}.{meth} has no docstring"


@pytest.mark.parametrize("module", [
    "ippo.checks", "ippo.tasks", "ippo.state", "ippo.io", "ippo.blas", "ippo.models",
    "ippo.layers", "ippo.autograd.nn", "ippo.training.trainer", "ippo.training.callbacks",
    "ippo.training.evaluation", "ippo.training.history", "ippo.training.plot",
    "ippo.training.checkpoint", "ippo.training.progress", "ippo.training.validation",
    "ippo.onnx", "ippo.sklearn", "ippo.commands.export", "benchmarks.sklearn_estimators"])
def test_modules_document_every_public_name(module):
    """Every public function, class and public method has a docstring."""
    import importlib
    import inspect

    mod = importlib.import_module(module)
    assert inspect.getdoc(mod), f"{module} has no docstring"
    names = [n for n, v in vars(mod).items() if not n.startswith("_")
             and (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == module]
    assert names
    missing = []
    for name in names:
        obj = getattr(mod, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            missing += [f"{name}.{meth}" for meth, fn in vars(obj).items()
                        if inspect.isfunction(fn) and not meth.startswith("_")
                        and not inspect.getdoc(fn)]
    assert missing == []
