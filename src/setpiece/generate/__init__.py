"""Generation: pluggable generators, prompts composed from the bible, and the render queue.

This package is also the plugin API: everything a generator needs is importable from
``setpiece.generate``. A generator is a class; a plugin is a package whose
``setpiece.generators`` entry point names it. Writing one, in four steps:

1. **Declare what it is and what it can do.** Subclass :class:`Generator`; set ``name``
   (a lower-case word, the ``--generator`` value), ``origin`` (``Origin.TRAINED`` for a
   trained model, ``Origin.ALGORITHM`` for a procedure that draws: it is disclosed on
   every take) and ``default_capabilities`` (:class:`Capabilities`: the :class:`Mode` s
   it makes, the largest size, frames and seconds, whether it takes reference images
   and honours seeds). ``requires`` lists modules it needs, checked without importing.
2. **Declare its settings.** ``Settings`` is a frozen dataclass extending
   :class:`GeneratorSettings` (which already has the queue's ``concurrency`` and
   ``batch_size``); its fields are the keys of ``[generators.NAME]`` in
   ``setpiece.toml``, each with a default; ``setting(...)`` adds a range or choices, and a
   ``ValueError("key: what is wrong")`` from ``__post_init__`` refuses a value. Unknown
   keys are refused for you. The instance arrives as ``self.settings``; the project folder
   as ``self.project_dir`` (relative paths in settings start there).
3. **Render.** ``render(request, workdir, progress)`` turns a :class:`RenderRequest`
   (prompt, seed, size, frames, fps...) into one complete file inside ``workdir`` and
   returns a :class:`RenderResult` (the path, the model and its hash, the parameters as
   used: recorded on the take). Raise :class:`RenderError` (``transient=True`` for what a
   retry may cure). ``check`` refuses what is beyond the capabilities before anything is
   queued; override it (calling ``super().check``) for the backend's own limits. Release
   what it holds in ``close`` (it may be called twice).
4. **Publish and test it.** Point an entry point at the class::

       [project.entry-points."setpiece.generators"]
       solid = "setpiece_solid:SolidGenerator"

   and run the conformance suite in your tests: ``setpiece.generate.testing.check_generator``.
   In one process (a notebook, a test) ``register(MyGenerator)`` does without packaging.

**Cost.** ``render`` may set ``RenderResult.cost`` (a :class:`Cost`: amount and unit, as
billed or measured) and ``quote(request)`` may estimate it before anything is spent; a
hosted backend reads its ``[generators.NAME.rates]`` with :func:`read_rates`.

``docs/example_plugin`` is a complete plugin (a solid-colour still and clip) to copy.
``setpiece generators`` lists every generator found, broken ones with the reason.
"""

from __future__ import annotations

from setpiece.config import setting
from setpiece.generate.base import (
    Capabilities,
    Cost,
    Generator,
    GeneratorSettings,
    Mode,
    Origin,
    Progress,
    RenderError,
    RenderRequest,
    RenderResult,
    ShotBrief,
    SubjectBrief,
)
from setpiece.generate.rates import RateDefaults, RateTable, read_rates
from setpiece.generate.registry import get_generator, list_generators, register

__all__ = [
    "Capabilities",
    "Cost",
    "Generator",
    "GeneratorSettings",
    "Mode",
    "Origin",
    "Progress",
    "RateDefaults",
    "RateTable",
    "RenderError",
    "RenderRequest",
    "RenderResult",
    "ShotBrief",
    "SubjectBrief",
    "get_generator",
    "list_generators",
    "read_rates",
    "register",
    "setting",
]
