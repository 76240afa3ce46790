import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    # A camera and a microphone for video hearings: Chromium's fake devices, allowed without asking;
    # WebRTC offers the machine's addresses (not mDNS names, which headless Chromium cannot resolve).
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One browser per test module; it (and Playwright's event loop in this thread) is gone
    before other modules run, so they see a thread without a running loop."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


@pytest.fixture
def new_page(browser, live_server, settings):
    """``new_page()``: a phone-sized page in a browser context of its own (another person on
    another phone, with their own cookies), collecting CSP violations in ``page.csp_violations``."""
    settings.SITE_URL = live_server.url
    contexts = []

    def open_page():
        context = browser.new_context(**PHONE)
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_violations.append(msg.text))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where the journeys' screenshots go: $BROWSER_SCREENSHOTS (CI keeps it as an artifact),
    else a temporary directory of the run."""
    directory = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def shot(screenshot_dir):
    """``shot(page, journey, step)``: full-page screenshots of the page as it is now, on its own
    (phone-sized) viewport and on a desktop one, as ``<journey>-<step>-phone.png`` and
    ``-desktop.png``; on both, the page must not scroll sideways. The page gets its viewport back."""

    def take(page, journey: str, step: str) -> None:
        phone = page.viewport_size
        for name, size in (("phone", phone), ("desktop", DESKTOP)):
            if size != page.viewport_size:
                page.set_viewport_size(size)
                # Let resize observers (e.g. the charts) redraw before the picture is taken.
                page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
            page.screenshot(path=screenshot_dir / f"{journey}-{step}-{name}.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
                f"{journey}-{step}: the page scrolls sideways on the {name} viewport")
        page.set_viewport_size(phone)

    return take
