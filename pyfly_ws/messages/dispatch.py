"""``Dispatcher``: a message-level endpoint, prepared once; the handler the lifecycle runs for each session.

Discovery makes one per ``@websocket_mapping`` class: its routes, hooks,
codec and envelope are read and checked there, so a bad declaration fails at
start-up, not on the first message. :meth:`Dispatcher.handler` binds it to
the controller instance; each session then runs a
:class:`~pyfly_ws.messages.conversation.Conversation`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..exceptions import ConfigurationError
from ..mapping.messages import MessageOptions
from ..session.session import WebSocketSession
from .codecs import JSON
from .conversation import Bound
from .frames import Frames
from .routes import Route, hook_names, routes_of

__all__ = ["Dispatcher"]


class Dispatcher:
    """Everything about a message-level endpoint that does not change from one session to the next."""

    __slots__ = ("controller", "options", "routes", "hooks", "frames", "name", "_bound")

    def __init__(self, controller: type, options: MessageOptions) -> None:
        self.controller = controller
        self.options = options
        self.routes: dict[str, Route] = routes_of(controller)
        """The mapped message types."""
        self.hooks = hook_names(controller)
        """The hooks the controller defines (``on_connect``, ``on_message``, ``on_disconnect``), async or not."""
        if not self.routes and "on_message" not in self.hooks:
            raise ConfigurationError(
                f"{controller.__qualname__} is a message-level endpoint (@websocket_mapping on the class) "
                "with no @message_mapping method and no on_message: it could answer nothing"
            )
        self.frames = Frames(options.codec or JSON, options.envelope)
        """Writes the endpoint's outgoing frames."""
        self.name = controller.__qualname__
        self._bound: Bound | None = None

    def __repr__(self) -> str:
        return f"<Dispatcher {self.name} types={sorted(self.routes)}>"

    def handler(self, controller: Any) -> Callable[[WebSocketSession], Awaitable[None]]:
        """The session handler for ``controller`` (the endpoint's instance), bound once and then reused."""
        bound = self._bound
        if bound is None or bound.instance is not controller:
            bound = self._bound = Bound(controller, self.routes, self.hooks, self.frames, self.options, self.name)
        return bound.serve
