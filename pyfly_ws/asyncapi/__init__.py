"""AsyncAPI 3.0.0 documents generated from the controllers."""

from .document import asyncapi_document
from .options import AsyncAPI

__all__ = ["AsyncAPI", "asyncapi_document"]
