"""Class codes, teacher keys and student ids: how a class is named and who may change it.

A class code is 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), so it can be
read aloud or copied from a projector: 31**6 (about 887 million) codes. `normalize_code` accepts
what a student types (lower case, spaces, a dash: "k7m-q2r") and returns the stored form
("K7MQ2R"); `format_code` shows it in two halves ("K7M-Q2R").

A teacher key is 32 random URL-safe characters (192 bits) carried in the teacher's link. Only its
SHA-256 is stored, and `key_matches` compares digests in constant time (`hmac.compare_digest`),
so neither a copy of the database nor the timing of a wrong guess gives the key away. A student id
is 22 random URL-safe characters, returned by `join` and kept by the student's page (and in its seat
token). The database keeps only `student_key(id)`, 32 hex characters of a SHA-256 of the id (schema
v4), so a copy of the database holds no id a student could be impersonated with. Plain SHA-256 (with
a label), not a keyed hash: an id is 128 random bits, so there is nothing to guess from its digest,
and a key kept in the same database would add nothing. The teacher's list of students shows these
keys (`ClassMember.student_id`): enough to remove a student, useless to act as one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from cnnlib.classroom.errors import ClassError

__all__ = ["CODE_LENGTH", "normalize_code", "format_code"]


CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1
CODE_LENGTH = 6
TEACHER_KEY_BYTES = 24  # -> 32 URL-safe characters
STUDENT_ID_BYTES = 16  # -> 22 URL-safe characters
MAX_TOKEN_CHARS = 64  # a longer "key" or "student id" is refused before hashing
STUDENT_KEY_CHARS = 32  # the stored form of a student id: 128 bits of SHA-256, in hex
STUDENT_KEY_LABEL = b"cnn-classroom student id\x00"
_STUDENT_KEY_RE = re.compile(rf"^[0-9a-f]{{{STUDENT_KEY_CHARS}}}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_class_code() -> str:
    """A fresh random class code (the store retries on the rare collision)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: object) -> str:
    """The stored form of a class code typed by a person; ClassError if it cannot be one."""
    if not isinstance(text, str) or not text.strip():
        raise ClassError("Type the class code shown on the teacher's screen (6 letters and digits).")
    if len(text) > 40:
        raise ClassError("That is not a class code: a class code has 6 letters and digits, like K7M-Q2R.")
    code = _SEPARATORS.sub("", text).upper()
    bad = sorted({ch for ch in code if ch not in CODE_ALPHABET})
    if len(code) != CODE_LENGTH or bad:
        hint = ""
        if set(bad) & set("0O1IL"):
            hint = " Codes never use 0, O, 1, I or L: check the code on the teacher's screen."
        raise ClassError(
            f"{text.strip()!r} is not a class code: a class code has {CODE_LENGTH} letters and digits, "
            f"like K7M-Q2R.{hint}"
        )
    return code


def format_code(code: str) -> str:
    """A stored code in two halves for reading aloud: 'K7MQ2R' -> 'K7M-Q2R'."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def new_teacher_key() -> str:
    """A fresh teacher key (shown once, in the teacher's link)."""
    return secrets.token_urlsafe(TEACHER_KEY_BYTES)


def new_student_id() -> str:
    """A fresh student id (unguessable, so one student cannot post as another)."""
    return secrets.token_urlsafe(STUDENT_ID_BYTES)


def hash_key(key: str) -> str:
    """The stored form of a teacher key: its SHA-256 in hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(given: object, stored_hash: str) -> bool:
    """Whether `given` is the teacher key whose hash is stored (constant-time compare)."""
    if not isinstance(given, str) or not given or len(given) > MAX_TOKEN_CHARS:
        given = ""
    return hmac.compare_digest(hash_key(given), stored_hash) and bool(given)


def looks_like_token(value: object) -> bool:
    """Whether `value` could be a student id or teacher key (checked before any query)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_CHARS and bool(_TOKEN_RE.match(value))


def student_key(student_id: object) -> str:
    """The stored form of a student id (its labelled SHA-256, 32 hex characters); "" for anything
    that cannot be a student id, which matches no row."""
    if not looks_like_token(student_id):
        return ""
    digest = hashlib.sha256(STUDENT_KEY_LABEL + str(student_id).encode("ascii")).hexdigest()
    return digest[:STUDENT_KEY_CHARS]


def is_student_key(value: object) -> bool:
    """Whether `value` is a stored student key (what `ClassStore.students` lists), not a raw id."""
    return isinstance(value, str) and bool(_STUDENT_KEY_RE.match(value))
