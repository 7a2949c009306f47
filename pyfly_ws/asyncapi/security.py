"""An endpoint's authenticator as AsyncAPI: the security scheme of its handshake, and the data of its auth messages.

The ready-made authenticators map to AsyncAPI 3.0.0 security schemes (a bearer
token, or an ``httpApiKey`` in a header, cookie or query parameter); a token in
the first message has no scheme of its own and is described by its ``auth``
message instead, as is any other authenticator's by its description.
"""

from __future__ import annotations

from typing import Any

from ..auth.tokens import CookieToken, HeaderToken, MessageToken, QueryToken, SubprotocolToken
from ..mapping.auth import Authenticator
from ..session.credentials import EXPIRED_CLOSE

__all__ = ["EXPIRING", "REFRESH", "SIGNED", "scheme_of"]

REFRESH: dict[str, Any] = {
    "type": "object",
    "properties": {"token": {"type": "string", "description": "A fresh token for the same identity."}},
    "required": ["token"],
}
"""The data of ``auth`` and ``auth.refresh``."""
SIGNED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "identity": {"type": "string"},
        "expires_at": {
            "type": ["number", "null"],
            "description": "Seconds since the epoch after which the token must be refreshed; null: never.",
        },
    },
    "required": ["identity", "expires_at"],
}
"""The data of the reply to ``auth`` and ``auth.refresh``: who the session speaks for now, and until when."""
EXPIRING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "expires_at": {
            "type": "number",
            "description": f"Seconds since the epoch when the session closes ({EXPIRED_CLOSE}).",
        },
        "seconds": {"type": "number", "description": "Seconds left until then."},
    },
    "required": ["expires_at", "seconds"],
}
"""The data of the push ``auth.expiring``."""


def scheme_of(authenticator: Authenticator) -> tuple[str, dict[str, Any]] | None:
    """The name and AsyncAPI security scheme of ``authenticator``'s handshake token; ``None``: it has none."""
    if isinstance(authenticator, MessageToken):
        return None
    if isinstance(authenticator, HeaderToken):
        if authenticator.scheme == "bearer":  # kept lower-case
            return "bearerHeader", {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer`."}
        scheme = authenticator.scheme
        return f"{scheme}Header", _api_key("Authorization", "header", f"`Authorization: {scheme} <token>`.")
    if isinstance(authenticator, SubprotocolToken):
        offered = ", ".join(f"`{name}`" for name in authenticator.protocols)
        said = (
            f"The token offered as the subprotocol `{authenticator.prefix}<token>` beside one of {offered}: the "
            "session is accepted with that one, never with the token."
        )
        return "subprotocolToken", _api_key("Sec-WebSocket-Protocol", "header", said)
    if isinstance(authenticator, CookieToken):
        only = "only pages of the origins the endpoint allows may connect"
        return f"cookie.{authenticator.name}", _api_key(authenticator.name, "cookie", f"The token in a cookie; {only}.")
    if isinstance(authenticator, QueryToken):
        return f"query.{authenticator.name}", _api_key(
            authenticator.name, "query", "The token in the URL's query string."
        )
    return None


def _api_key(name: str, where: str, description: str) -> dict[str, Any]:
    return {"type": "httpApiKey", "name": name, "in": where, "description": description}
