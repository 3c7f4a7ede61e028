"""Header matching: client headers → canonical columns, mapping files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from loyalty_lib.data.schema import (
    _ASPECT_LOOKUP,
    HEADER_ALIASES,
    KINDS,
    REQUIRED_COLUMNS,
    LoyaltyDataError,
    _norm,
)


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
    for canon in REQUIRED_COLUMNS[kind]:
        if canon not in mapping:
            if kind == "survey" and canon == "respondent_id":
                continue
            looked = ", ".join(HEADER_ALIASES[kind][canon])
            raise LoyaltyDataError(
                f"{name}: required column {canon!r} not found (looked for: {looked}); "
                f"headers found: {found}",
                file=file,
                column=canon,
            )
    return mapping


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
