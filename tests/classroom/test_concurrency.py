"""Many students at once lose nothing: 30 threads, then 2 processes plus threads, on SQLite and PostgreSQL.

Everyone joins with the same nickname (so the unique-name rule is raced too), answers the open
poll and posts a run; the counts afterwards are exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from cnnlib.classroom import ClassStore

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ["26", "28", "30"]


def _students(
    store: ClassStore, code: str, poll: int, n: int, name: str
) -> tuple[list[str], list[Exception]]:
    """n threads, released together, each joining as `name`, answering and posting twice."""
    ids: list[str] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(n)
    lock = threading.Lock()

    def student(i: int) -> None:
        try:
            barrier.wait(30)
            sid = store.join(code, name)
            store.answer(code, poll, sid, OPTIONS[(i + 1) % 3])
            store.answer(code, poll, sid, OPTIONS[i % 3])  # a changed mind replaces the first answer
            store.post_run(code, sid, {"accuracy": (i % 10) / 10, "params": 1000 + i})
            store.post_run(code, sid, {"accuracy": 0.5, "params": 10 + i, "link": f"/training?run={i}"})
            with lock:
                ids.append(sid)
        except Exception as e:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return ids, errors


def test_thirty_threads_joining_answering_and_posting_lose_nothing(store):
    info = store.create_class()
    poll = store.open_poll(info.code, info.teacher_key, "Size?", OPTIONS)
    ids, errors = _students(store, info.code, poll, 30, "Ana")
    assert errors == []
    assert len(set(ids)) == 30
    names = sorted(store.nickname(info.code, sid) for sid in ids)
    assert names == sorted(["Ana"] + [f"Ana {k}" for k in range(2, 31)])
    assert store.poll(info.code, poll) == {"26": 10, "28": 10, "30": 10}
    board = store.board(info.code)
    assert len(board) == 60 and len({e["id"] for e in board}) == 60
    view = store.projector(info.code)
    assert (view.students, view.runs, view.poll.total) == (30, 60, 30)


@pytest.mark.slow  # two processes start and write: ~4 s a backend
def test_two_processes_and_threads_at_once_lose_nothing(store, store_url):
    info = store.create_class()
    poll = store.open_poll(info.code, info.teacher_key, "Size?", OPTIONS)
    start_at = time.time() + 4.0  # both processes (and the threads here) start together
    cmd = [
        sys.executable,
        "-m",
        "tests.classroom.store_cli",
        store_url,
        "students",
        info.code,
        "Bo",
        "15",
        str(poll),
    ]
    procs = [
        subprocess.Popen([*cmd, "--start-at", str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(max(0.0, start_at - time.time()))
    ids, errors = _students(store, info.code, poll, 10, "Bo")
    outs = []
    for p in procs:
        stdout, _ = p.communicate(timeout=180)
        assert p.returncode == 0
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    assert errors == [] and all(o["errors"] == [] for o in outs)
    all_ids = ids + outs[0]["ids"] + outs[1]["ids"]
    assert len(set(all_ids)) == 40
    names = [store.nickname(info.code, sid) for sid in all_ids]
    assert sorted(names) == sorted(["Bo"] + [f"Bo {k}" for k in range(2, 41)])
    counts = store.poll(info.code, poll)
    expected = Counter(OPTIONS[i % 3] for i in [*range(10), *range(15), *range(15)])
    assert counts == {o: expected[o] for o in OPTIONS}
    assert len(store.board(info.code)) == 10 * 2 + 30
    assert store.status(info.code).students == 40
