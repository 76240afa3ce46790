"""Cloud arbitration with Twilio Video (VIDEO_PROVIDER = "twilio"): the rooms are created through
the real twilio SDK against Prism serving Twilio's own OpenAPI description (twilio_video_v1.json,
requests validated); the access tokens name one participant and one room, and expire; only an
admitted participant gets one, for the room of their space; the status callback is stored raw
before it is processed, and only a signed one is processed; Twilio down leaves the hearing
usable."""

import asyncio
import os
import urllib.parse

import jwt
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from config.asgi import application
from legal import tasks, video, video_providers
from legal.models import Participant, ParticipantRole, ParticipantState, ProviderCallback, VideoRoom
from tests.legal.video_helpers import chair, seated, video_hearing
from tests.twilio_fakes.prism import prism_twilio_video  # noqa: F401 - the fixture

R = ParticipantRole
ACCOUNT = "AC" + "1" * 32
API_KEY = "SK" + "2" * 32
API_SECRET = "video-api-secret-for-the-hall-tests-000001"
AUTH_TOKEN = "video-auth-token-for-tests"


@pytest.fixture(autouse=True)
def _twilio(settings, fresh_channel_layers):
    settings.VIDEO_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT, AUTH_TOKEN
    settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET = API_KEY, API_SECRET
    settings.SITE_URL = "https://hall.example.org"
    if not os.environ.get("REDIS_URL"):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.django_db
def test_the_rooms_are_created_through_the_sdk_as_twilios_spec_says(
        settings, prism_twilio_video, django_capture_on_commit_callbacks):  # noqa: F811
    """Prism answers a request that breaks the spec with an error (--errors): the SDK raises."""
    settings.TWILIO_API_BASE = prism_twilio_video
    vh = video_hearing(recorded=True)
    assert vh.room.provider == video_providers.TWILIO
    arbitrator = seated(vh, R.ARBITRATOR)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        video.room_step(room=vh.room, actor=arbitrator, step="open")
    # The task is queued after the commit (with the websocket push), outside the transaction.
    assert any("room_step" in c.__qualname__ for c in callbacks)
    sid = tasks.video_rooms_create.call(vh.room.pk)  # what the worker runs
    assert sid.startswith("RM") and VideoRoom.objects.get(pk=vh.room.pk).provider_room == sid
    log = prism_twilio_video.log_path.read_text(errors="replace")
    assert log.count("/v1/Rooms") >= 2  # the hearing's room and its private room


@pytest.mark.django_db
def test_twilio_down_leaves_the_hearing_usable(settings):
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.TWILIO_TIMEOUT_SECONDS = 2
    vh = video_hearing()
    arbitrator = seated(vh, R.ARBITRATOR)
    video.room_step(room=vh.room, actor=arbitrator, step="open")
    with pytest.raises(Exception):  # noqa: B017 - the transport's own error: the task fails, to be run again
        tasks.video_rooms_create.call(vh.room.pk)
    assert VideoRoom.objects.get(pk=vh.room.pk).provider_room == ""
    worker = seated(vh, R.WORKER)
    assert video.admit(participant=worker, actor=Participant.objects.get(pk=arbitrator.pk)).state == "in_session"


@pytest.mark.django_db
def test_an_access_token_names_one_participant_and_one_room_and_expires(settings):
    settings.VIDEO_TOKEN_SECONDS = 600
    vh = video_hearing()
    worker = vh.participant(R.WORKER)
    before = int(timezone.now().timestamp())
    access = video_providers.media_access(vh.room, worker, "main")
    claims = jwt.decode(access["token"], API_SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT
    assert claims["grants"]["identity"] == f"participant-{worker.pk}"
    assert claims["grants"]["video"] == {"room": access["room"]}
    assert access["room"] == f"hearing-{vh.hearing.pk}-room-{vh.room.pk}-main"
    assert before <= claims["exp"] - 600 <= before + 5
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(access["token"], "another-secret-of-thirty-two-bytes-0001", algorithms=["HS256"])
    private = video_providers.media_access(vh.room, worker, "private")
    assert jwt.decode(private["token"], API_SECRET, algorithms=["HS256"])["grants"]["video"]["room"].endswith(
        "-private")


@pytest.mark.django_db(transaction=True)
def test_only_an_admitted_participant_gets_a_token_for_the_room_of_their_space():
    vh = video_hearing()
    chair_client, worker_client = Client(), Client()
    chair_client.force_login(vh.arbitrator)
    assert chair_client.get(f"/legal/hearings/{vh.hearing.pk}/room/").status_code == 200
    page = worker_client.post(f"/meet/{vh.links[R.WORKER]}/", follow=True)
    assert b"twilio-video.min.js" in page.content and API_SECRET.encode() not in page.content
    room_id = vh.room.pk
    worker_id = vh.participant(R.WORKER).pk

    def socket(client):
        return WebsocketCommunicator(application, f"/ws/meet/{room_id}/", headers=[
            (b"origin", b"http://testserver"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())])

    async def state_until(communicator, check):
        async with asyncio.timeout(10):  # generous: a loaded machine
            while True:
                message = await communicator.receive_json_from(timeout=10)
                if message.get("type") == "state" and check(message):
                    return message

    async def scenario():
        chair_socket, worker_socket = socket(chair_client), socket(worker_client)
        assert (await chair_socket.connect(timeout=10))[0] and (await worker_socket.connect(timeout=10))[0]
        try:
            await chair_socket.send_json_to({"type": "ready"})
            await worker_socket.send_json_to({"type": "ready"})
            await chair_socket.send_json_to({"type": "room", "step": "open"})
            await chair_socket.send_json_to({"type": "room", "step": "start"})
            waiting = await state_until(worker_socket, lambda s: s["me"]["state"] == ParticipantState.WAITING
                                        and s["room"]["state"] == "in_session")
            assert "media" not in waiting
            await chair_socket.send_json_to({"type": "admit", "participant": worker_id})
            admitted = await state_until(worker_socket, lambda s: "media" in s)
            grant = jwt.decode(admitted["media"]["token"], API_SECRET, algorithms=["HS256"])["grants"]
            assert grant["identity"] == f"participant-{worker_id}" and admitted["media"]["room"].endswith("-main")
            await chair_socket.send_json_to({"type": "private", "side": "worker"})
            apart = await state_until(worker_socket, lambda s: s["me"]["state"] == ParticipantState.PRIVATE)
            assert apart["media"]["room"].endswith("-private")
        finally:
            await chair_socket.disconnect(timeout=10)
            await worker_socket.disconnect(timeout=10)

    async_to_sync(scenario)()


def signed_post(client, path: str, params: dict, token: str = AUTH_TOKEN):
    url = f"https://hall.example.org{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=urllib.parse.urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})


@pytest.mark.django_db
def test_a_signed_callback_is_stored_raw_then_processed():
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    params = {"StatusCallbackEvent": "participant-disconnected", "RoomName": "x",
              "ParticipantIdentity": f"participant-{worker.pk}", "AccountSid": ACCOUNT}
    response = signed_post(Client(), f"/meet/callback/{vh.room.pk}/", params)
    assert response.status_code == 204
    [stored] = ProviderCallback.objects.all()
    assert stored.signature_valid and stored.processed_at is not None and stored.error == ""
    assert "participant-disconnected" in stored.body and f"participant-{worker.pk}" in stored.body
    assert Participant.objects.get(pk=worker.pk).state == ParticipantState.DISCONNECTED


@pytest.mark.django_db
def test_an_unsigned_callback_is_kept_but_changes_nothing():
    vh = video_hearing()
    arbitrator = chair(vh)
    worker = video.admit(participant=seated(vh, R.WORKER), actor=arbitrator)
    params = {"StatusCallbackEvent": "participant-disconnected", "ParticipantIdentity": f"participant-{worker.pk}"}
    response = signed_post(Client(), f"/meet/callback/{vh.room.pk}/", params, token="not-our-token")
    assert response.status_code == 403
    [stored] = ProviderCallback.objects.all()
    assert not stored.signature_valid and stored.processed_at is None
    assert Participant.objects.get(pk=worker.pk).state == ParticipantState.IN_SESSION
