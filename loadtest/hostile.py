"""The hostile phase of the load test (issue 24): one client attacks while N students browse, train and draw.

N websocket students (loadtest/ws_client.py) keep going through the pages at a classroom's pace (a
page every `--hostile-think` seconds on average): a share of them press Train on the Training page
and watch their run's live chart for a while, then press Stop; a share draw a digit on Draw & predict.
After a warm-up and a quiet window (the baseline), one more client, the attacker, sends in turn:

- `tiny_zip`: a zip of 5,000 tiny 8x8 PNGs as a Training dataset at image size 256 (838 KB; 16.3 GB
  peak before the fix);
- `pixel_bomb`: a zip of 4,100 blank 5000x5000 16-bit PNGs (1.4 MB; 45-85 CPU-minutes before);
- `oversized_train`: `/training?model=<a Conv2d with padding 500>` and Train (+2 GB before the refusal);
- `oversized_slow`: the same model in "One step in slow motion" at its default batch (about 15 GB before);
- `upload_flood`: 40 PUTs of 20 MB to its own session's upload URL, never a rerun, then it leaves
  (+800 MB held for minutes before);
- `join_flood`: 500 joins as "Ana" from one client into the class (the class full for everyone before);
- `long_runs`: four tabs of one student of the class, each pressing Train with 500 epochs.

Each attack is a window: the students' page opens inside it (median, p95), errors, the server's peak
RSS and CPU seconds, and what the attacker's page said (the refusal). After the last one the
attacker has gone; 60 s later the server's RSS is read against the baseline's (target: within 10 %).
Targets (issue 24): page opens p95 <= 1 s in every window, RSS under 1.5 GB, 0 errors for the others.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from loadtest.harness import PAGES, Plan, Server, cpu_seconds, loadavg, med, pct
from loadtest.memory import MB, RssSampler
from loadtest.ws_client import (
    ClientError,
    RunResult,
    StreamlitSession,
    canvas_state_json,
    digit_png,
    put_file,
    uploader_state,
    widget_state,
)

ATTACKS = [
    "tiny_zip",
    "pixel_bomb",
    "oversized_train",
    "oversized_slow",
    "upload_flood",
    "join_flood",
    "long_runs",
]
# Attacks refused at once are sent again and again for the window; a flood or a queue is sent once.
REPEATED = {"tiny_zip", "pixel_bomb", "oversized_train", "oversized_slow", "upload_flood"}
SLOW_TAB = ":material/slow_motion_video: One step in slow motion"


@dataclass
class Log:
    """What the students saw, time-stamped, so that each attack's window can be cut out of it."""

    opens: list[tuple[float, float]] = field(default_factory=list)  # (monotonic end, seconds)
    actions: list[tuple[float, str, float]] = field(default_factory=list)  # train / draw / tick
    errors: list[tuple[float, str]] = field(default_factory=list)

    def page(self, res: RunResult) -> None:
        self.opens.append((time.monotonic(), res.seconds))
        self.errors.extend((time.monotonic(), e) for e in res.exceptions)

    def action(self, kind: str, res: RunResult) -> None:
        self.actions.append((time.monotonic(), kind, res.seconds))
        self.errors.extend((time.monotonic(), e) for e in res.exceptions)


# --------------------------------------------------------------------------- the students


async def train_once(
    s: StreamlitSession, res: RunResult, log: Log, stop: asyncio.Event, watch: float
) -> None:
    """Press Train, replay the live chart's timer for `watch` seconds, press Stop."""
    wid = res.widget_id("train_start")
    if wid is None:
        return
    r = await s.rerun_here([widget_state(wid, trigger_value=True)])
    log.action("Train pressed", r)
    end = time.monotonic() + watch
    while time.monotonic() < end and not stop.is_set() and s.auto_reruns:
        fid, interval = next(iter(s.auto_reruns.items()))
        await asyncio.sleep(max(0.5, interval))
        log.action("live chart tick", await s.rerun_here(fragment_id=fid, is_auto_rerun=True))
    stop_id = r.widget_id("train_stop")
    if stop_id is not None:
        log.action("Stop pressed", await s.rerun_here([widget_state(stop_id, trigger_value=True)]))


async def draw_once(s: StreamlitSession, res: RunResult, log: Log) -> None:
    ids = res.components("drawable_canvas")
    if not ids:
        return
    fragment = res.fragment_of(ids[0])
    for digit in ("7", "1"):
        state = widget_state(ids[0], json_value=canvas_state_json(digit_png(280, digit)))
        log.action("draw (prediction)", await s.rerun_here([state], fragment_id=fragment))
        await asyncio.sleep(1.0)


async def student(
    i: int, base: str, role: str, log: Log, stop: asyncio.Event, plan: Plan, think: float
) -> None:
    """Round and round the pages until the phase ends, at a classroom's pace."""
    rng = random.Random(1000 + i)
    s = StreamlitSession(base, timeout=plan.timeout)
    try:
        await s.connect()
        log.page(await s.run(page_name=""))
        while not stop.is_set():
            for page in PAGES[1:]:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
                if stop.is_set():
                    return
                r = await s.open_page(page)
                log.page(r)
                if page == "training" and role == "train":
                    await train_once(s, r, log, stop, plan.train_watch)
                elif page == "draw_and_predict" and role == "draw":
                    await draw_once(s, r, log)
    except ClientError as exc:
        log.errors.append((time.monotonic(), f"student {i}: {exc}"))
    finally:
        await s.close()


# --------------------------------------------------------------------------- the attacker


def shown(r: RunResult) -> list[str]:
    """The error and warning texts a page showed (what the attacker was told), shortened."""
    out = list(r.errors_shown)
    for e in r.elements:
        if e.WhichOneof("type") == "alert" and e.alert.body not in out:
            out.append(e.alert.body)
    return [t.replace("\n", " ")[:160] for t in out]


async def open_training(base: str, query: str = "") -> tuple[StreamlitSession, RunResult]:
    s = StreamlitSession(base, timeout=180)
    await s.connect()
    return s, await s.run(page_name="training", query_string=query)


async def zip_attack(server: Server, data: bytes, side: int) -> dict:
    """A zip as the Training page's dataset: the expander open, "Your own images (zip)", the upload."""
    from cnnlib.data import DATASETS

    s, r = await open_training(server.base)
    try:
        opened = r.widget_id("train_settings_open")
        data_id = r.widget_id("tr_dataset")
        if not (opened and data_id):
            return {"said": ["no settings on the Training page"]}
        r = await s.rerun_here(
            [
                widget_state(opened, bool_value=True),
                widget_state(data_id, string_value=DATASETS["upload"].title),
            ]
        )
        zip_id, size_id = r.widget_id("tr_zip"), r.widget_id("tr_zip_size")
        if not (zip_id and size_id):
            return {"said": ["no zip uploader after choosing 'upload'"]}
        file_id = str(uuid.uuid4())
        code = await asyncio.to_thread(put_file, server.port, s.session_id, data, file_id, "classes.zip")
        t0 = time.perf_counter()
        r = await s.rerun_here(
            [
                uploader_state(zip_id, s.session_id, file_id, "classes.zip", len(data)),
                widget_state(size_id, int_value=side),
            ]
        )
        return {"put": code, "refused_in_s": time.perf_counter() - t0, "said": shown(r)}
    finally:
        await s.close()


async def oversized(server: Server, slow: bool) -> dict:
    from cnnlib.spec import ModelSpec, spec_to_token
    from tests.hostile.cases import OVERSIZED_LINK_SPEC

    token = spec_to_token(ModelSpec.from_dict(OVERSIZED_LINK_SPEC))
    s, r = await open_training(server.base, f"model={token}")
    try:
        t0 = time.perf_counter()
        if slow:
            tab = r.widget_id("train_tab")
            if tab is None:
                return {"said": ["no tabs on the Training page"]}
            r = await s.rerun_here([widget_state(tab, string_value=SLOW_TAB)])
        else:
            train = r.widget_id("train_start")
            if train is None:
                return {"said": ["no Train button"]}
            r = await s.rerun_here([widget_state(train, trigger_value=True)])
        return {"refused_in_s": time.perf_counter() - t0, "said": shown(r)}
    finally:
        await s.close()


async def upload_flood(server: Server, files: int = 40, mb: float = 20.0) -> dict:
    import os

    s = StreamlitSession(server.base, timeout=120)
    await s.connect()
    await s.run(page_name="")
    data = os.urandom(int(mb * 1e6))
    codes: Counter[int] = Counter()
    for _ in range(files):
        codes[
            await asyncio.to_thread(put_file, server.port, s.session_id, data, str(uuid.uuid4()), "flood.bin")
        ] += 1
    await s.close()  # the tab goes: what it stored must be released
    return {"codes": dict(codes), "said": [f"{n} x HTTP {c}" for c, n in sorted(codes.items())]}


# The attacker's one address, as nginx (or a platform's router) reports it in X-Forwarded-For: the
# server sees every client from loopback here, and a loopback peer is taken for a proxy.
ATTACKER = {"X-Forwarded-For": "10.20.30.40"}


async def join(
    base: str, code: str, name: str, cookie: str | None = None
) -> tuple[StreamlitSession, RunResult]:
    s = StreamlitSession(base, timeout=120, cookies={"cc_seat": cookie} if cookie else None, headers=ATTACKER)
    await s.connect()
    r = await s.run(page_name="", query_string=f"class={code}")
    name_id, submit = r.widget_id("class_invite_name"), r.widget_id("class_invite_submit")
    if name_id and submit:
        r = await s.rerun_here(
            [widget_state(name_id, string_value=name), widget_state(submit, trigger_value=True)]
        )
    return s, r


async def join_flood(server: Server, code: str, store, joins: int = 500, at_once: int = 20) -> dict:
    said: Counter[str] = Counter()
    sem = asyncio.Semaphore(at_once)

    async def one() -> None:
        async with sem:
            try:
                s, r = await join(server.base, code, "Ana")
                said.update(shown(r)[:1] or ["(joined)"])
                await s.close()
            except ClientError as exc:
                said[f"client error: {exc}"[:80]] += 1

    await asyncio.gather(*(one() for _ in range(joins)))
    seated = await asyncio.to_thread(lambda: store.status(code).students)
    return {"students_in_class": seated, "said": [f"{n} x {t}" for t, n in said.most_common(4)]}


def seat_cookie(r: RunResult) -> str | None:
    """The seat token the page asks the browser to keep (the cc_seat cookie writer's data)."""
    for e in r.elements:
        if e.WhichOneof("type") == "bidi_component" and "cc_seat" in e.bidi_component.component_name:
            try:
                return json.loads(e.bidi_component.json).get("value") or None
            except ValueError:
                return None
    return None


async def long_runs(server: Server, code: str, tabs: int = 4, epochs: int = 500) -> dict:
    """One student, `tabs` tabs (the seat cookie carried to each), each presses Train with 500 epochs."""
    first, r = await join(server.base, code, "Mallory")
    token = seat_cookie(r)
    sessions = [first]
    said: list[str] = []
    try:
        for k in range(tabs):
            if k:
                s = StreamlitSession(
                    server.base, timeout=120, cookies={"cc_seat": token} if token else None, headers=ATTACKER
                )
                await s.connect()
                await s.run(page_name="")
                sessions.append(s)
            s = sessions[k]
            r = await s.open_page("training")
            opened, ep = r.widget_id("train_settings_open"), r.widget_id("tr_ep")
            if opened and ep:
                r = await s.rerun_here(
                    [widget_state(opened, bool_value=True), widget_state(ep, int_value=epochs)]
                )
            train = r.widget_id("train_start")
            if train is None:
                said.append(f"tab {k + 1}: no Train button")
                continue
            r = await s.rerun_here([widget_state(train, trigger_value=True)])
            said.append(f"tab {k + 1}: " + (" | ".join(shown(r)[:2]) or "(run started)"))
            await asyncio.sleep(1.0)
    finally:
        for s in sessions:
            await s.close()
    return {"seat_cookie": bool(token), "said": said}


# --------------------------------------------------------------------------- the phase


def window(log: Log, sampler: RssSampler, t0: float, t1: float, cpu: float) -> dict:
    opens = [s for t, s in log.opens if t0 <= t <= t1]
    acts = [s for t, k, s in log.actions if t0 <= t <= t1 and k != "live chart tick"]
    rss = sampler.between(t0, t1)
    return {
        "seconds": t1 - t0,
        "opens": {
            "n": len(opens),
            "median": med(opens),
            "p95": pct(opens, 95),
            "max": max(opens, default=0.0),
        },
        "actions": {"n": len(acts), "median": med(acts), "p95": pct(acts, 95)},
        "errors": [e for t, e in log.errors if t0 <= t <= t1][:10],
        "rss_peak_mb": max(rss, default=0) / MB,
        "rss_median_mb": med(rss) / MB if rss else 0.0,
        "server_cpu_s": cpu,
        "loadavg": loadavg(),
    }


async def hostile_phase(server: Server, args, plan: Plan, sampler: RssSampler) -> dict:
    """N students at a classroom's pace; an attacker's attacks one by one; the server 60 s after."""
    from cnnlib.classroom import ClassStore
    from tests.hostile.cases import pixel_bomb_zip, tiny_images_zip

    tiny, bomb = tiny_images_zip(5000), pixel_bomb_zip(4100)
    store = ClassStore.open(args.class_db)
    info = store.create_class("Hostile phase")
    log, stop = Log(), asyncio.Event()
    n = args.sessions
    roles = ["train"] * round(n * args.train_share) + ["draw"] * round(n * args.draw_share)
    roles += ["browse"] * (n - len(roles))
    random.Random(args.seed).shuffle(roles)
    tasks = [
        asyncio.create_task(student(i, server.base, roles[i], log, stop, plan, args.hostile_think))
        for i in range(n)
    ]
    out: dict = {"students": n, "roles": dict(Counter(roles)), "windows": {}, "attacks": {}}

    async def timed(label: str, attack=None, quiet: float = 0.0) -> None:
        """One window: the attack once (a flood, a queue) or, for an attack refused at once, again
        and again until `--hostile-window` seconds have passed (a student who keeps trying)."""
        t0, cpu0 = time.monotonic(), cpu_seconds(server.pid)
        result, tries = None, 0
        if attack is None:
            await asyncio.sleep(quiet)
        while attack is not None:
            got = await attack()
            result, tries = result or got, tries + 1
            if label not in REPEATED or time.monotonic() - t0 >= args.hostile_window:
                break
            await asyncio.sleep(0.5)
        t1 = time.monotonic()
        out["windows"][label] = window(log, sampler, t0, t1, cpu_seconds(server.pid) - cpu0)
        if result is not None:
            out["attacks"][label] = {**result, "tries": tries}
        w = out["windows"][label]
        print(
            f"  {label}: {w['seconds']:.0f} s, {tries} tries, opens p95 {w['opens']['p95']:.2f} s "
            f"(n {w['opens']['n']}), RSS peak {w['rss_peak_mb']:.0f} MB, {len(w['errors'])} errors; "
            f"{(result or {}).get('said', '')}",
            flush=True,
        )

    await asyncio.sleep(args.hostile_warmup)  # every student has been round once
    await timed("baseline (no attacker)", quiet=args.hostile_quiet)
    attacks = {
        "tiny_zip": lambda: zip_attack(server, tiny, 256),
        "pixel_bomb": lambda: zip_attack(server, bomb, 32),
        "oversized_train": lambda: oversized(server, slow=False),
        "oversized_slow": lambda: oversized(server, slow=True),
        "upload_flood": lambda: upload_flood(server),
        "join_flood": lambda: join_flood(server, info.code, store),
        "long_runs": lambda: long_runs(server, info.code),
    }
    if not args.hostile_attacks:  # the control: as long as the attacks take, no attacker
        await timed("control: no attacker", quiet=args.hostile_control)
    for name in args.hostile_attacks:
        try:
            await timed(name, attacks[name])
        except ClientError as exc:
            out["attacks"][name] = {"said": [f"attacker's client error: {exc}"]}
        await asyncio.sleep(5)
    t_left = time.monotonic()
    await asyncio.sleep(60)  # the attacker has gone: what it cost must come back
    after = window(log, sampler, t_left + 55, time.monotonic() + 5, 0.0)
    await asyncio.sleep(5)
    out["windows"]["60 s after the attacker left"] = after
    base = out["windows"]["baseline (no attacker)"]["rss_median_mb"]
    out["rss_back_ratio"] = after["rss_median_mb"] / base if base else float("nan")
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    store.close_class(info.code, info.teacher_key)
    store.close()
    out["errors"] = len(log.errors)
    worst = max(
        (w["opens"]["p95"] for w in out["windows"].values() if w["opens"]["n"]),
        default=float("nan"),
    )
    out["summary"] = (
        f"{n} students, {len(args.hostile_attacks)} attacks: worst window page-open p95 {worst:.2f} s, "
        f"RSS peak {max(w['rss_peak_mb'] for w in out['windows'].values()):.0f} MB, 60 s after "
        f"{out['rss_back_ratio']:.2f} x the baseline, {out['errors']} errors for the students"
    )
    return out


def hostile_table(h: dict) -> list[str]:
    """The phase as a markdown table: one row per window."""
    rows = [
        "| window | s | tries | page opens n | median / p95 / max | train, draw n / p95 | server RSS peak | "
        "server CPU s | errors | what the attacker was told |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, w in h["windows"].items():
        o, a = w["opens"], w["actions"]
        said = "; ".join(h["attacks"].get(label, {}).get("said", []))[:300].replace("|", "/")
        rows.append(
            f"| {label} | {w['seconds']:.0f} | {h['attacks'].get(label, {}).get('tries', '-')} | {o['n']} | {o['median']:.2f} / {o['p95']:.2f} / {o['max']:.2f} s | "
            f"{a['n']} / {a['p95']:.2f} s | {w['rss_peak_mb']:.0f} MB | {w['server_cpu_s']:.0f} | "
            f"{len(w['errors'])} | {said} |"
        )
    return rows
