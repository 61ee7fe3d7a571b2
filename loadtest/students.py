"""The virtual students of the load test: websocket sessions that browse, train, draw and join a
class, and real Chromium tabs (measured in a phase of their own, so they do not take the server's cores)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import defaultdict

from loadtest.chromium import CHROMIUM, CHROMIUM_ARGS
from loadtest.harness import (
    ANSWER_RE,
    DONE_RE,
    NUMBER_RE,
    PAGES,
    QUEUE_POS_RE,
    QUEUE_RE,
    SPEED_LABEL_RE,
    SPEED_RE,
    Plan,
    Server,
    Stats,
    cpu_seconds,
    think,
    time_left,
)
from loadtest.ws_client import (
    ClientError,
    RunResult,
    StreamlitSession,
    canvas_state_json,
    digit_png,
    widget_state,
)


async def stay_until_measured(s: StreamlitSession, stats: Stats, ok: bool, hold: asyncio.Event) -> None:
    """A student who got through stays connected (a tab left open) until the whole phase has been
    measured, then leaves; one who failed leaves at once."""
    try:
        if ok:
            stats.sessions_done += 1
            await hold.wait()
    finally:
        await s.close()


async def watch_training(
    s: StreamlitSession, stats: Stats, page_hash: str, plan: Plan, first: RunResult
) -> None:
    """Replay the page's fragment auto-reruns (the browser's timers) while training runs."""
    texts = first.texts()
    t_end = time.monotonic() + min(plan.train_watch, max(0.0, time_left(plan)))
    speeds: list[float] = []
    saw_queue = any(QUEUE_RE.search(t) for t in texts)
    while time.monotonic() < t_end and s.auto_reruns:
        fid, interval = next(iter(s.auto_reruns.items()))
        await asyncio.sleep(max(0.1, interval))
        r = await s.run(page_script_hash=page_hash, fragment_id=fid, is_auto_rerun=True)
        stats.train_ticks.append(r.seconds)
        stats.exceptions.extend(f"training tick: {e}" for e in r.exceptions)
        texts = r.texts()
        saw_queue = saw_queue or any(QUEUE_RE.search(t) for t in texts)
        for label, value in r.metrics():  # e.g. "Speed (images/s)" = "2,149"
            m = NUMBER_RE.search(value)
            if SPEED_LABEL_RE.search(label) and m:
                speeds.append(float(m.group(0).replace(",", "")))
        for t in texts:
            stats.queue_positions.update(int(m.group(1)) for m in QUEUE_POS_RE.finditer(t))
            for m in SPEED_RE.finditer(t):
                speeds.append(float(m.group(1).replace(",", "")))
        if any(DONE_RE.search(t) for t in texts) and speeds:
            break
    if speeds:
        stats.throughput.append(speeds[-1])
    else:
        stats.train_notes.append("no samples/s shown" + (" (queued)" if saw_queue else ""))
    if saw_queue:
        stats.train_notes.append("saw a queue message")


async def press_train(s: StreamlitSession, stats: Stats, res: RunResult, plan: Plan, barrier=None) -> None:
    wid = res.widget_id("train_start")
    if wid is None:
        stats.train_notes.append("no Train button (key train_start) on the page")
        return
    page_hash = s.pages.get("training", "")
    if barrier is not None:
        await barrier.wait()
    r = await s.run(page_script_hash=page_hash, widgets=[widget_state(wid, trigger_value=True)])
    stats.train_click.append(r.seconds)
    stats.record("training (Train pressed)", r)
    await watch_training(s, stats, page_hash, plan, r)
    stop = r.widget_id("train_stop")
    if barrier is not None and stop is not None:  # burst students press Stop at the end
        r2 = await s.run(page_script_hash=page_hash, widgets=[widget_state(stop, trigger_value=True)])
        stats.record("training (Stop pressed)", r2)


async def draw(s: StreamlitSession, stats: Stats, res: RunResult, plan: Plan) -> None:
    ids = res.components("drawable_canvas")
    if not ids:
        stats.canvas_notes.append("no drawable canvas on the page")
        return
    page_hash = s.pages.get("draw_and_predict", "")
    fragment = res.fragment_of(ids[0])  # a stroke reruns the drawing's fragment, as a browser sends it
    for i in range(plan.draws):
        png = digit_png(280, "7" if i % 2 == 0 else "1")
        r = await s.run(
            page_script_hash=page_hash,
            widgets=[widget_state(ids[0], json_value=canvas_state_json(png))],
            fragment_id=fragment,
        )
        answer = r.first_matching(ANSWER_RE)
        if answer is None:
            stats.canvas_notes.append("no answer element after drawing")
        else:
            stats.canvas.append(answer)
        stats.canvas_full.append(r.seconds)
        stats.record("draw (prediction)", r)
        await asyncio.sleep(0.3)


async def student(
    i: int, base: str, role: str, stats: Stats, plan: Plan, hold: asyncio.Event, rng: random.Random
) -> None:
    s = StreamlitSession(base, timeout=plan.timeout)
    ok = False
    try:
        await s.connect()
        stats.record("landing", await s.run(page_name=""))
        for page in PAGES[1:]:
            if time_left(plan) <= 0:
                stats.disconnects.append(f"student {i}: stopped by the time cap before {page}")
                break
            await think(plan, rng)
            res = await s.open_page(page)
            stats.record(page, res)
            if page == "training" and role == "train":
                await press_train(s, stats, res, plan)
            elif page == "draw_and_predict" and role == "draw":
                await draw(s, stats, res, plan)
        else:
            ok = True
    except ClientError as exc:
        stats.disconnects.append(f"student {i}: {exc}")
    finally:
        stats.settled += 1
    await stay_until_measured(s, stats, ok, hold)


async def burst_student(
    i: int, base: str, stats: Stats, plan: Plan, barrier: asyncio.Barrier, hold: asyncio.Event
) -> None:
    s = StreamlitSession(base, timeout=plan.timeout)
    ok = False
    try:
        await s.connect()
        await s.run(page_name="")
        res = await s.open_page("training")
        await press_train(s, stats, res, plan, barrier=barrier)
        ok = True
    except ClientError as exc:
        stats.disconnects.append(f"burst student {i}: {exc}")
        with contextlib.suppress(Exception):
            await barrier.abort()
    except asyncio.BrokenBarrierError:
        stats.disconnects.append(f"burst student {i}: barrier broken (another burst student failed)")
    finally:
        stats.settled += 1
    await stay_until_measured(s, stats, ok, hold)


async def browser_students(base: str, k: int, stats: Stats, plan: Plan) -> None:
    """k real Chromium tabs: open the landing page, then each page from the sidebar menu."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        stats.browser_errors.append("playwright not installed")
        return
    idle = "[data-testid='stApp'][data-test-script-state='notRunning']"

    content = "[data-testid='stMainBlockContainer'] [data-testid='stElementContainer']"

    async def one(br, j: int) -> None:
        ctx = await br.new_context(viewport={"width": 1280, "height": 800})
        pg = await ctx.new_page()
        pg.set_default_timeout(plan.timeout * 1000)
        try:
            for page in PAGES:
                if time_left(plan) <= 0:
                    break
                t0 = time.perf_counter()
                await pg.goto(base + "/" + ("" if page == "landing" else page))
                await pg.wait_for_selector(content)
                await pg.wait_for_selector(idle)
                stats.browser[page].append(time.perf_counter() - t0)
                n = await pg.locator("[data-testid='stException']").count()
                if n:
                    stats.browser_errors.append(f"browser {j} {page}: {n} exception box(es)")
                await asyncio.sleep(plan.think)
        except Exception as exc:  # noqa: BLE001
            stats.browser_errors.append(f"browser {j}: {type(exc).__name__}: {str(exc)[:160]}")
        finally:
            await ctx.close()

    async with async_playwright() as pw:
        br = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(one(br, j) for j in range(k)))
        finally:
            await br.close()


async def crowd(
    base: str,
    n: int,
    plan: Plan,
    *,
    train_share: float,
    draw_share: float,
    browsers: int,
    seed: int,
    reloaders: int = 0,
    reloads: int = 10,
) -> tuple[Stats, asyncio.Event, list[asyncio.Task]]:
    """n students at once (plus `browsers` Chromium tabs); all stay open until all are done."""
    stats = Stats()
    rng = random.Random(seed)
    n_train = round(n * train_share)
    n_draw = round(n * draw_share)
    roles = ["train"] * n_train + ["draw"] * n_draw + ["browse"] * (n - n_train - n_draw)
    rng.shuffle(roles)
    hold = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [
        asyncio.create_task(student(i, base, roles[i], stats, plan, hold, random.Random(seed + i)))
        for i in range(n)
    ]
    btask = asyncio.create_task(browser_students(base, browsers, stats, plan)) if browsers else None
    rtasks = [asyncio.create_task(reloader(j, base, stats, plan, reloads)) for j in range(reloaders)]

    async def all_done() -> None:
        while stats.settled < n:
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(all_done(), timeout=max(1.0, time_left(plan)))
    except TimeoutError:
        stats.disconnects.append(f"phase hit the time cap with {n - stats.settled} sessions unfinished")
    if btask:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(btask, timeout=max(1.0, time_left(plan)))
    await asyncio.gather(*rtasks, return_exceptions=True)
    stats.wall_s = time.perf_counter() - t0
    return stats, hold, tasks


async def reloader(j: int, base: str, stats: Stats, plan: Plan, reloads: int) -> None:
    """A browser that reloads the Training page again and again: a new session each time."""
    for k in range(reloads):
        if time_left(plan) <= 0:
            return
        s = StreamlitSession(base, timeout=plan.timeout)
        try:
            await s.connect()
            r = await s.run(page_name="training")
            stats.record("training (reload)", r)
        except ClientError as exc:
            stats.disconnects.append(f"reloader {j} reload {k}: {exc}")
        finally:
            await s.close()


async def cpu_per_page(server: Server, plan: Plan, visits: int = 2) -> dict[str, float]:
    """Server CPU seconds (all threads) one page view costs, one session alone, caches warm.

    Each visit opens a new session on the landing page, then every page by its link, and reads
    the server's utime+stime around each run: what one student's click costs the shared cores.
    """
    cost: dict[str, list[float]] = defaultdict(list)
    for _ in range(visits):
        s = StreamlitSession(server.base, timeout=plan.timeout)
        try:
            await s.connect()
            for page in PAGES:
                c0 = cpu_seconds(server.pid)
                if page == "landing":
                    await s.run(page_name="")
                else:
                    await s.open_page(page)
                await asyncio.sleep(0.05)  # let the send of the last messages finish
                cost[page].append(cpu_seconds(server.pid) - c0)
        finally:
            await s.close()
    return {k: statistics.mean(v) for k, v in cost.items()}


async def release(hold: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    hold.set()
    for t in tasks:
        if not t.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(t), 10)
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def burst(base: str, k: int, plan: Plan) -> tuple[Stats, asyncio.Event, list[asyncio.Task]]:
    stats = Stats()
    barrier = asyncio.Barrier(k)
    hold = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(burst_student(i, base, stats, plan, barrier, hold)) for i in range(k)]

    async def all_done() -> None:
        while stats.settled < k:
            await asyncio.sleep(0.1)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_done(), timeout=max(1.0, time_left(plan)))
    stats.wall_s = time.perf_counter() - t0
    return stats, hold, tasks
