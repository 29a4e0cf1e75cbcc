"""A real ``parley serve``, Debian's Chromium driven by Playwright, and helpers for both sides of a chat."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.server import Org, ServerProcess, running_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("browser")
    env = {"PARLEY_DATABASE_URL": f"sqlite:///{root / 'parley.db'}"}
    with running_server(root / "data", env) as s:
        yield s


@pytest.fixture
def browser_server_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a server a test starts (and restarts) itself."""
    return {"PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: run scripts/install-browser.sh")
    with sync_playwright() as pw:
        # launch() starts Chromium with a fresh temporary profile (--user-data-dir) of its own.
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def shop(server: ServerProcess) -> Iterator[Org]:
    """A fresh organization per test, so no agent of another test is ever offered its chats."""
    creds = server.bootstrap("shop-" + uuid.uuid4().hex[:10])
    org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    yield org
    org.http.close()


@dataclass
class Problems:
    """Console errors and uncaught exceptions of a page: a CSP violation shows up here."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.messages.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.messages.append(f"uncaught: {e}"))

    def scripting(self) -> list[str]:
        """Problems other than failed requests: uncaught errors, CSP violations."""
        return [m for m in self.messages if not m.startswith("Failed to load resource")]


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def new_page(browser: Browser, problems: Problems) -> Iterator[Any]:
    """Opens a page in a fresh browser context (its own sessionStorage) at a given viewport."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] = DESKTOP, **kw: Any) -> Page:
        context = browser.new_context(viewport=viewport, **kw)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
