"""Open the built site in headless Chromium and check three pages render.

Usage (from the repository root, after building the site)::

    python docs/check_site.py docs/_build/html [--screenshots DIR] [--chromium PATH]

The site is served over HTTP from a local server, and Chromium (Debian's
``chromium`` package; no browser is downloaded) is driven over the DevTools
protocol with ``websocket-client``. For the home page, an API page and a
notebook page it checks that the page loads, that its main content is there,
that every image (the figures) loaded with a non-zero size, and that the
console shows no error, no uncaught exception and no failed request. A
screenshot of each page is saved (default: ``docs/_build/screenshots``).
Exits with 1, listing the problems, when a check fails.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websocket  # websocket-client

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1280,1000",
]


@dataclass(frozen=True)
class PageCheck:
    """A page of the site and what it must show."""

    name: str
    path: str
    selector: str  # CSS selector of the content that must be there
    min_matches: int
    min_images: int  # loaded images (figures) the page must show


PAGES = (
    PageCheck("home", "index.html", "article h1", 1, 1),
    PageCheck("api", "api/schedules.html", "dl.py.function", 20, 0),
    PageCheck("notebook", "notebooks/01_gallery.html", "div.cell_output", 1, 1),
)

# In the page: the content matches and the state of every image.
PROBE = """(() => {
  const images = Array.from(document.images).map(i => ({
    src: i.currentSrc.slice(0, 120), complete: i.complete, width: i.naturalWidth}));
  return JSON.stringify({
    title: document.title,
    matches: document.querySelectorAll(%s).length,
    images: images,
    ready: document.readyState,
  });
})()"""


class DevTools:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout:.0f} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break


def console_problems(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions and failed requests among the events."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            problems.append(f"uncaught exception: {text}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            problems.append(f"log error: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            response = params["response"]
            problems.append(f"HTTP {response['status']}: {response['url']}")
    return problems


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``root`` on a free local port, quietly, in a thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start_chromium(chromium: str, profile: Path) -> tuple[subprocess.Popen, int]:
    """Start headless Chromium with a fresh profile; return it and its DevTools port."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    command += ["--remote-debugging-port=0", "about:blank"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{chromium} did not start (exit status {process.poll()})")
        time.sleep(0.1)
    return process, int(port_file.read_text().splitlines()[0])


def page_target(port: int) -> str:
    """The DevTools websocket URL of the browser's page."""
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            targets = json.load(response)
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        if time.monotonic() > deadline:
            raise RuntimeError("Chromium has no page target")
        time.sleep(0.2)


def check_page(tools: DevTools, base: str, page: PageCheck, screenshots: Path) -> list[str]:
    """Load one page, save its screenshot and return what is wrong with it."""
    tools.events.clear()
    tools.call("Page.navigate", url=base + page.path)
    tools.wait_for("Page.loadEventFired", timeout=60)
    tools.drain(1.0)  # late scripts, console messages and image decodes
    probe = PROBE % json.dumps(page.selector)
    state = json.loads(tools.call("Runtime.evaluate", expression=probe)["result"]["value"])
    shot = tools.call("Page.captureScreenshot", format="png")
    target = screenshots / f"{page.name}.png"
    target.write_bytes(base64.b64decode(shot["data"]))
    problems = [f"{page.path}: {p}" for p in console_problems(tools.events)]
    if state["matches"] < page.min_matches:
        problems.append(
            f"{page.path}: {state['matches']} '{page.selector}' (want >= {page.min_matches})"
        )
    broken = [i["src"] for i in state["images"] if not i["complete"] or i["width"] == 0]
    problems += [f"{page.path}: image did not load: {src}" for src in broken]
    loaded = len(state["images"]) - len(broken)
    if loaded < page.min_images:
        problems.append(f"{page.path}: {loaded} images loaded (want >= {page.min_images})")
    print(
        f"{page.name:>8}: {page.path} | title {state['title']!r} | {state['matches']} "
        f"'{page.selector}' | {loaded} images loaded | screenshot {target}"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the built site in headless Chromium.")
    parser.add_argument("site", type=Path, help="the built HTML folder (docs/_build/html)")
    parser.add_argument("--screenshots", type=Path, help="default: SITE/../screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"{site} has no index.html: build the site first")
    screenshots = args.screenshots or site.parent / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="optax_warmup_chromium_") as profile:
        process, port = start_chromium(args.chromium, Path(profile))
        try:
            tools = DevTools(page_target(port))
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.call(f"{domain}.enable")
            tools.call(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=1000,
                deviceScaleFactor=1,
                mobile=False,
            )
            for page in PAGES:
                problems += check_page(tools, base, page, screenshots)
            tools.ws.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            server.shutdown()
    if problems:
        print("site check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"site check passed: {len(PAGES)} pages, screenshots in {screenshots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
