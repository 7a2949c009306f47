"""The AsyncAPI 3.0.0 document of some endpoints, as plain dicts (being built out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..lifecycle.registry import Endpoint
from .options import AsyncAPI

__all__ = ["asyncapi_document"]


def asyncapi_document(endpoints: Sequence[Endpoint], options: AsyncAPI | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document describing ``endpoints``."""
    options = AsyncAPI() if options is None else options
    channels = {endpoint.qualname: {"address": endpoint.path} for endpoint in endpoints}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": options.title or "pyfly-ws application", "version": options.version or "0.0.0"},
        "channels": channels,
    }
