"""Words into integer ids: the ``Vocabulary`` an ``Embedding`` looks rows up with.

Id 0 is ``<pad>`` (fills the short rows of a padded batch; an embedding bag skips it), id 1
is ``<unk>`` (every word the vocabulary does not know), then the kept words, most frequent
first (ties in order of first appearance, so the same texts always give the same ids)::

    vocab = Vocabulary.build(token_lists, min_count=2, max_size=20000)
    ids = vocab.encode_batch(token_lists)     # (N, L) int32, rows padded with 0
    vocab.save("vocab.json")                  # JSON, never pickle

A vocabulary is saved as JSON (``to_dict`` / ``save``) together with the settings of the
tokenizer that made its words, so that new text is cut and numbered exactly as in training.
"""

import json
import os
from collections import Counter

import numpy as np

from ippo.text.tokenizer import Tokenizer

__all__ = ["Vocabulary", "PAD", "UNK"]

PAD, UNK = "<pad>", "<unk>"
#: Written into every saved vocabulary; ``Vocabulary.load`` refuses anything else.
FILE_FORMAT = "ippo-vocabulary"


class Vocabulary:
    """A list of words with ids: ``<pad>`` = 0, ``<unk>`` = 1, then ``words`` in order.

    ``vocab["word"]`` is the id (``<unk>``'s for an unknown word), ``"word" in vocab``,
    ``len(vocab)`` counts ``<pad>`` and ``<unk>`` too, ``vocab.words[i]`` is the word of id
    i. ``tokenizer`` (optional) is the ``Tokenizer`` the words came from: ``encode_texts``
    uses it, and it is saved with the vocabulary.
    """

    def __init__(self, words, counts=None, tokenizer=None, min_count=1, max_size=None):
        words = [str(w) if isinstance(w, str) else w for w in words]  # numpy's str_ too
        if any(not isinstance(w, str) or not w for w in words):
            raise ValueError("Vocabulary: every word must be a non-empty str")
        if PAD in words or UNK in words:
            raise ValueError(f"Vocabulary: {PAD} and {UNK} are added by the vocabulary itself")
        if len(set(words)) != len(words):
            dup = next(w for w, c in Counter(words).items() if c > 1)
            raise ValueError(f"Vocabulary: the word {dup!r} appears twice")
        if counts is not None and len(counts) != len(words):
            raise ValueError(f"Vocabulary: {len(words)} words but {len(counts)} counts")
        self.words = [PAD, UNK] + words
        self.counts = None if counts is None else [int(c) for c in counts]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.tokenizer = tokenizer
        self.min_count = int(min_count)
        self.max_size = None if max_size is None else int(max_size)

    @classmethod
    def build(cls, token_lists, min_count=1, max_size=None, tokenizer=None):
        """The vocabulary of ``token_lists`` (an iterable of lists of tokens): the words seen
        at least ``min_count`` times, at most ``max_size`` of them (the most frequent), most
        frequent first, ties in order of first appearance."""
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"Vocabulary.build: min_count must be an integer >= 1, "
                             f"got {min_count!r}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < 1):
            raise ValueError(f"Vocabulary.build: max_size must be None or an integer >= 1, "
                             f"got {max_size!r}")
        if isinstance(token_lists, str):
            raise ValueError("Vocabulary.build: expected lists of tokens, got one str "
                             "(tokenize the texts first)")
        counter = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise ValueError("Vocabulary.build: expected lists of tokens, got a str "
                                 "among them (tokenize the texts first)")
            counter.update(tokens)
        counter.pop(PAD, None)
        counter.pop(UNK, None)
        kept = [(w, c) for w, c in counter.most_common() if c >= min_count]
        if max_size is not None:
            kept = kept[:max_size]
        return cls([w for w, _ in kept], [c for _, c in kept], tokenizer=tokenizer,
                   min_count=min_count, max_size=max_size)

    # ------------------------------------------------------------------ lookups

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index and self.index[word] > 1

    def __getitem__(self, word):
        return self.index.get(word, 1)

    def __repr__(self):
        return (f"Vocabulary({len(self.words) - 2:,} words + {PAD}, {UNK}; "
                f"min_count={self.min_count}, max_size={self.max_size})")

    def encode(self, tokens):
        """The ids of ``tokens`` (a list of str), 1 for every unknown token."""
        get = self.index.get
        return [get(w, 1) for w in tokens]

    def decode(self, ids):
        """The words of ``ids`` (padding left out)."""
        return [self.words[int(i)] for i in ids if int(i) != 0]

    def encode_batch(self, token_lists, max_len=None, dtype=np.int32):
        """An (N, L) integer array: row n holds the ids of ``token_lists[n]``, padded with 0
        (``<pad>``) to the longest row, or cut to ``max_len`` tokens. An empty token list
        gives a row of padding (the model sees no word)."""
        rows = [self.encode(tokens) for tokens in token_lists]
        width = max((len(r) for r in rows), default=0)
        if max_len is not None:
            width = min(width, int(max_len))
        out = np.zeros((len(rows), max(width, 1)), dtype=dtype)
        for n, r in enumerate(rows):
            r = r[:width]
            out[n, :len(r)] = r
        return out

    def encode_texts(self, texts, max_len=None):
        """``encode_batch`` of the texts cut by this vocabulary's tokenizer."""
        if self.tokenizer is None:
            raise ValueError("Vocabulary.encode_texts: this vocabulary has no tokenizer; "
                             "tokenize the texts and call encode_batch")
        return self.encode_batch([self.tokenizer(t) for t in texts], max_len=max_len)

    def coverage(self, token_lists):
        """The fraction of the tokens in ``token_lists`` that the vocabulary knows."""
        total = known = 0
        for tokens in token_lists:
            total += len(tokens)
            known += sum(1 for w in tokens if w in self)
        return known / total if total else 0.0

    # ------------------------------------------------------------------ files

    def to_dict(self):
        """A JSON-able description: words (without ``<pad>``/``<unk>``), counts, settings and
        the tokenizer's settings."""
        return {
            "format": FILE_FORMAT,
            "version": 1,
            "tokenizer": None if self.tokenizer is None else self.tokenizer.config(),
            "min_count": self.min_count,
            "max_size": self.max_size,
            "words": self.words[2:],
            "counts": self.counts,
        }

    @classmethod
    def from_dict(cls, d, source="vocabulary"):
        """The vocabulary ``to_dict()`` described; ``ValueError`` naming ``source`` when
        ``d`` is not one."""
        if not isinstance(d, dict) or d.get("format") != FILE_FORMAT:
            raise ValueError(f"{source}: not an ippo vocabulary (format "
                             f"{d.get('format') if isinstance(d, dict) else None!r})")
        try:
            tok = d.get("tokenizer")
            return cls(d["words"], d.get("counts"),
                       tokenizer=None if tok is None else Tokenizer(**tok),
                       min_count=d.get("min_count", 1), max_size=d.get("max_size"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}: not a valid ippo vocabulary: {exc}") from None

    def save(self, path):
        """Write the vocabulary as JSON to ``path``, atomically (``ippo.io``)."""
        from ippo.io import write_atomically

        data = json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        return write_atomically(path, lambda f: f.write(data), suffix=".json")

    @classmethod
    def load(cls, path):
        """The vocabulary ``save`` wrote to ``path``."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a valid ippo vocabulary (bad JSON: {exc})") from None
        return cls.from_dict(d, source=path)
