"""Where the layers meet: what the capabilities plug into production and into each other.

Imports go down (see the README's "How it fits together"), so production cannot call
the checks that capabilities above it own, and no capability can call another's. What
crosses is connected here, in the layer above them all, by :func:`install`, which
every entry point calls before it opens a project (the CLI, the web app, ``make``):

- the arrival checks (``setpiece.production.arrival``): integrity's near-duplicate
  check, so a take imported from the CLI, uploaded through the web or rendered by the
  queue is checked when ``[integrity] check_on_arrival = true``;
- the generator directory (``setpiece.production.generators``): what each registered
  generator declares, read by production (an imported take's origin) and continuity
  (who draws photographic faces) in place of ``setpiece.generate``'s registry.

Motion's flicker judgement joins the continuity pass through
:func:`continuity_checkers`, the list the CLI and ``make`` run. ``install`` imports no
capability: each hook imports its own when it first runs, so ``setpiece --help`` and
commands that never meet a take pay nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from setpiece.model.enums import Origin
from setpiece.production.arrival import ArrivalReport, on_arrival
from setpiece.production.context import Production
from setpiece.production.generators import Declared, connect_generators, generator_directory

if TYPE_CHECKING:
    from setpiece.continuity.check import Checker, CheckerOutput, CheckScope

__all__ = ["GeneratorRegistry", "TemporalChecker", "continuity_checkers", "install"]


class GeneratorRegistry:
    """``setpiece.generate.registry`` as production's generator directory."""

    def origin(self, name: str) -> Origin:
        from setpiece.generate.registry import declared_origin

        return declared_origin(name)

    def registered(self) -> Mapping[str, Declared]:
        from setpiece.generate.registry import list_generators

        return {
            info.name: Declared(
                photographic_faces=bool(info.capabilities.get("photographic_faces", True)),
                flicker_free=bool(info.capabilities.get("flicker_free", False)),
            )
            for info in list_generators()
            if info.capabilities is not None
        }


def _integrity_on_arrival(production: Production, take_ids: Sequence[str]) -> ArrivalReport:
    from setpiece.integrity.arrival import check_on_arrival

    return check_on_arrival(production, take_ids)


def install() -> None:
    """Connects the capabilities' hooks to production; calling it again changes nothing."""
    on_arrival("integrity", _integrity_on_arrival)
    connect_generators(GeneratorRegistry())


class TemporalChecker:
    """temporal_flicker in the continuity pass: a video take that flickers far more than its
    scene's (``setpiece.motion.project.temporal_check`` judges; this hands it the scope).

    Takes of generators that draw every frame exactly (``flicker_free``) are skipped.
    """

    name = "temporal"
    kinds = frozenset({"temporal_flicker"})

    def run(self, scope: CheckScope) -> CheckerOutput:
        from setpiece.continuity.check import CheckerOutput, ContinuityFinding, Skipped
        from setpiece.motion.project import temporal_check

        registered = generator_directory().registered()
        exact = {name for name, declared in registered.items() if declared.flicker_free}
        result = temporal_check(
            scope.production, scope.shots, scope.all_takes(), flicker_free=exact
        )
        out = CheckerOutput(checked=set(result.checked))
        for take, reason in result.skipped:
            out.skipped.append(Skipped(take.shot, take.id, self.name, reason))
        for item in result.findings:
            out.findings.append(
                ContinuityFinding(
                    kind=item.kind,
                    shot=str(item.shot),
                    take=item.take,
                    character=None,
                    frame=item.frame,
                    score=item.score,
                    threshold=item.threshold,
                    detail=item.detail,
                    data=item.data,
                )
            )
        return out


def continuity_checkers() -> list[Checker]:
    """The continuity pass the CLI and ``make`` run: continuity's checks, then motion's."""
    from setpiece.continuity.check import CHECKERS

    return [*CHECKERS, TemporalChecker()]
