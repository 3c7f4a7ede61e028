"""What trainee notebooks import: :func:`check`, a visible self-check with a message and a hint.

Kept free of nbgrader and of heavy imports: every exercise notebook imports it in its first cell.
"""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A visible self-check that failed: shown to the trainee as its message and hint only."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the trainee needs what was expected
        # and where to look, not the lines of this module.
        return ["\x1b[31mCheck failed\x1b[0m", *str(self).splitlines()]


def check(condition: object, message: str, hint: str | None = None) -> None:
    """Print ``✓ message`` when ``condition`` is true, else raise ``AssertionError("✗ message\\nHint: ...")``.

    ``message`` says what was expected (never the answer to the exercise); ``hint`` says where to
    look. ``condition`` must be one truth value: pass ``(a == b).all()``, not an array.
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the trainee sees their test line
    if not isinstance(message, str) or not message:
        raise TypeError("check() needs a non-empty message saying what was expected")
    if hasattr(condition, "shape") and getattr(condition, "shape", ()) not in ((), None):
        raise TypeError(
            "check() needs one True/False, got an array or table; reduce it with .all() or .any()"
        )
    if not bool(condition):
        raise CheckFailed(f"✗ {message}" + (f"\nHint: {hint}" if hint else ""))
    print(f"✓ {message}")
