"""The queue websocket (/ws/queue/) through the whole ASGI stack: origin check, session
authentication, the department's group, and pushes sent only once a write has committed."""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from care import services
from care.roles import Role
from config.asgi import application
from tests.factories import WorkerFactory, staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_channel_layers")]

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _channel_layer(settings):
    if not os.environ.get("REDIS_URL"):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def socket(user=None, origin=ORIGIN) -> WebsocketCommunicator:
    """A websocket to /ws/queue/ from a browser signed in as ``user`` (anonymous if None)."""
    headers = [origin]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/queue/", headers=headers)


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The code the server closed the socket with, whether before or just after accepting it."""
    accepted, code = await communicator.connect(timeout=10)
    if accepted:
        message = await communicator.receive_output(timeout=1)
        assert message["type"] == "websocket.close", message
        code = message.get("code", 1000)
    await communicator.wait()
    return code


def run(scenario, *args):
    """Run an async scenario from a synchronous test: sockets live and die inside one call."""
    return async_to_sync(scenario)(*args)


def test_an_anonymous_socket_is_closed_with_4401():
    assert run(close_code, socket()) == 4401


def test_a_workers_socket_is_closed_with_4403():
    assert run(close_code, socket(WorkerFactory().user)) == 4403


def test_a_socket_from_another_site_is_refused():
    communicator = socket(staff(Role.LEGAL_OFFICER, "legal"), origin=(b"origin", b"https://evil.example"))

    async def scenario():
        accepted, _ = await communicator.connect(timeout=10)
        await communicator.wait()
        return accepted

    assert run(scenario) is False


@pytest.fixture
def sockets():
    """Sockets for a legal officer and a counselor, to be opened by the scenario."""
    return socket(staff(Role.LEGAL_OFFICER, "legal")), socket(staff(Role.COUNSELOR, "counseling"))


async def connected(scenario, *communicators):
    for communicator in communicators:
        assert (await communicator.connect(timeout=10))[0]
    try:
        await scenario()
    finally:
        for communicator in communicators:
            await communicator.disconnect(timeout=10)


def test_the_department_hears_of_a_new_request_once_it_commits(sockets):
    legal, counseling = sockets
    worker = WorkerFactory()

    async def scenario():
        case = await database_sync_to_async(services.request_file)(
            actor=worker.user, worker=worker, department="legal", description="被拖欠工资"
        )
        assert await legal.receive_json_from(timeout=2) == {"event": "filed", "reference": case.reference}
        assert await counseling.receive_nothing(timeout=0.3)
        assert await legal.receive_nothing(timeout=0.1)  # exactly one push

    run(connected, scenario, legal, counseling)


def test_a_rolled_back_request_pushes_nothing(sockets):
    legal, _ = sockets
    worker = WorkerFactory()

    def file_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.request_file(actor=worker.user, worker=worker, department="legal", description="被拖欠工资")
            raise RuntimeError("the caller fails before commit")

    async def scenario():
        await database_sync_to_async(file_then_fail)()
        assert await legal.receive_nothing(timeout=0.3)

    run(connected, scenario, legal)


def test_a_socket_quiet_for_longer_than_the_channel_layers_wait_still_hears(sockets):
    """On Redis, channels_redis waits for a consumer's next message with a blocking BZPOPMIN of
    5 s; redis-py's default socket timeout of 5 s cut that wait and closed every socket that was
    quiet for 5 s (found by bench/load.py). In memory (no REDIS_URL) nothing can cut it."""
    legal, _ = sockets
    worker = WorkerFactory()

    async def scenario():
        assert await legal.receive_nothing(timeout=7)
        case = await database_sync_to_async(services.request_file)(
            actor=worker.user, worker=worker, department="legal", description="被拖欠工资"
        )
        assert await legal.receive_json_from(timeout=5) == {"event": "filed", "reference": case.reference}

    run(connected, scenario, legal)
