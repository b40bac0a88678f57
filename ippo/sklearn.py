"""scikit-learn estimators: ippo's MLP inside ``Pipeline``, ``GridSearchCV``, ``cross_val_score``.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from ippo.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden=(64,), epochs=30))
    clf.fit(x_train, y_train).score(x_test, y_test)

``MLPClassifier`` and ``MLPRegressor`` follow scikit-learn's estimator contract (``fit`` /
``predict`` / ``predict_proba`` / ``score``, ``get_params`` / ``set_params``, ``clone``,
``partial_fit``, ``warm_start``, inputs checked by scikit-learn's own ``validate_data``) and
pass its ``parametrize_with_checks`` (tests/test_sklearn.py). They take ippo's options under
the names ``ippo train`` gives them; scikit-learn's ``MLPClassifier`` calls them
``hidden_layer_sizes`` (``hidden``), ``learning_rate_init`` (``lr``), ``max_iter``
(``epochs``), ``validation_fraction`` (``val_split``), ``n_iter_no_change``
(``early_stopping``), ``random_state`` (``seed``), and its ``alpha`` is ippo's
``weight_decay`` times the number of samples. The trained network is ``estimator.model_``,
an ``ippo.models.MLP``: ``model_.save(path)`` writes ippo's pickle-free model file and
``ippo.onnx.export(estimator, path)`` an ONNX model whose labels are ``classes_``. Pickling
the estimator (what joblib does) keeps the weights, not the training-time buffers.
"""

import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_scalar
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as _exc:  # scikit-learn older than 1.6 has no validate_data
    raise ImportError(f"ippo.sklearn needs scikit-learn 1.6 or later (pip install -U "
                      f"scikit-learn): {_exc}") from None

from ippo import blas, optimizers

__all__ = ["MLPClassifier", "MLPRegressor", "EXPECTED_FAILED_CHECKS"]

#: scikit-learn estimator checks these estimators are declared to fail, with the reason
#: ({check name: reason}); ``parametrize_with_checks(..., expected_failed_checks=...)`` takes
#: it. Empty: every check passes.
EXPECTED_FAILED_CHECKS = {}


def _options(est):
    """The estimator's hyper-parameters, checked (``ValueError`` / ``TypeError`` naming the
    parameter, as scikit-learn's ``check_scalar`` words it)."""
    name = type(est).__name__
    hidden = est.hidden
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        hidden = tuple(hidden)
    except TypeError:
        hidden = None
    if hidden is None or any(isinstance(h, bool) or not isinstance(h, numbers.Integral)
                             or h < 1 for h in hidden):
        raise ValueError(f"{name}: hidden must be a tuple of positive layer sizes such as "
                         f"(100,) or (64, 64) (() for no hidden layer), got {est.hidden!r}")
    if not isinstance(est.optimizer, str) or est.optimizer.lower() not in optimizers.OPTIMIZERS:
        raise ValueError(f"{name}: optimizer must be one of "
                         f"{', '.join(optimizers.OPTIMIZERS)}, got {est.optimizer!r}")
    if est.lr is not None:
        check_scalar(est.lr, "lr", numbers.Real, min_val=0, include_boundaries="neither")
    check_scalar(est.epochs, "epochs", numbers.Integral, min_val=1)
    if est.batch_size is not None:
        check_scalar(est.batch_size, "batch_size", numbers.Integral, min_val=1)
    check_scalar(est.dropout, "dropout", numbers.Real, min_val=0, max_val=1,
                 include_boundaries="left")
    check_scalar(est.weight_decay, "weight_decay", numbers.Real, min_val=0)
    early = est.early_stopping
    if early is True:
        early = 10
    elif early is False or early is None:
        early = None
    else:
        early = check_scalar(early, "early_stopping", numbers.Integral, min_val=1)
    val_split = est.val_split
    if val_split is None:
        val_split = 0.1 if early else 0.0
    else:
        check_scalar(val_split, "val_split", numbers.Real, min_val=0, max_val=1,
                     include_boundaries="left")
    if early and not val_split:
        raise ValueError(f"{name}: early_stopping needs validation data: val_split > 0")
    if est.seed is not None:
        check_scalar(est.seed, "seed", numbers.Integral, min_val=0)
    dtype = np.dtype(est.dtype) if est.dtype in ("float32", "float64", np.float32,
                                                 np.float64) else None
    if dtype is None:
        raise ValueError(f"{name}: dtype must be 'float32' or 'float64', got {est.dtype!r}")
    if est.threads is not None:
        check_scalar(est.threads, "threads", numbers.Integral, min_val=1)
    if est.batchnorm and est.batch_size == 1:
        raise ValueError(f"{name}: batchnorm needs batch_size 2 or more (a batch of one "
                         f"sample has no variance)")
    return {"hidden": hidden, "early_stopping": early, "val_split": float(val_split),
            "dtype": dtype}


#: The hyper-parameters that decide the network built by the first fit: a warm start
#: (``warm_start=True`` or ``partial_fit``) must leave them as they were.
_ARCHITECTURE = ("hidden", "activation", "init", "batchnorm", "dropout", "optimizer", "dtype")


class _MLPEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters, fitting, pickling."""

    _task = None  # "multiclass" (or "binary", by the number of classes) or "regression"

    def __init__(self, hidden=(100,), activation="relu", init="auto", optimizer="adam",
                 lr=None, epochs=200, batch_size=200, dropout=0.0, batchnorm=False,
                 weight_decay=0.0, early_stopping=None, val_split=None, seed=0, verbose=0,
                 warm_start=False, dtype="float32", threads=1):
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.val_split = val_split
        self.seed = seed
        self.verbose = verbose
        self.warm_start = warm_start
        self.dtype = dtype
        self.threads = threads

    # ------------------------------------------------------------------ fitting

    def _fit(self, X, y, partial, classes=None):
        opts = _options(self)
        with blas.threads(self.threads):  # None: as it is
            return self._fit_checked(X, y, partial, classes, opts)

    def _fit_checked(self, X, y, partial, classes, opts):
        keep = (partial or self.warm_start) and hasattr(self, "model_")
        if keep:
            self._check_architecture(opts)
        X, y = validate_data(self, X, y, reset=not keep, dtype=(np.float64, np.float32),
                             y_numeric=self._task == "regression",
                             multi_output=self._task == "regression")
        X = X.astype(opts["dtype"], copy=False)
        t = self._targets(y, keep, classes, opts["dtype"])
        if not keep:
            self._build(X.shape[1], opts)
        else:
            if self.lr is not None:
                self.optimizer_.lr = float(self.lr)
            self.model_.weight_decay = float(self.weight_decay)
        history = self._train(X, t, opts, partial, self._seed_for(keep))
        self.history_ = history
        self.n_iter_ = (self.n_iter_ if keep else 0) + len(history)
        self.loss_curve_ = (self.loss_curve_ if keep else []) + list(history["loss"])
        self.best_epoch_ = history.best_epoch
        return self

    def _architecture(self, opts):
        """The ``_ARCHITECTURE`` hyper-parameters as the network is built from them."""
        return {k: opts[k] if k in opts else getattr(self, k) for k in _ARCHITECTURE}

    def _check_architecture(self, opts):
        built, now = self._built_with, self._architecture(opts)
        for k in _ARCHITECTURE:
            if now[k] != built[k]:
                raise ValueError(f"{type(self).__name__}: {k} changed from {built[k]!r} to "
                                 f"{now[k]!r} since the network was built; a warm start "
                                 f"(warm_start=True, partial_fit) continues that network: "
                                 f"set warm_start=False to fit a new one")

    def _build(self, n_features, opts):
        from ippo.models import MLP

        n_out = self._n_outputs()
        task = self._task if self._task == "regression" else (
            "binary" if n_out == 1 else "multiclass")
        self.model_ = MLP([n_features, *opts["hidden"], n_out], activation=self.activation,
                          task=task, init=self.init, dropout=self.dropout,
                          batchnorm=self.batchnorm, weight_decay=self.weight_decay,
                          dtype=opts["dtype"], seed=self.seed)
        kwargs = {} if self.lr is None else {"lr": float(self.lr)}
        self.optimizer_ = optimizers.get(self.optimizer, **kwargs)
        self._folded = False  # MLPRegressor: the target scaling is not in the weights yet
        self._built_with = self._architecture(opts)

    def _train(self, X, t, opts, partial, seed):
        from ippo.preprocessing import train_test_split
        from ippo.training import Trainer

        n = len(X)
        x_val = t_val = None
        early = None if partial else opts["early_stopping"]
        if opts["val_split"] > 0 and not partial:
            n_val = int(round(n * opts["val_split"]))
            if not 0 < n_val < n:
                raise ValueError(f"{type(self).__name__}: val_split={opts['val_split']:g} "
                                 f"holds out {n_val} of {n} samples; both parts need at least "
                                 f"one")
            stratify = self._task != "regression"
            try:
                (X, t), (x_val, t_val) = train_test_split(X, t, n_val, seed=seed,
                                                          stratify=stratify)
            except ValueError:  # too few samples of a class to stratify
                (X, t), (x_val, t_val) = train_test_split(X, t, n_val, seed=seed)
        bs = self.batch_size
        bs = None if bs is None or bs >= len(X) else int(bs)
        if self.batchnorm and len(X) < 2:
            raise ValueError(f"{type(self).__name__}: batchnorm needs 2 or more training "
                             f"samples, got 1 sample")
        self._unfold_targets()
        try:
            trainer = Trainer(self.model_, self.optimizer_, verbose=int(self.verbose))
            return trainer.fit(X, t, epochs=1 if partial else self.epochs, batch_size=bs,
                               x_val=x_val, t_val=t_val, seed=seed,
                               early_stopping=early, eval_train=False)
        finally:
            self._fold_targets()
            self.model_.eval()

    def _seed_for(self, keep):
        """The seed of this call's shuffling and split: ``seed`` for a new fit; for a warm
        start one that also depends on the epochs run so far, so that each call shuffles
        differently (and reproducibly)."""
        if self.seed is None:
            return None
        return [int(self.seed), int(self.n_iter_)] if keep else int(self.seed)

    def _unfold_targets(self):
        """Hook: the regressor learns standardized targets (see ``MLPRegressor``)."""

    def _fold_targets(self):
        """Hook: the regressor folds the target scaling back into the last layer."""

    def _predict_input(self, X):
        """``(network, X)`` for a prediction: ``X`` checked against the fit and as float64,
        and the network in float64.

        A float32 network is copied to float64 for each prediction (no random draws: a
        ``Sequential`` of its layers, then its weights; cheap next to the forward pass):
        float32 matrix products round differently for one sample than for a batch (BLAS
        takes another kernel, ~1e-7 apart), and an estimator's predictions must not depend
        on how the samples are batched. A copy made anew each time can never be stale,
        even if ``model_`` is changed by hand.
        """
        from ippo.models import Sequential

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        model = self.model_
        if model.dtype != np.float64:
            config = Sequential.config(model)
            config["dtype"] = "float64"
            model = Sequential.from_config(config).load_state_dict(model.state_dict())
        return model.eval(), X

    # ------------------------------------------------------------------ pickling

    def __getstate__(self):
        """The estimator's state for pickle / joblib: the model is stored as a fresh copy
        (its weights and buffers), without the arrays its last forward pass kept, the
        optimizer with its state, the history with its numbers only."""
        state = self.__dict__.copy()
        if "history_" in state:  # its numbers, not the trainer it recorded for
            state["history_"] = type(self.history_).from_dict(self.history_.to_dict())
        if "model_" in state:
            state["model_"] = self.model_.copy()
            opt = type(self.optimizer_)()  # the optimizer's state, not its last lists
            opt.load_state_dict(self.optimizer_.state_dict())
            state["optimizer_"] = opt
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.seed is None
        return tags


class MLPClassifier(ClassifierMixin, _MLPEstimator):
    """A multi-layer perceptron classifier: ippo's ``MLP`` as a scikit-learn estimator.

    Two classes make a binary network (one sigmoid output, binary cross-entropy); more make
    softmax outputs with cross-entropy. ``classes_`` holds the labels in sorted order, of
    any type (numbers, strings); ``predict`` returns them, ``predict_proba`` one column per
    class (N, K). The network is Affine → (BatchNormalization) → activation → (Dropout) per
    hidden layer, then Affine: ``ippo.models.MLP([n_features, *hidden, outputs])``.

    Parameters (ippo train's options):

    - ``hidden`` (100,): hidden layer sizes; ``activation`` "relu" (sigmoid, tanh,
      leaky_relu, identity); ``init`` "auto" (he, xavier, or a std).
    - ``optimizer`` "adam" (sgd, momentum, nesterov, adagrad, rmsprop, adadelta) and its
      learning rate ``lr`` (None: the optimizer's default, 0.001 for Adam).
    - ``epochs`` 200: passes over the training data; ``batch_size`` 200 (None: all samples,
      batch gradient descent; capped at the number of samples).
    - ``dropout`` 0.0, ``batchnorm`` False, ``weight_decay`` 0.0 (L2 λ: ½·λ·ΣW² is added
      to the loss).
    - ``early_stopping`` None: an int patience (True = 10) stops when the validation loss
      has not improved for that many epochs and keeps the best weights; ``val_split``
      (default 0.1 with early stopping, else 0) is the fraction of the training data held
      out (stratified) for validation.
    - ``seed`` 0: weights, dropout masks, shuffling and the split (None: a new draw each
      fit); ``verbose`` 0 (1: a progress line per epoch); ``warm_start`` False (True:
      ``fit`` continues the trained network); ``dtype`` "float32" (or "float64").
    - ``threads`` 1: BLAS threads while fitting, as ``ippo train --threads`` (one thread
      is the fastest for MLP-sized products on a small, busy machine); None leaves the
      BLAS's own setting.

    After ``fit``: ``model_`` (the ``ippo.models.MLP``), ``optimizer_``, ``classes_``,
    ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame), ``n_iter_`` (epochs
    run in all), ``loss_curve_`` (the training loss per epoch), ``history_`` (the last
    call's ``ippo.training.History``), ``best_epoch_`` (with early stopping).
    """

    _task = "multiclass"

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,) for
        ``epochs`` epochs (fewer with early stopping); returns self."""
        return self._fit(X, y, partial=False)

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``X``, ``y``, continuing the network if there is one (no early
        stopping). The first call needs ``classes``: every label the data will hold."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(f"{type(self).__name__}.partial_fit: the first call needs "
                             f"classes= (all the labels that y may hold)")
        return self._fit(X, y, partial=True, classes=classes)

    def _n_outputs(self):
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _targets(self, y, keep, classes, dtype):
        """Class indices 0..K-1 of the labels ``y`` (sets ``classes_`` on a new fit)."""
        check_classification_targets(y)
        y = column_or_1d(y, warn=True)
        if not keep:
            if classes is not None:
                classes = np.unique(np.asarray(classes))
                check_classification_targets(classes)
            found = np.unique(y)
            if classes is None:
                classes = found
            if len(classes) < 2:
                raise ValueError(f"{type(self).__name__}: y holds 1 class ({classes[0]!r}); "
                                 f"a classifier needs samples of at least 2 classes")
            self.classes_ = classes
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"{type(self).__name__}: y holds labels that are not in "
                             f"classes_ {list(self.classes_)}: {list(unknown)[:5]}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def predict(self, X):
        """The predicted label of each sample (one of ``classes_``): the most probable
        class, argmax of the scores (for two classes: score > 0, i.e. p > ½)."""
        model, X = self._predict_input(X)
        return self.classes_[model.predict_classes(X)]

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in ``classes_`` order, as
        float64 (scikit-learn's convention): softmax of the scores; for two classes
        [1 − σ(s), σ(s)]."""
        model, X = self._predict_input(X)
        p = model.predict(X)
        return np.hstack([1 - p, p]) if len(self.classes_) == 2 else p

    def predict_log_proba(self, X):
        """log ``predict_proba(X)``: the logarithm of the class probabilities."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """A multi-layer perceptron for regression: ippo's ``MLP`` (identity output, mean
    squared error) as a scikit-learn estimator.

    ``y`` of shape (n_samples,) or (n_samples, n_outputs); ``predict`` gives the same shape.
    The network learns standardized targets, y' = (y − μ)/σ (as ``ippo train`` does: the
    scale of y then does not change the learning rate that works); after each fit that
    scaling is folded into the last Affine layer (W·σ, b·σ + μ), so ``model_.predict`` gives
    values in y's own units. The parameters are ``MLPClassifier``'s.
    """

    _task = "regression"

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` for ``epochs`` epochs
        (fewer with early stopping); returns self."""
        return self._fit(X, y, partial=False)

    def partial_fit(self, X, y):
        """One epoch over ``X``, ``y``, continuing the network if there is one (no early
        stopping)."""
        return self._fit(X, y, partial=True)

    def _n_outputs(self):
        return self._n_targets

    def _targets(self, y, keep, classes, dtype):
        """``y`` as (n_samples, n_outputs) of ``dtype`` (sets the target scaling on a new
        fit)."""
        y = np.asarray(y, dtype=dtype)
        one_d = y.ndim == 1
        y2 = y.reshape(-1, 1) if one_d else y
        if keep:
            if y2.shape[1] != self._n_targets:
                raise ValueError(f"{type(self).__name__}: y has {y2.shape[1]} outputs, the "
                                 f"network was built for {self._n_targets}")
        else:
            self._n_targets, self._y_1d = y2.shape[1], one_d
            mean = y2.mean(axis=0, dtype=np.float64)
            std = y2.std(axis=0, dtype=np.float64)
            std[std < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0  # a constant target
            self._y_mean, self._y_std = mean, std
        return y2

    def _scale_last_layer(self, forward):
        """Fold (``forward``: W·σ, b·σ + μ) or unfold ((b − μ)/σ, W/σ) the target scaling
        into the last Affine layer."""
        W, b = self.model_.layers[-1].params
        mean, std = self._y_mean.astype(W.dtype), self._y_std.astype(W.dtype)
        if forward:
            W *= std
            b *= std
            b += mean
        else:
            b -= mean
            b /= std
            W /= std

    def _unfold_targets(self):
        if getattr(self, "_folded", False):
            self._scale_last_layer(False)
            self._folded = False

    def _fold_targets(self):
        self._scale_last_layer(True)
        self._folded = True

    def _targets_for_training(self, t):
        return (t - self._y_mean) / self._y_std

    def _train(self, X, t, opts, partial, seed):
        t = self._targets_for_training(t).astype(opts["dtype"])
        return super()._train(X, t, opts, partial, seed)

    def predict(self, X):
        """The predicted values: the network's outputs (n_samples,) or (n_samples,
        n_outputs), in y's units, as float64 (scikit-learn's convention)."""
        model, X = self._predict_input(X)
        y = model.predict(X)
        return y[:, 0] if self._y_1d else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
