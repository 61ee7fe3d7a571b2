"""The Ready check's parts: every step runs and is timed, a failure is one plain line, the memory
read from /proc and the cgroup (fake files), and the database step is a real, teacher-only write."""

from __future__ import annotations

import itertools

import pytest

from cnnlib.classroom import ClassError, memory_status, run_checks


def test_every_step_runs_in_order_and_a_failure_is_one_line():
    ticks = itertools.count()
    order = []

    def ok() -> str:
        order.append("ok")
        return "fine"

    def broken() -> str:
        order.append("broken")
        raise RuntimeError("x" * 500)

    def silent() -> str:
        raise ValueError

    checks = run_checks(
        [("a", ok), ("b", broken), ("c", silent), ("d", ok)], clock=lambda: float(next(ticks))
    )
    assert [c.name for c in checks] == ["a", "b", "c", "d"] and order == ["ok", "broken", "ok"]
    assert [c.ok for c in checks] == [True, False, False, True]
    assert checks[1].detail == "x" * 200 and checks[2].detail == "ValueError"
    assert all(c.seconds == 1.0 for c in checks)


def test_memory_reads_the_process_the_machine_and_the_container_limit(tmp_path):
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    cgroup.mkdir()
    (proc / "self" / "status").write_text("Name: python\nVmRSS:\t  2048 kB\n")
    (proc / "meminfo").write_text("MemTotal: 9000 kB\nMemAvailable: 4096 kB\n")
    mem = memory_status(proc, cgroup)
    assert (mem.rss, mem.available, mem.limit) == (2048 * 1024, 4096 * 1024, None)  # no cgroup files
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text("100\n")
    assert memory_status(proc, cgroup).limit is None  # "max": unlimited
    (cgroup / "memory.max").write_text(f"{3 * 2**20}\n")
    (cgroup / "memory.current").write_text(f"{1 * 2**20}\n")
    mem = memory_status(proc, cgroup)
    assert mem.limit == 3 * 2**20 and mem.available == 2 * 2**20  # the container's room is smaller
    assert memory_status(tmp_path / "none", tmp_path / "none").rss is None


def test_the_database_step_writes_and_only_for_the_teacher(store):
    info = store.create_class("Ready")
    assert store.check_writable(info.code, info.teacher_key).startswith("writable (")
    with pytest.raises(ClassError):
        store.check_writable(info.code, "not the key")
