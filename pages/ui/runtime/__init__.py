"""The app's code that reaches into Streamlit's runtime, below its public `st` API (Streamlit 1.67).

The patches of Streamlit's private internals (`admission`, `batching`, `finished_runs`,
`fragment_page`, `uploads_release`, `widget_state`), each installed by the frame only through the
gate in `guard` (the Streamlit version and the exact signatures it wraps; `CNN_CLASSROOM_PATCHES=0`
turns them all off, each has a switch of its own), and `session_alive`, which patches nothing but
reads the runtime (`Runtime.is_active_session`) and gives up quietly where it is missing. Nothing is
re-exported here: import each module by its own name.
"""
