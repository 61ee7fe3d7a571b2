"""Scale-out (issue 17): two app processes behind nginx with sticky sessions and one PostgreSQL.

Uses the `scaleout_stack` harness (tests/classroom/scaleout.py), which runs deploy/scaleout.py.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loadtest.ws_client import DONE_STATUSES, encode_rerun

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _upstream_port(headers: dict[str, str]) -> int:
    return int(headers["x-cnn-upstream"].rsplit(":", 1)[1])


def test_both_processes_answer_through_nginx(scaleout_stack):
    stack = scaleout_stack
    seen = set()
    for _ in range(40):
        status, headers, body = stack.get("/_stcore/health", cookie=secrets.token_hex(8))
        assert status == 200 and body.strip() == b"ok"
        seen.add(_upstream_port(headers))
        if seen == set(stack.ports):
            break
    assert seen == set(stack.ports)  # two different cookies reached the two processes


def test_a_browser_gets_a_route_cookie_and_always_reaches_the_same_process(scaleout_stack):
    stack = scaleout_stack
    status, headers, _ = stack.get("/")
    assert status == 200
    route = [c.strip() for c in headers["set-cookie"].split(",") if c.strip().startswith("cnn_route=")]
    assert len(route) == 1 and "HttpOnly" in route[0] and "Path=/" in route[0]
    value = route[0].split(";")[0].split("=", 1)[1]
    assert value
    first = _upstream_port(headers)
    for path in ["/_stcore/health", "/", "/kernels", "/_stcore/host-config"] * 3:
        _, h, _ = stack.get(path, cookie=value)
        assert _upstream_port(h) == first
        assert "cnn_route" not in h.get("set-cookie", "")  # the route cookie is set once
    # The page's websocket goes to the same process, and a page runs through it.
    from websockets.sync.client import connect

    url = stack.base.replace("http://", "ws://") + "/_stcore/stream"
    with connect(
        url,
        subprotocols=["streamlit"],
        additional_headers={"Cookie": f"cnn_route={value}"},
        max_size=None,
        open_timeout=60,
    ) as ws:
        assert _upstream_port({k.lower(): v for k, v in ws.response.headers.raw_items()}) == first
        ws.send(encode_rerun(page_name=""))
        finished = False
        for _ in range(2000):
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=120))
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in DONE_STATUSES:
                finished = True
                break
        assert finished, "the landing page did not finish through nginx"


def _cli(url: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.classroom.store_cli", url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_process_shares_one_class_database(scaleout_stack):
    stack = scaleout_stack
    for pid in stack.app_pids:  # each app process was started with the shared database
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"CNN_CLASSROOM_DB={stack.db_url}".encode() in env
    from cnnlib.classroom import ClassStore

    with ClassStore.open(stack.db_url) as teacher:
        made = _cli(stack.db_url, "create", "Scale-out lesson")  # one process creates the class...
        pid = teacher.open_poll(made["code"], made["teacher_key"], "Size?", ["26", "28"])
        posted = _cli(stack.db_url, "students", made["code"], "Ana", "3", str(pid))  # ...another posts...
        assert posted["errors"] == [] and posted["names"] == ["Ana", "Ana 2", "Ana 3"]
        board = _cli(stack.db_url, "board", made["code"])["board"]  # ...a third reads the board
        assert sorted(e["nickname"] for e in board) == ["Ana", "Ana 2", "Ana 3"]
        assert teacher.poll(made["code"], pid) == {"26": 2, "28": 1}


def _launch(tmp_path: Path, db: str, ports: list[int]) -> tuple[subprocess.Popen, Path]:
    from tests.classroom.scaleout import free_port, nginx_path

    if nginx_path() is None:
        pytest.skip("nginx not found (apt-get install -y nginx)")
    prefix = tmp_path / "nginx"
    cmd = [
        sys.executable, str(ROOT / "deploy" / "scaleout.py"), "--db", db, "--ports", ",".join(map(str, ports)),
        "--listen", f"127.0.0.1:{free_port()}", "--prefix", str(prefix), "--stop-timeout", "10",
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ), prefix


def test_the_launcher_refuses_an_unreachable_database_and_starts_nothing(tmp_path):
    from tests.classroom.scaleout import free_port

    proc, prefix = _launch(tmp_path, f"postgresql+psycopg://x@/db?host={tmp_path}/no-server", [free_port()])
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Class features are unavailable" in out and "cannot be reached" in out
    assert not (prefix / "apps.json").exists()


def test_the_launcher_stops_everything_when_an_app_process_dies(tmp_path):
    import os
    import signal
    import time

    from tests.classroom.scaleout import alive, free_port

    # SQLite serves several processes on one machine too (WAL); PostgreSQL is for several machines.
    proc, prefix = _launch(tmp_path, f"sqlite:///{tmp_path / 'classroom.sqlite3'}", [free_port()])
    try:
        deadline = time.monotonic() + 240
        while not (prefix / "nginx.pid").exists() or not (prefix / "nginx.pid").read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, (
                proc.stdout.read() if proc.poll() else "timeout"
            )
            time.sleep(0.3)
        nginx_pid = int((prefix / "nginx.pid").read_text())
        (app,) = json.loads((prefix / "apps.json").read_text())
        os.kill(app["pid"], signal.SIGKILL)
        assert proc.wait(60) == 1
        deadline = time.monotonic() + 10
        while alive(nginx_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(nginx_pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
