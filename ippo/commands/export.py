"""``ippo export MODEL -o model.onnx``: a trained model as an ONNX file.

The run's input scaling, missing-value filling, target scaling and class names go into the
graph (``ippo.onnx.export_run``), so the ONNX model takes the raw features ``ippo predict``
takes and gives the same classes (by name) or values, in any ONNX runtime.
"""

import os

from ippo.commands import _common as C


def add_parser(subparsers):
    """Register ``ippo export`` and its options with the ``argparse`` subparsers."""
    p = subparsers.add_parser(
        "export", help="export a saved model to ONNX (with its input scaling)",
        description="Export a model saved by 'ippo train' to an ONNX file that takes raw "
                    "features, as 'ippo predict' does (needs: pip install onnx).")
    p.add_argument("model", metavar="MODEL", help="model.npz, or a run folder holding one")
    p.add_argument("-o", "--output", metavar="FILE.onnx",
                   help="the ONNX file to write (default: model.onnx beside the model file)")
    p.set_defaults(func=run, command="export")


def _check_not_other_file(out):
    """ValueError when ``out`` is an existing file that is not an ONNX model (a CSV, a
    model.npz, ...): replacing it would destroy it."""
    if not os.path.isfile(out) or os.path.getsize(out) == 0:
        return
    with open(out, "rb") as f:
        first = f.read(1)
    if first != b"\x08":  # an ONNX ModelProto starts with its ir_version field (tag 0x08)
        raise ValueError(f"-o {out} exists and is not an ONNX model; remove it first or "
                         f"choose another name")


def run(args):
    """Write the ONNX file and say what it takes and gives; returns 0."""
    model, extra, source = C.load_model(args.model)
    out = args.output or os.path.splitext(source)[0] + ".onnx"
    if os.path.exists(out) and os.path.samefile(out, source):
        raise ValueError(f"-o {out} is the model file itself; give another name, such as "
                         f"model.onnx")
    _check_not_other_file(out)
    try:
        from ippo import onnx as ippo_onnx

        ippo_onnx._onnx()
    except ImportError as exc:
        raise ValueError(str(exc)) from None
    options = ippo_onnx.run_options(extra)
    ippo_onnx.export(model, out, **options)
    task = model.task
    width = C.input_width(model)
    prep = [what for what, key in (("missing values filled", "fill_values"),
                                   ("scaled", "input_scaler")) if options[key] is not None]
    takes = f"input: float32 (N, {width}) raw features"
    columns = options.get("columns")
    if columns and any(c["kind"] == "category" for c in columns):
        numbers = [c["name"] for c in columns if c["kind"] == "number"]
        texts = [c["name"] for c in columns if c["kind"] == "category"]
        takes = ((f"inputs: input float32 (N, {len(numbers)}) ({', '.join(numbers)}), "
                  if numbers else "inputs: ")
                 + f"categories string (N, {len(texts)}) ({', '.join(texts)}; one-hot inside)")
    takes += f" ({', '.join(prep)} inside)" if prep else ""
    if task == "regression":
        gives = "values (N, outputs)" + (" in the targets' units" if options["target_scaler"]
                                         is not None else "")
    else:
        names = "the class name" if options["class_names"] else "the class index"
        gives = f"probabilities (N, classes), label (N,): {names}"
    print(f"wrote {out} (ONNX opset {ippo_onnx.OPSET}, IR version {ippo_onnx.IR_VERSION}); "
          f"{takes}; outputs: {gives}")
    return 0
