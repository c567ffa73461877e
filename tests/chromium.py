"""Headless Chromium for tests that look at a page as a person sees it.

Debian's chromium package (installed by bin/setup) is driven over the DevTools protocol on a
pipe (--remote-debugging-pipe, no extra package): a test opens a page, waits in real time for a
condition, evaluates JavaScript, collects every exception and console error the page raised,
reads the page's own error box (``#js-errors``, when it has one) and takes a screenshot, of the
window or of the whole page. Fixed --virtual-time-budget runs proved flaky here: Chromium
sometimes ran the page's timers only after the budget was spent.

``browser_fixture(window)`` makes a module-scoped pytest fixture that opens pages in one
Chromium for the module; used by tests/test_viz.py and tests/test_report.py.
"""

from __future__ import annotations

import base64
import io
import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

INSTALL_CHROMIUM = "Chromium is not installed: run bin/setup, or: sudo apt-get install -y chromium"


class Chromium:
    """Headless Chromium driven over the DevTools protocol on fds 3 and 4 (messages end with NUL)."""

    def __init__(self, executable: str, profile: Path, log: Path, window: tuple[int, int] = (1200, 900)):
        self.window = window
        to_child, self._send = os.pipe()
        self._receive, from_child = os.pipe()

        def wire() -> None:  # in the child: Chromium reads commands on fd 3 and answers on fd 4
            # Copies first: either pipe end may itself be fd 3 or 4. dup2 leaves 3 and 4 inheritable.
            reads, writes = os.dup(to_child), os.dup(from_child)
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        # The background-networking flags keep Chromium from calling home on a machine with a closed network.
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}", "--remote-debugging-pipe",
             "about:blank"],
            # Not pass_fds=(3, 4): that fails (EBADF) when this process has no fd 3 or 4 open. Python's own
            # descriptors are not inheritable, so close_fds=False hands Chromium only 3 and 4 (and stdio).
            close_fds=False, preexec_fn=wire, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        os.close(to_child)
        os.close(from_child)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._receive, selectors.EVENT_READ)
        self._buffer, self._next_id = b"", 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                raise TimeoutError("Chromium did not answer over the DevTools pipe")
            chunk = os.read(self._receive, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium exited ({self.process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept in self.events."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def open(self, page: Path | str) -> Tab:
        """A new tab on a file (a Path) or a URL (a str), once the page has loaded."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        tab = Tab(self, self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"])
        # Log reports what the page could not load (a missing image) as an error entry.
        for domain in ("Page", "Runtime", "Log"):
            tab.call(f"{domain}.enable")
        tab.call("Emulation.setDeviceMetricsOverride", width=self.window[0], height=self.window[1],
                 deviceScaleFactor=1, mobile=False)
        tab.call("Page.bringToFront")  # a background tab's timers are throttled to one a second
        tab.call("Page.navigate", url=page if isinstance(page, str) else page.as_uri())
        tab.wait_for("document.readyState === 'complete'")
        return tab

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._send)
        os.close(self._receive)
        self._log.close()


class Tab:
    """One page in Chromium: evaluate JavaScript, wait for a condition, screenshot, errors raised."""

    def __init__(self, browser: Chromium, session: str):
        self.browser, self.session = browser, session

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.call(method, session=self.session, **params)

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"the page never satisfied: {expression}")

    def screenshot(self, full_page: bool = False) -> Image.Image:
        """The window (or the whole page, as tall as it is) as an RGB image."""
        # Two animation frames: the canvas has painted what the last layout step placed.
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))", True)
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, "
                                          "document.documentElement.scrollHeight]")
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}
        data = self.call("Page.captureScreenshot", **params)["data"]
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and load errors of this page, and what its error box shows."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", "?"))
            elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif event["method"] == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                found.append(f"{entry.get('text', '?')} {entry.get('url', '')}".strip())
        box = self.evaluate("(document.getElementById('js-errors') || {}).textContent || ''")
        return found + ([f"error box: {box}"] if box else [])


def browser_fixture(window: tuple[int, int]) -> Callable[..., Iterator[Callable[[Path], Tab]]]:
    """A module-scoped fixture that opens pages in one headless Chromium with this window size.

    A test that uses it fails (does not skip) when Chromium is missing: the check is part of the suite.
    """
    @pytest.fixture(scope="module")
    def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], Tab]]:
        started: list[Chromium] = []
        folder = tmp_path_factory.mktemp("chromium")

        def open_page(page: Path) -> Tab:
            if not started:
                executable = shutil.which("chromium") or shutil.which("chromium-browser")
                if executable is None:
                    pytest.fail(INSTALL_CHROMIUM)
                started.append(Chromium(executable, folder / "profile", folder / "chromium.log", window))
            return started[0].open(page)

        yield open_page
        for browser in started:
            browser.close()

    return chromium
