"""The room's websocket (/ws/meet/<room>/) through the whole ASGI stack, with the session the
join pages make: a non-participant is refused; a participant of hearing A cannot signal into
hearing B; a participant not yet admitted receives no media signalling (and cannot send any);
the arbitrator sees the waiting room live and admits through the socket."""

import asyncio
import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from legal.models import Participant, ParticipantRole, ParticipantState
from tests.legal.video_helpers import video_hearing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_channel_layers")]

ORIGIN = (b"origin", b"http://testserver")
R = ParticipantRole
OFFER = {"kind": "offer", "sdp": "v=0 test"}


@pytest.fixture(autouse=True)
def _channel_layer(settings):
    if not os.environ.get("REDIS_URL"):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def joined_by_link(token: str) -> Client:
    client = Client()
    assert client.get(f"/meet/{token}/").status_code == 200  # the landing page: nothing happens yet
    assert client.post(f"/meet/{token}/").status_code == 302  # in, then the room by GET
    return client


def joined_signed_in(user, hearing) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(f"/legal/hearings/{hearing.pk}/room/").status_code == 200
    return client


def socket(client: Client | None, room_id: int) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if client is not None:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, f"/ws/meet/{room_id}/", headers=headers)


def run(coroutine_function, *args):
    """Run sockets in an event loop of their own, with a channel layer of that loop's own
    (channels_redis binds its receive lock to one event loop)."""
    channel_layers.backends = {}
    return async_to_sync(coroutine_function)(*args)


async def closed_with(communicator) -> int:
    accepted, code = await communicator.connect(timeout=10)
    if accepted:
        message = await communicator.receive_output(timeout=10)
        assert message["type"] == "websocket.close", message
        code = message.get("code", 1000)
    await communicator.wait()
    return code


async def state_until(communicator, check, timeout: float = 10) -> dict:
    """The first state message on the socket for which ``check`` holds (others are passed over);
    a TimeoutError after ``timeout`` seconds, generous for a loaded machine."""
    async with asyncio.timeout(timeout):
        while True:
            message = await communicator.receive_json_from(timeout=timeout)
            if message.get("type") == "state" and check(message):
                return message


async def signals(communicator, expect: int = 0) -> list:
    """The signals that reach the socket: ``expect`` of them (waited for), and none after."""
    found = []
    async with asyncio.timeout(10):
        while len(found) < expect:
            message = await communicator.receive_json_from(timeout=10)
            if message.get("type") == "signal":
                found.append(message)
    while not await communicator.receive_nothing(timeout=0.5):
        message = await communicator.receive_json_from(timeout=1)
        if message.get("type") == "signal":
            found.append(message)
    return found


def test_someone_who_did_not_join_is_refused():
    vh = video_hearing()
    room_id = vh.room.pk
    assert run(closed_with, socket(None, room_id)) == 4403
    stranger = Client()
    stranger.force_login(vh.officer)  # signed in, but never opened this room
    stranger.get("/")
    assert run(closed_with, socket(stranger, room_id)) == 4403


def test_a_participant_of_one_hearing_cannot_reach_another():
    a, b = video_hearing(), video_hearing()
    worker_a = joined_by_link(a.links[R.WORKER])
    room_b = b.room.pk
    assert run(closed_with, socket(worker_a, room_b)) == 4403


def test_signals_flow_only_between_admitted_participants_of_the_same_room():
    a, b = video_hearing(), video_hearing()
    chair_a = joined_signed_in(a.arbitrator, a.hearing)
    worker_a = joined_by_link(a.links[R.WORKER])
    chair_b = joined_signed_in(b.arbitrator, b.hearing)
    rooms = {"a": a.room.pk, "b": b.room.pk}
    ids = {name: Participant.objects.get(room=vh.room, role=role).pk
           for name, vh, role in [("chair_a", a, R.ARBITRATOR), ("worker_a", a, R.WORKER),
                                  ("chair_b", b, R.ARBITRATOR)]}

    async def scenario():
        sockets = {name: socket(client, rooms[key]) for name, client, key in
                   [("chair_a", chair_a, "a"), ("worker_a", worker_a, "a"), ("chair_b", chair_b, "b")]}
        for communicator in sockets.values():
            assert (await communicator.connect(timeout=10))[0]
        try:
            chair, worker, other = sockets["chair_a"], sockets["worker_a"], sockets["chair_b"]
            for communicator in (chair, worker, other):
                await communicator.send_json_to({"type": "ready", "consent": True})
            await chair.send_json_to({"type": "room", "step": "open"})
            await chair.send_json_to({"type": "room", "step": "start"})
            await other.send_json_to({"type": "room", "step": "open"})
            await other.send_json_to({"type": "room", "step": "start"})
            seen = await state_until(chair, lambda s: s["room"]["state"] == "in_session" and any(
                p["id"] == ids["worker_a"] and p["state"] == ParticipantState.WAITING for p in s["roster"]))
            assert seen["me"]["chair"]  # the waiting room, live
            await state_until(worker, lambda s: s["me"]["state"] == ParticipantState.WAITING)

            # Not admitted: no signal reaches the worker, and none of theirs goes out.
            await chair.send_json_to({"type": "signal", "to": ids["worker_a"], "data": OFFER})
            await worker.send_json_to({"type": "signal", "to": ids["chair_a"], "data": OFFER})
            assert await signals(worker) == [] and await signals(chair) == []
            # Another hearing's arbitrator signals into this one: nothing arrives.
            await other.send_json_to({"type": "signal", "to": ids["worker_a"], "data": OFFER})
            await other.send_json_to({"type": "signal", "to": ids["chair_a"], "data": OFFER})

            await chair.send_json_to({"type": "admit", "participant": ids["worker_a"]})
            await state_until(worker, lambda s: ids["chair_a"] in s["peers"])
            assert await signals(chair) == []  # the other hearing's offer never came
            await chair.send_json_to({"type": "signal", "to": ids["worker_a"], "data": OFFER})
            assert await signals(worker, expect=1) == [{"type": "signal", "from": ids["chair_a"], "data": OFFER}]
            await worker.send_json_to({"type": "signal", "to": ids["chair_a"], "data": {"kind": "answer", "sdp": "x"}})
            [answer] = await signals(chair, expect=1)
            assert answer["from"] == ids["worker_a"]
            # A malformed signal is dropped.
            await chair.send_json_to({"type": "signal", "to": ids["worker_a"], "data": {"kind": "script"}})
            assert await signals(worker) == []
        finally:
            for communicator in sockets.values():
                await communicator.disconnect(timeout=10)

    run(scenario)
    # Closing the sockets without saying goodbye: disconnected, never absent.
    assert Participant.objects.get(pk=ids["worker_a"]).state == ParticipantState.DISCONNECTED


def test_a_party_cannot_use_the_arbitrators_controls_and_is_told_why():
    vh = video_hearing()
    worker = joined_by_link(vh.links[R.WORKER])
    rep = joined_by_link(vh.links[R.EMPLOYER_REP])
    rep_id = Participant.objects.get(room=vh.room, role=R.EMPLOYER_REP).pk
    room_id = vh.room.pk

    async def scenario():
        communicator = socket(worker, room_id)
        other = socket(rep, room_id)
        assert (await communicator.connect(timeout=10))[0] and (await other.connect(timeout=10))[0]
        try:
            await communicator.send_json_to({"type": "remove", "participant": rep_id})
            message = await communicator.receive_json_from(timeout=10)
            while message.get("type") != "error":
                message = await communicator.receive_json_from(timeout=10)
            assert "arbitrator" in message["message"] or "仲裁员" in message["message"]
            await communicator.send_json_to({"type": "room", "step": "end"})
        finally:
            await communicator.disconnect(timeout=10)
            await other.disconnect(timeout=10)

    run(scenario)
    assert Participant.objects.get(pk=rep_id).state != ParticipantState.REMOVED
    assert vh.room.state != "ended"


def test_the_removed_participant_is_closed_out():
    vh = video_hearing()
    chair = joined_signed_in(vh.arbitrator, vh.hearing)
    rep = joined_by_link(vh.links[R.EMPLOYER_REP])
    rep_id = Participant.objects.get(room=vh.room, role=R.EMPLOYER_REP).pk
    room_id = vh.room.pk

    async def scenario():
        chair_socket, rep_socket = socket(chair, room_id), socket(rep, room_id)
        assert (await chair_socket.connect(timeout=10))[0] and (await rep_socket.connect(timeout=10))[0]
        try:
            await chair_socket.send_json_to({"type": "ready"})
            await state_until(chair_socket, lambda s: s["me"]["state"] == ParticipantState.IN_SESSION)
            await chair_socket.send_json_to({"type": "remove", "participant": rep_id})
            message = await rep_socket.receive_json_from(timeout=10)
            while message.get("type") != "removed":
                message = await rep_socket.receive_json_from(timeout=10)
            closing = await rep_socket.receive_output(timeout=10)
            assert closing == {"type": "websocket.close", "code": 4410}
        finally:
            await chair_socket.disconnect(timeout=10)

    run(scenario)
    assert Participant.objects.get(pk=rep_id).state == ParticipantState.REMOVED
    assert run(closed_with, socket(rep, room_id)) == 4403
