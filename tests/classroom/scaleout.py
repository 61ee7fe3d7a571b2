"""Scale-out harness: a throwaway PostgreSQL, two `streamlit run app.py` processes, nginx in front.

The `scaleout_stack` fixture (module-scoped; import it into a test module or a conftest) starts
the real recipe, `deploy/scaleout.py`, with two app processes on free ports, nginx on a free port
with its prefix, config and logs in a temp dir, and a fresh database on a throwaway cluster, and
yields a `Stack`:

    stack.base        http://127.0.0.1:<nginx port>  (what a browser opens)
    stack.db_url      the class database URL every app process got as CNN_CLASSROOM_DB
    stack.ports       the app processes' ports; stack.app_pids their pids
    stack.get(path, cookie=None) -> (status, headers, body)   one request through nginx

Teardown stops the launcher (which stops nginx and the apps), checks that no app process is left,
and deletes the cluster and the temp dir. It skips with a one-line reason where nginx or
PostgreSQL is missing. A page-level test can reuse it: open `stack.base` in a browser, or post
through `stack.db_url` with a ClassStore.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.scaleout import nginx_args, write_nginx_conf
from tests.conftest import postgresql_or_skip

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300  # two app processes importing torch on two shared cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_path() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@contextlib.contextmanager
def nginx_in_front(handler: type[http.server.BaseHTTPRequestHandler], prefix: Path) -> Iterator[int]:
    """nginx with the scale-out config (deploy/nginx.conf.template, rendered by deploy/scaleout.py)
    in front of a tiny upstream that `handler` answers, its config and logs in `prefix`: yields the
    port nginx listens on, once it accepts connections; stops nginx (its logs complete) and the
    upstream after. Skips the test where nginx is missing."""
    nginx = nginx_path()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen = free_port()
    conf = write_nginx_conf(prefix, [upstream.server_address[1]], f"127.0.0.1:{listen}")
    proc = subprocess.Popen(
        nginx_args(nginx, prefix, conf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    assert proc.stderr is not None
                    raise RuntimeError(
                        f"nginx exited: {proc.stderr.read().decode(errors='replace')}"
                    ) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield listen
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        upstream.shutdown()


@dataclass
class Stack:
    base: str
    db_url: str
    ports: list[int]
    app_pids: list[int]
    prefix: Path

    def get(
        self, path: str, cookie: str | None = None, timeout: float = 30
    ) -> tuple[int, dict[str, str], bytes]:
        """One GET through nginx (no cookie jar: pass the route cookie's value yourself)."""
        req = urllib.request.Request(self.base + path)
        if cookie is not None:
            req.add_header("Cookie", f"cnn_route={cookie}")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            headers: dict[str, str] = {}
            for (
                k,
                v,
            ) in resp.headers.items():  # repeated headers (Set-Cookie) joined, as a browser sees them all
                headers[k.lower()] = f"{headers[k.lower()]}, {v}" if k.lower() in headers else v
            return resp.status, headers, resp.read()

    def logs(self) -> str:
        """The tail of every log of the stack, for a failure message."""
        parts = []
        for f in sorted(self.prefix.glob("*.log")):
            parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}")
        return "\n".join(parts)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


@pytest.fixture(scope="module")
def scaleout_stack():
    nginx = nginx_path()
    if nginx is None:
        pytest.skip("nginx not found (apt-get install -y nginx)")
    cluster = postgresql_or_skip()
    prefix = Path(tempfile.mkdtemp(prefix="cnn-scaleout-"))
    launcher = None
    try:
        db_url = cluster.new_database()
        ports, listen = [free_port(), free_port()], free_port()
        cmd = [
            sys.executable, str(ROOT / "deploy" / "scaleout.py"), "--db", db_url,
            "--ports", ",".join(map(str, ports)), "--listen", f"127.0.0.1:{listen}",
            "--prefix", str(prefix), "--nginx", nginx, "--start-timeout", str(START_TIMEOUT_S),
        ]  # fmt: skip
        out = open(prefix / "launcher.log", "wb")  # noqa: SIM115 - closed below
        launcher = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        stack = Stack(f"http://127.0.0.1:{listen}", db_url, ports, [], prefix)
        deadline = time.monotonic() + START_TIMEOUT_S + 30
        while True:
            if launcher.poll() is not None:
                pytest.fail(f"the scale-out launcher exited with {launcher.returncode}:\n{stack.logs()}")
            try:
                if stack.get("/_stcore/health", timeout=2)[2].strip() == b"ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"nginx did not answer /_stcore/health within {START_TIMEOUT_S + 30} s:\n{stack.logs()}"
                )
            time.sleep(0.5)
        stack.app_pids = [a["pid"] for a in json.loads((prefix / "apps.json").read_text())]
        yield stack
    finally:
        left = []
        if launcher is not None:
            pids = (
                [a["pid"] for a in json.loads((prefix / "apps.json").read_text())]
                if (prefix / "apps.json").exists()
                else []
            )
            launcher.send_signal(signal.SIGTERM)
            try:
                launcher.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)  # the group this fixture started
                launcher.wait(10)
            left = [pid for pid in pids if alive(pid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        cluster.destroy()
        shutil.rmtree(prefix, ignore_errors=True)
        assert not left, f"app processes {left} outlived the launcher"
