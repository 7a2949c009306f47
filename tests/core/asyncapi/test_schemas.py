"""A payload type's JSON Schema says what its validator says: the same values pass, the same fail, the same types.

Each annotation is prepared by the validator the dispatcher uses
(:func:`~pyfly_ws.messages.payloads.payload_decoder`) and described by the
document's :class:`~pyfly_ws.asyncapi.schemas.SchemaSet`; values are run
through both.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jsonschema
import msgspec
import pydantic
import pytest

from pyfly_ws import ConfigurationError
from pyfly_ws.asyncapi.schemas import SchemaSet
from pyfly_ws.messages.payloads import PayloadError, payload_decoder
from tests.core.asyncapi import everything


@dataclasses.dataclass
class Pair:
    left: int
    right: str = "r"


class Model(pydantic.BaseModel):
    count: int = pydantic.Field(ge=0)


class Struct(msgspec.Struct):
    flag: bool


CASES: list[tuple[Any, list[Any], list[Any]]] = [
    (int, [0, -3], ["1", True, None, 1.5]),
    (float, [1, 1.5], ["1", True, None]),
    (bool, [True, False], [0, "true", None]),
    (str, ["", "é"], [1, None, ["a"]]),
    (None, [None], [0, "", False]),
    (dict, [{}, {"a": [1]}], [[], "x"]),
    (list, [[], [1, "a"]], [{}, "x"]),
    (Any, [None, 1, "x", [1]], []),
    (int | None, [None, 3], ["3"]),
    (int | str, [1, "1"], [1.5, None]),
    (Literal["a", 1], ["a", 1], ["b", 2, True]),
    (list[int], [[], [1, 2]], [[1, "2"], [True], {}]),
    (tuple[str, ...], [[], ["a"]], [[1], "a"]),
    (dict[str, int], [{}, {"a": 1}], [{"a": "1"}, []]),
    (dict[Any, list[bool]], [{"a": [True]}], [{"a": [1]}]),
    (Pair, [{"left": 1}, {"left": 1, "right": "x"}], [{}, {"left": "1"}, {"left": 1, "right": 2}, []]),
    (everything.Tree, [{"name": "a", "children": [{"name": "b"}]}], [{"name": "a", "children": [{}]}]),
    (Model, [{"count": 0}], [{"count": -1}, {}]),
    (Struct, [{"flag": True}], [{"flag": 1}, {}]),
    # (msgspec takes a tagged Struct without its tag, where its schema requires the tag: none is left out here)
    (everything.Cat | everything.Dog, [{"type": "Cat"}, {"type": "Dog", "name": "x"}], [{"type": "Dog"}, []]),
    (list[Pair] | None, [None, [{"left": 2}]], [[{"left": None}]]),
]


def _accepts(decode: Any, value: Any) -> bool:
    try:
        decode(value)
    except PayloadError:
        return False
    return True


@pytest.mark.parametrize(("annotation", "good", "bad"), CASES, ids=[repr(case[0]) for case in CASES])
def test_the_schema_and_the_validator_agree(annotation: Any, good: list[Any], bad: list[Any]) -> None:
    decode = payload_decoder(annotation, "a test")
    schemas = SchemaSet()
    schema = {**schemas.of(annotation, "a test", output=False), "definitions": schemas.components}
    schema = _local(schema)
    validator = jsonschema.Draft7Validator(schema)
    for value in good:
        assert _accepts(decode, value), value
        assert validator.is_valid(value), value
    for value in bad:
        assert not _accepts(decode, value), value
        assert not validator.is_valid(value), value


def _local(node: Any) -> Any:
    """``#/components/schemas/X`` as ``#/definitions/X``, to validate a schema on its own."""
    if isinstance(node, dict):
        return {
            key: value.replace("#/components/schemas/", "#/definitions/") if key == "$ref" else _local(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_local(item) for item in node]
    return node


@pytest.mark.parametrize(
    "annotation", [set[int], tuple[int, str], dict[int, str], frozenset, complex, type("Plain", (), {})]
)
def test_what_the_validator_refuses_the_document_cannot_describe(annotation: Any) -> None:
    with pytest.raises(ConfigurationError):
        payload_decoder(annotation, "a test")
    with pytest.raises(ConfigurationError, match=r"^a test: cannot describe"):
        SchemaSet().of(annotation, "a test", output=False)


def test_two_classes_of_one_name_get_two_schemas() -> None:
    first = dataclasses.make_dataclass("Item", [("a", int)])
    second = dataclasses.make_dataclass("Item", [("b", str)])
    second.__module__ = "elsewhere"

    class Item(pydantic.BaseModel):
        c: float

    schemas = SchemaSet()
    refs = [schemas.of(cls, "x", output=False)["$ref"] for cls in (first, second, Item, first)]
    assert refs == [
        "#/components/schemas/Item",
        "#/components/schemas/elsewhere.Item",
        "#/components/schemas/Item-Input",
        "#/components/schemas/Item",
    ]
    assert set(schemas.components) == {"Item", "elsewhere.Item", "Item-Input"}
