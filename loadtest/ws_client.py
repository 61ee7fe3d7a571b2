"""A light Streamlit client speaking the browser's websocket protocol, for load tests.

One `StreamlitSession` is one browser tab: it opens `ws://127.0.0.1:<port>/_stcore/stream`,
sends `BackMsg.rerun_script` (a `ClientState` with query string, page name or page script hash,
widget states, fragment id) exactly as Streamlit's frontend does (see `sendRerunBackMsg` in
streamlit/static/static/js/index.*.js), and reads `ForwardMsg`s (new_session, delta,
auto_rerun, script_finished, ...) until the run's `script_finished`. A run's time is from sending
the rerun to receiving `script_finished` (what the browser shows as "running" until idle).

Like the browser, the client keeps a forward-message cache: cacheable messages (big
`new_element` deltas, e.g. a component carrying plotly.js) are stored by hash and their hashes
sent back in `cached_message_hashes`, so the server sends a `ref_hash` reference on later runs of
the same session instead of the full message. The client only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

DONE_STATUSES = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
# Element fields whose string values are what a reader of the page sees.
_TEXT_FIELDS = ("body", "label", "text", "message", "value", "caption", "delta")


class ClientError(RuntimeError):
    """The session broke: disconnected, timed out, or the server refused it."""


# --------------------------------------------------------------------------- encoding


def widget_state(wid: str, **value: Any) -> WidgetState:
    """One WidgetState: `widget_state(id, trigger_value=True)`, `json_value="..."`, ..."""
    if len(value) != 1:
        raise ValueError("give exactly one value field")
    ws = WidgetState(id=wid)
    ((name, v),) = value.items()
    if name in ("string_array_value", "int_array_value", "double_array_value"):
        getattr(ws, name).data.extend(v)  # a message field: filled in, not assigned
    else:
        setattr(ws, name, v)
    return ws


def uploader_state(wid: str, session_id: str, file_id: str, name: str, size: int) -> WidgetState:
    """A file uploader's value after one file was PUT (`put_file`): the browser's UploadedFileInfo."""
    ws = WidgetState(id=wid)
    info = ws.file_uploader_state_value.uploaded_file_info.add()
    info.file_id, info.name, info.size = file_id, name, size
    url = f"/_stcore/upload_file/{session_id}/{file_id}"
    info.file_urls.file_id, info.file_urls.upload_url, info.file_urls.delete_url = file_id, url, url
    return ws


def put_file(port: int, session_id: str, data: bytes, file_id: str = "", filename: str = "upload.bin") -> int:
    """PUT one file to the session's upload URL as the browser's uploader sends it (multipart, one
    part, an XSRF cookie/header pair of its own making); the HTTP status (204 stored, 413 refused)."""
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    token = generate_xsrf_token_string()
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("PUT", f"/_stcore/upload_file/{session_id}/{file_id or uuid.uuid4()}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + len(data) + len(tail)))
        conn.putheader("X-Xsrftoken", token)
        conn.putheader("Cookie", f"_streamlit_xsrf={token}")
        conn.endheaders()
        for part in (head, data, tail):
            conn.send(part)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def encode_rerun(
    *,
    page_name: str = "",
    page_script_hash: str = "",
    query_string: str = "",
    widgets: list[WidgetState] | None = None,
    fragment_id: str = "",
    is_auto_rerun: bool = False,
    cached_message_hashes: list[str] | None = None,
) -> bytes:
    """Serialise a `BackMsg.rerun_script` the way the browser sends it."""
    msg = BackMsg()
    cs = msg.rerun_script
    cs.query_string = query_string
    cs.page_script_hash = page_script_hash
    cs.page_name = page_name
    cs.fragment_id = fragment_id
    cs.is_auto_rerun = is_auto_rerun
    cs.widget_states.SetInParent()
    for w in widgets or []:
        cs.widget_states.widgets.append(w)
    cs.cached_message_hashes.extend(cached_message_hashes or [])
    ci = cs.context_info
    ci.timezone = "UTC"
    ci.timezone_offset = 0
    ci.locale = "en-US"
    ci.is_embedded = False
    ci.color_scheme = "light"
    return msg.SerializeToString()


def element_texts(element: Any) -> list[str]:
    """The visible strings of one `Element` proto (markdown body, metric label/value, ...)."""
    kind = element.WhichOneof("type")
    if kind is None:
        return []
    sub = getattr(element, kind)
    out = []
    for name in _TEXT_FIELDS:
        try:
            val = getattr(sub, name)
        except AttributeError:
            continue
        if isinstance(val, str) and val:
            out.append(val)
    return out


def canvas_state_json(image_png: bytes, objects: list[dict] | None = None) -> str:
    """The drawable canvas' widget value after a stroke: Fabric JSON plus a PNG data URL."""
    url = "data:image/png;base64," + base64.b64encode(image_png).decode("ascii")
    raw = {"version": "7.0.0", "objects": objects or [{"type": "Path", "path": [], "stroke": "#FFFFFF"}]}
    return json.dumps({"drawing": {"raw": raw, "data": url}, "backgroundFit": None})


def digit_png(size: int = 280, digit: str = "7") -> bytes:
    """A white-on-black hand-drawn-looking digit, RGBA PNG, as the canvas would send it."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    d = ImageDraw.Draw(img)
    s = size / 280
    w = max(2, int(22 * s))
    if digit == "1":
        d.line([(140 * s, 50 * s), (140 * s, 230 * s)], fill=(255, 255, 255, 255), width=w)
    else:  # a 7
        d.line([(80 * s, 60 * s), (200 * s, 60 * s), (120 * s, 230 * s)], fill=(255, 255, 255, 255), width=w)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- the session


@dataclass
class RunResult:
    """One script run as the browser would see it."""

    seconds: float  # rerun sent -> script_finished
    first_delta_s: float | None  # rerun sent -> first element
    status: int
    elements: list[Any] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # seconds from send to each element
    fragments: list[str] = field(default_factory=list)  # the fragment each element was drawn in ("" = none)
    blocks: list[tuple[Any, str]] = field(default_factory=list)  # (Block, fragment id) of each container
    bytes_in: int = 0  # bytes received for this run (references count as their own size)
    exceptions: list[str] = field(default_factory=list)
    errors_shown: list[str] = field(default_factory=list)  # st.error boxes (not failures)

    def texts(self) -> list[str]:
        return [t for e in self.elements for t in element_texts(e)]

    def first_matching(self, pattern: Any) -> float | None:
        """Seconds from send to the first element whose text matches the compiled `pattern`."""
        for el, t in zip(self.elements, self.arrived, strict=True):
            if any(pattern.search(x) for x in element_texts(el)):
                return t
        return None

    def metrics(self) -> list[tuple[str, str]]:
        """(label, value) of every `st.metric` in the run."""
        return [(e.metric.label, e.metric.body) for e in self.elements if e.WhichOneof("type") == "metric"]

    def widget_id(self, key: str, kind: str | None = None) -> str | None:
        """The id of the widget with user key `key` (ids end in `-<key>`): an element, or a container
        that is a widget too (a keyed popover, expander or tabs with on_change="rerun")."""
        for e in [*self.elements, *(b for b, _ in self.blocks)]:
            k = e.WhichOneof("type")
            if kind and k != kind:
                continue
            wid = getattr(getattr(e, k), "id", "") if k else ""
            if isinstance(wid, str) and wid.endswith("-" + key):
                return wid
        return None

    def widget_ids(self, prefix: str) -> list[str]:
        """Ids of the element widgets whose user key starts with `prefix` ("class_answer_")."""
        out = []
        for e in self.elements:
            k = e.WhichOneof("type")
            wid = getattr(getattr(e, k), "id", "") if k else ""
            if isinstance(wid, str) and "-" + prefix in wid:
                out.append(wid)
        return out

    def fragment_of(self, element_id: str) -> str:
        """The fragment the element (widget, component) with this id was drawn in: a browser sends a
        change of it as a rerun of that fragment only (`StreamlitSession.run(fragment_id=...)`)."""
        for e, frag in [*zip(self.elements, self.fragments, strict=True), *self.blocks]:
            k = e.WhichOneof("type")
            if k and getattr(getattr(e, k), "id", None) == element_id:
                return frag
        return ""

    def components(self, name_part: str) -> list[str]:
        """Ids of components-v2 elements whose component name contains `name_part`."""
        return [
            e.bidi_component.id
            for e in self.elements
            if e.WhichOneof("type") == "bidi_component" and name_part in e.bidi_component.component_name
        ]


class StreamlitSession:
    """One browser tab against a Streamlit server on loopback."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 120.0,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise ValueError("the load client only targets 127.0.0.1")
        self.url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.timeout = timeout
        self.cookies = cookies or {}  # sent with the websocket's handshake, as a browser sends its cookies
        self.headers = headers or {}  # more handshake headers (an X-Forwarded-For, as nginx adds it)
        self.ws = None
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash ("" = main)
        self.session_id = ""
        self.auto_reruns: dict[str, float] = {}  # fragment_id -> interval (s)
        # Where the tab is, as the browser's address bar says it: the page of the last run (a
        # st.switch_page moves it) and the query string the app last wrote (page_info_changed).
        self.page_hash = ""
        self.query_string = ""
        # The widget values this tab has set (the browser's WidgetStateManager): `rerun_here` sends
        # them all with every click, as the browser does; a trigger (a button) is sent once.
        self.widget_values: dict[str, WidgetState] = {}
        self.closed_reason: str | None = None
        self._queue: asyncio.Queue[tuple[ForwardMsg, int] | None] = asyncio.Queue()
        self._reader: asyncio.Task | None = None
        self.bytes_in = 0
        self.cache: dict[str, ForwardMsg] = {}  # hash -> cacheable message (browser's cache)
        self.cache_hits = 0

    async def connect(self) -> float:
        t0 = time.perf_counter()
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await connect(
            self.url,
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=self.timeout,
            compression=None,
            additional_headers=headers or None,
        )
        self._reader = asyncio.create_task(self._read())
        return time.perf_counter() - t0

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.bytes_in += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._queue.put_nowait((msg, len(raw)))
        except ConnectionClosed as exc:
            self.closed_reason = f"connection closed: {exc}"
        except Exception as exc:  # noqa: BLE001
            self.closed_reason = f"reader failed: {exc!r}"
        finally:
            if self.closed_reason is None:
                self.closed_reason = "connection closed by server"
            self._queue.put_nowait(None)

    def _drain(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                raise ClientError(self.closed_reason or "closed")
            try:
                self._note(self._resolve(item[0]))
            except ClientError:
                pass  # a stray reference between runs: nothing to render

    def _resolve(self, msg: ForwardMsg) -> ForwardMsg:
        """Swap a `ref_hash` reference for the cached message; cache cacheable messages."""
        if msg.WhichOneof("type") == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                raise ClientError(f"server referenced a message not in the cache: {msg.ref_hash}")
            self.cache_hits += 1
            full = ForwardMsg()
            full.CopyFrom(cached)
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = msg
        return msg

    def _note(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            self.session_id = ns.initialize.session_id or self.session_id
            self.page_hash = ns.page_script_hash or self.page_hash
            self._learn_pages(ns.app_pages)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "navigation":  # pages-folder apps list their pages here (1.67), and the page on screen
            self._learn_pages(msg.navigation.app_pages)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)

    def _learn_pages(self, app_pages: Any) -> None:
        for p in app_pages:
            # URL names use "_" where the page name has a space ("shape_calculator").
            self.pages[p.url_pathname.replace(" ", "_")] = p.page_script_hash

    async def run(
        self,
        *,
        page_name: str = "",
        page_script_hash: str = "",
        widgets: list[WidgetState] | None = None,
        fragment_id: str = "",
        is_auto_rerun: bool = False,
        query_string: str = "",
    ) -> RunResult:
        """Send one rerun_script and collect the run until script_finished."""
        self._drain()
        if not fragment_id:
            self.auto_reruns.clear()  # the browser drops its timers on a full rerun
        self.query_string = query_string  # the address bar the browser sends it from
        t0 = time.perf_counter()
        await self.ws.send(
            encode_rerun(
                page_name=page_name,
                page_script_hash=page_script_hash,
                query_string=query_string,
                widgets=widgets,
                fragment_id=fragment_id,
                is_auto_rerun=is_auto_rerun,
                cached_message_hashes=list(self.cache),
            )
        )
        res = RunResult(seconds=0.0, first_delta_s=None, status=-1)
        deadline = t0 + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ClientError(f"no script_finished within {self.timeout:.0f} s")
            try:
                item = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                raise ClientError(f"no script_finished within {self.timeout:.0f} s") from None
            if item is None:
                raise ClientError(self.closed_reason or "closed")
            msg = self._resolve(item[0])
            res.bytes_in += item[1]
            self._note(msg)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
                res.blocks.append((msg.delta.add_block, msg.delta.fragment_id))
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                now = time.perf_counter() - t0
                if res.first_delta_s is None:
                    res.first_delta_s = now
                res.elements.append(el)
                res.arrived.append(now)
                res.fragments.append(msg.delta.fragment_id)
                et = el.WhichOneof("type")
                if et == "exception":
                    res.exceptions.append(f"{el.exception.type}: {el.exception.message}")
                elif et == "alert" and el.alert.format == el.alert.ERROR:
                    res.errors_shown.append(el.alert.body)
            elif (
                kind == "session_event"
                and msg.session_event.WhichOneof("type") == "script_compilation_exception"
            ):
                ex = msg.session_event.script_compilation_exception
                res.exceptions.append(f"compile error {ex.type}: {ex.message}")
            elif kind == "page_not_found":
                res.exceptions.append(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                # st.rerun / st.switch_page: the page the browser keeps is the next run's
                res.elements.clear()
                res.arrived.clear()
                res.fragments.clear()
                res.blocks.clear()
            elif kind == "script_finished" and msg.script_finished in DONE_STATUSES:
                res.status = msg.script_finished
                res.seconds = time.perf_counter() - t0
                return res

    async def rerun_here(
        self, widgets: list[WidgetState] | None = None, *, fragment_id: str = "", is_auto_rerun: bool = False
    ) -> RunResult:
        """A rerun of the page the tab is on, with its address bar's query string and every widget
        value the tab holds: what the browser sends for a click (a fragment's id when the widget is
        inside one). Values of widgets a full run no longer draws are forgotten, as the browser does."""
        sent = dict(self.widget_values)
        for w in widgets or []:
            sent[w.id] = w
            if w.WhichOneof("value") != "trigger_value":
                self.widget_values[w.id] = w
        res = await self.run(
            page_script_hash=self.page_hash,
            query_string=self.query_string,
            widgets=list(sent.values()),
            fragment_id=fragment_id,
            is_auto_rerun=is_auto_rerun,
        )
        if not fragment_id:
            drawn = {getattr(getattr(e, k), "id", "") for e in [*res.elements, *(b for b, _ in res.blocks)]
                     if (k := e.WhichOneof("type"))}  # fmt: skip
            self.widget_values = {k: v for k, v in self.widget_values.items() if k in drawn}
        return res

    async def open_page(self, slug: str, *, via_link: bool = True) -> RunResult:
        """Go to a page: by its script hash as a `st.page_link` click does, or by URL name."""
        if via_link and slug in self.pages:
            return await self.run(page_script_hash=self.pages[slug])
        return await self.run(page_name=slug)

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:  # noqa: BLE001
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
