"""PyTorch source for a model spec: `to_pytorch_code` writes a runnable `nn.Module` class.

The generated `Net().layers` is an `nn.Sequential` with the same children and state_dict keys
as `build_model`'s, each line commented with that layer's output shape. A model with a Residual
block gets the block's class (cnnlib.spec.residual.Residual's own source) before `Net`.
"""

from __future__ import annotations

import inspect
from typing import Any

from cnnlib.spec.analysis import analyse, summarize
from cnnlib.spec.fields import BLOCK_TYPES, FIELDS
from cnnlib.spec.meta import LayerSummary, torch_arg
from cnnlib.spec.model import LayerSpec, ModelSpec
from cnnlib.spec.residual import Residual

__all__ = ["to_pytorch_code"]


def _code_args(layer: LayerSpec, kw: dict[str, Any]) -> str:
    t = layer.type
    infos = {f.name: f for f in FIELDS[t]}

    def non_default(names: list[str]) -> list[str]:
        parts = []
        for n in names:
            if n in kw and kw[n] != torch_arg(infos[n].default):
                parts.append(f"{n}={kw[n]!r}")
        return parts

    if t == "Conv2d":
        return ", ".join(
            [str(kw["in_channels"]), str(kw["out_channels"]), f"kernel_size={kw['kernel_size']!r}"]
            + non_default(["stride", "padding", "dilation", "bias"])
        )
    if t in ("MaxPool2d", "AvgPool2d"):
        return ", ".join(
            [f"kernel_size={kw['kernel_size']!r}"] + non_default(["stride", "padding", "ceil_mode"])
        )
    if t == "AdaptiveAvgPool2d":
        return repr(kw["output_size"])
    if t == "BatchNorm2d":
        return str(kw["num_features"])
    if t == "LeakyReLU":
        return f"negative_slope={kw['negative_slope']!r}"
    if t in ("Dropout", "Dropout2d"):
        return f"p={kw['p']!r}"
    if t == "Linear":
        return ", ".join([str(kw["in_features"]), str(kw["out_features"])] + non_default(["bias"]))
    return ""


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))


def _layer_lines(layer: LayerSpec, kw: dict[str, Any], s: LayerSummary) -> list[str]:
    """The lines of one child of `self.layers` (a Residual block: its body and skip, one line each)."""
    pad = " " * 12
    if layer.type not in BLOCK_TYPES:
        return [
            f"{pad}nn.{layer.type}({_code_args(layer, kw)}),  # layer {s.index + 1}: [N, {_dims(s.output_shape)}]"
        ]
    lines = [
        f"{pad}Residual(  # layer {s.index + 1}: [N, {_dims(s.output_shape)}], skip: {s.skip}",
        f"{pad}    nn.Sequential(",
    ]
    for inner, (t, ikw), row in zip(layer.inner, kw["layers"], s.inner, strict=True):
        code = f"nn.{t}({_code_args(inner, ikw)}),"
        lines.append(
            f"{pad}        {code}  # layer {s.index + 1}.{row.index + 1}: [N, {_dims(row.output_shape)}]"
        )
    lines.append(f"{pad}    ),")
    if kw["downsample"] is not None:
        cin, cout, stride = kw["downsample"]
        st = "" if stride == 1 else f", stride={torch_arg(stride)!r}"
        lines.append(
            f"{pad}    nn.Sequential(nn.Conv2d({cin}, {cout}, 1{st}, bias=False), nn.BatchNorm2d({cout})),"
        )
    return [*lines, f"{pad}),"]


def to_pytorch_code(spec: ModelSpec, class_name: str = "Net") -> str:
    """Runnable source of `class Net(nn.Module)`; `Net().layers` has build_model's state_dict keys."""
    summary = summarize(spec)
    kwargs = analyse(spec).kwargs
    c, h, w = spec.input_shape
    out = summary[-1].output_shape if summary else spec.input_shape
    lines = [
        '"""A CNN made with CNN Classroom\'s model builder.',
        "",
        f'Input [N, {c}, {h}, {w}] (N images), output [N, {", ".join(map(str, out))}]."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        f"class {class_name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        "        self.layers = nn.Sequential(",
    ]
    if any(layer.type in BLOCK_TYPES for layer in spec.layers):  # the block's class, as cnnlib builds it
        at = lines.index(f"class {class_name}(nn.Module):")
        lines[at:at] = [*inspect.getsource(Residual).splitlines(), "", ""]
    for layer, kw, s in zip(spec.layers, kwargs, summary, strict=True):
        lines += _layer_lines(layer, kw, s)
    lines += [
        "        )",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        f"        # x: [N, {c}, {h}, {w}]",
        "        return self.layers(x)",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {class_name}()",
        f"    x = torch.zeros(1, {c}, {h}, {w})  # one image: [N=1, C, H, W]",
        f"    print(model(x).shape)  # torch.Size([1, {', '.join(map(str, out))}])",
        '    print(sum(p.numel() for p in model.parameters()), "parameters")',
        "",
    ]
    return "\n".join(lines)
