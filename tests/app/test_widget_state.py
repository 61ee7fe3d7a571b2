"""Value widgets look up their own key (pages/ui/runtime/widget_state.py): same answers as Streamlit's full
copy of the session state, over many random states, and the widgets behave as before."""

from __future__ import annotations

import importlib
import logging
import random

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from pages.ui.runtime import guard, widget_state

# A widget of each patched module, with a key the test sets beforehand (not the slider: Streamlit's
# own slider refuses a None value, patched or not).
WIDGETS = {
    "number_input": 'st.number_input("n", 0, 10, key="{key}")',
    "radio": 'st.radio("r", ["a", "b"], key="{key}")',
    "selectbox": 'st.selectbox("s", ["a", "b"], key="{key}")',
    "text_widgets": 'st.text_input("t", key="{key}")',
    "time_widgets": 'st.date_input("d", key="{key}")',
}


def test_installed_in_every_value_widget_module_and_idempotent():
    assert widget_state.install() == len(widget_state.MODULES)
    first = [
        importlib.import_module(f"streamlit.elements.widgets.{m}").get_session_state
        for m in widget_state.MODULES
    ]
    assert widget_state.install() == len(widget_state.MODULES)  # a second call wraps nothing again
    again = [
        importlib.import_module(f"streamlit.elements.widgets.{m}").get_session_state
        for m in widget_state.MODULES
    ]
    assert first == again and all(getattr(f, "cc_lazy", False) for f in again)


def test_key_view_answers_as_the_full_copy_over_random_states():
    """Random sessions of user values, keyed and keyless widgets: every key asked (present, absent,
    a widget's, an internal one) gets the answer the full copy gives."""
    widget_state.install()
    rng = random.Random(5)
    for case in range(40):
        keys = [f"k{i}" for i in range(rng.randint(0, 12))]
        lines = [
            "import streamlit as st",
            "from pages.ui.runtime.widget_state import KeyView",
            "ss = st.session_state",
        ]
        for k in keys:
            kind = rng.choice(["value", "none", "widget", "widget_none"])
            if kind in ("value", "none"):
                lines.append(f"ss[{k!r}] = {rng.randint(0, 9) if kind == 'value' else None}")
            else:
                if kind == "widget_none":
                    lines.append(f"ss[{k!r}] = None")
                lines.append(f'st.number_input("{k}", 0, 10, key={k!r}, value=None)')
        lines.append('st.text_input("keyless")')
        asked = [*keys, "absent", "keyless", "$$STREAMLIT_INTERNAL_KEY_x"]
        lines += [
            "state = st.runtime.state.get_session_state()",
            "full, view = state.filtered_state, KeyView(state)",
            f"for key in {asked!r}:",
            "    assert (key in view) == (key in full), key",
            "    if key in full:",
            "        assert view[key] == full[key], key",
            "    else:",
            "        try:",
            "            view[key]",
            "        except KeyError:",
            "            pass",
            "        else:",
            "            raise AssertionError(f'{key!r} is not in the full copy but the view has it')",
            "assert sorted(view) == sorted(full) and len(view) == len(full)",
            "st.write('checked')",
        ]
        at = AppTest.from_string("\n".join(lines), default_timeout=30)
        at.run()
        assert not at.exception, (case, at.exception)
        assert at.markdown[-1].value == "checked"


@pytest.mark.parametrize("module", list(WIDGETS))
def test_a_key_set_to_none_still_empties_the_widget(module):
    """What Streamlit reads filtered_state for: a key whose value is None shows an empty widget."""
    widget_state.install()
    script = "\n".join(
        [
            "import streamlit as st",
            "if 'w' not in st.session_state:",
            "    st.session_state['w'] = None",
            WIDGETS[module].format(key="w"),
            "st.write('value', repr(st.session_state['w']))",
        ]
    )
    at = AppTest.from_string(script, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert "None" in at.markdown[-1].value


def _lookups() -> list:
    return [
        importlib.import_module(f"streamlit.elements.widgets.{m}").get_session_state
        for m in widget_state.MODULES
    ]


def test_not_installed_on_another_streamlit_or_when_switched_off(monkeypatch, caplog):
    """A faked other Streamlit version, or the off switch: one warning (for the version), and every
    widget module keeps Streamlit's own get_session_state."""
    widget_state.uninstall()
    try:
        streamlits = _lookups()
        assert not any(getattr(f, "cc_lazy", False) for f in streamlits)
        monkeypatch.setattr(streamlit, "__version__", "1.68.0")
        with caplog.at_level(logging.WARNING):
            assert widget_state.install() == 0
        assert caplog.text.count("written for Streamlit 1.67") == 1
        assert _lookups() == streamlits
        monkeypatch.setattr(streamlit, "__version__", "1.67.0")
        for env in (widget_state.ENV_LAZY, guard.ENV_PATCHES):
            monkeypatch.setenv(env, "0")
            assert widget_state.install() == 0 and _lookups() == streamlits
            monkeypatch.delenv(env)
    finally:
        monkeypatch.undo()
        assert widget_state.install() == len(widget_state.MODULES)


def test_not_installed_when_a_wrapped_signature_changed(monkeypatch, caplog):
    from streamlit.runtime.state import safe_session_state

    widget_state.uninstall()
    try:
        streamlits = _lookups()
        changed = type(
            "SafeSessionState",
            (safe_session_state.SafeSessionState,),
            {"__getitem__": lambda self, key, default=None: None},
        )
        monkeypatch.setattr(safe_session_state, "SafeSessionState", changed)
        with caplog.at_level(logging.WARNING):
            assert widget_state.install() == 0
        assert "takes ('self', 'key', 'default')" in caplog.text and _lookups() == streamlits
    finally:
        monkeypatch.undo()
        assert widget_state.install() == len(widget_state.MODULES)
