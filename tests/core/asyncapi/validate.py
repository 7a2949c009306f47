"""Checking documents: against the official AsyncAPI 3.0.0 JSON Schema, offline, and for what it cannot say.

The schema is pinned in ``schema/`` (see ``schema/README.md``); every ``$ref``
in it resolves to a resource embedded in the file itself, and the registry
refuses to fetch anything, so a reference that would need the network is an
error, not a download.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

SCHEMA = Path(__file__).with_name("schema") / "asyncapi-3.0.0.json"
"""``schemas/3.0.0.json`` of ``@asyncapi/specs`` 6.11.1 (npm), unchanged."""

fetched: list[str] = []
"""Every URI the registry was asked to fetch (it fetches none)."""


def _no_network(uri: str) -> Resource[Any]:
    fetched.append(uri)
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy does not see through


@functools.cache
def validator() -> jsonschema.Draft7Validator:
    """A draft-07 validator of the AsyncAPI 3.0.0 schema, all of whose references resolve from the file alone."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    resource = Resource.from_contents(schema, default_specification=DRAFT7)
    registry: Registry[Any] = Registry(retrieve=_no_network).with_resource(schema["$id"], resource).crawl()  # type: ignore[call-arg]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def schema_errors(document: Any) -> list[str]:
    """What the official schema finds wrong with ``document``, one line each (none: valid)."""
    errors = sorted(validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors]


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The object a local ``$ref`` (``#/a/b``) points to in ``document``; ``KeyError`` if none."""
    if not ref.startswith("#/"):
        raise KeyError(f"not a local reference: {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any, where: str = "#") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(where, node["$ref"])] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            found += _refs(value, f"{where}/{key}")
        return found
    if isinstance(node, list):
        return [ref for index, value in enumerate(node) for ref in _refs(value, f"{where}/{index}")]
    return []


def rule_errors(document: dict[str, Any]) -> list[str]:
    """Rules of the specification the JSON Schema does not check.

    Every ``$ref`` resolves inside the document; an operation's messages are
    messages of its channel, and its reply's messages of the reply's channel.
    """
    problems = []
    for where, ref in _refs(document):
        try:
            resolve(document, ref)
        except (KeyError, IndexError, TypeError):
            problems.append(f"{where}: $ref {ref} points to nothing")
    for name, operation in document.get("operations", {}).items():
        channel_ref = operation["channel"]["$ref"]
        for ref in operation.get("messages", []):
            if not ref["$ref"].startswith(channel_ref + "/messages/"):
                problems.append(f"operation {name}: message {ref['$ref']} is not one of {channel_ref}'s")
        reply = operation.get("reply")
        if reply is not None:
            reply_channel = reply.get("channel", operation["channel"])["$ref"]
            for ref in reply.get("messages", []):
                if not ref["$ref"].startswith(reply_channel + "/messages/"):
                    problems.append(f"operation {name}: reply message {ref['$ref']} is not one of {reply_channel}'s")
    return problems


def check(document: dict[str, Any]) -> None:
    """Fail, listing every problem, unless ``document`` is a valid AsyncAPI 3.0.0 document."""
    problems = schema_errors(document) or rule_errors(document)  # the rules read a document of the right shape
    assert not problems, "\n".join(problems)
    assert not fetched, f"the validator tried to fetch {fetched}"
