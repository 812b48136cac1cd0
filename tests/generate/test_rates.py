"""The shared rate-table reader: amounts per model, one unit, nothing invented."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from setpiece.errors import InvalidInputError
from setpiece.generate.base import Cost, Mode, RenderRequest
from setpiece.generate.rates import RateDefaults, read_rates

DEFAULTS = RateDefaults(rates={"gen4_turbo": Decimal(5)}, as_of="2025", source="notes")


def test_table_overrides_and_extends_the_dated_defaults() -> None:
    table = read_rates(
        {"gen4_turbo": 6, "gen4_image": 0.1, "x.y": "0.05"},
        generator="runway",
        unit="credits",
        defaults=DEFAULTS,
    )
    assert table.rate("gen4_turbo") == Decimal(6)
    assert table.rate("gen4_image") == Decimal("0.1")  # the float's text, not its binary
    assert table.rate("x.y") == Decimal("0.05")
    assert table.for_seconds("gen4_turbo", 5) == Cost(Decimal(30), "credits")
    assert table.for_images("gen4_image", 3) == Cost(Decimal("0.3"), "credits")
    assert table.defaults is DEFAULTS


def test_request_is_priced_per_second_of_video_or_per_still() -> None:
    table = read_rates({"m": 2}, generator="agg", unit="usd")
    video = RenderRequest(Mode.TEXT_TO_VIDEO, "p", 1, 64, 64, fps=Fraction(24), frames=60)  # 2.5 s
    still = RenderRequest(Mode.TEXT_TO_IMAGE, "p", 1, 64, 64)
    assert table.for_request("m", video) == Cost(Decimal(5), "usd")
    assert table.for_request("m", still) == Cost(Decimal(2), "usd")


def test_zero_is_a_rate() -> None:
    assert read_rates({"free": 0}, generator="g", unit="credits").rate("free") == 0


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "cannot be negative"),
        ("-0.5", "cannot be negative"),
        ("five", "expected a number of 0 or more, got 'five'"),
        (True, "expected a number"),
        (float("nan"), "expected a number"),
        (float("inf"), "expected a number"),
        ("Infinity", "expected a number"),
        ([5], "expected a number"),
    ],
)
def test_a_bad_rate_is_refused_naming_the_model(value: object, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_rates({"gen4": value}, generator="runway", unit="credits")
    message = str(caught.value)
    assert "setpiece.toml [generators.runway.rates] gen4:" in message
    assert words in message


def test_a_model_without_a_rate_is_refused_naming_it() -> None:
    table = read_rates(None, generator="runway", unit="credits", defaults=DEFAULTS)
    with pytest.raises(InvalidInputError) as caught:
        table.for_seconds("gen4.5", 5)
    message = str(caught.value)
    assert "no rate for model 'gen4.5'" in message
    assert '"gen4.5" = AMOUNT' in message
    assert "[generators.runway.rates]" in message
    assert "gen4_turbo" in message  # the rates it knows


def test_not_a_table_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"\[generators.g.rates\]: expected a table"):
        read_rates(5, generator="g", unit="credits")  # type: ignore[arg-type]
