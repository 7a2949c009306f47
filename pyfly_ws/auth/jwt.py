"""``JWTVerifier``: checks a JSON Web Token and returns its :class:`~pyfly_ws.Principal` (needs ``pyfly-ws[jwt]``).

Give it one key, a mapping of key ids to keys, or the URL of a JWKS document,
and hand it to an authenticator: ``HeaderToken(JWTVerifier(jwks_url=..., algorithms=["RS256"]))``.
Every refusal is an :class:`~pyfly_ws.InvalidToken` (HTTP 401) with a short
reason that never quotes the token; a JWKS that cannot be fetched when no
cached key fits is a :class:`~pyfly_ws.Reject` with HTTP 503.
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from ..clock import SYSTEM_CLOCK, Clock
from ..exceptions import MissingDependencyError
from ..mapping.auth import InvalidToken, Principal
from ..mapping.guards import Reject

if TYPE_CHECKING:
    from jwt import PyJWTError
    from jwt.types import Options

__all__ = ["JWTVerifier"]

logger = logging.getLogger("pyfly_ws.auth")

_MISSING = 'JWTVerifier needs PyJWT: pip install "pyfly-ws[jwt]"'
_MAX_JWKS = 1 << 20

_OURS: Options = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_sub": False}
"""What PyJWT leaves to us: ``exp`` and ``nbf`` by our clock, and the identity claim (``sub`` or another)."""

_Keys = tuple[tuple[str | None, Any], ...]


class JWTVerifier:
    """Checks a JWT's signature, ``exp`` and ``nbf`` (by ``clock``), ``aud`` and ``iss``: ``await verifier(token)``.

    Exactly one of ``key`` (an HMAC secret, a PEM public key, or a key object
    PyJWT accepts: used whatever the token's ``kid``), ``keys`` (key id to key)
    or ``jwks_url`` (fetched when needed, cached ``jwks_ttl`` seconds, fetched
    again for an unknown ``kid`` at most once per ``refresh_interval``
    seconds). A token without ``kid`` needs a source with exactly one key.
    Without ``audience``, a token that names one is refused. ``require`` names
    claims a token must carry (``["exp"]``, say). The principal's identity is
    the claim named ``identity``, its ``expires_at`` the token's ``exp``.
    """

    def __init__(
        self,
        *,
        key: Any = None,
        keys: Mapping[str, Any] | None = None,
        jwks_url: str | None = None,
        algorithms: Iterable[str],
        audience: str | Iterable[str] | None = None,
        issuer: str | None = None,
        identity: str = "sub",
        require: Iterable[str] = (),
        leeway: float = 0.0,
        clock: Clock = SYSTEM_CLOCK,
        jwks_ttl: float = 300.0,
        refresh_interval: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        try:
            import jwt
        except ImportError as exc:
            raise MissingDependencyError(_MISSING) from exc
        self._keys = _source(key, keys, jwks_url)
        self._static, self._jwks_url = key is not None, jwks_url
        self._algorithms = _names("algorithms", algorithms)
        known = set(jwt.algorithms.get_default_algorithms()) - {"none"}
        if not self._algorithms or not known.issuperset(self._algorithms):
            raise ValueError(f"algorithms names some of {', '.join(sorted(known))}, got {list(self._algorithms)}")
        self._audience = audience if audience is None or isinstance(audience, str) else _names("audience", audience)
        if audience is not None and not self._audience:
            raise ValueError("audience is a string or a non-empty list of strings")
        if issuer is not None and (not isinstance(issuer, str) or not issuer):
            raise TypeError(f"issuer is a non-empty string or None, got {issuer!r}")
        if not isinstance(identity, str) or not identity:
            raise TypeError(f"identity is the name of a claim, got {identity!r}")
        if not isinstance(clock, Clock):
            raise TypeError(f"clock is a pyfly_ws.Clock, got {clock!r}")
        self._issuer, self._identity, self._clock = issuer, identity, clock
        self._require = list(_names("require", require))
        self._leeway = _seconds("leeway", leeway, zero=True)
        self._jwks_ttl = _seconds("jwks_ttl", jwks_ttl)
        self._refresh_interval = _seconds("refresh_interval", refresh_interval, zero=True)
        self._timeout = _seconds("timeout", timeout)
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._attempted_at: float | None = None  # ... and of the last attempt
        self._attempts = 0
        self._failing = False
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        if self._jwks_url is not None:
            source = f"jwks_url={self._jwks_url!r}"
        else:
            source = "key=..." if self._static else f"keys={[kid for kid, _ in self._keys]!r}"
        return f"JWTVerifier({source}, algorithms={list(self._algorithms)!r})"

    async def __call__(self, token: str) -> Principal:
        """The principal ``token`` stands for; :class:`InvalidToken` (HTTP 401) if it does not verify."""
        import jwt

        if self._static:  # one key, whatever the token's kid: no need to read the header first
            key = self._keys[0][1]
        else:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError:
                raise InvalidToken("malformed token") from None
            key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={**_OURS, "require": self._require},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_reason(exc)) from None
        now = self._clock.time()
        exp, nbf = _numeric(claims, "exp"), _numeric(claims, "nbf")
        if exp is not None and exp <= now - self._leeway:
            raise InvalidToken("expired")
        if nbf is not None and nbf > now + self._leeway:
            raise InvalidToken("not yet valid")
        identity = claims.get(self._identity)
        if not isinstance(identity, str) or not identity:
            raise InvalidToken("missing identity claim")
        return Principal(identity, claims, exp)

    async def _key(self, kid: str | None) -> Any:
        """The key for ``kid``, fetching the JWKS first when it is stale or does not have it."""
        if self._jwks_url is not None:
            fresh = self._fetched_at is not None and time.monotonic() - self._fetched_at < self._jwks_ttl
            if not fresh or _pick(self._keys, kid) is None:
                await self._refresh()
        found = _pick(self._keys, kid)
        if found is not None:
            return found
        if self._failing:
            raise Reject(503, "authentication unavailable")
        raise InvalidToken("unknown key")

    async def _refresh(self) -> None:
        """Fetch the JWKS once, unless another task did while this one waited, or one was tried too recently."""
        attempts = self._attempts
        async with self._lock:
            now = time.monotonic()
            if self._attempts != attempts or (
                self._attempted_at is not None and now - self._attempted_at < self._refresh_interval
            ):
                return
            self._attempted_at, self._attempts = now, attempts + 1
            try:
                self._keys = await anyio.to_thread.run_sync(self._fetch)
            except Exception as exc:  # whatever the network or the document throws: the keys are unavailable
                self._failing = True
                logger.warning("could not fetch the JWKS from %s: %s", self._jwks_url, exc)
                return
            self._fetched_at, self._failing = time.monotonic(), False

    def _fetch(self) -> _Keys:
        """The signing keys of the JWKS at ``jwks_url`` (in a worker thread)."""
        import jwt

        assert self._jwks_url is not None
        request = urllib.request.Request(self._jwks_url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = response.read(_MAX_JWKS + 1)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection
            raise OSError(f"HTTP {exc.code} {exc.reason}") from None
        if len(body) > _MAX_JWKS:
            raise ValueError(f"the document is larger than {_MAX_JWKS} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("the document is not a JSON object")
        keyset = jwt.PyJWKSet.from_dict(document)
        return tuple((key.key_id, key) for key in keyset if key.public_key_use in (None, "sig"))


def _reason(exc: PyJWTError) -> str:
    import jwt

    reasons = (
        (jwt.InvalidSignatureError, "bad signature"),
        (jwt.InvalidAlgorithmError, "algorithm not allowed"),
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidKeyError, "unknown key"),  # e.g. an HMAC algorithm given a public key
    )
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return {"aud": "wrong audience", "iss": "wrong issuer"}.get(exc.claim, f"missing {exc.claim} claim")
    return next((reason for cls, reason in reasons if isinstance(exc, cls)), "malformed token")


def _pick(keys: _Keys, kid: str | None) -> Any:
    if kid is None:
        return keys[0][1] if len(keys) == 1 else None
    return next((key for key_id, key in keys if key_id == kid), None)


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken("malformed token")
    return float(value)


def _source(key: Any, keys: Mapping[str, Any] | None, jwks_url: str | None) -> _Keys:
    """The keys given (none yet for a JWKS); never shows a key in an error."""
    if sum(source is not None for source in (key, keys, jwks_url)) != 1:
        raise ValueError("give exactly one of key=, keys= or jwks_url=")
    if isinstance(key, str | bytes) and not key:
        raise ValueError("key is empty")
    if keys is not None:
        if not isinstance(keys, Mapping) or not keys or not all(isinstance(kid, str) and kid for kid in keys):
            raise TypeError("keys is a non-empty mapping of key ids (non-empty strings) to keys")
        return tuple(keys.items())
    if jwks_url is not None:
        parts = urlsplit(jwks_url) if isinstance(jwks_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"jwks_url is an http(s) URL, got {jwks_url!r}")
        return ()
    return ((None, key),)


def _names(what: str, values: Iterable[str]) -> tuple[str, ...]:
    found = () if isinstance(values, str) else tuple(values)
    if isinstance(values, str) or not all(isinstance(value, str) and value for value in found):
        raise TypeError(f"{what} is a list of non-empty strings, got {values!r}")
    return found


def _seconds(what: str, value: float, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{what} is a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not zero):
        raise ValueError(f"{what} is {'non-negative' if zero else 'positive'}, got {value!r}")
    return float(value)
