"""A live server on a seeded demo district, and Debian's Chromium driven by Playwright.

The browser is the system one (`/usr/bin/chromium`, apt package `chromium`); Playwright never
downloads a browser here. Screenshots go to `test-artifacts/` (gitignored, kept by CI).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from werkzeug.serving import make_server

from marketplace import create_app
from seed.demo import load_demo
from tests.conftest import TEST_SECRET

CHROMIUM = os.environ.get("MARKETPLACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, _migrated_template: Path) -> Iterator[str]:
    """The app on 127.0.0.1 (random port) with the demo district loaded; yields its base URL."""
    path = tmp_path_factory.mktemp("e2e") / "demo.db"
    shutil.copyfile(_migrated_template, path)
    app = create_app({"TESTING": False, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"})
    with Session(app.extensions["db_engine"]) as session:
        load_demo(session)
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless (skipped when it is not installed, failed on CI)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: CI must install the chromium package")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
