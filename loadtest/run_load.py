"""Classroom load test: N virtual students against CNN Classroom and against a bare app.

Run by hand (not in CI), from the repo root:

    .venv/bin/python loadtest/run_load.py                      # N=30, both apps, all phases
    .venv/bin/python loadtest/run_load.py -n 10 --browsers 0 --phases start,idle,one,full
    .venv/bin/python loadtest/run_load.py --markdown loadtest/logs/run.md --json loadtest/logs/run.json

It starts `streamlit run app.py` (ours) and then `streamlit run loadtest/bare_app/app.py` (a bare
app with as many one-line pages), each on a free loopback port, from the repo root so both read
the same .streamlit/config.toml. Every virtual student is a websocket client speaking
Streamlit's protocol (loadtest/ws_client.py): it opens the landing page by URL, then every page
through its page-link hash, the way the sidebar menu does. A share of students press Train (the
button with key "train_start"; fragment auto-reruns are replayed like a browser's timers) and a
share draw a digit (the drawable canvas' widget value is sent as the browser would); one more tab
reloads the Training page ten times (a new session each time). A few real Chromium tabs
(Playwright) open every page by URL in a phase of their own: a browser renders on the same 2 cores
as the server, so tabs running beside the websocket students would slow the server they measure.

Phases (--phases, in this order): start (RSS once healthy), idle (after one page view), one (1
session browsing), ten (10), burst (K sessions press Train in the same second; ours only), full (N
sessions: browse, train, draw), class (ours: N students open the class link, join with a nickname,
answer the teacher's poll through the page, then all post a run at once while 10 new sessions open
pages; answers and runs are counted; then, their strips still ticking, a teacher walks every bundled
lesson --teacher-rounds times: each click timed, loadtest/class_session.py), hostile (ours: N
students go round the pages at a classroom's pace, training and drawing, while one client sends
issue 24's attacks one by one; each attack's window timed; the RSS 60 s after it left:
loadtest/hostile.py), browsers (the Chromium
tabs alone), after (all closed: RSS settles, CPU and threads show whether a training thread is
left).

The modules: harness.py (pages, servers, statistics), students.py (the virtual students and the
tabs), class_session.py (the class phase: its students and its teacher), hostile.py (one hostile
student among N), report.py (the figures and
the markdown table), ws_client.py (Streamlit's protocol), memory.py (RSS, and PSS of the server with
its training processes).

One core (issue 28): `--server-cpus 0 --client-cpus 1` pins the server and the processes it starts
(forkserver, training children) to core 0 with taskset and this process, the students, to core 1;
`--server-env CNN_CLASSROOM_MEMORY_MB=690` makes our server plan its training for Cloud's 690 MB.

Figures: time to first render per page (rerun sent -> script_finished), median and 95th
percentile, ours vs bare; training throughput per run (read from the page); canvas prediction
latency; errors (exception elements, disconnects, timeouts); server RSS from /proc (sampled
every 0.2 s), and the PSS of the server and its training processes, split by process at its peak.
Everything is bounded: at most 30 sessions, 8 browsers, and --max-seconds overall.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.class_session import class_phase  # noqa: E402
from loadtest.harness import (  # noqa: E402
    ALL_PHASES,
    MAX_BROWSERS,
    MAX_SESSIONS,
    ROOT,
    Plan,
    Server,
    Stats,
    busy_threads,
    loadavg,
    machine,
    time_left,
)
from loadtest.hostile import ATTACKS, hostile_phase  # noqa: E402
from loadtest.memory import MB, RssSampler, hwm_bytes, thread_count, thread_names  # noqa: E402
from loadtest.report import inprocess_prediction, report, summarize  # noqa: E402
from loadtest.students import (  # noqa: E402
    browser_students,
    burst,
    cpu_per_page,
    crowd,
    release,
)
from loadtest.ws_client import ClientError, StreamlitSession  # noqa: E402


async def measure_app(name: str, server: Server, args, plan: Plan, out: dict) -> None:
    """Run the chosen phases against one started server; fill out[name]."""
    res: dict = {"port": server.port, "mem_mb": {}, "phases": {}}
    out[name] = res
    sampler = RssSampler(server.pid).start()
    mem = res["mem_mb"]
    phases = args.phases
    is_ours = name == "ours"
    say = lambda m: print(f"[{name} {time.strftime('%H:%M:%S')}] {m}", flush=True)  # noqa: E731

    await asyncio.sleep(1.0)
    mem["start"] = sampler.now() / MB
    res["threads_start"] = thread_count(server.pid)
    say(f"start: {mem['start']:.0f} MB")

    if "idle" in phases:
        s = StreamlitSession(server.base, timeout=plan.timeout)
        await s.connect()
        r = await s.run(page_name="")
        res["first_view_s"] = r.seconds
        await s.close()
        await asyncio.sleep(3)
        mem["idle"] = sampler.now() / MB
        res["threads_idle"] = thread_count(server.pid)
        say(f"idle after one page view: {mem['idle']:.0f} MB (first view {r.seconds:.2f} s)")

    for label, n in (("one", 1), ("ten", 10)):
        if label not in phases or time_left(plan) <= 0:
            continue
        sampler.mark(label)
        st, hold, tasks = await crowd(
            server.base, n, plan, train_share=0, draw_share=0, browsers=0, seed=args.seed
        )
        await asyncio.sleep(1)
        mem[f"{label}_open"] = sampler.now() / MB
        mem[f"{label}_peak"] = sampler.peak_since(label) / MB
        mem[f"{label}_pss_peak"] = sampler.pss_peak_since(label) / MB
        res["phases"][label] = summarize(st)
        await release(hold, tasks)
        say(f"{n} session(s) browsing: peak {mem[f'{label}_peak']:.0f} MB, {st.errors()} errors")
        if label == "one":  # every page seen once: shared caches (datasets, models) are loaded
            await asyncio.sleep(3)
            mem["warm_idle"] = sampler.now() / MB
            say(f"warm idle (caches loaded, no session open): {mem['warm_idle']:.0f} MB")
            res["cpu_per_view"] = await cpu_per_page(server, plan, visits=2)
            say(
                "server CPU per page view, warm: "
                + ", ".join(f"{k} {v:.2f} s" for k, v in res["cpu_per_view"].items())
            )

    if "burst" in phases and is_ours and time_left(plan) > 0:
        sampler.mark("burst")
        st, hold, tasks = await burst(server.base, args.burst, plan)
        mem["burst_peak"] = sampler.peak_since("burst") / MB
        mem["burst_pss_peak"] = sampler.pss_peak_since("burst") / MB
        res["threads_burst_max"] = sampler.max_threads_since("burst")
        res["phases"]["burst"] = summarize(st)
        await release(hold, tasks)
        say(f"{args.burst} pressing Train together: peak {mem['burst_peak']:.0f} MB, {st.errors()} errors")
        await asyncio.sleep(2)

    if "full" in phases and time_left(plan) > 0:
        sampler.mark("full")
        st, hold, tasks = await crowd(
            server.base,
            args.sessions,
            plan,
            train_share=args.train_share if is_ours else 0,
            draw_share=args.draw_share if is_ours else 0,
            browsers=0,  # the Chromium tabs take the same 2 cores: measured in a phase of their own
            reloaders=args.reloaders,
            seed=args.seed,
        )
        await asyncio.sleep(1)
        mem["full_open"] = sampler.now() / MB
        mem["full_peak"] = sampler.peak_since("full") / MB
        mem["full_pss_peak"] = sampler.pss_peak_since("full") / MB
        res["threads_full_max"] = sampler.max_threads_since("full")
        res["phases"]["full"] = summarize(st)
        await release(hold, tasks)
        say(
            f"{args.sessions} sessions: peak {mem['full_peak']:.0f} MB, wall {st.wall_s:.0f} s, {st.errors()} errors"
        )

    if "class" in phases and is_ours and time_left(plan) > 0:
        sampler.mark("class")
        res["phases"]["class"] = await class_phase(server, args, plan)
        say(f"class session: {res['phases']['class']['summary']}")

    if "hostile" in phases and is_ours and time_left(plan) > 0:
        sampler.mark("hostile")
        res["phases"]["hostile"] = await hostile_phase(server, args, plan, sampler)
        say(f"hostile student: {res['phases']['hostile']['summary']}")

    if "browsers" in phases and args.browsers and time_left(plan) > 0:
        sampler.mark("browsers")
        st = Stats()
        t0 = time.perf_counter()
        await browser_students(server.base, args.browsers, st, plan)  # alone: nothing else on the server
        st.wall_s = time.perf_counter() - t0
        res["phases"]["browsers"] = summarize(st)
        say(f"{args.browsers} Chromium tab(s) alone: {st.errors()} errors")

    if "after" in phases:
        sampler.mark("after")
        t_after = time.monotonic()
        timeline = []
        settle = args.settle if is_ours else min(args.settle, 10.0)  # the bare app trains nothing
        checkpoints = sorted({c for c in (5.0, 30.0, 65.0, 125.0, settle) if c <= settle})
        for c in checkpoints:
            await asyncio.sleep(max(0.0, t_after + c - 3.0 - time.monotonic()))
            cpu, busy = await asyncio.to_thread(busy_threads, server.pid, 3.0)
            point = {
                "t": round(time.monotonic() - t_after),
                "rss_mb": sampler.now() / MB,
                "cpu_share": cpu,
                "busy_threads": busy,
                "threads": thread_count(server.pid),
            }
            timeline.append(point)
            say(
                f"after +{point['t']} s: {point['rss_mb']:.0f} MB, CPU {cpu * 100:.0f}% of a core, "
                f"{busy} busy thread(s), {point['threads']} threads"
            )
        last = timeline[-1] if timeline else {}
        mem["after"] = last.get("rss_mb", sampler.now() / MB)
        res["after_timeline"] = timeline
        res["after_cpu_share"] = last.get("cpu_share", 0.0)
        res["after_busy_threads"] = last.get("busy_threads", 0)
        res["threads_after"] = thread_count(server.pid)
        res["thread_names_after"] = dict(thread_names(server.pid))
        # One more visitor: the app still answers, and the session store drops expired sessions.
        s = StreamlitSession(server.base, timeout=plan.timeout)
        try:
            await s.connect()
            r = await s.run(page_name="")
            res["probe_after_s"] = r.seconds
            res["probe_after_exceptions"] = r.exceptions
        except ClientError as exc:
            res["probe_after_exceptions"] = [str(exc)]
        finally:
            await s.close()
        await asyncio.sleep(2)
        mem["after_probe"] = sampler.now() / MB
        say(
            f"probe visit after the load: {res.get('probe_after_s', float('nan')):.2f} s, {mem['after_probe']:.0f} MB"
        )
    mem["hwm"] = hwm_bytes(server.pid) / MB
    res["pss_peak_parts"] = [
        {"pid": p, "kind": kind, "pss_mb": size / MB} for p, (kind, size) in sampler.pss_peak_parts.items()
    ]
    say(
        f"PSS peak {sampler.pss_peak / MB:.0f} MB: "
        + ", ".join(f"{d['kind']} {d['pss_mb']:.0f}" for d in res["pss_peak_parts"])
    )
    mem["peak_sampled"] = max((s[1] for s in sampler.samples), default=0) / MB
    sampler.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--sessions", type=int, default=30, help="students in the full phase (max 30)")
    ap.add_argument(
        "--browsers", type=int, default=2, help="real Chromium tabs on top in the full phase (max 8)"
    )
    ap.add_argument("--phases", default=",".join(ALL_PHASES), help=f"comma list of {ALL_PHASES}")
    ap.add_argument("--apps", default="ours,bare", help="ours, bare or both (comma list)")
    ap.add_argument("--train-share", type=float, default=0.2, help="share of students who press Train")
    ap.add_argument("--draw-share", type=float, default=0.3, help="share of students who draw")
    ap.add_argument("--burst", type=int, default=6, help="students pressing Train in the same second")
    ap.add_argument("--train-watch", type=float, default=20, help="seconds a trainer watches live updates")
    ap.add_argument("--reloaders", type=int, default=1, help="tabs reloading Training 10x in the full phase")
    ap.add_argument("--think", type=float, default=0.5, help="mean pause between pages (s)")
    ap.add_argument(
        "--settle",
        type=float,
        default=70,
        help="seconds to watch after the load (a run whose tab closed stops after the 60 s heartbeat timeout)",
    )
    ap.add_argument("--timeout", type=float, default=90, help="per-run timeout (s): a longer run is an error")
    ap.add_argument("--max-seconds", type=float, default=600, help="cap per app on the whole measurement (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra `streamlit run` option for both apps, e.g. --server-arg=--runner.postScriptGC=false",
    )
    ap.add_argument(
        "--teacher-rounds",
        type=int,
        default=2,
        help="times the class phase's teacher walks every bundled lesson (asking on each question step)",
    )
    ap.add_argument(
        "--class-db", default=None, help="the class database URL (default: a file in a temp folder)"
    )
    ap.add_argument(
        "--hostile-attacks",
        default=",".join(ATTACKS),
        help=f"the hostile phase's attacks, in order: {ATTACKS}",
    )
    ap.add_argument(
        "--hostile-think", type=float, default=4.0, help="mean seconds between pages in the hostile phase"
    )
    ap.add_argument("--hostile-warmup", type=float, default=45, help="seconds before the hostile baseline")
    ap.add_argument("--hostile-quiet", type=float, default=30, help="seconds of the baseline window")
    ap.add_argument(
        "--hostile-control",
        type=float,
        default=180,
        help="with --hostile-attacks '' (a control run): seconds of students alone where the attacks would be",
    )
    ap.add_argument(
        "--hostile-window", type=float, default=20, help="seconds an attack refused at once is sent again"
    )
    ap.add_argument(
        "--server-cpus",
        default=None,
        help="pin the server and its training processes to these cores (taskset -c list, e.g. 0)",
    )
    ap.add_argument(
        "--client-cpus", default=None, help="pin the virtual students (this process) to these cores, e.g. 1"
    )
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="NAME=VALUE for our server, e.g. --server-env CNN_CLASSROOM_MEMORY_MB=690 (Cloud's share)",
    )
    ap.add_argument("--json", type=Path, help="write all figures as JSON here")
    ap.add_argument(
        "--from-json", type=Path, help="measure nothing: report the figures of a saved --json run"
    )
    ap.add_argument("--markdown", type=Path, help="write the results table as markdown here")
    args = ap.parse_args(argv)
    args.sessions = max(1, min(args.sessions, MAX_SESSIONS))
    args.browsers = max(0, min(args.browsers, MAX_BROWSERS))
    args.burst = max(1, min(args.burst, MAX_SESSIONS))
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    args.hostile_attacks = [a.strip() for a in args.hostile_attacks.split(",") if a.strip()]
    if set(args.hostile_attacks) - set(ATTACKS):
        ap.error(f"unknown attacks {sorted(set(args.hostile_attacks) - set(ATTACKS))}")
    bad = set(args.phases) - set(ALL_PHASES)
    if bad:
        ap.error(f"unknown phases {sorted(bad)}")
    args.apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    if any("=" not in e for e in args.server_env):
        ap.error("--server-env takes NAME=VALUE")
    return args


def cpu_list(text: str) -> set[int]:
    """A taskset-style list ("0", "1,3", "0-2") as a set of core numbers."""
    cores: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        cores.update(range(int(lo), int(hi or lo) + 1))
    return cores


async def amain(args) -> dict:
    out: dict = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "loadavg_before": loadavg(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    if args.client_cpus:  # the students' own work off the server's cores (Linux)
        os.sched_setaffinity(0, cpu_list(args.client_cpus))
    out["pinning"] = {"server": args.server_cpus, "clients": args.client_cpus}
    print(f"{out['date']}  {out['machine']}  load {out['loadavg_before']}", flush=True)
    logs = ROOT / "loadtest" / "logs"
    logs.mkdir(exist_ok=True)
    scripts = {"ours": "app.py", "bare": "loadtest/bare_app/app.py"}
    if not args.class_db:  # a class database of this run's own
        args.class_db = f"sqlite:///{tempfile.mkdtemp(prefix='cc-load-')}/classes.db"
    for name in args.apps:
        env = None
        if name == "ours":
            env = {"CNN_CLASSROOM_DB": args.class_db, **dict(e.split("=", 1) for e in args.server_env)}
        server = Server(
            scripts[name], logs / f"{name}.log", extra=args.server_arg, env=env, cpus=args.server_cpus
        )
        t = server.start()
        out.setdefault("startup_s", {})[name] = t
        print(f"[{name}] healthy after {t:.1f} s on {server.base} (pid {server.pid})", flush=True)
        plan = Plan(
            think=args.think,
            train_watch=args.train_watch,
            timeout=args.timeout,
            deadline=time.monotonic() + args.max_seconds,
        )
        try:
            await measure_app(name, server, args, plan, out)
        finally:
            out[name]["loadavg_end"] = loadavg()
            server.stop()
    if "ours" in out:  # the floor of the canvas answer (and the fallback when no canvas was measured)
        out["inprocess_prediction"] = await asyncio.to_thread(inprocess_prediction)
    out["loadavg_after"] = loadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = json.loads(args.from_json.read_text()) if args.from_json else asyncio.run(amain(args))
    lines = report(out, args)
    print(f"\nload average before {out['loadavg_before']}, after {out['loadavg_after']}")
    print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    if args.markdown:
        extra = f" Extra server options: {' '.join(args.server_arg)}." if args.server_arg else ""
        head = [
            f"Measured {out['date']} on {out['machine']}; load average before {out['loadavg_before']}, "
            f"after {out['loadavg_after']}.{extra}",
            "",
        ]
        args.markdown.write_text("\n".join(head + lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
