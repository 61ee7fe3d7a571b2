"""ClassStore on SQLite and PostgreSQL: every method, the teacher's powers, expiry, restart, migrations."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, inspect, text

from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable, FollowState, counted, format_code
from cnnlib.classroom import schema as schema_mod
from cnnlib.classroom.records import BOARD_KEYS
from tests.classroom.conftest import dump, old_database

RUN = {"accuracy": 0.9, "params": 1000, "model": "TinyCNN", "link": "/training?lr=0.01", "seconds": 3.5}


@pytest.fixture
def lesson(store):
    """A class with two students (Ana, Bo) and an open poll."""
    info = store.create_class("Lesson 3")
    ana = store.join(info.code, "Ana")
    bo = store.join(info.code, "Bo")
    poll = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28", "30"], correct="26")
    return info, ana, bo, poll


def test_a_lesson_end_to_end(store, clock):
    info = store.create_class("  CNN <lesson> 3 ")
    assert info.title == "CNN <lesson> 3" and len(info.code) == 6 and len(info.teacher_key) >= 32
    assert info.expires_at == clock.now + 12 * 3600
    store.check_teacher(info.code, info.teacher_key)
    ana = store.join(info.code.lower(), "Ana")
    bo = store.join(f" {info.code[:3]}-{info.code[3:]} ", "Bo")
    assert store.nickname(info.code, ana) == "Ana"
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28", "30"], correct="26")
    store.answer(info.code, pid, ana, "26")
    store.answer(info.code, pid, bo, "28")
    assert store.poll(info.code, pid) == {"26": 1, "28": 1, "30": 0}
    assert store.my_answer(info.code, pid, bo) == "28"
    store.post_run(info.code, ana, RUN)
    store.post_run(info.code, bo, {**RUN, "accuracy": 0.95, "params": 50_000})
    board = store.board(info.code, viewer=ana)
    assert [e["nickname"] for e in board] == ["Bo", "Ana"]
    assert set(board[0]) == set(BOARD_KEYS)
    assert [e["mine"] for e in board] == [False, True]
    assert [e["rank_per_param"] for e in board] == [2, 1]
    status = store.status(info.code)
    assert (status.students, status.runs, status.title) == (2, 2, info.title)
    store.close_class(info.code, info.teacher_key)
    with pytest.raises(ClassError, match="closed by the teacher"):
        store.board(info.code)


def test_nicknames_are_made_unique_and_returned_as_stored(store):
    info = store.create_class()
    assert info.title == "Class"
    assert store.join_as(info.code, "Ana")[1] == "Ana"
    assert store.join_as(info.code, "ANA")[1] == "ANA 2"
    sid, name = store.join_as(info.code, "ana\u200b")
    assert name == "ana 3" and store.nickname(info.code, sid) == "ana 3"
    with pytest.raises(ClassError, match="join it again"):
        store.nickname(info.code, "not-a-student")


def test_answers_replace_and_counts_keep_the_option_order(store, lesson):
    info, ana, bo, pid = lesson
    assert store.poll(info.code, pid) == {"26": 0, "28": 0, "30": 0}
    assert store.poll(info.code, str(pid)) == store.poll(info.code, pid)  # an id read from a link
    for bad in ["1x", "", None, -1, 2**40, True, 1.0]:
        with pytest.raises(ClassError, match="not a poll number"):
            store.poll(info.code, bad)
    assert store.my_answer(info.code, pid, ana) is None
    store.answer(info.code, pid, ana, "30")
    store.answer(info.code, pid, ana, "26")  # a changed answer replaces the first
    store.answer(info.code, pid, bo, " 26 ")
    info_ = store.poll_info(info.code, pid)
    assert info_.counts == {"26": 2, "28": 0, "30": 0} and info_.total == 2
    assert info_.options == ("26", "28", "30") and info_.state == "open" and info_.correct is None
    assert store.poll_info(info.code, pid, teacher_key=info.teacher_key).correct == "26"
    with pytest.raises(ClassError, match="teacher key does not match"):
        store.poll_info(info.code, pid, teacher_key="guess")


def test_reveal_and_close_stop_answers_and_show_the_answer(store, lesson):
    info, ana, bo, pid = lesson
    store.answer(info.code, pid, ana, "26")
    store.close_poll(info.code, info.teacher_key, pid)
    with pytest.raises(ClassError, match="poll is closed"):
        store.answer(info.code, pid, bo, "26")
    assert store.poll_info(info.code, pid).correct is None
    store.reveal_poll(info.code, info.teacher_key, pid)
    revealed = store.poll_info(info.code, pid)
    assert revealed.state == "revealed" and revealed.correct == "26" and revealed.total == 1


def test_the_follow_state_changes_version_with_every_teacher_action(store, lesson):
    info, ana, bo, pid = lesson
    first = store.follow(info.code)
    assert first == FollowState(version=1, link="", poll_id=pid, poll_state="open")
    v = store.set_follow(info.code, info.teacher_key, "/kernels?kernel=sobel_x&step=3")
    assert v == 2 and store.follow(info.code).link == "/kernels?kernel=sobel_x&step=3"
    store.answer(info.code, pid, ana, "26")
    store.post_run(info.code, bo, RUN)
    assert store.follow(info.code).version == 2  # students' actions do not wake everyone
    store.reveal_poll(info.code, info.teacher_key, pid)
    assert store.follow(info.code) == FollowState(3, "/kernels?kernel=sobel_x&step=3", pid, "revealed")
    pid2 = store.open_poll(info.code, info.teacher_key, "Next?", ["a", "b"])
    assert store.follow(info.code).poll_id == pid2 and store.follow(info.code).version == 4
    store.clear_board(info.code, info.teacher_key)
    assert store.follow(info.code).version == 5


def test_the_board_ranks_by_accuracy_and_per_parameter(store, lesson):
    info, ana, bo, _ = lesson
    cy = store.join(info.code, "Cy")
    store.post_run(info.code, ana, {"accuracy": 0.90, "params": 1000})
    store.post_run(info.code, bo, {"accuracy": 0.95, "params": 100_000})
    store.post_run(info.code, cy, {"accuracy": 0.90, "params": 500})
    store.post_run(info.code, cy, {"accuracy": 0.10, "params": 10})
    board = store.board(info.code)
    assert [(e["nickname"], e["accuracy"], e["rank"]) for e in board] == [
        ("Bo", 0.95, 1),
        ("Cy", 0.90, 2),  # a tie on accuracy: fewer parameters first, same rank
        ("Ana", 0.90, 2),
        ("Cy", 0.10, 4),
    ]
    assert [e["rank_per_param"] for e in board] == [4, 2, 3, 1]
    assert store.board(info.code, limit=2) == board[:2]
    assert store.clear_board(info.code, info.teacher_key) == 4
    assert store.board(info.code) == []


def test_the_projector_reads_everything_in_one_statement_and_agrees_with_the_others(store, lesson):
    info, ana, bo, pid = lesson
    for i, sid in enumerate([ana, bo] + [store.join(info.code, f"S{i}") for i in range(12)]):
        store.post_run(info.code, sid, {"accuracy": (i % 7) / 7, "params": 100 + 37 * i})
        store.answer(info.code, pid, sid, ["26", "28", "30"][i % 3])
    store.set_follow(info.code, info.teacher_key, "/shapes?k=3")
    statements = []
    engine = store._reader  # the store's own engine: count what one projector() sends
    listener = lambda conn, cursor, stmt, *a: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        view = store.projector(info.code, top=5)
        follow = store.follow(info.code)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2  # one for the projector, one for the follow row
    board = store.board(info.code)
    assert set(view.best[0]) == set(view.lean[0]) == set(BOARD_KEYS)
    assert [e["id"] for e in view.best] == [e["id"] for e in board[:5]]
    assert [e["rank"] for e in view.best] == [e["rank"] for e in board[:5]]
    lean = sorted(board, key=lambda e: e["rank_per_param"])[:5]
    assert [e["per_param"] for e in view.lean] == [e["per_param"] for e in lean]
    assert view.poll == store.poll_info(info.code, pid)
    assert (view.students, view.runs, view.follow, view.title) == (14, 14, follow, "Lesson 3")
    store.reveal_poll(info.code, info.teacher_key, pid)
    assert store.projector(info.code).poll.correct == "26"
    empty = store.create_class()
    view = store.projector(empty.code)
    assert (view.students, view.runs, view.poll, view.best, view.lean) == (0, 0, None, [], [])
    assert view.headline == f"0 students in class {format_code(view.code)} · 0 runs on the board"
    store.post_run(empty.code, store.join(empty.code, "Ana"), {"accuracy": 0.5, "params": 10})
    assert store.projector(empty.code).headline.startswith("1 student in class ")
    assert store.projector(empty.code).headline.endswith(" · 1 run on the board")


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 answers"), (1, "1 answer"), (2, "2 answers"), (1204, "1,204 answers")]
)
def test_counted_says_one_or_many(n, text):
    assert counted(n, "answer") == text


def test_only_the_teacher_key_runs_teacher_actions(store, lesson):
    info, ana, bo, pid = lesson
    other = store.create_class("Other class")
    actions = {
        "close the class": lambda key: store.close_class(info.code, key),
        "clear the board": lambda key: store.clear_board(info.code, key),
        "open a poll": lambda key: store.open_poll(info.code, key, "Q?", ["a", "b"]),
        "close or reveal a poll": lambda key: store.reveal_poll(info.code, key, pid),
        "lead the class": lambda key: store.set_follow(info.code, key, "/x"),
    }
    before = dump(store_url_of(store))
    for action, call in actions.items():
        for key in [None, "", ana, other.teacher_key, info.teacher_key[:-1], "x" * 10_000]:
            with pytest.raises(ClassError, match=f"Only the teacher can {action}"):
                call(key)
    assert dump(store_url_of(store)) == before


def test_a_class_expires_after_the_configured_hours(store_url, clock, monkeypatch):
    monkeypatch.setenv("CNN_CLASSROOM_SESSION_HOURS", "2")
    store = ClassStore.open(store_url, clock=clock)
    info = store.create_class()
    sid = store.join(info.code, "Ana")
    clock.advance(2 * 3600 - 1)
    store.post_run(info.code, sid, RUN)
    clock.advance(1)
    for call in [
        lambda: store.join(info.code, "Bo"),
        lambda: store.post_run(info.code, sid, RUN),
        lambda: store.board(info.code),
        lambda: store.follow(info.code),
        lambda: store.projector(info.code),
        lambda: store.close_class(info.code, info.teacher_key),
    ]:
        with pytest.raises(ClassError, match="has ended: class sessions last 2 hours"):
            call()
    # A week after it ended, the next new class deletes it and its data.
    clock.advance(8 * 24 * 3600)
    store.create_class()
    with pytest.raises(ClassError, match="There is no class with code"):
        store.status(info.code)
    store.close()


@pytest.mark.parametrize("hours", ["0", "-1", "nan", "abc", "10000"])
def test_a_bad_session_length_is_refused(store_url, monkeypatch, hours):
    monkeypatch.setenv("CNN_CLASSROOM_SESSION_HOURS", hours)
    with pytest.raises(ClassError, match="CNN_CLASSROOM_SESSION_HOURS"):
        ClassStore.open(store_url)


def test_a_restart_keeps_everything(store_url, clock):
    first = ClassStore.open(store_url, clock=clock)
    info = first.create_class("Kept")
    ana = first.join(info.code, "Ana")
    pid = first.open_poll(info.code, info.teacher_key, "Q?", ["a", "b"], correct="b")
    first.answer(info.code, pid, ana, "b")
    first.post_run(info.code, ana, RUN)
    first.set_follow(info.code, info.teacher_key, "/training")
    seen = (first.board(info.code), first.projector(info.code), first.follow(info.code))
    first.close()
    second = ClassStore.open(store_url, clock=clock)  # a new process would do the same
    assert (second.board(info.code), second.projector(info.code), second.follow(info.code)) == seen
    assert second.nickname(info.code, ana) == "Ana"
    second.reveal_poll(info.code, info.teacher_key, pid)  # the teacher key still works
    assert second.join_as(info.code, "Ana")[1] == "Ana 2"
    second.close()


def test_the_schema_is_versioned_and_a_migration_runs_once(store, store_url, monkeypatch):
    writer = store._writer
    now, nxt = schema_mod.SCHEMA_VERSION, schema_mod.SCHEMA_VERSION + 1
    with writer.connect() as conn:
        assert schema_mod.current_version(conn) == now == 6
    calls = []

    def add_note(conn):
        calls.append(1)
        conn.execute(text("ALTER TABLE classes ADD COLUMN note VARCHAR(40)"))

    monkeypatch.setitem(schema_mod.MIGRATIONS, nxt, add_note)
    assert schema_mod.ensure_schema(writer, latest=nxt) == now
    assert schema_mod.ensure_schema(writer, latest=nxt) == nxt
    assert calls == [1]
    with writer.connect() as conn:
        assert "note" in {c["name"] for c in inspect(conn).get_columns("classes")}
    # A database newer than the code is refused, not touched.
    with pytest.raises(ClassUnavailable, match=f"schema version {nxt}, newer than this app"):
        ClassStore.open(store_url)


def test_a_version_1_database_migrates_to_the_latest_keeping_its_classes(store_url, clock):
    """A database as v1 left it (no shared-run columns, stamped 1) gets the v2 columns and keeps its rows."""
    from sqlalchemy import create_engine

    old_database(store_url, 1)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO classes (code, title, teacher_key_hash, created_at, expires_at, version, follow_link) "
                "VALUES ('KXMQ2R', 'Old', :h, :t, :e, 0, '')"
            ),
            {"h": "x" * 64, "t": clock(), "e": clock() + 3600},
        )
    engine.dispose()
    store = ClassStore.open(store_url, clock=clock)
    try:
        assert store.status("KXMQ2R").title == "Old" and store.shared_run("KXMQ2R") is None
        with store._writer.connect() as conn:
            assert schema_mod.current_version(conn) == schema_mod.SCHEMA_VERSION
    finally:
        store.close()


def test_the_teacher_shares_a_run_and_students_read_it(store, clock):
    info = store.create_class("Watch")
    assert store.shared_run(info.code) is None
    store.share_run(
        info.code, info.teacher_key, {"status": "running", "epoch": 2, "loss": [2.3, 1.1, float("nan")]}
    )
    seen = store.shared_run(info.code)
    assert seen["status"] == "running" and seen["loss"] == [2.3, 1.1, None] and seen["age_s"] >= 0
    with pytest.raises(ClassError, match="teacher"):
        store.share_run(info.code, "wrong-key-" * 4, {"status": "x"})
    with pytest.raises(ClassError, match="too big"):
        store.share_run(info.code, info.teacher_key, {f"k{i}": "x" * 400 for i in range(60)})
    with pytest.raises(ClassError, match="numbers"):
        store.share_run(info.code, info.teacher_key, {"loss": ["a"]})
    store.share_run(info.code, info.teacher_key, None)
    assert store.shared_run(info.code) is None


def test_stores_opening_a_fresh_database_at_once_create_it_once(store_url, tmp_path):
    """Eight app threads open the class database at once, for SQLite on 20 fresh files: switching a
    fresh file to WAL answers "database is locked" at once to all but one of them (no busy wait),
    which the store waits out."""
    urls = (
        [store_url]
        if not store_url.startswith("sqlite")
        else [f"sqlite:///{tmp_path}/f{i}.db" for i in range(20)]
    )
    for url in urls:
        errors, stores = [], []
        barrier = threading.Barrier(8)

        def open_one(url=url, errors=errors, stores=stores, barrier=barrier):
            barrier.wait()
            try:
                stores.append(ClassStore.open(url))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=open_one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == [] and len(stores) == 8, (url, errors)
        info = stores[0].create_class()
        assert stores[7].status(info.code).students == 0
        for s in stores:
            s.close()


def store_url_of(store: ClassStore) -> str:
    return store._url.render_as_string(hide_password=False)
