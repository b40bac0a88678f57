"""Test-session settings: nothing is written into the directory pytest is run from."""

from pathlib import Path

from hypothesis import configuration

# Hypothesis keeps its example database in ./.hypothesis of the current directory; pin it to
# the project root (git ignores it there), so running the tests from elsewhere leaves no trace.
configuration.set_hypothesis_home_dir(Path(__file__).resolve().parent.parent / ".hypothesis")
