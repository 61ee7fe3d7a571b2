"""Seat tokens: one short signed string per browser, so a reload or a server restart keeps its seat.

A page asks for a seat once it knows who the browser is (`issue_seat`: after a join, or after a
teacher link was checked), keeps the token in a cookie or its link, and on a fresh session
redeems it (`redeem_seat`) instead of joining again, so a reload is the same student, not "Ana 2".

A token is base64url (URL- and cookie-safe, 80-90 characters, no padding) of

    payload = version (1 byte) | role (b"t", b"s" or b"p") | class code (6 ASCII) | expiry (uint32, epoch s)
              | the student id (ASCII), for a teacher a 16-byte wrap value, for a projector 8 random bytes
    mac     = HMAC-SHA256(secret, DOMAIN + payload)   (32 bytes)

signed with a secret of 32 random bytes kept in the database (`seat_secret`, one row made on
first use), so every app process behind nginx and a restarted server accept the same seats. The
expiry is the class's end, or at most the store's session hours from now. Redeeming checks the
signature (constant-time), then the class (gone, closed, ended), the token's expiry, then the
person: a student who left or was removed no longer redeems.

The teacher key is never in a token, and the database keeps only its hash (codes.py). A teacher's
seat carries `wrap` = HMAC-SHA256(teacher key, WRAP_LABEL)[:16]; the class row keeps the key
sealed as key XOR SHAKE-256(wrap) (`teacher_key_sealed`). Redeeming unseals it and checks it
against the stored hash. A copy of the database alone (which also holds the signing secret, so it
could forge tokens) still cannot recover a teacher key, and a token alone holds no key.

A projector seat (role "projector") is the display the teacher opens on the projector's computer:
issued with the teacher key, it carries no key and no student id (8 random bytes only make each
one distinct), does not count as a student, and lets its browser follow the class and show it,
never act for the teacher.

Every refusal is a ClassError in plain words: a forged, tampered, truncated or garbage token gets
the same "not valid" message, whatever was wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cnnlib.classroom.codes import CODE_LENGTH, format_code, key_matches, looks_like_token
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.records import SEAT_ROLES, Seat
from cnnlib.classroom.schema import classes, seat_secret
from cnnlib.classroom.sessions import live_class, require_student, require_teacher

__all__: list[str] = []


TOKEN_VERSION = 1
HEADER = struct.Struct(f">Bc{CODE_LENGTH}sI")  # version, role, code, expiry
MAC_BYTES = 32
WRAP_BYTES = 16
SECRET_BYTES = 32
MAX_SEAT_CHARS = 200  # a longer "token" is refused before decoding (real ones: at most 144)
DOMAIN = b"cnn-classroom seat v1\x00"
WRAP_LABEL = b"cnn-classroom teacher seat wrap"
SEAL_LABEL = b"cnn-classroom teacher seat seal\x00"
MAX_EXPIRY = 2**32 - 1
PROJECTOR_NONCE_BYTES = 8
_ROLE_BYTES = {"teacher": b"t", "student": b"s", "projector": b"p"}
_ROLES = {b: role for role, b in _ROLE_BYTES.items()}
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
NOT_VALID = (
    "This class seat is not valid (it may be old or copied wrong): join the class again with its code."
)
TEACHER_SEAT_GONE = (
    "This teacher seat no longer works: open the class with the teacher link (it carries the teacher key)."
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def split_token(token: object) -> tuple[bytes, bytes]:
    """(payload, mac) of a token's text; ClassError(NOT_VALID) unless it is canonical base64url."""
    if (
        not isinstance(token, str)
        or not 0 < len(token) <= MAX_SEAT_CHARS
        or not _TOKEN_CHARS.fullmatch(token)
    ):
        raise ClassError(NOT_VALID)
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ClassError(NOT_VALID) from None
    if _b64(raw) != token or len(raw) < HEADER.size + 1 + MAC_BYTES:  # one spelling per token
        raise ClassError(NOT_VALID)
    return raw[:-MAC_BYTES], raw[-MAC_BYTES:]


def signing_secret(conn: Connection, now: float, *, create: bool) -> bytes | None:
    """The seat secret; made (once, whoever comes first) when `create` and none exists yet."""
    query = select(seat_secret.c.secret).where(seat_secret.c.id == 1)
    value = conn.scalar(query)
    if value is None and create:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        row = {"id": 1, "secret": secrets.token_hex(SECRET_BYTES), "created_at": now}
        conn.execute(insert(seat_secret).values(**row).on_conflict_do_nothing(index_elements=["id"]))
        value = conn.scalar(query)
    if value is None:
        return None
    try:
        secret = bytes.fromhex(value)
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise ClassError(
            "The class database's seat secret is damaged: delete the row of table seat_secret (every "
            "seat then has to join again)."
        )
    return secret


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, DOMAIN + payload, hashlib.sha256).digest()


def _wrap(teacher_key: bytes) -> bytes:
    return hmac.new(teacher_key, WRAP_LABEL, hashlib.sha256).digest()[:WRAP_BYTES]


def _seal(data: bytes, wrap: bytes) -> bytes:
    """`data` XOR a SHAKE-256 stream of `wrap`: sealing and unsealing are the same operation."""
    stream = hashlib.shake_256(SEAL_LABEL + wrap).digest(len(data))
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def issue_seat(
    conn: Connection,
    code: str,
    role: object,
    student_id: object,
    teacher_key: object,
    now: float,
    hours: float,
) -> str:
    """A signed seat token for the class's teacher (key checked), one of its present students, or
    its projector (a display-only seat, issued with the teacher key)."""
    if role not in SEAT_ROLES:
        raise ClassError(f"A seat is for a 'teacher', a 'student' or a 'projector', not {str(role)[:20]!r}.")
    row = live_class(conn, code, now)
    if role == "projector":
        if student_id is not None:
            raise ClassError("A projector's seat takes the teacher key, not a student id.")
        require_teacher(row, teacher_key, "open a projector screen")
        tail = secrets.token_bytes(PROJECTOR_NONCE_BYTES)
    elif role == "teacher":
        if student_id is not None:
            raise ClassError("A teacher's seat takes the teacher key, not a student id.")
        require_teacher(row, teacher_key, "take the teacher's seat")
        key = str(teacher_key).encode("utf-8")
        tail = _wrap(key)
        sealed = _seal(key, tail).hex()
        if row.teacher_key_sealed != sealed:
            conn.execute(update(classes).where(classes.c.code == code).values(teacher_key_sealed=sealed))
    else:
        if teacher_key is not None:
            raise ClassError("A student's seat takes the student id, not a teacher key.")
        require_student(conn, code, student_id)  # found by its hash, so student_id is a token
        tail = str(student_id).encode("ascii")  # the raw id: the database keeps only its hash
    expires = min(int(min(row.expires_at, now + hours * 3600)), MAX_EXPIRY)
    secret = signing_secret(conn, now, create=True)
    assert secret is not None  # create=True finds or makes one
    payload = HEADER.pack(TOKEN_VERSION, _ROLE_BYTES[role], code.encode("ascii"), expires) + tail
    return _b64(payload + _mac(secret, payload))


def redeem_seat(conn: Connection, token: object, now: float) -> Seat:
    """Who a seat token belongs to, checked against the database now; ClassError if it no longer works."""
    payload, mac = split_token(token)
    secret = signing_secret(conn, now, create=False)
    if secret is None or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise ClassError(NOT_VALID)
    version, role_byte, code_bytes, expires = HEADER.unpack_from(payload)
    tail = payload[HEADER.size :]
    if version != TOKEN_VERSION or role_byte not in _ROLES or not code_bytes.isalnum():
        raise ClassError(NOT_VALID)
    code = code_bytes.decode("ascii")
    row = live_class(conn, code, now)
    if expires <= now:
        raise ClassError(f"Your seat in class {format_code(code)} has expired: join the class again.")
    if _ROLES[role_byte] == "teacher":
        if len(tail) != WRAP_BYTES or not row.teacher_key_sealed:
            raise ClassError(TEACHER_SEAT_GONE)
        try:
            key = _seal(bytes.fromhex(row.teacher_key_sealed), tail).decode("utf-8")
        except ValueError:  # not hex, or not text: a wrap of another key
            raise ClassError(TEACHER_SEAT_GONE) from None
        if not key_matches(key, row.teacher_key_hash):
            raise ClassError(TEACHER_SEAT_GONE)
        return Seat(code, "teacher", None, None, key, float(expires))
    if _ROLES[role_byte] == "projector":
        if len(tail) != PROJECTOR_NONCE_BYTES:
            raise ClassError(NOT_VALID)
        return Seat(code, "projector", None, None, None, float(expires))
    student_id = tail.decode("ascii") if tail.isascii() else ""
    if not looks_like_token(student_id):
        raise ClassError(NOT_VALID)
    student = require_student(conn, code, student_id)
    return Seat(code, "student", student_id, student.nickname, None, float(expires))
