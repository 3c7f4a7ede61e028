"""The Result base class: a sentence for print and repr, a table for notebooks, plain data for JSON."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_lib._result import Result


@dataclass(frozen=True)  # deliberately without repr=False: the base must still win
class _Share(Result):
    part: int
    whole: int
    labels: pd.Series

    def __str__(self) -> str:
        return f"{self.part} of {self.whole} customers ({self.part / self.whole:.0%})"


def _example() -> _Share:
    return _Share(part=np.int64(3), whole=4, labels=pd.Series(["a", "b"] * 50))


def test_repr_is_the_sentence_even_with_a_generated_dataclass_repr():
    assert repr(_example()) == "3 of 4 customers (75%)"


def test_ipython_text_output_is_the_sentence():
    from IPython.lib.pretty import pretty

    assert pretty(_example()) == "3 of 4 customers (75%)"


def test_html_table_has_the_sentence_and_shortens_series():
    html = _example()._repr_html_()
    assert "3 of 4 customers (75%)" in html
    assert "series of 100" in html and html.count("<tr>") == 3


def test_to_dict_is_plain_python():
    d = _example().to_dict()
    assert d["part"] == 3 and type(d["part"]) is int
    assert d["labels"]["0"] == "a" and len(d["labels"]) == 100


def test_table_cells_go_through_the_number_formatter():
    from loyalty_lib._result import _fmt
    from loyalty_lib.i18n import using_language

    # worked out by hand: 4 significant digits, thousands separated, at most 3 decimals
    assert _fmt(14473.722670058205) == "14,474"
    assert _fmt(0.196196) == "0.196"
    assert _fmt(np.float64(2.8236)) == "2.824"
    assert _fmt(np.int64(12345)) == "12,345" and _fmt(True) == "True"
    with using_language("ru"):
        assert _fmt(14473.7).replace("\u00a0", " ") == "14 474"
