"""Model builder: stack layers into a CNN and see every shape, parameter count and receptive field.

UI only: the spec, its checks, shapes and counts come from cnnlib.spec (tested against PyTorch);
state and actions live in pages/ui/builder/state.py, the widgets in pages/ui/builder/.
"""

from pages.ui.frame import frame

frame("builder")

import streamlit as st

from cnnlib import spec as S
from pages.ui.builder import state as B
from pages.ui.builder import views as V
from pages.ui.builder.layers import render_layer_editor
from pages.ui.classes.links import link_notice, read_link, write_link
from pages.ui.classes.share import intro
from pages.ui.glossary import explain

B.init_state()
link = read_link(S.BUILDER_LINK)  # a shared link, a QR code or a lesson step: its model
if link is not None:
    B.apply_link(link.values)
link_notice(S.BUILDER_LINK)

spec = B.current()
rows, err = S.summarize_partial(spec)

# One screen (issue 25): the summary table and the layer editor side by side, right under the title (the intro follows them);
# the settings that change less often (preset, input, totals, diagram, hand-off) below them.
left, right = st.columns([3, 2], gap="medium")
doc = st.container()  # under the row: what the edited layer does (the editor stays one screen tall)
with left, st.container(key="key_builder_summary"):
    V.render_summary(spec, rows, err)
with right, st.container(key="key_builder_editor"):  # no border: its padding is a row of fields
    V.render_notice()
    V.render_error(err)
    render_layer_editor(spec, rows, err, doc)

intro(
    "A CNN is a stack of layers, each turning one tensor into the next. Start from a preset, then add, "
    "move and change layers: the table shows the **shape** each layer outputs, how many **parameters** it "
    "learns and how much of the image each output pixel **sees**. When a layer cannot run, it turns red "
    "and says why; send the finished model to **Training**."
)  # under the table and editor: one screen for them (issue 25)

with st.container(border=True):
    V.render_start_from()
    V.render_input_row(spec)
V.render_totals(spec, rows, err)

# Only the open tab is built and sent (the code, the JSON and their buttons cost every view otherwise).
tab_d, tab_c, tab_j = st.tabs(
    [":material/view_in_ar: Diagram", ":material/code: PyTorch code", ":material/save: Save / load JSON"],
    key="b_tab",
    on_change="rerun",
)
if tab_d.open:
    with tab_d:
        V.render_diagram(spec)
if tab_c.open:
    with tab_c:
        V.render_code(spec, err)
if tab_j.open:
    with tab_j:
        V.render_json(spec)

with st.container(border=True):
    V.render_handoff(spec, err)

# Built only when opened (a question, a number input and a button nobody needs on the first view).
quiz = st.expander(
    "Predict, then reveal: a layer's parameters",
    icon=":material/psychology:",
    key="b_quiz_box",
    on_change="rerun",
)
if quiz.open:
    with quiz:
        V.render_quiz(spec, rows)

EXPLANATIONS = {
    "What does each layer do?": "\n".join(f"- **{t}**: {S.LAYER_DOCS[t]}" for t in S.LAYER_TYPES),
    "Why do shapes shrink?": (
        "A kernel of size *k* fits into an input of size *n* only at *n − k + 1* places, so each "
        "convolution without padding trims *k − 1* pixels; padding *p* adds *2p* back and stride *s* "
        "keeps every *s*-th place:\n\n"
        r"$$n_\text{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1$$"
        "\n\nA 2x2 max pool with stride 2 halves the height and width. Flatten turns "
        "C × H × W into one vector of C·H·W numbers, which is what Linear layers read."
    ),
    "Parameters, MACs, receptive field?": (
        "- **Parameters**: the numbers training adjusts. Conv2d: in × out × k × k weights + out biases; "
        "Linear: in × out + out.\n"
        "- **MACs**: multiply-adds for one image, a measure of compute (conv and linear layers).\n"
        "- **Receptive field**: how many input pixels (height × width) one output pixel depends on. It grows "
        "with every kernel and faster after each stride or pool; after a Linear layer it is the whole image."
    ),
}
# One at a time, on demand: a row of pills (one widget) instead of three expanders in columns.
picked = st.pills("Explain", list(EXPLANATIONS), selection_mode="single", key="b_explain")
if picked:
    explain(EXPLANATIONS[picked])
write_link(S.BUILDER_LINK, {"model": B.current()})
st.html(V.COMPACT_CSS)  # last: the style element's gap is not above the table
