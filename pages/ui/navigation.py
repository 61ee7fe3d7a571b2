"""The app's pages: their keys, files, titles, icons and URL names, in menu order.

One home for what the frame draws as the menu, what a lesson step names as its page, and what the
class strip shows as "your teacher is on <page>"; a module of its own so that none of them imports
the frame (which imports them).
"""

from __future__ import annotations

from dataclasses import dataclass

LESSON_PAGES = ("kernels", "shapes", "builder", "training", "draw")  # the pages a lesson step can open


@dataclass(frozen=True)
class PageInfo:
    """One page of the app."""

    key: str
    path: str
    title: str
    icon: str
    blurb: str
    url: str = ""  # the page's URL name (Streamlit's pages folder: the file name without its number)


PAGES: list[PageInfo] = [
    PageInfo("home", "app.py", "CNN Classroom", ":material/school:", "Start here: what each page teaches."),
    PageInfo(
        "kernels",
        "pages/1_kernels.py",
        "Kernels",
        ":material/filter_center_focus:",
        "Slide a hand-designed kernel over an image and see the feature map, one output pixel at a time.",
        url="kernels",
    ),
    PageInfo(
        "shapes",
        "pages/2_shape_calculator.py",
        "Shape calculator",
        ":material/straighten:",
        "Work out a layer's output size with the formula, check it against PyTorch, and quiz yourself.",
        url="shape_calculator",
    ),
    PageInfo(
        "builder",
        "pages/3_model_builder.py",
        "Model builder",
        ":material/view_in_ar:",
        "Stack layers into a CNN and watch every shape, parameter count and receptive field.",
        url="model_builder",
    ),
    PageInfo(
        "training",
        "pages/4_training.py",
        "Training",
        ":material/monitoring:",
        "Train a CNN live on real data, watch loss and accuracy move, then read what it learned.",
        url="training",
    ),
    PageInfo(
        "draw",
        "pages/5_draw_and_predict.py",
        "Draw & predict",
        ":material/draw:",
        "Draw a digit and see what the network sees: preprocessing, probabilities, feature maps, Grad-CAM.",
        url="draw_and_predict",
    ),
]
PAGES.append(
    PageInfo(
        "board",
        "pages/6_class_board.py",
        "Class board",
        ":material/leaderboard:",
        "A class session's results board: everyone's runs ranked, live on the projector.",
        url="class_board",
    )
)
PAGES.append(
    PageInfo(
        "glossary",
        "pages/7_glossary.py",
        "Glossary",
        ":material/menu_book:",
        "Every word the pages use, in one or two plain sentences; the pages' links open it at the word.",
        url="glossary",
    )
)
PAGE_BY_KEY = {p.key: p for p in PAGES}
PAGE_BY_URL = {p.url: p for p in PAGES}
