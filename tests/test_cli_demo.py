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
