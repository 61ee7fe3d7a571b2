"""nginx's access log holds no teacher key (issue 24 item 9): the scale-out config logs paths only.

The real nginx runs deploy/nginx.conf.template (rendered by deploy/scaleout.py) in front of a tiny
upstream; a teacher link with its key in the query and a page sent with that link as its Referer
are requested; the access log has both requests, by path, and neither secret. Skipped where nginx
is missing.
"""

from __future__ import annotations

import http.server
import urllib.request
from pathlib import Path

from tests.classroom.scaleout import nginx_in_front

KEY = "TeacherKeySecret_0123456789abcdef"
SCREEN = "ProjectorSeatToken_xyz"


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the handler's name
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _get(url: str, referer: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Referer": referer} if referer else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_the_access_log_has_paths_and_no_query_string_or_referer(tmp_path: Path):
    with nginx_in_front(_Ok, tmp_path) as listen:
        base = f"http://127.0.0.1:{listen}"
        teacher_link = f"{base}/kernels?class=KXMQ2R&key={KEY}"
        assert _get(teacher_link) == 200
        assert _get(f"{base}/training?class=KXMQ2R&screen={SCREEN}", referer=teacher_link) == 200
    log = (tmp_path / "access.log").read_text()
    assert '"GET /kernels HTTP/1.1" 200' in log and '"GET /training HTTP/1.1" 200' in log, log
    assert KEY not in log and SCREEN not in log and "class=" not in log and "?" not in log, log
