"""Units of a --customers summary (issue: a weekly summary read as days gave a CLV ~4x too high).

The same transactions summarised by day and by ISO week, each read with its own ``freq``, must
give the same 12-month CLV: the BG/NBD model is fitted in the summary's period and the CLV
horizon (months) is converted into it. Reading the weekly summary as days must *not* agree — the
check below would pass for the wrong reason otherwise.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from loyalty_lib import data, report, summary
from loyalty_lib.report.compute import _clv

ROOT = Path(__file__).resolve().parents[2]
END = "2025-12-31"


@pytest.fixture(scope="module")
def summaries(tmp_path_factory) -> dict[str, Path]:
    tx = data.load_transactions(ROOT / "data" / "samples" / "transactions.csv").accepted
    folder = tmp_path_factory.mktemp("units")
    paths = {}
    for freq in ("D", "W"):
        paths[freq] = folder / f"customers_{freq}.csv"
        summary.customer_summary(tx, END, freq=freq).to_csv(paths[freq], index=False)
    return paths


def _mean_clv(path: Path, freq: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unidentified fit would warn; not what is tested here
        case = report.open_case("Units", customers=path, observation_end=END, freq=freq)
        return _clv(case)["record"]


def test_weekly_and_daily_summaries_give_the_same_clv(summaries):
    daily = _mean_clv(summaries["D"], "D")
    weekly = _mean_clv(summaries["W"], "W")
    assert daily["period"] == "days" and weekly["period"] == "weeks"
    assert daily["n_customers"] == weekly["n_customers"]
    # Weeks merge purchases made in the same week, so the two fits differ a little, not by 4x.
    assert weekly["clv_mean"] == pytest.approx(daily["clv_mean"], rel=0.03)


def test_weekly_summary_read_as_days_is_far_off(summaries):
    daily = _mean_clv(summaries["D"], "D")
    wrong = _mean_clv(summaries["W"], "D")
    assert wrong["clv_mean"] > 3 * daily["clv_mean"]


def test_template_parameters_cell_is_generated_from_the_settings_table():
    # One settings table: the report template's parameters cell is what parameters_cell() writes,
    # so the template cannot carry its own default (it had gross_margin 0.35 against 0.40).
    import json

    nb = json.loads((ROOT / "notebooks" / "07_consulting_case.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    source = "".join(cell["source"])
    lines = source.splitlines()
    for setting in report.SETTINGS:
        assert f"{setting.name} = {setting.default!r}  # {setting.help}" in lines, setting.name
    fixed = [ln for ln in lines if ln.split(" = ")[0] not in {s.name for s in report.SETTINGS}]
    assert "gross_margin = 0.4  #" in source and not any("gross_margin" in ln for ln in fixed)


def test_setting_help_texts_keep_the_parameters_cell_parseable():
    # papermill reads "name = value  # comment" lines; an "=" inside the comment breaks the line
    # (inactive_days' help said "more days = potentially churning" and the setting was dropped).
    for setting in report.SETTINGS:
        assert "=" not in setting.help, setting.name
