"""AsyncAPI 3.0.0 documents generated from the controllers: build one, write it as JSON or YAML."""

from .document import asyncapi_document
from .options import AsyncAPI
from .serialize import document_json, document_yaml

__all__ = ["AsyncAPI", "asyncapi_document", "document_json", "document_yaml"]
