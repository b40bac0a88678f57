"""The house's layering: no import cycles, and no module imports one from a floor above it.

Every ``import``/``from ... import`` of an ``ippo`` module anywhere in a file counts (a
function-level import too), read from the source with ``ast``."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ippo"

#: The floors, lowest first: a module may import modules of its own floor or below. A name
#: ending in "." stands for every module under that package.
FLOORS = [
    ["ippo", "ippo.backend", "ippo.blas", "ippo.io", "ippo.state", "ippo.numerical",
     "ippo.plotting", "ippo.datasets.base", "ippo.datasets.files", "ippo.datasets.idx"],
    ["ippo.checks", "ippo.kernels", "ippo.initializers", "ippo.metrics", "ippo.optimizers",
     "ippo.preprocessing", "ippo.augment"],
    ["ippo.functions", "ippo.datasets."],
    ["ippo.tasks", "ippo.graph"],
    ["ippo.layers", "ippo.autograd.tensor"],
    ["ippo.models", "ippo.gradcheck", "ippo.autograd.ops", "ippo.autograd.dot"],
    ["ippo.autograd.nn"],
    ["ippo.autograd"],
    ["ippo.training.", "ippo.onnx"],
    ["ippo.sklearn", "ippo.text."],
    ["ippo.commands.", "ippo.cli", "ippo.__main__"],
]


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name):
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path):
    """The ippo modules a file imports (``from ippo.a import b`` counts as ippo.a.b when b
    is a module, else as ippo.a)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "ippo"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "ippo":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if is_module(sub) else node.module)
    return out


def graph():
    g = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    return {m: deps - {m} for m, deps in g.items()}


def floor(module):
    for i, names in enumerate(FLOORS):
        for name in names:
            if module == name or name.endswith(".") and (module + ".").startswith(name):
                return i
    return None


def test_every_module_has_a_floor():
    assert [m for m in graph() if floor(m) is None] == []


def test_nothing_imports_upward():
    upward = [f"{m} (floor {floor(m)}) imports {d} (floor {floor(d)})"
              for m, deps in graph().items() for d in sorted(deps) if floor(d) > floor(m)]
    assert upward == []


def test_no_import_cycles():
    g = graph()
    done, on_path, cycles = set(), [], []

    def visit(m):
        if m in on_path:
            cycles.append(on_path[on_path.index(m):] + [m])
            return
        if m in done:
            return
        on_path.append(m)
        for d in sorted(g.get(m, ())):
            visit(d)
        on_path.pop()
        done.add(m)

    for m in sorted(g):
        visit(m)
    assert cycles == []


def test_the_two_model_families_do_not_import_each_other():
    # the autograd once imported ippo.models for its classes and accuracy: what both
    # families share lives below them (ippo.tasks, ippo.state)
    g = graph()
    autograd = [m for m in g if m.startswith("ippo.autograd")]
    assert {d for m in autograd for d in g[m]} & {"ippo.models", "ippo.layers"} == set()
    assert not {d for d in g["ippo.models"] | g["ippo.layers"] if d.startswith("ippo.autograd")}


def test_the_reader_sees_every_kind_of_import(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("from ippo.training import Trainer\nimport ippo.layers\n"
                   "def f():\n    from ippo import models\n", encoding="utf-8")
    assert imports(src) == {"ippo.training", "ippo.layers", "ippo.models"}
