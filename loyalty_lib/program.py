"""Designing a loyalty program: the five-stage canvas, reference tables, and the economics simulator.

Seed-digest ids in brackets. The canvas follows the five stages [P1]: one goal, one key factor,
feasibility (benefits > costs and obligations the company can keep), tools [P2], and KPIs to
evaluate it [E1]; plus the requirements that a program be understandable, open to all customers
and legal [P5]. :func:`validate_canvas` lists every problem in plain words.

The tables from the sources (:func:`program_models`, :func:`loyalty_factors`,
:func:`method_effects`, ...) are *reported* figures from business articles, useful as scenario
inputs, not laws.

:func:`simulate_program` computes one year of a points program per scenario; see its docstring
for the accounting assumptions.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import N_, _, fmt_date, fmt_number, fmt_percent, get_language


def _whole(value: float) -> str:
    """Money in whole units with separators, as ``f"{value:,.0f}"`` (``1 234`` in Russian)."""
    return fmt_number(value, decimals=0)


def _signed(value: float, decimals: int = 0) -> str:
    """A signed number, as ``f"{value:+,.0f}"``: ``+100,643`` / ``+100 643``."""
    text = fmt_number(value, decimals=decimals)
    return text if text.startswith(("-", "−")) else "+" + text


def _sign(currency: str) -> str:
    """The currency as the reader writes it: ``RUB`` in English, ``₽`` in Russian."""
    return "₽" if currency == "RUB" and get_language() == "ru" else currency


__all__ = [
    "DISCOUNT_TOOLS",
    "GOALS",
    "KEY_FACTORS",
    "KPIS",
    "MEMBER_UPLIFT_RANGE",
    "MIN_EFFECTIVE_DISCOUNT",
    "STARTING_BUDGET_EUR",
    "TOOLS",
    "VERDICTS",
    "PointsRevenueResult",
    "ProgramBaseline",
    "ProgramCanvas",
    "discount_break_even_uplift",
    "points_deferred_revenue",
    "ProgramEconomics",
    "break_even_redemption",
    "break_even_uplift",
    "loyalty_factors",
    "loyalty_methods",
    "method_effects",
    "program_baseline",
    "program_models",
    "program_tasks",
    "roi",
    "scenario_grid",
    "simulate_program",
    "simulate_scenarios",
    "uplift_verdict",
    "validate_canvas",
]

# --- vocabularies --------------------------------------------------------------------------------

GOALS: dict[str, str] = {
    "attract": "attract new customers",
    "retain": "retain current customers",
    "prevent_losses": "prevent losing customers to competitors",
}
"""Stage 1 [P1]: the program has exactly one priority goal."""

KEY_FACTORS: dict[str, str] = {
    "special_treatment": "customers come back for special treatment",
    "special_services": "customers come back for special services",
    "price": "customers come back for the price",
    "other": "another reason (describe it)",
}
"""Stage 2 [P1]: the one reason the main customers come back."""

TOOLS: dict[str, str] = {
    "fixed_discount": "a fixed discount for members",
    "cumulative_discount": "a discount that grows with the total spent",
    "premium_service": "premium service terms (priority, extended warranty, free delivery...)",
    "prize_draws": "prize draws and contests",
    "limited_access": "access to limited resources (early sales, closed collections, events)",
    "profit_participation": "a share in the company's profit",
    "club_community": "a club or community of customers",
}
"""Stage 4 tools [P2]."""

DISCOUNT_TOOLS: frozenset[str] = frozenset({"fixed_discount", "cumulative_discount"})
MIN_EFFECTIVE_DISCOUNT = 0.30
"""Discounts change behaviour only when large: 30–50 % or more [P2]."""

KPIS: dict[str, str] = {
    "participants": "number of program participants",
    "activity": "participants' activity (share who earn or redeem)",
    "average_check": "average check (RUB)",
    "repeat_purchases": "repeat purchases",
    "program_costs": "program costs (RUB)",
    "roi": "return on investment",
    "retention": "retention in each segment",
    "nps": "Net Promoter Score",
}
"""Stage 5 KPIs [E1], [E2]."""

STARTING_BUDGET_EUR = 5_000
"""Reported minimum budget for a basic program [P8]."""

MEMBER_UPLIFT_RANGE: tuple[float, float] = (0.12, 0.18)
"""Program members spend 12–18 % more than non-members, as reported [L6] (shares)."""

VERDICTS: tuple[str, ...] = ("profitable", "depends", "not profitable")
"""Answers of :func:`uplift_verdict`: pays off across the reported uplift range, only in part of
it, or nowhere in it."""

# --- the canvas ----------------------------------------------------------------------------------


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True, repr=False)  # keep Result.__repr__: the sentence
class ProgramCanvas(Result):
    """The five design stages [P1] and the requirements [P5] of one loyalty program.

    Money in RUB per year. ``discount_rate`` and ``gross_margin`` are shares (0.3 = 30 %); a
    discount tool is checked against the margin (:func:`discount_break_even_uplift`), so lessons
    pass ``SAMPLE_RETAILER.gross_margin``. Every field has a default so a notebook can fill the
    canvas stage by stage; :func:`validate_canvas` says what is missing.
    """

    goals: tuple[str, ...] = ()
    key_factor: str | None = None
    key_factor_description: str = ""
    expected_benefits: float = 0.0
    expected_costs: float = 0.0
    obligations_feasible: bool = False
    tools: tuple[str, ...] = ()
    discount_rate: float | None = None
    gross_margin: float | None = None  # share of revenue left after the cost of goods, 0..1
    kpis: tuple[str, ...] = ()
    understandable: bool = False
    accessible_to_all: bool = False
    legal: bool = False

    def __post_init__(self) -> None:
        # Accept a single string or a list, store a tuple so the canvas stays hashable.
        for name in ("goals", "tools", "kpis"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))

    @property
    def problems(self) -> list[str]:
        """Same as :func:`validate_canvas`."""
        return validate_canvas(self)

    @property
    def is_valid(self) -> bool:
        """True when :func:`validate_canvas` finds no problem."""
        return not validate_canvas(self)

    def __str__(self) -> str:
        problems = validate_canvas(self)
        none = _("none")
        status = _("valid") if not problems else _("{n} problem(s)").format(n=len(problems))
        return _(
            "Loyalty program canvas ({status}): goal {goal}; key factor {key_factor}; "
            "benefits {benefits} RUB/yr vs costs {costs} RUB/yr; tools {tools}; KPIs {kpis}."
        ).format(
            status=status,
            goal=", ".join(self.goals) or none,
            key_factor=self.key_factor or none,
            benefits=_whole(self.expected_benefits),
            costs=_whole(self.expected_costs),
            tools=", ".join(self.tools) or none,
            kpis=", ".join(self.kpis) or none,
        )


def _fmt_list(items: Sequence[str]) -> str:
    return ", ".join(items)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def discount_break_even_uplift(discount: float, gross_margin: float) -> float:
    """Extra sales (share) a price discount needs just to keep the gross profit: d / (m − d).

    A sale of price 1 earns margin m; at discount d it earns m − d, so volume must grow by the
    factor m / (m − d), i.e. by d / (m − d). ``inf`` when d ≥ m (every discounted sale loses
    money). Example: m = 0.40, d = 0.30 → 0.30 / 0.10 = 3.0, sales must quadruple (+300 %).
    """
    d, m = _number(discount), _number(gross_margin)
    if d is None or not 0 <= d <= 1:
        raise ValueError(f"discount must be a share from 0 to 1, got {discount!r}")
    if m is None or not 0 < m <= 1:
        raise ValueError(
            f"gross_margin must be a share above 0 and at most 1, got {gross_margin!r}"
        )
    return math.inf if d >= m else d / (m - d)


def _discount_problems(rate: float, margin: Any) -> list[str]:
    """Stage 4 problems of a discount tool: too small to matter, or too dear for the margin."""
    out = []
    if rate < MIN_EFFECTIVE_DISCOUNT:
        out.append(
            _(
                "Stage 4 (tools): a {rate} discount is too small to change behaviour "
                "(discounts start to matter from about {minimum}); choose another "
                "tool rather than a larger discount unless the margin can carry it."
            ).format(
                rate=fmt_percent(rate, decimals=0),
                minimum=fmt_percent(MIN_EFFECTIVE_DISCOUNT, decimals=0),
            )
        )
    m = _number(margin)
    if margin is None:
        out.append(
            _(
                "Stage 4 (tools): gross_margin is not set, so the discount cannot be checked "
                "against it; a discount d at margin m needs sales to grow by d / (m − d) to "
                "break even."
            )
        )
    elif m is None or not 0 < m <= 1:
        out.append(
            _("Stage 4 (tools): gross_margin must be a share from 0 to 1, got {value}.").format(
                value=repr(margin)
            )
        )
    else:
        need = discount_break_even_uplift(rate, m)
        top = MEMBER_UPLIFT_RANGE[1]
        if math.isinf(need):
            out.append(
                _(
                    "Stage 4 (tools): a {rate} discount at a {margin} gross margin loses money on "
                    "every discounted sale (the discount is at least the margin)."
                ).format(rate=fmt_percent(rate, decimals=0), margin=fmt_percent(m, decimals=0))
            )
        elif need > top:
            out.append(
                _(
                    "Stage 4 (tools): a {rate} discount at a {margin} gross margin needs sales to "
                    "grow by {rate} / ({margin} − {rate}) = {need} just to keep the gross "
                    "profit, far above the {low}–{high} extra spend reported "
                    "for members; prefer service, access or clubs."
                ).format(
                    rate=fmt_percent(rate, decimals=0),
                    margin=fmt_percent(m, decimals=0),
                    need=fmt_percent(need, decimals=0),
                    low=fmt_percent(MEMBER_UPLIFT_RANGE[0], decimals=0),
                    high=fmt_percent(top, decimals=0),
                )
            )
    return out


def validate_canvas(canvas: ProgramCanvas) -> list[str]:
    """Every problem of the canvas in plain words, stage by stage; an empty list means valid."""
    if not isinstance(canvas, ProgramCanvas):
        raise TypeError(f"expected a ProgramCanvas, got {type(canvas).__name__}")
    problems: list[str] = []

    # Stage 1: exactly one goal [P1].
    unknown = [g for g in canvas.goals if g not in GOALS]
    problems += [
        _("Stage 1 (goal): unknown goal {goal}; choose one of {choices}.").format(
            goal=repr(g), choices=_fmt_list(GOALS)
        )
        for g in unknown
    ]
    if not canvas.goals:
        problems.append(
            _("Stage 1 (goal): no goal set; choose exactly one of {choices}.").format(
                choices=_fmt_list(GOALS)
            )
        )
    elif len(canvas.goals) > 1:
        problems.append(
            _(
                "Stage 1 (goal): {n} goals set ({goals}); a program needs exactly one priority "
                "goal."
            ).format(n=len(canvas.goals), goals=_fmt_list(canvas.goals))
        )

    # Stage 2: one key factor [P1].
    if not canvas.key_factor:
        problems.append(
            _(
                "Stage 2 (key factor): no key factor; say why the main customers come back "
                "({choices})."
            ).format(choices=_fmt_list(KEY_FACTORS))
        )
    elif canvas.key_factor not in KEY_FACTORS:
        problems.append(
            _("Stage 2 (key factor): unknown key factor {factor}; choose one of {choices}.").format(
                factor=repr(canvas.key_factor), choices=_fmt_list(KEY_FACTORS)
            )
        )
    elif canvas.key_factor == "other" and not canvas.key_factor_description.strip():
        problems.append(
            _("Stage 2 (key factor): key factor 'other' needs a key_factor_description.")
        )

    # Stage 3: feasibility — benefits above costs and obligations the company can keep [P1].
    benefits, costs = _number(canvas.expected_benefits), _number(canvas.expected_costs)
    if benefits is None or benefits < 0:
        problems.append(
            _(
                "Stage 3 (feasibility): expected_benefits must be a number ≥ 0 RUB/yr, got {value}."
            ).format(value=repr(canvas.expected_benefits))
        )
    if costs is None or costs < 0:
        problems.append(
            _(
                "Stage 3 (feasibility): expected_costs must be a number ≥ 0 RUB/yr, got {value}."
            ).format(value=repr(canvas.expected_costs))
        )
    if benefits is not None and costs is not None and 0 <= benefits <= costs:
        problems.append(
            _(
                "Stage 3 (feasibility): expected costs ({costs} RUB/yr) are not below expected "
                "benefits ({benefits} RUB/yr); the program would not pay for itself."
            ).format(costs=_whole(costs), benefits=_whole(benefits))
        )
    if not canvas.obligations_feasible:
        problems.append(
            _(
                "Stage 3 (feasibility): the company cannot confirm it can meet the obligations "
                "the program takes on (obligations_feasible is False)."
            )
        )

    # Stage 4: tools [P2]; discounts only work when large.
    problems += [
        _("Stage 4 (tools): unknown tool {tool}; choose from {choices}.").format(
            tool=repr(t), choices=_fmt_list(TOOLS)
        )
        for t in canvas.tools
        if t not in TOOLS
    ]
    if not canvas.tools:
        problems.append(
            _("Stage 4 (tools): no tool chosen; choose from {choices}.").format(
                choices=_fmt_list(TOOLS)
            )
        )
    discount_tools = [t for t in canvas.tools if t in DISCOUNT_TOOLS]
    if canvas.discount_rate is not None:
        rate = _number(canvas.discount_rate)
        if rate is None or not 0 <= rate <= 1:
            problems.append(
                _(
                    "Stage 4 (tools): discount_rate must be a share from 0 to 1 (0.3 = 30%), "
                    "got {value}."
                ).format(value=repr(canvas.discount_rate))
            )
        elif discount_tools:
            problems += _discount_problems(rate, canvas.gross_margin)
    elif discount_tools:
        problems.append(
            _(
                "Stage 4 (tools): {tools} chosen but discount_rate is not set; discounts change "
                "behaviour only when large (from about {minimum}), and every point of discount "
                "comes off the margin."
            ).format(
                tools=_fmt_list(discount_tools),
                minimum=fmt_percent(MIN_EFFECTIVE_DISCOUNT, decimals=0),
            )
        )

    # Stage 5: KPIs [E1].
    problems += [
        _("Stage 5 (evaluation): unknown KPI {kpi}; choose from {choices}.").format(
            kpi=repr(k), choices=_fmt_list(KPIS)
        )
        for k in canvas.kpis
        if k not in KPIS
    ]
    if not canvas.kpis:
        problems.append(
            _(
                "Stage 5 (evaluation): no KPI chosen to evaluate the program; choose from "
                "{choices}."
            ).format(choices=_fmt_list(KPIS))
        )

    # Requirements [P5].
    if not canvas.understandable:
        problems.append(_("Requirements: the rules are not confirmed understandable to customers."))
    if not canvas.accessible_to_all:
        problems.append(_("Requirements: the program is not open to all customers."))
    if not canvas.legal:
        problems.append(_("Requirements: the program is not confirmed to comply with the law."))
    return problems


# --- reference tables (reported figures from the sources) --------------------------------------

_REPORTED = "reported scenario figures from a business article, not laws"
# Readable names of the two articles behind program_models (trainees see these, not digest ids).
_SOURCE_MODELS = N_("business article on loyalty programs: program models")
_SOURCE_TYPES = N_("business article on loyalty strategies: program types, pros and cons")


def program_models() -> pd.DataFrame:
    """Program models [P3] and program types with pros, cons and best fit [P4].

    Columns: model, description, pros, cons, best_fit, source (the article each row comes from,
    in words, in the selected language). Cells the sources leave empty are None.
    """
    p3, p4 = _(_SOURCE_MODELS), _(_SOURCE_TYPES)
    rows = [
        ("points", "points for every purchase, exchanged for discounts or free goods",
         "simple to launch and easy for customers to understand",
         "can feel cheap, like plain haggling; can dilute the brand", "retail, e-commerce",
         f"{p3}; {p4}"),
        ("multi_tier", "privileges grow with the member's level", None, None, None, p3),
        ("rewards_for_actions", "rewards for actions such as reviews and referrals", None, None,
         None, p3),
        ("paid_subscription", "a monthly fee for exclusive benefits", None, None, None, p3),
        ("club", "a club with exclusive services", "strong emotional engagement",
         "needs investment in exclusive benefits", "premium brands", p4),
        ("gamification", "game elements that reward activity", "raises engagement and activity",
         "can be complex to build", "online services, young audiences", p4),
        ("referral", "members invite friends and earn rewards",
         "acquires new customers through trust", "needs fraud control",
         "mid-priced goods and services", p4),
        ("personal_events", "birthday and anniversary greetings and offers",
         "strengthens the emotional bond", "needs continuous data collection", "any business",
         p4),
    ]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["model", "description", "pros", "cons", "best_fit", "source"]
    )


def loyalty_factors() -> pd.DataFrame:
    """Factors and their stated influence on loyalty in % [P7] (reported figures, not measured)."""
    rows = [
        ("product quality", 70),
        ("service quality", 68),
        ("convenience", 60),
        ("personalisation", 55),
        ("service innovation", 50),
        ("program value", 48),
        ("feedback", 45),
        ("interaction frequency", 42),
        ("transparency", 35),
        ("smart discounts", 30),
    ]
    table = pd.DataFrame(rows, columns=["factor", "influence_pct"])
    table.attrs["note"] = f"Influence in % as stated in the source [P7]: {_REPORTED}."
    return table


def method_effects() -> pd.DataFrame:
    """Reported effects of loyalty methods [P8]: retention uplift %, extra revenue EUR, months.

    The source's starting budget is :data:`STARTING_BUDGET_EUR` (5,000 EUR). These are
    scenario figures from one article, not laws: use them as inputs to try, not as forecasts.
    """
    rows = [
        ("personalisation", 34, 150_000, 3),
        ("omnichannel service", 27, 120_000, 4),
        ("value-based loyalty program", 30, 130_000, 6),
        ("service improvement", 22, 90_000, 5),
        ("emotional engagement", 28, 110_000, 4),
        ("combination of methods", 45, 220_000, 7),
    ]
    table = pd.DataFrame(
        rows,
        columns=["method", "retention_uplift_pct", "extra_revenue_eur", "months_to_effect"],
    )
    table.attrs["note"] = (
        f"Averages as stated in the source [P8]: {_REPORTED}. "
        f"Starting budget from {STARTING_BUDGET_EUR:,} EUR."
    )
    return table


def program_tasks() -> pd.DataFrame:
    """What a loyalty program is for [P6]: one row per task."""
    tasks = [
        "retain and develop current customers",
        "attract new customers",
        "cut the cost of acquiring customers",
        "reduce the probability that current customers leave",
        "assess and raise quality",
        "create a competitive advantage",
    ]
    return pd.DataFrame({"task": tasks})


def loyalty_methods() -> pd.DataFrame:
    """Methods and tools to raise loyalty [P9]: columns kind ("method"/"tool"/"model"), name."""
    rows = [
        ("method", "reward repeat purchases"),
        ("method", "encourage word of mouth"),
        ("method", "keep customers from switching to a competitor"),
        ("method", "build emotional attachment to the brand"),
        ("tool", "club discount cards"),
        ("tool", "points for purchases"),
        ("tool", "goals to reach"),
        ("tool", "promotions"),
        ("tool", "branded events"),
        ("tool", "prize draws"),
        ("model", "multi-level partner program with commission cascades and volume bonuses"),
    ]
    return pd.DataFrame(rows, columns=["kind", "name"])


# --- economics -----------------------------------------------------------------------------------


def roi(incremental_margin: float, cost: float) -> float:
    """Return on investment = (incremental_margin − cost) / cost; −1 means all money lost.

    Both in the same currency (RUB); ``cost`` must be > 0.
    """
    margin_v, cost_v = _number(incremental_margin), _number(cost)
    if margin_v is None:
        raise ValueError(f"incremental_margin must be a finite number, got {incremental_margin!r}")
    if cost_v is None or cost_v <= 0:
        raise ValueError(f"cost must be a finite number > 0, got {cost!r}")
    return _roi(margin_v, cost_v)


def _roi(margin: Any, cost: Any) -> Any:
    """(margin − cost) / cost for floats or arrays: the one ROI formula (callers check cost > 0)."""
    return (margin - cost) / cost


_Num = float | np.ndarray | pd.Series | Sequence[float]

_OUTPUT_FIELDS = (
    "baseline_revenue",
    "incremental_revenue",
    "incremental_margin",
    "points_issued",
    "reward_cost",
    "points_liability",
    "cost_per_point",
    "fixed_costs",
    "total_cost",
    "net_benefit",
    "roi",
    "break_even_uplift",
)


@dataclass(frozen=True, repr=False)  # keep Result.__repr__: the sentence
class ProgramEconomics(Result):
    """One year of a points program (RUB/yr unless noted); fields are floats or arrays.

    ``cost_per_point`` is RUB per issued point; ``points_liability`` is the face value of the
    points *expected* to be redeemed in the year's issue — the revenue deferred under IFRS 15
    (B39–B43) until they are redeemed (a balance-sheet figure, not in ``total_cost``; the exact
    relative-selling-price allocation is :func:`points_deferred_revenue`); expected breakage is not
    a liability, it is recognised as revenue as the other points are redeemed; ``roi`` is
    a ratio (0.5 = 50 %), NaN when total cost is 0; ``break_even_uplift`` is a share, inf when the
    margin on extra spend never covers the rewards on it.
    """

    member_uplift: float | np.ndarray
    baseline_revenue: float | np.ndarray
    incremental_revenue: float | np.ndarray
    incremental_margin: float | np.ndarray
    points_issued: float | np.ndarray
    reward_cost: float | np.ndarray
    points_liability: float | np.ndarray
    cost_per_point: float | np.ndarray
    fixed_costs: float | np.ndarray
    total_cost: float | np.ndarray
    net_benefit: float | np.ndarray
    roi: float | np.ndarray
    break_even_uplift: float | np.ndarray

    @property
    def n_scenarios(self) -> int:
        return int(np.size(self.net_benefit))

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (v.tolist() if isinstance(v := getattr(self, f.name), np.ndarray) else v)
            for f in dataclasses.fields(self)
        }

    def scenarios(self) -> pd.DataFrame:
        """One row per scenario, one column per field."""
        return pd.DataFrame(
            {f.name: np.atleast_1d(getattr(self, f.name)) for f in dataclasses.fields(self)}
        )

    def __str__(self) -> str:
        if self.n_scenarios != 1:
            net = np.asarray(self.net_benefit)
            return _(
                "Program economics for {n} scenarios: net benefit from {low} to {high} RUB/yr, "
                "{profitable} of {n} profitable."
            ).format(
                n=self.n_scenarios,
                low=_signed(net.min()),
                high=_signed(net.max()),
                profitable=int((net > 0).sum()),
            )
        percent = _("{value}%")
        roi_text = (
            _("n/a")
            if math.isnan(self.roi)
            else percent.format(value=_signed(100 * float(self.roi)))
        )
        be = float(self.break_even_uplift)
        be_text = (
            _("never") if math.isinf(be) else percent.format(value=fmt_number(100 * be, decimals=1))
        )
        return _(
            "Net benefit {net} RUB/yr: incremental margin {margin} RUB minus rewards {rewards} "
            "RUB and fixed costs {fixed} RUB (ROI {roi}; break-even uplift {break_even} vs "
            "assumed {assumed})."
        ).format(
            net=_signed(float(self.net_benefit)),
            margin=_whole(float(self.incremental_margin)),
            rewards=_whole(float(self.reward_cost)),
            fixed=_whole(float(self.fixed_costs)),
            roi=roi_text,
            break_even=be_text,
            assumed=percent.format(value=fmt_number(100 * float(self.member_uplift), decimals=1)),
        )


def _arr(value: Any, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False) -> np.ndarray:  # fmt: skip
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN/inf), got {value!r}")
    if low is not None and (np.any(arr <= low) if low_open else np.any(arr < low)):
        op = ">" if low_open else "≥"
        raise ValueError(f"{name} must be {op} {low}, got {value!r}")
    if high is not None and np.any(arr > high):
        raise ValueError(f"{name} must be ≤ {high}, got {value!r}")
    return arr


#: Bounds of the economics inputs, one table for the simulator and its break-even solvers.
_BOUNDS: dict[str, dict[str, Any]] = {
    "members": {"low": 0},
    "avg_check": {"low": 0},
    "purchases_per_year": {"low": 0},
    "earn_rate": {"low": 0},
    "point_value": {"low": 0},
    "redemption_rate": {"low": 0, "high": 1},
    "member_uplift": {"low": -1, "low_open": True},
    "gross_margin": {"low": 0, "high": 1},
    "fixed_costs": {"low": 0},
}


def _inputs(**values: Any) -> dict[str, np.ndarray]:
    """Each economics argument as a float array checked against :data:`_BOUNDS`, in call order."""
    return {name: _arr(value, name, **_BOUNDS[name]) for name, value in values.items()}


def _mean_multiplier(tiers: Sequence[tuple[float, float]] | None) -> float:
    """Member-weighted earn multiplier of a tier table [(share_of_members, earn_multiplier), ...]."""
    if tiers is None:
        return 1.0
    table = np.asarray(tiers, dtype=float)
    if table.ndim != 2 or table.shape[1] != 2 or len(table) == 0:
        raise ValueError("tiers must be a list of (share_of_members, earn_multiplier) pairs")
    shares, mults = table[:, 0], table[:, 1]
    if np.any(shares < 0) or not math.isclose(shares.sum(), 1.0, abs_tol=1e-9):
        raise ValueError(f"tier shares must be ≥ 0 and sum to 1, got {shares.tolist()}")
    if np.any(mults < 0) or not np.all(np.isfinite(mults)):
        raise ValueError(f"tier earn multipliers must be ≥ 0, got {mults.tolist()}")
    return float(shares @ mults)


def _reward_cost_per_rub(earn_rate, point_value, redemption_rate, multiplier):
    # Expected reward cost per RUB of member spend: points earned × value × share redeemed.
    return earn_rate * multiplier * point_value * redemption_rate


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def break_even_uplift(
    *,
    members: _Num,
    avg_check: _Num,
    purchases_per_year: _Num,
    earn_rate: _Num,
    point_value: _Num,
    redemption_rate: _Num,
    gross_margin: _Num,
    fixed_costs: _Num = 0.0,
    tiers: Sequence[tuple[float, float]] | None = None,
) -> float | np.ndarray:
    """Member uplift (share) at which :func:`simulate_program`'s net benefit is 0.

    With B = baseline revenue, g = gross margin, c = reward cost per RUB of member spend
    (earn_rate × tier multiplier × point_value × redemption_rate) and F = fixed costs, net benefit
    is B·u·g − c·B·(1 + u) − F, so u* = (c·B + F) / (B·(g − c)). When g ≤ c (or B = 0) no uplift
    pays off and the result is inf.
    """
    v = _inputs(
        members=members,
        avg_check=avg_check,
        purchases_per_year=purchases_per_year,
        earn_rate=earn_rate,
        point_value=point_value,
        redemption_rate=redemption_rate,
        gross_margin=gross_margin,
        fixed_costs=fixed_costs,
    )
    b = v["members"] * v["avg_check"] * v["purchases_per_year"]
    c = _reward_cost_per_rub(
        v["earn_rate"], v["point_value"], v["redemption_rate"], _mean_multiplier(tiers)
    )
    g, f = v["gross_margin"], v["fixed_costs"]
    b, c, g, f = np.broadcast_arrays(b, c, g, f)
    denom = b * (g - c)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = np.where(denom > 0, (c * b + f) / np.where(denom > 0, denom, 1.0), np.inf)
    return _scalar_or_array(u)


def simulate_program(
    members: _Num,
    avg_check: _Num,
    purchases_per_year: _Num,
    earn_rate: _Num,
    point_value: _Num,
    redemption_rate: _Num,
    member_uplift: _Num,
    gross_margin: _Num,
    fixed_costs: _Num = 0.0,
    tiers: Sequence[tuple[float, float]] | None = None,
) -> ProgramEconomics:
    """One year of a points program; every argument may be a scalar or an array (broadcast).

    Units: ``avg_check`` and ``fixed_costs`` in RUB (fixed costs per year), ``earn_rate`` points
    per RUB spent, ``point_value`` RUB per point, ``redemption_rate``, ``member_uplift`` and
    ``gross_margin`` shares (member_uplift 0.15 = members spend 15 % more; the sources report
    12–18 % [L6]). ``tiers``: optional [(share_of_members, earn_multiplier), ...] summing to 1.

    Accounting assumptions:

    * Baseline revenue = members × avg_check × purchases_per_year (what members would spend
      anyway); the program adds ``member_uplift`` of it; incremental margin = that × gross_margin.
    * Points are earned on *all* member spend, baseline plus uplift (the program also rewards
      purchases that would have happened anyway — the main hidden cost).
    * Rewards cost their face value (points × point_value) for the share redeemed; breakage
      (1 − redemption_rate) costs nothing. ``points_liability`` = points × point_value ×
      redemption_rate: under IFRS 15 (B39–B43) revenue is deferred for the points *expected* to be
      redeemed; expected breakage is recognised as revenue in proportion to redemptions, so it is
      never a liability.
    * Total cost = reward cost + fixed costs; net benefit = incremental margin − total cost;
      ROI = net benefit / total cost.
    * All tiers spend the same per member; tiers only change how many points they earn.
    """
    m, check, freq, earn, value, redeem, uplift, margin, fixed = _inputs(
        members=members,
        avg_check=avg_check,
        purchases_per_year=purchases_per_year,
        earn_rate=earn_rate,
        point_value=point_value,
        redemption_rate=redemption_rate,
        member_uplift=member_uplift,
        gross_margin=gross_margin,
        fixed_costs=fixed_costs,
    ).values()
    multiplier = _mean_multiplier(tiers)
    try:
        m, check, freq, earn, value, redeem, uplift, margin, fixed = np.broadcast_arrays(
            m, check, freq, earn, value, redeem, uplift, margin, fixed
        )
    except ValueError as exc:
        raise ValueError(f"scenario arrays must have matching lengths: {exc}") from exc

    baseline = m * check * freq
    incremental_revenue = baseline * uplift
    incremental_margin = incremental_revenue * margin
    points = baseline * (1 + uplift) * earn * multiplier
    reward_cost = points * value * redeem
    # IFRS 15 B39–B43: the deferred revenue is for the points expected to be redeemed
    liability = points * value * redeem
    total_cost = reward_cost + fixed
    net = incremental_margin - total_cost
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        paid = total_cost > 0
        roi_v = np.where(paid, _roi(incremental_margin, np.where(paid, total_cost, 1.0)), np.nan)
    be = np.asarray(
        break_even_uplift(
            members=m,
            avg_check=check,
            purchases_per_year=freq,
            earn_rate=earn,
            point_value=value,
            redemption_rate=redeem,
            gross_margin=margin,
            fixed_costs=fixed,
            tiers=tiers,
        )
    )
    values = {
        "member_uplift": uplift,
        "baseline_revenue": baseline,
        "incremental_revenue": incremental_revenue,
        "incremental_margin": incremental_margin,
        "points_issued": points,
        "reward_cost": reward_cost,
        "points_liability": liability,
        "cost_per_point": value * redeem,
        "fixed_costs": fixed,
        "total_cost": total_cost,
        "net_benefit": net,
        "roi": roi_v,
        "break_even_uplift": be,
    }
    return ProgramEconomics(**{k: _scalar_or_array(np.asarray(v)) for k, v in values.items()})


_SCENARIO_INPUTS = (
    "members",
    "avg_check",
    "purchases_per_year",
    "earn_rate",
    "point_value",
    "redemption_rate",
    "member_uplift",
    "gross_margin",
)


def simulate_scenarios(
    scenarios: pd.DataFrame, *, tiers: Sequence[tuple[float, float]] | None = None
) -> pd.DataFrame:
    """Run :func:`simulate_program` on every row of ``scenarios``; returns inputs + results.

    Required columns: members, avg_check, purchases_per_year, earn_rate, point_value,
    redemption_rate, member_uplift, gross_margin; optional fixed_costs (default 0). Other columns
    (e.g. a scenario name) are kept.
    """
    if not isinstance(scenarios, pd.DataFrame):
        raise TypeError(f"scenarios must be a DataFrame, got {type(scenarios).__name__}")
    missing = [c for c in _SCENARIO_INPUTS if c not in scenarios.columns]
    if missing:
        raise ValueError(f"scenarios is missing column(s) {missing}")
    if scenarios.empty:
        raise ValueError("scenarios is empty: need at least one row")
    args = {c: scenarios[c].to_numpy(dtype=float) for c in _SCENARIO_INPUTS}
    fixed = scenarios["fixed_costs"].to_numpy(dtype=float) if "fixed_costs" in scenarios else 0.0
    result = simulate_program(**args, fixed_costs=fixed, tiers=tiers).scenarios()
    result.index = scenarios.index
    extra = result.drop(
        columns=["member_uplift"] + (["fixed_costs"] if "fixed_costs" in scenarios else [])
    )
    return pd.concat([scenarios, extra], axis=1)


# --- inputs from data, grids, verdicts -----------------------------------------------------------


@dataclass(frozen=True, repr=False)  # keep Result.__repr__: the sentence
class ProgramBaseline(Result):
    """What the members would spend without a program: the simulator's first three inputs.

    ``avg_check`` (m, currency per order) and ``purchases_per_year`` (a, orders per active
    customer-year) come from :func:`loyalty_lib.ltv.ltv_from_transactions` with yearly periods;
    ``members`` = ``member_share`` × customers with a purchase in the 365 days up to
    ``observation_end``; ``baseline_revenue`` = members × m × a (currency per year).
    """

    members: int
    active_customers: int
    member_share: float
    avg_check: float
    purchases_per_year: float
    baseline_revenue: float
    observation_end: pd.Timestamp
    currency: str = "RUB"

    def kwargs(self) -> dict[str, float]:
        """``members``, ``avg_check``, ``purchases_per_year`` as keywords for :func:`simulate_program`."""
        return {
            "members": self.members,
            "avg_check": self.avg_check,
            "purchases_per_year": self.purchases_per_year,
        }

    def __str__(self) -> str:
        return _(
            "{members} members ({share} of {active} customers active in the year to {end}) × "
            "average check {check} {currency} × {purchases} purchases per year = {revenue} "
            "{currency}/yr of member spend before the program."
        ).format(
            members=_whole(self.members),
            share=fmt_percent(self.member_share, decimals=0),
            active=_whole(self.active_customers),
            end=fmt_date(self.observation_end.date()),
            check=_whole(self.avg_check),
            currency=_sign(self.currency),
            purchases=fmt_number(self.purchases_per_year, decimals=2),
            revenue=_whole(self.baseline_revenue),
        )


def program_baseline(
    transactions: pd.DataFrame,
    observation_end: Any,
    *,
    member_share: float = 1.0,
    currency: str = "RUB",
) -> ProgramBaseline:
    """Members, average check and purchases per year of a program from a transactions table.

    ``member_share`` (0..1] is the share of active customers expected to join (an assumption).
    The data must hold at least two complete calendar years up to ``observation_end``
    (:func:`loyalty_lib.ltv.ltv_from_transactions` needs them).
    """
    # Imported here: ltv is a sibling topic; program must stay importable on its own.
    from loyalty_lib.ltv.simple import ltv_from_transactions

    share = _number(member_share)
    if share is None or not 0 < share <= 1:
        raise ValueError(f"member_share must be a share in (0, 1], got {member_share!r}")
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a DataFrame, got {type(transactions).__name__}")
    end = pd.Timestamp(observation_end).normalize()
    yearly = ltv_from_transactions(transactions, period="Y", end=end, currency=currency)
    in_year = transactions["date"].between(end - pd.Timedelta(days=364), end)
    active = int(transactions.loc[in_year & ~transactions["is_refund"], "customer_id"].nunique())
    if active == 0:
        raise ValueError(f"no purchases in the 365 days up to {end.date()}: no one to enrol")
    members = round(share * active)
    return ProgramBaseline(
        members=members,
        active_customers=active,
        member_share=share,
        avg_check=float(yearly.avg_check),
        purchases_per_year=float(yearly.purchases_per_period),
        baseline_revenue=members * float(yearly.avg_check) * float(yearly.purchases_per_period),
        observation_end=end,
        currency=currency,
    )


def scenario_grid(base: dict[str, float], **axes: Sequence[float]) -> pd.DataFrame:
    """Every combination of the ``axes`` values, the other inputs taken from ``base``.

    ``scenario_grid(base, redemption_rate=[0.4, 0.8], member_uplift=[0.12, 0.18])`` gives four
    rows ready for :func:`simulate_scenarios`; the axes columns come first, in the order given.
    """
    if not isinstance(base, dict):
        raise TypeError(f"base must be a dict of inputs, got {type(base).__name__}")
    if not axes:
        raise ValueError("give at least one axis, e.g. member_uplift=[0.12, 0.15, 0.18]")
    for name, values in axes.items():
        if isinstance(values, str) or len(values) == 0:
            raise ValueError(f"axis {name!r} must be a non-empty list of numbers, got {values!r}")
    index = pd.MultiIndex.from_product([list(v) for v in axes.values()], names=list(axes))
    grid = index.to_frame(index=False)
    for name, value in base.items():
        if name not in axes:
            grid[name] = value
    return grid


def break_even_redemption(
    *,
    members: _Num,
    avg_check: _Num,
    purchases_per_year: _Num,
    earn_rate: _Num,
    point_value: _Num,
    member_uplift: _Num,
    gross_margin: _Num,
    fixed_costs: _Num = 0.0,
    tiers: Sequence[tuple[float, float]] | None = None,
) -> float | np.ndarray:
    """Redemption rate (share) at which :func:`simulate_program`'s net benefit and ROI are 0.

    Net benefit is B·u·g − r·P − F with P = B·(1 + u)·earn_rate·multiplier·point_value the face
    value of the points issued, so r* = (B·u·g − F) / P. Above 1: the program pays even if every
    point is redeemed; below 0: it loses money even if none is; NaN when points cost nothing
    (P = 0).
    """
    v = _inputs(
        members=members,
        avg_check=avg_check,
        purchases_per_year=purchases_per_year,
        member_uplift=member_uplift,
        gross_margin=gross_margin,
        fixed_costs=fixed_costs,
        earn_rate=earn_rate,
    )
    b = v["members"] * v["avg_check"] * v["purchases_per_year"]
    u, g, f = v["member_uplift"], v["gross_margin"], v["fixed_costs"]
    face = (
        b
        * (1 + u)
        * v["earn_rate"]
        * _mean_multiplier(tiers)
        * _arr(point_value, "point_value", **_BOUNDS["point_value"])
    )
    b, u, g, f, face = np.broadcast_arrays(b, u, g, f, face)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(face > 0, (b * u * g - f) / np.where(face > 0, face, 1.0), np.nan)
    return _scalar_or_array(r)


def uplift_verdict(break_even: float, reported: tuple[float, float] = MEMBER_UPLIFT_RANGE) -> str:
    """Compare a break-even member uplift with the reported range (12–18 % [L6]).

    ``"profitable"`` when the break-even lies below the range's low end (the program pays even
    at the low end), ``"depends"`` when it lies inside the range, ``"not profitable"`` when it is
    at or above the high end (or infinite). Shares: 0.15 = 15 %.
    """
    value = _number(break_even)
    if value is None and not (isinstance(break_even, float) and math.isinf(break_even)):
        raise ValueError(f"break_even must be a number (inf allowed), got {break_even!r}")
    low, high = (float(x) for x in reported)
    if not low < high:
        raise ValueError(f"reported must be (low, high) with low < high, got {reported!r}")
    be = float(break_even)
    if be < low:
        return VERDICTS[0]
    if be < high:
        return VERDICTS[1]
    return VERDICTS[2]


# --- points in the accounts (IFRS 15) ------------------------------------------------------------


@dataclass(frozen=True)
class PointsRevenueResult(Result):
    """Revenue and contract liability of loyalty points under IFRS 15 (B39–B43), currency units."""

    sales: float  # cash received for the goods that earned the points
    allocated_to_points: float  # part of ``sales`` allocated to the points (deferred at issue)
    revenue_goods: float  # recognised at once with the goods
    revenue_points: float  # recognised so far: redemptions plus the breakage that goes with them
    contract_liability: float  # still deferred: allocated − recognised
    expected_redeemed_points: float
    expected_breakage_points: float
    points_redeemed: float
    verdict: str

    def __str__(self) -> str:
        return self.verdict


def points_deferred_revenue(
    *,
    sales: float,
    points_issued: float,
    point_value: float,
    redemption_rate: float,
    points_redeemed: float = 0.0,
    currency: str = "RUB",
) -> PointsRevenueResult:
    """Split of ``sales`` between goods and points, and how much points revenue is recognised.

    IFRS 15 treats points as a material right (B39–B40): part of the price is allocated to them by
    relative stand-alone selling price (B42), where a point's stand-alone price is its value times
    the likelihood it is redeemed. Deferred revenue thus covers the points *expected* to be
    redeemed; expected breakage is recognised as revenue in proportion to the redemptions (B46):
    recognised = allocated × redeemed / expected redeemed. ``redemption_rate`` is the expected
    share of issued points ever redeemed (0..1); money in ``currency``; points are counts.
    This is IFRS 15's Illustrative Example 52 (sales 100,000, 10,000 points, value 1, 95 %
    expected: 8,676 allocated; after 4,500 redeemed: 4,110 recognised, 4,566 still deferred).
    """
    from loyalty_lib.i18n import fmt_money, fmt_share

    for name, value in (("sales", sales), ("points_issued", points_issued),
                        ("point_value", point_value), ("points_redeemed", points_redeemed)):  # fmt: skip
        v = _number(value)
        if v is None or v < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    rate = _number(redemption_rate)
    if rate is None or not 0 < rate <= 1:
        raise ValueError(
            f"redemption_rate must be a share above 0 and at most 1, got {redemption_rate!r}"
        )
    expected = float(points_issued) * rate
    if float(points_redeemed) > expected + 1e-9:
        raise ValueError(
            f"points_redeemed ({points_redeemed:,.0f}) exceeds the points expected to be redeemed "
            f"({expected:,.0f}); revise redemption_rate first"
        )
    ssp_points = expected * float(point_value)
    allocated = float(sales) * ssp_points / (float(sales) + ssp_points) if sales else 0.0
    recognised = allocated * float(points_redeemed) / expected if expected else 0.0
    liability = allocated - recognised
    verdict = (
        f"Of {fmt_money(sales, currency)} received, {fmt_money(allocated, currency)} belongs to "
        f"the points expected to be redeemed ({fmt_share(rate)} of those issued) and is deferred; "
        f"after {float(points_redeemed):,.0f} points redeemed, {fmt_money(recognised, currency)} "
        f"of it is revenue (breakage included pro rata) and {fmt_money(liability, currency)} "
        "remains a contract liability."
    )
    return PointsRevenueResult(
        sales=float(sales),
        allocated_to_points=allocated,
        revenue_goods=float(sales) - allocated,
        revenue_points=recognised,
        contract_liability=liability,
        expected_redeemed_points=expected,
        expected_breakage_points=float(points_issued) - expected,
        points_redeemed=float(points_redeemed),
        verdict=verdict,
    )
