"""A generator's ``[generators.NAME]`` table, as enqueueing and the worker both read it.

The table reaches the backend as written (its own ``Settings`` class reads it and refuses
unknown keys); the project folder is never put in it. The worker reads the queue's own
fields of it (``concurrency``, ``batch_size``) through the same ``Settings``.
"""

from __future__ import annotations

from typing import Any

from setpiece.errors import InvalidInputError
from setpiece.generate.base import GeneratorSettings
from setpiece.generate.registry import generator_class
from setpiece.production.context import Production

__all__ = ["generator_config", "generator_settings"]


def generator_config(production: Production, name: str) -> dict[str, Any]:
    """``[generators.NAME]`` from setpiece.toml, as written (read by the backend's Settings).

    The project folder is not put in it: it reaches the backend as ``project_dir``.

    Raises:
        InvalidInputError: ``[generators]`` or ``[generators.NAME]`` is not a table.
    """
    generators = production.config.settings.get("generators", {})
    if not isinstance(generators, dict):
        raise InvalidInputError("setpiece.toml [generators]: expected a table of generators")
    config = generators.get(name, {})
    if not isinstance(config, dict):
        raise InvalidInputError(f"setpiece.toml [generators.{name}]: expected a table of settings")
    return dict(config)


def generator_settings(
    production: Production, name: str, memo: dict[str, GeneratorSettings] | None = None
) -> GeneratorSettings:
    """``[generators.NAME]`` read by the backend's own ``Settings`` (unknown keys refused).

    ``memo`` keeps what one pass over the queue has read: finding a plugin's entry point
    takes about 20 ms, and a claim asks once or twice per candidate job.

    Raises:
        InvalidInputError: Its table has an unknown key or a bad value.
    """
    if memo is not None:
        if name not in memo:
            memo[name] = generator_settings(production, name)
        return memo[name]
    try:
        found = generator_class(name)
    except InvalidInputError:
        found = None  # a plugin broken since its jobs were queued: they fail with the reason
    if found is None:
        return GeneratorSettings()  # the executor fails the takes, naming the generator
    return found[1].load_settings(generator_config(production, name))
