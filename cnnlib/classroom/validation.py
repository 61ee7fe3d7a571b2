"""Validation of everything a page sends to the class store, before any query runs.

Text is stored and returned as plain text (pages render it as text, never as HTML or Markdown).
`clean_text` normalises it (NFKC), turns line breaks and tabs into spaces, removes control
characters, bidi controls (U+202A-E, U+2066-9, U+200E/F), zero-width marks (U+200B-D, U+2060,
U+FEFF) and other invisible characters, collapses runs of spaces, and caps the length. Nicknames
are stricter (`clean_nickname`): letters, digits, marks, spaces, emoji and - _ . ' only, so markup
such as `<b>` is refused with a message instead of stored; and a nickname must not pass for someone
else (`check_identity`):

- no Zalgo: at most 2 generic combining marks (named "COMBINING ...": accents that fit any
  letter) in a row, and at most 4 marks of any kind (scripts that write vowels as marks, such as
  Hindi's "ज़िंदगी", stack 3). After NFKC an accented letter such as "é" is one character, no mark.
- not teacher-like (TEACHER_WORDS, English as the app is): a word that is or contains "teacher",
  "instructor", "professor", "lecturer", "administrator" or "moderator", a word that is "prof",
  "tutor" or "admin" (so "Profit" and "Badminton" pass), or a whole name that reads as one of them
  once spaces and digits go ("T e a c h e r", "the teacher 2"); compared on a look-alike skeleton
  (`lookalike_skeleton`: accents dropped, LOOKALIKES' Cyrillic, Greek and Cherokee letters and
  Latin small capitals read as the Latin letter they look like, case folded), so "Тeacher" with a
  Cyrillic Т, "ᴛᴇᴀᴄʜᴇʀ" or "TEÁCHER" are refused too. Words in other languages ("Lehrer") are not.
- one alphabet: letters of at most one of LOOKALIKE_SCRIPTS (Latin, Cyrillic, Greek, Armenian,
  Cherokee), whose letters are confused with each other; "Ana" with a Cyrillic а is refused. Other
  scripts mix freely (Japanese uses three; "Ana 陈" is fine), as in the "highly restrictive" level
  of Unicode's UTS #39. `unicodedata` has no script property, and this needs no package for one:
  after NFKC, the Unicode name of a letter of these five scripts starts with the script's name
  ("CYRILLIC SMALL LETTER A"; checked against the `regex` package's Script property over every
  letter NFKC keeps: the same but for 7 rare turned or modifier Latin letters, left unclassified).

`unique_nickname` turns a second "Ana" into "Ana 2" (case-insensitively). `clean_record` checks a
training run before it is posted (accuracy finite in [0, 1], parameter count an integer > 0,
bounded strings, a relative link),
`clean_poll` a poll's question and options, `clean_link` the settings or follow-me link.
Every refusal raises ClassError with a message a student or teacher can act on.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from cnnlib.classroom.errors import ClassError

__all__: list[str] = []


MAX_NICKNAME = 24
MAX_TITLE = 80
MAX_QUESTION = 300
MAX_OPTION = 80
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_MODEL = 200
MAX_DATASET = 40
MAX_LINK = 2000
MAX_PARAMS = 10**11
MAX_SECONDS = 7 * 24 * 3600.0
MAX_RAW = 4000  # longer input is refused before any Unicode work
NICKNAME_PUNCTUATION = set("-_.'\u2019")
_SPACE_LIKE = {"Zl", "Zp"}
_REMOVED = {"Cc", "Cf", "Cs", "Co", "Cn"}
# Letters and symbols that render as nothing (Hangul fillers, the blank Braille pattern).
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_SPACES = re.compile(r"\s+")
_LINK_OK = re.compile(r"[!-~]*")  # printable ASCII, no spaces: an already-encoded URL
MAX_STACKED_ACCENTS = 2  # generic combining marks ("COMBINING ...") in a row: more is Zalgo text
MAX_MARKS_IN_A_ROW = 4  # any combining marks in a row (vowel signs, Hebrew points)
# Teacher-like words: refused inside any word (long ones) or as a whole word (short ones, which
# are parts of ordinary words: "Profit", "Tutorial", "Badminton").
TEACHER_WORDS = ("teacher", "instructor", "professor", "lecturer", "administrator", "moderator")
TEACHER_SHORT_WORDS = ("prof", "tutor", "admin")
TEACHER_TITLES = ("the", "your", "our", "mr", "mrs", "ms", "miss", "dr", "sir")  # "the teacher"
LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")  # as letter names begin
# Letters that look like a Latin letter (a small part of Unicode's confusables list). Looked up as
# typed, then case folded: Greek capitals first (Η looks like H, its small η like n).
LOOKALIKES = {
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ", "abezhikmnoptyxc", strict=True)),  # Greek capitals
    **dict(zip("αβεικνορτυχηϲ", "abeikvoptuxnc", strict=True)),  # Greek small letters
    **dict(zip("аеорсухіјѕһԁӏԛԝвкмнтгп", "aeopcyxijshdlqwbkmhtrn", strict=True)),  # Cyrillic (folded)
    **dict(zip("օոսհ", "onuh", strict=True)),  # Armenian (folded)
    # Cherokee capitals (case folding turns Cherokee small letters into these)
    **dict(zip("ᎠᎡᎢᎥᎪᎫᎬᎳᎷᎻᏀᏃᏙᏚᏞᏟᏢᏦᏴ", "drtiajewmhgzvslcpkb", strict=True)),
}
_LATIN_NAME = re.compile(r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL )?([A-Z])\b")
_WORD_WORDS = "|".join(TEACHER_WORDS)
_SHORT_WORDS = "|".join(TEACHER_SHORT_WORDS)
_TEACHER_WORD = re.compile(rf"(?:\w*(?:{_WORD_WORDS})\w*|(?:{_SHORT_WORDS})s?)")
_TEACHER_NAME = re.compile(rf"(?:{'|'.join(TEACHER_TITLES)})?(?:{_WORD_WORDS}|{_SHORT_WORDS})s?")
RECORD_FIELDS = ("accuracy", "params", "model", "link", "seconds", "dataset")


def clean_text(value: object, what: str, max_len: int, *, required: bool = True) -> str:
    """`value` as one line of plain, visible text of at most `max_len` characters."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ClassError(f"The {what} must be text.")
    if len(value) > MAX_RAW:
        raise ClassError(
            f"The {what} is too long: at most {max_len} characters (this one has {len(value):,})."
        )
    text = unicodedata.normalize("NFKC", value)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat in _SPACE_LIKE:
            kept.append(" ")
        elif cat not in _REMOVED and ch not in _INVISIBLE:
            kept.append(ch)
    text = _SPACES.sub(" ", "".join(kept)).strip()
    if required and not text:
        raise ClassError(f"The {what} is empty: type some visible letters or digits.")
    if len(text) > max_len:
        raise ClassError(
            f"The {what} is too long: at most {max_len} characters (this one has {len(text):,})."
        )
    return text


def clean_nickname(value: object) -> str:
    """A nickname as stored: plain visible text, at most MAX_NICKNAME characters, no markup."""
    name = clean_text(value, "nickname", MAX_NICKNAME)
    bad = []
    for ch in name:
        cat = unicodedata.category(ch)
        if not (cat[0] in "LMN" or cat in ("So", "Sk", "Zs") or ch in NICKNAME_PUNCTUATION):
            if ch not in bad:
                bad.append(ch)
    if bad:
        shown = " ".join(bad[:5])
        raise ClassError(
            f"A nickname can use letters, digits, spaces, emoji and - _ . ' only (not {shown}). "
            "No personal data: a first name or a made-up name is fine."
        )
    if not any(unicodedata.category(ch)[0] in "LNS" for ch in name):
        raise ClassError("A nickname needs at least one letter, digit or emoji.")
    check_identity(name)
    return name


def lookalike_skeleton(word: str) -> str:
    """The lower-case letters `word` looks like: accents dropped, look-alikes read as Latin.

    'Тeacher' (Cyrillic Т), 'ᴛᴇᴀᴄʜᴇʀ' (small capitals) and 'TEÁCHER' all give 'teacher'.
    Characters that are not letters are dropped.
    """
    out = []
    for ch in unicodedata.normalize("NFKD", word):
        if unicodedata.category(ch)[0] == "M":
            continue
        for c in LOOKALIKES.get(ch) or ch.casefold():
            c = LOOKALIKES.get(c, c)
            if not c.isascii():
                latin = _LATIN_NAME.match(unicodedata.name(c, ""))
                c = latin.group(1).lower() if latin else c
            if c.isalpha():
                out.append(c)
    return "".join(out)


def letter_script(ch: str) -> str | None:
    """Which of LOOKALIKE_SCRIPTS a letter belongs to ("CYRILLIC" for "а"); None for anything else."""
    if unicodedata.category(ch)[0] != "L":
        return None
    script = unicodedata.name(ch, "").partition(" ")[0]
    return script if script in LOOKALIKE_SCRIPTS else None


def _longest_mark_runs(name: str) -> tuple[int, int]:
    """The longest runs of generic combining marks, and of any marks, in a row."""
    accents = marks = longest_accents = longest_marks = 0
    for ch in name:
        is_mark = unicodedata.category(ch)[0] == "M"
        marks = marks + 1 if is_mark else 0
        accents = accents + 1 if is_mark and unicodedata.name(ch, "").startswith("COMBINING ") else 0
        longest_accents, longest_marks = max(longest_accents, accents), max(longest_marks, marks)
    return longest_accents, longest_marks


def _words(name: str) -> list[str]:
    """The runs of letters (with their marks) in `name`: spaces, digits and punctuation split them."""
    words, current = [], []
    for ch in name:
        if unicodedata.category(ch)[0] in "LM":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    return [*words, "".join(current)] if current else words


def check_identity(name: str) -> None:
    """Refuse a nickname that could pass for someone else (see the module docstring)."""
    accents, marks = _longest_mark_runs(name)
    if accents > MAX_STACKED_ACCENTS or marks > MAX_MARKS_IN_A_ROW:
        most, found = (
            (MAX_STACKED_ACCENTS, accents) if accents > MAX_STACKED_ACCENTS else (MAX_MARKS_IN_A_ROW, marks)
        )
        raise ClassError(
            f"A nickname can stack at most {most} accents or marks on one letter (this one stacks "
            f"{found}): stacked marks spill over other names on the screen."
        )
    words = [w for w in (lookalike_skeleton(w) for w in _words(name)) if w]
    if _TEACHER_NAME.fullmatch("".join(words)) or any(_TEACHER_WORD.fullmatch(w) for w in words):
        raise ClassError(
            f"The nickname {name!r} could pass for the teacher: pick a name of your own (not teacher, "
            "instructor, professor, tutor or admin)."
        )
    scripts = sorted({s for s in map(letter_script, name) if s is not None}, key=LOOKALIKE_SCRIPTS.index)
    if len(scripts) > 1:
        raise ClassError(
            f"A nickname cannot mix {' and '.join(s.title() for s in scripts)} letters: look-alike letters (a Cyrillic а "
            "for a Latin a) could pass for another name. Type it in one alphabet."
        )


def nickname_key(name: str) -> str:
    """The form two nicknames are compared in: 'Ana' and 'ANA' are the same student name."""
    return name.casefold()


def unique_nickname(name: str, taken: Iterable[str]) -> str:
    """`name`, or 'name 2', 'name 3', ... : the first one whose key is not in `taken` (keys)."""
    taken = set(taken)
    if nickname_key(name) not in taken:
        return name
    n = 2
    while True:
        suffix = f" {n}"
        candidate = name[: MAX_NICKNAME - len(suffix)].rstrip() + suffix
        if nickname_key(candidate) not in taken:
            return candidate
        n += 1


def clean_link(value: object, what: str = "link", *, required: bool = True) -> str:
    """A link inside the app: a path ('/training?lr=0.01') or a query ('?lr=0.01'), encoded."""
    if value is None or value == "":
        if required:
            raise ClassError(f"The {what} is empty.")
        return ""
    if not isinstance(value, str):
        raise ClassError(f"The {what} must be text.")
    if len(value) > MAX_LINK:
        raise ClassError(
            f"The {what} is too long: at most {MAX_LINK} characters (this one has {len(value):,})."
        )
    if not _LINK_OK.fullmatch(value):
        raise ClassError(f"The {what} has spaces or characters a link cannot hold; use an encoded app link.")
    if not (value.startswith("?") or (value.startswith("/") and not value.startswith(("//", "/\\")))):
        raise ClassError(f"The {what} must be a link inside the app, starting with / or ?.")
    return value


def _real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ClassError(f"The run's {what} must be a number, not {type(value).__name__}.")
    return float(value)


def clean_record(record: object) -> dict:
    """A training run's record as stored on the board; ClassError names the first bad field."""
    if not isinstance(record, Mapping):
        raise ClassError("A run to post must be a record of its accuracy, parameter count and settings.")
    extra = sorted(str(k)[:40] for k in record if k not in RECORD_FIELDS)
    if extra:
        raise ClassError(f"A posted run has unknown fields {extra}; the fields are {list(RECORD_FIELDS)}.")
    if "accuracy" not in record or "params" not in record:
        raise ClassError("A posted run needs its test accuracy and its parameter count.")
    accuracy = _real(record["accuracy"], "accuracy")
    if math.isnan(accuracy):
        raise ClassError(
            "The run's test accuracy is not a number (NaN): the training diverged. Train again (a lower "
            "learning rate often helps), then post the new run."
        )
    if not 0.0 <= accuracy <= 1.0:
        raise ClassError(f"The run's test accuracy must be between 0 and 1 (a fraction), not {accuracy!r}.")
    params = record["params"]
    if isinstance(params, bool):
        raise ClassError("The run's parameter count must be a whole number.")
    try:
        params = operator.index(params)
    except TypeError:
        raise ClassError("The run's parameter count must be a whole number.") from None
    if not 1 <= params <= MAX_PARAMS:
        raise ClassError(f"The run's parameter count must be between 1 and {MAX_PARAMS:,}, not {params:,}.")
    seconds = record.get("seconds")
    if seconds is not None:
        seconds = _real(seconds, "training time")
        if not (math.isfinite(seconds) and 0.0 <= seconds <= MAX_SECONDS):
            raise ClassError("The run's training time must be a number of seconds between 0 and one week.")
    return {
        "accuracy": accuracy,
        "params": params,
        "model": clean_text(record.get("model"), "model summary", MAX_MODEL, required=False),
        "link": clean_link(record.get("link"), "settings link", required=False),
        "seconds": seconds,
        "dataset": clean_text(record.get("dataset"), "dataset name", MAX_DATASET, required=False),
    }


def clean_poll(
    question: object, options: object, correct: object = None
) -> tuple[str, list[str], str | None]:
    """A poll's question, its 2-12 distinct options, and its answer (one of them, or None)."""
    question = clean_text(question, "poll question", MAX_QUESTION)
    if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
        raise ClassError("A poll's options must be a list of answers to choose from.")
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise ClassError(f"A poll has {MIN_OPTIONS} to {MAX_OPTIONS} options, not {len(options)}.")
    cleaned = [clean_text(opt, "poll option", MAX_OPTION) for opt in options]
    if len(set(cleaned)) != len(cleaned):
        raise ClassError("A poll's options must all be different.")
    if correct is not None:
        correct = clean_text(correct, "poll answer", MAX_OPTION)
        if correct not in cleaned:
            raise ClassError(f"The poll's answer {correct!r} is not one of its options.")
    return question, cleaned, correct


def clean_answer(answer: object, options: Sequence[str]) -> str:
    """A student's answer: exactly one of the poll's options."""
    if not isinstance(answer, str) or len(answer) > MAX_RAW:
        raise ClassError(f"That is not one of this poll's options: choose one of {', '.join(options)}.")
    try:
        text = clean_text(answer, "answer", MAX_OPTION, required=False)
    except ClassError:
        text = answer
    if text not in options:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ClassError(f"{shown!r} is not one of this poll's options: choose one of {', '.join(options)}.")
    return text
