"""Time the class store (cnnlib.classroom) on SQLite and PostgreSQL: one call each, and 30 students at once.

Run: .venv/bin/python benchmarks/bench_classroom.py [--rounds 5] [--ops 200] [--no-pg]

Per backend, a class with 30 students, 60 posted runs and an open poll; then, per round, `--ops`
calls of each operation one after another (join, answer, post_run, follow, projector, board) and
the median and 90th percentile of one call. Then 30 threads released together (a barrier): each
posts one run (and, separately, joins + answers + posts), and the wall time until the last one
is done. Every figure is repeated `--rounds` times and printed as median [min-max] over rounds.
SQLite is a WAL file in a temp dir (synchronous=NORMAL, as the app runs it); PostgreSQL is a
throwaway local cluster with its default durability (fsync on), over a unix socket. The machine
is shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib.classroom import ClassStore  # noqa: E402
from tests.classroom.pgcluster import PgCluster, unavailable_reason  # noqa: E402

OPTIONS = ["26", "28", "30"]


def setup(store: ClassStore):
    info = store.create_class("bench")
    sids = [store.join(info.code, f"S{i}") for i in range(30)]
    poll = store.open_poll(info.code, info.teacher_key, "Size?", OPTIONS)
    for i, sid in enumerate(sids):
        store.answer(info.code, poll, sid, OPTIONS[i % 3])
        store.post_run(
            info.code, sid, {"accuracy": (i % 10) / 10, "params": 1000 + i, "link": "/training?x=1"}
        )
        store.post_run(info.code, sid, {"accuracy": 0.5, "params": 500 + i})
    return info, sids, poll


def per_call(store: ClassStore, ops: int) -> dict[str, tuple[float, float]]:
    """Median and p90 (ms) of one call of each operation, on a fresh class."""
    info, sids, poll = setup(store)
    calls = {
        "join": lambda i: store.join(info.code, f"J{i}"),
        "answer": lambda i: store.answer(info.code, poll, sids[i % 30], OPTIONS[i % 3]),
        "post_run": lambda i: store.post_run(info.code, sids[i % 30], {"accuracy": 0.9, "params": 10 + i}),
        "follow": lambda i: store.follow(info.code),
        "projector": lambda i: store.projector(info.code),
        "board": lambda i: store.board(info.code),
    }
    out = {}
    for name, fn in calls.items():
        n = min(ops, 30 * 48) if name == "post_run" else ops  # a student posts at most 50 runs
        times = []
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = (statistics.median(times), times[int(0.9 * (len(times) - 1))])
    return out


def burst(store: ClassStore, what: str) -> float:
    """Wall seconds for 30 threads released together to post a run (or join + answer + post)."""
    info, sids, poll = setup(store)
    barrier = threading.Barrier(31)
    errors = []

    def student(i: int) -> None:
        barrier.wait()
        try:
            if what == "post":
                store.post_run(info.code, sids[i], {"accuracy": 0.8, "params": 100 + i})
            else:
                sid = store.join(info.code, "Ana")
                store.answer(info.code, poll, sid, OPTIONS[i % 3])
                store.post_run(info.code, sid, {"accuracy": 0.8, "params": 100 + i})
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} errors, first: {errors[0]}")
    return took


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def bench(label: str, url: str, rounds: int, ops: int) -> None:
    store = ClassStore.open(url)
    store.projector(store.create_class().code)  # warm the statement caches
    rows: dict[str, list[list[float]]] = {}
    bursts: dict[str, list[float]] = {"30 post_run at once": [], "30 join+answer+post at once": []}
    for _ in range(rounds):
        for name, (med, p90) in per_call(store, ops).items():
            rows.setdefault(name, [[], []])
            rows[name][0].append(med)
            rows[name][1].append(p90)
        bursts["30 post_run at once"].append(burst(store, "post") * 1000)
        bursts["30 join+answer+post at once"].append(burst(store, "all") * 1000)
    store.close()
    print(f"\n{label}  (ms; median [min-max] over {rounds} rounds of {ops} calls)")
    print(f"  {'operation':30s} {'median of one call':>22s} {'p90 of one call':>22s}")
    for name, (meds, p90s) in rows.items():
        print(f"  {name:30s} {spread(meds):>22s} {spread(p90s):>22s}")
    for name, vals in bursts.items():
        print(f"  {name:30s} {spread(vals, '{:.0f}'):>22s}  total wall time")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ops", type=int, default=200)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite (WAL file)", f"sqlite:///{tmp}/classroom.sqlite3", args.rounds, args.ops)
    reason = None if not args.no_pg else "--no-pg"
    reason = reason or unavailable_reason()
    if reason:
        print(f"\nPostgreSQL skipped: {reason}")
    else:
        cluster = PgCluster.start_new(durable=True)
        try:
            bench(
                "PostgreSQL 15 (local, unix socket, fsync on)", cluster.new_database(), args.rounds, args.ops
            )
        finally:
            cluster.destroy()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
