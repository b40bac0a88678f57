"""word2vec from scratch: CBOW with negative sampling, built on ippo's embedding layers.

CBOW predicts a word from the words around it. For a centre word w with context words
c₁..c_m (those within a window on either side):

    h = (1/m) Σⱼ W_in[cⱼ]                       the context's mean: an ``EmbeddingBag``
    s₀ = h · W_out[w],  sₖ = h · W_out[nₖ]      the true word and K random "negative" words
    L = −log σ(s₀) − Σₖ log σ(−sₖ)              ``SigmoidWithLoss`` with labels 1, 0, …, 0

Negative words are drawn with probability ∝ count^0.75. Frequent words are randomly left
out of each epoch with probability 1 − (√(f/(s·T)) + 1)·(s·T)/f (f the word's count, T all
words, s = ``sample``), so that "the" and "to" do not dominate. The gradient of an
embedding is zero except in the rows a batch looked up, so SGD updates only those rows
(``functions.scatter_add_rows``); the learning rate falls linearly to almost 0 over the
run, as in Mikolov's C tool. The rows of W_in are the word vectors.

``train_word2vec(token_lists, dim=…, …)`` returns them as ``ippo.text.WordVectors``
(``most_similar`` for nearest neighbours, ``save`` for the word2vec text format).
"""

import time

import numpy as np

from ippo import functions as F
from ippo.backend import xp
from ippo.initializers import get_rng
from ippo.layers import Embedding, EmbeddingBag, SigmoidWithLoss
from ippo.text.vectors import WordVectors
from ippo.text.vocabulary import Vocabulary

__all__ = ["CBOW", "train_word2vec"]


class CBOW:
    """The CBOW network: ``in_embed`` (an ``EmbeddingBag`` over the context, padding id 0),
    ``out_embed`` (an ``Embedding`` of the output vectors) and ``SigmoidWithLoss``.

    ``loss(contexts, targets)`` runs the forward pass for a batch: ``contexts`` (B, C) ids
    padded with 0, ``targets`` (B, 1 + K) ids, the true word first then the negatives.
    ``sgd_step(lr)`` back-propagates it and updates the rows the batch used.
    """

    def __init__(self, vocab_size, dim, seed=None, dtype=np.float32):
        rng = get_rng(seed)
        # word2vec's initialisation: input vectors uniform in ±0.5/dim, output vectors 0
        w_in = (rng.random((vocab_size, dim)) - 0.5) / dim
        w_in[0] = 0.0  # the padding row is never looked at
        self.in_embed = EmbeddingBag(w_in, padding_idx=0, dtype=dtype)
        self.out_embed = Embedding(xp.zeros((vocab_size, dim)), dtype=dtype)
        self.loss_layer = SigmoidWithLoss()
        self._h = self._o = None

    @property
    def word_vectors(self):
        """W_in, the word vectors (one row per id of the vocabulary)."""
        return self.in_embed.W

    def loss(self, contexts, targets):
        """The mean loss of the batch (see the module doc)."""
        h = self.in_embed.forward(contexts)                     # (B, D)
        o = self.out_embed.forward(targets)                     # (B, 1+K, D)
        scores = xp.einsum("bd,bkd->bk", h, o)                  # (B, 1+K)
        labels = xp.zeros(scores.shape, dtype=scores.dtype)
        labels[:, 0] = 1
        self._h, self._o = h, o
        return self.loss_layer.forward(scores, labels)

    def gradients(self):
        """The gradients of the summed loss (word2vec's learning rate is per example) as
        sparse rows: ``[(W_in, ids, rows), (W_out, ids, rows)]``."""
        h, o = self._h, self._o
        # SigmoidWithLoss averages over the B·(1+K) scores; dout = B·(1+K) gives σ(s) − label
        ds = self.loss_layer.backward(dout=self.loss_layer.y.size)   # (B, 1+K)
        dh = xp.einsum("bk,bkd->bd", ds, o)                           # ∂L/∂h
        do = ds[:, :, None] * h[:, None, :]                           # ∂L/∂W_out[targets]
        targets = self.out_embed.idx
        ids_in, rows_in = self.in_embed.row_grads(dh)
        return [(self.in_embed.W, ids_in, rows_in),
                (self.out_embed.W, targets.reshape(-1), do.reshape(-1, do.shape[-1]))]

    def sgd_step(self, lr):
        """Back-propagate the last ``loss`` and update the rows it used: W[i] −= lr · ∂L/∂W[i]."""
        for W, ids, rows in self.gradients():
            rows *= -lr
            F.scatter_add_rows(W, ids, rows)


def _keep_probabilities(counts, sample):
    """word2vec's subsampling: a word of count f is kept with probability
    min(1, (√(f/(s·T)) + 1)·(s·T)/f), T = Σ counts, s = ``sample`` (0: keep every word)."""
    counts = np.asarray(counts, dtype=np.float64)
    if not sample:
        return np.ones_like(counts)
    st = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / st) + 1.0) * st / counts)


def _cbow_examples(sentences, keep, window, rng):
    """One epoch's examples: for every word kept by subsampling, its id and its context (the
    kept words within a random window b ∈ 1..window on either side), as ``(centres (n,),
    contexts (n, 2·window))``, contexts padded with 0. Words without context are dropped."""
    padded, valid = sentences
    kept = valid & (rng.random(padded.shape) < keep[padded])
    # move the kept words of each sentence to its front: the window spans kept words only
    order = np.argsort(~kept, axis=1, kind="stable")
    words = np.take_along_axis(padded, order, axis=1)
    kept = np.take_along_axis(kept, order, axis=1)
    row, pos = np.nonzero(kept)
    b = rng.integers(1, window + 1, size=len(row))
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    where = pos[:, None] + offsets                                   # (n, 2·window)
    inside = (where >= 0) & (where < padded.shape[1]) & (np.abs(offsets) <= b[:, None])
    where = np.clip(where, 0, padded.shape[1] - 1)
    inside &= kept[row[:, None], where]
    contexts = np.where(inside, words[row[:, None], where], 0)
    has = inside.any(axis=1)
    return words[row, pos][has], contexts[has]


#: What ``train_word2vec`` returns as a word's vector.
COMBINE = ("input", "input+output")


def train_word2vec(token_lists, dim=100, window=5, negative=5, epochs=5, min_count=1,
                   sample=1e-3, lr=0.025, batch_size=256, seed=0, combine="input", log=None):
    """Train CBOW word vectors on ``token_lists`` (lists of tokens: the sentences).

    ``window``: context words on each side (a random 1..window per word, as in word2vec);
    ``negative``: negative words per example; ``min_count``: rarer words get no vector;
    ``sample``: the subsampling threshold (0 keeps every word); ``lr``: the starting
    learning rate, falling linearly to lr·10⁻⁴; ``batch_size``: examples per update.
    ``combine``: "input" returns the rows of W_in (word2vec's word vectors); "input+output"
    returns W_in + W_out, a word's two roles added (as GloVe adds its two matrices): the
    output vector records which contexts predict the word, which helps when the vectors are
    averaged into features on a small corpus. ``log(epoch, loss, seconds)`` is called after
    every epoch when given. Returns a ``WordVectors`` with one vector per vocabulary word,
    most frequent first.
    """
    for name, value, lo in (("dim", dim, 1), ("window", window, 1), ("negative", negative, 1),
                            ("epochs", epochs, 1), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ValueError(f"train_word2vec: {name} must be an integer >= {lo}, got {value!r}")
    if not (lr > 0):
        raise ValueError(f"train_word2vec: lr must be > 0, got {lr!r}")
    if not (0 <= sample < 1):
        raise ValueError(f"train_word2vec: sample must be in [0, 1), got {sample!r}")
    if combine not in COMBINE:
        raise ValueError(f"train_word2vec: combine must be one of {', '.join(COMBINE)}, "
                         f"got {combine!r}")
    token_lists = [list(t) for t in token_lists]
    vocab = Vocabulary.build(token_lists, min_count=min_count)
    if len(vocab) <= 3:
        raise ValueError(f"train_word2vec: the texts hold {len(vocab) - 2} word(s) seen at "
                         f"least {min_count} times; word2vec needs more")
    ids = [[i for i in vocab.encode(t) if i > 1] for t in token_lists]   # rare words dropped
    ids = [s for s in ids if len(s) >= 2]
    if not ids:
        raise ValueError("train_word2vec: no sentence has two known words")
    length = max(len(s) for s in ids)
    padded = np.zeros((len(ids), length), dtype=np.int64)
    valid = np.zeros((len(ids), length), dtype=bool)
    for n, s in enumerate(ids):
        padded[n, :len(s)] = s
        valid[n, :len(s)] = True
    counts = np.zeros(len(vocab))
    counts[2:] = vocab.counts
    keep = _keep_probabilities(np.maximum(counts, 1), sample)
    noise = counts ** 0.75
    noise_cdf = np.cumsum(noise / noise.sum())

    rng = np.random.default_rng(seed)
    model = CBOW(len(vocab), dim, seed=rng)
    # the number of examples per epoch varies with subsampling; the schedule uses the mean
    planned = epochs * max(1, int(valid.sum() * float(keep[padded][valid].mean())))
    done = 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        centres, contexts = _cbow_examples((padded, valid), keep, window, rng)
        order = rng.permutation(len(centres))
        total = 0.0
        for s in range(0, len(order), batch_size):
            batch = order[s:s + batch_size]
            negatives = np.searchsorted(noise_cdf, rng.random((len(batch), negative)))
            negatives = np.minimum(negatives, len(vocab) - 1)
            targets = np.concatenate([centres[batch, None], negatives], axis=1)
            total += model.loss(xp.asarray(contexts[batch]), xp.asarray(targets)) * len(batch)
            model.sgd_step(lr * max(1e-4, 1.0 - done / planned))
            done += len(batch)
        if log is not None:
            log(epoch, total / max(1, len(order)), time.perf_counter() - t0)
    matrix = np.array(model.word_vectors[2:])
    if combine == "input+output":
        matrix += np.asarray(model.out_embed.W[2:])
    vectors = WordVectors(vocab.words[2:], matrix)
    vectors.settings = {"dim": dim, "window": window, "negative": negative, "epochs": epochs,
                        "min_count": min_count, "sample": sample, "lr": lr,
                        "batch_size": batch_size, "seed": seed, "combine": combine}
    return vectors
