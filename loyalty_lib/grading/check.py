"""What trainee notebooks import: :func:`check`, a visible self-check with a message and a hint.

Kept free of nbgrader and of heavy imports: every exercise notebook imports it in its first cell.
"""

from __future__ import annotations

from loyalty_lib.i18n.messages import N_, catalogue

HINT = N_("Hint:")
FAILED = N_("Check failed")


def _in_language_of(text: str, message: str) -> str:
    """``message`` in the language the exercise is written in: a Russian exercise writes its
    messages and hints in Russian, while the library's language in the trainee's kernel is left at
    its default — so the text, not the setting, decides (more Cyrillic than Latin letters)."""
    cyrillic = sum("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)
    latin = sum("a" <= ch.lower() <= "z" for ch in text)
    if cyrillic > latin:
        translated = catalogue("ru").get(message)
        if isinstance(translated, str) and translated:
            return translated
    return message


class CheckFailed(AssertionError):
    """A visible self-check that failed: shown to the trainee as its message and hint only."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the trainee needs what was expected
        # and where to look, not the lines of this module.
        text = str(self)
        return [f"\x1b[31m{_in_language_of(text, FAILED)}\x1b[0m", *text.splitlines()]


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
        label = _in_language_of(f"{message} {hint or ''}", HINT)
        raise CheckFailed(f"✗ {message}" + (f"\n{label} {hint}" if hint else ""))
    print(f"✓ {message}")
