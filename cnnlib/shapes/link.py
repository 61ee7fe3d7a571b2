"""The Shape calculator's state as a link: `?layer=conv&size=28&k=3&s=2&p=1` or `?mode=stack&stack=v1...`.

Keys (all optional):

    mode     one (a single layer, the default) or stack; the quiz is never in a link (each student
             gets questions of their own)
    layer    conv, maxpool, avgpool or convt (ConvTranspose2d)
    size, k, s, p, d, op    input size, kernel, stride, padding, dilation, output padding: "n" or "h,w"
             (padding also same or valid; a pooling stride left out means "the kernel size")
    cin, cout   input and output channels
    ceil     1: ceil_mode (pooling)      bias   0: no bias (conv)
    input    the stack's input "C,H,W"    stack  its layers, packed (cnnlib.share.pack)
"""

from __future__ import annotations

from typing import Any

from cnnlib.shapes.checks import MAX_VALUE
from cnnlib.share import FRAME_KEYS, Field, LinkSchema, PackError, pack, unpack

__all__ = ["SHAPES_LINK"]


LAYER_WORDS = (
    ("conv", "Conv2d"),
    ("maxpool", "MaxPool2d"),
    ("avgpool", "AvgPool2d"),
    ("convt", "ConvTranspose2d"),
)
STACK_TYPES = ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "ReLU", "BatchNorm2d")
MAX_STACK_LAYERS = 50


def parse_mode(text: str) -> str:
    low = text.lower()
    if low == "quiz":
        raise ValueError("the quiz is not shared by links: each student gets questions of their own")
    if low not in ("one", "stack"):
        raise ValueError(f"{text!r} is not one or stack")
    return low


def _int(text: str, lo: int = 0) -> int:
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not lo <= v <= MAX_VALUE:
        raise ValueError(f"{v} is outside {lo} to {MAX_VALUE:,}")
    return v


def parse_pair(text: str, lo: int = 0) -> tuple[int, int]:
    """ "3" -> (3, 3); "3,5" -> (3, 5)."""
    parts = text.split(",")
    if len(parts) == 1:
        v = _int(parts[0], lo)
        return v, v
    if len(parts) == 2:
        return _int(parts[0], lo), _int(parts[1], lo)
    raise ValueError(f"{text!r} is not a number or 'height,width'")


def format_pair(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]},{p[1]}"


def parse_padding(text: str) -> tuple[int, int] | str:
    return text.lower() if text.lower() in ("same", "valid") else parse_pair(text)


def format_padding(p: Any) -> str:
    return p if isinstance(p, str) else format_pair(p)


def parse_input(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not 'channels,height,width'")
    c, h, w = (_int(p, 1) for p in parts)
    return c, h, w


def parse_stack(text: str) -> list[dict]:
    """A packed list of layer dicts, checked for shape (types, plain values); stack_shapes checks the rest."""
    try:
        layers = unpack(text, "stack of layers", max_json=20_000)
    except PackError as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    if not isinstance(layers, list) or len(layers) > MAX_STACK_LAYERS:
        raise ValueError(f"not a list of at most {MAX_STACK_LAYERS} layers")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("type") not in STACK_TYPES or len(layer) > 12:
            raise ValueError(f"layer {i + 1} is not one of {', '.join(STACK_TYPES)}")
        for key, value in layer.items():
            ok = isinstance(value, (int, str, bool)) or (
                isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
            )
            if not isinstance(key, str) or not ok or (isinstance(value, str) and len(value) > 20):
                raise ValueError(f"layer {i + 1} has a setting that is not a plain number ({key!r})")
    return layers


def pair_field(key: str, default: tuple[int, int] | None, label: str, lo: int = 0) -> Field:
    return Field(key, "custom", default, label, parse_fn=lambda t: parse_pair(t, lo), format_fn=format_pair)


SHAPES_LINK = LinkSchema(
    "shapes",
    (
        Field("mode", "custom", "one", parse_fn=parse_mode, format_fn=str),
        Field("layer", "choice", "Conv2d", choices=LAYER_WORDS + tuple((v, v) for _, v in LAYER_WORDS)),
        pair_field("size", None, "input size", 1),
        pair_field("k", None, "kernel size", 1),
        pair_field("s", None, "stride", 1),
        Field("p", "custom", None, "padding", parse_fn=parse_padding, format_fn=format_padding),
        pair_field("d", None, "dilation", 1),
        pair_field("op", None, "output padding"),
        Field("cin", "int", None, "input channels", lo=1, hi=MAX_VALUE),
        Field("cout", "int", None, "output channels", lo=1, hi=MAX_VALUE),
        Field("ceil", "bool", False, "ceil_mode"),
        Field("bias", "bool", True),
        Field(
            "input",
            "custom",
            None,
            "stack input",
            parse_fn=parse_input,
            format_fn=lambda s: ",".join(map(str, s)),
        ),
        Field("stack", "custom", None, "stack of layers", max_len=6000, parse_fn=parse_stack, format_fn=pack),
    ),
    title="Shape calculator",
    shared_keys=FRAME_KEYS,
)
