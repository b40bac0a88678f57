"""``Trainer``: the course's training loop, with a list of callbacks around it.

    for each epoch:
        for each batch (shuffled, gathered, augmented):
            loss = model.loss(x_batch, t_batch)      # forward
            callbacks.on_before_backward(iteration, loss)
            model.backward()                         # gradients into model.grads
            optimizer.update(model.params, model.grads)
            callbacks.on_batch_end(iteration, loss)
        callbacks.on_epoch_end(epoch, {"epoch": epoch, "loss": mean loss of its batches})

Everything else is a callback (``ippo.training.callbacks``), called in this order: the
divergence stop, the evaluation (which adds the epoch's metric, validation loss, time...
to its logs), the ``History`` recorder, the user's callbacks and early stopping, the
progress display and the checkpoint. ``fit``'s arguments are checked first
(``ippo.training.validation``); ``early_stopping=``, ``checkpoint_dir=``, ``resume=`` and
``verbose`` are shorthands that add those callbacks.
"""

import numpy as np

from ippo import blas
from ippo.training import evaluation
from ippo.training import validation as check
from ippo.training.callbacks import CallbackList, StopOnDivergence
from ippo.training.checkpoint import Checkpoint
from ippo.training.history import History
from ippo.training.progress import Progress

__all__ = ["Trainer"]


class Trainer:
    """Trains a model with an optimizer: ``Trainer(model, optimizer).fit(x, t, ...)``.

    ``model`` follows the contract of ``ippo.models`` (``loss``, ``backward``, ``params``,
    ``grads``, ``accuracy``, ``train``/``eval``, ``task``, ``state_dict``); ``optimizer``
    one of ``ippo.optimizers``. ``verbose``: 0 silent, 1 a progress bar on a terminal (one
    line per epoch elsewhere), 2 one line per epoch always. ``eval_batch_size`` bounds the
    memory of the end-of-epoch evaluation passes.

    During ``fit``: ``epoch`` (the last epoch done), ``history``, ``stop_training`` (set it
    to stop after the current epoch), ``callbacks`` (the user's, with early stopping),
    ``checkpoint`` (the ``Checkpoint`` of ``checkpoint_dir``, or None) and
    ``checkpoint_epoch`` (the epoch it holds), ``has_validation``, ``log_names`` (the names
    every epoch's logs hold), ``epochs``, ``batch_size``, ``n_samples``, ``n_train`` (the
    samples an epoch trains on), ``iterations_per_epoch`` and ``rng`` (the generator of
    the shuffling and of ``augment``).
    """

    def __init__(self, model, optimizer, verbose=1, eval_batch_size=4096, file=None):
        self.model = model
        self.optimizer = optimizer
        self.verbose = verbose
        self.eval_batch_size = int(eval_batch_size)
        self.file = file
        self.stop_training = False
        self.history = None
        self.has_validation = False
        self.epoch = 0
        self.callbacks = []
        self.checkpoint = None

    @property
    def checkpoint_epoch(self):
        """The epoch the checkpoint file holds (None when nothing has been saved)."""
        return None if self.checkpoint is None else self.checkpoint.epoch

    # ------------------------------------------------------------------ evaluation

    @property
    def metric_name(self):
        """The metric reported beside the loss: "r2" for regression, else "accuracy"."""
        return evaluation.metric_name(self.model)

    def evaluate(self, x, t, loss=True):
        """``{"loss": float, metric: float}`` on (x, t) in inference mode, in batches of
        ``eval_batch_size``. The metric is accuracy for classifiers, R² for regression."""
        return evaluation.evaluate(self.model, x, t, self.eval_batch_size, loss)

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        x,
        t,
        epochs=10,
        batch_size=100,
        x_val=None,
        t_val=None,
        shuffle=True,
        seed=None,
        callbacks=None,
        early_stopping=None,
        checkpoint_dir=None,
        resume=False,
        augment=None,
        eval_train=True,
        checkpoint_every=1,
        replacement=False,
    ):
        """Train for ``epochs`` epochs; return the ``History``.

        ``batch_size=None`` batch GD (one update per epoch), ``1`` online SGD (N updates per
        epoch), else mini-batch (⌈N / batch_size⌉ updates; the last batch may be smaller).
        A model with batch normalization needs batches of 2 or more: online learning is
        refused, and a last batch of one sample is left out of that epoch. ``seed`` seeds
        the shuffling (and the generator passed to ``augment(x_batch, rng)``, which gets
        every training batch, never validation data; the batch is the trainer's own buffer,
        so it may be changed in place). ``callbacks``: a list of ``Callback``s.
        ``early_stopping``: an ``EarlyStopping`` or an int patience (monitoring ``val_loss``
        when validation data is given). ``checkpoint_dir``: save ``checkpoint.npz`` there
        after every ``checkpoint_every``-th epoch (and the last one, or the one where
        training stops); ``resume=True`` continues from it (starting fresh if there is
        none) with all it holds, the optimizer's hyper-parameters included: a warning names
        any that differ from those of the optimizer passed in. ``eval_train=False`` skips
        the end-of-epoch accuracy pass over the training data (the running loss is still
        recorded). ``replacement=True`` draws each epoch's N samples at random *with*
        replacement, as the course's ``np.random.choice`` does: some samples come twice,
        about 37 % (≈ 1/e) not at all; the default shuffles, every sample once per epoch.

        Bad input raises ``ValueError`` before any update; a NaN or infinite loss (or
        weights), or a loss 10⁴ times the one the run started from, raises
        ``TrainingDivergedError`` naming the epoch and the iteration, with the last
        checkpoint left intact (``StopOnDivergence``).
        """
        # ---------------------------------------------------------- check everything
        epochs = check.integer("epochs", epochs, minimum=1)
        checkpoint_every = check.integer("checkpoint_every", checkpoint_every, minimum=1)
        x, t = check.training_data(self.model, x, t)
        self.batch_size, self.n_train = check.batch_size(self.model, batch_size, len(x))
        x_val, t_val = check.validation_data(self.model, x_val, t_val)
        augment = check.augment_hook(augment)
        replacement = check.sampling(shuffle, replacement)
        if resume and checkpoint_dir is None:
            raise ValueError("fit: resume=True needs checkpoint_dir")
        self.callbacks = check.callback_list(callbacks, early_stopping)
        self.rng = check.generator(seed)
        self.checkpoint = (None if checkpoint_dir is None
                           else Checkpoint(checkpoint_dir, every=checkpoint_every))

        # ---------------------------------------------------------- the run's state
        self.epochs, self.n_samples = epochs, len(x)
        self.has_validation = x_val is not None
        self.iterations_per_epoch = -(-self.n_train // self.batch_size)
        self.history = History(self.metric_name, self.iterations_per_epoch)
        logs = evaluation.Evaluation((x, t) if eval_train else None,
                                     (x_val, t_val) if self.has_validation else None)
        self.log_names = ["epoch", "loss"] + logs.names(self.metric_name)
        self.stop_training = False
        self.epoch = 0
        stop = next((cb for cb in self.callbacks if isinstance(cb, StopOnDivergence)), None)
        stop = stop or StopOnDivergence()
        stop.data = (x, t)  # where the run starts: its loss on (part of) the training data
        hooks = [stop, logs, self.history, *(cb for cb in self.callbacks if cb is not stop)]
        hooks += [Progress(self.verbose, self.file)] if self.verbose else []
        hooks += [self.checkpoint] if self.checkpoint is not None else []
        for cb in hooks:
            cb.trainer = self
        if resume:  # everything the checkpoint holds, stop_training included
            self.epoch = self.checkpoint.restore()

        batches = _Batches(x, t, self.batch_size, self.n_train, shuffle, augment, replacement)
        return self._loop(batches, CallbackList(hooks))

    def _loop(self, batches, callbacks):
        """The training loop: epochs of batches, each a loss, a backward pass and an update."""
        model, optimizer = self.model, self.optimizer
        params, grads = model.params, model.grads
        iteration = len(self.history.iteration_loss)
        model.train()
        try:
            callbacks.on_train_begin(self)
            for epoch in range(self.epoch + 1, self.epochs + 1):
                if self.stop_training:
                    break
                callbacks.on_epoch_begin(epoch)
                loss_sum = 0.0
                with blas.for_batches(self.batch_size, params):
                    for x_batch, t_batch in batches(self.rng):
                        loss = model.loss(x_batch, t_batch)
                        iteration += 1
                        callbacks.on_before_backward(iteration, loss)
                        model.backward()
                        optimizer.update(params, grads)
                        loss_sum += loss * len(x_batch)
                        callbacks.on_batch_end(iteration, loss)
                self.epoch = epoch
                callbacks.on_epoch_end(epoch, {"epoch": epoch, "loss": loss_sum / self.n_train})
        except BaseException as exc:
            callbacks.on_exception(exc)
            raise
        callbacks.on_train_end(self.history)
        return self.history


class _Batches:
    """One epoch's batches: ``batches(rng)`` yields ``(x_batch, t_batch)`` in a fresh order
    drawn from ``rng`` (with ``shuffle``; with ``replacement``, N independent draws),
    gathered into two buffers reused every step, and passed through
    ``augment(x_batch, rng)``; an epoch covers the first ``n_train`` of the drawn samples."""

    def __init__(self, x, t, batch_size, n_train, shuffle, augment, replacement=False):
        self.x, self.t = x, t
        self.batch_size, self.n_train = batch_size, n_train
        self.shuffle, self.augment, self.replacement = shuffle, augment, replacement
        # all N samples at once need no copy, unless they are drawn with replacement
        whole = batch_size >= len(x) and not replacement
        if (shuffle or augment is not None) and not whole or augment is not None:
            self.xbuf = np.empty((batch_size,) + x.shape[1:], dtype=x.dtype)
            self.tbuf = np.empty((batch_size,) + t.shape[1:], dtype=t.dtype)
        else:  # in order, or all samples at once: views of the data
            self.xbuf = self.tbuf = None

    def __call__(self, rng):
        x, t, bs, n_train = self.x, self.t, self.batch_size, self.n_train
        xbuf, tbuf, augment = self.xbuf, self.tbuf, self.augment
        if self.replacement:  # N draws, each sample equally likely every time
            order = rng.integers(0, len(x), size=len(x))
        else:
            order = rng.permutation(len(x)) if self.shuffle else None
        for start in range(0, n_train, bs):
            stop = min(start + bs, n_train)
            if xbuf is not None:
                xb, tb = xbuf[: stop - start], tbuf[: stop - start]
                if order is not None:
                    idx = order[start:stop]
                    # mode="clip": the indices are valid, and "raise" with out= would copy
                    # through a temporary buffer; the methods skip np.take's Python wrapper
                    x.take(idx, 0, xb, "clip")
                    t.take(idx, 0, tb, "clip")
                else:
                    xb[...] = x[start:stop]
                    tb[...] = t[start:stop]
            elif order is not None:  # batch GD with shuffling: the order is irrelevant
                xb, tb = x, t
            else:
                xb, tb = x[start:stop], t[start:stop]
            if augment is not None:
                xb = augment(xb, rng)
            yield xb, tb
