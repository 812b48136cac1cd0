"""Rate tables: what a hosted model costs per second of video or per still, in one unit.

A hosted backend prices a take from a ``[generators.NAME.rates]`` table in ``setpiece.toml``
that maps a model id to an amount in the backend's own unit (Runway: credits; an
aggregator: whatever it bills in)::

    [generators.runway.rates]
    gen4_turbo = 5        # credits per second of video output
    gen4_image = 8        # credits per image (a model that makes stills)

One number per model: per second of output for a video model, per image for a model that
makes stills (no model is both). The rule this module decides, for every backend alike:

- a rate is a number of zero or more (a TOML integer, float or a decimal string such as
  ``"0.05"``); a negative, non-numeric, boolean or non-finite one is refused, naming the
  model and the table;
- a model with no rate is refused when it is priced, naming the model and the table to add
  it to: no price is ever invented;
- defaults exist only where a dated, cited source gives them (``RateDefaults``: the backend
  module carries the date and source); the project's table extends and overrides them.

Amounts are ``Decimal`` (read from the TOML value's text, so ``0.1`` stays 0.1) and carry
their unit; units are never converted into each other.

Part of the plugin API: a backend keeps the raw table as a ``rates: dict[str, Any]``
settings field, calls :func:`read_rates` in its ``Settings.__post_init__`` (so a bad rate is
refused when the settings are read) and in ``quote``/``render``, and prices with
:meth:`RateTable.for_request`, :meth:`RateTable.for_seconds` or :meth:`RateTable.for_images`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from setpiece.config import WHERE
from setpiece.errors import InvalidInputError
from setpiece.generate.base import Cost, RenderRequest

__all__ = ["RateDefaults", "RateTable", "parse_amount", "read_rates"]

_UNIT = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class RateDefaults:
    """A backend's built-in rates, with where they come from and when they were true.

    Attributes:
        rates: Model id -> amount (per second of video, per image for stills).
        as_of: When the source reported them ("2025").
        source: Where they are written (a document, a vendor page).
    """

    rates: Mapping[str, Decimal]
    as_of: str
    source: str


@dataclass(frozen=True)
class RateTable:
    """One backend's rates, in one unit, read and checked.

    Attributes:
        generator: The backend's name (for messages: ``[generators.NAME.rates]``).
        unit: The unit every amount is in (``"credits"``, ``"usd"``).
        rates: Model id -> amount per second of video output, or per image for stills.
        defaults: The built-in defaults this table started from, or None.
    """

    generator: str
    unit: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    defaults: RateDefaults | None = None

    @property
    def section(self) -> str:
        return f"generators.{self.generator}.rates"

    def rate(self, model: str) -> Decimal:
        """The amount per second (video) or per image (stills) of ``model``.

        Raises:
            InvalidInputError: The model has no rate (exit 2): the message names the model
                and the table to add it to.
        """
        try:
            return self.rates[model]
        except KeyError:
            known = ", ".join(sorted(self.rates)) or "none"
            raise InvalidInputError(
                f"{WHERE} [{self.section}]: no rate for model {model!r} "
                f"({self.unit} per second of video or per image); add "
                f"`{_key(model)} = AMOUNT` to [{self.section}] (rates known: {known})"
            ) from None

    def for_seconds(self, model: str, seconds: Fraction | Decimal | int) -> Cost:
        """What ``seconds`` of video from ``model`` cost (billed seconds, as the service bills).

        Raises:
            InvalidInputError: The model has no rate.
        """
        seconds = Fraction(seconds) if not isinstance(seconds, Fraction) else seconds
        amount = self.rate(model) * Decimal(seconds.numerator) / Decimal(seconds.denominator)
        return Cost(amount=amount, unit=self.unit)

    def for_images(self, model: str, count: int = 1) -> Cost:
        """What ``count`` stills from ``model`` cost.

        Raises:
            InvalidInputError: The model has no rate.
        """
        return Cost(amount=self.rate(model) * count, unit=self.unit)

    def for_request(self, model: str, request: RenderRequest) -> Cost:
        """What ``request`` costs with ``model``: frames / fps seconds for a video, one image
        for a still. A backend that bills rounded seconds (Runway's whole-second durations)
        prices those with :meth:`for_seconds` instead.

        Raises:
            InvalidInputError: The model has no rate.
        """
        if request.is_video:
            return self.for_seconds(model, Fraction(request.frames) / Fraction(request.fps))
        return self.for_images(model, 1)


def read_rates(
    table: Mapping[str, Any] | None,
    *,
    generator: str,
    unit: str,
    defaults: RateDefaults | None = None,
) -> RateTable:
    """Reads a ``[generators.NAME.rates]`` table over the backend's dated defaults.

    Args:
        table: The parsed TOML table (model id -> amount), or None for none.
        generator: The backend's name, for messages.
        unit: The unit of every amount (lower-case word: ``"credits"``, ``"usd"``).
        defaults: Built-in rates with their date and source; the table overrides them.

    Returns:
        The checked table.

    Raises:
        InvalidInputError: The table is not a table, or a rate is negative, non-numeric,
            a boolean or not finite; the message names the model (exit 2).
    """
    if not _UNIT.fullmatch(unit):
        raise ValueError(f"a unit is a lower-case word, not {unit!r}")
    section = f"generators.{generator}.rates"
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise InvalidInputError(
            f"{WHERE} [{section}]: expected a table of model = {unit} per second or per image, "
            f"got {table!r}"
        )
    rates: dict[str, Decimal] = dict(defaults.rates) if defaults else {}
    for model, value in table.items():
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError(f"{WHERE} [{section}]: a model id is a non-empty string")
        rates[model] = parse_amount(value, where=f"{WHERE} [{section}] {_key(model)}")
    return RateTable(generator=generator, unit=unit, rates=rates, defaults=defaults)


def parse_amount(value: Any, *, where: str) -> Decimal:
    """A non-negative, finite amount from a TOML value (integer, float or decimal string).

    Raises:
        InvalidInputError: ``where: ...`` naming the value and what is expected.
    """
    amount: Decimal | None = None
    if isinstance(value, bool):
        amount = None
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            amount = None
        if amount is not None and not amount.is_finite():
            amount = None
    if amount is None:
        raise InvalidInputError(f"{where}: expected a number of 0 or more, got {value!r}")
    if amount < 0:
        raise InvalidInputError(f"{where}: cannot be negative, got {value!r}")
    return amount


def _key(model: str) -> str:
    """The model id as a TOML key (quoted when it has a dot or other punctuation)."""
    return model if re.fullmatch(r"[A-Za-z0-9_-]+", model) else f'"{model}"'
