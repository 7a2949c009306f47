"""AsyncAPI 3.0.0 documents generated from the controllers: build, write (JSON, YAML, an HTML page) and serve them."""

from .attached import document_of
from .document import asyncapi_document
from .html import document_html
from .options import AsyncAPI
from .pages import asyncapi_pages
from .serialize import document_json, document_yaml

__all__ = [
    "AsyncAPI",
    "asyncapi_document",
    "asyncapi_pages",
    "document_html",
    "document_json",
    "document_of",
    "document_yaml",
]
