"""A hand-written AsyncAPI 3.0.0 document with what the HTML page must show: the chat example, described by hand.

Messages with payload fields (nested, ``$ref`` into ``components.schemas``, a
recursive schema, an array of objects, a nullable field), operations both ways
with a reply, channel parameters, a ``ws`` binding, servers and the shared
error message with its codes.
"""

from __future__ import annotations

from typing import Any


def frame(type_: str, data: dict[str, Any] | None, *, with_id: bool = True) -> dict[str, Any]:
    """The JSON Schema of a frame ``{type, id, data}``."""
    properties: dict[str, Any] = {"type": {"type": "string", "const": type_}}
    if with_id:
        properties["id"] = {"type": "string", "description": "Asks for a reply; the reply carries it back."}
    if data is not None:
        properties["data"] = data
    return {"type": "object", "properties": properties, "required": ["type", *(["data"] if data else [])]}


def chat_document() -> dict[str, Any]:
    """A fresh copy of the document (tests may change it)."""
    return {
        "asyncapi": "3.0.0",
        "id": "urn:example:chat",
        "info": {
            "title": "Chat rooms",
            "version": "1.2.0",
            "description": "Rooms in the browser.\nEvery member gets what anyone says.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:8000", "protocol": "ws", "description": "Your machine"},
            "public": {"host": "chat.example.com", "pathname": "/v1", "protocol": "wss"},
        },
        "channels": {
            "ChatController": {
                "address": "/ws/chat/{room}",
                "title": "A chat room",
                "description": "Join a room by name.",
                "parameters": {"room": {"description": "The room's name.", "examples": ["lobby"]}},
                "messages": {
                    "chat.send": {"$ref": "#/components/messages/chat.send"},
                    "chat.send.reply": {"$ref": "#/components/messages/chat.send.reply"},
                    "chat.message": {"$ref": "#/components/messages/chat.message"},
                    "room.joined": {"$ref": "#/components/messages/room.joined"},
                    "error": {"$ref": "#/components/messages/error"},
                },
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "query": {
                            "type": "object",
                            "properties": {"name": {"type": "string", "description": "The member's name."}},
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
            },
            "TreeController": {
                "address": "/ws/tree",
                "messages": {
                    "tree.put": {
                        "name": "tree.put",
                        "summary": "Store a tree.",
                        "payload": frame("tree.put", {"$ref": "#/components/schemas/Node"}),
                    },
                    "error": {"$ref": "#/components/messages/error"},
                },
            },
        },
        "operations": {
            "ChatController.send": {
                "action": "receive",
                "channel": {"$ref": "#/channels/ChatController"},
                "summary": "Say something to the room.",
                "messages": [{"$ref": "#/channels/ChatController/messages/chat.send"}],
                "reply": {
                    "channel": {"$ref": "#/channels/ChatController"},
                    "messages": [
                        {"$ref": "#/channels/ChatController/messages/chat.send.reply"},
                        {"$ref": "#/channels/ChatController/messages/error"},
                    ],
                },
            },
            "ChatController.pushes": {
                "action": "send",
                "channel": {"$ref": "#/channels/ChatController"},
                "messages": [
                    {"$ref": "#/channels/ChatController/messages/chat.message"},
                    {"$ref": "#/channels/ChatController/messages/room.joined"},
                ],
            },
            "TreeController.put": {
                "action": "receive",
                "channel": {"$ref": "#/channels/TreeController"},
                "messages": [{"$ref": "#/channels/TreeController/messages/tree.put"}],
            },
        },
        "components": {
            "schemas": {
                "ChatSend": {
                    "type": "object",
                    "title": "ChatSend",
                    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 2000}},
                    "required": ["text"],
                },
                "Receipt": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
                    "required": ["id", "at"],
                },
                "Member": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                },
                "Node": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string", "description": "What the node says."},
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    },
                    "required": ["label"],
                },
            },
            "messages": {
                "chat.send": {
                    "name": "chat.send",
                    "title": "Send a chat message",
                    "summary": "What a member says.",
                    "contentType": "application/json",
                    "payload": frame("chat.send", {"$ref": "#/components/schemas/ChatSend"}),
                },
                "chat.send.reply": {
                    "name": "reply",
                    "summary": "The receipt of chat.send.",
                    "payload": frame("reply", {"$ref": "#/components/schemas/Receipt"}),
                },
                "chat.message": {
                    "name": "chat.message",
                    "payload": frame(
                        "chat.message",
                        {
                            "type": "object",
                            "properties": {
                                "text": {"type": "string"},
                                "from": {"$ref": "#/components/schemas/Member"},
                                "seen_by": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
                            },
                            "required": ["text", "from"],
                        },
                        with_id=False,
                    ),
                },
                "room.joined": {
                    "name": "room.joined",
                    "payload": frame(
                        "room.joined",
                        {"type": "object", "properties": {"members": {"type": "integer", "minimum": 1}}},
                        with_id=False,
                    ),
                },
                "error": {
                    "name": "error",
                    "summary": "A message the server could not take.",
                    "payload": {
                        "type": "object",
                        "properties": {
                            "type": {"const": "error"},
                            "id": {"type": ["string", "null"]},
                            "code": {
                                "type": "string",
                                "enum": ["invalid_payload", "unknown_type", "internal_error"],
                                "description": "What went wrong.",
                            },
                            "message": {"type": "string"},
                            "errors": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "loc": {"type": "array", "items": {"type": "string"}},
                                        "msg": {"type": "string"},
                                    },
                                },
                            },
                        },
                        "required": ["type", "id", "code", "message"],
                    },
                },
                "unused": {"name": "ping", "payload": {"type": "string", "description": "Never sent."}},
            },
        },
    }
