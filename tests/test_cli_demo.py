"""The ``ippo`` command line: --version, --help and the demo (run in-process)."""

import numpy as np
import pytest

import ippo
from ippo.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ippo {ippo.__version__}"


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "usage: ippo" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "predict", "gradcheck"])
def test_every_command_help_says_what_it_does(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    usage, description = out.split("\n\n")[:2]
    assert usage.startswith(f"usage: ippo {command}")
    assert not description.startswith(("options:", "positional arguments:")), out


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: ippo" in out and "demo" in out


def test_demo_prints_the_course_figures(capsys):
    before = np.get_printoptions()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "cross_entropy_error(y, t=2) = 0.510825457099338" in out
    assert "softmax([6, 4])             = [0.8808 0.1192]" in out
    assert "price 220.0; d(price) 2.2, d(count) 110.0, d(tax) 200.0" in out
    assert np.get_printoptions() == before  # the demo leaves global state alone


def test_unknown_command_exits_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


@pytest.mark.parametrize("argv,message", [
    (["--seed", "-1"], "--seed: must be >= 0, got -1"),
    (["--sizes", "4,x"], "--sizes: expected comma-separated integers, got '4,x'"),
    (["--batch", "1"], "--batch: must be at least 2, got 1"),
])
def test_gradcheck_bad_values_name_their_option(argv, message, capsys):
    assert main(["gradcheck", *argv]) == 1
    assert capsys.readouterr().err == f"ippo gradcheck: error: {message}\n"
