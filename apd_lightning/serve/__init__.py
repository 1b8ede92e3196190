"""A local web page and HTTP API that draw uploaded photos: ``python -m apd_lightning serve --ckpt CKPT``.

Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart); ``create_app`` builds the app from loaded drawers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that `serve --help` and a missing extra give a clear message instead of a traceback
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
