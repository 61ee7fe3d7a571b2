"""What reading an uploaded zip found (cnnlib.data.uploads): the classes that have images, and notes.

The notes tell the student what was skipped (not images, outside the class folders, unreadable)
and which folders were ignored; a zip with fewer than two classes, or a class with a single
image, is refused here with what was skipped.
"""

from __future__ import annotations

import numpy as np

from cnnlib.data.bundle import DatasetError

__all__: list[str] = []


def classes_and_notes(
    class_names: list[str], labels: list[int], skipped_loose: int, skipped_type: int, skipped_bad: list[str]
) -> tuple[list[str], list[str]]:
    """(the classes that have images, in `class_names`' order; notes on what was skipped or ignored).

    `labels` index `class_names`, one per decoded image; the counts of skipped files come from
    reading the zip (`skipped_bad`: one "path (why)" per unreadable image).

    Raises DatasetError when fewer than two classes have images, or a class has only one.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))  # [K]
    present = [c for c, n in zip(class_names, counts, strict=True) if n > 0]
    notes = []
    if skipped_type:
        notes.append(f"Skipped {skipped_type} file(s) that are not images.")
    if skipped_loose:
        notes.append(f"Skipped {skipped_loose} file(s) outside the class folders.")
    if skipped_bad:
        shown = "; ".join(skipped_bad[:3]) + (" ..." if len(skipped_bad) > 3 else "")
        notes.append(f"Skipped {len(skipped_bad)} unreadable image(s): {shown}")
    empty = [c for c, n in zip(class_names, counts, strict=True) if n == 0]
    if empty:
        notes.append(f"Ignored folder(s) without readable images: {', '.join(empty)}.")
    skipped = " ".join(n for n in notes if n.startswith("Skipped") and "unreadable" in n)
    if len(present) < 2:
        found = f"only one class ({present[0]!r})" if present else "no readable images"
        raise DatasetError(
            f"The zip has {found}. A classifier needs at least two classes: one folder of images per class."
            + (f" {skipped}" if skipped else "")
        )
    lonely = [c for c, n in zip(class_names, counts, strict=True) if n == 1]
    if lonely:
        raise DatasetError(
            f"Class {lonely[0]!r} has only one image; each class needs at least two (one to train on, one to test)."
            + (f" {skipped}" if skipped else "")
        )
    return present, notes
