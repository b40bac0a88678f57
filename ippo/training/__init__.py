"""Training in one call: ``Trainer(model, optimizer).fit(x, t, ...)`` returns a ``History``.

One file per concern:

- ``trainer.py``     ``Trainer``: the course's loop (for each epoch, for each batch: loss,
  backward, update) with a list of callbacks around it, and ``evaluate``
- ``callbacks.py``   ``Callback`` and its hooks, ``EarlyStopping``,
  ``LearningRateScheduler``, ``StopOnDivergence`` (``TrainingDivergedError``)
- ``history.py``     ``History``, the recorder of losses and metrics
- ``plot.py``        ``plot_history``, the curves of a History (matplotlib)
- ``checkpoint.py``  ``Checkpoint``: the training state after epochs, and the exact resume
- ``progress.py``    ``Progress``: a bar per epoch on a terminal, one line elsewhere
- ``validation.py``  the checks of ``fit``'s arguments, before any update

A model is anything with the ``ippo.models`` contract (``loss``, ``backward``, ``params``,
``grads``, ...), an autograd model through ``ippo.autograd.nn.Trainable``; an optimizer one
of ``ippo.optimizers``. The checkpoint file format is ``ippo.io``'s.
"""

from ippo.io import load_checkpoint, save_checkpoint
from ippo.training.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateScheduler,
    StopOnDivergence,
    TrainingDivergedError,
)
from ippo.training.checkpoint import CHECKPOINT_NAME
from ippo.training.history import History
from ippo.training.trainer import Trainer

__all__ = [
    "Trainer",
    "History",
    "Callback",
    "EarlyStopping",
    "LearningRateScheduler",
    "StopOnDivergence",
    "TrainingDivergedError",
    "save_checkpoint",
    "load_checkpoint",
    "CHECKPOINT_NAME",
]
