"""One loader for every table of ``setpiece.toml``: the settings' dataclass is the schema.

Each section of the toml (``[integrity]``, ``[motion]``, ``[generators.runway]``, ...) is
declared once, as a frozen dataclass whose fields are its keys, whose defaults are its
defaults and whose annotations are its types; :func:`setting` adds a range, a set of
choices or a positivity rule to a field. :func:`load_section` reads a table against that
declaration, the same way for every section:

- an unknown key is refused, naming the key, the section and the keys it knows;
- a value of the wrong type, out of range or not among the choices is refused, naming
  the key and what it expects (a whole number where a number is expected is accepted and
  widened; a boolean is never a number; TOML's ``nan`` and ``inf`` are never a setting's
  number);
- a nested dataclass field is a sub-table (``[continuity.look]``), and a
  ``dict[str, Dataclass]`` field a table of sub-tables (``[continuity.look.NIGHT]``);
- a rule across fields lives in the dataclass's ``__post_init__``: a ``ValueError`` it
  raises becomes the same one-line refusal, prefixed with the section.

Every message has one shape, ``setpiece.toml [section] key: what is wrong``, and is an
:class:`~setpiece.errors.InvalidInputError` (exit 2). Before this loader, nine hand-written
validators refused, warned or ignored an unknown key, with five message formats.

This module sits at the bottom, beside ``errors``: it imports nothing of Setpiece's but
the error tree, so every layer may declare its settings with it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field
from pathlib import PurePath
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from setpiece.errors import InvalidInputError

__all__ = [
    "WHERE",
    "Rule",
    "check_sections",
    "describe",
    "load_section",
    "setting",
]

WHERE = "setpiece.toml"

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a setting's value must satisfy beyond its type.

    Attributes:
        low: The smallest value allowed (inclusive), or None.
        high: The largest value allowed (inclusive), or None.
        choices: The only values allowed, or empty for any.
        positive: The value must be greater than zero.
        help: What the setting does, for messages and generated documentation.
    """

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    positive: bool = False
    help: str = ""


def setting(
    default: Any = MISSING,
    *,
    default_factory: Any = MISSING,
    low: float | None = None,
    high: float | None = None,
    choices: Iterable[Any] = (),
    positive: bool = False,
    help: str = "",
) -> Any:
    """A dataclass field that carries its :class:`Rule` (range, choices, positivity).

    Example:
        >>> @dataclasses.dataclass(frozen=True)
        ... class Render:
        ...     lease_seconds: float = setting(60.0, low=5, high=3600)
    """
    rule = Rule(low=low, high=high, choices=tuple(choices), positive=positive, help=help)
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={"rule": rule})
    return dataclasses.field(default=default, metadata={"rule": rule})


def load_section(
    cls: type[T],
    table: Any,
    *,
    section: str,
    where: str = WHERE,
    **fixed: Any,
) -> T:
    """Reads one table of the toml against the dataclass ``cls``.

    Args:
        cls: A dataclass whose fields are the section's keys.
        table: The parsed table (a dict), or None for "all defaults".
        section: The section's dotted name, for messages (``"generators.runway"``).
        where: The file named in messages.
        **fixed: Values for fields that the toml may not set (a backend's working folder,
            given by the caller); a table naming one of them is refused as unknown.

    Returns:
        An instance of ``cls``.

    Raises:
        InvalidInputError: The table is not a table, has an unknown key, or a value of the
            wrong type, out of range or not among the choices.
    """
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise InvalidInputError(
            f"{where} [{section}]: expected a table of settings, got {_shown(table)}"
        )
    known = _fields(cls)
    values: dict[str, Any] = dict(fixed)
    for key, value in table.items():
        spec = known.get(key)
        if spec is None or key in fixed:
            settable = ", ".join(name for name in known if name not in fixed) or "none"
            raise InvalidInputError(
                f"{where} [{section}]: unknown key {key!r}; known keys: {settable}"
            )
        hint, rule = spec
        values[key] = _value(hint, rule, value, where=where, section=section, key=key)
    try:
        return cls(**values)
    except ValueError as exc:
        raise InvalidInputError(f"{where} [{section}] {exc}") from None
    except TypeError as exc:  # a required field the table did not give
        raise InvalidInputError(f"{where} [{section}]: {exc}") from None


def check_sections(
    settings: Mapping[str, Any], known: Iterable[str], *, where: str = WHERE
) -> None:
    """Refuses a top-level table the project does not know (``[integrty]``, a typo).

    Raises:
        InvalidInputError: Naming the section and the sections known.
    """
    names = sorted(set(known))
    for name, value in settings.items():
        if name not in names and isinstance(value, Mapping):
            raise InvalidInputError(
                f"{where}: unknown section [{name}]; known sections: {', '.join(names)}"
            )


def describe(cls: type[Any]) -> list[tuple[str, str, Any, str]]:
    """Each key of a settings dataclass as (name, type, default, help), for documentation."""
    rows = []
    for field in dataclasses.fields(cls):
        hint, rule = _fields(cls)[field.name]
        if field.default is not MISSING:
            default: Any = field.default
        elif field.default_factory is not MISSING:
            default = field.default_factory()
        else:
            default = None
        rows.append((field.name, _expected(hint, rule), default, rule.help))
    return rows


def _fields(cls: type[Any]) -> dict[str, tuple[Any, Rule]]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], _rule(f)) for f in dataclasses.fields(cls) if f.init}


def _rule(field: Field[Any]) -> Rule:
    rule = field.metadata.get("rule")
    return rule if isinstance(rule, Rule) else Rule()


def _value(hint: Any, rule: Rule, value: Any, *, where: str, section: str, key: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return load_section(hint, value, section=f"{section}.{key}", where=where)  # type: ignore[arg-type]
    if origin is dict or origin is Mapping:
        _, inner = get_args(hint) or (str, Any)
        if not isinstance(value, Mapping):
            raise _refusal(where, section, key, "a table", value)
        if dataclasses.is_dataclass(inner):
            return {
                str(name): load_section(inner, sub, section=f"{section}.{key}.{name}", where=where)  # type: ignore[arg-type]
                for name, sub in value.items()
            }
        return {
            str(name): _value(inner, Rule(), sub, where=where, section=section, key=f"{key}.{name}")
            for name, sub in value.items()
        }
    converted = _convert(hint, value)
    if converted is _BAD:
        raise _refusal(where, section, key, _expected(hint, rule), value)
    if converted is not None and not _within(rule, converted):
        raise _refusal(where, section, key, _expected(hint, rule), value)
    return converted


_BAD = object()


def _convert(hint: Any, value: Any) -> Any:
    """``value`` as type ``hint``, or ``_BAD``. Booleans are never numbers."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _convert_union(get_args(hint), value)
    if origin is Literal:
        return value if value in get_args(hint) and not isinstance(value, bool) else _BAD
    if origin in (tuple, list):
        return _convert_items(hint, origin, value)
    return _convert_scalar(hint, value)


def _convert_union(options: tuple[Any, ...], value: Any) -> Any:
    """``value`` as the first of ``options`` it converts to (None where None is allowed)."""
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is type(None):
            continue
        converted = _convert(option, value)
        if converted is not _BAD:
            return converted
    return _BAD


def _convert_items(hint: Any, origin: Any, value: Any) -> Any:
    """A TOML array as a list or tuple of the hint's item type, or ``_BAD``."""
    if not isinstance(value, list | tuple):
        return _BAD
    args = [a for a in get_args(hint) if a is not Ellipsis] or [Any]
    items = [_convert(args[0], item) for item in value]
    if any(item is _BAD for item in items):
        return _BAD
    return tuple(items) if origin is tuple else items


def _convert_scalar(hint: Any, value: Any) -> Any:
    """A TOML scalar as ``hint`` (bool, int, float, str, a str-valued enum or a path)."""
    if hint is Any:
        return value
    if hint is bool:
        return value if isinstance(value, bool) else _BAD
    if isinstance(value, bool):
        return _BAD
    if hint is int:
        return value if isinstance(value, int) else _BAD
    if hint is float:  # TOML writes nan and inf; no setting means either
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else _BAD
    if hint is str:
        return value if isinstance(value, str) else _BAD
    if isinstance(hint, type) and isinstance(value, str):
        try:  # str-valued enums and paths
            return hint(value)
        except (TypeError, ValueError):
            return _BAD
    return _BAD


def _within(rule: Rule, value: Any) -> bool:
    if rule.choices and value not in rule.choices:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if rule.low is not None and value < rule.low:
            return False
        if rule.high is not None and value > rule.high:
            return False
        if rule.positive and not value > 0:
            return False
    return True


def _expected(hint: Any, rule: Rule) -> str:
    """What a setting expects, in words: "a whole number from 0 to 32"."""
    if rule.choices:
        return "one of " + ", ".join(_shown(c) for c in rule.choices)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        words = " or ".join(_expected(a, rule) for a in options)
        return words if len(options) == len(get_args(hint)) else f"{words}, or left out"
    if origin is Literal:
        return "one of " + ", ".join(_shown(c) for c in get_args(hint))
    if origin in (tuple, list):
        args = [a for a in get_args(hint) if a is not Ellipsis] or [Any]
        return f"a list of {_plural(_expected(args[0], Rule()))}"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a string"
    if hint in (int, float):
        noun = "a whole number" if hint is int else "a number"
        if rule.positive and rule.low is None:
            below = f" and at most {_num(rule.high)}" if rule.high is not None else ""
            return f"{noun} above 0{below}"
        if rule.low is not None and rule.high is not None:
            return f"{noun} from {_num(rule.low)} to {_num(rule.high)}"
        if rule.low is not None:
            return f"{noun} of at least {_num(rule.low)}"
        if rule.high is not None:
            return f"{noun} of at most {_num(rule.high)}"
        return noun
    if isinstance(hint, type) and hasattr(hint, "__members__"):
        return "one of " + ", ".join(_shown(m.value) for m in hint.__members__.values())
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return "a file path"
    return getattr(hint, "__name__", str(hint))


def _plural(words: str) -> str:
    for article in ("a ", "an "):
        if words.startswith(article):
            return words[len(article) :] + "s"
    return words


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


def _refusal(where: str, section: str, key: str, expected: str, value: Any) -> InvalidInputError:
    return InvalidInputError(f"{where} [{section}] {key}: expected {expected}, got {_shown(value)}")
