"""A real headless Chromium (the system's package, driven by Playwright) against the local stack."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chrome reports every 4xx answer as a console error; the API's deliberate refusals (a 404 for
# another user's flow, a 422 for a refused value) are what some tests provoke, so only those lines
# are let through. Script errors, CSP violations and any other console error fail the test.
_EXPECTED_NETWORK_ERROR = re.compile(
    r"^Failed to load resource: the server responded with a status of (404|422)"
)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run does it)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """One signed-out browser tab on the console, recording what its console says."""

    def __init__(self, context: object, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()  # type: ignore[attr-defined]
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on(
            "dialog", lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
        )

    def _console(self, message: object) -> None:
        if message.type == "error" and not _EXPECTED_NETWORK_ERROR.match(message.text):  # type: ignore[attr-defined]
            self.errors.append(f"{message.text} at {message.location}")  # type: ignore[attr-defined]

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base_url}/{fragment}")

    def sign_in(self, token: str) -> None:
        self.open()
        self.page.fill("#token", token)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("text=Sign out")

    def shot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def console(browser, stack) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = Console(context, stack.api_url)
    yield tab
    context.close()
    assert tab.errors == [], f"the browser console reported errors: {tab.errors}"


@pytest.fixture
def another_console(browser, stack) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Console(context, stack.api_url)
    yield tab
    context.close()
    assert tab.errors == [], f"the browser console reported errors: {tab.errors}"
