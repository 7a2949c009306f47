"""The three pages ``create_app(..., asyncapi=...)`` serves: the HTML page, and the document as JSON and as YAML.

``path`` is the page to read in a browser, rendered on the server once (no
script, nothing loaded from elsewhere); ``path + ".json"`` and
``path + ".yaml"`` are the document for tools. The YAML one needs PyYAML;
without it, that path answers 404 with the extra to install. Every answer is
built here, once, when the application is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..discovery.pages import Page
from ..discovery.routing import HTTPAnswer
from ..exceptions import ConfigurationError, MissingDependencyError
from .html import document_html
from .options import AsyncAPI
from .serialize import document_json, document_yaml

__all__ = ["HTML_MEDIA_TYPE", "JSON_MEDIA_TYPE", "YAML_MEDIA_TYPE", "YAML_MISSING", "asyncapi_pages"]

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
YAML_MEDIA_TYPE = "application/yaml"
YAML_MISSING = 'The YAML document needs PyYAML, which is not installed: pip install "pyfly-ws[yaml]"\n'
"""The body of the 404 at ``path + ".yaml"`` where PyYAML is missing (the JSON document is beside it)."""

_NOSNIFF = ("x-content-type-options", "nosniff")
_HTML_HEADERS = (
    # The page loads nothing and runs nothing: a browser enforces it too.
    ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"),
    _NOSNIFF,
)


def asyncapi_pages(document: Mapping[str, Any], options: AsyncAPI) -> list[Page]:
    """The HTML page at ``options.path``, the JSON and the YAML document beside it, each behind ``options.guards``."""
    path = options.path
    if not isinstance(path, str) or not path.startswith("/") or path.endswith("/") or any(c in path for c in "{}?#"):
        raise ConfigurationError(
            f"the AsyncAPI path must be a literal path starting with '/' and not ending with one, "
            f"like '/asyncapi', got {path!r}"
        )
    guards = tuple(options.guards)
    html = HTTPAnswer(200, document_html(document), _HTML_HEADERS, HTML_MEDIA_TYPE)
    as_json = HTTPAnswer(200, document_json(dict(document)), (_NOSNIFF,), JSON_MEDIA_TYPE)
    return [
        Page(path, html, guards),
        Page(f"{path}.json", as_json, guards),
        Page(f"{path}.yaml", _yaml(document), guards),
    ]


def _yaml(document: Mapping[str, Any]) -> HTTPAnswer:
    try:
        text = document_yaml(dict(document))
    except MissingDependencyError:
        return HTTPAnswer(404, YAML_MISSING)
    return HTTPAnswer(200, text, (_NOSNIFF,), YAML_MEDIA_TYPE)
