"""Rate limits on joining and starting classes (issue 24 item 6), on SQLite and PostgreSQL.

One client must not fill a class (520 joins as "Ana" in 24 s filled a class of 500) or start
classes at 12 a second; a whole class behind one school address must still get in. The clock is
the store's own (`clock` fixture): time moves only when a test moves it.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select

from cnnlib.classroom import ClassError, ClassStore, client_address, format_code, trusted_proxies
from cnnlib.classroom import limits as limits_mod
from cnnlib.classroom.limits import (
    CLASSES_PER_ADDRESS,
    ENV_TRUSTED_PROXIES,
    JOINS_PER_ADDRESS,
    JOINS_PER_CLASS,
)
from cnnlib.classroom.schema import rate_limits
from tests.classroom.conftest import dump

SCHOOL = "203.0.113.7"  # one address for a whole school (NAT)
HOME = "198.51.100.20"


def test_a_whole_class_behind_one_address_joins_at_once_and_the_next_waits(store, store_url, clock):
    assert JOINS_PER_ADDRESS >= 60
    info = store.create_class()
    for i in range(JOINS_PER_ADDRESS):
        store.join(info.code, f"S{i}", client=SCHOOL)
    assert store.status(info.code).students == JOINS_PER_ADDRESS
    before = dump(store_url)
    with pytest.raises(ClassError) as refused:
        store.join(info.code, "Late", client=SCHOOL)
    assert str(refused.value) == (
        "Too many joins from your network in the last minute: try again in 1 s. "
        "If you are already in the class, reload the page in the browser you joined with."
    )
    assert dump(store_url) == before  # a refused join writes nothing, not even the bucket
    assert store.join_as(info.code, "Ana", client=HOME)[1] == "Ana"  # another address is not held up
    clock.advance(60 / JOINS_PER_ADDRESS)  # one more token
    store.join(info.code, "Late", client=SCHOOL)
    with pytest.raises(ClassError, match="Too many joins from your network"):
        store.join(info.code, "Later", client=SCHOOL)
    clock.advance(60)  # a minute later the bucket is full again
    for i in range(JOINS_PER_ADDRESS):
        store.join(info.code, f"T{i}", client=SCHOOL)


def test_520_joins_as_ana_from_one_client_in_24_s_do_not_fill_the_class(store, clock):
    """The issue's flood: one client, 520 joins in 24 s. Real students still get in afterwards."""
    info = store.create_class()
    joined, refused = 0, set()
    for _ in range(520):
        try:
            store.join(info.code, "Ana", client=SCHOOL)
            joined += 1
        except ClassError as err:
            refused.add(str(err).split(":")[0])
        clock.advance(24 / 520)
    # A burst of 60, then one a second: 60 + 24, give or take the last fraction of a token.
    assert JOINS_PER_ADDRESS <= joined <= JOINS_PER_ADDRESS + 25
    assert refused == {"Too many joins from your network in the last minute"}
    assert store.status(info.code).students == joined < 100
    assert store.join_as(info.code, "Bo", client=HOME)[1] == "Bo"


def test_a_class_takes_at_most_its_joins_a_minute_from_any_number_of_addresses(
    store, store_url, clock, monkeypatch
):
    assert JOINS_PER_CLASS >= 2 * JOINS_PER_ADDRESS  # a lecture hall of several NATs joins at once
    monkeypatch.setattr(limits_mod, "JOINS_PER_CLASS", 5)
    info, other = store.create_class(), store.create_class()
    for i in range(5):
        store.join(info.code, f"S{i}", client=f"192.0.2.{i}")
    before = dump(store_url)
    with pytest.raises(ClassError) as refused:
        store.join(info.code, "Cy", client="192.0.2.99")
    assert str(refused.value) == (
        f"Class {format_code(info.code)} is taking many joins right now: try again in 12 s."
    )
    with pytest.raises(ClassError, match="taking many joins"):
        store.join(info.code, "Cy")  # without an address: the class's limit still holds
    assert dump(store_url) == before
    store.join(other.code, "Cy", client="192.0.2.99")  # another class is not held up
    clock.advance(12)
    store.join(info.code, "Cy", client="192.0.2.99")


def test_a_refused_join_takes_nothing_from_the_buckets(store, clock, monkeypatch):
    """A join refused for another reason (a locked class, a bad nickname) costs no token."""
    monkeypatch.setattr(limits_mod, "JOINS_PER_ADDRESS", 2)
    info = store.create_class()
    store.lock_class(info.code, info.teacher_key, True)
    for _ in range(5):
        with pytest.raises(ClassError, match="locked"):
            store.join(info.code, "Ana", client=SCHOOL)
        with pytest.raises(ClassError, match="nickname"):
            store.join(info.code, "<b>", client=SCHOOL)
    store.lock_class(info.code, info.teacher_key, False)
    store.join(info.code, "Ana", client=SCHOOL)
    store.join(info.code, "Bo", client=SCHOOL)
    with pytest.raises(ClassError, match="Too many joins"):
        store.join(info.code, "Cy", client=SCHOOL)


def test_classes_are_started_at_most_five_a_minute_from_one_address(store, store_url, clock):
    assert CLASSES_PER_ADDRESS == 5
    for _ in range(5):
        store.create_class("Lesson", client=SCHOOL)
    before = dump(store_url)
    with pytest.raises(ClassError) as refused:
        store.create_class("Lesson", client=SCHOOL)
    assert str(refused.value) == (
        "Too many classes started from your network in the last minute: try again in 12 s."
    )
    assert dump(store_url) == before
    store.create_class("Lesson", client=HOME)
    store.create_class("Lesson")  # the library, a test: no address, no per-address limit
    clock.advance(12)
    store.create_class("Lesson", client=SCHOOL)


def test_every_process_shares_the_limits(store, store_url, clock, monkeypatch):
    """Two stores on one database (two app processes behind nginx) draw from the same buckets."""
    monkeypatch.setattr(limits_mod, "JOINS_PER_ADDRESS", 3)
    other = ClassStore.open(store_url, clock=clock)
    try:
        info = store.create_class()
        store.join(info.code, "Ana", client=SCHOOL)
        other.join(info.code, "Bo", client=SCHOOL)
        store.join(info.code, "Cy", client=SCHOOL)
        with pytest.raises(ClassError, match="Too many joins"):
            other.join(info.code, "Di", client=SCHOOL)
    finally:
        other.close()


def test_joins_at_the_same_moment_take_one_token_each(store, clock, monkeypatch):
    """20 threads join from one address at once with 8 tokens: exactly 8 get in (the bucket's row
    is locked for each join's transaction)."""
    monkeypatch.setattr(limits_mod, "JOINS_PER_ADDRESS", 8)
    info = store.create_class()
    barrier = threading.Barrier(20)
    results: list[str] = []

    def student(i: int) -> None:
        barrier.wait()
        try:
            store.join(info.code, f"S{i}", client=SCHOOL)
            results.append("in")
        except ClassError as err:
            results.append(str(err))

    threads = [threading.Thread(target=student, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("in") == 8, results
    assert all(r == "in" or r.startswith("Too many joins from your network") for r in results)
    assert store.status(info.code).students == 8


def test_full_buckets_are_purged_and_addresses_are_kept_only_as_hashes(store, store_url, clock):
    info = store.create_class()
    store.join(info.code, "Ana", client=SCHOOL)
    store.create_class(client=HOME)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            buckets = set(conn.scalars(select(rate_limits.c.bucket)))
        assert len(buckets) == 3 and f"join-class:{info.code}" in buckets
        text = repr(dump(store_url))
        assert SCHOOL not in text and HOME not in text
        clock.advance(61)
        store.create_class()  # starting a class deletes the buckets that are full again
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(rate_limits)) == 0
    finally:
        engine.dispose()


def test_ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4(store, monkeypatch):
    monkeypatch.setattr(limits_mod, "JOINS_PER_ADDRESS", 2)
    info = store.create_class()
    store.join(info.code, "Ana", client="2001:db8:1:2::1")
    store.join(info.code, "Bo", client="2001:db8:1:2:ffff::9")  # the same /64
    with pytest.raises(ClassError, match="Too many joins"):
        store.join(info.code, "Cy", client="2001:db8:1:2:abcd::1")
    store.join(info.code, "Cy", client="2001:db8:1:3::1")  # another /64
    store.join(info.code, "Di", client="::ffff:192.0.2.5")
    store.join(info.code, "Ed", client="192.0.2.5")
    with pytest.raises(ClassError, match="Too many joins"):
        store.join(info.code, "Fe", client=" 192.0.2.5 ")


@pytest.mark.parametrize(
    "peer, forwarded, expected",
    [
        ("203.0.113.7", None, "203.0.113.7"),  # a browser straight to the app
        ("203.0.113.7", "10.9.9.9", "203.0.113.7"),  # a public client's own header is not believed
        (None, "203.0.113.7", "203.0.113.7"),  # nginx on this machine (Streamlit: None for 127.0.0.1)
        (None, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # nginx appended what it saw; the rest is the client's
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # a proxy on a private network
        ("10.0.0.5", None, "10.0.0.5"),
        (None, None, None),  # a local session
        (None, "", None),
        ("2001:db8::1", None, "2001:db8::/64"),
        ("not an address", None, "not an address"),
        (None, "x" * 5000, "x" * 100),
    ],
)
def test_client_address_believes_x_forwarded_for_only_from_a_proxy(peer, forwarded, expected):
    assert client_address(peer, forwarded) == expected


@pytest.mark.parametrize(
    "setting, peer, forwarded, expected",
    [
        (None, "192.168.1.50", "203.0.113.9", "203.0.113.9"),  # default: a private peer is a proxy
        (
            "none",
            "192.168.1.50",
            "203.0.113.9",
            "192.168.1.50",
        ),  # a LAN server with no proxy: a spoofed header
        (
            "none",
            "192.168.1.50",
            "203.0.113.10",
            "192.168.1.50",
        ),  # ... is ignored, every join counts for the laptop
        ("none", None, "203.0.113.9", None),  # the local machine: no address, as without a header
        ("127.0.0.1", None, "203.0.113.9", "203.0.113.9"),  # only nginx on this machine is believed
        ("127.0.0.1", "10.0.0.5", "203.0.113.9", "10.0.0.5"),
        ("10.0.0.0/8, not-a-net", "10.0.0.5", "203.0.113.9", "203.0.113.9"),  # a typo is skipped
        ("not-a-net", "10.0.0.5", "203.0.113.9", "10.0.0.5"),  # nothing parses: no proxy, never wider
        ("fc00::/7", "fd00::1", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_the_trusted_proxies_setting_decides_whose_x_forwarded_for_is_believed(
    setting, peer, forwarded, expected
):
    trusted = trusted_proxies({} if setting is None else {ENV_TRUSTED_PROXIES: setting})
    assert client_address(peer, forwarded, trusted) == expected


def test_a_spoofed_x_forwarded_for_cannot_dodge_the_limit_on_a_lan_without_a_proxy(store):
    """One laptop on a school network (no nginx), a new X-Forwarded-For on every join: with the
    setting "none" every join counts for the laptop's own address, and the 61st is refused."""
    info = store.create_class("LAN")
    trusted = trusted_proxies({ENV_TRUSTED_PROXIES: "none"})
    for k in range(JOINS_PER_ADDRESS):
        store.join(info.code, f"S{k}", client=client_address("192.168.1.50", f"198.51.100.{k}", trusted))
    with pytest.raises(ClassError, match="Too many joins"):
        store.join(info.code, "Mallory", client=client_address("192.168.1.50", "198.51.100.250", trusted))


def test_answers_count_per_student_however_many_sessions_send_them(store):
    """30 sessions of one student (one id) answering is one answer; the stuffing came from joins."""
    info = store.create_class()
    sid = store.join(info.code, "Ana")
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28"])
    for i in range(30):
        store.answer(info.code, pid, sid, ["26", "28"][i % 2])
    assert store.poll(info.code, pid) == {"26": 0, "28": 1}
