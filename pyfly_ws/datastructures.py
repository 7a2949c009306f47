"""Read-only multi-value mappings for handshake headers and query parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

__all__ = ["Headers", "QueryParams"]


class _MultiMapping(Mapping[str, str]):
    """A read-only mapping of keys to their first value; ``getlist`` gives all of them."""

    __slots__ = ("_items", "_first")

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = tuple(items)
        first: dict[str, str] = {}
        for key, value in self._items:
            first.setdefault(key, value)
        self._first = first

    def _key(self, key: str) -> str:
        return key

    def __getitem__(self, key: str) -> str:
        return self._first[self._key(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._key(key) in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key`` in the order received; an empty list if there is none."""
        wanted = self._key(key)
        return [value for name, value in self._items if name == wanted]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` pair, repeated keys included, in the order received."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _MultiMapping):
            return type(self) is type(other) and self._items == other._items
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._items)!r})"


class Headers(_MultiMapping):
    """Handshake headers: case-insensitive names, values decoded as Latin-1."""

    __slots__ = ()

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Build from the ``(name, value)`` byte pairs of an ASGI scope."""
        return cls((name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def _key(self, key: str) -> str:
        return key.lower()


class QueryParams(_MultiMapping):
    """Query-string parameters, percent-decoded; blank values are kept."""

    __slots__ = ()

    @classmethod
    def from_query_string(cls, query_string: bytes | str) -> QueryParams:
        """Parse a raw query string such as ``b"a=1&a=2&b="``."""
        text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        return cls(parse_qsl(text, keep_blank_values=True))
