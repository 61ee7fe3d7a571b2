"""Who is in a class: a student leaving, the teacher's list of students, removing one, locking the class.

Counts are of people, not browser sessions: a student who reloads keeps their seat (seats.py), and
one who leaves (`leave`) stops counting at once. Leaving keeps what the student did (their runs on
the board and their poll answers still count, under their nickname, which stays taken); only the
teacher's `remove_student` deletes a student with their answers and runs, after which their student
id, and so their seat token, no longer works. A locked class (`lock_class`) refuses new joins;
students already in it carry on, and their seats still redeem.

These teacher actions do not bump the class's follow-me version: nothing students follow changes,
and a bump would send auto-following students back to the teacher's page.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from cnnlib.classroom.codes import format_code, is_student_key, student_key
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.records import ClassMember
from cnnlib.classroom.schema import answers, classes, drawings, runs, students
from cnnlib.classroom.sessions import live_class, require_student, require_teacher

__all__: list[str] = []


def leave(conn: Connection, code: str, student_id: object, now: float) -> None:
    """Mark a student as gone: they no longer count; their runs and answers stay (again: no-op)."""
    live_class(conn, code, now)
    student = require_student(conn, code, student_id, present=False)
    if student.left_at is None:
        conn.execute(update(students).where(students.c.id == student.id).values(left_at=now))


def members(conn: Connection, code: str, teacher_key: object, now: float) -> list[ClassMember]:
    """Every student who joined, in the order they joined, and whether they are still present (each
    by the stored key of their id: enough for `remove_student`, useless to act as the student)."""
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "see the list of students")
    rows = conn.execute(
        select(students.c.id, students.c.nickname, students.c.left_at)
        .where(students.c.class_code == code)
        .order_by(students.c.joined_at, students.c.nickname_key)
    )
    return [ClassMember(r.id, r.nickname, r.left_at is None) for r in rows]


def remove_student(conn: Connection, code: str, teacher_key: object, student_id: object, now: float) -> str:
    """Delete a student with their poll answers and board runs; return their nickname. `student_id`:
    the id as `members` lists it (the stored key), or the student's own id."""
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "remove a student")
    student = None
    key = student_id if is_student_key(student_id) else student_key(student_id)
    if key:
        student = conn.execute(
            select(students.c.id, students.c.nickname).where(
                students.c.id == key, students.c.class_code == code
            )
        ).first()
    if student is None:
        raise ClassError(
            f"That student is not in class {format_code(code)} (already removed?): reload the list."
        )
    # The foreign keys cascade too; deleting explicitly does not rely on SQLite's foreign_keys pragma.
    conn.execute(answers.delete().where(answers.c.student_id == student.id))
    conn.execute(runs.delete().where(runs.c.student_id == student.id))
    conn.execute(drawings.delete().where(drawings.c.student_id == student.id))
    conn.execute(students.delete().where(students.c.id == student.id))
    return student.nickname


def lock_class(conn: Connection, code: str, teacher_key: object, locked: object, now: float) -> None:
    """Lock (no new joins) or unlock the class."""
    if not isinstance(locked, bool):
        raise ClassError("Lock the class with True, unlock it with False.")
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "lock or unlock the class")
    conn.execute(update(classes).where(classes.c.code == code).values(locked=locked))
