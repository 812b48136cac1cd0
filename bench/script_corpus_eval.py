"""How closely Setpiece's screenplay readers agree with published ground truth.

Corpora (``../shared/data``, see each folder's SOURCE.txt):

- ``fountain_screenplain_tests_with_expected_html``: screenplain's test inputs and
  the HTML it must render; the element sequence is read back from that HTML.
  The ``.fdx`` files beside them are also read with our Final Draft reader.
- ``fountain_jouvence_yaml_tests``: Jouvence's YAML cases with expected element
  lists and title pages.
- ``fountain_official_samples``: scene-heading counts (Brick & Steel 8, The Last
  Birthday Card 48, Big Fish 190), checked against screenplain and Jouvence too.

Each case is run through Setpiece, screenplain and Jouvence (the libraries that
would otherwise be used), and each result is compared with the ground truth.

Comparison: a sequence of ``(type, text)`` items. Normalisation, applied to both
sides: ``&nbsp;`` is a space; trailing spaces of each line go; ``*`` and ``_``
are removed (Jouvence keeps emphasis markup, screenplain renders it as tags);
scene headings and transitions compare case-insensitively (screenplain
upper-cases them when rendering); a scene number is part of its heading; notes
are left out (neither reference outputs them); Jouvence's action elements, which
merge paragraphs and keep the blank lines, are split at blank lines and empty
ones dropped; consecutive dialogue lines of one speech are one item (screenplain
writes a paragraph per line, fountain-py an element per line); dual dialogue is kept as a ``dual`` mark on the types in the
screenplain corpus (Jouvence has no dual dialogue).

Run: ``python bench/script_corpus_eval.py [--data PATH]``; needs ``bench/requirements.txt``.
Prints a table per corpus, then a markdown summary.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import warnings
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import yaml

from setpiece.script.elements import Element, Note, ScriptWarning
from setpiece.script.fdx import parse_fdx
from setpiece.script.fountain import parse_fountain

Item = tuple[str, str]
Parsed = tuple[dict[str, str], list[Item]]

_JOUVENCE_TOKENS = {
    ".": "scene_heading",
    "!": "action",
    "@": "character",
    "=": "dialogue",
    "_": "parenthetical",
    ">": "transition",
    "~": "lyrics",
    "#": "section",
    "+": "synopsis",
}


def _norm_text(kind: str, text: str) -> str:
    text = text.replace("\xa0", " ").replace("*", "").replace("_", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    if kind.startswith(("scene_heading", "transition")):
        text = text.upper()
    return text


def _items(raw: list[Item], keep_dual: bool) -> list[Item]:
    items = []
    for kind, text in raw:
        if not keep_dual:
            kind = kind.replace(" dual", "")
        if kind == "action":
            for paragraph in re.split(r"\n(?:[ \t]*\n)+", text):
                if paragraph.strip():
                    items.append((kind, _norm_text(kind, paragraph.strip("\n"))))
        elif kind.startswith("dialogue") and items and items[-1][0] == kind:
            items[-1] = (kind, items[-1][1] + "\n" + _norm_text(kind, text.strip("\n")))
        else:
            items.append((kind, _norm_text(kind, text.strip("\n"))))
    return items


def _title(title: dict[str, str]) -> dict[str, str]:
    return {key.lower(): _norm_text("title", value) for key, value in title.items()}


# --- Setpiece ---------------------------------------------------------------------


def _setpiece_raw(elements: list[Element]) -> list[Item]:
    raw: list[Item] = []
    for element in elements:
        if isinstance(element, Note):
            continue
        kind = element.type + (" dual" if getattr(element, "dual", False) else "")
        text = element.text
        number = getattr(element, "number", None)
        if number:
            text = f"{text} #{number}#"
        raw.append((kind, text))
    return raw


def setpiece_fountain(text: str, keep_dual: bool) -> Parsed:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScriptWarning)
        script = parse_fountain(text)
    return _title(script.title_page), _items(_setpiece_raw(script.elements), keep_dual)


def setpiece_fdx(data: bytes, keep_dual: bool) -> Parsed:
    script = parse_fdx(data)
    return _title(script.title_page), _items(_setpiece_raw(script.elements), keep_dual)


# --- screenplain ------------------------------------------------------------------


_TEXT_TAGS = frozenset({"p", "div", "span", "h1", "h2", "h3", "h4", "h5", "h6"})


class _ScreenplainHtml(HTMLParser):
    """Reads screenplain's HTML back into (type, text) items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.raw: list[Item] = []
        self._open: list[tuple[str, set[str]]] = []
        self._text: list[str] | None = None  # the element being read
        self._into: list[str] | None = None  # where character data goes now
        self._number: list[str] = []
        self._kind = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        parents = {name for _, parent in self._open for name in parent}
        self._open.append((tag, classes))
        if "page-break" in classes:
            self.raw.append(("page_break", ""))
        if tag == "span" and "scnuml" in classes:
            self._into = self._number
            return
        if tag == "span" and "scnumr" in classes:
            self._into = None
            return
        kind = None
        if re.fullmatch(r"h[1-5]", tag):
            kind = "section"
        elif tag == "h6":
            kind = "scene_heading"
        elif tag == "span" and any(name.endswith("-synopsis") for name in classes):
            kind = "synopsis"
        elif tag == "div" and "transition" in classes:
            kind = "transition"
        elif tag == "p" and "action" in parents:
            kind = "centered" if "centered" in parents else "action"
        elif tag == "p":
            kind = "character" if "character" in classes else "dialogue"
            if "parenthetical" in classes:
                kind = "parenthetical"
            if "dual" in parents:
                kind += " dual"
        if kind is not None:
            self._kind = kind
            self._text = self._into = []
            self._number = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and self._into is not None:
            self._into.append("\n")

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into.append(data)

    def handle_endtag(self, tag: str) -> None:
        _, classes = self._open.pop()
        if tag == "span" and classes & {"scnuml", "scnumr"}:
            self._into = self._text
            return
        if self._text is None or tag not in _TEXT_TAGS:
            return
        text = "".join(self._text)
        text = text.strip("\n") if self._kind == "action" else text.strip()
        if self._number:
            text = f"{text} #{''.join(self._number)}#"
        if self._kind.startswith("dialogue") and self.raw and self.raw[-1][0] == self._kind:
            self.raw[-1] = (self._kind, self.raw[-1][1] + "\n" + text)
        else:
            self.raw.append((self._kind, text))
        self._text = self._into = None


def html_items(html: str, keep_dual: bool) -> list[Item]:
    reader = _ScreenplainHtml()
    reader.feed(html)
    return _items(reader.raw, keep_dual)


def screenplain_fountain(text: str, keep_dual: bool) -> Parsed:
    from screenplain.export.html import convert
    from screenplain.parsers import fountain

    screenplay = fountain.parse(io.StringIO(text))
    out = io.StringIO()
    convert(screenplay, out, bare=True)
    title = {key: "\n".join(values) for key, values in screenplay.title_page.items()}
    return _title(title), html_items(out.getvalue(), keep_dual)


# --- Jouvence ---------------------------------------------------------------------


def jouvence_fountain(text: str, keep_dual: bool) -> Parsed:
    from jouvence import document
    from jouvence.parser import JouvenceParser

    kinds = {
        document.TYPE_ACTION: "action",
        document.TYPE_CENTEREDACTION: "centered",
        document.TYPE_CHARACTER: "character",
        document.TYPE_DIALOG: "dialogue",
        document.TYPE_PARENTHETICAL: "parenthetical",
        document.TYPE_TRANSITION: "transition",
        document.TYPE_LYRICS: "lyrics",
        document.TYPE_PAGEBREAK: "page_break",
        document.TYPE_SECTION: "section",
        document.TYPE_SYNOPSIS: "synopsis",
    }
    parsed = JouvenceParser().parseString(text)
    raw: list[Item] = []
    for scene in parsed.scenes:
        if scene.header is not None:
            raw.append(("scene_heading", scene.header))
        for paragraph in scene.paragraphs:
            raw.append((kinds[paragraph.type], paragraph.text or ""))
    return _title(parsed.title_values), _items(raw, keep_dual)


def jouvence_expected(case: dict) -> Parsed:
    raw: list[Item] = []
    for token in case.get("out") or []:
        if token == "<pagebreak>":
            raw.append(("page_break", ""))
        elif token.startswith("!><"):
            raw.append(("centered", token[3:]))
        else:
            raw.append((_JOUVENCE_TOKENS[token[0]], token[1:]))
    title = {str(key): str(value) for key, value in (case.get("title") or {}).items()}
    return _title(title), _items(raw, keep_dual=False)


# --- fountain-py and fountain-parser ------------------------------------------------


def _cue_text(name: str, extensions: list[str]) -> str:
    return " ".join([name, *(f"({extension})" for extension in extensions)])


def fountain_py_fountain(text: str, keep_dual: bool) -> Parsed:
    from fountain import FountainParser

    parsed = FountainParser().parse(text)
    raw: list[Item] = []

    def add(element: object, dual: str = "") -> None:
        kind = element.type.value  # type: ignore[attr-defined]
        body = element.text  # type: ignore[attr-defined]
        metadata = element.metadata  # type: ignore[attr-defined]
        if kind in ("note", "boneyard", "title_page"):
            return
        if kind == "dual_dialogue":
            for side in ("left", "right"):
                add(metadata[f"{side}_character"], " dual")
                for each in metadata[f"{side}_dialogue"]:
                    add(each, " dual")
            return
        if kind == "page_break":
            body = ""
        if kind == "character" and metadata.get("extension"):
            body = _cue_text(body, [str(metadata["extension"])])
        if kind == "scene_heading" and metadata.get("scene_number"):
            body = f"{body} #{metadata['scene_number']}#"
        if kind in ("character", "dialogue", "parenthetical", "lyrics"):
            kind += dual
        raw.append((kind, body))

    for element in parsed.elements:
        add(element)
    title = {str(key): str(value) for key, value in parsed.metadata.items()}
    return _title(title), _items(raw, keep_dual)


def fountain_parser_fountain(text: str, keep_dual: bool) -> Parsed:
    import fountain_parser

    parsed = fountain_parser.parse(text)
    raw: list[Item] = []
    block_start = None
    for element in parsed.elements:
        name = type(element).__name__
        if name == "Character":
            if element.is_dual and block_start is not None:
                raw[block_start:] = [(kind + " dual", body) for kind, body in raw[block_start:]]
            block_start = len(raw)
            kind = "character" + (" dual" if element.is_dual else "")
            raw.append((kind, _cue_text(element.name, element.extensions)))
            continue
        if name in ("Dialogue", "Parenthetical"):
            dual = " dual" if raw and raw[block_start or 0][0].endswith(" dual") else ""
            raw.append((name.lower() + dual, element.text))
            continue
        block_start = None
        if name == "SceneHeading":
            number = f" #{element.scene_number}#" if element.scene_number else ""
            raw.append(("scene_heading", element.text + number))
        elif name == "Action":
            raw.append(("centered" if element.is_centered else "action", element.text))
        elif name == "SectionHeading":
            raw.append(("section", element.text))
        elif name in ("Transition", "Synopsis"):
            raw.append((name.lower(), element.text))
        elif name == "PageBreak":
            raw.append(("page_break", ""))
    title = {
        str(key): "\n".join(value) if isinstance(value, list) else str(value)
        for key, value in (parsed.title_page or {}).items()
    }
    return _title(title), _items(raw, keep_dual)


# --- Running ----------------------------------------------------------------------

Tool = Callable[[str, bool], Parsed]
TOOLS: dict[str, Tool] = {
    "setpiece": setpiece_fountain,
    "screenplain": screenplain_fountain,
    "jouvence": jouvence_fountain,
    "fountain-py": fountain_py_fountain,
    "fountain-parser": fountain_parser_fountain,
}


def _run(tool: Tool, text: str, keep_dual: bool) -> Parsed | None:
    try:
        return tool(text, keep_dual)
    except Exception:
        return None


def _agree(got: Parsed | None, expected: Parsed, check_title: bool) -> bool:
    if got is None:
        return False
    if check_title and got[0] != expected[0]:
        return False
    return got[1] == expected[1]


def _diff(got: Parsed | None, expected: Parsed) -> str:
    if got is None:
        return "raised an exception"
    if got[0] != expected[0] and expected[0]:
        return f"title {got[0]} != {expected[0]}"
    for index, (mine, theirs) in enumerate(zip(got[1], expected[1], strict=False)):
        if mine != theirs:
            return f"item {index}: {mine!r} != {theirs!r}"
    return f"{len(got[1])} items != {len(expected[1])} expected"


def screenplain_corpus(folder: Path) -> list[tuple[str, dict[str, bool], str]]:
    rows = []
    for html_path in sorted(folder.glob("*.html")):
        source = html_path.with_suffix(".fountain").read_text(encoding="utf-8-sig")
        expected: Parsed = ({}, html_items(html_path.read_text(encoding="utf-8"), True))
        results = {name: _run(tool, source, True) for name, tool in TOOLS.items()}
        verdict = {name: _agree(got, expected, False) for name, got in results.items()}
        note = "" if verdict["setpiece"] else _diff(results["setpiece"], expected)
        rows.append((html_path.stem, verdict, note))
    return rows


def fdx_corpus(folder: Path) -> list[tuple[str, dict[str, bool], str]]:
    rows = []
    for fdx_path in sorted(folder.glob("*.fdx")):
        html_path = fdx_path.with_suffix(".html")
        expected: Parsed = ({}, html_items(html_path.read_text(encoding="utf-8"), True))
        try:
            got: Parsed | None = setpiece_fdx(fdx_path.read_bytes(), True)
        except Exception:
            got = None
        ok = _agree(got, expected, False)
        rows.append((fdx_path.name, {"setpiece fdx": ok}, "" if ok else _diff(got, expected)))
    return rows


def jouvence_corpus(folder: Path) -> list[tuple[str, dict[str, bool], str]]:
    rows = []
    for path in sorted(folder.glob("test_*.yaml")):
        for number, case in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8")), 1):
            if not case:
                continue
            expected = jouvence_expected(case)
            check_title = "title" in case
            source = case["in"] or ""
            results = {name: _run(tool, source, False) for name, tool in TOOLS.items()}
            verdict = {name: _agree(got, expected, check_title) for name, got in results.items()}
            note = "" if verdict["setpiece"] else _diff(results["setpiece"], expected)
            rows.append((f"{path.stem[5:]}#{number}", verdict, note))
    return rows


def headings(folder: Path) -> list[tuple[str, int, dict[str, int | None]]]:
    expected = {"Brick-and-Steel": 8, "The-Last-Birthday-Card": 48, "Big-Fish": 190}
    rows = []
    for stem, count in expected.items():
        text = (folder / f"{stem}.fountain").read_text(encoding="utf-8-sig")
        counts: dict[str, int | None] = {}
        for name, tool in TOOLS.items():
            got = _run(tool, text, False)
            counts[name] = (
                None if got is None else sum(kind == "scene_heading" for kind, _ in got[1])
            )
        rows.append((stem, count, counts))
    return rows


def _table(title: str, rows: list[tuple[str, dict[str, bool], str]]) -> dict[str, tuple[int, int]]:
    names = list(rows[0][1]) if rows else []
    print(f"\n## {title}\n")
    print("| case | " + " | ".join(names) + " | setpiece differs |")
    print("|---|" + "---|" * len(names) + "---|")
    for case, verdict, note in rows:
        marks = " | ".join("yes" if verdict[name] else "NO" for name in names)
        print(f"| {case} | {marks} | {note.replace('|', '/')} |")
    totals = {name: (sum(v[name] for _, v, _ in rows), len(rows)) for name in names}
    print("| **total** | " + " | ".join(f"**{a}/{b}**" for a, b in totals.values()) + " | |")
    return totals


def main() -> int:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default, help="the shared data folder")
    data = parser.parse_args().data
    warnings.simplefilter("ignore")
    summary: list[str] = []

    sp_folder = data / "fountain_screenplain_tests_with_expected_html"
    for title, rows in (
        ("screenplain expected HTML (Fountain)", screenplain_corpus(sp_folder)),
        ("screenplain expected HTML, read from the .fdx files", fdx_corpus(sp_folder)),
        (
            "Jouvence expected elements",
            jouvence_corpus(data / "fountain_jouvence_yaml_tests"),
        ),
    ):
        totals = _table(title, rows)
        summary.append(
            f"- {title}: " + ", ".join(f"{name} {a}/{b}" for name, (a, b) in totals.items())
        )

    print("\n## Scene headings in the official samples\n")
    print("| script | expected | " + " | ".join(TOOLS) + " |")
    print("|---|---|" + "---|" * len(TOOLS))
    matched = {name: 0 for name in TOOLS}
    for stem, count, counts in headings(data / "fountain_official_samples"):
        print(f"| {stem} | {count} | " + " | ".join(str(counts[name]) for name in TOOLS) + " |")
        for name in TOOLS:
            matched[name] += counts[name] == count
    summary.append(
        "- scene-heading counts matching (of 3): "
        + ", ".join(f"{name} {matched[name]}" for name in TOOLS)
    )
    print("\n## Summary\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
