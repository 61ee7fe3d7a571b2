"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl on a free port, then gone.

    cluster = PgCluster.start_new()          # or the `pg_cluster` fixture (tests/conftest.py)
    url = cluster.new_database()             # postgresql+psycopg://postgres@/db_1?host=<socket dir>&port=...
    cluster.stop(); cluster.start()          # a "PostgreSQL down" test, then back
    cluster.destroy()

The cluster listens on a unix socket in its own temp dir and on 127.0.0.1 at a free port, with
fsync off (a test database need not survive a power cut; `durable=True` for benchmarks). PostgreSQL refuses to run as root, so
as root initdb and pg_ctl run as the `postgres` user (runuser) in a temp dir it owns.
`unavailable_reason()` says in one line why a cluster cannot start here, or None.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import psycopg

START_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin_dir() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot start on this machine (one line), or None."""
    if pg_bin_dir() is None:
        return "PostgreSQL binaries not found (apt-get install -y postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


class PgCluster:
    """One throwaway PostgreSQL cluster (see the module docstring)."""

    def __init__(self) -> None:
        self.bin = pg_bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="cnn-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = _free_port()
        self._n = 0
        self._lock = threading.Lock()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def init(self) -> None:
        """Create the cluster's files (initdb)."""
        self._cmd(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    @classmethod
    def start_new(cls, durable: bool = False) -> PgCluster:
        cluster = cls()
        try:
            cluster.init()
            cluster.start(durable)
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def _cmd(self, tool: str, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        cmd = [*_run_as(), str(self.bin / tool), *args]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if out.returncode != 0:
            log = self.log.read_text(errors="replace")[-400:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {(out.stderr or out.stdout).strip()[-400:]} {log}")

    def start(self, durable: bool = False) -> None:
        """Start (or restart) the server and wait until it takes connections.

        Tests run with fsync off; `durable=True` keeps PostgreSQL's defaults (benchmarks).
        """
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._cmd(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )

    def stop(self) -> None:
        """Stop the server now (fast shutdown: open connections are cut)."""
        self._cmd("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(START_TIMEOUT_S), "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop the server if it runs and delete every file of the cluster."""
        try:
            if self.is_running():
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL to `database` over the unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}&port={self.port}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        with self._lock:
            self._n += 1
            name = f"db_{self._n}"
        with psycopg.connect(
            host=str(self.dir), port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
