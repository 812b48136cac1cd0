"""The one loader of setpiece.toml's tables: one behaviour, one message format."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

import pytest

from setpiece.config import check_sections, describe, load_section, setting
from setpiece.errors import ExitCode, InvalidInputError


class Mood(StrEnum):
    DAY = "day"
    NIGHT = "night"


@dataclass(frozen=True)
class Look:
    stops: float = setting(0.7, positive=True)
    kelvin: float = 1200.0
    distance: float = setting(0.6, positive=True, high=2)


@dataclass(frozen=True)
class Section:
    hamming: int = setting(14, low=0, high=32)
    ratio: float = setting(0.5, low=0.0, high=1.0)
    enabled: bool = False
    name: str = "x"
    preset: str = setting("fast", choices=("fast", "slow"))
    mode: Literal["a", "b"] = "a"
    mood: Mood = Mood.DAY
    url: str | None = None
    tags: tuple[str, ...] = ()
    look: Look = field(default_factory=Look)
    by_time: dict[str, Look] = field(default_factory=dict)
    base_dir: str = ""
    folder: Path | None = None

    def __post_init__(self) -> None:
        if self.enabled and self.url is None:
            raise ValueError("url: needed when enabled = true")


def message(table: object, **fixed: object) -> str:
    with pytest.raises(InvalidInputError) as caught:
        load_section(Section, table, section="demo", **fixed)
    assert caught.value.exit_code == ExitCode.REFUSED
    return str(caught.value)


def test_defaults_and_values() -> None:
    assert load_section(Section, None, section="demo") == Section()
    loaded = load_section(
        Section,
        {
            "hamming": 3,
            "ratio": 1,
            "mood": "night",
            "tags": ["a", "b"],
            "look": {"stops": 2},
            "by_time": {"NIGHT": {"kelvin": 900}},
            "mode": "b",
            "folder": "clips",
        },
        section="demo",
        base_dir="/p",
    )
    assert loaded.ratio == 1.0 and isinstance(loaded.ratio, float)
    assert loaded.mood is Mood.NIGHT
    assert loaded.tags == ("a", "b")
    assert loaded.look == Look(stops=2.0)
    assert loaded.by_time == {"NIGHT": Look(kelvin=900.0)}
    assert loaded.base_dir == "/p"
    assert loaded.folder == Path("clips")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"hamingg": 3}, "setpiece.toml [demo]: unknown key 'hamingg'; known keys: hamming,"),
        (
            {"hamming": "3"},
            'setpiece.toml [demo] hamming: expected a whole number from 0 to 32, got "3"',
        ),
        (
            {"hamming": 40},
            "setpiece.toml [demo] hamming: expected a whole number from 0 to 32, got 40",
        ),
        (
            {"hamming": True},
            "setpiece.toml [demo] hamming: expected a whole number from 0 to 32, got true",
        ),
        ({"ratio": 1.5}, "setpiece.toml [demo] ratio: expected a number from 0 to 1, got 1.5"),
        ({"enabled": 1}, "setpiece.toml [demo] enabled: expected true or false, got 1"),
        (
            {"preset": "medium"},
            'setpiece.toml [demo] preset: expected one of "fast", "slow", got "medium"',
        ),
        ({"mode": "c"}, 'setpiece.toml [demo] mode: expected one of "a", "b", got "c"'),
        ({"mood": "dusk"}, 'setpiece.toml [demo] mood: expected one of "day", "night", got "dusk"'),
        ({"url": 3}, "setpiece.toml [demo] url: expected a string, or left out, got 3"),
        ({"folder": 3}, "setpiece.toml [demo] folder: expected a file path, or left out, got 3"),
        ({"tags": ["a", 2]}, "setpiece.toml [demo] tags: expected a list of strings, got ['a', 2]"),
        (
            {"look": {"stops": -1}},
            "setpiece.toml [demo.look] stops: expected a number above 0, got -1",
        ),
        (
            {"look": {"stop": 1}},
            "setpiece.toml [demo.look]: unknown key 'stop'; known keys: stops, kelvin, distance",
        ),
        (
            {"look": {"distance": 3}},
            "setpiece.toml [demo.look] distance: expected a number above 0 and at most 2, got 3",
        ),
        ({"look": 3}, "setpiece.toml [demo.look]: expected a table of settings, got 3"),
        (
            {"by_time": {"NIGHT": {"kelvin": "warm"}}},
            'setpiece.toml [demo.by_time.NIGHT] kelvin: expected a number, got "warm"',
        ),
        ({"enabled": True}, "setpiece.toml [demo] url: needed when enabled = true"),
        (3, "setpiece.toml [demo]: expected a table of settings, got 3"),
    ],
)
def test_every_refusal_has_one_shape(table: object, expected: str) -> None:
    assert message(table).startswith(expected)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("ratio = nan", "setpiece.toml [demo] ratio: expected a number from 0 to 1, got nan"),
        ("ratio = -nan", "setpiece.toml [demo] ratio: expected a number from 0 to 1, got nan"),
        ("look.kelvin = inf", "setpiece.toml [demo.look] kelvin: expected a number, got inf"),
        (
            "look.stops = +inf",
            "setpiece.toml [demo.look] stops: expected a number above 0, got inf",
        ),
        (
            "by_time.NIGHT.kelvin = -inf",
            "setpiece.toml [demo.by_time.NIGHT] kelvin: expected a number, got -inf",
        ),
    ],
)
def test_nan_and_infinity_are_no_setting(toml: str, expected: str) -> None:
    """TOML writes nan and inf; every range check passes nan, so they are refused as such."""
    import tomllib

    assert message(tomllib.loads(toml)) == expected


def test_fixed_fields_are_not_settable() -> None:
    text = message({"base_dir": "/elsewhere"}, base_dir="/p")
    assert "unknown key 'base_dir'" in text
    assert "base_dir" not in text.split("known keys:")[1]


def test_unknown_section() -> None:
    check_sections({"integrity": {}, "name": "film"}, ["integrity"])
    with pytest.raises(
        InvalidInputError, match=r"unknown section \[integrty\]; known sections: integrity"
    ):
        check_sections({"integrty": {}}, ["integrity"])


def test_describe_lists_every_key() -> None:
    rows = {name: (kind, default) for name, kind, default, _ in describe(Section)}
    assert rows["hamming"] == ("a whole number from 0 to 32", 14)
    assert rows["tags"] == ("a list of strings", ())
