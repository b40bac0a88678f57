"""A plain NumPy multi-layer perceptron written the book's way, as a benchmark baseline.

This is deliberately *not* ippo: it is the straightforward code a reader of
"ゼロから作るDeep Learning" writes after chapter 5 — one class per layer with ``forward`` /
``backward``, a boolean mask in ReLU, ``1 / (1 + exp(-x))`` in Sigmoid, a separate softmax and
cross-entropy in SoftmaxWithLoss, a fresh gradient array for every parameter on every step,
and ``W -= lr * dW`` updates. Weights come from ``np.random.randn`` and are therefore float64,
the book's default, unless ``dtype`` says otherwise. The formulas are written out here on
purpose (instead of calling ``ippo.functions``): the point of this module is to measure what
the unoptimised textbook code costs, independently of ippo.
"""

from collections import OrderedDict

import numpy as np


def softmax(x):
    """Softmax over the last axis (the book's version: subtract the max, exp, normalise)."""
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    """Cross-entropy of probabilities y against class indices (or one-hot) t, batch mean."""
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Affine:
    """out = x · W + b."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class Relu:
    """out = x where x > 0 else 0, with the book's boolean mask."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    """out = 1 / (1 + exp(-x))."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.out = out
        return out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error; backward gives (y - t) / batch_size."""

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class MultiLayerNet:
    """Fully connected network: (Affine, activation) * k, Affine, SoftmaxWithLoss.

    ``sizes`` = [input, hidden..., output]; ``activation`` is "relu" or "sigmoid". Weights use
    He initialisation for ReLU and Xavier for sigmoid, drawn with ``np.random.randn``
    (float64) and then cast to ``dtype`` when one is given.
    """

    def __init__(self, sizes, activation="relu", dtype=np.float64, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {}
        self.layers = OrderedDict()
        n_affine = len(sizes) - 1
        for i in range(1, n_affine + 1):
            scale = np.sqrt((2.0 if activation == "relu" else 1.0) / sizes[i - 1])
            self.params[f"W{i}"] = (scale * rng.randn(sizes[i - 1], sizes[i])).astype(dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if i < n_affine:
                self.layers[f"Activation{i}"] = Relu() if activation == "relu" else Sigmoid()
        self.last_layer = SoftmaxWithLoss()
        self.n_affine = n_affine
        self.last_loss = None

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        """Backpropagation: returns a dict of fresh gradient arrays, one per parameter."""
        self.last_loss = self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n_affine + 1):
            grads[f"W{i}"] = self.layers[f"Affine{i}"].dW
            grads[f"b{i}"] = self.layers[f"Affine{i}"].db
        return grads


def train_steps(network, x, t, batch_size, learning_rate, rng):
    """One pass of plain SGD over ``x`` in shuffled mini-batches, the book's update rule."""
    n = x.shape[0]
    order = rng.permutation(n)
    for start in range(0, n - batch_size + 1, batch_size):
        batch_mask = order[start:start + batch_size]
        x_batch = x[batch_mask]
        t_batch = t[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        for key in network.params:
            network.params[key] -= learning_rate * grads[key]
