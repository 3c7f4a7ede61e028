"""Display helpers: objects that render as HTML in the notebook and as text elsewhere."""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from loyalty_lib._result import Result

# --------------------------------------------------------------------------------------------
# display helpers: objects that render as HTML in a notebook and as text elsewhere
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Skipped(Result):
    """A section that could not run because an input is missing (not an error)."""

    section: str
    reason: str

    def __str__(self) -> str:
        return f"{self.section}: skipped — {self.reason}"

    def _repr_html_(self) -> str:
        return (
            "<p class='loyalty-skipped' style='border-left:4px solid #999;padding:0.4em 0.8em;"
            f"background:#f4f4f4'><b>{html.escape(self.section)}</b>: skipped — "
            f"{html.escape(self.reason)}</p>"
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
            display(_Text(notes, heading="Notes"))
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


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}"


def _pct(x: float, digits: int = 1) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


def _signed_pct(x: float) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:+.1f} %"
