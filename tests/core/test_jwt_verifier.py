"""JWTVerifier: static keys, key ids, a JWKS over real HTTP, and refusals that never quote the token."""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from pyfly_ws.auth.jwt import JWTVerifier
from pyfly_ws.auth.tokens import HeaderToken
from pyfly_ws.mapping.auth import InvalidToken, Principal
from pyfly_ws.mapping.guards import Reject

NOW = 1_700_000_000.0
SECRET = secrets.token_hex(32)  # 64 bytes: long enough for HS512 too, so PyJWT does not warn
RSA_A = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUED: list[str] = []  # every token a test signed: none may show up in an error or a log line


class FakeClock:
    """A wall clock that moves only when a test sets ``now``."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def on_jump(self, callback: Callable[[], None]) -> None:
        pass


def sign(claims: dict[str, Any], key: Any = SECRET, algorithm: str = "HS256", kid: str | None = None) -> str:
    token = jwt.encode(claims, key, algorithm=algorithm, headers=None if kid is None else {"kid": kid})
    ISSUED.append(token)
    return token


def hs256(**options: Any) -> JWTVerifier:
    return JWTVerifier(key=SECRET, algorithms=["HS256"], clock=options.pop("clock", FakeClock()), **options)


async def refused(verifier: JWTVerifier, token: str) -> Reject:
    """The refusal ``verifier`` raises for ``token``, checked not to quote it."""
    with pytest.raises(Reject) as caught:
        await verifier(token)
    assert not token or (token not in str(caught.value) and token not in repr(caught.value))
    return caught.value


async def reason(verifier: JWTVerifier, token: str) -> str:
    """The reason of the :class:`InvalidToken` (HTTP 401) ``verifier`` raises for ``token``."""
    refusal = await refused(verifier, token)
    assert isinstance(refusal, InvalidToken) and refusal.status == 401
    return refusal.reason


@pytest.fixture(autouse=True)
def no_token_in_the_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    ISSUED.clear()
    yield
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert not any(token in text for token in ISSUED), record


# -- a static HMAC key -------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_good_token_gives_its_principal() -> None:
    claims = {"sub": "ada", "exp": int(NOW) + 60, "scope": "read write"}
    principal = await hs256()(sign(claims))
    assert principal == Principal("ada", claims, NOW + 60)
    assert isinstance(principal.expires_at, float) and principal.scopes == {"read", "write"}
    assert (await hs256()(sign({"sub": "ada"}))).expires_at is None  # no exp: never expires


@pytest.mark.anyio
async def test_it_is_a_verify_callable_for_an_authenticator() -> None:
    authenticator = HeaderToken(hs256())
    assert (await authenticator.verify(sign({"sub": "ada"}))).identity == "ada"
    assert "JWTVerifier(key=..., algorithms=['HS256'])" in repr(authenticator)


@pytest.mark.anyio
async def test_a_token_signed_with_another_key_is_refused() -> None:
    assert await reason(hs256(), sign({"sub": "ada"}, key=secrets.token_hex(32))) == "bad signature"


@pytest.mark.anyio
async def test_exp_is_checked_against_the_clock_with_leeway() -> None:
    clock = FakeClock()
    token = sign({"sub": "ada", "exp": int(NOW) + 10})
    assert (await hs256(clock=clock)(token)).identity == "ada"
    clock.now = NOW + 10  # exp is the first instant the token is no longer valid
    assert await reason(hs256(clock=clock), token) == "expired"
    assert (await hs256(clock=clock, leeway=5)(token)).identity == "ada"
    clock.now = NOW + 16
    assert await reason(hs256(clock=clock, leeway=5), token) == "expired"


@pytest.mark.anyio
async def test_nbf_in_the_future_is_refused_unless_within_leeway() -> None:
    token = sign({"sub": "ada", "nbf": int(NOW) + 30})
    assert await reason(hs256(), token) == "not yet valid"
    assert (await hs256(leeway=30)(token)).identity == "ada"
    assert (await hs256(clock=FakeClock(NOW + 30))(token)).identity == "ada"


@pytest.mark.anyio
async def test_the_audience_must_match_and_be_there_when_one_is_expected() -> None:
    verifier = hs256(audience="api")
    assert (await verifier(sign({"sub": "ada", "aud": ["web", "api"]}))).identity == "ada"
    assert await reason(verifier, sign({"sub": "ada", "aud": "web"})) == "wrong audience"
    assert await reason(verifier, sign({"sub": "ada"})) == "wrong audience"
    assert await reason(hs256(), sign({"sub": "ada", "aud": "api"})) == "wrong audience"  # none expected
    assert (await hs256(audience=["web", "api"])(sign({"sub": "ada", "aud": "web"}))).identity == "ada"


@pytest.mark.anyio
async def test_the_issuer_must_match() -> None:
    verifier = hs256(issuer="https://id.example")
    assert (await verifier(sign({"sub": "ada", "iss": "https://id.example"}))).identity == "ada"
    assert await reason(verifier, sign({"sub": "ada", "iss": "https://evil.example"})) == "wrong issuer"
    assert await reason(verifier, sign({"sub": "ada"})) == "wrong issuer"


@pytest.mark.anyio
@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"])
async def test_a_malformed_token_is_refused(token: str) -> None:
    assert await reason(hs256(), token) == "malformed token"


@pytest.mark.anyio
@pytest.mark.parametrize("claim", ["exp", "nbf"])
async def test_a_time_that_is_not_a_number_is_malformed(claim: str) -> None:
    assert await reason(hs256(), sign({"sub": "ada", claim: "soon"})) == "malformed token"


@pytest.mark.anyio
async def test_an_algorithm_not_allowed_is_refused() -> None:
    assert await reason(hs256(), sign({"sub": "ada"}, algorithm="HS512")) == "algorithm not allowed"
    assert await reason(hs256(), sign({"sub": "ada"}, key=None, algorithm="none")) == "algorithm not allowed"


@pytest.mark.anyio
async def test_the_identity_claim_must_be_a_non_empty_string() -> None:
    for claims in ({}, {"sub": ""}, {"sub": 42}, {"email": "ada@example.com"}):
        assert await reason(hs256(), sign(claims)) == "missing identity claim"
    assert (await hs256(identity="email")(sign({"email": "ada@example.com"}))).identity == "ada@example.com"


@pytest.mark.anyio
async def test_required_claims_must_be_there() -> None:
    verifier = hs256(require=["exp"])
    assert await reason(verifier, sign({"sub": "ada"})) == "missing exp claim"
    assert (await verifier(sign({"sub": "ada", "exp": int(NOW) + 1}))).expires_at == NOW + 1


# -- keys by id --------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rs256_with_keys_by_kid() -> None:
    pem = RSA_B.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verifier = JWTVerifier(keys={"a": RSA_A.public_key(), "b": pem}, algorithms=["RS256"])
    assert (await verifier(sign({"sub": "ada"}, RSA_A, "RS256", kid="a"))).identity == "ada"
    assert (await verifier(sign({"sub": "bob"}, RSA_B, "RS256", kid="b"))).identity == "bob"
    assert await reason(verifier, sign({"sub": "ada"}, RSA_A, "RS256", kid="b")) == "bad signature"
    assert await reason(verifier, sign({"sub": "ada"}, RSA_A, "RS256", kid="c")) == "unknown key"
    assert await reason(verifier, sign({"sub": "ada"}, RSA_A, "RS256")) == "unknown key"  # no kid, two keys
    alone = JWTVerifier(keys={"a": RSA_A.public_key()}, algorithms=["RS256"])
    assert (await alone(sign({"sub": "ada"}, RSA_A, "RS256"))).identity == "ada"  # no kid, one key
    assert repr(verifier) == "JWTVerifier(keys=['a', 'b'], algorithms=['RS256'])"


# -- a JWKS over HTTP --------------------------------------------------------------------------------------------------


def jwk(key: rsa.RSAPrivateKey, kid: str, use: str = "sig") -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": use}


class JWKSServer:
    """A JWKS document served over HTTP on 127.0.0.1, counting the requests."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.status = 200
        self.body: bytes | None = None  # instead of the document
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server.body if server.body is not None else json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def verifier(self, **options: Any) -> JWTVerifier:
        return JWTVerifier(jwks_url=self.url, algorithms=["RS256"], **options)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join()
            self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    served = JWKSServer(jwk(RSA_A, "a"))
    yield served
    served.stop()


@pytest.mark.anyio
async def test_a_token_signed_with_a_jwks_key_is_accepted_and_the_keys_are_cached(server: JWKSServer) -> None:
    verifier = server.verifier()
    for name in ("ada", "bob", "eve"):
        assert (await verifier(sign({"sub": name}, RSA_A, "RS256", kid="a"))).identity == name
    assert server.requests == 1
    assert await reason(verifier, sign({"sub": "ada"}, RSA_B, "RS256", kid="a")) == "bad signature"
    assert repr(verifier) == f"JWTVerifier(jwks_url={server.url!r}, algorithms=['RS256'])"


@pytest.mark.anyio
async def test_only_signing_keys_count_and_a_token_without_kid_needs_exactly_one(server: JWKSServer) -> None:
    server.keys = [jwk(RSA_A, "a"), jwk(RSA_B, "b", use="enc")]
    verifier = server.verifier()
    assert (await verifier(sign({"sub": "ada"}, RSA_A, "RS256"))).identity == "ada"
    assert await reason(verifier, sign({"sub": "ada"}, RSA_B, "RS256", kid="b")) == "unknown key"
    server.keys = [jwk(RSA_A, "a"), jwk(RSA_B, "b")]
    assert await reason(server.verifier(), sign({"sub": "ada"}, RSA_A, "RS256")) == "unknown key"


@pytest.mark.anyio
async def test_a_new_kid_fetches_the_rotated_keys(server: JWKSServer) -> None:
    verifier = server.verifier(refresh_interval=0)
    assert (await verifier(sign({"sub": "ada"}, RSA_A, "RS256", kid="a"))).identity == "ada"
    server.keys = [jwk(RSA_B, "b")]
    assert (await verifier(sign({"sub": "ada"}, RSA_B, "RS256", kid="b"))).identity == "ada"
    assert server.requests == 2
    assert await reason(verifier, sign({"sub": "ada"}, RSA_A, "RS256", kid="a")) == "unknown key"  # rotated out


@pytest.mark.anyio
async def test_random_kids_fetch_at_most_once_per_refresh_interval(server: JWKSServer) -> None:
    verifier = server.verifier()
    for _ in range(20):
        token = sign({"sub": "ada"}, RSA_A, "RS256", kid=secrets.token_hex(8))
        assert await reason(verifier, token) == "unknown key"
    assert server.requests == 1  # the first unknown kid fetched; the other 19 came within the interval
    assert (await verifier(sign({"sub": "ada"}, RSA_A, "RS256", kid="a"))).identity == "ada"
    assert server.requests == 1


@pytest.mark.anyio
async def test_concurrent_handshakes_share_one_fetch(server: JWKSServer) -> None:
    verifier = server.verifier(refresh_interval=0)
    await verifier(sign({"sub": "ada"}, RSA_A, "RS256", kid="a"))
    server.keys = [jwk(RSA_A, "a"), jwk(RSA_B, "b")]
    found: list[str] = []

    async def verify(name: str) -> None:
        found.append((await verifier(sign({"sub": name}, RSA_B, "RS256", kid="b"))).identity)

    async with anyio.create_task_group() as group:
        for number in range(10):
            group.start_soon(verify, f"user{number}")
    assert sorted(found) == sorted(f"user{number}" for number in range(10))
    assert server.requests == 2


@pytest.mark.anyio
async def test_an_unreachable_jwks_is_a_503_and_a_warning(server: JWKSServer, caplog: pytest.LogCaptureFixture) -> None:
    server.stop()
    token = sign({"sub": "ada"}, RSA_A, "RS256", kid="a")
    refusal = await refused(server.verifier(), token)
    assert not isinstance(refusal, InvalidToken)
    assert (refusal.status, refusal.reason) == (503, "authentication unavailable")
    [record] = [r for r in caplog.records if r.name == "pyfly_ws.auth"]
    assert record.levelno == logging.WARNING and server.url in record.getMessage()


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "body"), [(500, b"oops"), (200, b"not json"), (200, b"[]"), (200, b'{"keys": []}')])
async def test_a_broken_jwks_is_a_503(server: JWKSServer, status: int, body: bytes) -> None:
    server.status, server.body = status, body
    refusal = await refused(server.verifier(), sign({"sub": "ada"}, RSA_A, "RS256", kid="a"))
    assert refusal.status == 503


@pytest.mark.anyio
async def test_cached_keys_outlive_a_jwks_that_went_down(server: JWKSServer) -> None:
    verifier = server.verifier(jwks_ttl=0.01, refresh_interval=0)
    token = sign({"sub": "ada"}, RSA_A, "RS256", kid="a")
    await verifier(token)
    server.stop()
    await anyio.sleep(0.02)  # the cache is stale: the verifier tries to fetch, fails, and uses what it has
    assert (await verifier(token)).identity == "ada"
    assert (await refused(verifier, sign({"sub": "ada"}, RSA_B, "RS256", kid="b"))).status == 503


# -- configuration -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"algorithms": ["HS256"]}, ValueError, "exactly one of"),
        ({"key": SECRET, "jwks_url": "https://id.example/jwks", "algorithms": ["HS256"]}, ValueError, "exactly one"),
        ({"key": SECRET, "keys": {"a": SECRET}, "algorithms": ["HS256"]}, ValueError, "exactly one of"),
        ({"key": SECRET, "algorithms": []}, ValueError, "algorithms"),
        ({"key": SECRET, "algorithms": ["none"]}, ValueError, "algorithms"),
        ({"key": SECRET, "algorithms": ["HS256", "NONE"]}, ValueError, "algorithms"),
        ({"key": SECRET, "algorithms": ["HS257"]}, ValueError, "algorithms"),
        ({"key": SECRET, "algorithms": "HS256"}, TypeError, "algorithms"),
        ({"key": "", "algorithms": ["HS256"]}, ValueError, "empty"),
        ({"keys": {}, "algorithms": ["HS256"]}, TypeError, "keys"),
        ({"jwks_url": "file:///etc/jwks.json", "algorithms": ["RS256"]}, ValueError, "http"),
        ({"key": SECRET, "algorithms": ["HS256"], "audience": []}, ValueError, "audience"),
        ({"key": SECRET, "algorithms": ["HS256"], "identity": ""}, TypeError, "identity"),
        ({"key": SECRET, "algorithms": ["HS256"], "leeway": -1}, ValueError, "leeway"),
        ({"key": SECRET, "algorithms": ["HS256"], "timeout": 0}, ValueError, "timeout"),
        ({"key": SECRET, "algorithms": ["HS256"], "clock": object()}, TypeError, "clock"),
    ],
)
def test_the_constructor_refuses_what_cannot_work(options: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        JWTVerifier(**options)
    assert SECRET not in str(caught.value)


def test_it_needs_pyjwt_only_when_constructed() -> None:
    code = (
        "import sys\n"
        "sys.modules['jwt'] = None\n"
        "from pyfly_ws.auth.jwt import JWTVerifier\n"
        "from pyfly_ws.exceptions import MissingDependencyError\n"
        "try:\n"
        "    JWTVerifier(key='k', algorithms=['HS256'])\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert result.stdout.strip() == 'JWTVerifier needs PyJWT: pip install "pyfly-ws[jwt]"'
