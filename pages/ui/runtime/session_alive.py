"""Whether this page's session is still open, for long library work to stop at when it is gone.

`session_gone_check()` returns a callable for cnnlib's `should_stop` arguments (e.g.
`load_dataset("upload", ..., should_stop=...)`): it turns True once the browser tab that asked for
the work has closed, so a decode nobody will see stops instead of taking the server's cores.
It reads `Runtime.is_active_session`, a public, thread-safe method of Streamlit's runtime, and
patches nothing; where the runtime or the method is missing (AppTest, another Streamlit) it gives
None: the work is then never stopped, as before.
"""

from __future__ import annotations

from collections.abc import Callable


def session_gone_check() -> Callable[[], bool] | None:
    """A no-argument callable, True once this session has closed; None outside a running server."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return None
        runtime, session_id = Runtime.instance(), ctx.session_id
        active = runtime.is_active_session
    except (ImportError, AttributeError, RuntimeError):
        return None
    return lambda: not active(session_id)
