"""Display helpers: objects that render as HTML in the notebook and as text elsewhere."""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import _, fmt_count, fmt_money, fmt_number, fmt_percent, get_language

# --------------------------------------------------------------------------------------------
# display helpers: objects that render as HTML in a notebook and as text elsewhere
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Skipped(Result):
    """A section that could not run because an input is missing (not an error).

    ``section`` and ``reason`` are the English texts (``summary.json`` keeps the reason as is, the
    same in every language); they are shown through the catalogue in the selected language."""

    section: str
    reason: str

    def __str__(self) -> str:
        return _("{section}: skipped — {reason}").format(
            section=_(self.section), reason=_(self.reason)
        )

    def _repr_html_(self) -> str:
        text = _("{section}: skipped — {reason}").format(
            section=f"<b>{html.escape(_(self.section))}</b>", reason=html.escape(_(self.reason))
        )
        return (
            "<p class='loyalty-skipped' style='border-left:4px solid #999;padding:0.4em 0.8em;"
            f"background:#f4f4f4'>{text}</p>"
        )


class _Text:
    """A paragraph (or a list) of report prose generated from the numbers."""

    def __init__(
        self,
        text: str | Sequence[str],
        *,
        ordered: bool = False,
        heading: str = "",
        finding: bool = False,
    ) -> None:
        self.items = [text] if isinstance(text, str) else list(text)
        self.ordered, self.heading, self.is_list = ordered, heading, not isinstance(text, str)
        self.finding = finding

    def __repr__(self) -> str:
        head = f"{self.heading}\n" if self.heading else ""
        if not self.is_list:
            return head + self.items[0]
        return head + "\n".join(
            f"{i}. {t}" if self.ordered else f"- {t}" for i, t in enumerate(self.items, 1)
        )

    def _repr_html_(self) -> str:
        head = f"<h3>{html.escape(self.heading)}</h3>" if self.heading else ""
        if not self.is_list:
            style = (
                (
                    " class='loyalty-finding' style='border-left:4px solid #1f77b4;padding:0.4em 0.8em;"
                    "background:#eef4fa'"
                )
                if self.finding
                else ""
            )
            return head + f"<p{style}>{html.escape(self.items[0])}</p>"
        tag = "ol" if self.ordered else "ul"
        return (
            head
            + f"<{tag}>"
            + "".join(f"<li>{html.escape(t)}</li>" for t in self.items)
            + f"</{tag}>"
        )


class _Table:
    """A DataFrame shown without its index, numbers already formatted for a client."""

    def __init__(self, frame: pd.DataFrame, caption: str = "") -> None:
        self.frame, self.caption = frame, caption

    def __repr__(self) -> str:
        body = self.frame.to_string(index=False)
        return f"{self.caption}\n{body}" if self.caption else body

    def _repr_html_(self) -> str:
        cap = f"<p><b>{html.escape(self.caption)}</b></p>" if self.caption else ""
        # Notebook and nbconvert styles right-align every cell; text columns read better left.
        style = (
            "<style>.jp-RenderedHTMLCommon table.loyalty-table td, .jp-RenderedHTMLCommon "
            "table.loyalty-table th, table.loyalty-table td, table.loyalty-table th "
            "{text-align: left;}</style>"
        )
        return (
            style
            + cap
            + self.frame.to_html(
                index=False, border=0, na_rep="—", escape=True, classes="loyalty-table"
            )
        )


def noting_warnings(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a section function: a warning raised while it runs (drawing a chart, say) is
    shown after its output as a plain note (message only), not as a stderr box with a path."""
    import functools

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        import warnings

        from IPython.display import display

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn(*args, **kwargs)
        notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
        if notes:
            display(_Text(notes, heading=_("Notes")))
        return out

    return inner


def _show(*objects: Any) -> None:
    """Display each object; a Matplotlib Axes is shown as its figure and then closed."""
    from IPython.display import display

    for obj in objects:
        if obj is None:
            continue
        if isinstance(obj, Result) and not isinstance(obj, Skipped):
            obj = _Text(str(obj), finding=True)  # the client reads the sentence, not the field dump
        if hasattr(obj, "figure") and hasattr(obj, "set_title"):  # an Axes from loyalty_lib.plots
            import matplotlib.pyplot as plt

            fig = obj.figure
            fig.tight_layout()
            display(fig)
            plt.close(fig)
        else:
            display(obj)


# Numbers for the client, in the selected language's format (English: 14,474 RUB, 34%, +18.9;
# Russian: 14 474 ₽, 34 %, +18,9 with non-breaking spaces), through loyalty_lib.i18n.format.


def _missing(x: Any) -> bool:
    return x is None or not math.isfinite(x)


def _money(x: float, currency: str) -> str:
    """Whole currency units: ``14,474 RUB`` / ``14 474 ₽``."""
    return fmt_money(x, currency, decimals=0)


def _count(x: float) -> str:
    """A count with thousands separators: ``12,345`` / ``12 345``."""
    return fmt_count(x)


def _num(x: float, decimals: int = 0) -> str:
    """A number with exactly ``decimals`` decimals: ``3.15`` / ``3,15``."""
    return fmt_number(x, decimals=decimals)


def _share(x: float, decimals: int = 0) -> str:
    """A share 0..1 as percent, rounded as ``f"{x:.0%}"``: ``34%`` / ``34 %``."""
    return fmt_percent(x, decimals=decimals)


def _signed(x: float, decimals: int = 0) -> str:
    """A signed number: ``+18.9``, ``-1,234`` / ``+18,9``, ``−1 234`` (Russian: the minus sign)."""
    if _missing(x):
        return "—"
    text = fmt_number(abs(x), decimals=decimals)
    if round(abs(x), decimals) == 0:
        return f"{0:+.{decimals}f}".replace(".", "," if get_language() == "ru" else ".")
    return ("+" if x > 0 else ("−" if get_language() == "ru" else "-")) + text


def _pct(x: float, digits: int = 1) -> str:
    return "—" if _missing(x) else f"{_num(100 * x, digits)}\u00a0%"


def _signed_pct(x: float) -> str:
    """A signed percent with one decimal: ``+12.3 %`` / ``+12,3 %`` (non-breaking in Russian)."""
    space = " " if get_language() == "en" else "\u00a0"
    return "—" if _missing(x) else f"{_signed(100 * x, 1)}{space}%"


def _interval(low: str, high: str) -> str:
    """An interval of two formatted ends: ``5 to 9`` / ``от 5 до 9``."""
    return _("{low} to {high}").format(low=low, high=high)


def _level(confidence: float) -> str:
    """The head of a confidence-interval column: ``95% CI`` / ``ДИ 95 %``."""
    return _("{level} CI").format(level=_share(confidence))
