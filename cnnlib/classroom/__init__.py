"""Class sessions for CNN Classroom: live polls, follow-the-teacher and a results board, in a database.

No Streamlit here: the pages call this store and show what it returns. A teacher creates a class
(a short code to read aloud and a long teacher key for the teacher's link); students join with a
nickname; the teacher opens polls with fixed options, reveals them, and moves the class along with
a "follow me" link; students post finished training runs to a ranked board. SQLite in WAL mode is
the default (one app process); PostgreSQL is the same code when several processes share a course
(see deploy/README.md):

    from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable

    store = ClassStore.open()            # url=None: $CNN_CLASSROOM_DB, else SQLite in the data folder
    info = store.create_class("Lesson 3")
    sid = store.join(info.code, "Ana")
    pid = store.open_poll(info.code, info.teacher_key, "Output size of a 3x3 conv on 28x28?", ["26", "28"])
    store.answer(info.code, pid, sid, "26")
    store.poll(info.code, pid)           # {"26": 1, "28": 0}
    store.post_run(info.code, sid, {"accuracy": 0.97, "params": 21840, "link": "/training?lr=0.01"})
    store.board(info.code)               # best first, with rank and rank_per_param
    store.follow(info.code)              # FollowState(version, link, poll_id, poll_state): poll every 1-2 s
    store.projector(info.code)           # ProjectorView: everything the projector shows, one query

Seats and the class list (schema v3):

    token = store.issue_seat(info.code, "student", student_id=sid)       # keep it in a cookie
    token = store.issue_seat(info.code, "teacher", teacher_key=info.teacher_key)
    seat = store.redeem_seat(token)      # Seat(code, role, student_id, nickname, teacher_key, expires_at)
    store.leave(info.code, sid)          # the student stops counting; runs and answers stay
    store.students(info.code, info.teacher_key)  # [ClassMember(student_id, nickname, present), ...]
    store.remove_student(info.code, info.teacher_key, sid)  # with their answers and runs: "Ana"
    store.lock_class(info.code, info.teacher_key, True)     # no new joins; status().locked

For the pages: open one store per process (`st.cache_resource`; it is thread-safe) and catch
`ClassError` around every call, showing its message as text. A student page polls
`follow(code)` every 1-2 s and acts only when `.version` changed (a new link to follow, a poll
opened, revealed or closed); the projector polls `projector(code)` (one query) every 1-2 s. Keep the
student id from `join` in the student's session (or link) and the teacher key only in the
teacher's link; `check_teacher` verifies a teacher link, `nickname` a kept student id.

A seat token keeps a browser's place across a reload and a server restart: after a join (or a
checked teacher link) the page asks `issue_seat` for one and keeps it (a cookie); a fresh session
calls `redeem_seat` first and joins only if that raises ClassError (a token that is forged,
garbled or expired, of a class that ended, of a student who left or was removed: each gives a
message to show). Tokens are HMAC-SHA256 signed with a secret kept in the database, so every app
process and a restarted server accept them; the teacher key is never inside one. Counts
(`status().students`, the projector's headline) are of students present: `leave` takes a student
out of the count. The teacher's panel lists `students` (each present or not), can `remove_student`
(their answers and runs go too, and their seat stops working) and `lock_class` (a locked class
refuses new joins with "Class K7M-Q2R is locked: ask your teacher."; `status().locked` and
`projector().locked` say so). A nickname that could pass for the teacher or another student (a
teacher-like word, letters of two look-alike alphabets, stacked accents) is refused on joining.

Rate limits and stored ids (schema v4, limits.py): pass the browser's address to `join(...,
client=address)` and `create_class(..., client=address)` (`client_address(peer, x_forwarded_for)`
picks it, trusting X-Forwarded-For only from a proxy on this machine or a private network). At
most JOINS_PER_ADDRESS (60) joins a minute from one address (a class behind one school NAT joins
at once), JOINS_PER_CLASS (300) a minute into one class, CLASSES_PER_ADDRESS (5) classes a minute
from one address; past one, a ClassError says when to try again. The tight limit is the page's:
a browser that holds a seat in the class gets it back instead of joining again. The database keeps
a student id only as its hash (`students()` lists those: enough to `remove_student`), and a
client address only as a hash.

The class's drawn dataset (schema v5, drawings.py):

    store.open_dataset(info.code, info.teacher_key, ["circle", "triangle", "star"])
    store.add_drawing(info.code, sid, "circle", pixels)   # 784 bytes: Draw & predict's 28x28 uint8
    store.dataset_info(info.code, sid)  # DatasetInfo(labels, open, counts, mine)
    store.drawings(info.code)           # ClassDataset(labels, images (N, 28, 28) uint8, targets (N,))
    store.close_dataset(info.code, info.teacher_key)     # no more drawings; clear=True deletes them

The class's shared model (schema v6, class_model.py): any member shares one; a later one replaces it.

    store.share_model(info.code, sid, "Ana's CNN", trained.to_bytes(), 0.93, "Our class's drawings")
    store.class_model(info.code, with_data=True)  # ClassModel(name, accuracy, ..., data) or None

Every refusal is a `ClassError` (a ValueError) whose message a student or teacher can act on;
`ClassUnavailable` (a ClassError) means the database cannot be used, and the lesson goes on
without class features. Classes expire after $CNN_CLASSROOM_SESSION_HOURS (default 12) hours.

Modules:

    store.py       ClassStore: one short transaction per call, errors in plain words
    class_model.py the model a member shared with the class: bytes within MAX_MODEL_BYTES (schema v6)
    drawings.py    the class's drawn dataset: labels, drawings (28x28 uint8) within caps (schema v5)
    shared_run.py  the teacher's training run shared for the class to watch (schema v2)
    seats.py       seat tokens: issue (signed, with the class's expiry) and redeem (schema v3)
    limits.py      join and class-start rate limits: token buckets in the database (schema v4)
    roster.py      leaving, the teacher's list of students, removing a student, locking (v3)
    sessions.py    classes, students, the teacher and student checks, follow-me
    polls.py       polls: open, answer (upsert), close/reveal, counts
    board.py       the results board and its two rankings
    projector.py   the projector's view as one UNION ALL query
    ready.py       the teacher's Ready check: timed steps, failures as lines, the memory there is
    records.py     the dataclasses returned (ClassInfo, FollowState, PollInfo, Seat, ...)
    validation.py  nicknames (and look-alikes), text, links, run records, polls: before any query
    codes.py       class codes, teacher keys (hashed, constant-time compare), student ids (stored hashed)
    schema.py      the tables, the schema version and the migrations
    engine.py      the database URL, the engines (SQLite WAL / PostgreSQL), errors in words
    errors.py      ClassError, ClassUnavailable
"""

from __future__ import annotations

from cnnlib.classroom import class_model, codes, drawings, errors, limits, ready, records, store
from cnnlib.classroom.class_model import *  # noqa: F403
from cnnlib.classroom.codes import *  # noqa: F403
from cnnlib.classroom.drawings import *  # noqa: F403
from cnnlib.classroom.errors import *  # noqa: F403
from cnnlib.classroom.limits import *  # noqa: F403
from cnnlib.classroom.ready import *  # noqa: F403
from cnnlib.classroom.records import *  # noqa: F403
from cnnlib.classroom.store import *  # noqa: F403

__all__ = [
    *class_model.__all__,
    *codes.__all__,
    *drawings.__all__,
    *errors.__all__,
    *limits.__all__,
    *ready.__all__,
    *records.__all__,
    *store.__all__,
]
