"""Finding voice backends by name: registered, built-ins, then the ``setpiece.voices`` entry points.

The generators' rule (``setpiece.generate.registry``), for voices: built-in backends live in
``setpiece.voice.<name>`` and are imported only when used, so listing them never loads
eSpeak NG, ONNX Runtime or an SDK; a plugin's entry point is loaded when its name is
asked for. A broken entry point is refused with its name and reason when asked for and
listed as broken. A backend whose packages are missing is listed as not installed, with
its install hint; speaking with it raises that hint (``MissingExtraError`` when it names
its extra).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError, MissingExtraError, NotFoundError, SetpieceError
from setpiece.plugins import Plugins
from setpiece.voice.audio import DEFAULT_MAX_SECONDS
from setpiece.voice.base import Speech, SpeechRequest, VoiceBackend

__all__ = [
    "BUILTINS",
    "GROUP",
    "VoiceInfo",
    "check_voice_tables",
    "get_voice",
    "list_voices",
    "register",
    "speak",
    "unavailable",
    "voice_class",
]

GROUP = "setpiece.voices"

# name -> "module:Class", imported lazily; also declared as entry points in pyproject.toml.
BUILTINS: dict[str, str] = {
    "espeak": "setpiece.voice.espeak:EspeakVoice",
    "piper": "setpiece.voice.piper:PiperVoice",
    "openai": "setpiece.voice.openai:OpenAIVoice",
}

# One discovery rule for every kind of backend (setpiece.plugins); the dictionaries are kept
# by name for tests and embedders that register or forget a class.
_PLUGINS: Plugins[VoiceBackend] = Plugins(GROUP, VoiceBackend, BUILTINS, "voice")
_REGISTERED = _PLUGINS.registered
_LOADED = _PLUGINS.loaded


@dataclass(frozen=True)
class VoiceInfo:
    """One voice backend as ``list_voices`` reports it.

    ``installed``: its packages import. ``configured``: ``missing_settings`` is empty.
    ``available``: both. ``reachable``: only when checked (None otherwise, or no server).
    """

    name: str
    source: str  # builtin | registered | entry point TARGET | broken
    installed: bool = False
    configured: bool = False
    available: bool = False
    install_hint: str | None = None
    capabilities: dict[str, Any] | None = None
    missing_settings: list[str] = field(default_factory=list)
    reachable: bool | None = None
    problem: str | None = None


def register(backend: type[VoiceBackend]) -> type[VoiceBackend]:
    """Registers a voice backend class in this process by its ``name`` (a decorator too)."""
    return _PLUGINS.register(backend)


def voice_class(name: str) -> tuple[str, type[VoiceBackend]] | None:
    """Where the backend called ``name`` comes from and its class; None if none has it.

    Raises:
        InvalidInputError: Its entry point is broken.
    """
    return _PLUGINS.find(name)


def _names() -> list[str]:
    return _PLUGINS.names()


def get_voice(
    name: str,
    settings: Mapping[str, Any] | None = None,
    *,
    project_dir: Path | None = None,
) -> VoiceBackend:
    """An instance of the voice backend called ``name``, with its ``[voices.NAME]`` table.

    Raises:
        NotFoundError: No backend has that name.
        MissingExtraError: Its packages are not installed (names the extra).
        InvalidInputError: Its settings are refused, still missing (a hosted backend
            without its key), or its entry point is broken.
    """
    found = voice_class(name)
    if found is None:
        raise NotFoundError(f"no voice backend {name!r}: there are {', '.join(_names())}")
    cls = found[1]
    missing = cls.missing()
    if missing and cls.extra:
        raise MissingExtraError(f"the {name} voice", cls.extra, ", ".join(missing))
    if missing:
        hint = cls.install_hint or f"pip install {' '.join(missing)}"
        raise InvalidInputError(f"voice backend {name} needs {', '.join(missing)}: {hint}")
    read = cls.load_settings(settings)
    unset = cls.missing_settings(read)
    if unset:
        raise InvalidInputError(f"voice backend {name} is not configured: set {', '.join(unset)}")
    return cls(read, project_dir=project_dir)


def unavailable(name: str, settings: Mapping[str, Any] | None = None) -> str | None:
    """Why the backend ``name`` cannot speak here, in one line; None when it can.

    For callers that go on without synthetic dialogue (the demo without the ``voices``
    extra) and say so once. Nothing is imported but the backend's own module, and nothing
    is sent.

    Args:
        name: The backend.
        settings: The project's whole setpiece.toml, or None.
    """
    try:
        found = voice_class(name)
    except InvalidInputError as exc:
        return str(exc)
    if found is None:
        return f"there is no voice backend {name!r}"
    cls = found[1]
    missing = cls.missing()
    if missing:
        hint = (
            f"pip install 'setpiece[{cls.extra}]'"
            if cls.extra
            else cls.install_hint or f"pip install {' '.join(missing)}"
        )
        return f"the {name} voice is not installed ({hint}): no synthetic dialogue"
    tables = (settings or {}).get("voices", {})
    table = tables.get(name) if isinstance(tables, Mapping) else None
    try:
        unset = cls.missing_settings(cls.load_settings(table))
    except InvalidInputError as exc:
        return str(exc)
    return f"the {name} voice is not configured: set {', '.join(unset)}" if unset else None


def speak(
    request: SpeechRequest,
    out_dir: Path,
    *,
    settings: Mapping[str, Any] | None = None,
    project_dir: Path | None = None,
    max_seconds: float | Fraction = DEFAULT_MAX_SECONDS,
) -> Speech:
    """Speaks one line with the backend its voice names (``request.spec.backend``).

    Args:
        request: The line and the voice.
        out_dir: Where the WAV goes.
        settings: The project's whole setpiece.toml (its ``[voices]`` tables), or None.
        project_dir: The project folder, for relative paths in settings.
        max_seconds: [dialogue] max_seconds.
    """
    tables = (settings or {}).get("voices", {})
    table = tables.get(request.spec.backend) if isinstance(tables, Mapping) else None
    backend = get_voice(request.spec.backend, table, project_dir=project_dir)
    try:
        return backend.speak(request, out_dir, max_seconds=max_seconds)
    finally:
        backend.close()


def list_voices(
    settings: Mapping[str, Any] | None = None,
    *,
    check: bool = False,
    project_dir: Path | None = None,
) -> list[VoiceInfo]:
    """Every voice backend, available or not, sorted by name.

    Args:
        settings: The project's setpiece.toml, or None (defaults).
        check: Ask each available backend's server whether it answers (spends nothing).
        project_dir: The project folder.
    """
    tables = (settings or {}).get("voices", {})
    tables = tables if isinstance(tables, Mapping) else {}
    infos = []
    for name in _names():
        try:
            found = voice_class(name)
        except InvalidInputError as exc:
            infos.append(VoiceInfo(name, "broken", problem=str(exc)))
            continue
        assert found is not None  # every name in _names() has a class or an entry point
        source, cls = found
        missing = cls.missing()
        info = VoiceInfo(
            name=name,
            source=source,
            installed=not missing,
            install_hint=(cls.install_hint or f"pip install {' '.join(missing)}")
            if missing
            else None,
            capabilities=cls.default_capabilities.to_json(),
        )
        table = tables.get(name)
        infos.append(
            _judged(info, cls, table if isinstance(table, Mapping) else {}, check, project_dir)
        )
    return infos


def _judged(
    info: VoiceInfo,
    cls: type[VoiceBackend],
    table: Mapping[str, Any],
    check: bool,
    project_dir: Path | None,
) -> VoiceInfo:
    try:
        read = cls.load_settings(table)
    except InvalidInputError as exc:
        return replace(info, problem=str(exc))
    unset = list(cls.missing_settings(read))
    info = replace(
        info,
        configured=not unset,
        missing_settings=unset,
        available=info.installed and not unset,
        problem=f"set {', '.join(unset)}" if unset else None,
    )
    if not (check and info.available):
        return info
    backend = None
    try:
        backend = cls(read, project_dir=project_dir)
        return replace(info, reachable=backend.reachable())
    except SetpieceError as exc:
        return replace(info, reachable=False, problem=str(exc))
    finally:
        if backend is not None:
            backend.close()


def check_voice_tables(settings: Mapping[str, Any]) -> None:
    """Refuses a ``[voices.NAME]`` table that no backend has (a typo, a plugin gone).

    Raises:
        InvalidInputError: ``[voices]`` is not a table of tables, or names an unknown backend.
    """
    voices = settings.get("voices", {})
    if not isinstance(voices, Mapping):
        raise InvalidInputError("setpiece.toml [voices]: expected a table of voice backends")
    known = _names()
    for name in voices:
        if name not in known:
            raise InvalidInputError(
                f"setpiece.toml: unknown section [voices.{name}]; known voices: {', '.join(known)}"
            )
