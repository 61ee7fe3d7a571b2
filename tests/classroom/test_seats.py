"""Seat tokens on SQLite and PostgreSQL: round trips, restarts, expiry, and hostile tokens.

A seat must survive a reload and a server restart (the signing secret lives in the database), must
stop working when its class ends or its student is removed, and anything that is not a token this
database issued (forged, tampered, truncated, garbage) must raise ClassError, never anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import string
import threading

import pytest
from sqlalchemy import create_engine, exc, select, update

from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable, Seat, format_code
from cnnlib.classroom import seats as seats_mod
from cnnlib.classroom.schema import classes, seat_secret
from tests.classroom.conftest import dump

URL_SAFE = set(string.ascii_letters + string.digits + "-_")


@pytest.fixture
def lesson(store):
    info = store.create_class("Seats")
    ana = store.join(info.code, "Ana")
    return info, ana


def _secret(url: str) -> bytes:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bytes.fromhex(conn.scalar(select(seat_secret.c.secret)))
    finally:
        engine.dispose()


def _sign(secret: bytes, payload: bytes) -> str:
    """A token for `payload` signed with the real secret: what a forger holding it could make."""
    mac = hmac.new(secret, seats_mod.DOMAIN + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


def _url(store: ClassStore) -> str:
    return store._url.render_as_string(hide_password=False)


def test_seats_round_trip_for_a_student_and_the_teacher(store, lesson):
    info, ana = lesson
    student = store.issue_seat(info.code, "student", student_id=ana)
    teacher = store.issue_seat(format_code(info.code).lower(), "teacher", teacher_key=info.teacher_key)
    for token in (student, teacher):
        assert len(token) < 200 and set(token) <= URL_SAFE
    seat = store.redeem_seat(student)
    assert seat == Seat(info.code, "student", ana, "Ana", None, info.expires_at // 1)
    seat = store.redeem_seat(teacher)
    assert (seat.code, seat.role, seat.student_id, seat.nickname) == (info.code, "teacher", None, None)
    assert seat.teacher_key == info.teacher_key
    assert info.teacher_key not in repr(seat)
    # The teacher key is in neither the token nor the database: only what unseals it with a seat.
    raw = base64.urlsafe_b64decode(teacher + "=" * (-len(teacher) % 4))
    assert info.teacher_key.encode() not in raw and info.teacher_key not in teacher
    assert info.teacher_key not in str(dump(_url(store)))
    store.check_teacher(seat.code, seat.teacher_key)  # what a page does next with it
    # Issuing again gives a working seat too (the page issues once per browser).
    assert store.redeem_seat(store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)) == seat


def test_a_projector_seat_shows_the_class_and_holds_no_key_and_no_student(store, lesson):
    info, ana = lesson
    first = store.issue_seat(info.code, "projector", teacher_key=info.teacher_key)
    second = store.issue_seat(info.code, "projector", teacher_key=info.teacher_key)
    assert first != second and len(first) < 200 and set(first) <= URL_SAFE
    for token in (first, second):
        seat = store.redeem_seat(token)
        assert seat == Seat(info.code, "projector", None, None, None, info.expires_at // 1)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert info.teacher_key.encode() not in raw and ana.encode() not in raw
    assert store.projector(info.code).students == 1  # a screen is not a student
    store.close_class(info.code, info.teacher_key)
    with pytest.raises(ClassError):
        store.redeem_seat(first)  # the class is over: the screen goes too


def test_a_projector_token_with_another_tail_is_refused(store, lesson, clock):
    info, _ = lesson
    token = store.issue_seat(info.code, "projector", teacher_key=info.teacher_key)
    secret = _secret(_url(store))
    payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[: -seats_mod.MAC_BYTES]
    head = payload[: seats_mod.HEADER.size]
    for tail in (b"", b"x" * 7, b"x" * 9, b"x" * 16):
        with pytest.raises(ClassError, match="not valid"):
            store.redeem_seat(_sign(secret, head + tail))


def test_seats_survive_a_restart_and_work_across_processes(store_url, clock):
    first = ClassStore.open(store_url, clock=clock)
    info = first.create_class()
    ana = first.join(info.code, "Ana")
    student = first.issue_seat(info.code, "student", student_id=ana)
    teacher = first.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)
    first.close()
    second = ClassStore.open(store_url, clock=clock)  # a restarted server
    third = ClassStore.open(store_url, clock=clock)  # another process behind nginx
    assert second.redeem_seat(student).student_id == ana
    assert third.redeem_seat(teacher).teacher_key == info.teacher_key
    bo = third.join(info.code, "Bo")
    assert second.redeem_seat(third.issue_seat(info.code, "student", student_id=bo)).nickname == "Bo"
    assert len(dump(store_url)["seat_secret"]) == 1  # one secret, made on first use
    second.close()
    third.close()


def test_a_fresh_database_has_no_secret_until_the_first_seat(store, lesson):
    info, ana = lesson
    assert dump(_url(store))["seat_secret"] == []
    with pytest.raises(ClassError, match="not valid"):
        store.redeem_seat("A" * 88)
    store.issue_seat(info.code, "student", student_id=ana)
    assert len(dump(_url(store))["seat_secret"]) == 1


def test_processes_issuing_their_first_seats_at_once_share_one_secret(store_url, clock):
    """Eight stores (app processes) issue the database's first seats at the same moment."""
    stores = [ClassStore.open(store_url, clock=clock) for _ in range(8)]
    info = stores[0].create_class()
    ids = [stores[0].join(info.code, f"S{i}") for i in range(8)]
    tokens: dict[int, str] = {}
    errors: list[Exception] = []
    barrier = threading.Barrier(8)

    def issue(i: int) -> None:
        barrier.wait()
        try:
            tokens[i] = stores[i].issue_seat(info.code, "student", student_id=ids[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(tokens) == 8
    assert len(dump(store_url)["seat_secret"]) == 1
    for i, token in tokens.items():
        assert stores[(i + 3) % 8].redeem_seat(token).nickname == f"S{i}"
    for s in stores:
        s.close()


def test_a_seat_lasts_the_class_or_at_most_the_session_hours(store_url, clock):
    long_store = ClassStore.open(store_url, clock=clock, session_hours=12)
    short_store = ClassStore.open(store_url, clock=clock, session_hours=1)
    info = long_store.create_class()
    ana = long_store.join(info.code, "Ana")
    short = short_store.issue_seat(info.code, "student", student_id=ana)
    full = long_store.issue_seat(info.code, "student", student_id=ana)
    assert long_store.redeem_seat(short).expires_at == clock.now + 3600
    assert long_store.redeem_seat(full).expires_at == info.expires_at
    clock.advance(3600)
    with pytest.raises(ClassError, match=f"Your seat in class {format_code(info.code)} has expired"):
        long_store.redeem_seat(short)
    assert long_store.redeem_seat(full).nickname == "Ana"
    clock.advance(11 * 3600)
    with pytest.raises(ClassError, match="has ended: class sessions last 12 hours"):
        long_store.redeem_seat(full)
    long_store.close()
    short_store.close()


def test_a_closed_class_removed_or_departed_student_loses_the_seat(store, lesson):
    info, ana = lesson
    bo = store.join(info.code, "Bo")
    ana_seat = store.issue_seat(info.code, "student", student_id=ana)
    bo_seat = store.issue_seat(info.code, "student", student_id=bo)
    teacher = store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)
    store.remove_student(info.code, info.teacher_key, ana)
    with pytest.raises(ClassError, match="You are not in class"):
        store.redeem_seat(ana_seat)
    store.leave(info.code, bo)
    with pytest.raises(ClassError, match="You left class"):
        store.redeem_seat(bo_seat)
    with pytest.raises(ClassError, match="You left class"):
        store.issue_seat(info.code, "student", student_id=bo)
    store.close_class(info.code, info.teacher_key)
    with pytest.raises(ClassError, match="closed by the teacher"):
        store.redeem_seat(teacher)


def test_issuing_a_seat_checks_who_asks(store, lesson):
    info, ana = lesson
    other = store.create_class()
    before = dump(_url(store))
    refusals = [
        (lambda: store.issue_seat(info.code, "teacher", teacher_key="guess"), "teacher key does not match"),
        (lambda: store.issue_seat(info.code, "teacher", teacher_key=None), "Only the teacher"),
        (lambda: store.issue_seat(info.code, "teacher", teacher_key=other.teacher_key), "does not match"),
        (lambda: store.issue_seat(info.code, "teacher", teacher_key=ana), "does not match"),
        (lambda: store.issue_seat(other.code, "student", student_id=ana), "You are not in class"),
        (lambda: store.issue_seat(info.code, "student", student_id=None), "You are not in class"),
        (lambda: store.issue_seat(info.code, "student", student_id="x" * 10_000), "You are not in class"),
        (lambda: store.issue_seat(info.code, "admin"), "for a 'teacher', a 'student' or a 'projector'"),
        (lambda: store.issue_seat(info.code, None), "for a 'teacher', a 'student' or a 'projector'"),
        (lambda: store.issue_seat(info.code, "projector"), "Only the teacher"),
        (lambda: store.issue_seat(info.code, "projector", teacher_key="guess"), "does not match"),
        (
            lambda: store.issue_seat(info.code, "projector", teacher_key=info.teacher_key, student_id=ana),
            "not a student id",
        ),
        (
            lambda: store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key, student_id=ana),
            "not a student id",
        ),
        (
            lambda: store.issue_seat(info.code, "student", student_id=ana, teacher_key=info.teacher_key),
            "not a teacher key",
        ),
        (lambda: store.issue_seat("ZZZ-ZZZ", "student", student_id=ana), "There is no class"),
    ]
    for call, message in refusals:
        with pytest.raises(ClassError, match=message):
            call()
    assert dump(_url(store)) == before  # nothing written, not even the secret


def _mutations(token: str, rng: random.Random, n: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "-_=.+/ %~\u0430\x00"
    out = {token[:k] for k in range(len(token))}  # every truncation
    out |= {token[k:] for k in range(1, len(token), 7)}
    out |= {token + tail for tail in ["A", "AA", "AAAA", "=", "==", ".", "%3D", " ", "\n"]}
    while len(out) < n:
        t = list(token)
        for _ in range(rng.randint(1, 4)):
            op, k = rng.random(), rng.randrange(len(t))
            if op < 0.5:
                t[k] = rng.choice(alphabet)
            elif op < 0.7:
                del t[k]
            elif op < 0.9:
                t.insert(k, rng.choice(alphabet))
            else:
                j = rng.randrange(len(t))
                t[k], t[j] = t[j], t[k]
        out.add("".join(t))
    out.discard(token)
    return sorted(out)


def test_hostile_tokens_raise_class_error_and_nothing_else(store, lesson):
    info, ana = lesson
    rng = random.Random(1234)
    tokens = [
        store.issue_seat(info.code, "student", student_id=ana),
        store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key),
    ]
    hostile = [m for token in tokens for m in _mutations(token, rng, 600)]
    hostile += ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 300))) for _ in range(200)]
    hostile += [
        base64.urlsafe_b64encode(rng.randbytes(rng.randint(0, 150))).rstrip(b"=").decode() for _ in range(200)
    ]
    hostile += [None, 0, 1.5, b"bytes", ["list"], {"a": 1}, "", " ", "=" * 8, "x" * 100_000, "\u0430" * 88]
    before = dump(_url(store))
    for token in hostile:
        with pytest.raises(ClassError) as caught:
            store.redeem_seat(token)
        assert type(caught.value) is ClassError, (token, caught.value)  # not ClassUnavailable
        assert len(str(caught.value)) < 200 and "Traceback" not in str(caught.value)
    assert dump(_url(store)) == before
    assert all(store.redeem_seat(t) for t in tokens)  # the real ones still work


def test_tokens_signed_with_the_real_secret_but_malformed_are_refused(store, lesson, clock):
    """What someone holding the database's secret could forge still goes through every check."""
    info, ana = lesson
    store.issue_seat(info.code, "student", student_id=ana)
    secret = _secret(_url(store))
    exp = int(clock.now) + 3600
    code = info.code.encode()
    header = seats_mod.HEADER.pack
    forged = {
        "wrong version": header(2, b"s", code, exp) + ana.encode(),
        "wrong role": header(1, b"x", code, exp) + ana.encode(),
        "bad code bytes": header(1, b"s", b"\xff\x00<>!?", exp) + ana.encode(),
        "unknown code": header(1, b"s", b"ZZZZZZ", exp) + ana.encode(),
        "expired": header(1, b"s", code, int(clock.now) - 1) + ana.encode(),
        "non-ASCII student id": header(1, b"s", code, exp) + "Ана".encode(),
        "student id with dots": header(1, b"s", code, exp) + b"a.b.c",
        "unknown student": header(1, b"s", code, exp) + b"A" * 22,
        "teacher wrap too short": header(1, b"t", code, exp) + b"\x00" * 15,
        "teacher wrap of another key": header(1, b"t", code, exp) + b"\x00" * 16,
    }
    messages = {
        "unknown code": "There is no class",
        "expired": "has expired",
        "unknown student": "You are not in class",
        "teacher wrap too short": "teacher seat no longer works",
        "teacher wrap of another key": "teacher seat no longer works",
    }
    for name, payload in forged.items():
        with pytest.raises(ClassError, match=messages.get(name, "not valid")):
            store.redeem_seat(_sign(secret, payload))
    # A wrong secret (another database's) is refused like any forgery.
    with pytest.raises(ClassError, match="not valid"):
        store.redeem_seat(_sign(b"\x01" * 32, header(1, b"s", code, exp) + ana.encode()))


def test_a_teacher_seat_stops_when_its_sealed_key_is_damaged(store, lesson):
    info, _ = lesson
    teacher = store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)
    engine = create_engine(_url(store))
    try:
        for sealed in ["00" * 32, "not hex", None, "ff" * 64]:
            with engine.begin() as conn:
                conn.execute(update(classes).values(teacher_key_sealed=sealed))
            with pytest.raises(ClassError, match="teacher seat no longer works"):
                store.redeem_seat(teacher)
    finally:
        engine.dispose()
    # Issuing again (with the key) seals it again.
    assert (
        store.redeem_seat(store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)).role
        == "teacher"
    )
    assert store.redeem_seat(teacher).teacher_key == info.teacher_key


def test_a_damaged_secret_is_a_class_error(store, lesson):
    info, ana = lesson
    token = store.issue_seat(info.code, "student", student_id=ana)
    engine = create_engine(_url(store))
    try:
        with engine.begin() as conn:
            conn.execute(update(seat_secret).values(secret="zz"))
    finally:
        engine.dispose()
    for call in (
        lambda: store.redeem_seat(token),
        lambda: store.issue_seat(info.code, "student", student_id=ana),
    ):
        with pytest.raises(ClassError, match="seat secret is damaged"):
            call()


def test_a_database_error_while_redeeming_is_class_unavailable(store, lesson, monkeypatch):
    info, ana = lesson
    token = store.issue_seat(info.code, "student", student_id=ana)

    def broken(*args, **kwargs):
        raise exc.OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(seats_mod, "signing_secret", broken)
    with pytest.raises(ClassUnavailable):
        store.redeem_seat(token)
