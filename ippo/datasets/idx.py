"""A reader for the IDX file format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by raw big-endian numbers::

    byte 0, 1   zero
    byte 2      element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte 3      number of dimensions d
    4·d bytes   the size of each dimension, big-endian uint32
    the rest    prod(sizes) elements, row-major

So ``train-images-idx3-ubyte`` starts with ``00 00 08 03`` (magic 0x00000803) then
60000, 28, 28. The reader checks all of it and reads the body with one ``np.frombuffer``
(no Python loop): a truncated, padded or foreign file gives a ``ValueError`` that says what
was expected and what was found. Gzip-compressed files are recognised by their first two
bytes (``1f 8b``), whatever their name.
"""

import gzip
import math
import os
import zlib

import numpy as np

from ippo.io import write_atomically

#: IDX element type code -> big-endian NumPy dtype.
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path):
    """The contents of ``path``, decompressed when the file is gzip (detected by content)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({exc})") from None
    return data


def parse_idx(data, name="<bytes>"):
    """Parse the bytes of an IDX file into a NumPy array (native byte order)."""
    data = memoryview(data)
    if len(data) < 4:
        raise ValueError(f"{name}: not an IDX file: only {len(data)} bytes, the header needs 4")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{name}: not an IDX file: magic number 0x{magic:08X}, expected 0x0000TTDD with "
            f"type TT in {{08, 09, 0B, 0C, 0D, 0E}} and DD >= 1 dimensions "
            f"(MNIST images: 0x00000803, labels: 0x00000801)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
                         f"the file has {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no int64 overflow
    found = len(data) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: IDX file {what}: header says shape {shape} of {dtype.name} "
            f"({expected} bytes of data), found {found} bytes"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr if dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def read_idx(path, expect_ndim=None):
    """Read an IDX file (optionally gzip-compressed) into a NumPy array.

    ``expect_ndim`` (e.g. 3 for images, 1 for labels) makes a file of another rank an error.
    The returned array is read-only when it is a view on the file's bytes (uint8 data).
    """
    arr = parse_idx(read_bytes(path), name=os.fspath(path))
    if expect_ndim is not None and arr.ndim != expect_ndim:
        raise ValueError(f"{os.fspath(path)}: expected an IDX file with {expect_ndim} "
                         f"dimension(s), found {arr.ndim} (shape {arr.shape})")
    return arr


def write_idx(path, arr, compress=None):
    """Write ``arr`` as an IDX file (gzip when ``compress`` or when ``path`` ends in .gz).

    The inverse of :func:`read_idx`; used by the tests to build small and broken files.
    """
    arr = np.asarray(arr)
    codes = {v.newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: dtype {arr.dtype} has no IDX type code")
    head = bytes([0, 0, code, arr.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in arr.shape)
    body = arr.astype(IDX_TYPES[code], copy=False).tobytes()
    data = head + body
    path = os.fspath(path)
    if compress or (compress is None and path.endswith(".gz")):
        data = gzip.compress(data, compresslevel=1)
    write_atomically(path, lambda f: f.write(data))
