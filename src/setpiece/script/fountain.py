"""Fountain 1.1 reader, line by line, so a script of any length reads in bounded memory.

Why our own parser: no library on PyPI reads the ground truth exactly. Measured
with ``bench/script_corpus_eval.py`` (screenplain's 16 expected-HTML cases,
Jouvence's 46 YAML cases; all five libraries count the official samples' scene
headings right but fountain-parser, 47 of 48 in The Last Birthday Card):

- screenplain 0.12.0: 16/16 on its own cases, 42/46 on Jouvence's (no lyrics, a
  lone synopsis dropped, centered text with a trailing joining line); it also
  reads the whole file into memory and keeps no notes.
- jouvence 0.4.2 (last release 2020): 46/46 on its own, 11/16 on screenplain's
  (no dual dialogue, notes left in the text, a boneyard that opens right under
  a line of text left in, the pause line in a speech lost, a space kept after
  ``>``).
- fountain-py 0.3.0 (alpha): 14/16 and 44/46 (the space before an inline note,
  a transition before a boneyard, lyrics on a line of action).
- fountain-parser 0.1.1: 9/16 and 40/46 (action lines joined with spaces,
  indentation dropped).
- fountain 0.1.3 does not import on Python 3.11 (``re.LOCALE`` on a str pattern).

This reader: 16/16 and 45/46; the one miss is a case where the two references
contradict each other (a boneyard on lines of its own between two lines of
action: screenplain splits the paragraph there, Jouvence joins it).

Decisions where the references disagree or are silent:

- A boneyard ``/* */`` is cut out as text, line ends inside it included, so the
  text around it joins (screenplain's rule). One unclosed ``/*`` hides the rest of
  the file, with a ``ScriptWarning``.
- A note ``[[ ]]`` cannot cross an empty line (a line of two spaces joins lines);
  an unclosed ``[[`` stays in the text as written, with a ``ScriptWarning``,
  rather than swallowing the rest of the script. Notes become ``Note`` elements
  after the element they were written in.
- Scene headings open with the spec's prefixes only: ``EXT/INT.`` is action, as
  in both references (Big Fish writes two headings so; a leading ``.`` forces them).
- Lines of two or more spaces join paragraphs; in dialogue they are empty lines.
- Emphasis does not cross line ends; ``\\*`` and ``\\_`` are literal.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from setpiece.script.breakdown import collect
from setpiece.script.elements import (
    Action,
    Centered,
    Character,
    Dialogue,
    Element,
    Lyrics,
    Note,
    PageBreak,
    Parenthetical,
    Run,
    SceneHeading,
    Script,
    ScriptWarning,
    Section,
    Synopsis,
    Transition,
)
from setpiece.script.numbers import read_number

__all__ = ["FountainStream", "emphasis", "is_heading", "parse_fountain", "stream_fountain"]

# A scene heading starts with one of these and a dot or a space (case does not matter);
# the spec lists no EXT/INT, and Big Fish writes two headings that way: they stay action.
_HEADING = re.compile(r"(?:INT\.?/EXT|INT|EXT|EST|I\.?/E)(?:\.|\s)", re.IGNORECASE)
# The scene number closes the heading: ``#12A#``; what stands between the marks is checked
# by ``numbers.read_number`` (``# 7 #`` is 7, ``#12 A#`` is refused).
_SCENE_NUMBER = re.compile(r"\s*#([^#]*)#\s*$")
_CENTERED = re.compile(r"\s*>(.*)<\s*$")
_PAGE_BREAK = re.compile(r"\s*={3,}\s*$")
_NOTE = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_TITLE_KEY = re.compile(r"([^\W\d_][\w '\-]{0,40}):(.*)$")
_TITLE_MORE = re.compile(r"(?: {3,}|\t)\s*(.*)$")

# Emphasis: escapes and style marks become non-characters while the regexes run,
# as screenplain does; text that already holds one is read without emphasis.
_STAR, _UNDER = "\ufdd0", "\ufdd1"
_BOLD_ON, _BOLD_OFF, _ITALIC_ON, _ITALIC_OFF, _UNDER_ON, _UNDER_OFF = (
    "\ufdd2\ufdd3\ufdd4\ufdd5\ufdd6\ufdd7"
)
_ANY_MARK = re.compile("[\ufdd0-\ufdd7]")
_STYLE_SPLIT = re.compile("([\ufdd2-\ufdd7])")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*")
# Underscores inside a word (snake_case) are not underline, as in Markdown.
_UNDERLINE = re.compile(r"(?<![^\W_])_(?=\S)([^_\n]+?)(?<=\S)_(?![^\W_])")


def emphasis(text: str) -> tuple[str, tuple[Run, ...]]:
    """Resolve Fountain emphasis: ``***bold italic***``, ``**bold**``, ``*italic*``, ``_underline_``.

    Args:
        text: Text with Fountain markup; ``\\*`` and ``\\_`` are literal.

    Returns:
        The plain text, and its styled runs (empty when nothing is styled).
    """
    if "*" not in text and "_" not in text:
        return text, ()
    if _ANY_MARK.search(text):
        return text.replace("\\*", "*").replace("\\_", "_"), ()
    marked = text.replace("\\*", _STAR).replace("\\_", _UNDER)
    if "**" in marked:
        marked = _BOLD.sub(_BOLD_ON + r"\1" + _BOLD_OFF, marked)
    if "*" in marked:
        marked = _ITALIC.sub(_ITALIC_ON + r"\1" + _ITALIC_OFF, marked)
    if "_" in marked:
        marked = _UNDERLINE.sub(_UNDER_ON + r"\1" + _UNDER_OFF, marked)
    pieces = _STYLE_SPLIT.split(marked)
    if len(pieces) == 1:
        return marked.replace(_STAR, "*").replace(_UNDER, "_"), ()
    runs: list[Run] = []
    bold = italic = underline = False
    for index, piece in enumerate(pieces):
        if index % 2:
            bold = piece == _BOLD_ON or (bold and piece != _BOLD_OFF)
            italic = piece == _ITALIC_ON or (italic and piece != _ITALIC_OFF)
            underline = piece == _UNDER_ON or (underline and piece != _UNDER_OFF)
            continue
        if not piece:
            continue
        piece = piece.replace(_STAR, "*").replace(_UNDER, "_")
        last = runs[-1] if runs else None
        if last and (last.bold, last.italic, last.underline) == (bold, italic, underline):
            runs[-1] = Run(last.text + piece, bold, italic, underline)
        else:
            runs.append(Run(piece, bold, italic, underline))
    plain = "".join(run.text for run in runs)
    if not any(run.bold or run.italic or run.underline for run in runs):
        return plain, ()
    return plain, tuple(runs)


def is_heading(line: str) -> bool:
    """Whether a line opens like a scene heading (INT, EXT, EST, INT./EXT., I/E).

    Args:
        line: One line, leading spaces allowed.

    Returns:
        True when the line starts with a scene-heading prefix and a dot or space.
    """
    return _HEADING.match(line.lstrip()) is not None


def _is_blank(line: str) -> bool:
    # One space or one tab still separates paragraphs; two spaces join them.
    return len(line) < 2 and (not line or line.isspace())


def _cue(line: str) -> tuple[str, bool] | None:
    """The character cue in a paragraph's first line, and whether it is marked dual (``^``)."""
    text = line.strip()
    mark = text[:1]
    if mark == "@":
        text = text[1:].strip()
    elif (
        not mark
        or mark in "!.>~=#[("
        or not text.partition("(")[0].isupper()
        or (mark in "IiEe" and _HEADING.match(text))
    ):
        return None
    dual = text.endswith("^")
    if dual:
        text = text[:-1].rstrip()
    return (text, dual) if text else None


# A paragraph: the line number of each line, its lines, and the notes taken out of it.
_Paragraph = tuple[list[int], list[str], list[tuple[int, str]]]


class FountainStream:
    """Fountain elements read one paragraph at a time.

    Memory holds the current paragraph, plus the previous dialogue block until
    the next paragraph shows whether it pairs with it as dual dialogue. The stream
    can be iterated once.

    Attributes:
        source: The file name used in warnings.
        warnings: One line per lenient reading, filled while the stream is read.
    """

    def __init__(self, lines: Iterable[str], source: str = "<string>") -> None:
        """Start reading.

        Args:
            lines: The script's lines, without line ends (a leading BOM is dropped).
            source: The file name for warnings.
        """
        self.source = source
        self.warnings: list[str] = []
        self._bone: tuple[int, str] | None = None  # an open boneyard: its line, text before it
        self._paragraphs = self._read_paragraphs(lines)
        self._title: dict[str, str] | None = None
        self._first: _Paragraph | None = None
        self._held: list[Element] = []

    @property
    def title_page(self) -> dict[str, str]:
        """The title page: lower-case keys, multi-line values joined with ``\\n``."""
        if self._title is None:
            self._title = self._read_title_page()
        return self._title

    def _read_title_page(self) -> dict[str, str]:
        first = next(self._paragraphs, None)
        if first is None:
            return {}
        title = _title_page(first[1])
        if title is None:
            self._first = first
            return {}
        return title

    def __iter__(self) -> Iterator[Element]:
        """Yield the elements in reading order."""
        if self._title is None:
            self._title = self._read_title_page()
        first, self._first = self._first, None
        if first is not None:
            yield from self._elements(*first)
        for paragraph in self._paragraphs:
            yield from self._elements(*paragraph)
        held, self._held = self._held, []
        yield from held

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, ScriptWarning, stacklevel=3)

    def _read_paragraphs(self, lines: Iterable[str]) -> Iterator[_Paragraph]:
        """Group lines into paragraphs (split at empty lines), boneyards cut out."""
        numbers: list[int] = []
        block: list[str] = []
        notes = False
        number = 0
        for line in lines:
            number += 1
            at = number
            if "/*" in line or self._bone is not None:
                if number == 1:
                    line = line.removeprefix("\ufeff")
                cut = self._cut_boneyard(line, number)
                if cut is None:
                    continue
                at, line = cut
            elif number == 1:
                line = line.removeprefix("\ufeff")
            if len(line) < 2 and (not line or line.isspace()):
                if block:
                    yield self._clean(numbers, block, notes)
                    numbers, block, notes = [], [], False
                continue
            numbers.append(at)
            block.append(line)
            if "[[" in line:
                notes = True
        if self._bone is not None:
            opened, kept = self._bone
            self._warn(
                f"{self.source}: line {opened}: boneyard '/*' is never closed, so the rest "
                "of the script is left out; close it with '*/'"
            )
            if not _is_blank(kept):
                numbers.append(opened)
                block.append(kept)
                notes = notes or "[[" in kept
        if block:
            yield self._clean(numbers, block, notes)

    def _cut_boneyard(self, line: str, number: int) -> tuple[int, str] | None:
        """Cut boneyard text out of a line; the text around a boneyard joins into one line.

        Returns:
            The line number and text of the line that results, or None while the
            line lies inside a boneyard that goes on.
        """
        position = 0
        opened, kept = self._bone if self._bone is not None else (number, "")
        inside = self._bone is not None
        while True:
            if inside:
                end = line.find("*/", position)
                if end < 0:
                    self._bone = (opened, kept)
                    return None
                inside, position = False, end + 2
            else:
                start = line.find("/*", position)
                if start < 0:
                    self._bone = None
                    return opened, kept + line[position:]
                kept += line[position:start]
                inside, position = True, start + 2

    def _clean(self, numbers: list[int], lines: list[str], notes: bool) -> _Paragraph:
        """Take notes out of a paragraph; drop lines left empty and joining lines at the ends."""
        found: list[tuple[int, str]] = []
        if notes:
            numbers, lines, found = self._take_notes(numbers, lines)
        while lines and lines[-1].isspace():
            lines.pop()
            numbers.pop()
        if lines and lines[0].isspace():
            start = 1
            while lines[start].isspace():
                start += 1
            numbers, lines = numbers[start:], lines[start:]
        return numbers, lines, found

    def _take_notes(
        self, numbers: list[int], lines: list[str]
    ) -> tuple[list[int], list[str], list[tuple[int, str]]]:
        text = "\n".join(lines)
        line_starts = [0]
        for line in lines[:-1]:
            line_starts.append(line_starts[-1] + len(line) + 1)

        def line_at(position: int) -> int:
            return numbers[bisect_right(line_starts, position) - 1]

        notes: list[tuple[int, str]] = []
        pieces: list[tuple[int, str]] = []  # (source position, kept text)
        position = 0
        for match in _NOTE.finditer(text):
            pieces.append((position, text[position : match.start()]))
            notes.append((line_at(match.start()), match.group(1).strip()))
            position = match.end()
        pieces.append((position, text[position:]))
        kept_numbers: list[int] = []
        kept_lines: list[str] = []
        current: list[str] = []
        current_start = 0
        for offset, piece in pieces:
            parts = piece.split("\n")
            for index, part in enumerate(parts):
                if index:
                    kept_lines.append("".join(current))
                    kept_numbers.append(line_at(current_start))
                    current = []
                    current_start = offset + sum(len(p) + 1 for p in parts[:index])
                current.append(part)
        kept_lines.append("".join(current))
        kept_numbers.append(line_at(current_start))
        out_numbers: list[int] = []
        out_lines: list[str] = []
        for number, line in zip(kept_numbers, kept_lines, strict=True):
            if "[[" in line:
                self._warn(
                    f"{self.source}: line {number}: note '[[' is not closed before an empty "
                    "line, so it is kept as text; close it with ']]' (a line of two spaces "
                    "keeps a note going)"
                )
            if not _is_blank(line):
                out_numbers.append(number)
                out_lines.append(line)
        return out_numbers, out_lines, notes

    def _elements(
        self, numbers: list[int], lines: list[str], notes: list[tuple[int, str]]
    ) -> list[Element]:
        """The elements of one paragraph, in order, with dual dialogue resolved."""
        out: list[Element] = []
        if lines:
            block = self._classify(numbers, lines, out)
        else:
            block = None
        out.extend(Note(text, (), number) for number, text in notes)
        if block is None:
            held, self._held = self._held, []
            return held + out if held else out
        if block:  # a dual cue: pair with the held dialogue block
            if self._held:
                paired = [_dual(element) for element in self._held + out]
                self._held = []
                return paired
            held, self._held = self._held, out
            return held
        held, self._held = self._held, out
        return held

    def _classify(self, numbers: list[int], lines: list[str], out: list[Element]) -> bool | None:
        """Append a paragraph's elements to ``out``.

        Returns:
            None for anything but dialogue; for a dialogue block, whether its cue
            asks for dual dialogue.
        """
        head = lines[0].lstrip()
        while head[:1] in ("#", "="):  # sections, synopses, page breaks: one line each
            if head[0] == "#":
                body = head.lstrip("#")
                plain, runs = emphasis(body.strip())
                out.append(Section(plain, runs, numbers[0], len(head) - len(body)))
            elif _PAGE_BREAK.match(head):
                out.append(PageBreak("", (), numbers[0]))
            else:
                plain, runs = emphasis(head[1:].strip())
                out.append(Synopsis(plain, runs, numbers[0]))
            numbers, lines = numbers[1:], lines[1:]
            while lines and lines[0].isspace():
                numbers, lines = numbers[1:], lines[1:]
            if not lines:
                return None
            head = lines[0].lstrip()
        first = lines[0]
        line = numbers[0]
        mark = head[0]
        if mark == "!":
            out.append(_action(lines, line))
            return None
        if len(lines) == 1:
            text = head.rstrip()
            if mark == ".":
                if text.startswith("..") or len(text) == 1:
                    out.append(_action(lines, line))
                else:
                    out.append(_heading(text[1:].strip(), line, self.source))
            elif mark in "IiEe" and _HEADING.match(text):
                out.append(_heading(text, line, self.source))
            elif mark == ">":
                if text.endswith("<"):
                    plain, runs = emphasis(text[1:-1].strip())
                    out.append(Centered(plain, runs, line))
                else:
                    plain, runs = emphasis(text[1:].strip())
                    out.append(Transition(plain, runs, line))
            elif first.endswith("TO:") and first.isupper():
                plain, runs = emphasis(text)
                out.append(Transition(plain, runs, line))
            elif mark == "@" and (cue := _cue(text)) is not None:
                plain, runs = emphasis(cue[0])
                out.append(Character(plain, runs, line))
            elif mark == "~":
                out.append(_lyrics([text], line))
            else:
                out.append(_action(lines, line))
            return None
        if mark == ">" and all(_CENTERED.match(each) for each in lines):
            texts = (each.strip()[1:-1].strip() for each in lines)
            plain, runs = emphasis("\n".join(texts))
            out.append(Centered(plain, runs, line))
            return None
        cue = _cue(head)
        if cue is not None:
            _dialogue(cue[0], numbers, lines, out)
            return cue[1]
        if mark == "~" and all(each.lstrip().startswith("~") for each in lines):
            out.append(_lyrics([each.strip() for each in lines], line))
            return None
        out.append(_action(lines, line))
        return None


def _dual(element: Element) -> Element:
    """The same element in dual dialogue (sections and notes have no side)."""
    if isinstance(element, Character | Dialogue | Parenthetical | Lyrics):
        return type(element)(element.text, element.runs, element.line, True)
    return element


def _heading(text: str, line: int, source: str) -> SceneHeading:
    """A scene heading, its ``#number#`` read and checked.

    Raises:
        InvalidInputError: The number is malformed or too long (the message names the line).
    """
    number = None
    if "#" in text and (match := _SCENE_NUMBER.search(text)) is not None:
        number = read_number(match.group(1), f"{source}: line {line}")
        text = text[: match.start()].rstrip()
    plain, runs = emphasis(text)
    return SceneHeading(plain, runs, line, number)


def _action(lines: list[str], line: int) -> Action:
    """Action keeps its indentation; a ``!`` that forces a line is dropped."""
    if len(lines) == 1:
        text = lines[0].rstrip()
        plain, runs = emphasis(text[1:] if text.startswith("!") else text)
        return Action(plain, runs, line)
    texts = (each.rstrip() for each in lines)
    text = "\n".join(each[1:] if each.startswith("!") else each for each in texts)
    plain, runs = emphasis(text)
    return Action(plain, runs, line)


def _lyrics(lines: list[str], line: int) -> Lyrics:
    plain, runs = emphasis("\n".join(each[1:].strip() for each in lines))
    return Lyrics(plain, runs, line)


def _dialogue(cue: str, numbers: list[int], lines: list[str], out: list[Element]) -> None:
    """Append a character cue and what follows it: dialogue, parentheticals, lyrics."""
    plain, runs = emphasis(cue)
    out.append(Character(plain, runs, numbers[0]))
    texts = [each.strip() for each in lines]
    index, count = 1, len(texts)
    while index < count:
        start = index
        mark = texts[index][:1]
        if mark == "(":
            while not texts[index].endswith(")") and index + 1 < count:
                index += 1
            index += 1
            plain, runs = emphasis("\n".join(texts[start:index]))
            out.append(Parenthetical(plain, runs, numbers[start]))
        elif mark == "~":
            while index < count and texts[index].startswith("~"):
                index += 1
            out.append(_lyrics(texts[start:index], numbers[start]))
        else:
            while index < count and texts[index][:1] not in ("(", "~"):
                index += 1
            body = "\n".join(texts[start:index]).strip("\n")
            if body:
                plain, runs = emphasis(body)
                out.append(Dialogue(plain, runs, numbers[start]))


def _title_page(lines: list[str]) -> dict[str, str] | None:
    """Read a title page paragraph, or None when the paragraph is not one."""
    values: dict[str, list[str]] = {}
    key = None
    for line in lines:
        if key is not None and (more := _TITLE_MORE.match(line)) is not None:
            if more.group(1).strip():
                values[key].append(more.group(1).strip())
            continue
        match = _TITLE_KEY.match(line)
        if match is None:
            return None
        key = match.group(1).strip().lower()
        values.setdefault(key, [])
        if match.group(2).strip():
            values[key].append(match.group(2).strip())
    if not any(values.values()):
        return None
    return {key: emphasis("\n".join(parts))[0] for key, parts in values.items() if parts}


def stream_fountain(text: str, source: str = "<string>") -> FountainStream:
    """Read Fountain from a string (CRLF, CR or LF line ends; a BOM is dropped).

    Args:
        text: The whole script.
        source: The name to give in warnings.

    Returns:
        A stream of its elements, with its title page.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return FountainStream(text.split("\n"), source=source)


def parse_fountain(text: str, source: str = "<string>") -> Script:
    """Read a whole Fountain script from a string, with its scene summaries.

    Args:
        text: The whole script.
        source: The name to give in warnings.

    Returns:
        The script in memory.
    """
    return collect(stream_fountain(text, source))
