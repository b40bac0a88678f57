"""The value every loader returns: ``(x_train, t_train), (x_test, t_test)`` plus metadata."""

import numpy as np


class Dataset(tuple):
    """A pair ``((x_train, t_train), (x_test, t_test))`` that also carries metadata.

    It unpacks like the plain tuple the course uses::

        (x_train, t_train), (x_test, t_test) = load_mnist()

    and offers ``name``, ``task`` ("multiclass", "binary" or "regression"), ``class_names``
    (list of str or None), ``feature_names`` (list of str or None), ``image_shape`` (e.g.
    ``(28, 28)`` for MNIST or None), ``description`` and ``fill_values`` (for a CSV whose
    missing cells were filled: the value per feature, fitted on the training part, that
    new samples' missing cells should get too; else None) as attributes.
    """

    def __new__(cls, train, test, name="", task="multiclass", class_names=None,
                feature_names=None, image_shape=None, description="", fill_values=None):
        self = super().__new__(cls, (tuple(train), tuple(test)))
        self.name = name
        self.task = task
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_names = None if feature_names is None else [str(c) for c in feature_names]
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.description = description
        self.fill_values = None if fill_values is None else [float(v) for v in fill_values]
        return self

    @property
    def train(self):
        """The training part ``(x_train, t_train)`` (the same as ``data[0]``)."""
        return self[0]

    @property
    def test(self):
        """The test part ``(x_test, t_test)`` (the same as ``data[1]``)."""
        return self[1]

    @property
    def n_features(self):
        """Number of input features per sample: D, or H·W for images of shape (H, W)."""
        x = self[0][0]
        return int(np.prod(x.shape[1:]))

    @property
    def n_classes(self):
        """Number of classes (None for regression)."""
        if self.task == "regression":
            return None
        if self.class_names is not None:
            return len(self.class_names)
        t = self[0][1]
        return t.shape[1] if t.ndim == 2 else int(t.max()) + 1

    def __repr__(self):
        (x, t), (xt, tt) = self
        return (f"Dataset({self.name!r}, task={self.task!r}, train x{tuple(x.shape)} "
                f"t{tuple(t.shape)}, test x{tuple(xt.shape)} t{tuple(tt.shape)})")

    # tuple's pickling / copying would drop the attributes; a Dataset is not meant for that
    def __reduce__(self):
        return (Dataset, (self[0], self[1], self.name, self.task, self.class_names,
                          self.feature_names, self.image_shape, self.description,
                          self.fill_values))
