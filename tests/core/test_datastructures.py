"""Headers and query parameters."""

from __future__ import annotations

from pyfly_ws import Headers, QueryParams


def test_headers_case_insensitive_multi() -> None:
    headers = Headers.from_raw([(b"Cookie", b"a=1"), (b"cookie", b"b=2"), (b"X-Caf\xe9", b"\xe9")])
    assert headers["COOKIE"] == "a=1"
    assert headers.getlist("Cookie") == ["a=1", "b=2"]
    assert "x-café" in headers and "nope" not in headers
    assert object() not in headers
    assert len(headers) == 2 and list(headers) == ["cookie", "x-café"]
    assert headers.getlist("missing") == []
    assert headers == Headers([("cookie", "a=1"), ("Cookie", "b=2"), ("x-café", "é")])
    assert dict(headers) == {"cookie": "a=1", "x-café": "é"}
    assert "Headers(" in repr(headers)


def test_query_params_decode_and_keep_blanks() -> None:
    query = QueryParams.from_query_string(b"a=1&a=2&b=&c=%C3%A9+x")
    assert query["a"] == "1" and query.getlist("a") == ["1", "2"]
    assert query["b"] == "" and query["c"] == "é x"
    assert query.multi_items() == [("a", "1"), ("a", "2"), ("b", ""), ("c", "é x")]
    assert QueryParams.from_query_string("") == QueryParams([])
