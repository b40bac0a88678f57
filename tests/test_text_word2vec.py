"""word2vec (CBOW, negative sampling) from scratch: its gradient against numerical
differentiation, the sampling formulas, the context windows, and vectors that learn which
words go together on a small synthetic corpus."""

import numpy as np
import pytest

from ippo import functions as F
from ippo.numerical import numerical_gradient
from ippo.text import CBOW, load_word_vectors, train_word2vec
from ippo.text.word2vec import _cbow_examples, _keep_probabilities
from tests.helpers import assert_grad_close


def _summed_loss(model, contexts, targets):
    """The CBOW loss summed over the batch's B·(1+K) scores, from the formula (not the
    model): −log σ(s₀) − Σ log σ(−sₖ) per example."""
    W_in, W_out = model.in_embed.W, model.out_embed.W
    mask = contexts != 0
    h = (W_in[contexts] * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    s = np.einsum("bd,bkd->bk", h, W_out[targets])
    labels = np.zeros_like(s)
    labels[:, 0] = 1
    return F.sigmoid_binary_cross_entropy(s, labels) * s.size


def test_cbow_sgd_step_is_minus_lr_times_the_numerical_gradient():
    rng = np.random.default_rng(0)
    model = CBOW(9, 4, seed=1, dtype=np.float64)
    model.out_embed.W[...] = rng.normal(size=(9, 4))          # word2vec starts it at 0
    contexts = np.array([[3, 4, 4, 0], [5, 0, 0, 0], [2, 6, 7, 8]])   # repeats and padding
    targets = np.array([[2, 7, 7], [6, 3, 5], [4, 4, 1]])            # true word, 2 negatives
    loss = model.loss(contexts, targets)
    assert loss * targets.size == pytest.approx(_summed_loss(model, contexts, targets))
    before = [model.in_embed.W.copy(), model.out_embed.W.copy()]
    numeric = [numerical_gradient(lambda _: _summed_loss(model, contexts, targets), W)
               for W in (model.in_embed.W, model.out_embed.W)]
    model.sgd_step(lr=1.0)
    for name, W, b, n in zip(("W_in", "W_out"), (model.in_embed.W, model.out_embed.W),
                             before, numeric, strict=True):
        assert_grad_close(b - W, n, name=name)
    np.testing.assert_array_equal(model.in_embed.W[0], before[0][0])  # padding row untouched


def test_keep_probabilities_follow_word2vec_formula():
    counts = np.array([1000.0, 100.0, 10.0, 1.0])          # T = 1111
    keep = _keep_probabilities(counts, 1e-2)                # s·T = 11.11
    st = 11.11
    assert keep[0] == pytest.approx((np.sqrt(1000 / st) + 1) * st / 1000)   # ≈ 0.116
    assert keep[1] == pytest.approx((np.sqrt(100 / st) + 1) * st / 100)     # ≈ 0.444
    assert keep[2] == keep[3] == 1.0                        # rare words always kept
    np.testing.assert_array_equal(_keep_probabilities(counts, 0), np.ones(4))


def test_cbow_examples_take_the_words_around_each_word():
    padded = np.array([[2, 3, 4, 5], [6, 7, 0, 0]])
    valid = padded != 0
    keep = np.ones(8)
    centres, contexts = _cbow_examples((padded, valid), keep, 1, np.random.default_rng(0))
    got = {(int(c), tuple(sorted(int(i) for i in ctx if i))) for c, ctx in zip(centres,
                                                                                contexts,
                                                                                strict=True)}
    assert got == {(2, (3,)), (3, (2, 4)), (4, (3, 5)), (5, (4,)), (6, (7,)), (7, (6,))}
    # a window of 3 around each word of a 4-word sentence covers the whole sentence
    centres, contexts = _cbow_examples((padded[:1], valid[:1]), keep, 3,
                                       np.random.default_rng(0))
    sizes = sorted(int((c != 0).sum()) for c in contexts)
    assert len(centres) == 4 and max(sizes) <= 3 and min(sizes) >= 1


def _two_topic_corpus(n=600, seed=0):
    rng = np.random.default_rng(seed)
    topics = [[f"sport{i}" for i in range(6)], [f"money{i}" for i in range(6)]]
    return [[str(w) for w in rng.choice(topics[rng.integers(2)], size=6)] + ["the", "a"]
            for _ in range(n)]


def test_vectors_learn_which_words_share_contexts(tmp_path):
    corpus = _two_topic_corpus()
    log = []
    vectors = train_word2vec(corpus, dim=8, window=3, negative=3, epochs=10, lr=0.1,
                             batch_size=32, seed=0, log=lambda *a: log.append(a))
    assert len(vectors) == 14 and vectors.dim == 8
    assert [e for e, _, _ in log] == list(range(1, 11))
    assert log[-1][1] < log[0][1]                        # the loss falls
    for word in ("sport0", "money3"):
        sims = dict(vectors.most_similar(word, len(vectors)))
        same = [v for w, v in sims.items() if w[:5] == word[:5]]
        other = [v for w, v in sims.items() if w[:5] not in (word[:5], "the", "a")]
        assert len(same) == 5 and len(other) == 6
        assert min(same) > 0.9 > 0.5 > max(other), (word, sims)
    vectors.save(tmp_path / "w2v.txt")
    back = load_word_vectors(tmp_path / "w2v.txt")
    assert back.words == vectors.words
    np.testing.assert_array_equal(back.matrix, vectors.matrix)


def test_input_plus_output_vectors_also_group_the_topics():
    corpus = _two_topic_corpus()
    kw = dict(dim=8, window=3, negative=3, epochs=10, lr=0.1, batch_size=32, seed=0)
    w_in = train_word2vec(corpus, **kw)
    both = train_word2vec(corpus, combine="input+output", **kw)
    assert both.settings["combine"] == "input+output" and both.words == w_in.words
    assert np.abs(both.matrix - w_in.matrix).max() > 0.1      # W_out was added
    sims = dict(both.most_similar("sport2", 13))
    assert min(v for w, v in sims.items() if w.startswith("sport")) > \
        max(v for w, v in sims.items() if w.startswith("money"))


def test_same_seed_same_vectors_and_min_count():
    corpus = _two_topic_corpus(100)
    a = train_word2vec(corpus, dim=4, epochs=1, seed=3)
    b = train_word2vec(corpus, dim=4, epochs=1, seed=3)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    rare = corpus + [["once", "sport1"]]
    assert "once" not in train_word2vec(rare, dim=4, epochs=1, min_count=2)
    assert "once" in train_word2vec(rare, dim=4, epochs=1, min_count=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"dim": 0}, "dim"), ({"epochs": 1.5}, "epochs"), ({"lr": 0}, "lr"),
    ({"sample": 1.0}, "sample"), ({"min_count": 1000}, "needs more"),
    ({"combine": "output"}, "combine"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_word2vec(_two_topic_corpus(20), **kwargs)
