"""Export a trained model to ONNX, to run it where ippo (or Python) is absent.

    import ippo.onnx
    ippo.onnx.export(model, "model.onnx")              # any models.MLP / Sequential, nn.MLP
    ippo.onnx.export_run("runs/20261123-112151", "model.onnx")   # + the run's input scaling

    import onnxruntime as ort                          # pip install onnxruntime
    session = ort.InferenceSession("model.onnx")
    probabilities, label = session.run(None, {"input": x.astype("float32")})

The graph, layer by layer (``ippo.layers`` → ONNX operator):

- Affine: y = x·W + b → ``Gemm``; MatMul: y = x·W → ``MatMul``; Embedding (the first layer
  only: it looks up integer ids): y = W[ids] → ``Gather``, then ``Flatten`` to (N, T·D)
  before a layer with weights, as ``Affine`` flattens;
- ReLU, Sigmoid, Tanh → ``Relu``, ``Sigmoid``, ``Tanh``; LeakyReLU(α) → ``LeakyRelu``;
- BatchNormalization in its inference form, y = γ·(x − μ_run)/√(σ²_run + ε) + β →
  ``BatchNormalization``; Identity and Dropout (the identity at inference) → no node.

What the model outputs, per task (the loss layer's ``output``):

- "multiclass": ``probabilities`` = softmax(scores) (N, K) and ``label`` = argmax(scores) (N,);
- "binary": ``probabilities`` = [1 − σ(s), σ(s)] (N, 2) and ``label`` = [s > 0] (N,)
  (the two-column form of ``ippo predict --probs`` and scikit-learn's ``predict_proba``);
- "regression": ``values`` = the scores (N, outputs), in the original units when the run
  scaled its targets (``target_scaler``): values = scores·σ_t + μ_t.

``label`` is the class index (int64), or the class's name where class names are known (a
run's ``class_names``, a scikit-learn estimator's ``classes_``): a string, or the integer
label itself.

Inputs: ``input``, float32 of shape (N, features) with a dynamic batch size N (int64 ids
(N, T) for a model that starts with an Embedding). A CSV run with text (category) columns
takes ``input`` (N, number columns) and ``categories``, strings (N, text columns), each
in the file's column order, and one-hot encodes the texts with the training categories (a
text it did not see, or a missing cell, gives all 0, as in ``ippo predict``; give the texts
without surrounding spaces, as ``ippo predict`` strips them). With ``fill_values`` a missing value
(NaN) is replaced by its column's fill value, then ``input_scaler`` scales the features, in
that order, exactly as ``ippo predict`` prepares its inputs, so that the exported model of a
run takes raw features. Unlike ``ippo predict``, a graph cannot refuse its input: a NaN left
unfilled, or an infinite value, gives NaN outputs.
"""

import json
import os

import numpy as np

import ippo
from ippo.tasks import ACTIVATIONS, TASKS

#: The ONNX operator set the graphs use. Every operator here has had its present meaning
#: since opset 13 (Softmax over one axis, Squeeze/Reshape with inputs); 17 is the opset of
#: ONNX 1.12 (2022), which ONNX Runtime loads since release 1.12, so an exported model also
#: runs on the older runtimes found on phones, in browsers and in C++ deployments, and the
#: current ONNX Runtime (1.31) loads it too. A newer opset would add nothing this graph uses.
OPSET = 17
#: The ONNX IR (file format) version written: 8, the version ONNX 1.12 writes together with
#: opset 17 (``onnx.helper.VERSION_TABLE``); ONNX Runtime reads IR 8 since release 1.10.
IR_VERSION = 8

#: The ONNX operator of each activation of ``ippo.tasks.ACTIVATIONS`` (None: no node).
ACTIVATION_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
                  "leaky_relu": "LeakyRelu", "identity": None}

#: The ippo layer / autograd module classes that have an ONNX form (by class name).
SUPPORTED = ("Affine", "Linear", "MatMul", "Embedding", "BatchNormalization", "Dropout") + tuple(
    a.cls for a in ACTIVATIONS.values() if a.name in ACTIVATION_OPS)

__all__ = ["export", "export_run", "to_onnx", "run_options", "OPSET", "ML_OPSET", "IR_VERSION",
           "SUPPORTED", "ACTIVATION_OPS", "TASK_OUTPUTS"]


def _onnx():
    """The ``onnx`` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError('ippo.onnx needs the onnx package: pip install -e ".[onnx]" '
                          "(or pip install onnx)") from None
    return onnx


# --------------------------------------------------------------------------- the model's steps


class _Step:
    """One ONNX-able computation: ``kind`` ("gemm", "matmul", "embedding", "batchnorm",
    "activation"), its arrays and attributes, and ``where`` (the layer's name, for
    messages)."""

    def __init__(self, kind, where, arrays=(), **attrs):
        self.kind, self.where, self.arrays, self.attrs = kind, where, list(arrays), attrs


def _f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def _no_form(where, layer, why=None):
    return ValueError(
        f"ippo.onnx.export: {where} ({type(layer).__name__}) has no ONNX form"
        + (f": {why}" if why else "")
        + f"; the layers that have one: {', '.join(SUPPORTED)}")


def _layer_step(layer, where):
    """The step of one ``ippo.layers`` layer or ``ippo.autograd.nn`` module (None: removed)."""
    from ippo import layers as L
    from ippo.autograd import nn

    act = _activation_name(layer)
    if act is not None:
        if act not in ACTIVATION_OPS:
            raise _no_form(where, layer, f"no ONNX operator for the activation {act!r}")
        op = ACTIVATION_OPS[act]
        if op is None:
            return None
        attrs = {"alpha": float(layer.alpha)} if op == "LeakyRelu" else {}
        return _Step("activation", where, op=op, **attrs)
    if isinstance(layer, (L.Dropout, nn.Dropout)):
        return None
    if isinstance(layer, L.Affine):
        return _Step("gemm", where, [layer.W, layer.b])
    if isinstance(layer, nn.Linear):
        if layer.b is None:
            return _Step("matmul", where, [layer.W.data])
        return _Step("gemm", where, [layer.W.data, layer.b.data])
    if isinstance(layer, L.MatMul):
        return _Step("matmul", where, [layer.W])
    if isinstance(layer, L.Embedding):
        return _Step("embedding", where, [layer.W])
    if isinstance(layer, L.BatchNormalization):
        gamma, beta = layer.params
        return _Step("batchnorm", where, [gamma, beta, layer.running_mean, layer.running_var],
                     eps=float(layer.eps))
    if isinstance(layer, nn.BatchNormalization):
        return _Step("batchnorm", where, [layer.gamma.data, layer.beta.data, layer.running_mean,
                                          layer.running_var], eps=float(layer.eps))
    raise _no_form(where, layer)


def _activation_name(layer):
    """The ``ippo.tasks.ACTIVATIONS`` name of an activation layer or module (its class is
    the row's class in ``ippo.layers`` or ``ippo.autograd.nn``), else None."""
    from ippo import layers as L
    from ippo.autograd import nn

    cls = type(layer)
    for a in ACTIVATIONS.values():
        if cls is getattr(L, a.cls, None) or cls is getattr(nn, a.cls, None):
            return a.name
    return None


def _unwrap(model):
    """``(model, class_names)``: a scikit-learn estimator of ``ippo.sklearn`` gives its
    ``model_`` (and ``classes_``), ``nn.Trainable`` its autograd model."""
    from ippo.autograd import nn

    labels = None
    if hasattr(model, "get_params") and type(model).__module__ == "ippo.sklearn":
        if not hasattr(model, "model_"):
            raise ValueError(f"ippo.onnx.export: this {type(model).__name__} is not fitted "
                             f"yet; call fit first")
        labels = getattr(model, "classes_", None)
        model = model.model_
    if isinstance(model, nn.Trainable):
        model = model.model
    return model, labels


def _steps(model):
    """``(task, steps)`` of an ``ippo.models`` model or an ``ippo.autograd.nn.MLP``."""
    from ippo import models
    from ippo.autograd import nn

    if isinstance(model, models.Sequential):
        named = list(zip(model.layer_names, model.layers, strict=True))
        task = model.task
    elif isinstance(model, nn.MLP):
        names = {id(v): k for k, v in vars(model).items() if isinstance(v, nn.Module)}
        named = [(names.get(id(m), type(m).__name__), m) for m in model._order]
        task = model.task
    else:
        raise ValueError(f"ippo.onnx.export: expected an ippo.models model (MLP, Sequential), "
                         f"an ippo.autograd.nn.MLP or an ippo.sklearn estimator, got "
                         f"{type(model).__name__}")
    if task not in TASKS:
        raise ValueError(f"ippo.onnx.export: the model's loss layer gives no known task "
                         f"(got {task!r}); the graph's outputs depend on it")
    if task not in TASK_OUTPUTS:
        raise ValueError(f"ippo.onnx.export: the task {task!r} has no ONNX outputs yet")
    steps = []
    for i, (name, layer) in enumerate(named):
        step = _layer_step(layer, f"layer {i + 1} {name}")
        if step is not None:
            steps.append(step)
    return task, steps


def _in_width(step):
    """The number of features the step takes per sample (None for elementwise steps)."""
    if step.kind in ("gemm", "matmul"):
        return step.arrays[0].shape[0]
    if step.kind == "batchnorm":
        return step.arrays[0].shape[0]
    return None


def _out_width(step):
    if step.kind in ("gemm", "matmul"):
        return step.arrays[0].shape[1]
    return _in_width(step)


# --------------------------------------------------------------------------- scalers


def _scaler_ops(scaler, what, inverse=False):
    """``[(onnx op, float32 array)]`` applying ``scaler`` as ippo does: an ippo
    ``Standardizer`` / ``MinMaxScaler``, its ``to_dict()``, or scikit-learn's fitted
    ``StandardScaler`` / ``MinMaxScaler``. ``inverse``: the inverse transform (targets)."""
    from ippo.preprocessing import MinMaxScaler, Standardizer, scaler_from_dict

    if scaler is None:
        return []
    if isinstance(scaler, dict):
        scaler = scaler_from_dict(scaler)
    kind = type(scaler).__name__
    if isinstance(scaler, Standardizer):
        if scaler.mean_ is None:
            raise ValueError(f"ippo.onnx.export: {what} is not fitted")
        if inverse:  # x = x'·std + mean
            return [("Mul", _f32(scaler.std_)), ("Add", _f32(scaler.mean_))]
        return [("Sub", _f32(scaler.mean_)), ("Div", _f32(scaler.std_))]
    if isinstance(scaler, MinMaxScaler):
        if scaler.min_ is None:
            raise ValueError(f"ippo.onnx.export: {what} is not fitted")
        scale, lo = scaler._scale(np.float32), _f32(scaler.feature_range[0])
        if inverse:  # x = (x' − lo) / scale + min
            return [("Sub", lo), ("Div", scale), ("Add", _f32(scaler.min_))]
        return [("Sub", _f32(scaler.min_)), ("Mul", scale), ("Add", lo)]
    module = type(scaler).__module__.split(".")[0]
    if module == "sklearn" and kind == "StandardScaler" and hasattr(scaler, "n_features_in_"):
        mean, scale = getattr(scaler, "mean_", None), getattr(scaler, "scale_", None)
        if inverse:
            return ([("Mul", _f32(scale))] if scale is not None else []) + \
                   ([("Add", _f32(mean))] if mean is not None else [])
        return ([("Sub", _f32(mean))] if mean is not None else []) + \
               ([("Div", _f32(scale))] if scale is not None else [])
    if module == "sklearn" and kind == "MinMaxScaler" and hasattr(scaler, "n_features_in_"):
        if scaler.clip:
            raise ValueError(f"ippo.onnx.export: {what}: a MinMaxScaler with clip=True is not "
                             f"supported")
        if inverse:
            return [("Sub", _f32(scaler.min_)), ("Div", _f32(scaler.scale_))]
        return [("Mul", _f32(scaler.scale_)), ("Add", _f32(scaler.min_))]
    raise ValueError(f"ippo.onnx.export: {what} must be a fitted ippo.preprocessing "
                     f"Standardizer or MinMaxScaler (or its to_dict()), or scikit-learn's "
                     f"fitted StandardScaler or MinMaxScaler, got {kind}")


def _check_width(ops, width, what):
    for op, a in ops:
        if a.size != 1 and a.shape[-1:] != (width,):
            raise ValueError(f"ippo.onnx.export: {what} has {a.shape[-1]} features, the model "
                             f"{width} ({op})")


# --------------------------------------------------------------------------- the graph


class _Graph:
    """Nodes and constants of the graph under construction, with unique names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers, self._used = [], [], set()

    def _name(self, hint):
        name, k = hint, 1
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def const(self, hint, array):
        """A constant (an initializer) holding ``array``; returns its name."""
        from onnx import numpy_helper

        name = self._name(hint)
        array = np.asarray(array)
        if array.dtype.kind in "USO":  # class names: a string tensor
            tensor = self.onnx.helper.make_tensor(
                name, self.onnx.TensorProto.STRING, array.shape,
                [str(s).encode("utf-8") for s in array.ravel()])
        else:
            tensor = numpy_helper.from_array(array, name)
        self.initializers.append(tensor)
        return name

    def op(self, op_type, inputs, hint, doc=None, output=None, **attrs):
        """Add a node; returns the name of its output (``output`` if given)."""
        out = output or self._name(hint)
        node = self.onnx.helper.make_node(op_type, inputs, [out], name=self._name(f"{hint}_node"),
                                          **attrs)
        if doc:
            node.doc_string = doc
        self.nodes.append(node)
        return out


def _class_label_array(names, k):
    """Class names as an array the label output can gather from: int64 for integer labels,
    float64 for other numbers, strings otherwise."""
    arr = np.asarray(list(names))
    if arr.ndim != 1 or len(arr) != k:
        raise ValueError(f"ippo.onnx.export: class_names has {arr.size} names, the model "
                         f"{k} classes")
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    return np.array([str(s) for s in arr], dtype=object)


#: The ONNX-ML operator set (``ai.onnx.ml``) of ``OneHotEncoder``, for text columns.
ML_OPSET = 1


def _encode_columns(g, columns, width):
    """The graph inputs and nodes that turn a CSV's raw columns into the model's features,
    as ``ippo.datasets.tabular.encode_rows`` does: ``input`` float32 (N, numbers) holds the
    number columns in the file's order, ``categories`` string (N, texts) the text columns;
    each text column becomes its one-hot indicators (``ai.onnx.ml`` ``OneHotEncoder`` with
    the training categories; all 0 for any other text, a missing cell included), and the
    pieces are joined in the file's column order. Returns ``(inputs, x)``."""
    from onnx import TensorProto, helper

    numbers = [c for c in columns if c["kind"] == "number"]
    texts = [c for c in columns if c["kind"] == "category"]
    encoded = len(numbers) + sum(len(c["categories"]) for c in texts)
    if encoded != width:
        raise ValueError(f"ippo.onnx.export: columns describe {encoded} features, the model "
                         f"takes {width}")
    inputs = []
    if numbers:
        inputs.append(helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                    ["N", len(numbers)]))
    inputs.append(helper.make_tensor_value_info("categories", TensorProto.STRING,
                                                ["N", len(texts)]))
    pieces, n_seen, t_seen = [], 0, 0
    for c in columns:
        name = c["name"]
        if c["kind"] == "number":
            pieces.append(g.op("Gather", ["input", g.const(f"col_{n_seen}",
                                                           np.array([n_seen], np.int64))],
                               "number", axis=1, doc=f"column {name!r}"))
            n_seen += 1
            continue
        cell = g.op("Gather", ["categories", g.const(f"text_{t_seen}",
                                                     np.array([t_seen], np.int64))],
                    "text", axis=1, doc=f"column {name!r}")
        onehot = g.op("OneHotEncoder", [cell], "onehot", domain="ai.onnx.ml",
                      cats_strings=list(c["categories"]), zeros=1,
                      doc=f"column {name!r}: one 0/1 feature per training category")
        k = len(c["categories"])
        pieces.append(g.op("Reshape", [onehot, g.const(f"to_{k}", np.array([-1, k], np.int64))],
                           "onehot_2d"))
        t_seen += 1
    x = pieces[0] if len(pieces) == 1 else g.op("Concat", pieces, "features", axis=1,
                                                doc="the model's features, in file order")
    return inputs, x


def to_onnx(model, input_scaler=None, *, fill_values=None, target_scaler=None,
            class_names=None, feature_names=None, columns=None):
    """The ``onnx.ModelProto`` of ``model`` (see ``export`` for the arguments), checked with
    ``onnx.checker.check_model(..., full_check=True)``, not yet written anywhere."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    model, labels = _unwrap(model)
    if class_names is None and labels is not None:
        class_names = labels
    task, steps = _steps(model)
    if not any(s.kind in ("gemm", "matmul", "embedding", "batchnorm") for s in steps):
        raise ValueError("ippo.onnx.export: the model has no layer with weights (Affine, "
                         "MatMul, Embedding, BatchNormalization)")
    for i, s in enumerate(steps):
        if s.kind == "embedding" and i != 0:
            raise ValueError(f"ippo.onnx.export: {s.where} (Embedding) has no ONNX form "
                             f"here: it looks up integer ids, so it must be the model's first "
                             f"layer")
    g = _Graph(onnx)
    x = "input"
    embedding = steps[0].kind == "embedding"
    if embedding:
        if input_scaler is not None or fill_values is not None:
            raise ValueError("ippo.onnx.export: a model that starts with an Embedding takes "
                             "integer ids; input_scaler and fill_values do not apply")
        dim = steps[0].arrays[0].shape[1]
        nxt = next((s for s in steps[1:] if _in_width(s) is not None), None)
        if nxt is None:
            raise ValueError(f"ippo.onnx.export: {steps[0].where} (Embedding) must be "
                             f"followed by a layer with weights")
        if nxt.kind == "matmul":  # MatMul takes (N, D): one id per sample
            input_shape, flatten = ["N"], False
            if _in_width(nxt) != dim:
                raise ValueError(f"ippo.onnx.export: {nxt.where} takes {_in_width(nxt)} "
                                 f"features, the Embedding gives {dim}")
        else:
            if _in_width(nxt) % dim:
                raise ValueError(f"ippo.onnx.export: {nxt.where} takes {_in_width(nxt)} "
                                 f"features, not a multiple of the Embedding's {dim}")
            input_shape, flatten = ["N", _in_width(nxt) // dim], True
        inputs = [helper.make_tensor_value_info(x, TensorProto.INT64, input_shape)]
        width = None
    else:
        width = next(_in_width(s) for s in steps if _in_width(s) is not None)
        inputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", width])]
        flatten = False
        if columns is not None and any(c["kind"] == "category" for c in columns):
            inputs, x = _encode_columns(g, columns, width)
        else:
            columns = None

    # ---------------------------------------------------------------- raw features → inputs
    if fill_values is not None:
        fill = _f32(fill_values).reshape(-1)
        if fill.shape != (width,):
            raise ValueError(f"ippo.onnx.export: fill_values has {fill.size} values, the "
                             f"model takes {width} features")
        missing = g.op("IsNaN", [x], "missing", doc="a missing value (NaN) in the input")
        x = g.op("Where", [missing, g.const("fill_values", fill), x], "filled",
                 doc="missing values filled as the training data's were")
    scale_in = _scaler_ops(input_scaler, "input_scaler")
    _check_width(scale_in, width, "input_scaler")
    for op, a in scale_in:
        x = g.op(op, [x, g.const(f"input_scaler_{op.lower()}", a)], "scaled",
                 doc="input scaling fitted on the training data")

    # ---------------------------------------------------------------- the layers
    for s in steps:
        doc = s.where
        a = [_f32(arr) for arr in s.arrays]
        w = s.where.split()[-1]  # "Affine1"
        if s.kind == "embedding":
            x = g.op("Gather", [g.const(f"{w}.W", a[0]), x], w, doc=doc, axis=0)
            if flatten:
                x = g.op("Flatten", [x], f"{w}_flat", doc="(N, T, D) → (N, T·D)", axis=1)
        elif s.kind == "gemm":
            x = g.op("Gemm", [x, g.const(f"{w}.W", a[0]), g.const(f"{w}.b", a[1])], w, doc=doc)
        elif s.kind == "matmul":
            x = g.op("MatMul", [x, g.const(f"{w}.W", a[0])], w, doc=doc)
        elif s.kind == "batchnorm":
            ins = [x] + [g.const(f"{w}.{n}", arr) for n, arr in
                         zip(("gamma", "beta", "running_mean", "running_var"), a, strict=True)]
            x = g.op("BatchNormalization", ins, w, doc=doc, epsilon=s.attrs["eps"])
        else:  # an activation
            attrs = {k: v for k, v in s.attrs.items() if k != "op"}
            x = g.op(s.attrs["op"], [x], w, doc=doc, **attrs)
    scores = x
    n_out = next(_out_width(s) for s in reversed(steps) if _out_width(s) is not None)
    if steps[-1].kind == "embedding":
        n_out = steps[-1].arrays[0].shape[1]

    # ---------------------------------------------------------------- outputs
    outputs = []
    if task == "regression":
        if class_names is not None:
            raise ValueError("ippo.onnx.export: a regression model has no classes; leave "
                             "class_names out")
        ops = _scaler_ops(target_scaler, "target_scaler", inverse=True)
        _check_width(ops, n_out, "target_scaler")
        y = scores
        for i, (op, a) in enumerate(ops):
            last = i == len(ops) - 1
            y = g.op(op, [y, g.const(f"target_scaler_{op.lower()}", a)], "unscaled",
                     output="values" if last else None,
                     doc="back to the targets' own units")
        if not ops:
            y = g.op("Identity", [y], "values", output="values", doc="the predicted values")
        outputs.append(helper.make_tensor_value_info("values", TensorProto.FLOAT,
                                                     ["N", n_out]))
    else:
        if target_scaler is not None:
            raise ValueError("ippo.onnx.export: target_scaler is for regression models")
        k, index = TASK_OUTPUTS[task](g, scores, n_out)
        outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                     ["N", k]))
        if class_names is None:
            g.op("Identity", [index], "label", output="label", doc="the class index")
            label_type = TensorProto.INT64
        else:
            names = _class_label_array(class_names, k)
            g.op("Gather", [g.const("class_names", names), index], "label", output="label",
                 axis=0, doc="the predicted class's name")
            label_type = {"i": TensorProto.INT64, "f": TensorProto.DOUBLE}.get(
                names.dtype.kind, TensorProto.STRING)
        outputs.append(helper.make_tensor_value_info("label", label_type, ["N"]))

    graph = helper.make_graph(g.nodes, f"ippo_{type(model).__name__}", inputs, outputs,
                              initializer=g.initializers,
                              doc_string=f"ippo {ippo.__version__}: {model!r}")
    opsets = [helper.make_opsetid("", OPSET)]
    if columns is not None:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    proto = helper.make_model(graph, opset_imports=opsets,
                              ir_version=IR_VERSION, producer_name="ippo",
                              producer_version=ippo.__version__,
                              doc_string=f"{type(model).__name__} ({task}) exported by ippo")
    meta = {"task": task}
    if class_names is not None:
        meta["class_names"] = json.dumps([_jsonable(c) for c in class_names])
    if feature_names is not None:
        meta["feature_names"] = json.dumps([str(f) for f in feature_names])
    if columns is not None:
        meta["columns"] = json.dumps([{k: v for k, v in c.items() if not k.startswith("_")}
                                      for c in columns])
    helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _softmax_argmax(g, scores, n_out):
    """Multiclass: ``probabilities`` = softmax(scores), the class index argmax(scores)."""
    g.op("Softmax", [scores], "probabilities", output="probabilities", axis=-1,
         doc="class probabilities: softmax of the scores")
    index = g.op("ArgMax", [scores], "class_index", axis=1, keepdims=0,
                 doc="the predicted class: argmax of the scores")
    return n_out, index


def _sigmoid_positive(g, scores, n_out):
    """Binary: ``probabilities`` = [1 − σ(s), σ(s)], the class index [s > 0]."""
    from onnx import TensorProto

    p = g.op("Sigmoid", [scores], "p1", doc="probability of class 1: σ(score)")
    p0 = g.op("Sub", [g.const("one", np.ones(1, np.float32)), p], "p0",
              doc="probability of class 0: 1 − σ(score)")
    g.op("Concat", [p0, p], "probabilities", output="probabilities", axis=1,
         doc="[1 − σ(s), σ(s)]")
    positive = g.op("Greater", [scores, g.const("zero", np.zeros(1, np.float32))],
                    "positive", doc="class 1 where the score is > 0 (σ > ½)")
    flat = g.op("Reshape", [positive, g.const("to_1d", np.array([-1], np.int64))],
                "positive_1d")
    return 2, g.op("Cast", [flat], "class_index", to=TensorProto.INT64)


#: The ONNX form of each task of ``ippo.tasks.TASKS``: its ``output`` and ``classes`` as
#: graph nodes, ``(g, scores, outputs) -> (classes, class index)`` (regression: its values,
#: see ``to_onnx``).
TASK_OUTPUTS = {"multiclass": _softmax_argmax, "binary": _sigmoid_positive, "regression": None}


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v


def export(model, path, input_scaler=None, *, fill_values=None, target_scaler=None,
           class_names=None, feature_names=None, columns=None):
    """Write ``model`` to ``path`` as an ONNX model, atomically; returns ``path``.

    ``model``: an ``ippo.models`` ``MLP`` or ``Sequential`` of the layers in ``SUPPORTED``,
    an ``ippo.autograd.nn.MLP``, or a fitted ``ippo.sklearn`` estimator (its ``model_``, with
    its ``classes_`` as the labels), for all three tasks; float64 models are exported in
    float32. The graph's inputs and outputs are described in the module docstring.

    - ``input_scaler``: the scaling fitted on the training inputs (an ippo ``Standardizer``
      or ``MinMaxScaler`` or its ``to_dict()``, or scikit-learn's ``StandardScaler`` /
      ``MinMaxScaler``): put into the graph, so the ONNX model takes raw features.
    - ``fill_values``: one value per feature that replaces a missing value (NaN) before the
      scaling (a CSV run's training-column means).
    - ``target_scaler``: the scaling of a regression model's targets; the graph undoes it.
    - ``class_names``: the names of the classes, in class-index order: ``label`` gives them.
    - ``feature_names``: stored in the model's metadata.
    - ``columns``: a CSV run's column description (``ippo.datasets.tabular.fit_columns``)
      when it has text columns: the graph then takes ``input`` (the number columns) and
      ``categories`` (the text columns, as strings) and one-hot encodes the texts with the
      training categories (``ai.onnx.ml`` ``OneHotEncoder``), as ``ippo predict`` does.

    Opset ``OPSET`` (17) and IR version ``IR_VERSION`` (8), pinned: every operator used has
    had its present meaning since opset 13, and 17 with IR 8 is what ONNX 1.12 writes, so the
    file loads in the current ONNX Runtime (1.31) and in every release since 1.12 (2022),
    including the older runtimes of phones, browsers and C++ deployments. The model passes
    ``onnx.checker.check_model(..., full_check=True)`` before it is written. A layer with no
    ONNX form raises ``ValueError`` naming the layer. Needs ``pip install onnx``.
    """
    from ippo.io import write_atomically

    proto = to_onnx(model, input_scaler, fill_values=fill_values, target_scaler=target_scaler,
                    class_names=class_names, feature_names=feature_names, columns=columns)
    data = proto.SerializeToString()
    return write_atomically(path, lambda f: f.write(data), suffix=".onnx")


def run_options(extra):
    """The ``export`` arguments a run's model file holds in its ``extra`` (as ``ippo train``
    writes it): input scaling, missing-value fill values, target scaling, class and feature
    names."""
    extra = extra or {}
    return {
        "input_scaler": extra.get("scaler"),
        "fill_values": extra.get("fill_values"),
        "target_scaler": extra.get("target_scaler"),
        "class_names": extra.get("class_names") if extra.get("task") != "regression" else None,
        "feature_names": extra.get("feature_names"),
        "columns": extra.get("columns"),
    }


def export_run(run, path):
    """Export the model of a run folder of ``ippo train`` (or its ``model.npz``) to ``path``,
    with the run's input scaling, missing-value filling, target scaling and class names in
    the graph: the ONNX model takes the raw features ``ippo predict`` takes and gives the
    same classes (by name) or values. Returns ``path``."""
    from ippo import models

    run = os.fspath(run)
    source = os.path.join(run, "model.npz") if os.path.isdir(run) else run
    if not os.path.isfile(source):
        raise FileNotFoundError(f"{run} is a folder without a model.npz" if source != run
                                else f"no such model file: {run}")
    model = models.load(source)
    return export(model, path, **run_options(getattr(model, "extra", None)))
