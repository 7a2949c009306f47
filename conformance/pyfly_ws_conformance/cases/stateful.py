"""A stateful property: random conversations observed identically on the adapter and the reference.

Hypothesis drives one conversation at a time against two applications with
the same controllers: the adapter under test (over the current transport) and
the framework-free ``asgi`` reference adapter (in-process). Each step sends a
command and a message; what the client observes (the reply, its kind, or the
close code) must be the same on both.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from pyfly_ws import WebSocketDisconnect, WebSocketSession, request_mapping, rest_controller, websocket_mapping
from pyfly_ws.testing import TestSession

from ..context import CaseContext
from ..registry import case
from .properties import json_values

KINDS = ("text", "bytes", "json")


@rest_controller
@request_mapping("/stateful")
class ScriptedController:
    """Obeys JSON commands: echo the next message, decode JSON, expect a kind, or close."""

    @websocket_mapping("/scripted")
    async def scripted(self, session: WebSocketSession) -> None:
        await session.accept()
        while True:
            command = await session.receive_json()
            op = command["op"]
            if op == "echo":
                await session.send(await session.receive())
            elif op == "json":
                await session.send_json(await session.receive_json(command["mode"]), command["mode"])
            elif op == "expect":
                await getattr(session, f"receive_{command['kind']}")()
                await session.send_text("as expected")
            elif op == "close":
                await session.close(command["code"], command["reason"])
                return


Observation = tuple[str, Any]


def _observe(ctx: CaseContext, ws: TestSession, steps: list[tuple[str, Any]]) -> Observation:
    try:
        for method, argument in steps:
            ctx.call(getattr(ws, method), *argument)
        got = ctx.call(ws.receive)
        return (type(got).__name__, got)
    except WebSocketDisconnect as exc:
        return ("closed", exc.code)


def machine_for(ctx: CaseContext, compare_reasons: bool) -> type[RuleBasedStateMachine]:
    """A state machine class bound to this run's two applications."""

    class Conversation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.contexts = [ctx.open("/stateful/scripted"), ctx.open("/stateful/scripted", client=ctx.reference)]
            self.sessions = [cm.__enter__() for cm in self.contexts]
            self.open = True
            self.log: list[tuple[Observation, Observation]] = []

        def step(self, *steps: tuple[str, Any]) -> None:
            subject, reference = (_observe(ctx, ws, list(steps)) for ws in self.sessions)
            self.log.append((subject, reference))
            assert subject == reference, f"adapter observed {subject!r}, reference {reference!r}"
            if subject[0] == "closed":
                self.open = False

        @precondition(lambda self: self.open)
        @rule(message=st.text(max_size=64) | st.binary(max_size=64))
        def echo(self, message: str | bytes) -> None:
            self.step(("send_json", ({"op": "echo"},)), ("send", (message,)))

        @precondition(lambda self: self.open)
        @rule(value=json_values, mode=st.sampled_from(("text", "binary")))
        def json(self, value: Any, mode: str) -> None:
            self.step(("send_json", ({"op": "json", "mode": mode},)), ("send_json", (value, mode)))

        @precondition(lambda self: self.open)
        @rule(kind=st.sampled_from(KINDS), message=st.sampled_from(["plain", b"bin", "{}", b"\xff"]))
        def expect(self, kind: str, message: str | bytes) -> None:
            self.step(("send_json", ({"op": "expect", "kind": kind},)), ("send", (message,)))

        @precondition(lambda self: self.open)
        @rule(code=st.sampled_from([1000, 1001, 1008, 1011, 3000, 4999]), reason=st.sampled_from(["", "bye", "ç"]))
        def server_close(self, code: int, reason: str) -> None:
            self.step(("send_json", ({"op": "close", "code": code, "reason": reason},)))
            if compare_reasons:
                reasons = [ws.close_reason for ws in self.sessions]
                assert reasons == [reason, reason], reasons

        @precondition(lambda self: not self.open)
        @rule()
        def receive_after_close(self) -> None:
            self.step()  # receiving again raises the same WebSocketDisconnect on both

        @invariant()
        def same_state(self) -> None:
            codes = [ws.close_code for ws in self.sessions]
            assert codes[0] == codes[1], f"close codes differ: adapter {codes[0]}, reference {codes[1]}"

        def teardown(self) -> None:
            for cm in self.contexts:
                cm.__exit__(None, None, None)

    return Conversation


@case("properties.stateful_matches_reference", server_requires=("protocol_close_codes",))
def stateful_matches_reference(ctx: CaseContext) -> None:
    """Random conversations (echo, JSON, wrong kinds, closes) look the same as on the reference adapter."""
    compare_reasons = not ctx.harness.capabilities.lacking("close_reasons") and (
        ctx.server is None or ctx.server.close_reason
    )
    run_state_machine_as_test(
        machine_for(ctx, compare_reasons),
        settings=settings(
            max_examples=15,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
