"""Word vectors: read and write the word2vec and GloVe files, look words up, average them.

Three file formats are read, told apart by their first bytes (``format="auto"``):

- **word2vec text**: a header line ``COUNT DIM``, then one line per word: the word and DIM
  decimals, separated by spaces.
- **word2vec binary** (the C tool's ``-binary 1``, gensim's ``binary=True``, the GoogleNews
  file): the same header line, then per word its UTF-8 bytes, one space and DIM
  little-endian float32 values (usually followed by a newline).
- **GloVe text**: word2vec text without the header line.

``load_word_vectors(path, limit=N)`` keeps the first N words only (the big files are sorted
by frequency, so this keeps the commonest and bounds memory). A malformed file (truncated,
counts that disagree with the header, a line with the wrong number of values, bytes that are
not UTF-8, NaN) raises one ``ValueError`` naming the file and the line (for the binary
format: the word's number and byte offset).
"""

import math
import os
import warnings

import numpy as np

from ippo.backend import xp

__all__ = ["WordVectors", "load_word_vectors", "average_word_vectors", "FORMATS"]

#: The formats ``load_word_vectors`` reads (``format=``), and "auto" to detect them.
FORMATS = ("word2vec-text", "word2vec-binary", "glove")


class WordVectors:
    """Words with one vector each: ``vectors["king"]`` (a float32 row), ``"king" in
    vectors``, ``len(vectors)``, ``vectors.dim``.

    A word that is missing as written is looked up lower-cased too ("Apple" finds
    "apple"). ``matrix`` is the (len, dim) float32 array, ``words`` the list of words in its
    row order, ``index`` the dict word → row. ``most_similar`` ranks words by cosine
    similarity; ``save`` writes the word2vec text (or binary) format.
    """

    def __init__(self, words, matrix, source=None):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"WordVectors: matrix must be 2-D (words, dim), got shape "
                             f"{matrix.shape}")
        words = list(words)
        if len(words) != len(matrix):
            raise ValueError(f"WordVectors: {len(words)} words but {len(matrix)} vectors")
        self.words = words
        self.matrix = matrix.astype(np.float32, copy=False)
        self.index = {}
        for i, w in enumerate(words):
            self.index.setdefault(w, i)  # a repeated word keeps its first vector
        #: the file the vectors came from (None when built in memory)
        self.source = source
        self._unit = None

    @property
    def dim(self):
        """The number of dimensions of each vector."""
        return self.matrix.shape[1]

    def row(self, word):
        """The row of ``word`` (or of its lower-case form), or None when neither is known."""
        i = self.index.get(word)
        if i is None:
            i = self.index.get(word.lower())
        return i

    def __getitem__(self, word):
        i = self.row(word)
        if i is None:
            raise KeyError(f"{word!r} has no vector (nor {word.lower()!r})"
                           if word != word.lower() else f"{word!r} has no vector")
        return self.matrix[i]

    def __contains__(self, word):
        return isinstance(word, str) and self.row(word) is not None

    def __len__(self):
        return len(self.words)

    def __repr__(self):
        where = f" from {self.source}" if self.source else ""
        return f"WordVectors({len(self):,} words × {self.dim}{where})"

    def get(self, word, default=None):
        """``vectors[word]``, or ``default`` when the word has no vector."""
        i = self.row(word)
        return default if i is None else self.matrix[i]

    def most_similar(self, word, topn=10):
        """The ``topn`` words nearest to ``word`` (a word or a vector) by cosine similarity
        cos(a, b) = a·b / (‖a‖‖b‖), as ``[(word, similarity), ...]``, best first (the word
        itself left out)."""
        if self._unit is None:
            norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
            self._unit = self.matrix / np.maximum(norms, 1e-12)
        skip = None
        if isinstance(word, str):
            skip = self.row(word)
            if skip is None:
                raise KeyError(f"{word!r} has no vector")
            query = self._unit[skip]
        else:
            query = np.asarray(word, dtype=np.float32)
            if query.shape != (self.dim,):
                raise ValueError(f"most_similar: expected a word or a vector of shape "
                                 f"({self.dim},), got shape {query.shape}")
            query = query / max(float(np.linalg.norm(query)), 1e-12)
        sims = self._unit @ query
        if skip is not None:
            sims[skip] = -np.inf
        topn = min(int(topn), len(self) - (skip is not None))
        best = np.argpartition(-sims, topn - 1)[:topn] if topn > 0 else np.arange(0)
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.words[i], float(sims[i])) for i in best]

    def save(self, path, binary=False):
        """Write the vectors in the word2vec text format (``binary=True``: the binary one),
        atomically. Every value is written as the shortest decimal that reads back as the
        same float32, so a text file round-trips exactly."""
        from ippo.io import write_atomically

        for w in self.words:
            if not w or any(c.isspace() for c in w):
                raise ValueError(f"save: the word {w!r} is empty or holds white space, which "
                                 f"the word2vec format cannot store")
        header = f"{len(self)} {self.dim}\n".encode("ascii")

        def write(f):
            f.write(header)
            for w, v in zip(self.words, self.matrix, strict=True):
                if binary:
                    f.write(w.encode("utf-8") + b" " + v.astype("<f4").tobytes() + b"\n")
                else:
                    vals = " ".join(np.format_float_positional(x, unique=True, trim="-")
                                    for x in v)
                    f.write(f"{w} {vals}\n".encode())

        return write_atomically(path, write)


# --------------------------------------------------------------------------- reading


class _Reader:
    """Reads one vectors file; ``error(where, what)`` builds the one-line message."""

    def __init__(self, path, limit):
        self.path = os.fspath(path)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise ValueError(f"load_word_vectors: limit must be None or an integer >= 1, "
                             f"got {limit!r}")
        self.limit = limit

    def error(self, where, what):
        return ValueError(f"{self.path}{', ' + where if where else ''}: {what}")

    # ------------------------------------------------------------------ detection

    def detect(self, f):
        """The format of the open binary file ``f`` (left at its start)."""
        head = f.read(1 << 16)
        f.seek(0)
        if not head.strip():
            raise self.error("", "the file is empty, not a word-vector file")
        first, _, rest = head.partition(b"\n")
        header = _header(first)
        if header is None:
            return "glove"
        # in the text format the next line is a word and decimals (``read_text`` checks
        # their number against the header); in the binary format 4·dim raw bytes follow the
        # word, which do not read as UTF-8 decimals
        line = rest.split(b"\n", 1)[0]
        try:
            parts = line.decode("utf-8").rstrip().split(" ")
            if len(parts) >= 2 and all(_is_number(p) for p in parts[1:]):
                return "word2vec-text"
        except UnicodeDecodeError:
            pass
        return "word2vec-binary"

    # ------------------------------------------------------------------ text formats

    def read_text(self, f, has_header):
        count = dim = None
        lineno = 0
        if has_header:
            lineno = 1
            count, dim = self._checked_header(f.readline())
        n_max = count if self.limit is None else min(count or self.limit, self.limit)
        words, rows = [], []
        for raw in f:
            lineno += 1
            if self.limit is not None and len(words) >= self.limit:
                break
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self.error(f"line {lineno}", f"not UTF-8 text (byte "
                                 f"{raw[exc.start]:#04x} at column {exc.start + 1})") from None
            line = line.rstrip("\r\n").rstrip(" ")
            if not line.strip():
                continue  # a blank line (e.g. at the end) holds no word
            if count is not None and len(words) >= count:
                raise self.error(f"line {lineno}", f"more vectors than the {count} the header "
                                 f"line announces")
            parts = line.split(" ")
            if dim is None:  # GloVe: the first line decides the dimension
                dim = len(parts) - 1
                if dim < 1:
                    raise self.error(f"line {lineno}", "expected a word followed by numbers "
                                     "(GloVe format), got one field")
            if len(parts) != dim + 1:
                if len(parts) > dim + 1:  # a word holding spaces (some GloVe files have them)
                    parts = [" ".join(parts[:len(parts) - dim])] + parts[len(parts) - dim:]
                else:
                    raise self.error(f"line {lineno}", f"expected the word and {dim} values, "
                                     f"got {len(parts) - 1} values after {parts[0]!r}"
                                     + (" (the header says " + str(dim) + " dimensions)"
                                        if has_header else ""))
            try:
                vec = np.array(parts[1:], dtype=np.float32)
            except ValueError:
                bad = next(p for p in parts[1:] if not _is_number(p))
                raise self.error(f"line {lineno}", f"{bad!r} is not a number "
                                 f"(the vector of {parts[0]!r})") from None
            if not np.isfinite(vec).all():
                raise self.error(f"line {lineno}", f"the vector of {parts[0]!r} holds NaN or "
                                 f"infinite values")
            words.append(parts[0])
            rows.append(vec)
        if not words:
            raise self.error("", "no word vectors in the file")
        if n_max is not None and len(words) < n_max:
            raise self.error(f"line {lineno + 1}", f"the file ends after {len(words)} vectors "
                             f"but the header line announces {count} (truncated?)")
        return words, np.stack(rows)

    def _checked_header(self, line):
        header = _header(line.rstrip(b"\r\n"))
        if header is None:
            raise self.error("line 1", "expected the header line 'COUNT DIM' of the word2vec "
                             "format")
        count, dim = header
        if count < 1 or dim < 1:
            raise self.error("line 1", f"the header announces {count} words of {dim} "
                             f"dimensions; both must be at least 1")
        return count, dim

    # ------------------------------------------------------------------ binary format

    def read_binary(self, f):
        count, dim = self._checked_header(f.readline())
        n = count if self.limit is None else min(count, self.limit)
        record = 4 * dim
        matrix = np.empty((n, dim), dtype=np.float32)
        words = []
        buf = f.read(1 << 20)
        pos = 0
        offset = f.tell() - len(buf)  # the file offset of buf[0]
        for k in range(n):
            # the word: bytes up to a space (a newline before it belongs to the last record)
            while True:
                space = buf.find(b" ", pos)
                if space >= 0 and space + 1 + record <= len(buf):
                    break
                more = f.read(1 << 20)
                if not more:
                    where = f"word {k + 1} (byte {offset + pos})"
                    raise self.error(where, f"the file ends inside the vector of word "
                                     f"{k + 1} of the {count} the header line announces "
                                     f"(truncated?)")
                offset += pos
                buf = buf[pos:] + more
                pos = 0
            raw = buf[pos:space].lstrip(b"\n")
            try:
                word = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self.error(f"word {k + 1} (byte {offset + pos})",
                                 f"the word {raw[:40]!r} is not UTF-8 (or the header's "
                                 f"dimension {dim} is wrong)") from None
            if not word or b"\n" in raw:
                raise self.error(f"word {k + 1} (byte {offset + pos})",
                                 "expected a word before the vector (is the header's "
                                 "dimension right?)")
            words.append(word)
            matrix[k] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
            pos = space + 1 + record
        if self.limit is None or n == count:
            rest = buf[pos:] + f.read()
            if rest.strip():
                raise self.error(f"byte {offset + pos}", f"more data after the {count} "
                                 f"vectors the header line announces")
        bad = ~np.isfinite(matrix).all(axis=1)
        if bad.any():
            k = int(np.argmax(bad))
            raise self.error(f"word {k + 1}", f"the vector of {words[k]!r} holds NaN or "
                             f"infinite values (is the header's dimension right?)")
        return words, matrix


def _header(line):
    """``(count, dim)`` when ``line`` (bytes) is a word2vec header line, else None."""
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_word_vectors(path, limit=None, format="auto"):
    """The word vectors in the file ``path`` as a ``WordVectors``.

    ``format``: "auto" (detected from the first line: a ``COUNT DIM`` header means word2vec,
    text or binary by what follows; otherwise GloVe), "word2vec-text", "word2vec-binary" or
    "glove". ``limit``: read only the first ``limit`` words. A word that appears twice keeps
    its first vector (with a warning).
    """
    reader = _Reader(path, limit)
    if format not in ("auto",) + FORMATS:
        raise ValueError(f"load_word_vectors: format must be 'auto' or one of "
                         f"{', '.join(FORMATS)}, got {format!r}")
    if os.path.isdir(reader.path):
        raise IsADirectoryError(f"{reader.path}: is a folder, not a word-vector file")
    with open(reader.path, "rb") as f:
        fmt = reader.detect(f) if format == "auto" else format
        if fmt == "word2vec-binary":
            words, matrix = reader.read_binary(f)
        else:
            words, matrix = reader.read_text(f, has_header=fmt == "word2vec-text")
    vectors = WordVectors(words, matrix, source=reader.path)
    vectors.format = fmt
    if len(vectors.index) < len(words):
        warnings.warn(f"{reader.path}: {len(words) - len(vectors.index)} words appear more "
                      f"than once; each keeps its first vector", stacklevel=2)
    return vectors


# --------------------------------------------------------------------------- features


def average_word_vectors(texts, vectors, tokenizer=None):
    """Exercise 70's features: each text as the mean of the vectors of its tokens.

    ``texts``: strings (cut by ``tokenizer``, default ``Tokenizer()``) or lists of tokens.
    A token without a vector (also after lower-casing) is skipped; a text none of whose
    tokens has one gets the zero vector. Returns ``(X, n_empty)``: X of shape
    (len(texts), vectors.dim), float32, and the number of those zero rows.
    """
    from ippo import functions as F
    from ippo.text.tokenizer import Tokenizer

    if isinstance(texts, str):
        raise ValueError("average_word_vectors: expected a list of texts, got one str")
    if not isinstance(vectors, WordVectors):
        raise ValueError(f"average_word_vectors: vectors must be a WordVectors (from "
                         f"load_word_vectors or train_word2vec), got {type(vectors).__name__}")
    tokenizer = Tokenizer() if tokenizer is None else tokenizer
    rows = []
    for text in texts:
        tokens = tokenizer(text) if isinstance(text, str) else text
        rows.append([i for i in map(vectors.row, tokens) if i is not None])
    width = max([len(r) for r in rows] + [1])
    ids = np.zeros((len(rows), width), dtype=np.int64)
    known = np.zeros((len(rows), width), dtype=bool)  # False: padding, left out of the mean
    for n, r in enumerate(rows):
        ids[n, :len(r)] = r
        known[n, :len(r)] = True
    weights = F.embedding_bag_weights(xp.asarray(known), dtype=vectors.matrix.dtype)
    X = F.embedding_bag(xp.asarray(vectors.matrix), xp.asarray(ids), weights)
    n_empty = sum(1 for r in rows if not r)
    return X, n_empty


def cosine_similarity(a, b):
    """cos(a, b) = a·b / (‖a‖‖b‖) of two vectors (0 when either is zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = math.sqrt(float(a @ a)), math.sqrt(float(b @ b))
    return float(a @ b) / (na * nb) if na and nb else 0.0
