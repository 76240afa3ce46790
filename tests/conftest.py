import base64
import os

import pytest

TEST_KEY_NEW = base64.urlsafe_b64encode(b"n" * 32).decode().rstrip("=")
TEST_KEY_OLD = base64.urlsafe_b64encode(b"o" * 32).decode().rstrip("=")


def hall_test_settings(settings) -> dict:
    """The settings every test runs with (also for data made once per module)."""
    return {
        "FIELD_ENCRYPTION_KEYS": f"k2:{TEST_KEY_NEW},k1:{TEST_KEY_OLD}",
        "BLIND_INDEX_KEY": "test-blind-index-key",
        # Tasks are stored, as in production; a test that wants them run drains the queue.
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        "TWILIO_ACCOUNT_SID": "",
        # Per-process cache: tests running in parallel must not share throttling counters.
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    }


@pytest.fixture(autouse=True)
def _hall_settings(settings):
    for name, value in hall_test_settings(settings).items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttling counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _base_data(request):
    """Roles and the audit chain's head, as migration 0002 makes them. Transactional tests
    flush the database after they run, so they are made again (idempotently) for each test."""
    if not request.node.get_closest_marker("django_db") and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    from django.apps import apps

    from care.models import AuditChainHead
    from care.roles import sync_role_groups

    request.getfixturevalue("db" if not _is_transactional(request) else "transactional_db")
    sync_role_groups(apps)
    AuditChainHead.objects.get_or_create(pk=1)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames


@pytest.fixture(autouse=True)
def _no_language_leak():
    """A request activates its language in the thread; the next test must not inherit it."""
    from django.utils import translation

    before = translation.get_language()
    yield
    translation.activate(before) if before else translation.deactivate()


@pytest.fixture
def fresh_channel_layers():
    """Channel layers of the test's own, for websocket tests: channels_redis binds its receive lock
    to the event loop of a receive, and each test runs its sockets in an event loop of its own; a
    receive left pending by an earlier test's loop would make the next one fail ("bound to a
    different event loop")."""
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, tmp_path_factory):
    """The whole ASGI application, HTTP and websockets, served by daphne in a process of its own
    (tests/asgi_settings.py: the project's settings with the tests', on the test database), for
    pages that need a websocket: pytest-django's live_server is HTTP only. It needs PostgreSQL
    (.ci/run's): an in-memory SQLite test database is not shared with another process."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the ASGI server runs in another process: run this test on PostgreSQL")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.asgi_settings",
           "TEST_DATABASE_NAME": connection.settings_dict["NAME"]}
    root = Path(__file__).resolve().parents[1]
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                   "config.asgi:application"], cwd=root, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"daphne did not start:\n{log.read_text(errors='replace')[-3000:]}") from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
