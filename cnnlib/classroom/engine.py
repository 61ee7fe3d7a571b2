"""Connecting to the class database: the URL, the engines, and database errors in plain words.

`resolve_url(url)` picks the database: the `url` given, else env CNN_CLASSROOM_DB, else an SQLite
file `classroom.sqlite3` in the app's data directory (`cnnlib.data.default_data_root()`:
$CNN_CLASSROOM_DATA or ~/.cache/cnn-classroom). An SQLite file inside the app's own folder is
refused: Streamlit Community Cloud reruns the app when files there change. `postgres://` and
`postgresql://` URLs are read as `postgresql+psycopg://` (psycopg 3).

`make_engines(url)` returns two engines over one pool: `reader` and `writer`. On SQLite, each
connection gets WAL mode (readers never wait for the writer), `synchronous=NORMAL`, foreign keys
and a busy timeout, and SQLAlchemy emits BEGIN itself: `BEGIN` for reads and `BEGIN IMMEDIATE` for
writes, so a write transaction takes the write lock first and waits its turn (busy timeout)
instead of failing halfway. On PostgreSQL the two are the same, with a connect timeout and a
statement timeout; connections are not pinged before use (that would double the round trips):
a connection a server restart dropped fails on use, SQLAlchemy then empties the pool, and the
store runs the transaction again on a fresh connection.

`database_error(exc, where)` turns a driver error into a ClassError (busy: try again) or a
ClassUnavailable (unreachable, read-only, damaged) whose message the page can show as it is. Every
message a page may show says "the class database" and never where it is (no file path, host or
database name: students see these messages); the server's log gets the details, `describe(url)`
(for logs and the teacher's Ready check) names the file or the server.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from cnnlib.classroom.errors import ClassError, ClassUnavailable

__all__: list[str] = []


log = logging.getLogger(__name__)

ENV_URL = "CNN_CLASSROOM_DB"
DB_FILENAME = "classroom.sqlite3"
APP_ROOT = Path(__file__).resolve().parents[2]  # the folder holding app.py and cnnlib/
SQLITE_BUSY_TIMEOUT_S = 10.0  # a write waits this long for the write lock
POOL_TIMEOUT_S = 15.0  # a request waits this long for a pooled connection
PG_CONNECT_TIMEOUT_S = 3  # an unreachable PostgreSQL fails within this
PG_STATEMENT_TIMEOUT_MS = 5000  # no class query runs longer
OFF = "Class features are unavailable"
LESSONS_GO_ON = "The lesson pages work without them."
DB = "the class database"  # what messages say: never its path or host (students read them)
SEE_LOG = "(the server's log says where)"


def default_sqlite_path() -> Path:
    """Where the default SQLite database lives: classroom.sqlite3 in the app's data directory."""
    from cnnlib.data import default_data_root  # imported here: cnnlib.data brings torch

    return default_data_root() / DB_FILENAME


def resolve_url(url: str | URL | None = None) -> URL:
    """The database URL to open: `url`, else $CNN_CLASSROOM_DB, else the default SQLite file."""
    if url is None or (isinstance(url, str) and not url.strip()):
        url = os.environ.get(ENV_URL, "").strip() or None
    if url is None:
        return URL.create("sqlite", database=str(default_sqlite_path()))
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except exc.ArgumentError:
        raise ClassUnavailable(
            f"{OFF}: {ENV_URL} is not a database URL. Use sqlite:///path/to/classroom.sqlite3 or "
            f"postgresql+psycopg://user:password@host/dbname. {LESSONS_GO_ON}"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.get_driver_name() in ("pysqlite", ""):
        return parsed
    raise ClassUnavailable(
        f"{OFF}: the class database must be SQLite or PostgreSQL, not {parsed.drivername!r}. {LESSONS_GO_ON}"
    )


def describe(url: URL) -> str:
    """The database in words, without a password: for messages and logs."""
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    where = url.host or (url.query.get("host") if url.query else None) or "localhost"
    return f"PostgreSQL database {url.database or ''!r} on {where}"


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or url.query.get("mode") == "memory"
    ):
        raise ClassUnavailable(
            f"{OFF}: the class database must be a file (an in-memory SQLite database is not shared). "
            f"{LESSONS_GO_ON}"
        )
    path = Path(database.removeprefix("file:").split("?")[0]).expanduser().resolve()
    if path == APP_ROOT or APP_ROOT in path.parents:
        log.warning("class database %s is inside the app's folder %s: refused", path, APP_ROOT)
        raise ClassUnavailable(
            f"{OFF}: {DB} file is inside the app's folder {SEE_LOG}, and Streamlit Community Cloud "
            f"reruns the app when files there change. Set {ENV_URL} or CNN_CLASSROOM_DATA to a folder "
            f"outside it. {LESSONS_GO_ON}"
        )
    return path


def make_engines(url: URL) -> tuple[Engine, Engine]:
    """(reader, writer) engines for `url`; they share one connection pool."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if url.query.get("mode") != "ro":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # Created here, readable by this user only (it holds the class's students); SQLite
                # gives its -wal and -shm files the same mode. An existing file keeps its own.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as e:
                log.warning("class database folder %s cannot be created: %s", path.parent, e)
                raise ClassUnavailable(
                    f"{OFF}: the folder for {DB} cannot be created ({e.strerror}) {SEE_LOG}. {LESSONS_GO_ON}"
                ) from e
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=5,
            max_overflow=25,
            pool_timeout=POOL_TIMEOUT_S,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine, engine.execution_options(sqlite_begin="IMMEDIATE")
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_S,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": PG_CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}",
            "application_name": "cnn-classroom",
        },
    )
    return engine, engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_on_begin)
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe on an app crash, fast commits
    finally:
        cur.close()


def _wal(cur: Any) -> None:
    """Switch the file to WAL (persistent once set; needs a writable file). Switching takes an
    exclusive lock and SQLite answers "database is locked" at once, without waiting the busy
    timeout, while another connection opening the same fresh file holds it: try again a while."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def database_error(error: Exception, url: URL) -> ClassError:
    """The ClassError a page shows for a database error: no path, host or driver text in it (students
    read it); the details go to the server's log for the admin."""
    text = str(getattr(error, "orig", None) or error).lower()
    log.warning("class database error on %s: %s", describe(url), error)
    where = DB
    if isinstance(error, exc.TimeoutError) or any(
        w in text for w in ("database is locked", "busy", "statement timeout")
    ):
        return ClassError("The class database is busy right now; try again in a moment.")
    if "readonly" in text or "read-only" in text or "read only" in text:
        return ClassUnavailable(f"{OFF}: {where} is read-only, so nothing can be saved. {LESSONS_GO_ON}")
    if url.get_backend_name() == "sqlite":
        if "unable to open" in text or "permission denied" in text:
            return ClassUnavailable(f"{OFF}: {where} cannot be opened. {LESSONS_GO_ON}")
        if "malformed" in text or "not a database" in text or "disk i/o" in text or "no such table" in text:
            return ClassUnavailable(
                f"{OFF}: {where} file is damaged or not a class database. {LESSONS_GO_ON}"
            )
    if isinstance(error, (exc.OperationalError, exc.InterfaceError)):
        return ClassUnavailable(f"{OFF}: {where} cannot be reached right now. {LESSONS_GO_ON}")
    if isinstance(error, exc.IntegrityError):
        return ClassError("That change clashed with another one made at the same moment; try again.")
    return ClassUnavailable(f"{OFF}: {where} refused the request. {LESSONS_GO_ON}")
