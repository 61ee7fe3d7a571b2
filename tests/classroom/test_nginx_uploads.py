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
from collections import Counter
from pathlib import Path

from tests.classroom.scaleout import nginx_in_front

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


def test_upload_puts_are_limited_per_address_with_a_class_burst(tmp_path: Path):
    with nginx_in_front(_Upstream, tmp_path) as listen:
        conn = http.client.HTTPConnection("127.0.0.1", listen, timeout=10)
        puts = Counter(_request(conn, "PUT", f"/_stcore/upload_file/s{i % 60}/f{i}") for i in range(400))
        pages = Counter(_request(conn, "GET", "/training") for _ in range(200))
        conn.close()
    assert puts[204] >= CLASS_BURST, puts  # a class's uploads at once all pass
    assert puts[429] > 0 and puts[204] + puts[429] == 400, puts  # the flood past it is refused
    assert pages == Counter({200: 200}), pages  # pages from the same address are not limited
