"""Header matching: client headers → canonical columns, mapping files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from loyalty_lib.data.schema import (
    _ASPECT_LOOKUP,
    COMMENT_WORDING,
    FALLBACK_HEADERS,
    HEADER_ALIASES,
    KINDS,
    NPS_WORDING,
    REQUIRED_COLUMNS,
    LoyaltyDataError,
    _norm,
)

# Words that often stand for a canonical column in home-made headers; used only to *suggest* a
# mapping (never to map silently), together with difflib's similarity to the aliases.
_SUGGEST_HINTS: dict[str, tuple[str, ...]] = {
    "customer_id": ("buyer", "member", "user", "client", "card", "customer", "клиент", "карт"),
    "date": ("when", "time", "day", "dt", "created", "date", "дат", "время", "день"),
    "amount": ("paid", "value", "total", "sum", "spend", "net", "revenue", "сумм", "оплач"),
    "score": ("score", "nps", "recommend", "оценк", "балл", "рекоменд"),
    "reason": ("reason", "why", "причин", "почему"),
    "group": ("group", "arm", "групп", "variant"),
    "start_date": ("start", "begin", "старт", "начал"),
    "frequency": ("freq", "repeat", "частот"),
    "recency": ("recen", "давност"),
    "T": ("age", "tenure", "возраст", "срок"),
    "monetary": ("monetary", "avg", "mean", "средн"),
}


# ---------------------------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------------------------
def _rating_key(header: str) -> str | None:
    h = str(header).strip().casefold().replace("ё", "е")
    m = re.fullmatch(r"(rating|оценка)\s*[:_\-–(]?\s*(.+?)\)?", h)
    aspect = m.group(2) if m else h
    key = _ASPECT_LOOKUP.get(_norm(aspect))
    if key:
        return f"rating_{key}"
    if m and m.group(1) == "rating":
        slug = re.sub(r"[\s\-]+", "_", aspect).strip("_")
        if re.fullmatch(r"[a-z0-9_]+", slug):
            return f"rating_{slug}"
    return None


def _quote_list(items: list[str]) -> str:
    return ", ".join(f"'{h}'" for h in items) if items else "(none)"


def _check_kind(kind: str, file: str | None = None) -> None:
    if kind not in KINDS:
        raise LoyaltyDataError(
            f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}", file=file
        )


def _valid_canonical(kind: str, name: str) -> bool:
    return name in HEADER_ALIASES[kind] or (
        kind == "exit_survey" and re.fullmatch(r"rating_[a-z0-9_]+", name) is not None
    )


def _resolve_columns(
    headers: list[str], kind: str, explicit: Mapping[str, str] | None, name: str, file: str
) -> dict[str, str]:
    found = _quote_list(headers)
    mapping: dict[str, str] = {}
    for canon, header in (explicit or {}).items():
        if not _valid_canonical(kind, canon):
            raise LoyaltyDataError(
                f"{name}: column mapping names {canon!r}, which is not a {kind} column; expected "
                f"one of: {', '.join(HEADER_ALIASES[kind])}"
                + (", rating_<aspect>" if kind == "exit_survey" else ""),
                file=file,
                column=canon,
            )
        matches = [h for h in headers if h == header] or [
            h for h in headers if _norm(h) == _norm(header)
        ]
        if len(matches) != 1:
            raise LoyaltyDataError(
                f"{name}: column mapping says {canon!r} is header {header!r}, which "
                f"{'is not in the file' if not matches else 'matches several headers'}; "
                f"headers found: {found}",
                file=file,
                column=canon,
            )
        mapping[canon] = matches[0]
    used = set(mapping.values())
    for canon, aliases in HEADER_ALIASES[kind].items():
        if canon in mapping:
            continue
        keys = {_norm(a) for a in aliases}
        matches = [h for h in headers if h not in used and _norm(h) in keys]
        if len(matches) > 1:
            raise LoyaltyDataError(
                f"{name}: column {canon!r} is ambiguous: headers {_quote_list(matches)} all match; "
                f"pass columns={{'{canon}': <header>}} to choose",
                file=file,
                column=canon,
            )
        if matches:
            mapping[canon] = matches[0]
            used.add(matches[0])
    _fallbacks(headers, kind, mapping, used, name)
    if kind == "exit_survey":
        ratings: dict[str, list[str]] = {}
        for h in headers:
            key = None if h in used else _rating_key(h)
            if key and key not in mapping:
                ratings.setdefault(key, []).append(h)
        for key, hs in ratings.items():
            if len(hs) > 1:
                raise LoyaltyDataError(
                    f"{name}: column {key!r} is ambiguous: headers {_quote_list(hs)} all match; "
                    f"pass columns={{'{key}': <header>}} to choose",
                    file=file,
                    column=key,
                )
            mapping[key] = hs[0]
    missing = missing_columns(kind, mapping)
    if missing:
        canon = missing[0]
        looked = ", ".join(HEADER_ALIASES[kind][canon])
        if kind == "transactions" and canon == "amount":
            looked += "; or quantity and unit_price, or line_amount, for a line-item export"
        error = LoyaltyDataError(
            f"{name}: required column {canon!r} not found (looked for: {looked}); "
            f"headers found: {found}",
            file=file,
            column=canon,
        )
        error.missing = missing  # type: ignore[attr-defined]
        error.found = dict(mapping)  # type: ignore[attr-defined]
        error.headers = list(headers)  # type: ignore[attr-defined]
        raise error
    return mapping


def is_line_items(mapping: Mapping[str, str]) -> bool:
    """Whether a transactions mapping describes item lines: quantity × unit price, or a line
    amount (then an order id, if mapped, groups the lines into orders)."""
    return ("quantity" in mapping and "unit_price" in mapping) or "line_amount" in mapping


def missing_columns(kind: str, mapping: Mapping[str, str]) -> list[str]:
    """The required canonical columns of ``kind`` that ``mapping`` does not name, in order.

    transactions need ``amount`` unless the file is a line-item export (:func:`is_line_items`).
    """
    out = []
    for canon in REQUIRED_COLUMNS[kind]:
        if canon in mapping:
            continue
        if kind == "transactions" and canon == "amount" and is_line_items(mapping):
            continue
        out.append(canon)
    return out


def _wording(header: str) -> str:
    return " ".join(str(header).casefold().replace("ё", "е").split())


def _fallbacks(
    headers: list[str], kind: str, mapping: dict[str, str], used: set[str], name: str
) -> None:
    """Second-rank header rules (:data:`FALLBACK_HEADERS`, question wording) for the canonical
    columns the aliases left unmatched; ambiguity raises as for aliases."""
    normed = {_norm(h) for h in headers}
    for canon, alias, marker in FALLBACK_HEADERS.get(kind, ()):
        if canon in mapping or (marker is not None and _norm(marker) not in normed):
            continue
        hits = [h for h in headers if h not in used and _norm(h) == _norm(alias)]
        if len(hits) == 1:
            mapping[canon] = hits[0]
            used.add(hits[0])
    if kind != "survey":
        return
    for canon, wording in (("score", NPS_WORDING), ("comment", COMMENT_WORDING)):
        if canon in mapping:
            continue
        hits = [h for h in headers if h not in used and any(w in _wording(h) for w in wording)]
        if canon == "comment" and len(hits) > 1:
            continue  # several open questions: none is taken as the comment
        if len(hits) > 1:
            raise LoyaltyDataError(
                f"{name}: column {canon!r} is ambiguous: headers {_quote_list(hits)} all read "
                "like the "
                f"NPS question; pass columns={{'{canon}': <header>}} to choose",
                column=canon,
            )
        if hits:
            mapping[canon] = hits[0]
            used.add(hits[0])


def suggest_columns(
    headers: list[str], kind: str, known: Mapping[str, str] | None = None
) -> dict[str, tuple[str, float]]:
    """The closest header for each required column ``known`` lacks: canonical → (header, score).

    Score in 0..1: the best of difflib's similarity between the normalised header and each
    alias, and 0.8 when the header contains a hint word of the column ("Paid RUB" → amount).
    Headers are assigned greedily, best score first, each to at most one column. A suggestion,
    never applied silently: ``loyalty validate --write-mapping`` writes it for a person to check.
    """
    import difflib

    _check_kind(kind)
    known = dict(known or {})
    used = set(known.values())
    wanted = missing_columns(kind, known)
    scored: list[tuple[float, str, str]] = []
    for canon in wanted:
        keys = [_norm(a) for a in HEADER_ALIASES[kind][canon]]
        hints = _SUGGEST_HINTS.get(canon, ())
        for h in headers:
            if h in used or not str(h).strip():
                continue
            nh = _norm(h)
            ratio = max(difflib.SequenceMatcher(None, nh, k).ratio() for k in keys)
            if any(hint in nh for hint in hints):
                ratio = max(ratio, 0.8)
            if kind == "survey" and canon == "score" and any(w in _wording(h) for w in NPS_WORDING):
                ratio = 1.0
            scored.append((ratio, canon, h))
    scored.sort(key=lambda t: (-t[0], wanted.index(t[1]), headers.index(t[2])))
    out: dict[str, tuple[str, float]] = {}
    for ratio, canon, h in scored:
        if canon in out or h in used:
            continue
        out[canon] = (h, round(ratio, 2))
        used.add(h)
    return {c: out[c] for c in wanted if c in out}


def write_mapping(path: str | Path, kind: str, mapping: Mapping[str, str]) -> Path:
    """Write ``mapping`` (canonical → header) as a YAML mapping file :func:`read_mapping` reads,
    in the sections layout (``transactions:`` / ``customer_id: <header>``)."""
    import yaml

    _check_kind(kind, str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(
        {kind: {str(k): str(v) for k, v in mapping.items()}},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )
    path.write_text(
        "# Canonical column: the header in the client's file. Check every line, then run\n"
        f"#   loyalty validate <file> --kind {kind.replace('_', '-')} --columns {path.name}\n"
        + body,
        encoding="utf-8",
    )
    return path


def read_mapping(path: str | Path, kind: str) -> dict[str, str]:
    """Read a YAML header mapping for ``kind``: canonical name → client header.

    Two layouts are accepted::

        # flat, for one file           # sections, one per kind (a kind without a section → {})
        customer_id: Клиент            transactions:
        amount: Сумма, руб.              customer_id: Клиент
                                       survey:
                                         score: Оценка NPS
    """
    _check_kind(kind, str(path))
    import yaml  # only needed here

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise LoyaltyDataError(
            f"{path.name}: mapping file not found ({path})", file=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LoyaltyDataError(
            f"{path.name}: cannot read the mapping file ({exc})", file=str(path)
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LoyaltyDataError(
            f"{path.name}: expected a YAML mapping of canonical column → "
            f"header, got {type(data).__name__}",
            file=str(path),
        )
    if any(isinstance(v, dict) for v in data.values()):
        unknown = [k for k in data if k not in KINDS]
        if unknown:
            raise LoyaltyDataError(
                f"{path.name}: unknown section(s) {_quote_list(unknown)}; "
                f"expected kinds: {', '.join(KINDS)}",
                file=str(path),
            )
        data = data.get(kind) or {}
        if not isinstance(data, dict):
            raise LoyaltyDataError(
                f"{path.name}: section {kind!r} must be a mapping", file=str(path)
            )
    mapping: dict[str, str] = {}
    for canon, header in data.items():
        if not _valid_canonical(kind, str(canon)):
            raise LoyaltyDataError(
                f"{path.name}: {canon!r} is not a {kind} column; expected one of: "
                f"{', '.join(HEADER_ALIASES[kind])}",
                file=str(path),
                column=str(canon),
            )
        if header is None or isinstance(header, dict | list):
            raise LoyaltyDataError(
                f"{path.name}: header for {canon!r} must be a string",
                file=str(path),
                column=str(canon),
            )
        mapping[str(canon)] = str(header)
    return mapping
