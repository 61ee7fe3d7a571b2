"""The load test's one-core options and its PSS split (issue 28): no server started."""

from __future__ import annotations

import os
import subprocess
import sys

from loadtest.harness import Server
from loadtest.memory import pss_bytes, pss_parts
from loadtest.run_load import cpu_list, parse_args


def test_cpu_list():
    assert cpu_list("0") == {0}
    assert cpu_list("1,3") == {1, 3}
    assert cpu_list("0-2,5") == {0, 1, 2, 5}


def test_pinning_and_env_flags():
    args = parse_args(
        ["--server-cpus", "0", "--client-cpus", "1", "--server-env", "CNN_CLASSROOM_MEMORY_MB=690"]
    )
    assert (args.server_cpus, args.client_cpus, args.server_env) == (
        "0",
        "1",
        ["CNN_CLASSROOM_MEMORY_MB=690"],
    )


def test_server_command_is_pinned(tmp_path):
    server = Server("app.py", tmp_path / "log", cpus="0")
    assert server.cpus == "0"


def test_pss_parts_name_the_server_and_its_children():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        parts = pss_parts(os.getpid())
        kinds = {pid: kind for pid, (kind, _) in parts.items()}
        assert kinds[os.getpid()] == "server"
        assert kinds.get(child.pid) in ("other", None)  # None: it had no smaps yet
        assert pss_bytes(os.getpid()) > 0
        assert all(size >= 0 for _, size in parts.values())
    finally:
        child.kill()
        child.wait()
