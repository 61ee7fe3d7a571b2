"""Bad input and faults (issue 17): each gives a ClassError with a clear message and writes nothing.

Wrong or expired code, missing or wrong teacher key, a nickname of 10,000 characters, HTML,
control characters or right-to-left marks, an answer outside the poll's options, a record with
NaN accuracy, an unwritable database file, PostgreSQL down.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable
from tests.classroom.conftest import dump
from tests.conftest import postgresql_or_skip

ROOT = Path(__file__).resolve().parents[2]
RUN = {"accuracy": 0.9, "params": 1000}


@pytest.fixture
def lesson(store, store_url, clock):
    info = store.create_class("Faults")
    ana = store.join(info.code, "Ana")
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28"], correct="26")
    store.answer(info.code, pid, ana, "28")
    store.post_run(info.code, ana, RUN)
    ended = store.create_class("Ended yesterday")
    closed = store.create_class("Closed")
    store.close_class(closed.code, closed.teacher_key)
    return store, store_url, clock, info, ana, pid, ended, closed


BAD = {
    "wrong code": (lambda s, i, a, p: s.join("ZZZ-ZZZ", "Bo"), "There is no class with code ZZZ-ZZZ"),
    "not a code": (lambda s, i, a, p: s.join("hello", "Bo"), "not a class code"),
    "closed class": (lambda s, i, a, p, c=None: None, None),  # filled in the test (needs `closed`)
    "missing teacher key": (
        lambda s, i, a, p: s.close_class(i.code, ""),
        "Only the teacher can close the class",
    ),
    "wrong teacher key": (lambda s, i, a, p: s.clear_board(i.code, "guess"), "teacher key does not match"),
    "a student id as teacher key": (
        lambda s, i, a, p: s.clear_board(i.code, a),
        "teacher key does not match",
    ),
    "10,000-character nickname": (lambda s, i, a, p: s.join(i.code, "x" * 10_000), "at most 24 characters"),
    "HTML nickname": (lambda s, i, a, p: s.join(i.code, "<img src=x>"), "letters, digits, spaces, emoji"),
    "control characters only": (lambda s, i, a, p: s.join(i.code, "\x00\x07\x1b\x7f"), "nickname is empty"),
    "right-to-left marks only": (
        lambda s, i, a, p: s.join(i.code, "\u202e\u200f\u2067"),
        "nickname is empty",
    ),
    "answer outside the options": (
        lambda s, i, a, p: s.answer(i.code, p, a, "27"),
        "not one of this poll's options",
    ),
    "answer of 10,000 characters": (
        lambda s, i, a, p: s.answer(i.code, p, a, "2" * 10_000),
        "choose one of 26, 28",
    ),
    "answer to an unknown poll": (lambda s, i, a, p: s.answer(i.code, p + 99, a, "26"), "There is no poll"),
    "answer by an unknown student": (lambda s, i, a, p: s.answer(i.code, p, "nobody", "26"), "join it again"),
    "NaN accuracy": (lambda s, i, a, p: s.post_run(i.code, a, {"accuracy": math.nan, "params": 10}), "NaN"),
    "accuracy as percent": (
        lambda s, i, a, p: s.post_run(i.code, a, {"accuracy": 97, "params": 10}),
        "between 0 and 1",
    ),
    "zero parameters": (
        lambda s, i, a, p: s.post_run(i.code, a, {"accuracy": 0.5, "params": 0}),
        "between 1",
    ),
    "post by an unknown student": (lambda s, i, a, p: s.post_run(i.code, "x" * 5000, RUN), "join it again"),
    "foreign link": (
        lambda s, i, a, p: s.set_follow(i.code, i.teacher_key, "https://evil.example"),
        "inside the app",
    ),
    "poll with one option": (
        lambda s, i, a, p: s.open_poll(i.code, i.teacher_key, "Q?", ["a"]),
        "2 to 12 options",
    ),
}
del BAD["closed class"]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_and_writes_nothing(lesson, case):
    store, url, _, info, ana, pid, _, _ = lesson
    call, message = BAD[case]
    before = dump(url)
    with pytest.raises(ClassError, match=message):
        call(store, info, ana, pid)
    assert dump(url) == before


def test_expired_and_closed_codes_say_so_and_write_nothing(lesson):
    store, url, clock, info, ana, pid, ended, closed = lesson
    before = dump(url)
    with pytest.raises(ClassError, match="closed by the teacher"):
        store.join(closed.code, "Bo")
    clock.advance(13 * 3600)
    for call in [lambda: store.join(ended.code, "Bo"), lambda: store.answer(info.code, pid, ana, "26")]:
        with pytest.raises(ClassError, match="has ended: class sessions last 12 hours. Ask your teacher"):
            call()
    assert dump(url) == before


def _sqlite_file_with_a_class(tmp_path: Path) -> tuple[Path, str, str, str]:
    path = tmp_path / "db" / "classroom.sqlite3"
    store = ClassStore.open(f"sqlite:///{path}")
    info = store.create_class()
    sid = store.join(info.code, "Ana")
    store.close()
    return path, info.code, sid, info.teacher_key


def _try_as_unprivileged(url: str, code: str, sid: str) -> dict:
    """Open the store and post in a process that cannot bypass file permissions (even as root)."""
    script = (
        "import json, sys\n"
        "from cnnlib.classroom import ClassStore, ClassError\n"
        "out = {}\n"
        "try:\n"
        "    s = ClassStore.open(sys.argv[1])\n"
        "    s.post_run(sys.argv[2], sys.argv[3], {'accuracy': 0.5, 'params': 10})\n"
        "    out['ok'] = True\n"
        "except ClassError as e:\n"
        "    out['error'] = type(e).__name__ + ': ' + str(e)\n"
        "print(json.dumps(out))\n"
    )
    cmd = [sys.executable, "-c", script, url, code, sid]
    if os.geteuid() == 0:
        # root ignores file modes; without CAP_DAC_OVERRIDE/FOWNER it is held to them like anyone.
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv")
def test_an_unwritable_database_file_says_class_features_are_off_and_writes_nothing(tmp_path):
    path, code, sid, _ = _sqlite_file_with_a_class(tmp_path)
    before = dump(f"sqlite:///{path}")
    for f in path.parent.iterdir():
        f.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        result = _try_as_unprivileged(f"sqlite:///{path}", code, sid)
    finally:
        path.parent.chmod(0o755)
        for f in path.parent.iterdir():
            f.chmod(0o644)
    assert result["error"].startswith("ClassUnavailable: Class features are unavailable"), result
    assert "lesson pages work without them" in result["error"]
    assert str(tmp_path) not in result["error"]  # no server path for students to read
    assert dump(f"sqlite:///{path}") == before


def test_a_read_only_database_says_so_and_writes_nothing(tmp_path):
    path, code, sid, key = _sqlite_file_with_a_class(tmp_path)
    before = dump(f"sqlite:///{path}")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(ClassUnavailable, match=r"Class features are unavailable: .* read-only") as refused:
        store = ClassStore.open(url)
        store.post_run(code, sid, RUN)
    assert str(tmp_path) not in str(refused.value)
    assert dump(f"sqlite:///{path}") == before


def test_a_database_folder_that_cannot_be_created_says_class_features_are_off(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ClassUnavailable, match="cannot be created") as refused:
        ClassStore.open(f"sqlite:///{blocker / 'sub' / 'classroom.sqlite3'}")
    assert str(tmp_path) not in str(refused.value)  # students read it: no server path (the log has it)


def test_a_file_that_is_not_a_database_says_so(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(ClassUnavailable, match="damaged or not a class database") as refused:
        ClassStore.open(f"sqlite:///{path}")
    assert str(tmp_path) not in str(refused.value) and "junk" not in str(refused.value)


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://x@y/z", "must be SQLite or PostgreSQL"),
        ("not a url", "not a database URL"),
        ("sqlite://", "must be a file"),
        ("sqlite:///:memory:", "must be a file"),
    ],
)
def test_bad_database_urls_are_refused(url, message):
    with pytest.raises(ClassUnavailable, match=message):
        ClassStore.open(url)


def test_the_default_database_is_in_the_data_folder_never_the_app_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_CLASSROOM_DB", raising=False)
    monkeypatch.setenv("CNN_CLASSROOM_DATA", str(tmp_path / "data"))
    store = ClassStore.open()
    assert store.description == f"the SQLite file {tmp_path / 'data' / 'classroom.sqlite3'}"
    store.close()
    monkeypatch.setenv("CNN_CLASSROOM_DB", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    assert ClassStore.open().description.endswith("env.sqlite3")
    monkeypatch.setenv("CNN_CLASSROOM_DB", f"sqlite:///{ROOT / 'classroom.sqlite3'}")
    with pytest.raises(ClassUnavailable, match="inside the app's folder") as refused:
        ClassStore.open()
    assert str(ROOT) not in str(refused.value)
    assert not (ROOT / "classroom.sqlite3").exists()


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, to stop and start."""
    cluster = postgresql_or_skip()
    yield cluster
    cluster.destroy()


def test_postgresql_down_says_class_features_are_off_then_recovers(own_cluster, monkeypatch):
    monkeypatch.setattr(ClassStore, "RETRY_AFTER_S", 0.5)
    url = own_cluster.new_database()
    store = ClassStore.open(url)
    info = store.create_class()
    sid = store.join(info.code, "Ana")
    before = dump(url)
    own_cluster.stop()
    for call in [
        lambda: store.post_run(info.code, sid, RUN),
        lambda: store.join(info.code, "Bo"),
        lambda: store.board(info.code),
        lambda: store.projector(info.code),
    ]:
        with pytest.raises(
            ClassUnavailable, match=r"Class features are unavailable: the class database cannot be reached"
        ) as down:
            call()
        assert "/" not in str(down.value) and "PostgreSQL" not in str(down.value)  # no socket, host or name
    with pytest.raises(ClassUnavailable, match="cannot be reached"):
        ClassStore.open(url)
    own_cluster.start()
    assert dump(url) == before  # nothing half-written while it was down
    with pytest.raises(ClassUnavailable):  # within RETRY_AFTER_S of the outage: no new attempt
        store.board(info.code)
    time.sleep(0.6)
    store.post_run(info.code, sid, RUN)  # the same store reconnects by itself
    assert len(store.board(info.code)) == 1
    store.close()
