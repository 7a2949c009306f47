"""Typed payloads: decoders prepared per annotation, the errors they collect, and the reply encoders.

The module uses ``from __future__ import annotations``, so every dataclass here has string annotations
that the validator must resolve.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import json
import subprocess
import sys
import textwrap
from typing import Annotated, Any, Literal, Optional

import msgspec
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyfly_ws.exceptions import ConfigurationError
from pyfly_ws.messages.encoding import reply_encoder, to_data
from pyfly_ws.messages.payloads import FieldError, PayloadError, payload_decoder

WHERE = "ChatGateway.send"


@dataclasses.dataclass
class Item:
    name: str
    qty: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class ChatMessage:
    text: str
    items: list[Item] = dataclasses.field(default_factory=list)
    tags: dict[str, int] | None = None
    mood: Literal["calm", "loud"] = "calm"
    ratio: float = 0.0
    point: tuple[int, ...] = ()


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Positive:
    n: int
    doubled: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("n must be positive")
        self.doubled = 2 * self.n


class Model(pydantic.BaseModel):
    text: str
    items: list[Item] = []
    at: datetime.date | None = None


class Struct(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    items: list[Item] = []
    counts: dict[str, int] = {}
    level: Annotated[int, msgspec.Meta(ge=0)] = 0


@pydantic.dataclasses.dataclass
class Stamp:
    at: datetime.datetime
    by: str = "server"


@dataclasses.dataclass
class Envelope:
    model: Model
    struct: Struct | None = None


class Colour(enum.Enum):
    RED = "red"


def errors_of(decode: Any, data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The (location, kind) of every error ``decode`` finds in ``data``."""
    with pytest.raises(PayloadError) as caught:
        decode(data)
    assert caught.value.errors, "a PayloadError names at least one error"
    return [(error.location, error.kind) for error in caught.value.errors]


@pytest.mark.parametrize("annotation", [inspect.Parameter.empty, Any, object])
def test_untyped_data_is_passed_as_is(annotation: Any) -> None:
    data = {"anything": [1, "two", None]}
    assert payload_decoder(annotation, WHERE)(data) is data


@pytest.mark.parametrize("annotation", [None, type(None)])
def test_none_requires_no_data(annotation: Any) -> None:
    decode = payload_decoder(annotation, WHERE)
    assert decode(None) is None
    assert errors_of(decode, {}) == [((), "none_required")]


@pytest.mark.parametrize(
    ("annotation", "data", "result"),
    [
        (str, "hi", "hi"),
        (int, 3, 3),
        (float, 1.5, 1.5),
        (bool, False, False),
        (bytes, b"\x00", b"\x00"),
        (dict, {"a": 1}, {"a": 1}),
        (list, [1, "a"], [1, "a"]),
        (list[int], [1, 2], [1, 2]),
        (dict[str, int], {"a": 1}, {"a": 1}),
        (dict[Any, int], {1: 1}, {1: 1}),
        (int | None, None, None),
        (Optional[int], 4, 4),  # noqa: UP045 (the typing spelling is supported too)
        (int | str, "a", "a"),
        (Literal["a", 1], 1, 1),
        (tuple[int, ...], [1, 2], (1, 2)),
        (list[float], [1, 2.5], [1.0, 2.5]),
        (float | int, 1, 1),  # the member of the value's own type first
        (list[Any], [1, "a"], [1, "a"]),
        (dict[str, Any], {"a": [1]}, {"a": [1]}),
    ],
)
def test_plain_types_accept_their_values(annotation: Any, data: Any, result: Any) -> None:
    decoded = payload_decoder(annotation, WHERE)(data)
    assert decoded == result
    assert type(decoded) is type(result)


def test_int_becomes_float() -> None:
    assert type(payload_decoder(float, WHERE)(2)) is float
    assert all(type(x) is float for x in payload_decoder(dict[str, float], WHERE)({"a": 1, "b": 2}).values())


@pytest.mark.parametrize(
    ("annotation", "data", "errors"),
    [
        (str, 1, [((), "string_type")]),
        (int, True, [((), "int_type")]),  # JSON true is no integer
        (int, 1.0, [((), "int_type")]),
        (float, True, [((), "float_type")]),
        (float, "1", [((), "float_type")]),
        (float, 10**400, [((), "finite_number")]),
        (bool, 1, [((), "bool_type")]),
        (bytes, "x", [((), "bytes_type")]),
        (dict, [], [((), "dict_type")]),
        (list, {}, [((), "list_type")]),
        (list[int], [1, "a", True], [((1,), "int_type"), ((2,), "int_type")]),
        (list[int], "abc", [((), "list_type")]),
        (dict[str, int], {"a": "x", "b": 2, "c": None}, [(("a",), "int_type"), (("c",), "int_type")]),
        (dict[str, int], {1: 1}, [((1,), "string_type")]),  # MessagePack maps may have other keys
        (dict[str, Any], {b"k": 1, (1, 2): 2}, [(("b'k'",), "string_type"), (("(1, 2)",), "string_type")]),
        (list[Any], {}, [((), "list_type")]),
        (int | None, "x", [((), "int_type")]),  # an optional value's own error, not a union's
        (int | str, 1.5, [((), "union_type")]),
        (Literal["a", 1], True, [((), "literal_error")]),
        (Literal["a", 1], "b", [((), "literal_error")]),
        (tuple[int, ...], [1, "x"], [((1,), "int_type")]),
        (tuple[int, ...], "x", [((), "tuple_type")]),
    ],
)
def test_plain_types_refuse_other_values(annotation: Any, data: Any, errors: list[Any]) -> None:
    assert errors_of(payload_decoder(annotation, WHERE), data) == errors


def test_union_names_its_members() -> None:
    with pytest.raises(PayloadError, match=r"Input should be int or str"):
        payload_decoder(int | str, WHERE)(1.5)


def test_list_of_unchanged_items_is_not_copied() -> None:
    data = ["a", "b"]
    assert payload_decoder(list[str], WHERE)(data) is data


def test_a_dataclass_is_built_with_its_defaults() -> None:
    decode = payload_decoder(ChatMessage, WHERE)
    message = decode({"text": "hi", "items": [{"name": "tea"}], "ratio": 2, "point": [1, 2], "unknown": 1})
    assert message == ChatMessage("hi", [Item("tea", 1)], ratio=2.0, point=(1, 2))
    first, second = decode({"text": "a"}), decode({"text": "b"})
    assert first.items == [] and first.items is not second.items  # default_factory, once per instance


def test_a_dataclass_reports_every_error_with_its_location() -> None:
    data = {
        "items": [{"name": "tea"}, {"qty": "two"}, {"name": 3}],
        "tags": {"a": 1, "b": "x"},
        "mood": "angry",
        "ratio": "high",
        "point": [1, None],
    }
    assert errors_of(payload_decoder(ChatMessage, WHERE), data) == [
        (("text",), "missing"),
        (("items", 1, "name"), "missing"),
        (("items", 1, "qty"), "int_type"),
        (("items", 2, "name"), "string_type"),
        (("tags", "b"), "int_type"),
        (("mood",), "literal_error"),
        (("ratio",), "float_type"),
        (("point", 1), "int_type"),
    ]


@pytest.mark.parametrize("data", [[], "text", None, 1])
def test_a_dataclass_needs_an_object(data: Any) -> None:
    assert errors_of(payload_decoder(ChatMessage, WHERE), data) == [((), "dict_type")]


def test_a_recursive_dataclass() -> None:
    decode = payload_decoder(Node, WHERE)
    assert decode({"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}) == Node(1, [Node(2, [Node(3)])])
    assert errors_of(decode, {"value": 1, "children": [{"value": 2, "children": [{}]}]}) == [
        (("children", 0, "children", 0, "value"), "missing")
    ]


def test_post_init_validation_and_fields_outside_init() -> None:
    decode = payload_decoder(Positive, WHERE)
    assert decode({"n": 2, "doubled": 99}).doubled == 4  # doubled is not taken from the payload
    with pytest.raises(PayloadError) as caught:
        decode({"n": 0})
    assert caught.value.errors == [FieldError((), "n must be positive", "value_error")]


def test_a_dataclass_without_string_annotations() -> None:
    Point = dataclasses.make_dataclass("Point", [("x", int), ("y", int, dataclasses.field(default=0))])
    decode = payload_decoder(Point, WHERE)
    assert decode({"x": 1}) == Point(1, 0)
    assert errors_of(decode, {"x": "1", "y": None}) == [(("x",), "int_type"), (("y",), "int_type")]


def test_libraries_nest_inside_a_dataclass() -> None:
    decode = payload_decoder(Envelope, WHERE)
    value = decode({"model": {"text": "a", "at": "2024-05-01"}, "struct": {"text": "b"}})
    assert value == Envelope(Model(text="a", at=datetime.date(2024, 5, 1)), Struct(text="b"))
    assert errors_of(decode, {"model": {"items": [{}]}, "struct": {"text": 1}}) == [
        (("model", "text"), "missing"),
        (("model", "items", 0, "name"), "missing"),
        (("struct", "text"), "type"),
    ]


def test_pydantic_errors_are_pydantic_s_own() -> None:
    data = {"text": 5, "items": [{"name": "a"}, {"qty": "x"}], "at": "never"}
    with pytest.raises(pydantic.ValidationError) as expected:
        Model.model_validate(data)
    with pytest.raises(PayloadError) as caught:
        payload_decoder(Model, WHERE)(data)
    found = expected.value.errors(include_url=False)
    assert [(e.location, e.message, e.kind) for e in caught.value.errors] == [
        (tuple(e["loc"]), e["msg"], e["type"]) for e in found
    ]
    assert (("items", 1, "name"), "missing") in [(e.location, e.kind) for e in caught.value.errors]
    assert payload_decoder(Model, WHERE)({"text": "a"}) == Model(text="a")


def test_pydantic_dataclasses_are_pydantic_s() -> None:
    decode = payload_decoder(Stamp, WHERE)
    stamp = decode({"at": "2024-05-01T10:00:00"})
    assert stamp == Stamp(datetime.datetime(2024, 5, 1, 10))
    errors = errors_of(decode, {"at": "soon", "by": 1})  # pydantic's kinds (the datetime one varies by release)
    assert [location for location, _ in errors] == [("at",), ("by",)]
    assert errors[0][1].startswith("datetime_") and errors[1][1] == "string_type"
    assert to_data([stamp]) == [{"at": "2024-05-01T10:00:00", "by": "server"}]
    assert reply_encoder(Stamp, WHERE)(stamp) == {"at": "2024-05-01T10:00:00", "by": "server"}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, FieldError(("text",), "Object missing required field `text`", "missing")),
        ({"text": 1}, FieldError(("text",), "Expected `str`, got `int`", "type")),
        (
            {"text": "a", "items": [{"name": "a"}, {"name": 2}]},
            FieldError(("items", 1, "name"), "Expected `str`, got `int`", "type"),
        ),
        (
            {"text": "a", "items": [{}]},
            FieldError(("items", 0, "name"), "Object missing required field `name`", "missing"),
        ),
        ({"text": "a", "extra": 1}, FieldError(("extra",), "Object contains unknown field `extra`", "extra_forbidden")),
        ({"text": "a", "counts": {"k": "v"}}, FieldError(("counts", "..."), "Expected `int`, got `str`", "type")),
        ({"text": "a", "level": -1}, FieldError(("level",), "Expected `int` >= 0", "value")),
        ([], FieldError((), "Expected `object`, got `array`", "type")),
    ],
)
def test_msgspec_errors_are_located(data: Any, error: FieldError) -> None:
    with pytest.raises(PayloadError) as caught:
        payload_decoder(Struct, WHERE)(data)
    assert caught.value.errors == [error]


def test_msgspec_structs_are_converted() -> None:
    assert payload_decoder(Struct, WHERE)({"text": "a", "items": [{"name": "b"}]}) == Struct("a", [Item("b")])
    assert payload_decoder(list[Struct], WHERE)([{"text": "a"}]) == [Struct("a")]


@dataclasses.dataclass
class Unsupported:
    text: str
    tags: set[str]


@dataclasses.dataclass
class Unresolved:
    text: NoSuchType  # type: ignore[name-defined]  # noqa: F821


@dataclasses.dataclass
class InitOnly:
    text: str
    secret: dataclasses.InitVar[str]


class ArraysStruct(msgspec.Struct):
    values: list[int] | tuple[int, ...]  # msgspec takes one array-like type in a union


class UnresolvedStruct(msgspec.Struct):
    thing: NoSuchType  # type: ignore[name-defined]  # noqa: F821


@pytest.mark.parametrize(
    ("annotation", "named"),
    [
        (set[int], "set[int]"),
        (Unsupported, "field Unsupported.tags"),
        (list[Unsupported], "field Unsupported.tags"),
        (Unresolved, "NoSuchType"),
        (InitOnly, "field InitOnly.secret: InitVar"),
        (Annotated[int, "meta"], "Annotated"),
        (Colour, "Colour"),
        ("ChatMessage", "a string annotation left unresolved"),
        (ArraysStruct, "msgspec cannot prepare ArraysStruct"),
        (UnresolvedStruct, "NoSuchType"),
    ],
)
def test_unsupported_annotations_fail_when_prepared(annotation: Any, named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        payload_decoder(annotation, WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: cannot validate a payload annotated")
    assert named in message
    assert "pydantic model or a msgspec Struct" in message


CHECK_IMPORTS = textwrap.dedent(
    """
    import dataclasses, sys
    from pyfly_ws.messages.codecs import JSON
    from pyfly_ws.messages.encoding import reply_encoder, to_data
    from pyfly_ws.messages.payloads import PayloadError, payload_decoder

    @dataclasses.dataclass
    class Message:
        text: str
        n: int | None = None

    decode = payload_decoder(Message, "Gateway.send")
    value = decode(JSON.decode('{"text": "hi"}'))
    try:
        decode({"n": "x"})
    except PayloadError:
        pass
    assert JSON.encode(reply_encoder(Message, "Gateway.send")(value)) == '{"text":"hi","n":null}'
    assert to_data([value]) == [{"text": "hi", "n": None}]
    loaded = sorted(name for name in ("pydantic", "msgspec") if name in sys.modules)
    assert not loaded, loaded
    print("ok")
    """
)


def test_dataclass_payloads_import_neither_pydantic_nor_msgspec() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_to_data_returns_plain_data_as_is() -> None:
    data = {"text": "hi", "nested": {"n": [1, 2.5, None, True]}, "items": ["a"]}
    assert to_data(data) is data
    for value in ("s", 1, 1.5, True, None, b"x", [1], (1, 2)):
        assert to_data(value) is value


def test_to_data_converts_what_it_must_and_copies_only_that() -> None:
    data = {"a": 1, "item": Item("tea"), "z": [Item("b", 2), "plain"], "after": {"k": "v"}}
    assert to_data(data) == {
        "a": 1,
        "item": {"name": "tea", "qty": 1},
        "z": [{"name": "b", "qty": 2}, "plain"],
        "after": {"k": "v"},
    }
    assert list(to_data(data)) == ["a", "item", "z", "after"]
    assert data["item"] == Item("tea")  # the input is left alone
    assert to_data(data)["after"] is data["after"]
    assert to_data(("x", Item("y"))) == ["x", {"name": "y", "qty": 1}]


def test_to_data_for_each_kind() -> None:
    message = ChatMessage("hi", [Item("tea")], tags={"a": 1}, point=(1, 2))
    assert to_data(message) == {
        "text": "hi",
        "items": [{"name": "tea", "qty": 1}],
        "tags": {"a": 1},
        "mood": "calm",
        "ratio": 0.0,
        "point": (1, 2),
    }
    assert to_data(Model(text="a", items=[Item("b")], at=datetime.date(2024, 5, 1))) == {
        "text": "a",
        "items": [{"name": "b", "qty": 1}],
        "at": "2024-05-01",
    }
    assert to_data(Struct("a", [Item("b")])) == {
        "text": "a",
        "items": [{"name": "b", "qty": 1}],
        "counts": {},
        "level": 0,
    }
    assert to_data(Envelope(Model(text="m"), Struct("s"))) == {
        "model": {"text": "m", "items": [], "at": None},
        "struct": {"text": "s", "items": [], "counts": {}, "level": 0},
    }
    assert to_data({"colour": Colour.RED, "node": Node(1, [Node(2)])}) == {
        "colour": "red",
        "node": {"value": 1, "children": [{"value": 2, "children": []}]},
    }
    json.dumps(to_data(Envelope(Model(text="m", at=datetime.date(2024, 1, 1)))))  # plain data indeed


def test_reply_encoders() -> None:
    model = Model(text="a", at=datetime.date(2024, 5, 1))
    assert reply_encoder(Model, WHERE)(model) == {"text": "a", "items": [], "at": "2024-05-01"}
    assert reply_encoder(Model, WHERE)({"text": Item("x")}) == {"text": {"name": "x", "qty": 1}}  # not a Model
    assert reply_encoder(Struct, WHERE)(Struct("a")) == {"text": "a", "items": [], "counts": {}, "level": 0}
    assert reply_encoder(Struct, WHERE)([Struct("a")]) == [{"text": "a", "items": [], "counts": {}, "level": 0}]
    assert reply_encoder(Node, WHERE)(Node(1, [Node(2)])) == {"value": 1, "children": [{"value": 2, "children": []}]}
    assert reply_encoder(Node, WHERE)(Item("x")) == {"name": "x", "qty": 1}
    for annotation in (inspect.Parameter.empty, None, Any, dict[str, Any], list[Item]):
        assert reply_encoder(annotation, WHERE) is to_data


def test_errors_as_data_and_text() -> None:
    error = PayloadError([FieldError(("items", 2, "name"), "Field required", "missing"), FieldError((), "bad", "x")])
    assert [e.to_data() for e in error.errors] == [
        {"location": ["items", 2, "name"], "message": "Field required", "kind": "missing"},
        {"location": [], "message": "bad", "kind": "x"},
    ]
    assert str(error) == "items.2.name: Field required; payload: bad"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
FIELDS = [field.name for field in dataclasses.fields(ChatMessage)] + ["name", "qty"]
KEYED = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=4)
SHAPED = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | st.lists(KEYED, max_size=3), max_size=6)
"""Objects with the dataclasses' field names as keys, so that the checks of the fields run too."""


DECODERS = [payload_decoder(a, WHERE) for a in (ChatMessage, Node, list[Item], dict[str, float], int | str | None)]


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(JSON_VALUES, SHAPED))
def test_the_validator_raises_only_payload_errors(data: Any) -> None:
    for decode in DECODERS:
        try:
            decode(data)
        except PayloadError as exc:
            errors = exc.errors
        else:
            continue
        assert errors
        assert all(isinstance(step, str | int) for error in errors for step in error.location)
