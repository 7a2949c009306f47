"""Where ``create_app`` keeps an application's AsyncAPI document, for the command line to find."""

from __future__ import annotations

from typing import Any

__all__ = ["DOCUMENT_ATTRIBUTE", "attach_document", "document_of"]

DOCUMENT_ATTRIBUTE = "pyfly_ws_asyncapi"
"""The attribute set on the application (or on its ``state``, where the application takes none)."""


def attach_document(app: object, document: dict[str, Any]) -> bool:
    """Record ``document`` on ``app`` (else on ``app.state``); whether :func:`document_of` now finds it."""
    for holder in (app, getattr(app, "state", None)):
        if holder is None:
            continue
        try:
            setattr(holder, DOCUMENT_ATTRIBUTE, document)
        except (AttributeError, TypeError):
            continue
        if document_of(app) is document:
            return True
    return False


def document_of(app: object) -> dict[str, Any] | None:
    """The AsyncAPI document ``create_app(..., asyncapi=...)`` built for ``app``, or ``None``."""
    for holder in (app, getattr(app, "state", None)):
        found = getattr(holder, DOCUMENT_ATTRIBUTE, None)
        if isinstance(found, dict):
            return found
    return None
