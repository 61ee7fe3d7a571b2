"""The gate every patch of Streamlit's internals passes before it installs (pages/ui/runtime/batching.py and
its kin): the Streamlit version it was written for, the signatures it wraps, and an off switch.

A patch that finds anything else logs one warning and leaves Streamlit as it is, so an upgrade
never breaks a page: it only loses the patch's gain until the patch is checked again.
`CNN_CLASSROOM_PATCHES=0` turns every patch off.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit

ENV_PATCHES = "CNN_CLASSROOM_PATCHES"
WRITTEN_FOR = "1.67."  # the Streamlit release line the patches were written against
RUN_SCRIPT_PARAMS = ("self", "rerun_data")  # ScriptRunner._run_script's parameters in 1.67
_LOG = logging.getLogger(__name__)
_OFF = ("0", "off", "false", "no")


def switched_on(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """False when $CNN_CLASSROOM_PATCHES or the patch's own variable `name` says 0/off/false/no."""
    env = environ if environ is not None else os.environ
    return all(env.get(var, "").strip().lower() not in _OFF for var in (ENV_PATCHES, name))


def has_patch(func: Any, flag: str) -> bool:
    """Whether `func`, or a function it wraps (each wrapper keeps the one below as `cc_original`),
    carries `flag`: two patches may wrap the same method (admission and fragment_page wrap
    ScriptRunner._run_script), so a patch finds itself under another one."""
    for _ in range(16):
        if func is None:
            return False
        if getattr(func, flag, False):
            return True
        func = getattr(func, "cc_original", None)
    return False


def innermost(func: Any) -> Any:
    """Streamlit's own function under every patch wrapped around it."""
    for _ in range(16):
        below = getattr(func, "cc_original", None)
        if below is None:
            return func
        func = below
    return func


def parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    """The names of a function's parameters, in order."""
    return tuple(inspect.signature(func).parameters)


def fits(patch: str, checks: Sequence[tuple[Any, Sequence[str]]], version: str | None = None) -> bool:
    """True when Streamlit is the version the patch was written for and each (function, parameter
    names) in `checks` matches; otherwise one warning naming what differs, and False."""
    found = version if version is not None else streamlit.__version__
    if not found.startswith(WRITTEN_FOR):
        _LOG.warning("%s: written for Streamlit %sx, found %s: not installed", patch, WRITTEN_FOR, found)
        return False
    for func, names in checks:
        if func is None or not callable(func):
            _LOG.warning("%s: a function it wraps is missing in Streamlit %s: not installed", patch, found)
            return False
        if parameters(func) != tuple(names):
            _LOG.warning(
                "%s: %s takes %s, expected %s: not installed",
                patch,
                getattr(func, "__qualname__", func),
                parameters(func),
                tuple(names),
            )
            return False
    return True


def wrap_run_script(
    patch: str,
    flag: str,
    rerun_fields: Sequence[str],
    wrap: Callable[[Callable[..., Any]], Callable[..., Any]],
    also: Sequence[tuple[str, Sequence[str]]] = (),
) -> bool:
    """Replace `ScriptRunner._run_script` with `wrap(original)`, once per process, where the gate lets
    it: the private modules import, `RerunData` has the `rerun_fields` the wrapper reads, and the
    method (and each (ScriptRunner method, parameter names) in `also`) has the signature it was
    written for. The wrapper is marked with `flag` and keeps `original` as `cc_original`, so several
    patches stack on the one method and each finds itself. True when installed now or before."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
        from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    except ImportError as exc:  # a moved module: the app runs as Streamlit does
        _LOG.warning("%s: %s: not installed", patch, exc)
        return False
    runner = script_runner.ScriptRunner
    original = getattr(runner, "_run_script", None)
    if has_patch(original, flag):
        return True
    fields = {f.name for f in dataclasses.fields(RerunData)} if dataclasses.is_dataclass(RerunData) else set()
    if not set(rerun_fields) <= fields:
        _LOG.warning("%s: RerunData lacks %s: not installed", patch, sorted(set(rerun_fields) - fields))
        return False
    checks = [
        (original, RUN_SCRIPT_PARAMS),
        *((getattr(runner, name, None), params) for name, params in also),
    ]
    if original is None or not fits(patch, checks):
        return False
    wrapper = wrap(original)
    setattr(wrapper, flag, True)
    wrapper.cc_original = original  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    runner._run_script = wrapper  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    return True
