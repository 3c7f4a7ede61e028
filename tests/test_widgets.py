"""Widgets update their result text to exactly the library's sentence when an input changes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import itertools
import uuid

import comm
import ipywidgets as w
import pytest
from helpers import PROGRAM_BASE

from loyalty_lib import widgets as W
from loyalty_lib.nps import nps_from_counts
from loyalty_lib.program import simulate_program


def test_nps_calculator_updates():
    box = W.nps_calculator()
    assert isinstance(box, w.VBox)
    inputs = W.controls(box)
    assert set(inputs) == {"Promoters (9–10)", "Passives (7–8)", "Detractors (0–6)"}
    assert W.displayed_text(box) == str(nps_from_counts(45, 33, 22))
    inputs["Promoters (9–10)"].value = 50
    inputs["Passives (7–8)"].value = 30
    inputs["Detractors (0–6)"].value = 20
    # Hand calculation: 50/30/20 → NPS 30, SE 7.81, CI 14.7..45.3.
    assert W.displayed_text(box) == str(nps_from_counts(50, 30, 20))
    assert W.displayed_text(box).startswith("NPS +30.0 (95% CI +14.7 to +45.3, n=100")


def test_nps_calculator_shows_error_for_no_respondents():
    box = W.nps_calculator(0, 0, 1)
    W.controls(box)["Detractors (0–6)"].value = 0
    assert W.displayed_text(box).startswith("Cannot compute NPS: no respondents")


def test_result_area_has_css_class_for_browser_tests():
    box = W.nps_calculator()
    area = box.children[1]
    assert isinstance(area, w.HTML)
    assert W.RESULT_CLASS in area._dom_classes


def test_ltv_compute_by_hand():
    # m × a × t = 1,500 RUB × 2 × 3 = 9,000 RUB; with churn 25 % per period, t = 1/0.25 = 4 →
    # 12,000 RUB.
    assert W.ltv_compute(1500, 2, lifetime_periods=3).ltv == pytest.approx(9000)
    assert W.ltv_compute(1500, 2, churn_rate=0.25).ltv == pytest.approx(12000)
    with pytest.raises(ValueError, match="exactly one"):
        W.ltv_compute(1500, 2)


def test_ltv_calculator_updates():
    box = W.ltv_calculator(avg_check=1500, purchases_per_period=2, lifetime_periods=3)
    inputs = W.controls(box)
    assert W.displayed_text(box) == str(W.ltv_compute(1500, 2, lifetime_periods=3))
    inputs["Average check m (RUB)"].value = 2000
    assert W.displayed_text(box) == str(W.ltv_compute(2000, 2, lifetime_periods=3))
    inputs["Lifetime from"].value = "churn rate"
    inputs["Churn per period"].value = 0.5
    assert inputs["Lifetime t (periods)"].disabled
    assert W.displayed_text(box) == str(W.ltv_compute(2000, 2, churn_rate=0.5))


def test_program_calculator_updates():
    box = W.program_calculator()
    inputs = W.controls(box)
    base = PROGRAM_BASE  # the calculator opens on the simulator tests' scenario
    assert W.displayed_text(box) == str(simulate_program(**base))
    inputs["Member uplift"].value = 0.05
    # Hand calculation: margin 120e6·0.05·0.4 = 2.4e6; rewards 126e6·0.05·0.6 = 3.78e6;
    # net = 2.4e6 − 3.78e6 − 0.5e6 = −1.88e6 RUB/yr.
    assert W.displayed_text(box) == str(simulate_program(**{**base, "member_uplift": 0.05}))
    assert W.displayed_text(box).startswith("Net benefit -1,880,000 RUB/yr")
    inputs["Redemption rate"].value = 0.3
    assert W.displayed_text(box) == str(
        simulate_program(**{**base, "member_uplift": 0.05, "redemption_rate": 0.3})
    )
    assert isinstance(box.children[2], w.Output)


def test_displayed_text_needs_a_result_area():
    with pytest.raises(ValueError, match="result area"):
        W.displayed_text(w.VBox([w.IntSlider()]))


def _model_ids(box: w.Widget) -> list[str]:
    # Every widget model the calculator owns, implicit Layout/Style models included.
    ids = []
    for widget in W._walk(box):
        ids += [widget.model_id, widget.layout.model_id]
        if getattr(widget, "style", None) is not None:
            ids.append(widget.style.model_id)
    return ids


def test_calculators_get_stable_unique_model_ids(monkeypatch):
    original = comm.create_comm
    monkeypatch.setattr(W, "_serials", itertools.count(1))
    first = _model_ids(W.program_calculator())
    second = _model_ids(W.program_calculator())
    # A fresh process (serial restarts at 1) gives the first calculator's ids again; close the
    # widgets first, as a new kernel would not hold them.
    w.Widget.close_all()
    monkeypatch.setattr(W, "_serials", itertools.count(1))
    again = _model_ids(W.program_calculator())
    w.Widget.close_all()
    assert first == again
    assert len(set(first + second)) == len(first) + len(second)  # no clash within a kernel
    # Independent recomputation of the scheme: the first model created is uuid5(ns, name/1/0).
    expected = uuid.uuid5(W._ID_NAMESPACE, "program_calculator/1/0").hex
    assert expected in first
    assert comm.create_comm is original  # the patch is undone after building
    with pytest.raises(RuntimeError), W.stable_model_ids("boom"):
        raise RuntimeError("building failed")
    assert comm.create_comm is original


def test_program_calculator_chart_is_a_stable_png_in_the_output_widget():
    import base64

    box = W.program_calculator()
    chart = box.children[2]
    assert isinstance(chart, w.Output)
    (out,) = chart.outputs
    png = base64.b64decode(out["data"]["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Software" not in png  # no matplotlib version stamp: stored notebooks stay stable
    W.controls(box)["Member uplift"].value = 0.05  # net benefit turns negative: a new chart
    assert chart.outputs[0]["data"]["image/png"] != out["data"]["image/png"]
    w.Widget.close_all()
