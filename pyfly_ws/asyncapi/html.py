"""``document_html``: an AsyncAPI 3.0 document as one self-contained HTML page, rendered server-side.

The page needs nothing but itself: the style is inline, there is no script,
and it names no URL to load (no font, image, stylesheet or CDN), so it reads
the same on a machine without internet access. Every text taken from the
document is escaped, so a description cannot add markup to the page.

It shows the document's title, version and description, its servers, then
one section per channel: address, parameters, bindings, the operations on
it (what the application receives and sends, and the replies) and each of
its messages with the payload's fields in a table (nested objects, arrays
and ``$ref`` into ``components`` resolved, a recursive schema shown once).
A message that several channels share (the error message, say) is shown
once, under "Shared messages", and linked from each channel.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from .html_schema import Row, payload_rows, schema_facts, schema_rows

__all__ = ["document_html"]

_STYLE = """
:root { color-scheme: light dark; --line: #d0d7de; --soft: #f6f8fa; --accent: #0969da; --muted: #57606a; }
@media (prefers-color-scheme: dark) { :root { --line: #30363d; --soft: #161b22; --accent: #58a6ff; --muted: #8b949e; } }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 72rem;
       padding: 1rem 1.5rem 4rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
h3 { margin-top: 1.6rem; } h4 { margin: 1.2rem 0 .4rem; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
      overflow: auto; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .55rem; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.muted, .id { color: var(--muted); } .id { font-size: 13px; }
.text { white-space: pre-wrap; }
.badge { display: inline-block; border-radius: 1rem; padding: 0 .6rem; font-size: 12px; font-weight: 600;
         border: 1px solid currentColor; margin-right: .4rem; text-transform: uppercase; }
.receive { color: #1a7f37; } .send { color: #8250df; }
.message, .operation { border: 1px solid var(--line); border-radius: 8px; padding: .2rem 1rem .4rem; margin: .8rem 0; }
nav ul { columns: 2; } .req { font-weight: 600; } h2 code, h4 code { font-size: .95em; }
"""

_ACTIONS = {
    "receive": "the application receives it: client to server",
    "send": "the application sends it: server to client",
}


_NOTHING: Mapping[str, Any] = MappingProxyType({})
"""What a reference to nothing (or a value that is no object) is read as."""


def document_html(document: Mapping[str, Any]) -> str:
    """The HTML page describing ``document``, an AsyncAPI 3.0 document as a dict."""
    return _Page(document).render()


def _e(value: object) -> str:
    """Escaped text: anything from the document goes through here (or :func:`_json`)."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def _json(value: object) -> str:
    return _e(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _text(value: object, tag: str = "p") -> str:
    """A description: plain text with its line breaks kept, never markup."""
    if not isinstance(value, str) or not value.strip():
        return ""
    return f'<{tag} class="text">{_e(value.strip())}</{tag}>'


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _pointer(ref: str) -> list[str] | None:
    """The parts of a local ``$ref`` (``#/components/schemas/X``), or ``None`` for another document's."""
    if not ref.startswith("#"):
        return None
    path = unquote(ref[1:])
    if not path:
        return []
    if not path.startswith("/"):
        return None
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


@dataclass
class _Shown:
    """A message as the page shows it: its anchor, and the name it is listed under."""

    anchor: str
    label: str


class _Page:
    """One rendering: the document, the anchors given so far, and the messages already placed."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.doc = document
        self.anchors: set[str] = set()
        self.shown: dict[int, _Shown] = {}  # id() of a resolved message object -> where it is shown
        self.shared: list[tuple[str, Mapping[str, Any]]] = []  # messages that several channels list
        self.others: list[tuple[str, Mapping[str, Any]]] = []  # messages of components that no channel lists

    # --- the document's structure -------------------------------------------------------------

    def lookup(self, ref: str) -> Any:
        """The node a local ``$ref`` points at, or ``None``."""
        parts = _pointer(ref)
        if parts is None:
            return None
        node: Any = self.doc
        for part in parts:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def resolve(self, node: Any) -> Any:
        """``node`` with its ``$ref`` chain followed (``None`` for a loop or a dangling reference)."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return None
            seen.add(ref)
            node = self.lookup(ref)
        return node

    def mapping(self, node: Any) -> Mapping[str, Any]:
        """The object ``node`` is, or refers to, in the document; :data:`_NOTHING` if it is none.

        Objects of the document keep their identity, which tells a message listed twice apart from two messages.
        """
        found = self.resolve(node)
        return found if isinstance(found, Mapping) else _NOTHING

    def anchor(self, kind: str, name: object) -> str:
        """A fresh ``id`` for the page: letters, digits, ``-`` and ``_`` only, unique."""
        base = f"{kind}-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-") or "x")
        anchor, counter = base, 2
        while anchor in self.anchors:
            anchor, counter = f"{base}-{counter}", counter + 1
        self.anchors.add(anchor)
        return anchor

    def channels(self) -> list[tuple[str, Mapping[str, Any], str]]:
        """``(id, channel, anchor)`` for every channel, in the document's order."""
        found = self.doc.get("channels")
        if not isinstance(found, Mapping):
            return []
        return [(str(key), self.mapping(value), self.anchor("channel", key)) for key, value in found.items()]

    def channel_messages(self, channel: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        found = channel.get("messages")
        if not isinstance(found, Mapping):
            return []
        listed = [(str(key), self.mapping(value)) for key, value in found.items()]
        return [(key, message) for key, message in listed if message is not _NOTHING]

    def operations_on(self, channel_id: str, channel: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        found = self.doc.get("operations")
        if not isinstance(found, Mapping):
            return []
        ours = []
        for key, raw in found.items():
            operation = self.mapping(raw)
            target = operation.get("channel")
            if self.resolve(target) is channel or (isinstance(target, str) and target == channel_id):
                ours.append((str(key), operation))
        return ours

    # --- the page -----------------------------------------------------------------------------

    def render(self) -> str:
        info = self.mapping(self.doc.get("info"))
        title = str(info.get("title") or "AsyncAPI document")
        channels = self.channels()
        self.place_messages(channels)
        body = [
            self.header(info),
            self.servers(),
            self.contents(channels),
            *(self.channel(channel_id, channel, anchor) for channel_id, channel, anchor in channels),
            self.section("shared-messages", "Shared messages", self.shared),
            self.section("other-messages", "Other messages", self.others),
        ]
        version = f" {info['version']}" if info.get("version") else ""
        return (
            "<!doctype html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title + version)} · AsyncAPI</title><style>{_STYLE}</style></head>\n"
            f"<body>\n{''.join(part for part in body if part)}\n</body></html>\n"
        )

    def place_messages(self, channels: list[tuple[str, Mapping[str, Any], str]]) -> None:
        """Give every message its anchor before anything links to it.

        A message listed by one channel is shown in it; one listed by several,
        under "Shared messages"; one of ``components`` that no channel lists,
        under "Other messages".
        """
        users: dict[int, int] = {}
        for _, channel, _ in channels:
            for _, message in self.channel_messages(channel):
                users[id(message)] = users.get(id(message), 0) + 1
        for _, channel, _ in channels:
            for key, message in self.channel_messages(channel):
                if self.place(key, message) and users[id(message)] > 1:
                    self.shared.append((key, message))
        components = self.mapping(self.doc.get("components"))
        found = components.get("messages")
        for key, raw in found.items() if isinstance(found, Mapping) else ():
            message = self.mapping(raw)
            if message is not _NOTHING and self.place(str(key), message):
                self.others.append((str(key), message))

    def place(self, key: str, message: Mapping[str, Any]) -> bool:
        """Give ``message`` an anchor unless it has one; whether it is new."""
        if id(message) in self.shown:
            return False
        label = str(message.get("name") or key)
        self.shown[id(message)] = _Shown(self.anchor("message", label), label)
        return True

    def header(self, info: Mapping[str, Any]) -> str:
        title = _e(info.get("title") or "AsyncAPI document")
        version = f' <span class="muted">{_e(info["version"])}</span>' if info.get("version") else ""
        facts = [f"AsyncAPI {_e(self.doc.get('asyncapi', '?'))}"]
        if self.doc.get("defaultContentType"):
            facts.append(f"content type <code>{_e(self.doc['defaultContentType'])}</code>")
        if self.doc.get("id"):
            facts.append(f"id <code>{_e(self.doc['id'])}</code>")
        parts = [f"<header><h1>{title}{version}</h1>", f'<p class="muted">{" · ".join(facts)}</p>']
        parts.append(_text(info.get("description")))
        tags = [str(self.mapping(tag).get("name")) for tag in _list(info.get("tags")) if self.mapping(tag).get("name")]
        if tags:
            parts.append(f'<p class="muted">tags: {_e(", ".join(tags))}</p>')
        return "".join(parts) + "</header>"

    def servers(self) -> str:
        found = self.doc.get("servers")
        if not isinstance(found, Mapping) or not found:
            return ""
        rows = []
        for name, raw in found.items():
            server = self.mapping(raw)
            protocol = server.get("protocol") or ""
            url = f"{protocol}://" if protocol else ""
            url += f"{server.get('host') or ''}{server.get('pathname') or ''}"
            about = " ".join(str(server[k]) for k in ("title", "summary", "description") if server.get(k))
            rows.append(
                f"<tr><td><code>{_e(name)}</code></td><td><code>{_e(url)}</code></td>"
                f"<td>{_e(protocol)} {_e(server.get('protocolVersion') or '')}</td>"
                f'<td class="text">{_e(about)}</td></tr>'
            )
        head = "<tr><th>Server</th><th>URL</th><th>Protocol</th><th>Description</th></tr>"
        return f'<section id="servers"><h2>Servers</h2><table>{head}{"".join(rows)}</table></section>'

    def contents(self, channels: list[tuple[str, Mapping[str, Any], str]]) -> str:
        if not channels:
            return '<p class="muted">This document has no channels.</p>'
        items = [
            f'<li><a href="#{anchor}"><code>{_e(self.address(channel, channel_id))}</code></a></li>'
            for channel_id, channel, anchor in channels
        ]
        if self.shared:
            items.append('<li><a href="#shared-messages">Shared messages</a></li>')
        if self.others:
            items.append('<li><a href="#other-messages">Other messages</a></li>')
        return f"<nav><h2>Channels</h2><ul>{''.join(items)}</ul></nav>"

    @staticmethod
    def address(channel: Mapping[str, Any], channel_id: str) -> str:
        address = channel.get("address")
        return str(address) if isinstance(address, str) else f"{channel_id} (no address)"

    def channel(self, channel_id: str, channel: Mapping[str, Any], anchor: str) -> str:
        parts = [
            f'<section id="{anchor}" class="channel"><h2><code>{_e(self.address(channel, channel_id))}</code></h2>'
        ]
        parts.append(f'<p class="id">channel <code>{_e(channel_id)}</code></p>')
        for key in ("title", "summary"):
            if channel.get(key):
                parts.append(f"<p><strong>{_e(channel[key])}</strong></p>" if key == "title" else _text(channel[key]))
        parts.append(_text(channel.get("description")))
        parts.append(self.parameters(channel))
        parts.append(self.bindings(channel.get("bindings"), "Bindings"))
        operations = self.operations_on(channel_id, channel)
        if operations:
            parts.append("<h3>Operations</h3>")
            parts.extend(self.operation(key, operation) for key, operation in operations)
        messages = self.channel_messages(channel)
        if messages:
            parts.append("<h3>Messages</h3>")
            for key, message in messages:
                if any(message is other for _, other in self.shared):
                    shown = self.shown[id(message)]
                    parts.append(
                        f'<p>↪ <a href="#{shown.anchor}"><code>{_e(shown.label)}</code></a> '
                        '<span class="muted">(shared by several channels, shown below)</span></p>'
                    )
                else:
                    parts.append(self.message(key, message))
        return "".join(parts) + "</section>"

    def parameters(self, channel: Mapping[str, Any]) -> str:
        found = channel.get("parameters")
        if not isinstance(found, Mapping) or not found:
            return ""
        rows = []
        for name, raw in found.items():
            parameter = self.mapping(raw)
            facts = schema_facts(parameter)
            if parameter.get("location"):
                facts.append(f"from {parameter['location']}")
            rows.append(self.row(Row(str(name), "string", True, parameter.get("description"), facts, 0)))
        return "<h3>Parameters</h3>" + self.table(rows, "Parameter")

    def bindings(self, raw: Any, title: str) -> str:
        bindings = self.mapping(raw)
        if not bindings:
            return ""
        parts = [f"<h3>{_e(title)}</h3>"]
        for protocol, value in bindings.items():
            binding = self.mapping(value)
            version = binding.get("bindingVersion")
            shown = f' <span class="muted">binding version {_e(version)}</span>' if version else ""
            parts.append(f"<h4><code>{_e(protocol)}</code>{shown}</h4>")
            rest = {key: item for key, item in binding.items() if key != "bindingVersion"}
            if protocol == "ws":
                for part, heading in (("query", "Query parameters"), ("headers", "Handshake headers")):
                    if part in rest:
                        rows = [self.row(row) for row in schema_rows(self.lookup, rest.pop(part))]
                        parts.append(f"<p>{heading}</p>{self.table(rows, 'Name')}")
            if rest:
                parts.append(f"<pre>{_json(rest)}</pre>")
        return "".join(parts)

    def operation(self, key: str, operation: Mapping[str, Any]) -> str:
        action = str(operation.get("action") or "")
        css = action if action in _ACTIONS else ""
        parts = [
            f'<div class="operation"><h4><span class="badge {css}">{_e(action or "?")}</span>'
            f"<code>{_e(key)}</code></h4>"
        ]
        if action in _ACTIONS:
            parts.append(f'<p class="muted">{_e(_ACTIONS[action])}</p>')
        for field in ("title", "summary", "description"):
            parts.append(_text(operation.get(field)))
        if "messages" in operation:
            parts.append(self.message_links("Messages", operation.get("messages")))
        else:  # AsyncAPI 3.0: no list means every message of the channel
            parts.append('<p class="muted">Messages: every message of the channel</p>')
        reply = self.mapping(operation.get("reply"))
        if reply:
            parts.append(self.reply(reply, self.mapping(operation.get("channel"))))
        parts.append(self.bindings(operation.get("bindings"), "Operation bindings"))
        return "".join(parts) + "</div>"

    def reply(self, reply: Mapping[str, Any], channel: Mapping[str, Any]) -> str:
        parts = [self.message_links("Reply", reply.get("messages"))]
        elsewhere = self.mapping(reply.get("channel"))
        if elsewhere and elsewhere is not channel:
            parts.append(f'<p class="muted">Reply on <code>{_e(self.address(elsewhere, "?"))}</code></p>')
        address = self.mapping(reply.get("address"))
        if address.get("location"):
            parts.append(f'<p class="muted">Reply to the address at <code>{_e(address["location"])}</code></p>')
        parts.append(_text(address.get("description")))
        return "".join(parts) or '<p class="muted">Reply</p>'

    def message_links(self, title: str, refs: Any) -> str:
        if not isinstance(refs, list) or not refs:
            return ""
        links = []
        for raw in refs:
            message = self.mapping(raw)
            shown = self.shown.get(id(message))
            label = shown.label if shown else str(message.get("name") or message.get("title") or "message")
            link = f'<a href="#{shown.anchor}"><code>{_e(label)}</code></a>' if shown else f"<code>{_e(label)}</code>"
            links.append(f"<li>{link}{self.message_gist(message)}</li>")
        return f'<p class="muted">{_e(title)}</p><ul>{"".join(links)}</ul>'

    @staticmethod
    def message_gist(message: Mapping[str, Any]) -> str:
        gist = message.get("summary") or message.get("title")
        return f" — {_e(gist)}" if isinstance(gist, str) and gist.strip() else ""

    def message(self, key: str, message: Mapping[str, Any]) -> str:
        self.place(key, message)
        shown = self.shown[id(message)]
        parts = [f'<div class="message" id="{shown.anchor}"><h4><code>{_e(shown.label)}</code>']
        if message.get("title") and message["title"] != shown.label:
            parts.append(f" {_e(message['title'])}")
        parts.append("</h4>")
        facts = [f"message <code>{_e(key)}</code>"]
        content_type = message.get("contentType") or self.doc.get("defaultContentType")
        if content_type:
            facts.append(f"content type <code>{_e(content_type)}</code>")
        parts.append(f'<p class="id">{" · ".join(facts)}</p>')
        parts.append(_text(message.get("summary")))
        parts.append(_text(message.get("description")))
        payload = message.get("payload")
        if isinstance(payload, Mapping) and "schemaFormat" in payload and "schema" in payload:
            parts.append(f'<p class="muted">schema format <code>{_e(payload["schemaFormat"])}</code></p>')
            payload = payload["schema"]
        if payload is not None:
            rows = payload_rows(self.lookup, payload)
            parts.append("<p>Payload</p>" + self.table([self.row(r) for r in rows], "Field"))
        if message.get("headers") is not None:
            rows = schema_rows(self.lookup, message["headers"])
            if rows:
                parts.append("<p>Headers</p>" + self.table([self.row(r) for r in rows], "Header"))
        examples = [self.mapping(example) for example in _list(message.get("examples"))]
        for example in examples:
            name = example.get("name") or example.get("summary") or "example"
            shown_example = {k: example[k] for k in ("headers", "payload") if k in example}
            parts.append(f'<p class="muted">Example: {_e(name)}</p><pre>{_json(shown_example)}</pre>')
        return "".join(parts) + "</div>"

    def section(self, anchor: str, title: str, messages: list[tuple[str, Mapping[str, Any]]]) -> str:
        if not messages:
            return ""
        rendered = "".join(self.message(key, message) for key, message in messages)
        return f'<section id="{anchor}"><h2>{_e(title)}</h2>{rendered}</section>'

    # --- tables ---------------------------------------------------------------------------------

    @staticmethod
    def row(row: Row) -> str:
        name = f'<code style="padding-left:{row.depth * 1.2:.1f}em">{_e(row.name)}</code>'
        about = _text(row.description, "div")
        facts = f'<div class="muted">{_e("; ".join(row.facts))}</div>' if row.facts else ""
        required = '<span class="req">yes</span>' if row.required else ""
        return f"<tr><td>{name}</td><td><code>{_e(row.type)}</code></td><td>{required}</td><td>{about}{facts}</td></tr>"

    @staticmethod
    def table(rows: list[str], first: str) -> str:
        if not rows:
            return '<p class="muted">(no fields)</p>'
        head = f"<tr><th>{_e(first)}</th><th>Type</th><th>Required</th><th>Description</th></tr>"
        return f"<table>{head}{''.join(rows)}</table>"
