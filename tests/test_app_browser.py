"""A real browser (Debian's chromium, headless) loads the dashboard, runs an example with Grad-CAM, finds
the PSPI and the heatmaps on the page, and asks for a counterfactual edit."""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

import app  # noqa: F401  (sets the offline environment before Gradio is imported)
from app.examples import examples
from app.launch import LaunchOptions, launch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed "
                                "(.ci/run installs it)")

#: Chromium flags for a closed network: no background connections, no sandbox (root in CI).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_browser_runs_an_example_and_shows_pspi_and_heatmaps(tmp_path):
    from playwright.sync_api import sync_playwright

    caption = next(e.caption for e in examples() if e.palsy_side is not None and e.pspi_unaffected >= 8)
    port = _free_port()
    demo = launch(LaunchOptions(port=port), block=False)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load", timeout=120_000)
            page.get_by_label("Or try an example").wait_for(timeout=120_000)
            assert "Research software, not a medical device" in page.content()
            page.get_by_label("Or try an example").click()
            page.get_by_role("option", name=caption).click()
            headline = page.get_by_role("heading", name=re.compile(r"^PSPI \d+\.\d of 16$"))
            headline.wait_for(timeout=120_000)
            page.get_by_text("deletion AUC").first.wait_for(timeout=120_000)  # faithfulness arrived
            text = page.inner_text("body")
            assert "Affected side: patient's" in text and "unaffected half" in text
            shown = page.locator("img[src*='file=']").count()
            assert shown >= 3  # the annotated face and the two heatmaps
            assert "PSPI from the landmarks (0–16)" in text and "AU4 brow lowering" in text
            page.get_by_text("What if: the score with more of one expression").click()
            page.get_by_role("button", name="Edit the photo and score it again").click()
            page.get_by_text(re.compile(r"half \(edited[^)]*\): \d+\.\d -> \d+\.\d")).first.wait_for(
                timeout=120_000)
            assert page.locator("img[src*='file=']").count() >= shown + 2  # both faces shown
            shot = Path(os.environ.get("STROKEPAIN_SCREENSHOT", tmp_path / "dashboard.png"))
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            browser.close()
    finally:
        demo.close()
