"""Text into tokens: one set of rules, used at training and at test time.

``Tokenizer()("Kanye West's 'Yeezus' Tour: $19M")`` →
``['kanye', 'west', "'s", "'", 'yeezus', "'", 'tour', ':', '$', '19m']``.

The rules, in the order they are tried at each position of the text:

1. a number with decimal points or thousands separators: ``2.5``, ``1,000``;
2. a run of letters and digits: ``Kanye``, ``2014``, ``19M``, ``iPhone5`` (any script);
3. an English clitic split off its word: ``'s``, ``'re``, ``'ve``, ``'ll``, ``'d``, ``'m``,
   ``'t`` (straight or curly apostrophe), so that "Father's" and "Father" share ``father``;
4. any other non-space character on its own: punctuation and symbols (``"``, ``:``, ``$``).

White space separates tokens and is dropped. ``lower=True`` (the default) lower-cases the
text first. ``punctuation=False`` drops the tokens of rule 4 (those without a letter or a
digit). ``ngrams=2`` appends the word bigrams ``"kanye west"``, ``"west 's"``, … after the
words (fastText's trick for word order in a bag of words).
"""

import re

__all__ = ["Tokenizer", "tokenize", "add_ngrams"]

_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)+"                   # 1. numbers: 2.5, 1,000
    r"|[^\W_]+"                          # 2. letters and digits
    r"|['’](?:s|re|ve|ll|d|m|t)\b"       # 3. clitics: 's 're 've 'll 'd 'm 't
    r"|\S",                              # 4. anything else, one character at a time
    re.IGNORECASE,
)


_WORDLIKE = re.compile(r"[^\W_]")


def tokenize(text, lower=True, punctuation=True):
    """The tokens of ``text`` by the rules of this module (see the module doc); without
    ``punctuation`` only the tokens holding a letter or a digit."""
    if not isinstance(text, str):
        raise ValueError(f"tokenize: expected a str, got {type(text).__name__}")
    tokens = _TOKEN.findall(text.lower() if lower else text)
    if not punctuation:
        tokens = [t for t in tokens if _WORDLIKE.search(t)]
    return tokens


def add_ngrams(tokens, n=2):
    """``tokens`` followed by their word n-grams for 2..n, each joined by one space:
    ``add_ngrams(["a", "b", "c"], 2)`` → ``["a", "b", "c", "a b", "b c"]``."""
    out = list(tokens)
    for k in range(2, n + 1):
        out.extend(" ".join(tokens[i:i + k]) for i in range(len(tokens) - k + 1))
    return out


class Tokenizer:
    """``tokenizer(text) -> list of tokens``: ``tokenize`` with fixed settings.

    ``lower``: lower-case first. ``punctuation``: keep the tokens without a letter or a
    digit (``:``, ``"``, ``$``). ``ngrams``: 1 for words only, 2 to add word bigrams, ….
    ``config()`` is saved with a model's vocabulary so that new text is cut the same way.
    """

    def __init__(self, lower=True, ngrams=1, punctuation=True):
        if isinstance(ngrams, bool) or not isinstance(ngrams, int) or ngrams < 1:
            raise ValueError(f"Tokenizer: ngrams must be an integer >= 1, got {ngrams!r}")
        self.lower = bool(lower)
        self.ngrams = ngrams
        self.punctuation = bool(punctuation)

    def __call__(self, text):
        tokens = self.words(text)
        return add_ngrams(tokens, self.ngrams) if self.ngrams > 1 else tokens

    def words(self, text):
        """The word tokens of ``text`` (no n-grams, whatever ``ngrams`` is)."""
        return tokenize(text, self.lower, self.punctuation)

    def config(self):
        """The settings as a JSON-able dict (``Tokenizer(**config)`` rebuilds it)."""
        return {"lower": self.lower, "ngrams": self.ngrams, "punctuation": self.punctuation}

    def __repr__(self):
        return (f"Tokenizer(lower={self.lower}, ngrams={self.ngrams}, "
                f"punctuation={self.punctuation})")

    def __eq__(self, other):
        return isinstance(other, Tokenizer) and self.config() == other.config()

    def __hash__(self):
        return hash((self.lower, self.ngrams, self.punctuation))
