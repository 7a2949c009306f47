"""Where ``create_app`` keeps an application's AsyncAPI document, for the command line to find."""

from __future__ import annotations

from typing import Any

from ..lifecycle.apps import attach, attached

__all__ = ["DOCUMENT_ATTRIBUTE", "attach_document", "document_of"]

DOCUMENT_ATTRIBUTE = "pyfly_ws_asyncapi"
"""The attribute set on the application (or on its ``state``, where the application takes none)."""


def attach_document(app: object, document: dict[str, Any]) -> bool:
    """Record ``document`` on ``app`` (else on ``app.state``); whether :func:`document_of` now finds it."""
    return attach(app, DOCUMENT_ATTRIBUTE, document)


def document_of(app: object) -> dict[str, Any] | None:
    """The AsyncAPI document ``create_app(..., asyncapi=...)`` built for ``app``, or ``None``."""
    return attached(app, DOCUMENT_ATTRIBUTE, dict)
