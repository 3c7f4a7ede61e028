"""One source of code for the course's editions: a translated lesson must keep its twin's code.

A Russian lesson ``notebooks/ru/NN_*.ipynb`` is a separate notebook (a trainee opens it in
JupyterLab like any other), written for a Russian reader. What it may change against its English
twin ``notebooks/NN_*.ipynb``: Markdown cells, comments, and string literals (sentences printed to
the reader, labels, and the values of ``lang`` and of the paths that are relative to the lesson's
folder). What it must keep: the cells (ids, types, order), their tags, the names assigned in the
``parameters`` cell, and the code itself. :func:`check_translations` compares every twin pair and
returns one sentence per difference, naming the lesson and the cell.

Why a check instead of generating the Russian code cells from the English ones: a generator would
have to know which string of a cell is a sentence to translate and which is a key (``"promoter"``
indexes a Series); a check lets the translator decide per string and still fails on any change to
the program around it.

How code is compared: both cells are tokenised with :mod:`tokenize`; comments and blank-line tokens
are dropped (so a translated comment or a re-wrapped line is no difference); every string literal
becomes one placeholder, adjacent literals (implicit concatenation, used to wrap long sentences)
collapse into one, and an f-string becomes the placeholder plus the sorted names used inside its
replacement fields (Python 3.11 tokenises an f-string as one token: its expressions are read
back with :mod:`ast`), so a translation may reorder the fields but not change what they compute.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from collections.abc import Iterable
from pathlib import Path

#: Editions besides English, each in ``notebooks/<lang>/``.
TRANSLATIONS = ("ru",)
STRING = "<STR>"


def _fstring_names(token_text: str) -> tuple[str, ...]:
    """Names read inside an f-string's replacement fields (empty for a plain string)."""
    try:
        node = ast.parse(token_text, mode="eval").body
    except SyntaxError:
        return ()
    if not isinstance(node, ast.JoinedStr):
        return ()
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    return tuple(sorted(names))


def normalise_code(source: str) -> tuple[str, ...]:
    """The code of a cell with comments, layout and string contents taken out (see module doc).

    A cell that does not tokenise (an IPython magic, a syntax error) is compared line by line
    with trailing whitespace removed.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return tuple(line.rstrip() for line in source.strip().splitlines())
    out: list[str] = []
    for tok in tokens:
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.STRING:
            names = _fstring_names(tok.string)
            if out and out[-1].startswith(STRING):
                merged = set(out[-1][len(STRING) :].split(",")) - {""} | set(names)
                out[-1] = STRING + ",".join(sorted(merged))
            else:
                out.append(STRING + ",".join(names))
            continue
        if tok.type == tokenize.NEWLINE:
            out.append("\n")
        elif tok.type == tokenize.INDENT:
            out.append("<INDENT>")
        elif tok.type == tokenize.DEDENT:
            out.append("<DEDENT>")
        else:
            out.append(tok.string)
    while out and out[-1] in ("\n", "<DEDENT>"):
        out.pop()
    return tuple(out)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _parameter_names(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _first_difference(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"token {i}: {x!r} in the original, {y!r} in the translation"
    return f"{len(a)} tokens in the original, {len(b)} in the translation"


def compare_lessons(original: Path, translated: Path, *, root: Path | None = None) -> list[str]:
    """Differences between a lesson and its translation that the translation must not make.

    One sentence per difference, each starting with the translated lesson's path (relative to
    ``root`` when given) and naming the cell by its id.
    """
    a = json.loads(Path(original).read_text(encoding="utf-8"))["cells"]
    b = json.loads(Path(translated).read_text(encoding="utf-8"))["cells"]
    name = Path(translated).relative_to(root).as_posix() if root else str(translated)
    twin = Path(original).relative_to(root).as_posix() if root else str(original)
    ids_a, ids_b = [c.get("id") for c in a], [c.get("id") for c in b]
    if ids_a != ids_b:
        missing = [i for i in ids_a if i not in ids_b]
        extra = [i for i in ids_b if i not in ids_a]
        detail = f"missing {missing}, extra {extra}" if missing or extra else "in another order"
        return [f"{name}: cell ids differ from {twin}: {detail}"]
    problems = []
    for cell_a, cell_b in zip(a, b, strict=True):
        where = f"{name} cell {cell_a.get('id')!r}"
        if cell_a["cell_type"] != cell_b["cell_type"]:
            problems.append(f"{where}: {cell_b['cell_type']} cell, {cell_a['cell_type']} in {twin}")
            continue
        tags_a = cell_a.get("metadata", {}).get("tags", [])
        tags_b = cell_b.get("metadata", {}).get("tags", [])
        if tags_a != tags_b:
            problems.append(f"{where}: tags {tags_b}, {tags_a} in {twin}")
        # an assignment's grading: the same graded cells, ids and points in both editions
        grader_a = cell_a.get("metadata", {}).get("nbgrader")
        grader_b = cell_b.get("metadata", {}).get("nbgrader")
        if grader_a != grader_b:
            problems.append(f"{where}: nbgrader metadata {grader_b}, {grader_a} in {twin}")
        if cell_a["cell_type"] != "code":
            continue
        src_a, src_b = _source(cell_a), _source(cell_b)
        if "parameters" in tags_a:
            try:
                names_a, names_b = _parameter_names(src_a), _parameter_names(src_b)
            except SyntaxError as exc:
                problems.append(f"{where}: parameters do not parse: {exc}")
                continue
            if names_a != names_b:
                problems.append(f"{where}: parameters {names_b}, {names_a} in {twin}")
                continue
        norm_a, norm_b = normalise_code(src_a), normalise_code(src_b)
        if norm_a != norm_b:
            problems.append(
                f"{where}: code differs from {twin} beyond comments and strings "
                f"({_first_difference(norm_a, norm_b)})"
            )
    return problems


def twin_pairs(notebooks: Path, lang: str) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(English lesson, translation) pairs in ``notebooks/<lang>/``, and the untranslated lessons."""
    from loyalty_lib.pipeline import lesson_paths

    originals = lesson_paths(folder=notebooks)
    folder = notebooks / lang
    translated = lesson_paths(folder=folder) if folder.is_dir() else []
    by_name = {p.name: p for p in translated}
    pairs = [(p, by_name[p.name]) for p in originals if p.name in by_name]
    untranslated = [p for p in originals if p.name not in by_name]
    return pairs, untranslated


def check_translations(root: Path | None = None, langs: Iterable[str] = TRANSLATIONS) -> list[str]:
    """Every difference between a translated lesson and its English twin (empty: in sync).

    A translated lesson without an English twin is a difference; an English lesson not yet
    translated is not (see :func:`twin_pairs` for that list).
    """
    from loyalty_lib.pipeline import lesson_paths, project_root

    root = Path(root) if root else project_root()
    notebooks = root / "notebooks"
    problems = []
    for lang in langs:
        pairs, _ = twin_pairs(notebooks, lang)
        paired = {t for _, t in pairs}
        folder = notebooks / lang
        for orphan in lesson_paths(folder=folder) if folder.is_dir() else []:
            if orphan not in paired:
                problems.append(
                    f"{orphan.relative_to(root).as_posix()}: no English twin notebooks/{orphan.name}"
                )
        for original, translated in pairs:
            problems += compare_lessons(original, translated, root=root)
        problems += _check_solutions(root, lang)
    return problems


def _check_solutions(root: Path, lang: str) -> list[str]:
    """``solutions/<lang>/<assignment>/`` against ``solutions/<assignment>/``: the same files, the
    same data files byte for byte, and every notebook compared as a lesson is (cells, tags,
    nbgrader metadata with its points, code with the hidden tests)."""
    translated_root = root / "solutions" / lang
    if not translated_root.is_dir():
        return []
    problems = []
    for folder in sorted(p for p in translated_root.iterdir() if p.is_dir()):
        original = root / "solutions" / folder.name
        where = folder.relative_to(root).as_posix()
        if not original.is_dir():
            problems.append(f"{where}/: no English twin solutions/{folder.name}/")
            continue
        names = {p.name for p in folder.iterdir() if p.is_file()}
        twin_names = {p.name for p in original.iterdir() if p.is_file()}
        if names != twin_names:
            problems.append(
                f"{where}/: files {sorted(names)}, {sorted(twin_names)} in solutions/{folder.name}/"
            )
        for name in sorted(names & twin_names):
            if name.endswith(".ipynb"):
                problems += compare_lessons(original / name, folder / name, root=root)
            elif (folder / name).read_bytes() != (original / name).read_bytes():
                problems.append(f"{where}/{name}: differs from solutions/{folder.name}/{name}")
    return problems


__all__ = ["TRANSLATIONS", "check_translations", "compare_lessons", "normalise_code", "twin_pairs"]
