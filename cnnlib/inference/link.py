"""The Draw & predict page's state as a link: `?pen=28&channels=32&quiz=1`.

model     "pretrained" (the bundled digit CNN, the default); a model trained in a session lives
          only there, so a link to one falls back to the pretrained model, saying so
pen       pen width in canvas pixels (8 to 40, even)
channels  feature-map channels shown per layer (8, 16 or 32)
quiz      1: the answer hidden until the class has guessed
input     draw (the default) or upload; the uploaded image itself is never in a link
"""

from __future__ import annotations

from cnnlib.share import FRAME_KEYS, Field, LinkSchema

__all__ = ["DRAW_LINK"]


PRETRAINED = "pretrained"


def parse_model(text: str) -> str:
    if text.lower() != PRETRAINED:
        raise ValueError(
            "a model trained in a session cannot travel in a link (it lives in that browser's session): "
            "the pretrained digit CNN is shown"
        )
    return PRETRAINED


def parse_pen(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a whole number") from None
    if not 8 <= v <= 40 or v % 2:
        raise ValueError(f"{v} is not an even width from 8 to 40")
    return v


DRAW_LINK = LinkSchema(
    "draw",
    (
        Field("model", "custom", PRETRAINED, parse_fn=parse_model, format_fn=str),
        Field("pen", "custom", 20, "pen width", parse_fn=parse_pen, format_fn=str),
        Field("channels", "choice", 16, "channels per layer", choices=(("8", 8), ("16", 16), ("32", 32))),
        Field("quiz", "bool", False, "predict, then reveal"),
        Field("input", "choice", "Draw", choices=(("draw", "Draw"), ("upload", "Upload an image"))),
    ),
    title="Draw & predict",
    shared_keys=FRAME_KEYS,
)
