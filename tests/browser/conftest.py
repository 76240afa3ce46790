import os
import shutil

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


@pytest.fixture
def page(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_violations.append(msg.text))
    yield page
    context.close()


def _log_errors():
    """In the server's process: its errors (a 500's traceback) go to stderr, which pytest shows."""
    import logging

    logging.basicConfig(level=logging.ERROR)


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, django_db_blocker):
    """The whole ASGI application, HTTP and websockets, served by daphne in a child process on
    the test database, for pages that need a websocket (pytest-django's live_server is HTTP
    only). Request it before ``browser``: the child is forked before Playwright starts. It needs
    PostgreSQL (.ci/run's): an in-memory SQLite test database is not shared with another process."""
    from functools import partial

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections
    from django.test import override_settings

    from tests.conftest import hall_test_settings

    # Forked with the database unblocked (pytest-django blocks it outside tests), the test's
    # encryption keys and settings, and no connection open.
    with django_db_blocker.unblock(), override_settings(**hall_test_settings(settings)):
        for connection in connections.all():
            if connection.vendor == "sqlite" and connection.is_in_memory_db():
                pytest.skip("the ASGI server runs in another process: run this test on PostgreSQL")
            connection.close()
            if hasattr(connection, "close_pool"):
                connection.close_pool()
        server = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=ASGIStaticFilesHandler),
                               setup=_log_errors)
        server.daemon = True
        server.start()
        if not server.ready.wait(timeout=60):
            server.terminate()
            raise RuntimeError("daphne did not start")
    yield f"http://127.0.0.1:{server.port.value}"
    server.terminate()
    server.join(10)
