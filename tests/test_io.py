"""ippo.io.write_atomically, step by step: a temporary file in the same folder, flushed and
fsynced, renamed over the target with os.replace, the folder fsynced; a crash at any step
leaves the old file whole and no temporary file; errors name the user's file."""

import os
import stat

import pytest

from ippo import io as ippo_io
from ippo.io import write_atomically


class Spy:
    """Records the calls of os.fsync and os.replace (in order) and can fail one of them."""

    def __init__(self, monkeypatch, fail=None):
        self.calls, self.fail = [], fail
        self.real_fsync, self.real_replace = os.fsync, os.replace
        monkeypatch.setattr(ippo_io.os, "fsync", self.fsync)
        monkeypatch.setattr(ippo_io.os, "replace", self.replace)

    def fsync(self, fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        self.calls.append(("fsync", kind))
        if self.fail == f"fsync {kind}":
            raise OSError(5, "Input/output error")
        return self.real_fsync(fd)

    def replace(self, src, dst):
        self.calls.append(("replace", os.fspath(src), os.fspath(dst)))
        if self.fail == "replace":
            raise OSError(28, "No space left on device", src)
        return self.real_replace(src, dst)


def test_the_file_is_fsynced_then_renamed_over_the_target_then_the_folder_fsynced(
        tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    spy = Spy(monkeypatch)
    assert write_atomically(target, lambda f: f.write(b"new contents")) == os.fspath(target)
    tmp = spy.calls[1][1]
    assert os.path.dirname(tmp) == os.fspath(tmp_path)  # the same folder: a rename, no copy
    assert os.path.basename(tmp).startswith(".tmp-")
    assert spy.calls == [("fsync", "file"), ("replace", tmp, os.fspath(target)),
                         ("fsync", "dir")]
    assert target.read_bytes() == b"new contents" and not os.path.exists(tmp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize("step", ["write", "fsync file", "replace"])
def test_a_crash_at_any_step_leaves_the_old_file_and_no_temporary_one(step, tmp_path,
                                                                      monkeypatch):
    target = tmp_path / "history.json"
    target.write_bytes(b"the old history")
    Spy(monkeypatch, fail=step)

    def write(f):
        f.write(b"half of the ne")
        if step == "write":
            raise KeyboardInterrupt  # Ctrl-C while writing

    with pytest.raises((OSError, KeyboardInterrupt)) as exc:
        write_atomically(target, write)
    assert target.read_bytes() == b"the old history"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json"]
    assert ".tmp-" not in str(exc.value)  # the message names the user's file
    if step == "replace":
        assert exc.value.filename == os.fspath(target)


def test_a_failed_folder_fsync_after_the_rename_is_not_an_error(tmp_path, monkeypatch):
    # some platforms cannot fsync a folder: the file itself is complete and in place
    Spy(monkeypatch, fail="fsync dir")
    write_atomically(tmp_path / "a.txt", lambda f: f.write(b"x"))
    assert (tmp_path / "a.txt").read_bytes() == b"x"


def test_a_temporary_file_that_cannot_be_made_is_reported_by_the_users_name(tmp_path,
                                                                           monkeypatch):
    def denied(**kwargs):
        raise PermissionError(13, "Permission denied", os.path.join(kwargs["dir"], ".tmp-ab"))

    monkeypatch.setattr(ippo_io.tempfile, "mkstemp", denied)
    with pytest.raises(PermissionError) as exc:
        write_atomically(tmp_path / "p.csv", lambda f: f.write(b"x"))
    assert exc.value.filename == os.fspath(tmp_path / "p.csv")
    assert ".tmp-" not in str(exc.value)


def test_a_link_keeps_pointing_at_its_replaced_file(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_atomically(link, lambda f: f.write(b"new"))
    assert link.is_symlink() and real.read_text() == "new"


def test_a_pipe_is_written_in_place_not_replaced(tmp_path):
    # a named pipe stands for a device (-o /dev/stdout): renaming a regular file over it
    # would replace it (tested on a pipe of our own: a regression must not harm /dev)
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomically(fifo, lambda f: f.write(b"predictions"))
    reader.join(timeout=10)
    assert got == [b"predictions"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
