"""Interactive calculators (ipywidgets) over plain, tested compute functions.

Each calculator returns an ``ipywidgets.VBox`` whose children are ``(controls, result[, chart])``:
``controls`` is an HBox/VBox of input widgets, ``result`` an ``HTML`` widget with the CSS class
``loyalty-result`` whose text is exactly ``str()`` of the library result (so a browser test can
compare the page with the library). :func:`displayed_text` reads that text back in Python and
:func:`controls` finds the inputs by their description.

The compute functions (:func:`nps_text`, :func:`ltv_compute`, :func:`program_text`) do all the
work and are usable without a browser.

Stored lessons must re-store byte for byte, so each calculator gives its widgets model ids derived
from its name and a per-process serial (:func:`stable_model_ids`) instead of ipywidgets' random
ones, and its chart is a PNG without the matplotlib version stamp.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import io
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import comm
import ipywidgets as w

from loyalty_lib._result import Result
from loyalty_lib.ltv.simple import lifetime_from_churn, ltv
from loyalty_lib.nps import nps_from_counts
from loyalty_lib.program import simulate_program

__all__ = [
    "LTVEstimate",
    "controls",
    "displayed_text",
    "ltv_calculator",
    "ltv_compute",
    "nps_calculator",
    "nps_text",
    "program_calculator",
    "program_text",
    "stable_model_ids",
]

RESULT_CLASS = "loyalty-result"


# --- helpers for tests and notebooks ----------------------------------------------------------


def _walk(widget: w.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def displayed_text(box: w.Widget) -> str:
    """The plain text currently shown in the calculator's result area."""
    for widget in _walk(box):
        if isinstance(widget, w.HTML) and RESULT_CLASS in widget._dom_classes:
            return html.unescape(widget.value)
    raise ValueError("no result area (HTML widget with class 'loyalty-result') in this widget")


def controls(box: w.Widget) -> dict[str, w.ValueWidget]:
    """Input widgets of a calculator keyed by their description."""
    return {
        widget.description: widget
        for widget in _walk(box)
        if isinstance(widget, w.ValueWidget) and getattr(widget, "description", "")
    }


def _result_area() -> w.HTML:
    area = w.HTML(layout=w.Layout(width="100%"))
    area.add_class(RESULT_CLASS)
    return area


def _show(area: w.HTML, text: str) -> None:
    area.value = html.escape(text)


def _wire(inputs: list[w.ValueWidget], update: Callable[[], None]) -> None:
    for widget in inputs:
        widget.observe(lambda _change: update(), names="value")
    update()


_STYLE = {"description_width": "initial"}

# --- deterministic widget ids ----------------------------------------------------------------

_ID_NAMESPACE = uuid.UUID("5f0d3c1e-7a52-4b8e-9c61-05a1d2b3c4e5")
_serials = itertools.count(1)  # per process: two calculators in one kernel never share an id
_F = TypeVar("_F", bound=Callable[..., Any])


@contextlib.contextmanager
def stable_model_ids(name: str) -> Iterator[None]:
    """Widgets created inside the block get model ids uuid5(name/serial/n), n = creation order.

    ipywidgets draws a random uuid4 per widget (and per implicit Layout/Style); stored notebooks
    keep those ids in their outputs and widget state, so every re-run would change the file.
    The ids stay unique within a kernel because ``serial`` grows with each block.
    """
    serial = next(_serials)
    counter = itertools.count()
    original = comm.create_comm  # ipywidgets looks it up on the module at every widget creation

    def create_comm(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault(
            "comm_id", uuid.uuid5(_ID_NAMESPACE, f"{name}/{serial}/{next(counter)}").hex
        )
        return original(*args, **kwargs)

    comm.create_comm = create_comm
    try:
        yield
    finally:
        comm.create_comm = original


def _stable_ids(func: _F) -> _F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with stable_model_ids(func.__name__):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- NPS -----------------------------------------------------------------------------------------


def nps_text(promoters: int, passives: int, detractors: int) -> str:
    """``str(nps_from_counts(...))``, or the error message when the counts are invalid."""
    try:
        return str(nps_from_counts(promoters, passives, detractors))
    except (TypeError, ValueError) as exc:
        return f"Cannot compute NPS: {exc}"


@_stable_ids
def nps_calculator(promoters: int = 45, passives: int = 33, detractors: int = 22) -> w.VBox:
    """Counts of promoters / passives / detractors → NPS with its 95 % CI."""
    inputs = [
        w.BoundedIntText(value=v, min=0, max=10_000_000, description=d, style=_STYLE)
        for v, d in (
            (promoters, "Promoters (9–10)"),
            (passives, "Passives (7–8)"),
            (detractors, "Detractors (0–6)"),
        )
    ]
    area = _result_area()

    def update() -> None:
        _show(area, nps_text(*(i.value for i in inputs)))

    _wire(inputs, update)
    return w.VBox([w.HBox(inputs), area])


# --- LTV -----------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)  # keep Result.__repr__: the sentence
class LTVEstimate(Result):
    """LTV = m × a × t [L1]: RUB per customer over the lifetime."""

    avg_check: float
    purchases_per_period: float
    lifetime_periods: float
    ltv: float

    def __str__(self) -> str:
        return (
            f"LTV {self.ltv:,.0f} RUB per customer = average check {self.avg_check:,.0f} RUB × "
            f"{self.purchases_per_period:g} purchases per period × "
            f"{self.lifetime_periods:.2f} periods of lifetime."
        )


def ltv_compute(
    avg_check: float,
    purchases_per_period: float,
    *,
    lifetime_periods: float | None = None,
    churn_rate: float | None = None,
) -> LTVEstimate:
    """LTV = m × a × t [L1] with t given directly or as 1/churn (``loyalty_lib.ltv.simple``)."""
    if (lifetime_periods is None) == (churn_rate is None):
        raise ValueError("give exactly one of lifetime_periods or churn_rate")
    if churn_rate is not None:
        lifetime_periods = lifetime_from_churn(churn_rate)
    value = ltv(avg_check, purchases_per_period, lifetime_periods)
    return LTVEstimate(
        avg_check=float(avg_check),
        purchases_per_period=float(purchases_per_period),
        lifetime_periods=float(lifetime_periods),
        ltv=float(value),
    )


@_stable_ids
def ltv_calculator(
    avg_check: float = 1500.0,
    purchases_per_period: float = 2.0,
    lifetime_periods: float = 3.0,
    churn_rate: float = 0.25,
) -> w.VBox:
    """Sliders for m (RUB), a (purchases per period) and t (periods) or churn → LTV = m × a × t."""
    m = w.FloatSlider(value=avg_check, min=0, max=20_000, step=100,
                      description="Average check m (RUB)", style=_STYLE)  # fmt: skip
    a = w.FloatSlider(value=purchases_per_period, min=0, max=20, step=0.1,
                      description="Purchases per period a", style=_STYLE)  # fmt: skip
    mode = w.ToggleButtons(options=["lifetime", "churn rate"], value="lifetime",
                           description="Lifetime from", style=_STYLE)  # fmt: skip
    t = w.FloatSlider(value=lifetime_periods, min=0, max=20, step=0.5,
                      description="Lifetime t (periods)", style=_STYLE)  # fmt: skip
    churn = w.FloatSlider(value=churn_rate, min=0.01, max=1, step=0.01,
                          description="Churn per period", style=_STYLE)  # fmt: skip
    area = _result_area()
    inputs = [m, a, mode, t, churn]

    def update() -> None:
        by_churn = mode.value == "churn rate"
        t.disabled, churn.disabled = by_churn, not by_churn
        try:
            result = ltv_compute(
                m.value,
                a.value,
                lifetime_periods=None if by_churn else t.value,
                churn_rate=churn.value if by_churn else None,
            )
            _show(area, str(result))
        except (TypeError, ValueError) as exc:
            _show(area, f"Cannot compute LTV: {exc}")

    _wire(inputs, update)
    return w.VBox([w.VBox(inputs), area])


# --- loyalty program economics -----------------------------------------------------------------


def program_text(**kwargs: float) -> str:
    """``str(simulate_program(**kwargs))``, or the error message when an input is invalid."""
    try:
        return str(simulate_program(**kwargs))
    except (TypeError, ValueError) as exc:
        return f"Cannot simulate the program: {exc}"


def _png_output(fig: Any) -> dict[str, Any]:
    """``fig`` as one display_data output for an ``Output`` widget's ``outputs`` trait.

    Setting the trait, rather than ``with output: display(fig)``, works the same in JupyterLab, in
    papermill and in nbval (the context manager relies on a front end to route the output, so
    without one the figure lands in the cell's own output). No "Software: matplotlib x.y" chunk
    in the PNG, so stored notebooks stay byte-stable across matplotlib versions.
    """
    png = io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(png.getvalue()).decode("ascii"),
            "text/plain": "<cash-flow chart>",
        },
        "metadata": {},
    }


@_stable_ids
def program_calculator(
    members: int = 10_000,
    avg_check: float = 2_000.0,
    purchases_per_year: float = 6.0,
    earn_rate: float = 0.05,
    point_value: float = 1.0,
    redemption_rate: float = 0.6,
    member_uplift: float = 0.15,
    gross_margin: float = 0.4,
    fixed_costs: float = 500_000.0,
) -> w.VBox:
    """Sliders for the points program → :func:`simulate_program` sentence and a cash-flow chart."""
    from loyalty_lib.plots.program import program_cashflow

    fields = {
        "members": w.BoundedIntText(value=members, min=0, max=100_000_000,
                                    description="Members", style=_STYLE),
        "avg_check": w.BoundedFloatText(value=avg_check, min=0, max=1e7,
                                        description="Average check (RUB)", style=_STYLE),
        "purchases_per_year": w.BoundedFloatText(value=purchases_per_year, min=0, max=365,
                                                 description="Purchases per year", style=_STYLE),
        "fixed_costs": w.BoundedFloatText(value=fixed_costs, min=0, max=1e10,
                                          description="Fixed costs (RUB/yr)", style=_STYLE),
        "earn_rate": w.FloatSlider(value=earn_rate, min=0, max=0.2, step=0.005, readout_format=".3f",
                                   description="Points per RUB", style=_STYLE),
        "point_value": w.FloatSlider(value=point_value, min=0, max=2, step=0.05,
                                     description="RUB per point", style=_STYLE),
        "redemption_rate": w.FloatSlider(value=redemption_rate, min=0, max=1, step=0.05,
                                         description="Redemption rate", style=_STYLE),
        "member_uplift": w.FloatSlider(value=member_uplift, min=0, max=0.5, step=0.01,
                                       description="Member uplift", style=_STYLE),
        "gross_margin": w.FloatSlider(value=gross_margin, min=0, max=1, step=0.01,
                                      description="Gross margin", style=_STYLE),
    }  # fmt: skip
    area = _result_area()
    chart = w.Output()

    def update() -> None:
        kwargs = {k: widget.value for k, widget in fields.items()}
        text = program_text(**kwargs)
        _show(area, text)
        if text.startswith("Cannot"):
            chart.outputs = ()
            return
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 4))
        program_cashflow(simulate_program(**kwargs), ax=ax)
        fig.tight_layout()
        chart.outputs = (_png_output(fig),)
        plt.close(fig)  # otherwise the inline backend shows it a second time

    _wire(list(fields.values()), update)
    return w.VBox([w.VBox(list(fields.values())), area, chart])
