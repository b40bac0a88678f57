"""``Checkpoint``: the whole training state saved after epochs, and the exact resume from it.

One file, ``<folder>/checkpoint.npz``, written by ``ippo.io.save_checkpoint`` (a temporary
file, fsynced, renamed over the old one: a kill at any moment leaves a loadable checkpoint;
no pickle). It holds the epoch, the model's ``state_dict()``, the optimizer's
``state_dict()``, the trainer's random generator (shuffling, augmentation) and the model's
``random_state()`` (its dropout masks), the history, the states of the callbacks that have a
``state_dict()``, and whether training had stopped. ``restore()`` puts all of it back, so a
run continued with the same data and arguments ends on the very bits of an uninterrupted one.

``Trainer.fit(checkpoint_dir=..., checkpoint_every=k, resume=True)`` makes and uses one.
"""

import os
import warnings

import numpy as np

from ippo.io import load_checkpoint, save_checkpoint
from ippo.training.callbacks import Callback, LearningRateScheduler

__all__ = ["Checkpoint", "CHECKPOINT_NAME"]

#: file name of the checkpoint inside its folder
CHECKPOINT_NAME = "checkpoint.npz"


class Checkpoint(Callback):
    """Saves the training state into ``folder/checkpoint.npz`` after every ``every``-th epoch
    (and always after the last one, or the one where training stops); ``restore()`` resumes
    from it. ``epoch`` is the epoch the file holds (None before anything was saved or
    restored). The folder is created now: one that cannot be made fails before training.
    """

    def __init__(self, folder, every=1):
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(f"fit: checkpoint_dir {os.fspath(folder)!r} is a file, not a "
                             f"folder")
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(os.fspath(folder), CHECKPOINT_NAME)
        self.every = every
        self.epoch = None

    def on_epoch_end(self, epoch, logs):
        trainer = self.trainer
        if epoch % self.every == 0 or epoch == trainer.epochs or trainer.stop_training:
            self.save(epoch)

    def save(self, epoch):
        """Write the trainer's state after ``epoch`` (atomically)."""
        trainer = self.trainer
        history = trainer.history.to_dict()
        iteration_loss = np.asarray(history.pop("iteration_loss"), dtype=np.float64)
        save_checkpoint(self.path, {
            "epoch": epoch,
            "fit": {"n_samples": trainer.n_samples, "batch_size": trainer.batch_size},
            "model": {k: np.asarray(v) for k, v in trainer.model.state_dict().items()},
            "optimizer": trainer.optimizer.state_dict(),
            "rng": trainer.rng.bit_generator.state,
            "layer_rngs": trainer.model.random_state(),
            "history": history,
            "iteration_loss": iteration_loss,
            "callbacks": {_key(i, cb): cb.state_dict() for i, cb in enumerate(trainer.callbacks)
                          if hasattr(cb, "state_dict")},
            "stopped": bool(trainer.stop_training),
        })
        self.epoch = epoch

    def restore(self):
        """Put the state of the file back into the trainer (model, optimizer, generators,
        history, callbacks, stop flag) and return its epoch; 0 when there is no file yet.

        A checkpoint made on other data (another number of samples), with another batch
        size, for another model or optimizer, or holding more epochs than ``fit`` was asked
        for is refused with a ValueError that leaves the model and the optimizer as they
        were. The checkpoint's optimizer settings win (an
        exact continuation): a warning names any that differ from the given optimizer's.
        """
        if not os.path.exists(self.path):
            return 0
        trainer = self.trainer
        try:
            state = load_checkpoint(self.path)
        except ValueError as exc:  # truncated (a full disk), corrupt, or not a checkpoint
            raise ValueError(f"cannot resume: the checkpoint is damaged, remove it to start "
                             f"the run over: {exc}") from None
        self._check_run(state.get("fit", {}))
        if int(state["epoch"]) > trainer.epochs:
            raise ValueError(
                f"fit(resume=True): the checkpoint {self.path} holds epoch {state['epoch']}, "
                f"more than epochs={trainer.epochs}; give epochs={state['epoch']} or more "
                f"(resume=False starts over)")
        opt_before = trainer.optimizer.state_dict()
        self._load_model_and_optimizer(state, opt_before)
        self._warn_changed_settings(state["optimizer"], opt_before)
        trainer.rng = _generator_from_state(state["rng"])
        trainer.model.set_random_state(state.get("layer_rngs", {}))
        history = state["history"]
        history["iteration_loss"] = state["iteration_loss"].tolist()
        trainer.history.load_dict(history)
        for i, cb in enumerate(trainer.callbacks):
            d = state.get("callbacks", {}).get(_key(i, cb))
            if d is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(d)
        trainer.stop_training = bool(state.get("stopped", False))  # an early stop stays
        self.epoch = int(state["epoch"])
        return self.epoch

    def _check_run(self, fit):
        trainer = self.trainer
        if fit.get("n_samples") != trainer.n_samples:
            raise ValueError(
                f"fit(resume=True): the checkpoint {self.path} was made on "
                f"{fit.get('n_samples')} samples but x has {trainer.n_samples}; pass the same "
                f"data, or resume=False to start over"
            )
        if fit.get("batch_size") != trainer.batch_size:
            raise ValueError(
                f"fit(resume=True): the checkpoint {self.path} was made with batch size "
                f"{fit.get('batch_size')} but this call uses {trainer.batch_size}; the "
                f"continuation would not be the same run"
            )

    def _load_model_and_optimizer(self, state, opt_before):
        # a checkpoint that does not fit leaves the model and the optimizer as they were:
        # the optimizer is restored if the model refuses its state (a model's
        # load_state_dict checks everything before it copies anything)
        trainer = self.trainer
        try:
            trainer.optimizer.load_state_dict(state["optimizer"])
            trainer.model.load_state_dict(state["model"])
        except ValueError as exc:
            trainer.optimizer.load_state_dict(opt_before)
            raise ValueError(
                f"fit(resume=True): the checkpoint {self.path} does not fit this model and "
                f"optimizer ({exc}); resume with the architecture and optimizer of the "
                f"interrupted run, or resume=False to start over"
            ) from None

    def _warn_changed_settings(self, saved, given):
        # the checkpoint's hyper-parameters win (an exact continuation); say so when the
        # optimizer passed in asked for others, e.g. a smaller lr after a divergence (a
        # LearningRateScheduler owns lr: its changes are the run's, not the caller's)
        scheduled = any(isinstance(cb, LearningRateScheduler) for cb in self.trainer.callbacks)
        changed = [
            f"{k} {saved[k]!r} (this optimizer was made with {v!r})"
            for k, v in given.items()
            if k not in ("name", "t", "state") and k in saved and saved[k] != v
            and not (k == "lr" and scheduled)
        ]
        if changed:
            warnings.warn(
                f"fit(resume=True) continues with the checkpoint's optimizer settings: "
                f"{', '.join(changed)}. For other settings start over (resume=False), or "
                f"set them on trainer.optimizer in a callback's on_train_begin.",
                stacklevel=4,
            )


def _key(i, callback):
    """A callback's name in the checkpoint: its position among ``fit``'s callbacks and class."""
    return f"{i}.{type(callback).__name__}"


def _generator_from_state(state):
    name = state["bit_generator"]
    bit_gen = getattr(np.random, name, None)
    if bit_gen is None or not isinstance(bit_gen, type):
        raise ValueError(f"checkpoint: unknown random bit generator {name!r}")
    rng = np.random.Generator(bit_gen())
    rng.bit_generator.state = state
    return rng
