"""Shape calculator page: a layer's output size with the formula, a picture of the sliding
window, a stack of layers with its receptive field, and a quiz. Numbers from cnnlib.shapes."""

from pages.ui.frame import frame

frame("shapes")

import streamlit as st

from cnnlib.shapes import SHAPES_LINK
from pages.ui.classes.links import link_notice, read_link, write_link
from pages.ui.classes.share import intro
from pages.ui.glossary import explain
from pages.ui.shapes import links as shapes_links
from pages.ui.shapes import quiz as shapes_quiz
from pages.ui.shapes import single as shapes_single
from pages.ui.shapes import stack as shapes_stack

EXPLANATIONS = {
    "What do padding, stride and dilation do?": (
        "- **Kernel size k**: how many pixels the window covers along each side.\n"
        "- **Padding p**: rings of zeros added around the input, so the window can sit on the "
        'edges too. `padding="same"` picks the padding that keeps the size (stride 1 only); '
        '`"valid"` means no padding.\n'
        "- **Stride s**: how many pixels the window jumps each step. Stride 2 roughly halves the size.\n"
        "- **Dilation d**: gaps between the kernel's taps. A 3×3 kernel with dilation 2 spans 5×5 "
        "pixels but still reads only 9 of them: it sees wider for the same price.\n"
        "- The window spans d·(k − 1) + 1 pixels, so the formula counts how many times that span "
        "fits in in + 2p pixels, moving s at a time."
    ),
    "Why round down (floor)?": (
        "The window only stops where it fits completely. If the last step would hang over the "
        "edge, PyTorch doesn't take it, so the division rounds **down**, and the leftover rows "
        "and columns at the bottom and right are never read (the calculator lists them). The "
        "**+ 1** counts the window's first position, before any step."
    ),
    "ceil_mode (pooling only)": (
        "`ceil_mode=True` rounds **up** instead: one more window is allowed to hang over the edge, "
        "and it pools whatever part of it lies on the input. PyTorch adds one rule: that last "
        "window must *start* inside the input (or the left padding), otherwise it is dropped. "
        "The formula shows when that happens."
    ),
    "Transposed convolution (ConvTranspose2d)": (
        "A transposed convolution *grows* the image, as in decoders and U-Nets: out = (in − 1)·s − "
        "2p + d(k − 1) + output_padding + 1. It equals an ordinary stride-1 convolution over the "
        "input stretched with s − 1 zeros between pixels, which is how the picture draws it. Here "
        "padding *crops* the output, and output_padding (smaller than the stride) picks between "
        "sizes that the stride makes ambiguous."
    ),
}

# The picture (or the stack chart) fits the screen's height beside its inputs (issue 25).
COMPACT_CSS = """<style>
.st-key-key_shapes_picture img { max-height: max(12rem, calc(100vh - 34rem)); width: auto !important;
  max-width: 100%; object-fit: contain; }
.st-key-key_shapes_stack_chart img { max-height: max(12rem, calc(100vh - 30rem)); width: auto !important;
  max-width: 100%; object-fit: contain; }
</style>"""

MODES = [":material/calculate: One layer", ":material/stacks: Stack of layers", ":material/quiz: Quiz"]
link = read_link(SHAPES_LINK)  # a shared link, a QR code or a lesson step: its layer or stack
if link is not None:
    shapes_links.apply_link(link.values, MODES)
link_notice(SHAPES_LINK)
mode = st.radio("Mode", MODES, horizontal=True, key="sc_mode", label_visibility="collapsed")

if mode == MODES[0]:
    shapes_single.render()  # the settings and the picture first: one screen (issue 25)
    # One at a time, on demand: a row of pills (one widget) instead of four expanders in columns.
    picked = st.pills("Explain", list(EXPLANATIONS), selection_mode="single", key="sc_explain")
    if picked:
        explain(EXPLANATIONS[picked])
elif mode == MODES[1]:
    shapes_stack.render()  # the chart and Add/Remove first: one screen (issue 25)
    explain(
        "Chain layers and follow the shape through the network. The **receptive field** is how many "
        "input pixels one unit can see; the **jump** is how far apart (in input pixels) neighbouring "
        "units are. Each layer adds (k − 1)·d·jump to the receptive field and multiplies the jump "
        "by its stride."
    )
else:
    explain("Work out the output size yourself, then check. Each question counts once.")
    shapes_quiz.render()
intro(
    "A convolution or pooling layer slides a small **window** over its input, and each stop of the "
    "window makes one output pixel. So the output size is just a count of window positions: "
    "this page shows that count as a formula with your numbers in it, draws the window sliding, "
    "and never disagrees with PyTorch."
)  # under the picture and its inputs: one screen for them (issue 25)
write_link(SHAPES_LINK, shapes_links.link_values(MODES))
st.html(COMPACT_CSS)  # last: the style element's gap is not above the picture
