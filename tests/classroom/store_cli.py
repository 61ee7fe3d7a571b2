"""A tiny command line over ClassStore, for tests that need a second process on the same database.

    python -m tests.classroom.store_cli URL create TITLE              -> {"code", "teacher_key"}
    python -m tests.classroom.store_cli URL students CODE NAME N POLL [--start-at EPOCH]
        N students join as NAME (made unique), answer POLL (options in turn) and post a run each
        -> {"ids": [...], "names": [...], "errors": [...]}
    python -m tests.classroom.store_cli URL board CODE                -> the board as JSON

Run from the repository root. Prints one JSON line; ClassError messages go into "errors"/"error".
"""

from __future__ import annotations

import argparse
import json
import time

from cnnlib.classroom import ClassError, ClassStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("title")
    s = sub.add_parser("students")
    s.add_argument("code")
    s.add_argument("name")
    s.add_argument("n", type=int)
    s.add_argument("poll", type=int)
    s.add_argument("--start-at", type=float, default=0.0)
    b = sub.add_parser("board")
    b.add_argument("code")
    args = ap.parse_args()
    store = ClassStore.open(args.url)
    try:
        if args.cmd == "create":
            info = store.create_class(args.title)
            out = {"code": info.code, "teacher_key": info.teacher_key}
        elif args.cmd == "board":
            out = {"board": store.board(args.code)}
        else:
            options = list(store.poll(args.code, args.poll))
            time.sleep(max(0.0, args.start_at - time.time()))
            out = {"ids": [], "names": [], "errors": []}
            for i in range(args.n):
                try:
                    sid, name = store.join_as(args.code, args.name)
                    store.answer(args.code, args.poll, sid, options[i % len(options)])
                    store.post_run(args.code, sid, {"accuracy": (i % 10) / 10, "params": 1000 + i})
                    out["ids"].append(sid)
                    out["names"].append(name)
                except ClassError as e:
                    out["errors"].append(str(e))
    except ClassError as e:
        out = {"error": str(e)}
    finally:
        store.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
