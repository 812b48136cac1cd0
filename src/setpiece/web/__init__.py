"""The shot board: a shared web workspace for the production (``setpiece serve``).

Server-rendered pages and a JSON API under ``/api/v1`` over the same services as
the CLI; accounts, roles and every rule live in those services. Needs the
``web`` extra (FastAPI, uvicorn, Jinja2, argon2-cffi, itsdangerous).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """See :func:`setpiece.web.app.create_app` (imported on first use: FastAPI is heavy)."""
    from setpiece.web.app import create_app as make

    return make(*args, **kwargs)
