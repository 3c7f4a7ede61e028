"""The "not identified" check shared by every fitted purchase model (BG/NBD, MBG/NBD, Pareto/NBD,
BG/BB).

A shape parameter of a Gamma or Beta mixing distribution that runs off towards infinity means
the data show no spread across customers in that quantity: the likelihood is flat along a ridge
on which only a ratio (the mean rate r/α, the mean probability a/(a+b)) is pinned down, and the
optimiser stops wherever the ridge gets too flat, sometimes reporting convergence.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

# Beyond this a shape parameter has drifted off towards infinity. Fits of real customer bases
# stay below ~100 (CDNOW: BG/NBD b = 2.4, Pareto/NBD β = 11.7, BG/BB δ = 2.8).
RUNAWAY_SHAPE = 1e4
# A Gamma shape is flagged much earlier: its coefficient of variation is 1/sqrt(shape), so beyond
# 100 the rates differ by less than 10 % across customers — no heterogeneity worth the name — and
# the optimiser of a flat ridge often stops in the hundreds (Pareto/NBD: r ≈ 200 on data with one
# common purchase rate) rather than running on to 1e4.
RUNAWAY_GAMMA_SHAPE = 100.0


def unidentified_notes(
    params: Mapping[str, float],
    *,
    beta_pairs: Sequence[tuple[str, str, str]] = (),
    gamma_pairs: Sequence[tuple[str, str, str]] = (),
) -> list[str]:
    """Sentences naming each mixing distribution whose shape drifted to the edge.

    ``beta_pairs`` — (a, b, what a/(a+b) is) for Beta(a, b) mixtures of a probability;
    ``gamma_pairs`` — (shape, rate, what shape/rate is) for Gamma(shape, rate) mixtures of a rate.
    """
    notes = []
    for a_name, b_name, meaning in beta_pairs:
        a, b = params[a_name], params[b_name]
        if max(a, b) > RUNAWAY_SHAPE:
            p = a / (a + b)
            dropout = "drop" in meaning
            if dropout and p < 0.01:
                why = (
                    "the data show almost no customer dropping out, so p_alive stays near 1 (a "
                    "short observation window, or lapsed customers missing from the data, do this)"
                )
            else:
                noun = "drop-out" if dropout else "purchase"
                why = f"{noun} probabilities show no spread across customers"
            notes.append(
                f"{a_name} = {a:.3g} and {b_name} = {b:.3g} drifted to the edge of the parameter "
                f"space: {why}; only {meaning}, {a_name}/({a_name}+{b_name}) = {p:.3g}, is estimated"
            )
    for shape_name, rate_name, meaning in gamma_pairs:
        shape, rate = params[shape_name], params[rate_name]
        if shape > RUNAWAY_GAMMA_SHAPE:
            notes.append(
                f"{shape_name} = {shape:.3g} drifted to the edge of the parameter space: "
                f"{meaning} show no spread across customers; only their mean, "
                f"{shape_name}/{rate_name} = {shape / rate:.3g} per time unit, is estimated"
            )
    return notes


def warn_if_unidentified(
    label: str,
    params: Mapping[str, float],
    *,
    beta_pairs: Sequence[tuple[str, str, str]] = (),
    gamma_pairs: Sequence[tuple[str, str, str]] = (),
    stacklevel: int = 3,
) -> bool:
    """Warn (UserWarning) as :func:`unidentified_notes` finds; True when the fit is identified."""
    notes = unidentified_notes(params, beta_pairs=beta_pairs, gamma_pairs=gamma_pairs)
    if notes:
        warnings.warn(
            f"{label} fit: " + "; ".join(notes) + ". Treat the individual parameters as not "
            "identified.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return not notes
