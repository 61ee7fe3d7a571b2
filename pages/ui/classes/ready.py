"""The teacher's "Ready?" check in the class panel: every part a lesson needs, tried once before
class (cnnlib.classroom.run_checks), so nothing fails in front of the class and the first student
does not pay for the warm-up: the data, the model and the training processes stay loaded."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnlib.classroom import ClassStore, ReadyCheck, megabytes, memory_status, run_checks

ss = st.session_state


def steps(s: ClassStore, m: dict) -> list[tuple[str, Callable[[], str]]]:
    """What a lesson needs, each step the real thing the pages do."""

    def database() -> str:
        return s.check_writable(m["code"], m["key"])

    def training() -> str:
        from cnnlib.training import backend_default, cpu_cores, get_limiter, prewarm

        prewarm()  # the forkserver that starts every training process (imports torch once)
        stats = get_limiter().stats()
        busy = f"{stats.active} training, {stats.queued} waiting"
        where = (
            "training processes started"
            if backend_default() == "process"
            else "runs train inside the server (the memory limit holds no training process)"
        )
        return f"{stats.max_runs} training slot(s) on {cpu_cores()} core(s): {busy}; {where}"

    def data() -> str:
        from pages.ui.resources import get_dataset, get_pretrained

        bundle = get_dataset("mnist-sample")
        get_pretrained("mnist")
        return f"MNIST sample ({len(bundle.train):,} training images) and the pretrained digit model loaded"

    def builder() -> str:
        from cnnlib import spec as S

        S.summarize_partial(S.PRESETS[S.DEFAULT_PRESET])
        return "a model summary made (the Model builder's first view is paid)"

    def memory() -> str:
        mem = memory_status()
        limit = f" (limit {megabytes(mem.limit)})" if mem.limit else ""
        text = f"server uses {megabytes(mem.rss)}, {megabytes(mem.available)} free{limit}"
        if mem.available is not None and mem.available < 400 * 2**20:
            raise RuntimeError(text + ": under 400 MB free, training runs may be refused")
        return text

    return [
        ("Class database", database),
        ("Training", training),
        ("Data and pretrained model", data),
        ("Model builder", builder),
        ("Memory", memory),
    ]


def lines(checks: list[ReadyCheck]) -> str:
    """The results as Markdown lines: a mark, the name, what was found, how long it took."""
    return "  \n".join(
        f"{':material/check_circle:' if c.ok else ':material/error:'} **{c.name}**: {c.detail} "
        f"({c.seconds:.1f} s)"
        for c in checks
    )


def panel(s: ClassStore | None, m: dict) -> None:
    with st.expander(
        "Ready? Check the server before class", key="class_ready_open", on_change="rerun"
    ) as box:
        if not box.open or s is None:
            return
        st.caption("Tries every part a lesson needs, once, and keeps it loaded for the first student.")
        if st.button("Run the check", key="class_ready_run", icon=":material/fact_check:"):
            with st.spinner("Checking…"):
                ss["class_ready"] = run_checks(steps(s, m))
        checks = ss.get("class_ready")
        if checks:
            verdict = "Ready." if all(c.ok for c in checks) else "Not ready: see what failed."
            st.markdown(f"**{verdict}**  \n" + lines(checks))
