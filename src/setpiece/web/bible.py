"""The bible on the web: the JSON routes (``/api/v1/bible/...``) and the page (``/bible``).

Both call the same services as ``setpiece character set`` (``production.bible``): a read is
for every member, an edit for artists and above (the service checks). An edit names the
version it was based on, as ``If-Match: "3"`` or ``"version": 3`` in the body; an entry
that moved since is a 409 naming what changed, so of two people editing one entry at once
the second is told instead of overwriting the first. Every answer carries the entry's
version as its ``ETag``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.enums import BibleKind
from setpiece.production.context import Production
from setpiece.web.api import INT32, Version, _clean, out
from setpiece.web.auth import Identity
from setpiece.web.deps import acting, current, form_token

__all__ = ["api_router", "page_router"]

api_router = APIRouter(prefix="/api/v1", tags=["api"])
page_router = APIRouter(include_in_schema=False, dependencies=[Depends(form_token)])

# A plain word, read by ``_kind`` after the caller is known: no route answers without one.
Kind = Annotated[str, PathParam(min_length=1, max_length=20)]
EntryName = Annotated[str, PathParam(min_length=1, max_length=200), AfterValidator(_clean)]


class EntryPatch(BaseModel):
    """What an edit changes; ``version`` (or ``If-Match``) the version it was based on."""

    model_config = ConfigDict(extra="forbid")

    description: Annotated[str | None, Field(max_length=10000)] = None
    rename: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    remove_refs: list[Annotated[int, Field(ge=1, le=INT32)]] = Field(default_factory=list)
    voice: VoicePatch | None = None  # characters only: checked with its backend first
    version: Version = None


class VoicePatch(BaseModel):
    """A character's voice, as ``setpiece character voice`` takes it."""

    model_config = ConfigDict(extra="forbid")
    backend: Annotated[str, Field(min_length=1, max_length=100)]
    voice: Annotated[str, Field(min_length=1, max_length=200)]
    rate: Annotated[int | None, Field(ge=80, le=450)] = None
    pitch: Annotated[int | None, Field(ge=0, le=100)] = None


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = None


def _kind(production: Production, word: str) -> BibleKind:
    """The kind a path names, once the caller is known (a read looks them up lazily).

    Raises:
        AuthRequiredError: No caller (401), before anything about the path is said.
        NotFoundError: Not character, location, prop or style (404).
    """
    try:
        return BibleKind(word)
    except ValueError:
        with production.transaction(read_only=True) as session:
            production.authorize(session, "read")
        known = ", ".join(k.value for k in BibleKind)
        raise NotFoundError(f"no part of the bible is called {word[:20]!r}: {known}") from None


def _if_match(header: str | None, body: int | None) -> int | None:
    """The expected version from ``If-Match`` ("3", W/"3" or 3) or the body; both must agree.

    Raises:
        InvalidInputError: An ``If-Match`` that is not a version, or one the body contradicts.
    """
    if header is None:
        return body
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if match is None:
        raise InvalidInputError(f'If-Match {header[:30]!r} is not a version: send "N"')
    version = int(match.group(1))
    if body is not None and body != version:
        raise InvalidInputError(f"If-Match {version} and version {body} disagree")
    return version


def _entry(value: Any, status: int = 200) -> Response:
    response = out(value, status)
    response.headers["ETag"] = f'"{value.version}"'
    return response


@api_router.get("/bible/{kind}", summary="The bible's entries of one kind")
def list_bible(kind: Kind, production: Production = Depends(acting)) -> Response:
    from setpiece.production.bible import list_entries

    return out(list_entries(production, _kind(production, kind)))


@api_router.get("/bible/{kind}/{name}", summary="One bible entry, its looks and likeness")
def get_bible_entry(
    kind: Kind, name: EntryName, production: Production = Depends(acting)
) -> Response:
    from setpiece.production.bible import get_entry

    return _entry(get_entry(production, _kind(production, kind), name))


@api_router.patch(
    "/bible/{kind}/{name}", summary="Edit a bible entry (artist); If-Match: its version"
)
def patch_bible_entry(
    kind: Kind,
    name: EntryName,
    body: EntryPatch,
    production: Production = Depends(acting),
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> Response:
    from setpiece.production.bible import get_entry, set_entry

    which = _kind(production, kind)
    if body.voice is not None:
        spoken = body.voice
        _set_voice(production, which, name, spoken.backend, spoken.voice, spoken.rate, spoken.pitch)
        if body.description is None and body.rename is None and not body.remove_refs:
            return _entry(get_entry(production, which, name))
    entry = set_entry(
        production,
        which,
        name,
        description=body.description,
        remove_refs=body.remove_refs,
        rename=body.rename,
        expected_version=_if_match(if_match, body.version),
    )
    return _entry(entry)


def _set_voice(
    production: Production,
    kind: BibleKind,
    name: str,
    backend: str,
    voice: str,
    rate: int | None,
    pitch: int | None,
) -> None:
    """Gives a character the voice (``pipeline.dialogue.character_voice``)."""
    from setpiece.pipeline.dialogue import character_voice

    if kind is not BibleKind.CHARACTER:
        raise InvalidInputError(f"only a character has a voice, not a {kind.value}")
    character_voice(production, name, backend=backend, voice=voice, rate=rate, pitch=pitch)


@api_router.post(
    "/bible/{kind}/{name}/refs",
    status_code=201,
    summary="Add a reference image to a bible entry (artist); If-Match: its version",
)
def add_bible_reference(
    kind: Kind,
    name: EntryName,
    file: Annotated[UploadFile, File(description="A picture: a photograph, a drawing")],
    production: Production = Depends(acting),
    version: Annotated[int | None, Form(ge=0, le=INT32)] = None,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> Response:
    """The upload of ``setpiece character set NAME --ref FILE``: the same checks (a picture,
    no decompression bomb, for a character exactly one face where the faces extra is
    installed), the same version rule, and the file named as the caller sent it."""
    expected = _if_match(if_match, version)
    return _entry(_add_reference(production, kind, name, file, expected), 201)


def _add_reference(
    production: Production, kind: str, name: str, file: UploadFile, expected: int | None
) -> Any:
    from setpiece.production.bible import set_entry
    from setpiece.web.api import save_upload

    entry_kind = _kind(production, kind)
    with save_upload(file) as (path, shown):
        if entry_kind is BibleKind.CHARACTER:
            _one_face(path, shown)
        return set_entry(production, entry_kind, name, refs=[path], expected_version=expected)


def _one_face(path: Any, shown: str) -> None:
    """Refuses a character reference without exactly one face, as the command line does;
    without the faces extra (or for a file that is not a picture) the bible's checks decide."""
    from setpiece.continuity.faces import check_reference
    from setpiece.errors import InvalidMediaError, MissingExtraError

    try:
        check_reference(path)
    except (InvalidMediaError, MissingExtraError):
        return
    except InvalidInputError as exc:
        raise InvalidInputError(str(exc).replace(str(path), shown)) from None


@api_router.post("/bible/{kind}/{name}/accept", summary="Take the script's description (artist)")
def accept_bible_entry(
    kind: Kind,
    name: EntryName,
    body: AcceptBody,
    production: Production = Depends(acting),
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> Response:
    from setpiece.production.bible import accept_candidate

    expected = _if_match(if_match, body.version)
    return _entry(
        accept_candidate(production, _kind(production, kind), name, expected_version=expected)
    )


@page_router.get("/bible")
def bible_page(request: Request, who: Identity = Depends(current)) -> Response:
    from setpiece.production.bible import list_entries
    from setpiece.production.stale import stale_shots
    from setpiece.web.pages import page_production, render

    production = page_production(request, who)
    kinds = {kind.value: list_entries(production, kind) for kind in BibleKind}
    return render(
        request, "bible.html", who, kinds=kinds, stale=stale_shots(production), page="bible"
    )


@page_router.post("/bible/{kind}/{name}")
def bible_edit(
    kind: Kind,
    name: str,
    request: Request,
    who: Identity = Depends(current),
    description: Annotated[str, Form(max_length=10000)] = "",
    version: Annotated[str, Form(max_length=20)] = "",
    accept: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    from setpiece.production.bible import accept_candidate, set_entry
    from setpiece.web.pages import _version, page_production

    production = page_production(request, who)
    if accept:
        accept_candidate(
            production, _kind(production, kind), name, expected_version=_version(version)
        )
    else:
        set_entry(
            production,
            _kind(production, kind),
            name,
            description=description,
            expected_version=_version(version),
        )
    return RedirectResponse("/bible", status_code=303)


@page_router.post("/bible/character/{name}/voice")
def bible_voice(
    name: str,
    request: Request,
    who: Identity = Depends(current),
    backend: Annotated[str, Form(min_length=1, max_length=100)] = "espeak",
    voice: Annotated[str, Form(min_length=1, max_length=200)] = "",
    rate: Annotated[str, Form(max_length=10)] = "",
    pitch: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The page's voice form: the API's voice, then back to the bible."""
    from setpiece.web.pages import page_production

    production = page_production(request, who)
    numbers = []
    for label, text in (("rate", rate), ("pitch", pitch)):
        if text.strip() and not text.strip().isdigit():
            raise InvalidInputError(f"{label} {text!r} is not a whole number")
        numbers.append(int(text) if text.strip() else None)
    _set_voice(production, BibleKind.CHARACTER, name, backend, voice, numbers[0], numbers[1])
    return RedirectResponse("/bible", status_code=303)


@page_router.post("/bible/{kind}/{name}/refs")
def bible_add_reference(
    kind: Kind,
    name: str,
    request: Request,
    file: Annotated[UploadFile, File()],
    who: Identity = Depends(current),
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The page's "Add a picture" form: the API's upload, then back to the bible."""
    from setpiece.web.pages import _version, page_production

    production = page_production(request, who)
    _add_reference(production, kind, name, file, _version(version))
    return RedirectResponse("/bible", status_code=303)
