"""Shared behaviour of result objects: a sentence for ``print``, a table in a notebook, a dict for JSON.

Every analytic function that returns a single answer returns a frozen dataclass that inherits from
:class:`Result`. Subclasses only implement ``__str__`` (the sentence); the HTML table and the
JSON-ready dict are derived from the dataclass fields so they can never drift apart.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy/pandas load lazily: `loyalty --help` must stay light
    import pandas as pd


def _plain(value: Any) -> Any:
    """Convert numpy / pandas scalars and containers to JSON-ready Python values."""
    import numpy as np
    import pandas as pd

    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return value


def _fmt(value: Any) -> str:
    """A field value for the HTML table, through :mod:`loyalty_lib.i18n` (locale separators, at most
    four significant digits below 10,000 and never more than three decimals)."""
    import numpy as np
    import pandas as pd

    from loyalty_lib.i18n import fmt_count, fmt_number

    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return fmt_count(value)
    if isinstance(value, float | np.floating):
        return fmt_number(value, sig=4)
    if isinstance(value, pd.DataFrame):
        return f"table {value.shape[0]}×{value.shape[1]}"
    if isinstance(value, pd.Series):
        return f"series of {fmt_count(len(value))}"
    return str(value)


def sentence_html(result: Any, table: pd.DataFrame | None = None, **to_html: Any) -> str:
    """A result's sentence (``str``) as an escaped paragraph, with ``table`` below it when given
    (``to_html`` keywords go to ``DataFrame.to_html``): for results whose detail is one table."""
    text = f"<p>{html.escape(str(result))}</p>"
    if table is None:
        return text
    from loyalty_lib.i18n import fmt_number

    # raw floats (0.0160182…) are unreadable: four significant digits unless the caller decides
    to_html.setdefault("float_format", lambda v: fmt_number(v, sig=4))
    return text + table.to_html(**to_html)


@dataclasses.dataclass(frozen=True)
class Result:
    """Base class: subclasses are frozen dataclasses and override ``__str__``."""

    def to_dict(self) -> dict[str, Any]:
        """Field name → plain Python value (what reports write to ``summary.json``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_frame(self) -> pd.DataFrame:
        """One row per field: ``field``, ``value`` (for display and export)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "field": [f.name for f in dataclasses.fields(self)],
                "value": [getattr(self, f.name) for f in dataclasses.fields(self)],
            }
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(f.name)}</th>"
            f"<td style='text-align:right'>{html.escape(_fmt(getattr(self, f.name)))}</td></tr>"
            for f in dataclasses.fields(self)
        )
        caption = html.escape(str(self))
        return f"<table><caption style='caption-side:top;text-align:left'>{caption}</caption>{rows}</table>"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # @dataclass never overwrites an attribute already in the class body, so planting the
        # sentence-repr here keeps it for every subclass, whatever its decorator arguments.
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = Result.__repr__

    def __repr__(self) -> str:  # the sentence, also in the REPL and as a notebook's text output
        return str(self)
