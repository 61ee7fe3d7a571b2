"""Kernels page: slide a kernel over an image, see the feature map, and one output pixel by hand."""

from pages.ui.frame import frame

frame("kernels")

import streamlit as st

from cnnlib.kernels import KERNELS_LINK
from pages.ui.classes.links import link_notice, read_link, write_link
from pages.ui.classes.share import intro, projecting
from pages.ui.glossary import explain
from pages.ui.kernels import controls, player, views

link = read_link(KERNELS_LINK)  # a shared link, a QR code or a lesson step: its state, before the widgets
if link is not None:
    controls.apply_link(link.values)
controls.init_state()
link_notice(KERNELS_LINK)
with st.sidebar:  # the image and the layer's settings sit under the menu
    st.header("1 · Image")
    image, plane, label, image_key = controls.image_picker()

# Issue 25, one screen: the kernel's weights beside the input and the feature map, right under the
# title (the introduction follows them), so that all three show without scrolling.
rem_px = 22 if projecting() else 16  # the projector view's root font (pages.ui.classes.share)
with st.container(horizontal=True, gap="medium", key="k_view"):
    weights = st.container(width=controls.column_width(st.session_state.get("k_text", ""), rem_px))
    pictures = st.container()
with weights:
    name, kernel = controls.kernel_editor()
    st.toggle(
        ":material/psychology: Predict first, then reveal",
        key="k_predict",
        help="Hide the feature map until you guess.",
    )
with st.sidebar:
    st.header("2 · Layer")
    settings = controls.layer_settings(plane.shape, kernel.shape)
    with st.expander("What is a kernel? Padding, stride, dilation, bias; ReLU, pooling"):
        explain("\n\n".join(views.EXPLAIN[k] for k in ("kernel", "settings", "relu", "pool")), once=False)

fm = views.feature_map(plane, image_key, kernel, settings)  # computed once per process for these inputs
pixel = views.clamp_pixel(fm.conv, label)
with pictures:
    views.maps(plane, label, fm, name, kernel, settings, pixel, image_key)

intro(
    "A **kernel** is a small grid of numbers. A convolution layer slides it over the image; at each "
    "position it multiplies the pixels under it by the kernel's numbers and adds the products up. "
    "Each sum is one pixel of the **feature map**. Pick an image and the layer's settings in the "
    "sidebar, type or pick a kernel beside the maps, then step through one output pixel to check the "
    "arithmetic."
)
player.render(image, plane, image_key, name, kernel, settings, pixel)
views.output_size(plane.shape, kernel.shape, settings)

explain(  # heading and text in one element
    "### Step through one output pixel\n"
    "Pick an output pixel. The kernel sits on the input patch outlined in cyan; each input value is "
    "multiplied by the kernel weight on top of it, and the products are added up (plus the bias)."
)
views.step_through(plane, kernel, settings, fm, image_key)

# Built only while open: its two maps and the picker cost every view otherwise (and it stays open
# across reruns and page switches once a student opens it).
with st.expander(
    "Compare with a second kernel",
    icon=":material/compare:",
    expanded=bool(st.session_state.get("k_compare_open")),
    key="k_compare_open",
    on_change="rerun",
) as box:
    if box.open:
        st.markdown("The same image and layer settings, with another preset kernel.")
        views.compare(plane, name, fm, settings, image_key, kernel)

controls.save_state()
write_link(KERNELS_LINK, controls.link_values(kernel))
if st.session_state.get("k_source") == controls.UPLOAD:
    st.caption(
        ":material/link: Your uploaded image stays on this computer: links share a bundled sample instead."
    )
