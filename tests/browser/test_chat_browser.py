"""Two Chromium tabs on two chat server processes sharing Redis: a message typed in one appears in the other.

The page speaks the message envelope: each tab sees the other's messages (``chat.message``
pushes), its own marked "sent" when the reply to its ``chat.send`` arrives, an error frame for
a blank message, and the room's events (``room.joined``, ``room.here``, ``room.left``).

Needs Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) and the
``playwright`` package; Playwright's own browser download is not used. A missing browser
fails the test with the command to run, it never skips. The screenshot of both tabs is
written to ``.artifacts/chat-two-tabs.png``.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pyfly_ws_conformance.servers import running
from tests.redis.redis_server import RedisServer, free_port, redis_server

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
SECRET = "the browser tests' secret, 32 characters or more"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium on PATH: apt-get install chromium (Debian's package)", pytrace=False)
    return found


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def two_chats(redis: RedisServer) -> Iterator[tuple[str, str]]:
    """Two processes serving ``examples.chat:app``, sharing rooms through ``redis``; their http:// bases."""
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_CHAT_REDIS": redis.url,
        "PYFLY_WS_CHAT_SECRET": SECRET,  # one secret: a token from one process signs in on the other
    }
    with ExitStack() as stack:
        bases = [stack.enter_context(running("uvicorn-sansio", "examples.chat:app", env=env)) for _ in range(2)]
        yield bases[0].replace("ws://", "http://"), bases[1].replace("ws://", "http://")


def test_a_message_typed_in_one_tab_appears_in_the_other(two_chats: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    first, second = two_chats
    with tempfile.TemporaryDirectory(prefix="pyfly-ws-chromium-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 640, "height": 420},
        )
        try:
            ann = browser.new_page()
            ann.goto(f"{first}/?name=ann&room=lobby")
            expect(ann.locator("#status")).to_have_text("in lobby as ann", timeout=TIMEOUT_MS)  # chat.welcome
            bob = browser.new_page()
            bob.goto(f"{second}/?name=bob&room=lobby")
            expect(bob.locator("#status")).to_have_text("in lobby as bob", timeout=TIMEOUT_MS)
            # The room's events cross the two processes: room.joined to ann, room.here back to bob.
            expect(ann.locator("#messages li.system").last).to_have_text("bob joined", timeout=TIMEOUT_MS)
            expect(ann.locator("#people li")).to_have_text(["ann", "bob"], timeout=TIMEOUT_MS)
            expect(bob.locator("#people li")).to_have_text(["ann", "bob"], timeout=TIMEOUT_MS)
            expect(ann.locator("#count")).to_have_text("2", timeout=TIMEOUT_MS)
            expect(bob.locator("#count")).to_have_text("2", timeout=TIMEOUT_MS)

            ann.locator("#text").fill("hello from the first process")
            ann.locator("#text").press("Enter")
            expect(bob.locator("#messages li").last).to_have_text(
                "ann: hello from the first process", timeout=TIMEOUT_MS
            )
            mine = ann.locator("#messages li.mine").last
            expect(mine.locator(".receipt")).to_have_text("sent", timeout=TIMEOUT_MS)  # the reply to chat.send
            expect(mine).to_contain_text("ann: hello from the first process")
            bob.locator("#text").fill("and back from the second")
            bob.locator("#say button").click()
            expect(ann.locator("#messages li").last).to_have_text("bob: and back from the second", timeout=TIMEOUT_MS)
            expect(bob.locator("#messages li.mine .receipt").last).to_have_text("sent", timeout=TIMEOUT_MS)

            ann.locator("#text").fill("   ")  # blank: refused by the payload's validation, with an error frame
            ann.locator("#text").press("Enter")
            expect(ann.locator("#messages li.error").last).to_have_text(
                "error invalid_payload: the text is blank", timeout=TIMEOUT_MS
            )
            expect(ann.locator("#messages li.mine .receipt").last).to_have_text("not sent", timeout=TIMEOUT_MS)
            expect(bob.locator("#messages li")).to_have_count(2)  # ann's line and its own: nothing of the blank one
            _screenshot_side_by_side(browser, [ann, bob], ARTIFACTS / "chat-two-tabs.png")

            bob.close()
            expect(ann.locator("#messages li.system").last).to_have_text("bob left", timeout=TIMEOUT_MS)
            expect(ann.locator("#people li")).to_have_text(["ann"], timeout=TIMEOUT_MS)
        finally:
            browser.close()


def test_a_tab_signs_in_and_renews_its_token_without_reconnecting() -> None:
    """Tokens live 4 s here: the page renews its token over the open socket, twice, and goes on talking."""
    from playwright.sync_api import expect, sync_playwright

    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYFLY_WS_CHAT_TOKEN_TTL": "4",
    }
    with (
        running("uvicorn-sansio", "examples.chat:app", env=env) as ws_base,
        tempfile.TemporaryDirectory(prefix="pyfly-ws-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        base = ws_base.replace("ws://", "http://")
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            ann = browser.new_page()
            offered: list[str] = []
            ann.on("websocket", lambda ws: offered.append(ws.url))
            ann.goto(f"{base}/?name=ann&room=lobby")
            expect(ann.locator("#status")).to_have_text("in lobby as ann", timeout=TIMEOUT_MS)
            expect(ann.locator("#token")).to_contain_text("token until", timeout=TIMEOUT_MS)
            first = ann.evaluate("auth.expires_at")
            assert offered == [f"{ws_base}/ws/chat/lobby"], offered  # no token, nor name, in the URL
            # Warned halfway through each token, the page gets a fresh one from /token and sends auth.refresh.
            expect(ann.locator("#token")).to_have_attribute("data-refreshes", "2", timeout=TIMEOUT_MS)
            assert ann.evaluate("auth.expires_at") > first
            time.sleep(max(0.0, first - time.time()) + 0.5)  # past the first token's expiry
            assert ann.evaluate("generation") == 1, "the tab reconnected instead of renewing its token"
            ann.locator("#text").fill("still signed in")
            ann.locator("#text").press("Enter")
            expect(ann.locator("#messages li.mine .receipt").last).to_have_text("sent", timeout=TIMEOUT_MS)
            expect(ann.locator("#status")).to_have_text("in lobby as ann")
        finally:
            browser.close()


class ChatProcess:
    """``python -m examples.chat`` on a fixed port, which the test can kill and start again there."""

    def __init__(self, redis: RedisServer) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYFLY_WS_CHAT_SECRET": SECRET,
        }
        self._args = [sys.executable, "-m", "examples.chat", "--redis", redis.url, "--port", str(self.port)]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._args, env=self._env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if sock.recv(12).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the chat did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the process, as a crash would."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
            self._process = None


@contextmanager
def chat_process(redis: RedisServer) -> Iterator[ChatProcess]:
    chat = ChatProcess(redis)
    chat.start()
    try:
        yield chat
    finally:
        chat.kill()


def test_a_tab_that_lost_its_connection_reconnects_and_shows_what_it_missed(redis: RedisServer) -> None:
    """Bob's server dies; Ann goes on talking; the server comes back and Bob's tab shows every message, once."""
    from playwright.sync_api import expect, sync_playwright

    with (
        chat_process(redis) as first,
        chat_process(redis) as second,
        tempfile.TemporaryDirectory(prefix="pyfly-ws-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 640, "height": 420},
        )
        try:
            ann = browser.new_page()
            ann.goto(f"{first.base}/?name=ann&room=den")
            expect(ann.locator("#status")).to_have_text("in den as ann", timeout=TIMEOUT_MS)
            bob = browser.new_page()
            bob.goto(f"{second.base}/?name=bob&room=den")
            expect(bob.locator("#status")).to_have_text("in den as bob", timeout=TIMEOUT_MS)
            expect(ann.locator("#people li")).to_have_text(["ann", "bob"], timeout=TIMEOUT_MS)
            ann.locator("#text").fill("before")
            ann.locator("#text").press("Enter")
            expect(bob.locator("#messages li").last).to_have_text("ann: before", timeout=TIMEOUT_MS)

            second.kill()
            expect(bob.locator("#status")).to_contain_text("reconnecting", timeout=TIMEOUT_MS)
            for text in ("one", "two", "three"):
                ann.locator("#text").fill(f"while bob was away: {text}")
                ann.locator("#text").press("Enter")
                expect(ann.locator("#messages li.mine .receipt").last).to_have_text("sent", timeout=TIMEOUT_MS)
            time.sleep(2)  # away for a few seconds
            second.start()

            expect(bob.locator("#status")).to_have_text("in den as bob", timeout=TIMEOUT_MS)
            expect(bob.locator("#messages li.recovered")).to_have_text(
                ["reconnected: 3 missed messages restored"], timeout=TIMEOUT_MS
            )
            lines = bob.locator("#messages li:not(.system)")
            expect(lines).to_have_text(
                [
                    "ann: before",
                    "ann: while bob was away: one",
                    "ann: while bob was away: two",
                    "ann: while bob was away: three",
                ],
                timeout=TIMEOUT_MS,
            )
            ann.locator("#text").fill("welcome back")
            ann.locator("#text").press("Enter")
            expect(bob.locator("#messages li").last).to_have_text("ann: welcome back", timeout=TIMEOUT_MS)
            _screenshot_side_by_side(browser, [ann, bob], ARTIFACTS / "chat-reconnected.png")
        finally:
            browser.close()


def _screenshot_side_by_side(browser: BrowserContext, pages: list[Page], path: Path) -> None:
    """One PNG showing every tab, left to right."""
    images = [base64.b64encode(page.screenshot()).decode() for page in pages]
    sheet = browser.new_page()
    sheet.set_viewport_size({"width": 1300, "height": 440})
    cells = "".join(f'<img style="border:1px solid #888;margin:4px" src="data:image/png;base64,{i}">' for i in images)
    sheet.set_content(f'<body style="margin:0;display:flex">{cells}</body>')
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, "the screenshot is suspiciously small"
