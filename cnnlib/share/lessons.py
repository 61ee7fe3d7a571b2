"""Lesson plans: a small JSON file, an ordered list of steps a teacher walks the class through.

    {"title": "Edges and kernels", "description": "...", "steps": [
        {"page": "kernels", "state": {"kernel": "sobel_x", "stride": "1"},
         "note": "What the teacher says (Markdown).",
         "question": {"text": "Where will the map be brightest?", "options": ["...", "..."], "answer": "..."}},
        ...]}

A step's `state` is a page's link state (the same keys as its links, see cnnlib.share.fields), so a
step is applied exactly as a link is. `parse_lesson` checks everything against the pages' schemas
(passed in, so this module depends on no page) and every problem names the step and the field:
"Step 3 (Kernels), field 'stride': 9 is outside 1 to 8". Files are bounded: size, steps, text.
The app ships LESSONS (in cnnlib/share/files/), read with importlib.resources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from cnnlib.share.fields import LinkSchema, first_value
from cnnlib.share.tokens import PackError, loads_untrusted

__all__ = ["BUNDLED", "LessonError", "Question", "Lesson", "parse_lesson", "bundled_lesson_text"]


MAX_FILE_BYTES = 200_000
MAX_STEPS = 40
MAX_TITLE_CHARS = 120
MAX_NOTE_CHARS = 4000
MAX_OPTIONS = 8
MAX_OPTION_CHARS = 120
BUNDLED = ("edges_and_kernels", "why_the_output_shrinks", "your_first_cnn")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the step and the field."""


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[str, ...]
    answer: str | None = None  # one of the options, or None for an open question


@dataclass(frozen=True)
class Step:
    page: str  # a page key: "kernels", "shapes", "builder", "training", "draw"
    state: dict[str, str]  # the page's link params
    note: str = ""
    question: Question | None = None


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    description: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


def _text(value: Any, where: str, name: str, limit: int, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise LessonError(f"{where}, field '{name}': must be text, not {type(value).__name__}.")
    if required and not value.strip():
        raise LessonError(f"{where}, field '{name}': must not be empty.")
    if len(value) > limit:
        raise LessonError(f"{where}, field '{name}': {len(value):,} characters; at most {limit:,}.")
    return value.strip()


def _question(q: Any, where: str) -> Question | None:
    if q is None:
        return None
    if not isinstance(q, dict):
        raise LessonError(f"{where}, field 'question': must be an object with text, options and answer.")
    unknown = sorted(set(q) - {"text", "options", "answer"})
    if unknown:
        raise LessonError(f"{where}, field 'question': unknown field(s) {', '.join(map(repr, unknown))}.")
    text = _text(q.get("text"), where, "question.text", MAX_TITLE_CHARS * 2, required=True)
    options = q.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise LessonError(f"{where}, field 'question.options': a list of 2 to {MAX_OPTIONS} answers.")
    opts = tuple(_text(o, where, "question.options", MAX_OPTION_CHARS, required=True) for o in options)
    if len(set(opts)) != len(opts):
        raise LessonError(f"{where}, field 'question.options': the answers must differ.")
    answer = q.get("answer")
    if answer is not None and answer not in opts:
        raise LessonError(f"{where}, field 'question.answer': {answer!r} is not one of the options.")
    return Question(text, opts, answer)


def parse_lesson(data: str | bytes | dict, schemas: Mapping[str, LinkSchema], lesson_id: str = "") -> Lesson:
    """Check a lesson (JSON text, bytes or an already-parsed dict) against the pages' link schemas."""
    given_parsed = not isinstance(data, (str, bytes, bytearray))
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_FILE_BYTES:
            raise LessonError(f"The lesson file is {len(data):,} bytes; at most {MAX_FILE_BYTES:,}.")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LessonError("The lesson file is not UTF-8 text: save it as JSON.") from None
    if isinstance(data, str):
        if len(data) > MAX_FILE_BYTES:
            raise LessonError(f"The lesson file is {len(data):,} characters; at most {MAX_FILE_BYTES:,}.")
        try:
            data = loads_untrusted(data, "lesson file")
        except json.JSONDecodeError as exc:
            raise LessonError(f"The lesson file is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        except PackError as exc:  # nested too deeply, a number of thousands of digits, NaN
            raise LessonError(str(exc)) from None
    if not isinstance(data, dict):
        raise LessonError('A lesson is a JSON object: {"title": ..., "steps": [...]}.')
    if given_parsed:  # an already-parsed dict is held to the same bounds as text (it is dumped below)
        try:
            loads_untrusted(json.dumps(data, allow_nan=False), "lesson")
        except (PackError, RecursionError, ValueError, TypeError) as exc:
            detail = (
                str(exc) if isinstance(exc, PackError) else "it nests too deeply or holds what JSON cannot"
            )
            raise LessonError(f"The lesson cannot be used: {detail}") from None
    unknown = sorted(set(data) - {"title", "description", "steps"})
    if unknown:
        raise LessonError(f"The lesson has unknown field(s): {', '.join(map(repr, unknown))}.")
    title = _text(data.get("title"), "The lesson", "title", MAX_TITLE_CHARS, required=True)
    description = _text(data.get("description"), "The lesson", "description", MAX_NOTE_CHARS)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError("The lesson, field 'steps': a list of at least one step.")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"The lesson, field 'steps': {len(steps)} steps; at most {MAX_STEPS}.")
    return Lesson(
        lesson_id or title, title, description, tuple(_step(s, i + 1, schemas) for i, s in enumerate(steps))
    )


def _step(s: Any, n: int, schemas: Mapping[str, LinkSchema]) -> Step:
    if not isinstance(s, dict):
        raise LessonError(f"Step {n}: must be an object with page, state, note and question.")
    unknown = sorted(set(s) - {"page", "state", "note", "question"})
    if unknown:
        raise LessonError(f"Step {n}: unknown field(s) {', '.join(map(repr, unknown))}.")
    page = s.get("page")
    if not isinstance(page, str) or page not in schemas:
        raise LessonError(f"Step {n}, field 'page': {page!r} is not one of: {', '.join(schemas)}.")
    schema = schemas[page]
    where = f"Step {n} ({schema.title or page})"
    state = s.get("state", {})
    if not isinstance(state, dict):
        raise LessonError(f"{where}, field 'state': an object of the page's link settings.")
    params = {str(k): (v if isinstance(v, str) else json.dumps(v)) for k, v in state.items()}
    parsed = schema.parse(params)
    if parsed.ignored:
        bad = parsed.ignored[0]
        raise LessonError(f"{where}, field '{bad.key}': {bad.reason}.")
    clean = {k: first_value(v) for k, v in params.items()}
    note = _text(s.get("note"), where, "note", MAX_NOTE_CHARS)
    return Step(page, clean, note, _question(s.get("question"), where))


def bundled_lesson_text(lesson_id: str) -> str:
    """The JSON text of a lesson that ships with the app."""
    if lesson_id not in BUNDLED:
        raise LessonError(f"No lesson {lesson_id!r}; the app ships {', '.join(BUNDLED)}.")
    return (resources.files("cnnlib.share") / "files" / f"{lesson_id}.json").read_text(encoding="utf-8")
