"""The load test's report: summaries of each phase, the printed figures and the markdown table."""

from __future__ import annotations

import math
import statistics
import time

from loadtest.harness import (
    PAGES,
    Stats,
    med,
    pct,
)
from loadtest.hostile import hostile_table
from loadtest.ws_client import (
    digit_png,
)


def summarize(st: Stats) -> dict:
    pages = {}
    for page, v in st.render.items():
        pages[page] = {"n": len(v), "median": med(v), "p95": pct(v, 95), "max": max(v)}
    browser = {p: {"n": len(v), "median": med(v), "p95": pct(v, 95)} for p, v in st.browser.items()}
    return {
        "wall_s": st.wall_s,
        "sessions_done": st.sessions_done,
        "pages": pages,
        "browser": browser,
        "exceptions": st.exceptions,
        "disconnects": st.disconnects,
        "browser_errors": st.browser_errors,
        "errors_shown": st.errors_shown[:20],
        "errors": st.errors(),
        "train_click": {
            "n": len(st.train_click),
            "median": med(st.train_click),
            "p95": pct(st.train_click, 95),
        },
        "train_ticks": {
            "n": len(st.train_ticks),
            "median": med(st.train_ticks),
            "p95": pct(st.train_ticks, 95),
        },
        "throughput": st.throughput,
        "train_notes": sorted(set(st.train_notes)),
        "queue_positions": sorted(st.queue_positions),
        "canvas": {"n": len(st.canvas), "median": med(st.canvas), "p95": pct(st.canvas, 95)},
        "canvas_full": {
            "n": len(st.canvas_full),
            "median": med(st.canvas_full),
            "p95": pct(st.canvas_full, 95),
        },
        "page_kb": {p: round(statistics.mean(v) / 1024, 1) for p, v in st.page_bytes.items() if v},
        "canvas_notes": sorted(set(st.canvas_notes)),
    }


def inprocess_prediction(repeats: int = 30) -> dict | None:
    """Fallback when the page has no canvas yet: cnnlib.inference latency in this process."""
    try:
        import numpy as np
        from PIL import Image

        from cnnlib.inference import load_pretrained, predict, preprocess_drawing
    except Exception as exc:  # noqa: BLE001
        return {"error": f"cnnlib.inference not importable: {exc}"}
    import io

    rgba = np.asarray(Image.open(io.BytesIO(digit_png(280, "7"))).convert("RGBA"))
    model, _spec, _classes = load_pretrained("mnist")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pre = preprocess_drawing(rgba)
        predict(model, pre.tensor)
        times.append(time.perf_counter() - t0)
    return {"n": repeats, "median": med(times), "p95": pct(times, 95)}


def fmt(x: float, unit: str = "s") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "s" and abs(x) < 0.1:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} {unit}".strip()


def report(out: dict, args) -> list[str]:
    """Print the figures; return the markdown table lines."""
    ours, bare = out.get("ours", {}), out.get("bare", {})
    of = ours.get("phases", {}).get("full", {})
    bf = bare.get("phases", {}).get("full", {})
    lines = ["| what | ours | bare | ratio | target | met? |", "| --- | --- | --- | --- | --- | --- |"]
    print(
        "\n=== time to first render, N =",
        args.sessions,
        "websocket sessions (rerun sent -> script_finished) ===",
    )
    print(
        f"{'page':<20}{'ours med':>10}{'bare med':>10}{'ratio':>7}{'ours p95':>10}{'bare p95':>10}{'ratio':>7}"
        f"{'ours KB':>9}{'n':>5}"
    )
    for page in PAGES:
        o = of.get("pages", {}).get(page)
        b = bf.get("pages", {}).get(page)
        if not o:
            continue
        om, op = o["median"], o["p95"]
        bm, bp = (b["median"], b["p95"]) if b else (math.nan, math.nan)
        rm, rp = om / bm if bm else math.nan, op / bp if bp else math.nan
        kb = of.get("page_kb", {}).get(page, math.nan)
        print(
            f"{page:<20}{om:>10.2f}{bm:>10.2f}{rm:>7.1f}{op:>10.2f}{bp:>10.2f}{rp:>7.1f}{kb:>9.0f}{o['n']:>5}"
        )
        lines.append(f"| {page}: median first render | {fmt(om)} | {fmt(bm)} | {rm:.1f}x | (info) | - |")
        lines.append(
            f"| {page}: p95 first render | {fmt(op)} | {fmt(bp)} | {rp:.1f}x | <= 1 s | {'yes' if op <= 1 else 'NO'} |"
        )
    oc, bc = ours.get("cpu_per_view", {}), bare.get("cpu_per_view", {})
    if oc:
        print("server CPU seconds per page view (1 session alone, warm caches):")
        for page in PAGES:
            if page in oc:
                b = bc.get(page, math.nan)
                print(
                    f"  {page:<18} ours {oc[page]:.3f}  bare {b:.3f}  ratio {oc[page] / b if b else math.nan:.0f}x"
                )
                lines.append(
                    f"| {page}: server CPU per view (1 session, warm) | {oc[page]:.3f} s | {b:.3f} s | "
                    f"{oc[page] / b if b else math.nan:.0f}x | (info) | - |"
                )
    for label in (
        "training (Train pressed)",
        "draw (prediction)",
        "training (Stop pressed)",
        "training (reload)",
    ):
        o = of.get("pages", {}).get(label)
        if o:
            print(f"{label:<26} median {o['median']:.2f} s, p95 {o['p95']:.2f} s (n={o['n']})")
    ob = ours.get("phases", {}).get("browsers", {}).get("browser") or of.get("browser")
    bb = bare.get("phases", {}).get("browsers", {}).get("browser") or bf.get("browser", {})
    if ob:
        print("real Chromium tabs, measured alone (page opened by URL -> script idle):")
        for page in PAGES:
            o, b = ob.get(page), bb.get(page)
            if o:
                print(
                    f"  {page:<18} ours med {o['median']:.2f} p95 {o['p95']:.2f}  |  bare "
                    f"{(b or {}).get('median', math.nan):.2f} / {(b or {}).get('p95', math.nan):.2f}"
                )
                lines.append(
                    f"| {page}: Chromium tab, median (p95) | {fmt(o['median'])} ({fmt(o['p95'])}) | "
                    f"{fmt((b or {}).get('median', math.nan))} ({fmt((b or {}).get('p95', math.nan))}) | "
                    f"{o['median'] / (b or {}).get('median', math.nan):.1f}x | (info) | - |"
                )
    cl = ours.get("phases", {}).get("class")
    if cl:
        print(f"\n=== class session ===\n{cl['summary']}")
        lines.append(
            f"| class session of {args.sessions}: poll answers counted / runs on the board | {cl['answered']} / "
            f"{cl['board_size']} | - | - | all {args.sessions} | "
            f"{'yes' if cl['answered'] == cl['board_size'] == args.sessions else 'NO'} |"
        )
        op = cl["opens"]["pages"].get("page open during the posting burst", {})
        lines.append(
            f"| page opens while {args.sessions} students post at once, p95 (median) | {fmt(op.get('p95', math.nan))} "
            f"({fmt(op.get('median', math.nan))}) | - | - | <= 1 s | {'yes' if op.get('p95', 9) <= 1 else 'NO'} |"
        )
        ans = cl["pages"].get("class: answer a poll", {})
        lines.append(
            f"| a poll answer (sent -> run done), p95 (median) | {fmt(ans.get('p95', math.nan))} "
            f"({fmt(ans.get('median', math.nan))}) | - | - | (info) | - |"
        )
        lines.extend(teacher_lines(cl, args.sessions))
    # training
    tp = of.get("throughput", []) + ours.get("phases", {}).get("burst", {}).get("throughput", [])
    burst = ours.get("phases", {}).get("burst", {})
    print("\n=== training ===")
    for lab, ph in (("full", of), ("burst", burst)):
        if ph:
            print(
                f"{lab}: Train-press run {fmt(ph['train_click']['median'])} median / {fmt(ph['train_click']['p95'])} p95 "
                f"(n={ph['train_click']['n']}); live ticks {fmt(ph['train_ticks']['median'])} / "
                f"{fmt(ph['train_ticks']['p95'])} (n={ph['train_ticks']['n']}); samples/s per run: "
                f"{[round(x) for x in ph['throughput']]}; queue positions shown: {ph['queue_positions']}; "
                f"notes: {ph['train_notes']}"
            )
    if tp:
        lines.append(
            f"| training throughput per run (samples/s, min / median / max) | {min(tp):.0f} / {med(tp):.0f} / "
            f"{max(tp):.0f} | - | - | (info) | - |"
        )
    if burst:
        lines.append(
            f"| {args.burst} students press Train in the same second: Train-press run median (p95) | "
            f"{fmt(burst['train_click']['median'])} ({fmt(burst['train_click']['p95'])}) | - | - | p95 <= 0.5 s | "
            f"{'yes' if burst['train_click']['p95'] <= 0.5 else 'NO'} |"
        )
        lines.append(
            f"| live training update (fragment rerun) median (p95) | {fmt(burst['train_ticks']['median'])} "
            f"({fmt(burst['train_ticks']['p95'])}) | - | - | (info) | - |"
        )
    # canvas
    cv = of.get("canvas", {})
    print("\n=== canvas ===")
    if cv and cv.get("n"):
        cf = of["canvas_full"]
        print(f"drawing sent -> answer shown: median {fmt(cv['median'])}, p95 {fmt(cv['p95'])} (n={cv['n']})")
        print(f"drawing sent -> whole page rerun done: median {fmt(cf['median'])}, p95 {fmt(cf['p95'])}")
        lines.append(
            f"| canvas answer (drawing sent -> answer element received) p95 (median) | {fmt(cv['p95'])} "
            f"({fmt(cv['median'])}) | - | - | <= 0.5 s | {'yes' if cv['p95'] <= 0.5 else 'NO'} |"
        )
        lines.append(
            f"| canvas: whole Draw page rerun after a stroke (Grad-CAM, feature maps) p95 (median) | "
            f"{fmt(cf['p95'])} ({fmt(cf['median'])}) | - | - | (info) | - |"
        )
        ip = out.get("inprocess_prediction") or {}
        if "p95" in ip:
            print(
                f"in-process floor, no server (preprocess_drawing + predict): median {fmt(ip['median'])}, p95 {fmt(ip['p95'])}"
            )
            lines.append(
                f"| floor: preprocess_drawing + predict in-process, no server, p95 (median) | {fmt(ip['p95'])} "
                f"({fmt(ip['median'])}) | - | - | (info) | - |"
            )
    else:
        ip = out.get("inprocess_prediction")
        print(
            f"no canvas measured over the websocket ({of.get('canvas_notes')}); in-process cnnlib.inference: {ip}"
        )
        if ip and "p95" in ip:
            lines.append(
                f"| prediction latency in-process (preprocess + predict), p95 | {fmt(ip['p95'])} | - | - | < 1 s | "
                f"{'yes' if ip['p95'] < 1 else 'NO'} (page not measured) |"
            )
    # errors
    print("\n=== errors ===")
    for name, ph in (("ours", of), ("bare", bf)):
        if ph:
            print(
                f"{name}: {ph['errors']} ({len(ph['exceptions'])} exceptions, {len(ph['disconnects'])} disconnects/timeouts, "
                f"{len(ph['browser_errors'])} browser); st.error boxes shown: {len(ph['errors_shown'])}"
            )
            for e in (ph["exceptions"] + ph["disconnects"] + ph["browser_errors"])[:8]:
                print("   ", e[:200])
    total_err = of.get("errors", 0) + sum(
        ours.get("phases", {}).get(p, {}).get("errors", 0)
        for p in ("one", "ten", "burst", "class", "browsers")
    )
    lines.append(
        f"| errors (exceptions, disconnects, timeouts), all phases | {total_err} | {bf.get('errors', '-')} | - | 0 | "
        f"{'yes' if total_err == 0 else 'NO'} |"
    )
    # memory
    print("\n=== server memory (RSS, MB) ===")
    keys = [
        "start",
        "idle",
        "one_peak",
        "warm_idle",
        "ten_peak",
        "burst_peak",
        "full_open",
        "full_peak",
        "after",
        "after_probe",
        "hwm",
    ]
    print(f"{'':<8}" + "".join(f"{k:>12}" for k in keys))
    for name in ("ours", "bare"):
        m = out.get(name, {}).get("mem_mb", {})
        if m:
            print(f"{name:<8}" + "".join(f"{m.get(k, math.nan):>12.0f}" for k in keys))
    om, bm = ours.get("mem_mb", {}), bare.get("mem_mb", {})
    names = {
        "start": "RSS at start (healthy, no session)",
        "idle": "RSS idle after the first page view",
        "one_peak": "RSS peak, 1 session browsing every page",
        "ten_peak": "RSS peak, 10 sessions browsing",
        "burst_peak": f"RSS peak, {args.burst} students pressing Train together",
        "full_peak": f"RSS peak, {args.sessions} sessions (browse, train, draw)",
        "warm_idle": "RSS warm idle (every page seen once, no session open)",
        "after": f"RSS {args.settle:.0f} s after the load (all tabs closed; bare: 10 s)",
        "after_probe": "RSS after one more visit at the end",
        "burst_pss_peak": f"PSS peak of the server and its training processes, {args.burst} training at once",
        "full_pss_peak": f"PSS peak of the server and its training processes, {args.sessions} sessions",
    }
    for k, label in names.items():
        if k in om:
            b = bm.get(k)
            ratio = f"{om[k] / b:.1f}x" if b else "-"
            tgt = "< 2048 MB" if k in ("full_peak", "burst_peak", "full_pss_peak", "burst_pss_peak") else "-"
            met = ("yes" if om[k] < 2048 else "NO") if tgt != "-" else "-"
            if k in ("after", "after_probe") and "warm_idle" in om:
                tgt = "near warm idle (+25%)"
                met = "yes" if om[k] <= om["warm_idle"] * 1.25 else "NO"
            lines.append(f"| {label} | {om[k]:.0f} MB | {fmt(b, 'MB')} | {ratio} | {tgt} | {met} |")
    if "ten_open" in om and "one_open" in om:
        per = (om["ten_open"] - om["one_open"]) / 9
        perb = (bm.get("ten_open", math.nan) - bm.get("one_open", math.nan)) / 9
        print(f"per-session growth (10 open vs 1 open): ours {per:.1f} MB, bare {perb:.1f} MB")
        lines.append(
            f"| per-session RSS growth (10 open vs 1 open, /9) | {per:.1f} MB | {perb:.1f} MB | - | small | - |"
        )
    if "full_open" in om and "warm_idle" in om:
        per = (om["full_open"] - om["warm_idle"]) / args.sessions
        perb = (bm.get("full_open", math.nan) - bm.get("warm_idle", math.nan)) / args.sessions
        print(
            f"per-session growth ({args.sessions} open vs warm idle): ours {per:.1f} MB, bare {perb:.1f} MB"
        )
        lines.append(
            f"| per-session RSS growth ({args.sessions} open incl. trainers vs warm idle, /{args.sessions}) | "
            f"{per:.1f} MB | {perb:.1f} MB | - | small | - |"
        )
    if "after_cpu_share" in ours:
        left = ours["after_cpu_share"] < 0.05
        print(
            f"after the load: ours uses {ours['after_cpu_share'] * 100:.1f}% of a core, {ours['after_busy_threads']} busy "
            f"thread(s); threads {ours.get('threads_after')} (idle {ours.get('threads_idle')}, start "
            f"{ours.get('threads_start')}); names {ours.get('thread_names_after')}"
        )
        lines.append(
            f"| training threads left after the load (CPU use / threads vs idle) | {ours['after_cpu_share'] * 100:.1f}% CPU, "
            f"{ours.get('threads_after')} threads (idle {ours.get('threads_idle')}) | "
            f"{bare.get('after_cpu_share', math.nan) * 100:.1f}% CPU, {bare.get('threads_after', '-')} threads | - | none | "
            f"{'yes' if left else 'NO'} |"
        )
    hostile = ours.get("phases", {}).get("hostile")
    if hostile:
        print(f"\n=== one hostile student among {hostile['students']} ===\n{hostile['summary']}")
        lines += ["", *hostile_table(hostile)]
    return lines


def teacher_lines(cl: dict, n: int) -> list[str]:
    """Print the class phase's teacher actions (median, p95, max); return their rows for the table."""
    te = cl.get("teacher")
    if not te:
        return []
    acts = te["pages"]
    ticking = te.get("students_ticking", n)
    print(f"\nteacher actions with {ticking} students' strips ticking (rerun sent -> script_finished):")
    print(f"  {'action':<34} {'n':>3} {'median':>7} {'p95':>7} {'max':>7}")
    rows = []
    for name, v in acts.items():
        action = name.removeprefix("teacher: ")
        print(f"  {action:<34} {v['n']:>3} {v['median']:>6.2f}s {v['p95']:>6.2f}s {v['max']:>6.2f}s")
        rows.append(
            f"| teacher: {action} with {ticking} students, p95 (median, max; n) | {fmt(v['p95'])} "
            f"({fmt(v['median'])}, {fmt(v['max'])}; {v['n']}) | - | - | <= 1 s | {'yes' if v['p95'] <= 1 else 'NO'} |"
        )
    ticks = te.get("strip_ticks", {})
    print(
        f"  teacher fragment ticks: median {fmt(ticks.get('median', math.nan))}, p95 "
        f"{fmt(ticks.get('p95', math.nan))} (n={ticks.get('n', 0)}); "
        f"errors {te['errors']}; notes: {te.get('notes', [])}"
    )
    sv = te.get("server")
    if sv:
        wall = max(sv["wall_s"], 1e-9)
        print(
            f"  server over the teacher's {sv['wall_s']:.0f} s: CPU {sv['cpu_s']:.0f} s "
            f"({sv['cpu_s'] / wall:.2f} cores), waiting for a core {sv['run_queue_wait_s']:.0f} s "
            f"({sv['run_queue_wait_s'] / wall:.2f} threads on average); {sv['student_ticks']} student strip "
            f"ticks ({sv['student_ticks'] / wall:.1f}/s); load average {sv['loadavg_start']} -> {sv['loadavg_end']}"
        )
    for e in (te["exceptions"] + te["disconnects"])[:10]:
        print(f"  ! {e[:200]}")
    return rows
