"""The production: scenes, shots, takes, the bible, findings and history, as services.

Each module holds the services for one part (``scenes``, ``shots``, ``takes``,
``bible``, ``records``, ``jobs``, ``fsck``); all take a ``Production`` (see ``context``)
and return the typed views of ``views``. The CLI and the web app call these
and nothing below them. Every status change is written by ``moves``, as the
workflow tables of ``model/workflow.py`` allow.
"""
