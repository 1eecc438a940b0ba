"""The demo report in headless Chromium: no console errors, every image decodes, no network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wergap.demo import run_demo

from .browser import load_report, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, shared_data):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("browser")
    boundaries = shared_data / "boundaries" / "us_states_cb2016_simplified.geojson"
    result = run_demo(out / "report.html", boundaries=boundaries)
    screenshot = out / "report.png"
    return result, load_report(out / "report.html", screenshot), screenshot


def test_no_console_or_page_errors(loaded):
    _, page, _ = loaded
    assert page.console_errors == [] and page.page_errors == []
    assert page.title == "wergap disparity report"


def test_every_image_decodes_and_is_inline(loaded):
    result, page, _ = loaded
    # a figure per method, a map/split/scatter figure per method that has one, one per attribute
    assert len(page.images) >= len(result.methods) + len(result.disaggregated)
    for image in page.images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
        assert image["scheme"] == "data", image


def test_no_network_request(loaded):
    _, page, _ = loaded
    assert page.network_requests == []


#: The screenshot in the docs; refreshed by ``WERGAP_UPDATE_SCREENSHOT=1 pytest -m browser``.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report_screenshot.png"
MAX_SCREENSHOT_BYTES = 300_000


def test_screenshot_saved(loaded):
    _, _, screenshot = loaded
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("WERGAP_UPDATE_SCREENSHOT"):
        from PIL import Image

        tall = screenshot.with_name("docs.png")
        load_report(screenshot.with_name("report.html"), tall, height=2300)
        Image.open(tall).convert("RGB").quantize(colors=256).save(DOCS_SCREENSHOT, optimize=True)
    if DOCS_SCREENSHOT.exists():
        assert DOCS_SCREENSHOT.stat().st_size < MAX_SCREENSHOT_BYTES


def test_the_harness_catches_what_it_checks(tmp_path):
    """A page with a remote image, a broken inline image and a script error fails every check."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    page_path = tmp_path / "bad.html"
    page_path.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://198.51.100.7/x.png" alt="remote">'
        '<img src="data:image/png;base64,AAAA" alt="broken">'
        "<script>undefined_function()</script></body></html>",
        encoding="utf-8",
    )
    page = load_report(page_path)
    assert page.network_requests == ["http://198.51.100.7/x.png"]
    assert page.page_errors and "undefined_function" in page.page_errors[0]
    assert [i["width"] for i in page.images] == [0, 0]
