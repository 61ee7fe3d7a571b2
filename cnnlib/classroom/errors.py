"""The class store's errors: `ClassError` for anything a teacher or student can act on.

`ClassError` is a ValueError whose message says what went wrong and what to do (a wrong code, a
missing teacher key, a nickname that is too long, a poll that is closed). `ClassUnavailable` is the
`ClassError` raised when the class database itself cannot be used (unreachable, read-only, damaged,
misconfigured): a page catches it, says the class features are off, and the lesson goes on.
"""

from __future__ import annotations

__all__ = ["ClassError", "ClassUnavailable"]


class ClassError(ValueError):
    """A class-session request that cannot be done; the message says why and what to do."""


class ClassUnavailable(ClassError):
    """The class database cannot be used right now; the lesson pages work without it."""
