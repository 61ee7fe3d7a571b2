"""The class database's tables, its schema version, and the migrations that bring it up to date.

Tables (SQLAlchemy Core, the same on SQLite and PostgreSQL; times are UTC epoch seconds):

    classes         code (PK), title, teacher_key_hash, created_at, expires_at, closed_at,
                    version (bumped by every teacher action: students poll this one row),
                    follow_link (the teacher's "follow me" link), current_poll_id,
                    shared_run, shared_run_at (v2: the teacher's run for everyone to watch),
                    locked (v3: no new joins), teacher_key_sealed (v3: the teacher key sealed
                    for teacher seats, see seats.py: useless without a teacher's seat token)
    students        id (PK: v4, the student id's hash, codes.student_key; the raw id lives only in
                    the student's session and seat token), class_code, nickname, nickname_key
                    (unique per class), joined_at, left_at (v3: set when the student leaves)
    polls           id, class_code, question, options (JSON list), correct, state, created_at
    answers         (poll_id, student_id) PK, answer: one answer per student, replaced on change
                    (student_id here and in runs: the same hash as students.id)
    runs            the results board: id, class_code, student_id, accuracy, params, model,
                    link, seconds, dataset, posted_at
    seat_secret     v3: one row, the HMAC key that signs seat tokens (made on first use, so
                    every app process and a restarted server accept the same seats)
    rate_limits     v4: one token bucket per limited thing (bucket: "join-addr:<hash of the client
                    address>", "join-class:<code>", "create-addr:<hash>"), its tokens and when it
                    was last taken from (see limits.py); rows a minute old are full and purged
    datasets        v5: the class's "Draw a dataset": class_code (PK), labels (JSON list), open
                    (drawings taken), opened_at
    drawings        v5: id, class_code, student_id (the same hash as students.id), label, pixels
                    (784 bytes: 28x28 uint8, row-major), created_at
    class_models    v6: the one model a member shared with the class: class_code (PK), name, data
                    (TrainedModel.to_bytes(), at most MAX_MODEL_BYTES), accuracy, dataset,
                    shared_by (a student id's hash, or "teacher"), created_at
    schema_version  one row: the schema version this database is at

`ensure_schema(engine)` runs when a store opens: a fresh database gets today's tables at once and
is stamped SCHEMA_VERSION; an older one gets each migration above its version, in order, inside
one transaction under a lock (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so two
app processes starting together migrate once. To change the schema: edit the tables below, bump
SCHEMA_VERSION, and add `MIGRATIONS[n] = fn` where fn(conn) makes the same change to a database
at version n - 1 (an `ALTER TABLE ... ADD COLUMN`, a backfill). A database newer than the code
is refused with a message instead of being touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    CursorResult,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    false,
    func,
    inspect,
    select,
    text,
)

from cnnlib.classroom.codes import student_key
from cnnlib.classroom.errors import ClassUnavailable

__all__: list[str] = []


SCHEMA_VERSION = 6
ADVISORY_LOCK_ID = 1_717_170_017  # pg_advisory_xact_lock key for migrations (any constant)

metadata = MetaData()

classes = Table(
    "classes",
    metadata,
    Column("code", String(8), primary_key=True),
    Column("title", String(80), nullable=False),
    Column("teacher_key_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("closed_at", Float),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("follow_link", String(2000), nullable=False, server_default=""),
    Column("current_poll_id", Integer),
    Column("shared_run", Text, nullable=False, server_default=""),  # v2: the teacher's run, as JSON
    Column("shared_run_at", Float),  # v2
    Column("locked", Boolean, nullable=False, server_default=false()),  # v3: new joins refused
    Column("teacher_key_sealed", String(128)),  # v3: hex, see seats.py (None before the first seat)
)

students = Table(
    "students",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False),
    Column("nickname", String(40), nullable=False),
    Column("nickname_key", String(160), nullable=False),
    Column("joined_at", Float, nullable=False),
    Column("left_at", Float),  # v3: the student left (their runs and answers stay)
    UniqueConstraint("class_code", "nickname_key", name="uq_students_nickname"),
)

polls = Table(
    "polls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("question", String(300), nullable=False),
    Column("options", Text, nullable=False),
    Column("correct", String(80)),
    Column("state", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
)

answers = Table(
    "answers",
    metadata,
    Column("poll_id", Integer, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
    Column(
        "student_id", String(32), ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("answer", String(80), nullable=False),
    Column("answered_at", Float, nullable=False),
    PrimaryKeyConstraint("poll_id", "student_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False),
    Column(
        "student_id", String(32), ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("accuracy", Float, nullable=False),
    Column("params", BigInteger, nullable=False),
    Column("model", String(200), nullable=False),
    Column("link", String(2000), nullable=False),
    Column("seconds", Float),
    Column("dataset", String(40), nullable=False),
    Column("posted_at", Float, nullable=False),
    Index("ix_runs_class_accuracy", "class_code", "accuracy"),
)

seat_secret = Table(
    "seat_secret",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("secret", String(64), nullable=False),  # 32 random bytes, hex
    Column("created_at", Float, nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("bucket", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
)

datasets = Table(
    "datasets",
    metadata,
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), primary_key=True),
    Column("labels", Text, nullable=False),  # JSON list of 2-5 labels, in the teacher's order
    Column("open", Boolean, nullable=False),  # drawings are taken
    Column("opened_at", Float, nullable=False),
)

drawings = Table(
    "drawings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False),
    Column(
        "student_id", String(32), ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("label", String(40), nullable=False),
    Column("pixels", LargeBinary, nullable=False),  # 784 bytes: a 28x28 uint8 image, row-major
    Column("created_at", Float, nullable=False),
    Index("ix_drawings_class_label", "class_code", "label"),
)

class_models = Table(
    "class_models",
    metadata,
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("data", LargeBinary, nullable=False),  # TrainedModel.to_bytes()
    Column("accuracy", Float, nullable=True),  # test accuracy 0-1, or None
    Column("dataset", String(80), nullable=False),
    Column("shared_by", String(32), nullable=False),  # a student id's hash, or "teacher"
    Column("shared_name", String(40), nullable=False),  # the nickname, or "the teacher"
    Column("created_at", Float, nullable=False),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("migrated_at", Float, nullable=False),
)


def _v2_shared_run(conn: Connection) -> None:
    """v2: the teacher's training run shared with the class (cnnlib.classroom.shared_run)."""
    conn.execute(text("ALTER TABLE classes ADD COLUMN shared_run TEXT NOT NULL DEFAULT ''"))
    conn.execute(text("ALTER TABLE classes ADD COLUMN shared_run_at FLOAT"))


def _v3_seats_and_roster(conn: Connection) -> None:
    """v3: seat tokens (their secret, the sealed teacher key), leaving, locking a class."""
    no = "false" if conn.dialect.name == "postgresql" else "0"
    conn.execute(text(f"ALTER TABLE classes ADD COLUMN locked BOOLEAN NOT NULL DEFAULT {no}"))
    conn.execute(text("ALTER TABLE classes ADD COLUMN teacher_key_sealed VARCHAR(128)"))
    conn.execute(text("ALTER TABLE students ADD COLUMN left_at FLOAT"))
    seat_secret.create(conn)


# The columns that hold a student id, besides students.id: (table, foreign key column).
STUDENT_ID_REFERENCES = (("answers", "student_id"), ("runs", "student_id"))  # (v4; v5 adds drawings)


def _v4_hashed_ids_and_rate_limits(conn: Connection) -> None:
    """v4: student ids stored as their hash (codes.student_key), and the rate limits' table.

    Every student row, answer and run gets its student id replaced by the id's hash. The foreign
    keys from answers and runs to students are checked at the end of each statement (not
    deferrable), so they are set aside for the update: deferred to the commit on SQLite
    (`PRAGMA defer_foreign_keys`, reset by the commit), dropped and made again on PostgreSQL.
    """
    rate_limits.create(conn)
    ids = list(conn.scalars(select(students.c.id)))
    if not ids:
        return
    mapping = [{"old": i, "new": student_key(i) or i} for i in ids]
    postgres = conn.dialect.name == "postgresql"
    dropped: list[tuple[str, str]] = []
    if postgres:
        for name, column in STUDENT_ID_REFERENCES:
            for fk in inspect(conn).get_foreign_keys(name):
                if (
                    fk["constrained_columns"] == [column]
                    and fk["referred_table"] == "students"
                    and fk["name"]
                ):
                    conn.execute(text(f'ALTER TABLE {name} DROP CONSTRAINT "{fk["name"]}"'))
                    dropped.append((name, fk["name"]))
    else:
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
    old, new = bindparam("old", type_=String), bindparam("new", type_=String)
    conn.execute(students.update().where(students.c.id == old).values(id=new), mapping)
    for table in (answers, runs):
        conn.execute(table.update().where(table.c.student_id == old).values(student_id=new), mapping)
    for name, constraint in dropped:
        conn.execute(
            text(
                f'ALTER TABLE {name} ADD CONSTRAINT "{constraint}" FOREIGN KEY (student_id) '
                "REFERENCES students (id) ON DELETE CASCADE"
            )
        )


def _v5_drawings(conn: Connection) -> None:
    """v5: the class's drawn dataset: its labels and the drawings (cnnlib.classroom.drawings)."""
    datasets.create(conn)
    drawings.create(conn)


def _v6_class_model(conn: Connection) -> None:
    """v6: the model a member shared with the class (cnnlib.classroom.class_model)."""
    class_models.create(conn)


# version -> fn(conn) that takes a database at version - 1 to this version.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _v2_shared_run,
    3: _v3_seats_and_roster,
    4: _v4_hashed_ids_and_rate_limits,
    5: _v5_drawings,
    6: _v6_class_model,
}


def inserted_id(result: CursorResult[Any]) -> int:
    """The id of the row a one-row insert() just added (SQLAlchemy types `inserted_primary_key` as
    Optional; a one-row insert() of a table with an integer primary key always has one)."""
    key = result.inserted_primary_key
    assert key is not None
    return key[0]


def current_version(conn: Connection) -> int:
    """The schema version stamped in the database; 0 when it has no tables yet."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.scalar(select(func.max(schema_version.c.version))) or 0


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(schema_version.delete())
    conn.execute(schema_version.insert().values(id=1, version=version, migrated_at=time.time()))


def ensure_schema(write_engine: Engine, latest: int = SCHEMA_VERSION) -> int:
    """Create or migrate the tables up to `latest`; return the version it was at before."""
    with write_engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: one migrator at a time
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_ID})
        before = current_version(conn)
        if before > latest:
            raise ClassUnavailable(
                f"Class features are unavailable: the class database is at schema version {before}, newer "
                f"than this app understands ({latest}). Update the app, or point CNN_CLASSROOM_DB elsewhere."
            )
        if before == 0:
            metadata.create_all(conn)
            _stamp(conn, latest)
            return 0
        for version in range(before + 1, latest + 1):
            MIGRATIONS[version](conn)
        if before != latest:
            _stamp(conn, latest)
        return before
