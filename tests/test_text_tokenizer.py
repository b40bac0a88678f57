"""The tokenizer's rules and the vocabulary's ids, padding and JSON file."""

import json

import numpy as np
import pytest

from ippo.text import PAD, UNK, Tokenizer, Vocabulary, add_ngrams, tokenize


@pytest.mark.parametrize("text, tokens", [
    ("Kanye West's 'Yeezus' Tour: $19M",
     ["kanye", "west", "'s", "'", "yeezus", "'", "tour", ":", "$", "19m"]),
    ("Fitch Affirms Ukraine's City of Kyiv at 'CCC'",
     ["fitch", "affirms", "ukraine", "'s", "city", "of", "kyiv", "at", "'", "ccc", "'"]),
    ("Stocks up 2.5% on 1,000 deals", ["stocks", "up", "2.5", "%", "on", "1,000", "deals"]),
    ("TIMELINE-The FX \"fixing\" scandal",
     ["timeline", "-", "the", "fx", '"', "fixing", '"', "scandal"]),
    ("Swift’s new album isn't out", ["swift", "’s", "new", "album", "isn", "'t", "out"]),
    ("'sorry' said the U.S.", ["'", "sorry", "'", "said", "the", "u", ".", "s", "."]),
    ("  spaces\tand\ttabs  ", ["spaces", "and", "tabs"]),
    ("", []),
])
def test_tokenize_rules(text, tokens):
    assert tokenize(text) == tokens


def test_punctuation_can_be_left_out():
    text = "Kanye West's 'Yeezus': $19M, 2.5% up!"
    assert tokenize(text, punctuation=False) == ["kanye", "west", "'s", "yeezus", "19m", "2.5",
                                                 "up"]
    tok = Tokenizer(punctuation=False, ngrams=2)
    assert tok("Ebola: outbreak!") == ["ebola", "outbreak", "ebola outbreak"]
    assert Tokenizer(**tok.config()) == tok != Tokenizer(ngrams=2)


def test_lower_is_optional_and_the_same_rules_apply():
    assert tokenize("Apple's iPhone", lower=False) == ["Apple", "'s", "iPhone"]
    tok = Tokenizer(lower=False)
    assert tok("Apple's iPhone") == ["Apple", "'s", "iPhone"]
    with pytest.raises(ValueError, match="str"):
        tokenize(["not", "a", "str"])


def test_ngrams_follow_the_words():
    assert add_ngrams(["a", "b", "c"], 2) == ["a", "b", "c", "a b", "b c"]
    assert add_ngrams(["a", "b", "c"], 3) == ["a", "b", "c", "a b", "b c", "a b c"]
    assert add_ngrams(["a"], 2) == ["a"]
    tok = Tokenizer(ngrams=2)
    assert tok("Ebola outbreak") == ["ebola", "outbreak", "ebola outbreak"]
    assert tok.words("Ebola outbreak") == ["ebola", "outbreak"]
    assert Tokenizer(**tok.config()) == tok
    with pytest.raises(ValueError, match="ngrams"):
        Tokenizer(ngrams=0)


TEXTS = [["b", "a", "c", "a"], ["c", "a", "d"], ["e", "a", "c"]]   # a:4 c:3 b:1 d:1 e:1


def test_vocabulary_orders_by_count_then_first_appearance():
    v = Vocabulary.build(TEXTS)
    assert v.words == [PAD, UNK, "a", "c", "b", "d", "e"]
    assert v.counts == [4, 3, 1, 1, 1]
    assert v["a"] == 2 and v["zzz"] == 1 and v[PAD] == 0
    assert "a" in v and "zzz" not in v and PAD not in v and UNK not in v
    assert len(v) == 7


def test_min_count_and_max_size():
    assert Vocabulary.build(TEXTS, min_count=2).words == [PAD, UNK, "a", "c"]
    assert Vocabulary.build(TEXTS, max_size=3).words == [PAD, UNK, "a", "c", "b"]
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build(TEXTS, min_count=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build(TEXTS, max_size=0)
    with pytest.raises(ValueError, match="tokenize"):
        Vocabulary.build(["a text, not tokens"])


def test_encode_batch_pads_with_zero_and_unknown_is_one():
    v = Vocabulary.build(TEXTS, min_count=2)
    ids = v.encode_batch([["a", "zzz", "c"], ["c"], []])
    np.testing.assert_array_equal(ids, [[2, 1, 3], [3, 0, 0], [0, 0, 0]])
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(v.encode_batch([["a", "a", "c"]], max_len=2), [[2, 2]])
    assert v.decode([2, 1, 3, 0, 0]) == ["a", UNK, "c"]
    assert v.coverage([["a", "zzz"], ["c", "c"]]) == 0.75


def test_save_and_load_keep_words_counts_and_tokenizer(tmp_path):
    tok = Tokenizer(lower=False, ngrams=2)
    v = Vocabulary.build([tok("Ebola hits Guinea"), tok("Ebola spreads")], tokenizer=tok)
    path = v.save(tmp_path / "vocab.json")
    d = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert d["words"][:2] == ["Ebola", "hits"]
    assert d["tokenizer"] == {"lower": False, "ngrams": 2, "punctuation": True}
    back = Vocabulary.load(path)
    assert back.words == v.words and back.counts == v.counts and back.tokenizer == tok
    np.testing.assert_array_equal(back.encode_texts(["Ebola hits"]),
                                  v.encode_batch([tok("Ebola hits")]))
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not an ippo vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad JSON"):
        Vocabulary.load(tmp_path / "bad.json")


def test_vocabulary_refuses_duplicates_and_reserved_words():
    with pytest.raises(ValueError, match="twice"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="<pad>"):
        Vocabulary([PAD])
    with pytest.raises(ValueError, match="no tokenizer"):
        Vocabulary(["a"]).encode_texts(["a"])
