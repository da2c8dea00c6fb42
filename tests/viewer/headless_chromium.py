"""A headless Chromium (Debian's ``chromium``) driven over the DevTools protocol: load a page,
wait, take screenshots. No browser download: the system binary or nothing."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class HeadlessPage:
    """One page of a headless Chromium of ``size`` (width, height) CSS pixels."""

    def __init__(self, size: tuple[int, int] = (800, 600)) -> None:
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
        self.size = size
        self._profile = tempfile.mkdtemp(prefix="worldsim-chromium-")
        self._process = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0",
                f"--window-size={size[0]},{size[1]}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60.0
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10).read())
        self._socket_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        self._loop = asyncio.new_event_loop()
        self._socket = self._loop.run_until_complete(self._connect())
        self._next_id = 0
        self._call("Page.enable")
        self._call(
            "Emulation.setDeviceMetricsOverride",
            width=size[0],
            height=size[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    async def _connect(self):
        import websockets

        return await websockets.connect(self._socket_url, max_size=64 * 1024 * 1024)

    def _call(self, method: str, **params):
        async def call():
            self._next_id += 1
            identifier = self._next_id
            await self._socket.send(json.dumps({"id": identifier, "method": method, "params": params}))
            while True:
                message = json.loads(await asyncio.wait_for(self._socket.recv(), timeout=60.0))
                if message.get("id") == identifier:
                    return message.get("result", {})

        return self._loop.run_until_complete(call())

    def open(self, url: str) -> None:
        self._call("Page.navigate", url=url)

    def screenshot(self) -> np.ndarray:
        """(H, W, 3) uint8 of the page now."""
        from PIL import Image

        data = base64.b64decode(self._call("Page.captureScreenshot", format="png")["data"])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    def close(self) -> None:
        try:
            if hasattr(self, "_socket"):
                self._loop.run_until_complete(self._socket.close())
                self._loop.close()
        finally:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> HeadlessPage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wait_until(condition, timeout: float = 60.0, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


__all__ = ["HeadlessPage", "chromium_binary", "wait_until"]
