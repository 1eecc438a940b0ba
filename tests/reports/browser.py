"""Load a report in headless Chromium and record what a reader's browser would see.

Shared by the browser test and by the script that refreshes ``docs/report_screenshot.png``.
Uses Playwright with the system Chromium (``/usr/bin/chromium``); Playwright's own
browser download is never used. Every request the page makes is routed through a handler
that records it and lets only the report itself (``file:``) and inline ``data:`` URIs
through, so a report that reaches for the network is caught, not merely slowed down.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("WERGAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable() -> str | None:
    """Why the browser harness cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"headless Chromium not found at {CHROMIUM} (apt-get install chromium, or set WERGAP_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright; no 'playwright install' needed)"
    return None


@dataclass
class PageLoad:
    """What happened when the report was opened."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    title: str = ""


def load_report(
    html_path: Path, screenshot: Path | None = None, *, full_page: bool = False, height: int = 1500
) -> PageLoad:
    """Open ``html_path`` in headless Chromium (1200 × ``height`` viewport); optionally save a PNG."""
    from playwright.sync_api import sync_playwright

    result = PageLoad()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": height})
            page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))

            def route(r):
                url = r.request.url
                if url.startswith("data:") or url == html_path.resolve().as_uri():
                    r.continue_()
                else:
                    result.network_requests.append(url)
                    r.abort()

            page.route("**/*", route)
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            result.title = page.title()
            result.images = page.evaluate(
                """() => Array.from(document.images).map(i => ({
                    alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
                    scheme: i.src.split(':')[0]}))"""
            )
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=full_page)
        finally:
            browser.close()
    return result
