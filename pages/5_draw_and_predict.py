"""Draw & predict: draw a digit, see what the network sees, what it answers, and why."""

import streamlit as st

from pages.ui.frame import frame

frame("draw")

from cnnlib.inference import DRAW_LINK, predict, preprocess_drawing
from pages.ui.classes import strip
from pages.ui.classes.links import link_notice, read_link, write_link
from pages.ui.classes.share import intro, projecting
from pages.ui.draw import dataset as draw_dataset
from pages.ui.draw import inputs as draw_input
from pages.ui.draw import invariance as draw_invariance
from pages.ui.draw import views as draw_views
from pages.ui.glossary import explain, explain_caption

link = read_link(DRAW_LINK)  # a shared link or a lesson step: pen, channels, the quiz
if link is not None:
    draw_views.apply_link(link.values)
link_notice(DRAW_LINK)

INTRO = (
    "Draw a digit and watch a trained CNN read it: every class gets a probability, and Grad-CAM shows "
    "which pixels drove the answer. Below: the drawing as the network sees it (a centred 28×28 MNIST "
    "digit) and what each convolution layer responds to."
)
if not projecting():  # a student reads it first; the projector folds it below the picture (issue 25)
    intro(INTRO)


def controls() -> tuple[draw_views.ModelChoice | None, str, bool]:
    """The model, draw or upload, and the quiz: one row under the canvas (issue 25: the canvas, the
    answer and Grad-CAM first, on one screen)."""
    with st.container(horizontal=True, vertical_alignment="bottom", key="draw_controls"):
        choice = draw_views.choose_model()
        mode = draw_input.mode_choice()
        quiz = st.toggle(
            "Predict, then reveal",
            key="draw_quiz",
            help="Hide the answer until the class has guessed what the network will say, then reveal it.",
        )
    return choice, mode, bool(quiz)


@st.fragment
def drawing() -> None:
    """The drawing and everything that follows it. A fragment: a stroke (or a control in here) reruns
    only this, not the menu and the intro (about 2-3 ms of server CPU a stroke)."""
    # One screen (issue 25): the canvas, the answer and Grad-CAM side by side in one row; on a narrow
    # screen the answer and Grad-CAM wrap below the canvas instead of squeezing it (fixed size).
    st.html(draw_input.ROW_CSS)
    row = st.container(horizontal=True, gap="medium", key="draw_top")
    left = row.container(width=draw_input.canvas_size() + 20, key="draw_left")  # the canvas and its margin
    right = row.container(key="draw_right")
    cam_box = row.container(key="draw_cam_col")
    canvas_slot = left.container()  # drawn first, filled once the controls under it are read
    with left:
        choice, mode, quiz = controls()
    if choice is None:
        return
    with canvas_slot:
        given = draw_input.input_panel(mode)

    pre = None
    if given.image is not None:
        try:
            pre = preprocess_drawing(given.image, mean=choice.mean, std=choice.std)
        except ValueError as err:
            left.error(f"That picture could not be used: {err}")
    draw_dataset.add_row(canvas_slot, pre)  # in a class drawing a dataset: "Add this drawing as" (issue 26)

    hidden = False
    with right.container(key="key_draw_probs"):  # issue 25's one-screen marker: the answer
        if pre is None or pre.empty:
            if given.source == "canvas":
                st.markdown("### Draw a digit")
                st.info(
                    pre.message
                    if pre is not None
                    else "Draw a digit from 0 to 9 on the black square, "
                    "with the mouse, a finger or a pen. The answer appears when you lift the pen. Point at "
                    "the canvas for its own toolbar: undo, redo, reset.",
                    icon=":material/draw:",
                )
            else:
                st.markdown("### Upload a digit")
                st.info(
                    "No ink found in that image: upload a photo or scan of one digit."
                    if pre is not None
                    else "Upload a photo or scan of one handwritten digit to see the network's answer.",
                    icon=":material/upload:",
                )
        else:
            probs = predict(choice.model, pre.tensor)
            held = strip.poll_open_for_students()  # a student while the class is asked
            hidden = held or (quiz and st.session_state.get("draw_revealed") != pre.signature)
            if hidden:  # in a class, the teacher can ask everyone first
                top = str(choice.classes[int(probs.argmax())])
                strip.ask("Which digit will the network read?", [str(c) for c in choice.classes], top, "draw")
            for note in pre.notes:  # about the drawing itself: read before the answer
                st.warning(note, icon=":material/warning:")
            draw_views.answer_panel(probs, choice.classes, hidden, pre.signature, held, model=choice.title)

    if pre is not None and not pre.empty:
        with cam_box.container(key="key_draw_cam"):  # issue 25's one-screen marker: Grad-CAM
            st.markdown("##### Grad-CAM: why this answer?")
            if hidden:
                st.info("Reveal the answer first.", icon=":material/visibility_off:")
            else:
                draw_views.grad_cam_panel(choice.model, pre, choice.classes, int(probs.argmax()))

    if pre is not None and not pre.empty:
        st.subheader("1 · What the network sees")
        explain_caption(  # in a fragment: its own links, rerun with each stroke (pages.ui.glossary)
            "The MNIST recipe, step by step: crop to the ink, scale the longer side to 20 px, "
            "centre the ink's mass in a 28×28 square, normalise (the same picture, only its numbers change).",
            once=False,
        )
        draw_views.steps_row(pre, given.source)
        # Lazy: its content (a second prediction and picture) runs only while it is open.
        why = st.expander("Why preprocess the drawing like MNIST?", key="draw_why_open", on_change="rerun")
        if why.open:
            with why:
                explain(
                    "The network only ever saw MNIST digits: white on black, about 20 px tall, centred by "
                    "their *centre of mass* in a 28×28 square, and normalised with the training set's mean "
                    f"and standard deviation ({choice.mean:.4f} and {choice.std:.4f}). A drawing that "
                    "does not look like that, say a small digit in a corner of a big canvas squashed to "
                    "28×28, is an image it has never seen, and it guesses badly. Same recipe in, good "
                    "answers out: that is why the steps above copy how MNIST itself was made. Try it: draw "
                    "a small digit in a corner and compare.",
                    once=False,
                )
                if hidden:
                    st.caption("Reveal the answer first to compare with a naive squashing of the canvas.")
                else:
                    draw_views.naive_comparison(choice, given.image, probs)

        with st.expander("What does Grad-CAM (top right) show?"):
            explain(
                "Grad-CAM (gradient-weighted class activation mapping) asks: *if this part of the last "
                "convolution layer's output grew, how much would the score for the chosen class grow?* "
                "It averages that gradient over each channel to weigh the channels, adds up the "
                "weighted channels, keeps the positive part and stretches the small map back to "
                "28×28. Yellow areas are where the evidence for the class was found. Pick another class "
                "to see where the network found evidence for it (often almost nowhere).",
                once=False,
            )

        st.subheader("2 · Inside the network: feature maps")
        draw_views.feature_maps_panel(choice.model, pre)
        with st.expander("What are feature maps?"):
            explain(
                "Each convolution layer slides many small kernels over its input; each kernel makes "
                "one *channel*, a map that is bright where the kernel found its pattern. The maps "
                "shown are read after the layer's activation (ReLU), so dark means *not found here*. "
                "Channels are sorted by their mean activation, strongest first; the number on each "
                "tile is the channel's index. Early layers find strokes and edges at full resolution; "
                "deeper layers see combinations of them over larger areas, on smaller maps.",
                once=False,
            )

    draw_invariance.section(choice, pre, hidden)  # issue 26: move the drawing (lazy, own fragment)
    write_link(DRAW_LINK, draw_views.link_values())  # a stroke reruns only this: keep the URL current


drawing()
if projecting():
    intro(INTRO)
write_link(DRAW_LINK, draw_views.link_values())
