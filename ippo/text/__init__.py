"""Text classification, as in the NLP 100 Knock chapter 8: from headlines to predictions.

- ``ippo.text.tokenizer``   ``Tokenizer`` / ``tokenize``: text into tokens, the same rules
  at training and test time; word bigrams on request
- ``ippo.text.vocabulary``  ``Vocabulary``: tokens into ids (``<pad>`` = 0, ``<unk>`` = 1),
  saved as JSON
- ``ippo.text.vectors``     ``load_word_vectors`` (word2vec binary and text, GloVe),
  ``WordVectors``, ``average_word_vectors`` (exercise 70's features)
- ``ippo.text.word2vec``    ``train_word2vec``: CBOW with negative sampling, from scratch
- ``ippo.text.classify``    the chapter's steps as functions: the single-layer network, the
  fastText-style model, training, the per-class report
- ``ippo.datasets.news``    ``load_news`` and ``make_news_split`` (exercise 50)
"""

from ippo.datasets.news import NEWS_CLASSES, load_news, make_news_split
from ippo.text.tokenizer import Tokenizer, add_ngrams, tokenize
from ippo.text.vectors import WordVectors, average_word_vectors, load_word_vectors
from ippo.text.vocabulary import PAD, UNK, Vocabulary
from ippo.text.word2vec import CBOW, train_word2vec

__all__ = [
    "CBOW", "NEWS_CLASSES", "PAD", "UNK", "Tokenizer", "Vocabulary", "WordVectors",
    "add_ngrams", "average_word_vectors", "load_news", "load_word_vectors", "make_news_split",
    "tokenize", "train_word2vec",
]
