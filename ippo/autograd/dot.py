"""``to_dot``: the recorded graph as Graphviz DOT text, the picture the course draws by hand.

Tensors are ellipses (name, shape, dtype), operations are boxes; the arrows go the way the
forward pass does. No Graphviz is needed to write the text; to draw it::

    open("graph.dot", "w").write(to_dot(loss))
    # dot -Tpng graph.dot -o graph.png
"""

from ippo.autograd.tensor import Tensor

__all__ = ["to_dot"]


def _escape(text):
    # text as a DOT string: its backslashes and quotes escaped
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _label(t, verbose):
    name = _escape(t.name or "")
    if verbose or not name:
        shape = "×".join(str(n) for n in t.shape) or "scalar"
        text = f"{shape} {t.dtype}"
        if t.data.size == 1:
            text = f"{t.data.item():.4g}" + (f" ({t.dtype})" if verbose else "")
        name = f"{name}\\n{text}" if name else text
    return name


def to_dot(output, verbose=False, title=None):
    """The graph that produced ``output`` (a Tensor, or a list of them) as DOT text.

    ``verbose=True`` adds shapes and dtypes to named tensors too. Tensors that require
    gradients are drawn in orange, constants in grey. ``title`` (a string) is written above
    the picture. The graph must not have been released by a ``backward()`` (use
    ``retain_graph=True`` to draw it afterwards).
    """
    outputs = output if isinstance(output, (list, tuple)) else [output]
    for o in outputs:
        if not isinstance(o, Tensor):
            raise ValueError(f"to_dot: expected a Tensor, got {type(o).__name__}")
    lines = ["digraph g {", "  rankdir=LR;"]
    if title is not None:
        lines.append(f'  labelloc=t; label="{_escape(str(title))}";')
    seen_t, seen_f = set(), set()
    stack = list(outputs)
    while stack:  # iterative: deep graphs are fine
        t = stack.pop()
        if id(t) in seen_t:
            continue
        seen_t.add(id(t))
        color = "orange" if t.requires_grad else "lightgrey"
        lines.append(f'  t{id(t)} [label="{_label(t, verbose)}", color={color}, style=filled];')
        fn = t.creator
        if fn is None:
            continue
        if fn.inputs is None:
            raise ValueError(
                "to_dot: the graph was released by backward(); draw it before, or call "
                "backward(retain_graph=True)"
            )
        if id(fn) not in seen_f:
            seen_f.add(id(fn))
            lines.append(
                f'  f{id(fn)} [label="{fn.name}", shape=box, color=lightblue, style=filled];'
            )
            for x in fn.inputs:
                lines.append(f"  t{id(x)} -> f{id(fn)};")
                stack.append(x)
        lines.append(f"  f{id(fn)} -> t{id(t)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
