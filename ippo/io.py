"""ippo's files: the atomic writer and the pickle-free ``.npz`` + JSON format.

Every file ippo writes goes through ``write_atomically`` (a temporary file in the same folder,
flushed, fsynced and renamed over the target), so a crash never leaves half a file. Model
files and checkpoints are one ``.npz`` archive: the arrays under their names plus
``__meta__``, a uint8 array holding a UTF-8 JSON description. ``read_npz`` loads them with
``allow_pickle=False``: reading a file never runs code.

- ``write_atomically(path, write, suffix)``: create or replace any file atomically.
- ``save_npz(path, arrays, meta)`` / ``read_npz(path) -> (meta, arrays)``: the format.
- ``save_checkpoint(path, state)`` / ``load_checkpoint(path)``: a nested dict of arrays and
  JSON-able values (a training checkpoint) in that format.
"""

import json
import os
import stat
import tempfile
import zipfile

import numpy as np

__all__ = ["write_atomically", "save_npz", "read_npz", "save_checkpoint", "load_checkpoint",
           "META_KEY", "CHECKPOINT_FORMAT"]

#: The name of the JSON description inside every ippo ``.npz`` file.
META_KEY = "__meta__"
#: Written into every checkpoint; ``load_checkpoint`` refuses anything else.
CHECKPOINT_FORMAT = 1


def _read_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, briefly).
_UMASK = _read_umask()


def save_npz(path, arrays, meta, *, json_default=None, allow_nan=False):
    """Write ``arrays`` and the JSON ``meta`` to one .npz file at ``path``, atomically.

    The file is written to a temporary file in the same directory, flushed and fsynced, and
    renamed over ``path`` only when complete (then the folder is fsynced too, where the
    platform allows), so a crash never leaves a half-written file behind. The file gets a
    normal file's permissions (``0o666`` less the umask), not the temporary file's private
    ``0o600``. ``json_default`` and ``allow_nan`` are passed to ``json.dumps``; the model
    files keep ``allow_nan=False`` (strict JSON), checkpoints allow NaN in their history.
    This is the one writer of ippo's files: models and ``training.save_checkpoint`` use it.
    """
    try:
        text = json.dumps(meta, allow_nan=allow_nan, default=json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save: the description (and extra) must be JSON-able: {exc}") from None
    if META_KEY in arrays:
        raise ValueError(f"save: {META_KEY!r} is reserved")
    payload = {META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    return write_atomically(path, lambda f: np.savez(f, **payload, **arrays), suffix=".npz")


def write_atomically(path, write, suffix=""):
    """Create or replace the file ``path`` atomically: ``write(f)`` fills a binary file.

    ``write`` gets a temporary file opened for binary writing in the same directory; when it
    returns, the file is flushed, fsynced and renamed over ``path`` (``os.replace``), then
    the folder is fsynced where the platform allows, so a crash at any moment leaves either
    the old file or the complete new one, never half a file. If ``write`` raises, the
    temporary file is removed and ``path`` is untouched; errors name ``path``, never the
    temporary file. A symbolic link to a file has its file replaced (the link stays); a
    device or a pipe (``/dev/stdout``) is written in place. The file gets a normal file's
    permissions (``0o666`` less the umask), not the temporary file's private ``0o600``.
    Used by ``save_npz`` (models, checkpoints) and ``training.History.plot``.
    """
    path = given = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path) and (not stat.S_ISREG(
            os.stat(path).st_mode) or os.path.abspath(path).startswith("/dev/")):
        # a device or a pipe (-o /dev/stdout, also when the shell sent it to a file):
        # written in place; renaming a new file over it would replace the device itself
        with open(path, "wb") as f:
            write(f)
        return given
    if os.path.islink(path) and os.path.isfile(path):
        path = os.path.realpath(path)  # a link to a file: write the file, keep the link
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):  # else the rename's error would name the temporary file
        raise IsADirectoryError(f"cannot write {given}: it is a folder; give a file name such "
                                f"as {os.path.join(given, 'name' + suffix)}")
    if not os.path.isdir(directory):  # else mkstemp's error would name the temporary file
        raise FileNotFoundError(f"cannot write {given}: the folder {directory} does not exist "
                                f"(create it first, e.g. os.makedirs)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    except OSError as exc:  # e.g. a folder the user may not write in: name their file
        raise _named(exc, given) from None
    try:
        try:  # mkstemp makes the file private (0600); give it a normal file's permissions
            os.chmod(tmp, 0o666 & ~_UMASK)
        except OSError:
            pass
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename is not None and os.path.basename(
                os.fsdecode(exc.filename)).startswith(".tmp-"):
            raise _named(exc, given) from None  # (a full disk) named by the user's file
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def _named(exc, path):
    """``exc`` (an OSError about ippo's temporary file) as the same error about ``path``."""
    if exc.errno is None or not exc.strerror:
        return OSError(f"cannot write {path}: {exc}")
    return type(exc)(exc.errno, exc.strerror, path)


def read_npz(path, kind="model file"):
    """Read an ippo .npz file: ``(meta, arrays)`` with every array loaded, never unpickling.

    Raises ``ValueError`` naming the file when it is not a complete ippo file: not an .npz
    archive at all (a pickle is named as such), truncated, corrupt, no ``__meta__``, bad
    JSON, object arrays. ``kind`` names the file in the messages ("model file",
    "checkpoint").
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the ippo {kind}: {exc}") from None
    if head == b"\x93NUMPY":
        raise ValueError(f"{path}: not an ippo {kind} (a single .npy array, not an .npz "
                         f"archive)")
    if not head.startswith(b"PK"):  # an .npz is a zip archive; anything else is not ours
        what = ("it is a Python pickle, which ippo never loads: unpickling can run code"
                if head[:1] == b"\x80" else "not an .npz archive")
        raise ValueError(f"{path}: not an ippo {kind} ({what})")
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            if META_KEY not in names:
                raise ValueError(f"no {META_KEY!r} entry (not written by ippo)")
            arrays = {name: data[name] for name in names}
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid ippo {kind}: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a valid ippo {kind} (truncated or corrupt: "
                         f"{type(exc).__name__}: {exc})") from None
    except Exception as exc:  # zlib.error and other decoder errors of a corrupt archive
        raise ValueError(f"{path}: not a valid ippo {kind} (corrupt: "
                         f"{type(exc).__name__}: {exc})") from None
    raw = arrays.pop(META_KEY)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"{META_KEY} must be a 1-D uint8 array, got {raw.dtype} {raw.shape}")
        meta = json.loads(raw.tobytes().decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("the description is not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid ippo {kind}: bad {META_KEY}: {exc}") from None
    return meta, arrays


# --------------------------------------------------------------------------- checkpoints


def _flatten(prefix, d, arrays, meta):
    """Split a nested dict into arrays (``prefix/key`` names) and JSON-able scalars."""
    for k, v in d.items():
        name = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            sub_meta = {}
            _flatten(name, v, arrays, sub_meta)
            meta[k] = {"__dict__": sub_meta}
        elif isinstance(v, np.ndarray):
            arrays[name] = v
            meta[k] = {"__array__": name}
        elif isinstance(v, np.generic):
            meta[k] = v.item()
        else:
            meta[k] = v


def _unflatten(meta, z):
    out = {}
    for k, v in meta.items():
        if isinstance(v, dict) and "__array__" in v:
            out[k] = z[v["__array__"]]
        elif isinstance(v, dict) and "__dict__" in v:
            out[k] = _unflatten(v["__dict__"], z)
        else:
            out[k] = v
    return out


def save_checkpoint(path, state):
    """Write ``state`` (a nested dict of arrays and JSON-able values) to ``path`` atomically.

    The arrays go into an ``.npz`` under their slash-joined key paths; everything else into a
    JSON string stored as the uint8 array ``__meta__``. Written by ``save_npz``, the
    one atomic writer: a temporary file in the same directory, flushed and fsynced, renamed
    over ``path``; the file gets normal (umask) permissions.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays, meta = {}, {}
    _flatten("", state, arrays, meta)
    save_npz(path, arrays, {"format": CHECKPOINT_FORMAT, "state": meta},
             json_default=_json_scalar, allow_nan=True)


def _json_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"checkpoint: cannot store a {type(value).__name__} (arrays, numbers, "
                    f"strings, lists and dicts only)")


def load_checkpoint(path):
    """Read what ``save_checkpoint`` wrote (``allow_pickle=False``): the nested dict.

    A truncated, corrupt or foreign file raises one ``ValueError`` naming the file and why
    (``read_npz``).
    """
    meta, arrays = read_npz(path, kind="checkpoint")
    if meta.get("format") != CHECKPOINT_FORMAT or not isinstance(meta.get("state"), dict):
        raise ValueError(
            f"{os.fspath(path)}: checkpoint format {meta.get('format')!r} is not supported "
            f"(expected {CHECKPOINT_FORMAT})"
        )
    return _unflatten(meta["state"], arrays)
