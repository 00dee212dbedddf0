"""Headless Chromium driven over the DevTools protocol: what the browser test and the
README's screenshot (bench/report_screenshot.py) open report.html with.

Chromium comes from the system packages (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "chrome") if shutil.which(n)), None
)


class DevTools:
    """A minimal Chrome DevTools Protocol client over one websocket (flattened sessions)."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, session: str, expr: str):
        """The value of a JavaScript expression in the tab (promises awaited)."""
        result = self.call("Runtime.evaluate", session, expression=expr, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def node_text(self, session: str, node: int) -> str:
        """The rendered text (innerText) of a DOM node, by its node id."""
        obj = self.call("DOM.resolveNode", session, nodeId=node)["object"]["objectId"]
        fn = "function() { return this.innerText; }"
        reply = self.call("Runtime.callFunctionOn", session, objectId=obj, returnByValue=True, functionDeclaration=fn)
        return reply["result"]["value"]

    def open(self, path: Path, width: int = 1280, height: int = 900) -> str:
        """A new tab showing path, loaded; returns its session id."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session)
        self.call(
            "Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=False
        )
        self.call("Page.navigate", session, url=path.resolve().as_uri())
        deadline = time.monotonic() + 60
        while self.evaluate(session, "document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path.name} did not finish loading")
            time.sleep(0.2)
        return session


@contextlib.contextmanager
def chromium(env: dict | None = None):
    """A headless Chromium and a DevTools client connected to it."""
    if CHROMIUM is None:
        raise FileNotFoundError("no Chromium found: install it (Debian/Ubuntu: apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="chromium-")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
    ]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions"]
    proc = subprocess.Popen(
        [CHROMIUM, *flags, "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and url is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            url = m.group(1) if m else None
        if url is None:
            raise RuntimeError(f"Chromium did not start its DevTools endpoint (exit {proc.poll()})")
        from websockets.sync.client import connect

        with connect(url, max_size=64 << 20, open_timeout=30, proxy=None) as ws:
            yield DevTools(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
