"""What the document says of each endpoint: channels, handshakes, messages, operations, schemas, info, servers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pyfly_ws import ConfigurationError, discover, message_mapping, rest_controller, websocket_mapping
from pyfly_ws.asyncapi import AsyncAPI, asyncapi_document, document_json
from pyfly_ws.mapping.messages import ERROR_CODES
from tests.core.asyncapi import everything

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi_document(everything.endpoints(), AsyncAPI(title="t", version="1"))


def message(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["messages"][name]
    return found


def test_a_channel_per_endpoint_addressed_by_its_template(doc: dict[str, Any]) -> None:
    addresses = {name: channel["address"] for name, channel in doc["channels"].items()}
    assert addresses == {
        "Board": "/api/boards/{board}/{owner}",
        "Board.files": "/api/files/{rest}",
        "Packed": "/packed/{ratio}/{name}",
        "Plain.plain": "/plain",
    }
    parameters = doc["channels"]["Board"]["parameters"]
    assert list(parameters) == ["board", "owner"]  # in the order of the path
    assert "`int`" in parameters["board"]["description"] and "`uuid`" in parameters["owner"]["description"]
    assert "`float`" in doc["channels"]["Packed"]["parameters"]["ratio"]["description"]
    assert "`path`" in doc["channels"]["Board.files"]["parameters"]["rest"]["description"]
    assert "parameters" not in doc["channels"]["Plain.plain"]


def test_the_handshake_binding_merges_every_guard_and_mark(doc: dict[str, Any]) -> None:
    board = doc["channels"]["Board"]["bindings"]["ws"]
    assert board["method"] == "GET" and board["bindingVersion"] == "0.1.0"
    assert board["query"] == {
        "type": "object",
        "properties": {"token": {"type": "string", "description": "The access token."}},  # the mapping's guard
        "required": ["token"],
    }
    # the application's guard, the controller's guard, the class's own mark
    assert list(board["headers"]["properties"]) == ["Authorization", "X-Client", "x-trace"]
    assert board["headers"]["required"] == ["X-Client"]
    assert board["headers"]["properties"]["X-Client"]["pattern"] == "^[a-z]+$"
    files = doc["channels"]["Board.files"]["bindings"]["ws"]  # the method endpoint: not the gateway's token guard
    assert list(files["query"]["properties"]) == ["v"] and files["query"]["properties"]["v"]["enum"] == ["1", "2"]
    assert list(files["headers"]["properties"]) == ["Authorization", "X-Client", "x-trace"]
    assert "bindings" not in doc["channels"]["Packed"] or "query" not in doc["channels"]["Packed"]["bindings"]["ws"]


def test_a_client_message_is_its_whole_frame(doc: dict[str, Any]) -> None:
    add = message(doc, "Board.point.add")
    assert add["name"] == "point.add" and add["contentType"] == "application/json"
    assert add["x-pyfly-ws-frame"] == "text"
    assert add["payload"]["properties"]["type"] == {"const": "point.add"}
    assert add["payload"]["properties"]["data"] == {"$ref": "#/components/schemas/Point"}
    assert add["payload"]["required"] == ["type", "data"]
    assert add["correlationId"]["location"] == "$message.payload#/id"
    assert add["description"] == "Its message guards may turn it down (error `forbidden`)."
    assert message(doc, "Board.values")["payload"]["required"] == ["type"]  # its data may be null
    assert "data" not in message(doc, "Board.ping")["payload"]["properties"]  # the handler reads none


def test_a_msgpack_endpoint_with_its_own_envelope(doc: dict[str, Any]) -> None:
    move = message(doc, "Packed.move")
    assert move["contentType"] == "application/msgpack" and move["x-pyfly-ws-frame"] == "binary"
    assert list(move["payload"]["properties"]) == ["t", "i", "d", "traceparent", "tracestate"]  # trace context optional
    assert move["payload"]["required"] == ["t", "d"]
    assert move["correlationId"]["location"] == "$message.payload#/i"
    error = message(doc, "Packed.error")
    assert error["payload"]["required"] == ["t", "i", "c", "m"] and "e" in error["payload"]["properties"]
    assert doc["channels"]["Packed"]["messages"]["error"] == {"$ref": "#/components/messages/Packed.error"}
    assert doc["channels"]["Board"]["messages"]["error"] == {"$ref": "#/components/messages/error"}


def test_the_shared_error_lists_every_code(doc: dict[str, Any]) -> None:
    error = message(doc, "error")["payload"]
    builtin, application = error["oneOf"]
    codes = builtin["properties"]["code"]["oneOf"]
    assert [code["const"] for code in codes] == sorted(ERROR_CODES)
    for code in codes:
        meaning, protocol = ERROR_CODES[code["const"]]
        assert meaning[1:] in code["description"] and ("protocol error" in code["description"]) == protocol
    assert application["properties"]["code"] == {"not": {"enum": sorted(ERROR_CODES)}}
    assert builtin["properties"]["errors"]["items"]["required"] == ["location", "message", "kind"]


def test_operations_receive_what_handlers_take_and_send_what_is_declared(doc: dict[str, Any]) -> None:
    operations = doc["operations"]
    add = operations["Board.receive.point.add"]
    assert add["action"] == "receive" and add["channel"] == {"$ref": "#/channels/Board"}
    assert add["summary"] == "Add a point." and add["description"] == "Only points with an even x are accepted."
    assert add["messages"] == [{"$ref": "#/channels/Board/messages/point.add"}]
    assert add["reply"]["messages"] == [
        {"$ref": "#/channels/Board/messages/point.add.reply"},
        {"$ref": "#/channels/Board/messages/error"},
    ]
    assert add["x-pyfly-ws-handler"] == "Board.add"
    reply = message(doc, "Board.point.add.reply")["payload"]
    assert reply["properties"]["data"] == {"$ref": "#/components/schemas/Stamped"}
    assert message(doc, "Board.ping.reply")["payload"]["properties"]["data"] == {"type": "null"}
    assert "not annotated" in message(doc, "Board.raw.data.reply")["payload"]["properties"]["data"]["description"]

    changed = operations["Board.send.board.changed"]  # declared on the class and on the handler: one message
    assert changed["action"] == "send" and "reply" not in changed
    assert changed["summary"] == "To the board: a point was added."
    assert changed["description"] == "A push, sent while handling `point.add`."
    assert "correlationId" not in message(doc, "Board.board.changed")
    assert message(doc, "Board.board.changed")["payload"]["required"] == ["type", "data"]

    ask = operations["Board.send.ask.name"]  # a server request, answered by the client's reply or error
    assert ask["reply"]["messages"] == [
        {"$ref": "#/channels/Board/messages/ask.name.reply"},
        {"$ref": "#/channels/Board/messages/error"},
    ]
    asked = message(doc, "Board.ask.name")["payload"]
    assert asked["properties"]["id"]["type"] == "string" and asked["required"] == ["type", "id", "data"]
    answer = message(doc, "Board.ask.name.reply")["payload"]["properties"]["data"]
    assert answer == {"$ref": "#/components/schemas/Profile"}

    # the server's ping and the client's are two messages of one type
    assert doc["channels"]["Board"]["messages"]["ping.push"] == {"$ref": "#/components/messages/Board.ping.push"}
    assert operations["Board.send.ping"]["messages"] == [{"$ref": "#/channels/Board/messages/ping.push"}]
    other = operations["Board.receive.other"]
    assert other["x-pyfly-ws-handler"] == "Board.on_message"
    assert "point.add" in message(doc, "Board.other")["payload"]["properties"]["type"]["not"]["enum"]


def test_a_method_endpoint_is_honestly_unknown(doc: dict[str, Any]) -> None:
    channel = doc["channels"]["Plain.plain"]
    assert set(channel["messages"]) == {"text", "binary"}
    for name in ("text", "binary"):
        assert message(doc, name)["x-pyfly-ws-unknown-schema"] is True
        assert "not described" in message(doc, name)["description"]
    assert message(doc, "binary")["contentType"] == "application/octet-stream"
    assert doc["operations"]["Plain.plain.receive"]["action"] == "receive"
    assert doc["operations"]["Plain.plain.send"]["action"] == "send"
    assert "not described" in channel["description"]


def test_payload_schemas_from_dataclasses_pydantic_and_msgspec(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert list(schemas) == sorted(schemas)
    point = schemas["Point"]
    assert point["description"] == "A point on the board." and point["required"] == ["x"]
    assert list(point["properties"]) == ["x", "y", "label", "tags"]  # the order of the fields
    assert point["properties"]["y"] == {"type": "integer", "default": 0}
    assert schemas["Stamped"]["properties"]["at"] == {"type": "string", "readOnly": True}  # init=False: sent only
    assert schemas["Tree"]["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Tree"}
    assert schemas["Color"]["enum"] == ["red", "green"]
    profile = schemas["Profile"]  # pydantic's own schema, its $defs among the components
    assert profile["properties"]["name"]["minLength"] == 1
    assert profile["properties"]["address"]["anyOf"][0] == {"$ref": "#/components/schemas/Address"}
    pair = profile["properties"]["pair"]["anyOf"][0]
    assert pair["items"] == [{"type": "integer"}, {"type": "string"}]  # prefixItems, in draft-07's words
    assert "Note" in schemas and schemas["Note"]["required"] == ["text"]  # a pydantic dataclass
    assert schemas["Dog"]["properties"]["type"] == {"enum": ["Dog"]}  # msgspec's tag
    pets = message(doc, "Board.pet.add")["payload"]["properties"]["data"]
    assert pets == {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]}


def test_info_and_servers_from_the_options() -> None:
    options = AsyncAPI(
        title="T",
        version="9.9",
        description="D",
        servers={"prod": "wss://ws.example.com:8443/rt/", "dev": "ws://[::1]"},
    )
    doc = asyncapi_document(discover(everything.Plain), options)
    assert doc["info"] == {"title": "T", "version": "9.9", "description": "D"}
    assert doc["servers"] == {
        "dev": {"host": "[::1]", "protocol": "ws"},
        "prod": {"host": "ws.example.com:8443", "protocol": "wss", "pathname": "/rt"},
    }
    assert list(doc) == ["asyncapi", "info", "servers", "defaultContentType", "channels", "operations", "components"]


@pytest.mark.parametrize(
    ("servers", "error"),
    [
        ({"a": "http://example.com"}, "AsyncAPI server 'a': expected a ws:// or wss:// URL, got 'http://example.com'"),
        ({"a": "ws://"}, "AsyncAPI server 'a': expected a ws:// or wss:// URL"),
        ({"a": "ws://h/?x=1"}, "AsyncAPI server 'a': a server URL has no user, query or fragment"),
        ({"": "ws://h"}, "an AsyncAPI server's name is a non-empty string"),
    ],
)
def test_a_bad_server_is_refused(servers: dict[str, str], error: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        asyncapi_document([], AsyncAPI(servers=servers))
    assert str(caught.value).startswith(error)


def test_info_from_the_nearest_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "2.0"\ndescription = "A shop."\n')
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    assert asyncapi_document([])["info"] == {"title": "shop", "version": "2.0", "description": "A shop."}
    assert asyncapi_document([], AsyncAPI(title="mine"))["info"]["title"] == "mine"
    (tmp_path / "pyproject.toml").write_text("[tool.other]\nx = 1\n")
    assert asyncapi_document([])["info"] == {"title": "pyfly-ws application", "version": "0.0.0"}
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(ConfigurationError, match="cannot read"):
        asyncapi_document([])


def test_the_same_endpoints_give_the_same_bytes_in_any_process() -> None:
    options = AsyncAPI(title="t", version="1")
    first = document_json(asyncapi_document(everything.endpoints(), options))
    assert document_json(asyncapi_document(everything.endpoints(), options)) == first
    script = "from pyfly_ws.asyncapi import *; from tests.core.asyncapi import everything as e; "
    script += "print(document_json(asyncapi_document(e.endpoints(), AsyncAPI(title='t', version='1'))), end='')"
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": "", "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert result.stdout == first


def test_only_the_libraries_a_type_needs_are_imported() -> None:
    script = textwrap.dedent(
        """
        import sys
        from pyfly_ws import discover
        from pyfly_ws.asyncapi import asyncapi_document, document_json
        import examples.confirm
        document_json(asyncapi_document(discover([examples.confirm], check=False)))
        print(sorted(name for name in ("pydantic", "msgspec", "yaml", "jsonschema") if name in sys.modules))
        import examples.chat  # its create_app(..., asyncapi=...) writes the YAML page: yaml is imported
        document_json(asyncapi_document(discover([examples.chat], check=False)))
        print(sorted(name for name in ("pydantic", "msgspec", "jsonschema") if name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]


class CSV:
    """A codec of the application's own: text frames, with a media type."""

    binary = False
    name = "csv"
    media_type = "text/csv"

    def decode(self, frame: str | bytes) -> Any:
        return dict(zip(("type", "id", "data"), str(frame).split(","), strict=False))

    def encode(self, data: Any) -> str:
        return ",".join(str(value) for value in data.values())


class Opaque(CSV):
    binary = True
    name = "opaque"
    media_type = ""


@pytest.mark.parametrize(
    ("codec", "content", "frame"), [(CSV(), "text/csv", "text"), (Opaque(), "application/octet-stream", "binary")]
)
def test_a_codec_of_ones_own_says_its_content_type(codec: Any, content: str, frame: str) -> None:
    @rest_controller
    @websocket_mapping("/csv", codec=codec)
    class Rows:
        @message_mapping("row")
        def row(self, data: str) -> str:
            return data

    document = asyncapi_document(discover(Rows))
    row = document["components"]["messages"]["test_a_codec_of_ones_own_says_its_content_type.Rows.row"]
    assert (row["contentType"], row["x-pyfly-ws-frame"]) == (content, frame)
    assert document["channels"]["test_a_codec_of_ones_own_says_its_content_type.Rows"]["messages"]["error"] != {
        "$ref": "#/components/messages/error"
    }  # not the JSON frames' error
