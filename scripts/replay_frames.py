"""Read the websocket messages a browser test kept of a page that failed (tests/e2e/test_rehearsal.py,
`Person.dump_frames`) and replay them against the frontend's tree rules.

Prints one line per message (direction, time, type, script run, fragment, delta path) and, where a
delta addresses a block the frontend does not have, says so: that is the frontend's "Cannot set a
node at a delta path" / "Bad delta path index" (SetNodeByDeltaPathVisitor), found in Python. A new
page's run starts from an empty tree (a `new_session` with another page hash), as in the browser.
The model is simpler than the frontend (tabs and transient nodes are not modelled), so it may flag
a delta the browser placed: the one that matters is the last flagged before the page error.

    .venv/bin/python scripts/replay_frames.py artifacts/screenshots/frames_Chloé_*.pickle [--all]
"""

from __future__ import annotations

import pickle
import sys

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class Node:
    def __init__(self, block: bool, run: str, fragment: str = "") -> None:
        self.block, self.run, self.fragment = block, run, fragment
        self.children: list[Node | None] = []


def set_at(root: Node, path: list[int], node: Node) -> str | None:
    """Place `node` at `path` as the frontend does; the error text when it cannot."""
    cur = root
    for depth, i in enumerate(path):
        last = depth == len(path) - 1
        if i < 0 or i > len(cur.children):
            return f"Bad delta path index {i} (should be between [0, {len(cur.children)}]) at depth {depth}"
        if i == len(cur.children) or cur.children[i] is None:
            if not last:
                return f"Cannot set a node at a delta path (missing block at {path[: depth + 1]})"
            while len(cur.children) <= i:
                cur.children.append(None)
            cur.children[i] = node
            return None
        if last:
            old = cur.children[i]
            if node.block and old is not None and old.block:
                node.children = old.children  # the frontend keeps a block's children (AppRoot.addBlock)
            cur.children[i] = node
            return None
        if not cur.children[i].block:
            return f"element, not a block, at {path[: depth + 1]}"
        cur = cur.children[i]
    return None


def clear_stale(node: Node, run: str, fragments: set[str], inside: bool = False) -> Node | None:
    """The frontend's clearStaleNodes: a full run drops every node it did not send (the rest move up:
    indices shift); a fragment run only what it did not send inside its fragments."""
    in_frag = inside or node.fragment in fragments
    if fragments and not in_frag and not node.block:
        return node
    if node.block:
        node.children = [
            k for k in (clear_stale(c, run, fragments, in_frag) for c in node.children if c) if k
        ]
        if fragments and not in_frag:
            return node
    return node if node.run == run or node.run == "" else None


def main() -> None:
    data = pickle.loads(open(sys.argv[1], "rb").read())
    show_all = "--all" in sys.argv
    print("where:", data["where"])
    print("errors:", [e[:80] for e in data["errors"][:3]])
    frames = data["frames"]
    t0 = frames[0][1]
    root = Node(True, "")
    for _ in range(4):  # main, sidebar, event, bottom
        root.children.append(Node(True, ""))
    run, fragments, page = "", set(), None
    lines = []
    for direction, t, raw in frames:
        if direction == "out":
            msg = BackMsg()
            try:
                msg.ParseFromString(raw)
            except Exception:  # noqa: BLE001
                continue
            kind = msg.WhichOneof("type")
            extra = ""
            if kind == "rerun_script":
                extra = f"fragment={msg.rerun_script.fragment_id[:8]} page={msg.rerun_script.page_script_hash[:6]}"
            lines.append(f"{t - t0:8.3f} OUT {kind} {extra}")
            continue
        msg = ForwardMsg()
        try:
            msg.ParseFromString(raw)
        except Exception:  # noqa: BLE001
            continue
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            run = msg.metadata.run.script_run_id
            fragments = set(msg.metadata.run.fragment_ids)
            if page is not None and msg.new_session.page_script_hash != page:
                # Another page: the frontend starts from an empty tree (what a run of it draws).
                root.children = [Node(True, "") for _ in range(4)]
                lines.append(
                    f"{t - t0:8.3f} IN  (page {page[:8]} -> {msg.new_session.page_script_hash[:8]}: tree cleared)"
                )
            page = msg.new_session.page_script_hash
            lines.append(
                f"{t - t0:8.3f} IN  new_session run={run[:6]} fragments={[f[:8] for f in fragments]}"
            )
        elif kind == "delta":
            path = list(msg.metadata.delta_path)
            dkind = msg.delta.WhichOneof("type")
            block = dkind == "add_block"
            frag = msg.delta.fragment_id
            err = set_at(root.children[0] if False else root, path, Node(block, run, frag))
            mark = f"   <<< {err}" if err else ""
            if show_all or err:
                lines.append(f"{t - t0:8.3f} IN  delta {dkind} {path} frag={frag[:8]}{mark}")
        elif kind == "script_finished":
            status = msg.script_finished
            clear_stale(root, run, fragments)
            lines.append(
                f"{t - t0:8.3f} IN  script_finished {status} run={msg.metadata.run.script_run_id[:6]}"
            )
        else:
            extra = ""
            if kind == "auto_rerun":
                extra = f"every {msg.auto_rerun.interval} s fragment={msg.auto_rerun.fragment_id[:8]}"
            elif kind == "session_status_changed":
                extra = f"running={msg.session_status_changed.script_is_running}"
            lines.append(f"{t - t0:8.3f} IN  {kind} {extra}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
