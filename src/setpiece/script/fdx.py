"""Final Draft (.fdx) reader into the same elements as Fountain.

FDX is XML from whoever sent the script, so it is parsed with defusedxml, and
a document with a DOCTYPE is refused before anything in it is resolved: that
covers external entities that would read local files, the nested entities of a
"billion laughs" bomb and external DTDs, and Final Draft never writes one. The body is read with ``iterparse`` and each paragraph
is dropped once read, so memory stays bounded however long the script is.

Paragraph types map as follows: Scene Heading (its ``Number`` is the scene
number), Action, Character, Dialogue, Parenthetical, Transition and Lyrics to
their elements; General, Shot and Cast List to action (centered text when the paragraph is
centered); New Act and End of Act to centered text. Any other type reads as action with a ``ScriptWarning``.
Paragraphs inside ``DualDialogue`` are dual; ``StartsNewPage="Yes"`` gives a page
break before the paragraph; empty paragraphs (Final Draft's spacing) are skipped.
The title page has no keys in FDX: its first line becomes ``title`` and the rest
``notes``.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast
from xml.etree.ElementTree import Element as XmlElement
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from setpiece.errors import InvalidInputError
from setpiece.script.breakdown import collect
from setpiece.script.elements import (
    Action,
    Centered,
    Character,
    Dialogue,
    Element,
    Lyrics,
    PageBreak,
    Parenthetical,
    Run,
    SceneHeading,
    Script,
    ScriptWarning,
    Transition,
)
from setpiece.script.numbers import read_number

__all__ = ["FdxStream", "parse_fdx", "stream_fdx"]

_ACTION_TYPES = frozenset({"Action", "General", "Shot", "Cast List"})
_CENTERED_TYPES = frozenset({"New Act", "End of Act"})
_SPOKEN: dict[str, type[Character | Dialogue | Parenthetical | Lyrics]] = {
    "Character": Character,
    "Dialogue": Dialogue,
    "Parenthetical": Parenthetical,
    "Lyrics": Lyrics,
}


def _text(paragraph: XmlElement) -> tuple[str, tuple[Run, ...]]:
    """A paragraph's text from its ``Text`` children, with their styles as runs."""
    runs: list[Run] = []
    for node in paragraph.iterfind("Text"):
        text = node.text or ""
        styles = (node.get("Style") or "").split("+")
        if "AllCaps" in styles:
            text = text.upper()
        if text:
            runs.append(Run(text, "Bold" in styles, "Italic" in styles, "Underline" in styles))
    plain = "".join(run.text for run in runs).rstrip("\n")
    if not any(run.bold or run.italic or run.underline for run in runs):
        return plain, ()
    if runs and runs[-1].text.endswith("\n"):
        last = runs[-1]
        trimmed = last.text.rstrip("\n")
        runs[-1] = Run(trimmed, last.bold, last.italic, last.underline)
        if not trimmed:
            runs.pop()
    return plain, tuple(runs)


class FdxStream:
    """Final Draft elements read one paragraph at a time.

    Attributes:
        source: The file name used in errors and warnings.
        warnings: One line per lenient reading, filled while the stream is read.
    """

    def __init__(self, open_bytes: Callable[[], IO[bytes]], source: str) -> None:
        """Prepare to read.

        Args:
            open_bytes: Opens the document afresh (the title page is read in a
                pass of its own, since Final Draft writes it after the body).
            source: The file name for errors and warnings.
        """
        self.source = source
        self.warnings: list[str] = []
        self._open = open_bytes
        self._title: dict[str, str] | None = None
        self._unknown: set[str] = set()
        self._headings = 0  # scene headings read so far, to name one in a message
        # A speech being gathered: its lines with their runs, and whether it is dual.
        self._dialogue: tuple[list[tuple[str, tuple[Run, ...]]], bool] | None = None

    @property
    def title_page(self) -> dict[str, str]:
        """Title and notes from the FDX title page; empty when it has none."""
        if self._title is None:
            for _ in self._read(body=False):
                pass
        return self._title or {}

    def __iter__(self) -> Iterator[Element]:
        """Yield the elements of the body in order."""
        return self._read(body=True)

    def _read(self, body: bool) -> Iterator[Element]:
        stack: list[XmlElement] = []
        dual = 0
        title_lines: list[str] = []
        try:
            opened = self._open()
        except OSError as error:
            raise InvalidInputError(
                f"{self.source} cannot be read ({error.strerror or error}); check the path"
            ) from None
        with opened as stream:
            try:
                for event, node in self._events(stream):
                    if event == "start":
                        if not stack and node.tag != "FinalDraft":
                            raise InvalidInputError(
                                f"{self.source} is XML but not a Final Draft script (its root "
                                f"is <{node.tag}>); export the script from Final Draft as .fdx"
                            )
                        stack.append(node)
                        dual += node.tag == "DualDialogue"
                        continue
                    stack.pop()
                    dual -= node.tag == "DualDialogue"
                    if node.tag != "Paragraph" or len(stack) < 2:
                        continue
                    part, parent = stack[1].tag, stack[-1].tag
                    if part == "Content" and body and parent in ("Content", "DualDialogue"):
                        yield from self._elements(node, dual > 0)
                    elif part == "TitlePage" and parent == "Content":
                        text = _text(node)[0].strip()
                        if text:
                            title_lines.append(text)
                    if parent == "Content":
                        stack[-1].remove(node)  # read: let it go
            except ParseError as error:
                raise InvalidInputError(
                    f"{self.source} is not well-formed XML ({error}); "
                    "export it again from Final Draft"
                ) from error
            except defusedxml.DefusedXmlException as error:
                raise InvalidInputError(
                    f"{self.source} has a DOCTYPE (a DTD or XML entities), which is "
                    "refused for safety; export the script again from Final Draft"
                ) from error
        if body:
            yield from self._end_dialogue()
        if self._title is None:
            self._title = {}
            if title_lines:
                self._title["title"] = title_lines[0]
                if len(title_lines) > 1:
                    self._title["notes"] = "\n".join(title_lines[1:])

    @staticmethod
    def _events(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
        events = SafeElementTree.iterparse(stream, events=("start", "end"), forbid_dtd=True)
        return cast(Iterator[tuple[str, Any]], events)

    def _elements(self, node: XmlElement, dual: bool) -> list[Element]:
        kind = node.get("Type")
        if kind is None:
            return []  # the wrapper around DualDialogue
        out: list[Element] = []
        text, runs = _text(node)
        if kind == "Dialogue" and (self._dialogue is not None or text.strip()):
            # Final Draft writes each line of a speech as a paragraph of its own.
            if self._dialogue is not None and self._dialogue[1] == dual:
                self._dialogue[0].append((text.strip(), runs))
                return out
            out.extend(self._end_dialogue())
            self._dialogue = ([(text.strip(), runs)], dual)
            return out
        out.extend(self._end_dialogue())
        if node.get("StartsNewPage") == "Yes":
            out.append(PageBreak())
        if not text.strip():
            return out
        if kind == "Scene Heading":
            self._headings += 1
            raw = node.get("Number")
            # FDX has no lines: the message names the heading and its place instead.
            where = f"{self.source}: scene heading {self._headings} ({text.strip()[:40]!r})"
            number = read_number(raw, where) if raw and raw.strip() else None
            out.append(SceneHeading(text=text.strip(), runs=runs, number=number))
        elif kind in _SPOKEN:
            out.append(_SPOKEN[kind](text=text.strip(), runs=runs, dual=dual))
        elif kind == "Transition":
            out.append(Transition(text=text.strip(), runs=runs))
        elif kind in _CENTERED_TYPES or (
            kind in _ACTION_TYPES and node.get("Alignment") == "Center"
        ):
            out.append(Centered(text=text.strip(), runs=runs))
        else:
            if kind not in _ACTION_TYPES and kind not in self._unknown:
                self._unknown.add(kind)
                message = (
                    f"{self.source}: paragraph type {kind!r} is not a screenplay element "
                    "Setpiece knows; it is read as action"
                )
                self.warnings.append(message)
                warnings.warn(message, ScriptWarning, stacklevel=3)
            out.append(Action(text=text.rstrip(), runs=runs))
        return out

    def _end_dialogue(self) -> list[Element]:
        """The speech gathered from consecutive Dialogue paragraphs, as one element."""
        if self._dialogue is None:
            return []
        lines, dual = self._dialogue
        self._dialogue = None
        while lines and not lines[-1][0]:
            lines.pop()
        while lines and not lines[0][0]:
            lines.pop(0)
        if not lines:
            return []
        text = "\n".join(line for line, _ in lines)
        runs: list[Run] = []
        if any(line_runs for _, line_runs in lines):
            for index, (line, line_runs) in enumerate(lines):
                if index:
                    runs.append(Run("\n"))
                runs.extend(line_runs or (Run(line),))
        return [Dialogue(text=text, runs=tuple(runs), dual=dual)]


def stream_fdx(data: bytes | Path, source: str | None = None) -> FdxStream:
    """Read Final Draft XML from bytes or a file.

    Args:
        data: The document, or the path of a .fdx file.
        source: The name for errors and warnings (the path by default).

    Returns:
        A stream of its elements, with its title page.
    """
    if isinstance(data, Path):
        path = data
        return FdxStream(lambda: path.open("rb"), source or str(path))
    content = data
    return FdxStream(lambda: io.BytesIO(content), source or "<string>")


def parse_fdx(data: bytes | Path, source: str | None = None) -> Script:
    """Read a whole Final Draft script, with its scene summaries.

    Args:
        data: The document, or the path of a .fdx file.
        source: The name for errors and warnings (the path by default).

    Returns:
        The script in memory.

    Raises:
        InvalidInputError: The XML is malformed, declares entities, or is not FDX.
    """
    return collect(stream_fdx(data, source))
