"""An AsyncAPI document as text: JSON (standard library), or YAML (PyYAML, the ``yaml`` extra)."""

from __future__ import annotations

import json
from typing import Any

from ..exceptions import MissingDependencyError

__all__ = ["document_json", "document_yaml"]


def document_json(document: dict[str, Any]) -> str:
    """``document`` as JSON: indented, UTF-8 characters as they are, keys in the document's order, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def document_yaml(document: dict[str, Any]) -> str:
    """``document`` as YAML (block style, keys in the document's order, no anchors); needs PyYAML."""
    try:
        import yaml
    except ImportError as exc:
        raise MissingDependencyError(
            'writing the AsyncAPI document as YAML needs PyYAML, which is not installed: pip install "pyfly-ws[yaml]"'
        ) from exc

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a schema used twice is written twice: readers of the document need no anchors

    text: str = yaml.dump(
        document, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120
    )
    return text
