"""Word vectors: the three file formats (written here by hand, byte for byte), the shared
files agreeing, lookups, nearest neighbours, averaged features, and every malformed file
giving one error that names the file and the line."""

import struct

import numpy as np
import pytest

from ippo.datasets import find_data_dir
from ippo.text import Tokenizer, WordVectors, average_word_vectors, load_word_vectors

WORDS = ["the", "Apple", "apple", "ebola", "€uro"]
M = np.array([[0.5, -1.0, 0.25],
              [1.0, 0.0, 0.0],
              [0.0, 1.0, 0.0],
              [0.0, 0.0, -2.0],
              [1.5, 1.5, 1e-3]], dtype=np.float32)


def _text_lines(words=WORDS, matrix=M):
    return [w + " " + " ".join(repr(float(v)) for v in row) for w, row in zip(words, matrix,
                                                                             strict=True)]


def write_w2v_text(path, words=WORDS, matrix=M, header=None):
    header = header or f"{len(words)} {matrix.shape[1]}"
    path.write_text(header + "\n" + "\n".join(_text_lines(words, matrix)) + "\n",
                    encoding="utf-8")
    return path


def write_glove(path, words=WORDS, matrix=M):
    path.write_text("\n".join(_text_lines(words, matrix)) + "\n", encoding="utf-8")
    return path


def write_w2v_binary(path, words=WORDS, matrix=M, header=None):
    header = header or f"{len(words)} {matrix.shape[1]}"
    data = header.encode() + b"\n"
    for w, row in zip(words, matrix, strict=True):
        data += w.encode("utf-8") + b" " + struct.pack(f"<{len(row)}f", *row) + b"\n"
    path.write_bytes(data)
    return path


WRITERS = {"word2vec-text": write_w2v_text, "word2vec-binary": write_w2v_binary,
           "glove": write_glove}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format_is_detected_and_read_exactly(tmp_path, fmt):
    v = load_word_vectors(WRITERS[fmt](tmp_path / "v"))
    assert v.format == fmt
    assert v.words == WORDS and v.dim == 3 and len(v) == 5
    np.testing.assert_array_equal(v.matrix, M)
    assert v.matrix.dtype == np.float32
    np.testing.assert_array_equal(v["€uro"], M[4])


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_limit_keeps_the_first_words(tmp_path, fmt):
    v = load_word_vectors(WRITERS[fmt](tmp_path / "v"), limit=2)
    assert v.words == ["the", "Apple"]
    np.testing.assert_array_equal(v.matrix, M[:2])


def test_lookups_and_the_lower_case_fallback():
    v = WordVectors(WORDS, M)
    np.testing.assert_array_equal(v["Apple"], M[1])      # as written first
    np.testing.assert_array_equal(v["APPLE"], M[2])      # then lower-cased
    np.testing.assert_array_equal(v["Ebola"], M[3])
    assert "EBOLA" in v and "apple" in v and "banana" not in v and 3 not in v
    with pytest.raises(KeyError, match="banana"):
        v["Banana"]
    assert v.get("banana") is None


def test_most_similar_ranks_by_cosine():
    v = WordVectors(["a", "b", "c", "d"], np.array([[1, 0], [2, 0.2], [0, 1], [-1, 0]],
                                                   dtype=np.float32))
    near = v.most_similar("a", 3)
    assert [w for w, _ in near] == ["b", "c", "d"]
    assert near[0][1] == pytest.approx(2 / np.hypot(2, 0.2), abs=1e-6)
    assert near[1][1] == pytest.approx(0.0, abs=1e-7) and near[2][1] == pytest.approx(-1.0)
    assert [w for w, _ in v.most_similar(np.array([0, 2.0]), 1)] == ["c"]


@pytest.mark.parametrize("binary", [False, True])
def test_save_round_trips_exactly(tmp_path, binary):
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 7)).astype(np.float32)
    v = WordVectors(["a", "b", "ç", "d"], m)
    v.save(tmp_path / "out", binary=binary)
    back = load_word_vectors(tmp_path / "out")
    assert back.format == ("word2vec-binary" if binary else "word2vec-text")
    assert back.words == v.words
    np.testing.assert_array_equal(back.matrix, m)


def test_save_refuses_words_with_spaces(tmp_path):
    with pytest.raises(ValueError, match="white space"):
        WordVectors(["a b"], np.ones((1, 2))).save(tmp_path / "x")


def test_the_shared_binary_and_text_files_agree():
    folder = find_data_dir("wordvec")
    if folder is None:
        pytest.skip("../shared/data/wordvec not found")
    binary = load_word_vectors(folder / "ptb_cbow_100d.w2v.bin")
    text = load_word_vectors(folder / "ptb_cbow_100d.w2v.txt")
    assert (binary.format, text.format) == ("word2vec-binary", "word2vec-text")
    assert len(binary) == len(text) == 10_000 and binary.dim == text.dim == 100
    assert binary.words == text.words
    assert binary.words[:3] == ["aer", "banknote", "berlitz"]          # SOURCE.md's order
    np.testing.assert_array_equal(binary.matrix, text.matrix)
    near = [w for w, _ in binary.most_similar("year", 5)]
    assert near == ["month", "week", "spring", "summer", "decade"]     # SOURCE.md


def test_average_word_vectors_skips_unknown_tokens_and_counts_empty_texts():
    v = WordVectors(WORDS, M)
    texts = ["The apple", "EBOLA ebola zzz", "nothing known", "apple !"]
    X, n_empty = average_word_vectors(texts, v)
    assert X.shape == (4, 3) and X.dtype == np.float32 and n_empty == 1
    np.testing.assert_allclose(X[0], (M[0] + M[2]) / 2)    # "the" and "apple"
    np.testing.assert_allclose(X[1], M[3])                 # both ebolas, zzz skipped
    np.testing.assert_array_equal(X[2], np.zeros(3))
    np.testing.assert_allclose(X[3], M[2])                 # "!" has no vector
    # token lists are taken as they are (no lower-casing by a tokenizer): "Apple" is row 1
    X, _ = average_word_vectors([["Apple"]], v)
    np.testing.assert_allclose(X[0], M[1])
    X, _ = average_word_vectors(["The Apple"], v, Tokenizer(lower=False))
    np.testing.assert_allclose(X[0], (M[0] + M[1]) / 2)


# --------------------------------------------------------------------------- bad files


def _error(path, **kw):
    with pytest.raises(ValueError) as exc:
        load_word_vectors(path, **kw)
    msg = str(exc.value)
    assert str(path) in msg, msg
    return msg


def test_text_file_with_a_short_line_names_the_line(tmp_path):
    p = tmp_path / "v.txt"
    lines = _text_lines()
    lines[2] = "apple 0.0 1.0"                      # one value missing, line 4 of the file
    p.write_text("5 3\n" + "\n".join(lines) + "\n")
    msg = _error(p)
    assert "line 4" in msg and "3 values" in msg and "got 2" in msg


def test_header_counts_that_disagree_with_the_file(tmp_path):
    msg = _error(write_w2v_text(tmp_path / "few.txt", header="6 3"))
    assert "ends after 5 vectors" in msg and "6" in msg
    msg = _error(write_w2v_text(tmp_path / "many.txt", header="4 3"))
    assert "line 6" in msg and "more vectors than the 4" in msg
    msg = _error(write_w2v_text(tmp_path / "dim.txt", header="5 4"))
    assert "line 2" in msg and "4 values" in msg and "got 3" in msg


def test_truncated_binary_names_the_word_and_byte(tmp_path):
    p = write_w2v_binary(tmp_path / "v.bin")
    data = p.read_bytes()
    p.write_bytes(data[:-10])
    msg = _error(p)
    assert "word 5" in msg and "truncated" in msg


def test_binary_with_more_data_than_the_header(tmp_path):
    p = write_w2v_binary(tmp_path / "v.bin", header="4 3")
    msg = _error(p)
    assert "more data after the 4 vectors" in msg


def test_binary_with_a_wrong_dimension_in_the_header(tmp_path):
    # a header of 2 dimensions misreads the records: the words run into the floats
    p = write_w2v_binary(tmp_path / "v.bin", header="5 2")
    assert "dimension 2 is wrong" in _error(p)


def test_non_utf8_text_names_the_line(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"2 2\nok 1 2\nbad\xff 3 4\n")
    msg = _error(p)
    assert "line 3" in msg and "UTF-8" in msg
    p = tmp_path / "v.bin"
    p.write_bytes(b"1 1\nbad\xff " + struct.pack("<f", 1.0) + b"\n")
    msg = _error(p)
    assert "word 1" in msg and "UTF-8" in msg


def test_not_a_number_nan_empty_and_folders(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2\nb 1 x\n")
    msg = _error(p)
    assert "line 2" in msg and "'x' is not a number" in msg
    p.write_text("a 1 2\nb nan 2\n")
    assert "NaN" in _error(p)
    p.write_text("")
    assert "empty" in _error(p)
    p.write_text("0 5\n")
    assert "at least 1" in _error(p)
    with pytest.raises(IsADirectoryError):
        load_word_vectors(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_word_vectors(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="limit"):
        load_word_vectors(p, limit=0)
    with pytest.raises(ValueError, match="format"):
        load_word_vectors(p, format="fasttext")


def test_duplicate_words_keep_the_first_vector_with_a_warning(tmp_path):
    p = write_glove(tmp_path / "g.txt", ["a", "b", "a"], M[:3])
    with pytest.warns(UserWarning, match="1 words appear more than once"):
        v = load_word_vectors(p)
    np.testing.assert_array_equal(v["a"], M[0])
