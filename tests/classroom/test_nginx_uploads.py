"""nginx limits upload PUTs per client address (issue 24 item 5), with a burst a whole class behind one
school NAT fits in, and nothing else.

The real nginx runs deploy/nginx.conf.template (rendered by deploy/scaleout.py) in front of a tiny
upstream that answers every request. From one address: a class's burst of uploads all pass, a
flood past it gets 429, and page requests from the same address are never limited. Counts, not
timings: the refill during the flood (2 a second) is far below its 400 PUTs. Skipped where nginx is
missing.
"""

from __future__ import annotations

import http.client
import http.server
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from deploy.scaleout import nginx_args, write_nginx_conf
from tests.classroom.scaleout import free_port, nginx_path

CLASS_BURST = 120  # the template's burst: 60 students x 2 files at once


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204 if self.command == "PUT" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = _answer  # noqa: N815 - the handler's names

    def log_message(self, *args: object) -> None:
        pass


def _request(conn: http.client.HTTPConnection, method: str, path: str) -> int:
    conn.request(method, path, body=b"x" * 100 if method == "PUT" else None)
    response = conn.getresponse()
    response.read()
    return response.status


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            _request(conn, "GET", "/_stcore/health")
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_upload_puts_are_limited_per_address_with_a_class_burst():
    nginx = nginx_path()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    prefix = Path(tempfile.mkdtemp(prefix="cnn-nginx-uploads-"))
    listen = free_port()
    conf = write_nginx_conf(prefix, [upstream.server_address[1]], f"127.0.0.1:{listen}")
    proc = subprocess.Popen(
        nginx_args(nginx, prefix, conf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_up(listen)
        conn = http.client.HTTPConnection("127.0.0.1", listen, timeout=10)
        puts = Counter(_request(conn, "PUT", f"/_stcore/upload_file/s{i % 60}/f{i}") for i in range(400))
        pages = Counter(_request(conn, "GET", "/training") for _ in range(200))
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        upstream.shutdown()
        shutil.rmtree(prefix, ignore_errors=True)
    assert puts[204] >= CLASS_BURST, puts  # a class's uploads at once all pass
    assert puts[429] > 0 and puts[204] + puts[429] == 400, puts  # the flood past it is refused
    assert pages == Counter({200: 200}), pages  # pages from the same address are not limited
