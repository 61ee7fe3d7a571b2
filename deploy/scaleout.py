"""Run CNN Classroom as N Streamlit processes behind nginx, with one class database for all.

    python deploy/scaleout.py --processes 4 --listen 8080 \
        --db postgresql+psycopg://cnn:secret@127.0.0.1/cnn_classroom

Starts N `streamlit run app.py` processes on 127.0.0.1 (ports --first-port.. or --ports), each with
CNN_CLASSROOM_DB set and the same Streamlit cookie secret, waits until each answers
/_stcore/health, renders deploy/nginx.conf.template into --prefix and runs nginx in the
foreground in front of them (sticky sessions by a cookie nginx sets). It is bounded and cleans up:
if a process fails to start or dies, or on Ctrl-C / SIGTERM, it stops nginx and every app process
(SIGTERM, then SIGKILL after --stop-timeout) and exits; children also get SIGTERM if the launcher
itself is killed (Linux). See deploy/README.md for sizing and a systemd unit.
"""

from __future__ import annotations

import argparse
import ctypes
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def render_nginx_conf(
    ports: list[int], listen: str, prefix: Path, max_body: str = "25m", user: str | None = None
) -> str:
    """nginx.conf for these app ports; `user` (root only) is who nginx's workers run as."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)
    conf = TEMPLATE.read_text()
    for name, value in {
        "USER_LINE": f"user {user};" if user else "",
        "PREFIX": str(prefix),
        "SERVERS": servers,
        "LISTEN": listen,
        "MAX_BODY": max_body,
    }.items():
        conf = conf.replace("{{" + name + "}}", value)
    return conf


def worker_user() -> tuple[str, int, int] | None:
    """As root: (nginx `user` value, uid, gid) for the workers (www-data, else nobody); else None."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            group = grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            continue
        return f"{name} {group}", pw.pw_uid, pw.pw_gid
    return None


def write_nginx_conf(prefix: Path, ports: list[int], listen: str) -> Path:
    """Render the config into `prefix` (with its temp folders) and return its path."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    who = worker_user()
    for d in TEMP_DIRS:
        path = prefix / "tmp" / d
        path.mkdir(parents=True, exist_ok=True)
        if who:
            os.chown(path, who[1], who[2])
    (prefix / "tmp").chmod(0o755)
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(ports, listen, prefix, user=who[0] if who else None))
    return conf


def nginx_binary(given: str | None = None) -> str:
    found = (
        given or shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    )
    if not found:
        sys.exit("nginx not found: apt-get install -y nginx (or pass --nginx PATH)")
    return found


def nginx_args(nginx: str, prefix: Path, conf: Path) -> list[str]:
    """nginx with its own prefix, config and startup error log (nothing under /etc or /var)."""
    return [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]


def _die_with_parent() -> None:
    """In a child: get SIGTERM when the launcher dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def app_env(db: str, cookie_secret: str, runs_per_process: int) -> dict[str, str]:
    env = dict(os.environ, CNN_CLASSROOM_DB=db, STREAMLIT_SERVER_COOKIE_SECRET=cookie_secret)
    env.setdefault("CNN_CLASSROOM_MAX_RUNS", str(runs_per_process))
    return env


def app_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def healthy(base: str, timeout: float = 1.0) -> bool:
    try:
        return urllib.request.urlopen(base + "/_stcore/health", timeout=timeout).read().strip() == b"ok"
    except OSError:
        return False


def cores_for(i: int, n: int) -> set[int]:
    """The CPU cores of process i of n when pinning: an equal share of the cores this launcher may use."""
    cores = sorted(os.sched_getaffinity(0))
    share = max(1, len(cores) // n)
    start = (i * share) % len(cores)
    return set(cores[start : start + share])


class Launcher:
    """The app processes and nginx; `stop()` ends all of them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.apps: list[subprocess.Popen] = []
        self.nginx: subprocess.Popen | None = None
        self.stopping = False

    def start(self) -> None:
        a = self.args
        prefix = Path(a.prefix).resolve()
        ports = a.ports or [a.first_port + i for i in range(a.processes)]
        n = len(ports)
        cores = len(os.sched_getaffinity(0))
        runs = max(1, cores // n // 2)  # the training-slot default (half the cores) split between processes
        secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
        nginx = nginx_binary(a.nginx)
        conf = write_nginx_conf(prefix, ports, a.listen)
        check = subprocess.run(
            [nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise SystemExit(f"nginx rejected {conf}: {check.stderr.strip()}")
        self._check_db(a.db)
        for i, port in enumerate(ports):
            log = open(prefix / f"app-{port}.log", "ab")  # noqa: SIM115 - closed with the process
            pin = cores_for(i, n) if a.pin_cores else None

            def pre(pin=pin) -> None:
                _die_with_parent()
                if pin:
                    os.sched_setaffinity(0, pin)

            self.apps.append(
                subprocess.Popen(
                    app_command(port),
                    cwd=ROOT,
                    env=app_env(a.db, secret, runs),
                    stdout=log,
                    stderr=log,
                    preexec_fn=pre,
                )
            )
            log.close()
        (prefix / "apps.json").write_text(
            json.dumps([{"port": p, "pid": q.pid} for p, q in zip(ports, self.apps, strict=True)])
        )
        deadline = time.monotonic() + a.start_timeout
        for port, proc in zip(ports, self.apps, strict=True):
            while not healthy(f"http://127.0.0.1:{port}"):
                if self.stopping:
                    raise SystemExit("stopped before every app process was up")
                if proc.poll() is not None:
                    raise SystemExit(
                        f"app process on port {port} exited ({proc.returncode}); see {prefix}/app-{port}.log"
                    )
                if time.monotonic() > deadline:
                    raise SystemExit(f"app process on port {port} not healthy after {a.start_timeout:.0f} s")
                time.sleep(0.3)
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(conf)], preexec_fn=_die_with_parent
        )
        print(
            f"CNN Classroom: {n} processes on ports {ports} behind http://{a.listen} (logs in {prefix})",
            flush=True,
        )

    @staticmethod
    def _check_db(db: str) -> None:
        """Open the class store once: the tables exist before the apps start, or a clear exit."""
        sys.path.insert(0, str(ROOT))
        from cnnlib.classroom import ClassError, ClassStore

        try:
            ClassStore.open(db).close()
        except ClassError as e:
            raise SystemExit(str(e)) from None

    def watch(self) -> int:
        """Wait until a child exits or a stop is asked for; return the exit status."""
        while not self.stopping:
            for proc in [self.nginx, *self.apps]:
                if proc is not None and proc.poll() is not None:
                    print(
                        f"process {proc.args[0]}... (pid {proc.pid}) exited with {proc.returncode}; stopping",
                        flush=True,
                    )
                    return 1
            time.sleep(0.5)
        return 0

    def stop(self, *_sig) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        """nginx first (SIGQUIT: finish requests), then the apps (SIGTERM); SIGKILL after the timeout."""
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
        for proc in self.apps:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + self.args.stop_timeout
        for proc in [self.nginx, *self.apps]:
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--db", default=os.environ.get("CNN_CLASSROOM_DB"), help="class database URL (PostgreSQL)"
    )
    ap.add_argument("--processes", type=int, default=max(1, len(os.sched_getaffinity(0)) // 2))
    ap.add_argument("--first-port", type=int, default=8501)
    ap.add_argument(
        "--ports", type=lambda s: [int(p) for p in s.split(",")], help="explicit app ports, e.g. 8501,8502"
    )
    ap.add_argument("--listen", default="8080", help="nginx's listen address (port, or host:port)")
    ap.add_argument(
        "--prefix", default="/tmp/cnn-classroom-nginx", help="folder for nginx.conf, logs, temp files"
    )
    ap.add_argument("--nginx", help="nginx binary (default: on PATH or /usr/sbin/nginx)")
    ap.add_argument("--pin-cores", action="store_true", help="pin each app process to its share of the cores")
    ap.add_argument("--start-timeout", type=float, default=180.0)
    ap.add_argument("--stop-timeout", type=float, default=15.0)
    args = ap.parse_args(argv)
    if not args.db:
        ap.error("--db (or CNN_CLASSROOM_DB) is required: every process must share one class database")
    if args.processes < 1:
        ap.error("--processes must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    launcher = Launcher(parse_args(argv))
    signal.signal(signal.SIGTERM, launcher.stop)
    signal.signal(signal.SIGINT, launcher.stop)
    try:
        launcher.start()
        return launcher.watch()
    except SystemExit as e:
        print(e, file=sys.stderr, flush=True)
        return 1
    finally:
        launcher.shutdown()


if __name__ == "__main__":
    sys.exit(main())
