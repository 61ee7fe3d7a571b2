"""Training slots sized from the memory there is (cnnlib.training.capacity), with a faked cgroup."""

from __future__ import annotations

import os
import threading

import pytest

from cnnlib.training import capacity as C
from cnnlib.training import slots as S
from cnnlib.training import worker as W

MB = C.MB


@pytest.fixture
def fresh_plan(monkeypatch):
    """Each test makes the process-wide plan again from its own environment, and leaves it clean."""
    for name in ("CNN_CLASSROOM_MEMORY_MB", "CNN_CLASSROOM_TRAIN_CHILD_MB", "CNN_CLASSROOM_MAX_RUNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CNN_CLASSROOM_TRAIN_IN", raising=False)
    yield
    monkeypatch.undo()
    C.training_plan(S.cpu_runs(), refresh=True)


def test_cgroup_v2_limit(tmp_path):
    (tmp_path / "memory.max").write_text("723517440\n")  # 690 MB
    assert C.memory_limit(tmp_path, env={}) == 690 * MB


def test_cgroup_v2_max_is_no_limit(tmp_path):
    (tmp_path / "memory.max").write_text("max\n")
    assert C.memory_limit(tmp_path, env={}) is None


def test_cgroup_v1_limit_and_unlimited(tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text(f"{2048 * MB}\n")
    assert C.memory_limit(tmp_path, env={}) == 2048 * MB
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert C.memory_limit(tmp_path, env={}) is None


def test_no_cgroup_files_no_limit(tmp_path):
    assert C.memory_limit(tmp_path, env={}) is None


def test_env_overrides_the_cgroup(tmp_path):
    (tmp_path / "memory.max").write_text(f"{8192 * MB}\n")
    assert C.memory_limit(tmp_path, env={"CNN_CLASSROOM_MEMORY_MB": "690"}) == 690 * MB
    assert C.memory_limit(tmp_path, env={"CNN_CLASSROOM_MEMORY_MB": "0"}) is None
    assert C.memory_limit(tmp_path, env={"CNN_CLASSROOM_MEMORY_MB": "lots"}) == 8192 * MB


def test_server_footprint_reads_vmrss(tmp_path):
    (tmp_path / "status").write_text("Name:\tpython\nVmRSS:\t  563200 kB\nThreads:\t30\n")
    assert C.server_footprint(tmp_path) == 550 * MB
    assert C.server_footprint(tmp_path / "gone") is None


def test_no_limit_the_cpu_decides():
    plan = C.plan_training(None, 560 * MB, cpu_runs=4)
    assert (plan.runs, plan.backend) == (4, "process")


def test_cloud_690_mb_one_run_in_the_server():
    """Issue 28: 690 MB with the server at 487-563 MB holds no second torch: one run, in a thread."""
    for server in (487, 563):
        plan = C.plan_training(690 * MB, server * MB, cpu_runs=1)
        assert (plan.runs, plan.backend) == (1, "thread"), plan
        assert "one run at a time" in plan.reason


def test_room_for_some_children_caps_the_cpu_rule():
    # 2 GB, server 560 MB: 2048 - 560 - 96 = 1392 MB; (1392 - 260) // 290 = 3 children
    assert C.plan_training(2048 * MB, 560 * MB, cpu_runs=8).runs == 3
    assert C.plan_training(2048 * MB, 560 * MB, cpu_runs=2).runs == 2
    # exactly one child fits: forkserver + child = 550 MB beside 560 + 96
    one = C.plan_training((560 + 96 + 550) * MB, 560 * MB, cpu_runs=8)
    assert (one.runs, one.backend) == (1, "process")


def test_never_less_than_one_run():
    plan = C.plan_training(300 * MB, 560 * MB, cpu_runs=2)  # the server alone is over the limit
    assert plan.runs == 1 and plan.backend == "thread"
    assert "may not fit" in plan.reason


@pytest.mark.parametrize("cpu", [1, 2, 3, 8])
def test_runs_between_one_and_the_cpu_rule(cpu):
    for limit_mb in range(300, 8000, 97):
        plan = C.plan_training(limit_mb * MB, 500 * MB, cpu_runs=cpu)
        assert 1 <= plan.runs <= cpu
        used = 500 + 96 + (C.FORKSERVER_MB + C.CHILD_MB * plan.runs if plan.backend == "process" else 0)
        assert plan.backend == "thread" or used <= limit_mb


def test_limiter_and_backend_follow_the_memory(monkeypatch, fresh_plan):
    monkeypatch.setenv("CNN_CLASSROOM_MEMORY_MB", "690")
    plan = C.training_plan(S.cpu_runs(), refresh=True)
    assert plan.runs == 1 and plan.backend == "thread"
    assert S.default_max_runs() == 1
    assert W.backend_default() == "thread"
    monkeypatch.setenv("CNN_CLASSROOM_MAX_RUNS", "3")  # the explicit count still wins
    assert S.default_max_runs() == 3
    monkeypatch.setenv("CNN_CLASSROOM_TRAIN_IN", "process")
    assert W.backend_default() == "process"


def test_child_size_override(monkeypatch, fresh_plan):
    monkeypatch.setenv("CNN_CLASSROOM_MEMORY_MB", str(100_000))
    monkeypatch.setenv("CNN_CLASSROOM_TRAIN_CHILD_MB", "40000")
    plan = C.training_plan(8, refresh=True)
    assert plan.backend == "process" and plan.runs == 2


def test_niceness_from_env():
    assert C.background_niceness({}) == C.DEFAULT_NICE
    assert C.background_niceness({"CNN_CLASSROOM_TRAIN_NICE": "0"}) == 0
    assert C.background_niceness({"CNN_CLASSROOM_TRAIN_NICE": "40"}) == 19
    assert C.background_niceness({"CNN_CLASSROOM_TRAIN_NICE": "x"}) == C.DEFAULT_NICE


def test_lower_priority_of_one_thread_only():
    """A training thread gets nicer; the thread that serves pages keeps its priority."""
    if not hasattr(os, "getpriority") or not hasattr(threading, "get_native_id"):
        pytest.skip("no per-thread priorities here")
    me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int | None] = {}

    def train() -> None:
        seen["set"] = C.lower_priority(5, thread_only=True)
        seen["read"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=train)
    t.start()
    t.join()
    if seen["set"] is None:
        pytest.skip("this platform has no per-thread nice values")
    assert seen["read"] == seen["set"] == min(19, me + 5)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == me


def test_lower_priority_zero_changes_nothing(monkeypatch):
    monkeypatch.setattr(os, "nice", lambda _n: pytest.fail("os.nice called"))
    assert C.lower_priority(0) is None
